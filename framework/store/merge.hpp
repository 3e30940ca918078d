// Merging results databases: the shards of a sweep (each written by its own process, e.g. a task of
// a Slurm job array: sweep/shard.hpp) into one database that holds what a single process would have
// written. `lenetlab merge --into RESULTS.db SHARD.db...`; rules in framework/store/README.md
// ("Merging databases").
//
// Rows are matched by natural keys, never by ids: a sweep by its name, a run by its key, an epoch
// by (run key, epoch), a class-metrics row by (run key, label), a confusion cell by (run key, true,
// predicted label), a verification by (run key, verified_at, host), a rung decision by (sweep
// name, run key, rung), a protocol selection by (sweep name, group), a bench run by (kind, started_at, host) and its rows by their keys within
// it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace lenetlab {

/// A value the input holds differently from the target for the same run key (or the same bench
/// run): the input is refused as a whole.
struct MergeConflict {
  std::string run;  ///< run key, or "bench run STARTED_AT HOST"
  std::string row;  ///< e.g. "runs", "epochs epoch=3", "confusion true_label=4 predicted_label=9"
  std::string column;  ///< e.g. "test_accuracy"
  std::string into;    ///< the target's value (shortest round-trip text of a REAL; NULL)
  std::string input;   ///< the input's value
};

/// What merging one input changed in the target.
struct MergeCounts {
  int64_t sweeps = 0;         ///< sweeps added or updated (a newer sweep file)
  int64_t runs_added = 0;     ///< runs the target did not have
  int64_t memberships = 0;    ///< sweep_runs rows added (a run held by one more sweep)
  int64_t runs_advanced = 0;  ///< runs whose row moved forward (status, epochs, results)
  int64_t epochs = 0;         ///< epoch rows added, or given the data hash they lacked
  int64_t test_rows = 0;      ///< class_metrics and confusion rows added
  int64_t verifications = 0;  ///< verification rows added
  int64_t rungs = 0;          ///< search_rungs rows added (successive-halving decisions)
  int64_t selections = 0;     ///< protocol_selections rows added
  int64_t bench_rows = 0;  ///< bench_runs, bench_results and bench_profile rows added or finished
  int64_t runs_in_input = 0;  ///< runs in the input's snapshot
  /// True when nothing changed (the input was merged before and has not progressed since).
  bool unchanged() const {
    return sweeps + runs_added + memberships + runs_advanced + epochs + test_rows + verifications +
               rungs + selections + bench_rows ==
           0;
  }
};

struct MergeResult {
  std::filesystem::path input;
  /// Empty: merged (in one transaction). Not empty: nothing of the input was merged.
  std::vector<MergeConflict> conflicts;
  MergeCounts counts;
};

/// The target database of a merge, open for writing (created with the schema when absent, an older
/// schema upgraded: store/database.hpp).
class ResultsMerger {
 public:
  /// Throws StoreError as Store's constructor (unwritable, not a lenetlab database, newer schema).
  explicit ResultsMerger(const std::filesystem::path& into);
  ~ResultsMerger();
  ResultsMerger(const ResultsMerger&) = delete;
  ResultsMerger& operator=(const ResultsMerger&) = delete;

  /// Merges one input in one IMMEDIATE transaction on the target:
  ///  1. snapshot: `VACUUM INTO` a temporary file (in std::filesystem::temp_directory_path(),
  ///     i.e. $TMPDIR) inside one read transaction of the input, so a shard still being written
  ///     is read as of one commit; the input itself is opened read-only and never written (an
  ///     older schema is upgraded in the copy);
  ///  2. conflicts: for every run key in both, config_json always, and when the run is final in
  ///     both its status, test metrics, weights hash, epoch counts and model size; every epoch,
  ///     class-metrics and confusion row both hold (an epoch's data_hash when both know it); every
  ///     search_rungs decision (by sweep name, run key, rung) and protocol selection (by sweep
  ///     name, group) both hold; bench rows both hold.
  ///     Values compare exactly (SQLite `IS`). Any conflict: nothing is written, the conflicts
  ///     are returned;
  ///  3. copy: sweeps missing (a sweep whose input row is newer takes its file, yaml, updated_at
  ///     and published results), runs missing, runs not final in the target that the input has
  ///     further along (final; more epochs; as many epochs and a later heartbeat or end, or pruned
  ///     over paused), every missing epoch, class-metrics, confusion, verification, search_rungs,
  ///     protocol_selections and bench row; an epoch's NULL data_hash takes the input's.
  /// Merging the same snapshot again changes nothing. Throws StoreError naming the file when the
  /// input is missing, not a lenetlab database, of a newer schema, or the target cannot be
  /// written; the target is then unchanged.
  MergeResult merge(const std::filesystem::path& input);

  const std::filesystem::path& path() const { return into_; }

 private:
  std::filesystem::path into_;
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace lenetlab
