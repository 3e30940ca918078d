// Read side of the results database (schema: store/schema.sql): the named queries behind
// `lenetlab query` (runs, best, curve, sweeps), read-only raw SQL, and three sinks of one result
// table (aligned text, CSV, JSON). One table, many sinks: every query returns a ResultTable and
// every format consumes one.
//
// Thread-safety: the named queries read through store.database() without taking the Store's lock;
// call them from one thread, with no other thread writing through the same Store (a second Store or
// process may write concurrently: WAL readers see the last committed state).
// Errors: SQLite failures become StoreError (naming the database and the query); invalid arguments
// (unknown metric, status or format, no matching run, bad SQL) are Error/StoreError with a message
// that names the valid choices.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "store/store.hpp"

namespace lenetlab {

/// One cell, keeping SQLite's storage class: NULL (monostate), INTEGER, REAL or TEXT. A BLOB is
/// returned as TEXT in SQL hex-literal form, X'0A1B'.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

/// Result of one query: column names in SELECT order and rows of columns.size() cells each.
struct ResultTable {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;

  /// Index of the column with this name; throws Error when absent.
  size_t column(const std::string& name) const;
};

/// Filters shared by the runs and best queries. An empty string matches everything.
struct RunFilter {
  std::string sweep;         ///< sweep name (sweeps.name).
  std::string status;        ///< one of queued, running, finished, failed, diverged, stopped_early,
                             ///< interrupted (else Error).
  std::string architecture;  ///< runs.architecture, e.g. "lenet-relu".
  std::string optimizer;     ///< runs.optimizer: sgd | adam | rmsprop.
};

/// Metric the best query ranks runs by.
enum class RankMetric {
  test_accuracy,      ///< runs.test_accuracy, higher is better (default).
  best_val_accuracy,  ///< runs.best_val_accuracy, higher is better.
  test_loss,          ///< runs.test_loss, lower is better.
  seconds,            ///< runs.seconds (wall time of the run), lower is better.
};
const char* to_string(RankMetric metric);
/// Throws Error naming the valid choices on an unknown name.
RankMetric rank_metric_from_string(const std::string& name);
bool lower_is_better(RankMetric metric);

/// Output sinks of a ResultTable.
enum class OutputFormat {
  table,  ///< aligned text for a terminal (format_table).
  csv,    ///< RFC 4180 CSV (format_csv).
  json,   ///< array of objects (format_json).
};
const char* to_string(OutputFormat format);
/// Throws Error naming the valid choices on an unknown name.
OutputFormat output_format_from_string(const std::string& name);

/// Opens the database at `db` read-only for queries (Store(db, true): SQLITE_OPEN_READONLY and
/// PRAGMA query_only=1). Never creates a file. Throws StoreError "no results database at <db>; run
/// `lenetlab run SWEEP` first" when it does not exist, and the Store constructor's errors.
std::unique_ptr<Store> open_results(const std::filesystem::path& db);

/// All runs matching `filter`, ordered by id. Columns: id, key, sweep, name, architecture,
/// optimizer, learning_rate, batch_size, seed, status, epochs_completed, best_val_accuracy,
/// test_accuracy, seconds.
ResultTable query_runs(Store& store, const RunFilter& filter);

/// The `limit` (> 0, else Error) best runs matching `filter` by `metric`, best first; ties broken
/// by run id. Runs without a value for the metric are left out, and so, unless filter.status says
/// otherwise, are runs whose status is not finished or stopped_early (a failed run's seconds or a
/// diverged run's accuracy would rank misleadingly). Columns: rank (1-based), then those of
/// query_runs with test_loss before test_accuracy.
ResultTable query_best(Store& store, const RunFilter& filter,
                       RankMetric metric = RankMetric::test_accuracy, int limit = 10);

/// Id of the run named by `run`: a run key (exact), else a run id (decimal), else a unique prefix
/// of a key. Throws Error when nothing matches or the prefix is ambiguous (listing candidates).
int64_t resolve_run(Store& store, const std::string& run);

/// Learning curve of one run (see resolve_run), one row per recorded epoch in order. Columns:
/// epoch, train_loss, train_accuracy, val_loss, val_accuracy (NULL without validation split),
/// learning_rate, seconds, images_per_second.
ResultTable query_curve(Store& store, const std::string& run);

/// One row per sweep in creation order. Columns: name, runs (how many runs belong to it), finished
/// (how many have status finished), created_at.
ResultTable query_sweeps(Store& store);

/// Runs one SQL statement on a connection of its own, opened with open_results (read-only), and
/// returns its rows. Writes are refused by SQLite itself; the StoreError then says the database is
/// opened read-only. More than one statement (anything but whitespace or comments after the first
/// `;`) is refused with an Error. Bound parameters are not supported.
ResultTable query_sql(const std::filesystem::path& db, const std::string& sql);

/// Aligned text: a header line, a rule of dashes, one line per row; columns separated by two
/// spaces, numbers right-aligned, text left-aligned; NULL shown as '-'. REAL values are shown with
/// at most 4 decimals ("%.4f" with trailing zeros dropped) when 1e-3 <= |x| < 1e7, else "%.4g"
/// (e.g. 1e-05). Control characters in text are escaped (\n, \t). Ends with a newline.
std::string format_table(const ResultTable& table);

/// CSV: a header record then one record per row, fields quoted as RFC 4180 requires (when they hold
/// a comma, double quote, CR or LF; quotes doubled). NULL is an empty field; REAL values are
/// written with the shortest text that reads back to the same double. Records end with LF.
std::string format_csv(const ResultTable& table);

/// JSON array with one object per row, keys in column order. INTEGER and REAL are JSON numbers
/// (non-finite REAL becomes null), TEXT a string, NULL null.
nlohmann::ordered_json to_json(const ResultTable& table);
/// to_json(table) indented by 2, ending with a newline. Invalid UTF-8 is replaced by U+FFFD.
std::string format_json(const ResultTable& table);

/// Dispatches to format_table, format_csv or format_json.
std::string format_result(const ResultTable& table, OutputFormat format);

}  // namespace lenetlab
