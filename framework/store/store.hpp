// Write side of the SQLite results database (schema and units: framework/store/README.md; reading:
// store/reader.hpp). One Store per process; its methods are thread-safe (one internal mutex, short
// transactions), so every run of a sweep writes through the same connection. Each call commits
// before returning, so a reader (sqlite3 shell, `lenetlab query`) sees every epoch as soon as it
// ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "store/rows.hpp"

namespace SQLite {
class Database;
}

namespace lenetlab {

namespace detail {
class Session;
}

/// Size figures of a built network, stored with the run.
struct ModelStats {
  int64_t parameters = 0;            ///< all parameters including batch-norm running mean/var.
  int64_t trainable_parameters = 0;  ///< excluding running statistics and masked-out (C3) weights.
  int64_t macs_per_image = 0;        ///< forward multiply-accumulates per image.
};

/// Every SQLite failure is reported as a StoreError naming the database path, the operation and the
/// SQL statement it was executing; SQLite::Exception never escapes a Store method.
class Store {
 public:
  /// Opens (creating parent directories and the schema when absent) the database at `path`.
  /// WAL mode, foreign keys on, synchronous=NORMAL; a write waits up to `busy_timeout` for another
  /// writer's lock (then StoreError "database is locked"). A new, empty file gets every
  /// migration of store/migrations/ and user_version = kSchemaVersion, in one transaction; an
  /// older schema version is upgraded in place the same way (rows unchanged). Throws StoreError:
  /// not a SQLite database, a SQLite database without the lenetlab schema, unwritable, schema
  /// version newer than kSchemaVersion.
  explicit Store(const std::filesystem::path& path,
                 std::chrono::milliseconds busy_timeout = kBusyTimeout);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Inserts the sweep or updates its file/yaml; returns its id.
  int64_t upsert_sweep(const std::string& name, const std::string& file, const std::string& yaml);

  /// Records that sweep `sweep_id` holds the run with this key (table sweep_runs), e.g. a final
  /// run a rerun under another sweep name skips; nothing when no run has the key.
  void add_to_sweep(int64_t sweep_id, const std::string& key);

  /// Status of the run with this key, if recorded.
  std::optional<RunStatus> run_status(const std::string& key);

  /// Registers a run as `queued` and returns its id. If a run with the same key exists and is not
  /// final (see is_final), its epochs/metrics are deleted and it is reset to queued; if it is
  /// final, its id is returned unchanged.
  /// `keep_epochs` > 0 (resume from a checkpoint after that epoch): epoch rows up to it are kept.
  /// A run `running` in another live process (fresh heartbeat) is left untouched.
  /// reset_final: reset a final run too (`lenetlab run --retry-failed` on a diverged run).
  /// In every case the run is recorded as one of sweep `sweep_id`'s (table sweep_runs).
  int64_t prepare_run(int64_t sweep_id, const RunConfig& config, int keep_epochs = 0,
                      bool reset_final = false);

  /// Marks the run `running`, records its environment, model stats and dataset checksum,
  /// started_at=now.
  void start_run(int64_t run_id, const Environment& env, const ModelStats& stats,
                 const std::string& dataset_sha256);

  /// Deletes the run's epoch rows after `epoch` and sets epochs_completed to the largest epoch left
  /// (0 when none), in one transaction: the trainer reports where a run continues (0: it starts
  /// over) and only then are the rows it will record again dropped. Throws StoreError when the run
  /// does not exist.
  void discard_epochs_after(int64_t run_id, int epoch);

  /// Inserts one epoch row and updates runs.epochs_completed (to the largest epoch recorded), in
  /// one transaction. Recording an epoch again with bit-identical losses and accuracies is a no-op
  /// (a resumed run restoring the row of its checkpoint). Throws StoreError when the run does not
  /// exist or the epoch is already recorded with different metrics.
  void record_epoch(int64_t run_id, const EpochRecord& epoch);

  /// Records the final status, error, test metrics (runs columns + class_metrics + confusion),
  /// finished_at=now, in one transaction. Every confusion cell is stored, zeros included; the
  /// confusion vector must hold num_classes^2 counts (else StoreError).
  void finish_run(int64_t run_id, const RunResult& result);

