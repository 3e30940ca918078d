// `lenetlab query`: the named queries (runs, best, curve, sweeps), each a ResultTable built from the
// typed rows of ResultsReader (store/reader.hpp), and three sinks of one result table (aligned text,
// CSV, JSON). One table, many sinks: every query returns a ResultTable and every format consumes
// one. Arbitrary read-only SQL (`lenetlab query sql`) is ResultsReader::execute_sql.
//
// Errors: StoreError from the reader (naming the database); invalid arguments (unknown metric or
// format, no matching run, a non-positive limit) are Error with a message that names the valid
// choices.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "store/reader.hpp"
#include "store/result_table.hpp"

namespace lenetlab {

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

/// All runs matching `filter`, ordered by id. Columns: id, key, sweep, name, architecture,
/// optimizer, learning_rate, batch_size, seed, status, epochs_completed, best_val_accuracy,
/// test_accuracy, seconds. A note names the completed runs without a test accuracy: their test
/// set had no labels (a prediction set).
ResultTable query_runs(const ResultsReader& reader, const RunFilter& filter);

/// The `limit` (> 0, else Error) best runs matching `filter` by `metric`, best first; ties broken
/// by run id. Runs without a value for the metric are left out, and so, unless filter.status says
/// otherwise, are runs that did not complete (is_completed: a failed run's seconds or a diverged
/// run's accuracy would rank misleadingly). Columns: rank (1-based), then those of query_runs with
/// test_loss before test_accuracy.
ResultTable query_best(const ResultsReader& reader, const RunFilter& filter,
                       RankMetric metric = RankMetric::test_accuracy, int limit = 10);

/// Learning curve of one run (ResultsReader::resolve_run: id, key or unique key prefix), one row
/// per recorded epoch in order. Columns: epoch, train_loss, train_accuracy, val_loss, val_accuracy
/// (NULL without validation split), learning_rate, seconds, images_per_second, data_hash (the
/// epoch's data, train/distortion.hpp epoch_data_hash; NULL in rows written before schema 6).
ResultTable query_curve(const ResultsReader& reader, const std::string& run);

/// Whether two runs trained on the same data (query_same_data).
struct SameData {
  /// Columns: epoch, data_hash_a, data_hash_b (NULL when not known), same ("yes", "no", NULL when
  /// not compared), one row per epoch either run recorded; notes name the runs and the verdict.
  ResultTable table;
  int same = 0;                  ///< epochs both know with equal hashes.
  int different = 0;             ///< epochs both know with different hashes.
  int unknown = 0;               ///< epochs recorded by one run only, or without a hash on a side.
  bool datasets_differ = false;  ///< both runs recorded a dataset SHA-256, and they differ.
  /// Every compared epoch equal, at least one compared, on the same dataset.
  bool matched() const { return different == 0 && same > 0 && !datasets_differ; }
};

/// Compares, epoch by epoch, the data hashes (train/distortion.hpp epoch_data_hash: the training
/// images' order and distortions) of run `run_a` of `reader_a` and run `run_b` of `reader_b` (id,
/// key or unique key prefix; the readers may be one database or two). Equal hashes on datasets
/// with equal SHA-256 mean the same images in the same order with the same distortions: e.g. runs
/// differing only in architecture or optimizer with the same seed, or a run and its replay.
/// Throws Error as ResultsReader::resolve_run when a run does not exist.
SameData query_same_data(const ResultsReader& reader_a, const std::string& run_a,
                         const ResultsReader& reader_b, const std::string& run_b);

/// One row per sweep in creation order. Columns: name, runs (how many runs belong to it), finished
/// (how many have status finished), created_at.
ResultTable query_sweeps(const ResultsReader& reader);

/// Aligned text: a header line, a rule of dashes, one line per row, then "note: ..." per note; columns separated by two
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
