// Read side of the results database: ResultsReader opens the file read-only (the same
// open-and-validate path as the write side, Store) and returns typed rows (store/rows.hpp), so no
// module outside store/ writes SQL for the named tables or holds a SQLite handle.
//
// Errors: every method throws StoreError naming the database file and what it was reading when
// SQLite fails, or when a stored value is outside its vocabulary (an unknown runs.status).
// Thread-safety: the methods may be called from several threads (one internal mutex). A reader
// sees the last committed state of the file; a Store in this or another process may write
// concurrently (WAL).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/records.hpp"
#include "store/result_table.hpp"
#include "store/rows.hpp"

namespace SQLite {
class Database;
}

namespace lenetlab {

/// Which runs ResultsReader::runs returns. An empty field matches every run.
struct RunFilter {
  std::string sweep;  ///< sweeps.name: the runs it holds (table sweep_runs), read under it.
  std::optional<RunStatus> status;  ///< runs.status.
  std::string architecture;         ///< runs.architecture, e.g. "lenet-relu".
  std::string optimizer;            ///< runs.optimizer: sgd | adam | rmsprop.
};

class ResultsReader {
 public:
  /// Opens the database at `path` read-only (SQLITE_OPEN_READONLY, PRAGMA query_only=1): SQLite
  /// refuses every write on this connection. Never creates a file. A database of an older schema
  /// version (e.g. version 2, written by lenetlab before the bench tables joined the schema) is
  /// first upgraded in place by the store's migrations (rows unchanged; needs write permission).
  /// Throws StoreError: "no results database at PATH; run `lenetlab run SWEEP` first", not a
  /// SQLite file, a SQLite file without the lenetlab schema, a newer schema version, an older one
  /// on a read-only file.
  explicit ResultsReader(const std::filesystem::path& path);
  ~ResultsReader();
  ResultsReader(const ResultsReader&) = delete;
  ResultsReader& operator=(const ResultsReader&) = delete;

  /// The path given to the constructor.
  const std::filesystem::path& path() const { return path_; }

  /// Every sweep, in creation (id) order.
  std::vector<SweepRow> sweeps() const;

  /// The runs matching `filter`, ordered by id.
  std::vector<RunRow> runs(const RunFilter& filter = {}) const;
  /// The run with this id; throws Error "no run with id N" when there is none.
  RunRow run(int64_t id) const;
  /// Status of the run with this key; empty when no such run is recorded.
  std::optional<RunStatus> run_status(const std::string& key) const;

  /// Id of the run named by `run`: a run key (exact), else a run id (decimal), else a unique prefix
  /// of a key. Throws Error when `run` is empty, when nothing matches ("no run matches 'X'") or
  /// when the prefix is ambiguous (listing up to 5 matching keys).
  int64_t resolve_run(const std::string& run) const;

  /// Recorded epochs of a run in epoch order (empty when none, or no such run).
  std::vector<EpochRecord> epochs(int64_t run_id) const;
  /// Per-class test metrics of a run in label order (empty unless the run finished training).
  std::vector<ClassMetrics> class_metrics(int64_t run_id) const;
  /// Confusion cells of a run ordered by (true_label, predicted_label); every cell of a finished
  /// run is stored, zeros included (num_classes^2 cells); empty unless the run finished training.
  std::vector<ConfusionCell> confusion(int64_t run_id) const;

  /// `lenetlab verify` outcomes in id (time) order: of one run, or of every run when run_id is
  /// empty.
  std::vector<VerificationRow> verifications(std::optional<int64_t> run_id = std::nullopt) const;

  /// Published reference results, ordered by sweep name then architecture: of one sweep (its
  /// name), or of every sweep when `sweep` is empty.
  std::vector<PublishedRow> published_results(const std::string& sweep = "") const;

  /// Every `lenetlab bench` invocation, in id (time) order.
  std::vector<BenchRunRow> bench_runs() const;
  /// The rung decisions of a successive-halving sweep (table search_rungs), by rung then rank.
  std::vector<RungRow> rungs(const std::string& sweep) const;
  /// The selections of a protocol's sweep (table protocol_selections), by group.
  std::vector<SelectionRow> selections(const std::string& sweep) const;
  /// Rows of a matrix bench, in insertion order.
  std::vector<BenchResultRow> bench_results(int64_t bench_run_id) const;
  /// Rows of a profile bench, in position order.
  std::vector<BenchProfileRow> bench_profile(int64_t bench_run_id) const;

  /// The Slurm submissions of the sweep named `sweep` (`lenetlab slurm submit`), in submission
  /// (id) order; empty when there are none.
  std::vector<SlurmJobRow> slurm_jobs(const std::string& sweep) const;

  /// Runs one SQL statement (`lenetlab query sql`) and returns its columns and rows. Only reading
  /// statements run: a statement SQLite classifies as writing (INSERT, ..., VACUUM INTO 'file') is
  /// refused before it runs with StoreError "... is opened read-only ...". More than one statement
  /// (anything but whitespace or comments after the first) and an empty statement are refused with
  /// Error; SQL errors become StoreError with SQLite's message. Bound parameters are not supported.
  ResultTable execute_sql(const std::string& sql) const;

 private:
  std::filesystem::path path_;
  std::unique_ptr<SQLite::Database> db_;
  mutable std::mutex mutex_;
};

}  // namespace lenetlab
