// A table of cells as SQLite returns them: what ResultsReader::execute_sql returns for an arbitrary
// read-only statement, and what the named queries of query/ build from typed rows. Consumers
// (query/'s text, CSV and JSON formatters) see cells, never a SQLite handle.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace lenetlab {

/// One cell, keeping SQLite's storage class: NULL (monostate), INTEGER, REAL or TEXT. A BLOB is
/// returned as TEXT in SQL hex-literal form, X'0A1B'.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

/// Column names in order and rows of columns.size() cells each.
struct ResultTable {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  /// Explanations for a reader, e.g. why a value is NULL: printed under the aligned text table;
  /// CSV and JSON leave them out.
  std::vector<std::string> notes;

  /// Index of the column with this name; throws Error when absent.
  size_t column(const std::string& name) const;
};

}  // namespace lenetlab