  /// A process that trains a run owns it: claim_run() atomically takes a `queued` run, or a
  /// `running` one whose owner stopped beating for kStaleSeconds (a killed process), and marks it
  /// `running` with owner = this process. Returns false when another live process has it, so two
  /// `lenetlab run` processes on one database never train the same run.
  bool claim_run(int64_t run_id);
  /// Refreshes heartbeat_at of every run this process owns and is training (call every ~15 s).
  void heartbeat();
  /// "host:pid" of this process, as stored in runs.owner.
  const std::string& owner() const { return owner_; }
  static constexpr int kStaleSeconds = 120;
  /// How long a write waits for another connection's lock by default.
  static constexpr std::chrono::milliseconds kBusyTimeout{10000};

  /// Replaces the sweep's published reference results (table published_results).
  void set_published_results(int64_t sweep_id, const std::vector<PublishedResult>& results);

  /// Replaces the rows of rung `rung` of bracket `bracket` (Hyperband's; 0 for successive
  /// halving) of a sweep (table search_rungs) by `rows`, in one transaction.
  void record_rung(int64_t sweep_id, int rung, const std::vector<RungRow>& rows, int bracket = 0);
  /// Replaces the protocol selections of sweep `sweep_id` (table protocol_selections) by `rows`,
  /// in one transaction.
  void record_selection(int64_t sweep_id, const std::vector<SelectionRow>& rows);
  /// A `paused` run not promoted by its rung: status pruned, `why` as its message, finished_at
  /// now. No effect on a run in any other status (finished by another sweep, say).
  void prune_run(int64_t run_id, const std::string& why);

  /// Records one `lenetlab verify` outcome (table verifications).
  void record_verification(int64_t run_id, bool matched, int epochs_compared, int mismatches,
                           const std::string& details_json, const Environment& env);

  /// Marks runs of this process still `running` as `interrupted` (used on SIGINT/SIGTERM), with
  /// `why` as the error. No effect when the run is no longer queued or running.
  void mark_interrupted(int64_t run_id, const std::string& why);

  /// Records the start of a `lenetlab bench` (table bench_runs; run.id, started_at and
  /// finished_at are ignored: started_at = now, finished_at NULL) and returns its id.
  int64_t begin_bench_run(const BenchRunRow& run);
  /// Inserts the rows of a matrix bench for bench run `bench_run_id`, in one transaction.
  void record_bench_results(int64_t bench_run_id, const std::vector<BenchResultRow>& rows);
  /// Inserts the rows of a profile for bench run `bench_run_id`, numbering them 0, 1, ... in the
  /// given order (their position field is ignored), in one transaction.
  void record_bench_profile(int64_t bench_run_id, const std::vector<BenchProfileRow>& rows);
  /// Sets finished_at = now of a bench run. Throws StoreError when there is no such bench run.
  void finish_bench_run(int64_t bench_run_id);

  /// Records one `lenetlab slurm submit` of the sweep named job.sweep (table slurm_jobs;
  /// submitted_at = now) and returns its id. Throws StoreError when no sweep has that name.
  int64_t record_slurm_job(const SlurmJobRow& job);

  /// The path given to the constructor.
  const std::filesystem::path& path() const { return path_; }

 private:
  /// Runs body in one IMMEDIATE transaction under the Store's mutex; SQLite errors become
  /// StoreError naming `operation` and the statement. Every write goes through here.
  void write(const char* operation, const std::function<void(detail::Session&)>& body);

  /// True when run_id is owned by another process that is alive (same host: its pid exists and its
  /// heartbeat is fresh; other hosts: heartbeat younger than kStaleSeconds).
  bool owned_elsewhere(detail::Session& session, int64_t run_id) const;
  /// prepare_run's reset of an existing, non-final run to queued (keeping epochs <= keep_epochs).
  void reset_run(detail::Session& session, int64_t run_id, int64_t sweep_id,
                 const RunConfig& config, int keep_epochs);

  std::filesystem::path path_;
  std::string owner_;  ///< "host:pid" of this process
  std::unique_ptr<SQLite::Database> db_;
  std::mutex mutex_;
};

}  // namespace lenetlab
