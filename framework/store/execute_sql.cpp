// ResultsReader::execute_sql (`lenetlab query sql`): one arbitrary read-only statement, through
// SQLite's C API (its classification of a prepared statement as reading or writing, and the tail
// after the first statement, have no SQLiteCpp equivalent).
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "core/error.hpp"
#include "store/database.hpp"
#include "store/reader.hpp"

namespace lenetlab {

namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

constexpr const char* kWhat = "`lenetlab query sql`";

/// StoreError for a failed SQLite call on `db`.
[[noreturn]] void fail(sqlite3* db, const std::filesystem::path& path, int code) {
  const std::string message = sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_READONLY)
    throw StoreError(
        fmt::format("results database {} is opened read-only: {} cannot change it (SQLite: {})",
                    path.string(), kWhat, message));
  throw StoreError(
      fmt::format("results database {}: {} failed: {}", path.string(), kWhat, message));
}

Value column_value(sqlite3_stmt* statement, int i) {
  switch (sqlite3_column_type(statement, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(statement, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, i);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
      return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, i)));
    }
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(statement, i));
      const int size = sqlite3_column_bytes(statement, i);
      std::string hex = "X'";
      for (int b = 0; b < size; ++b) hex += fmt::format("{:02X}", bytes[b]);
      return hex + "'";
    }
    default:
      return std::monostate{};
  }
}

/// Steps a prepared statement to the end and collects its rows.
ResultTable collect(sqlite3* db, const std::filesystem::path& path, sqlite3_stmt* statement) {
  ResultTable table;
  const int count = sqlite3_column_count(statement);
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_column_name(statement, i);
    table.columns.emplace_back(name ? name : "");
  }
  for (;;) {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(db, path, rc);
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) row.push_back(column_value(statement, i));
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace

size_t ResultTable::column(const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) throw Error("result has no column '" + name + "'");
  return static_cast<size_t>(it - columns.begin());
}

ResultTable ResultsReader::execute_sql(const std::string& sql) const {
  std::lock_guard lock(mutex_);
  sqlite3* db = db_->getHandle();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, &tail);
  StatementPtr statement(raw);
  if (rc != SQLITE_OK) fail(db, path_, rc);
  if (!statement) throw Error("query sql: no SQL statement given (only whitespace or comments)");
  // Anything but whitespace and comments after the first statement is a second statement.
  if (tail && *tail) {
    sqlite3_stmt* next = nullptr;
    rc = sqlite3_prepare_v2(db, tail, -1, &next, nullptr);
    StatementPtr second(next);
    if (rc != SQLITE_OK || second)
      throw Error(fmt::format(
          "query sql: only one SQL statement is allowed; found more after the first ';': `{}`",
          std::string(tail).substr(0, 60)));
  }
  // The connection is read-only, so SQLite refuses writes to the database when stepping; but a
  // statement such as `VACUUM INTO 'file'` writes elsewhere. SQLite's own classification of the
  // prepared statement (sqlite3_stmt_readonly) refuses those before they run.
  if (!sqlite3_stmt_readonly(statement.get()))
    throw StoreError(fmt::format(
        "results database {} is opened read-only: {} cannot change it (SQLite classifies `{}` "
        "as a statement that writes)",
        path_.string(), kWhat, sql.substr(0, 60)));
  return collect(db, path_, statement.get());
}

}  // namespace lenetlab
