// `lenetlab slurm submit | status | collect`: a sweep trained as a Slurm job array, one shard per
// array task (sweep/shard.hpp), each into its own database, merged afterwards (store/merge.hpp).
//
// Files, under the directory of the sweep's database (--db) so a shared results directory holds
// everything the tasks need to see:
//   slurm/NAME/submit-K.sbatch          the script of submission K (kept; resubmissions reuse it)
//   slurm/NAME/logs/lenetlab-NAME-JOB_TASK.out   task's output (sbatch --output; job name)
//   slurm/NAME/shards/shard-I-of-N.db   task I's database; its checkpoints in shards/checkpoints/
//   slurm/NAME/shards/.visible-to-tasks the marker each task checks before it starts
// Each submission is recorded in the sweep's database (table slurm_jobs, store/README.md).
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "slurm/scheduler.hpp"
#include "slurm/script.hpp"
#include "store/rows.hpp"

namespace lenetlab {

/// Where the files of a sweep's Slurm submissions live (see the top of this file).
struct SlurmPaths {
  std::string name;                 ///< the sweep's name as used in paths and the job name
  std::filesystem::path dir;        ///< <db dir>/slurm/NAME
  std::filesystem::path shard_dir;  ///< dir/shards
  std::filesystem::path log_dir;    ///< dir/logs
  std::filesystem::path marker;     ///< shard_dir/.visible-to-tasks
};

/// The paths for the sweep named `sweep_name` whose database is `db` (made absolute). Characters
/// outside [A-Za-z0-9._-] of the name become '_' in the directory name.
SlurmPaths slurm_paths(const std::filesystem::path& db, const std::string& sweep_name);

/// `lenetlab slurm submit` options (defaults as in its --help).
struct SubmitOptions {
  int tasks = 0;                         ///< N; 0 with resume: the recorded count.
  std::string partition;                 ///< --partition; empty: the cluster's default.
  std::string time;                      ///< --time; empty: the partition's default limit.
  int cpus_per_task = 1;                 ///< --cpus-per-task.
  int threads_per_run = 1;               ///< --threads-per-run, the same in every task.
  std::string mem;                       ///< --mem; empty: the partition's default.
  std::vector<std::string> sbatch_args;  ///< --sbatch-arg, verbatim #SBATCH lines.
  bool dry_run = false;                  ///< print the script; write, submit and record nothing.
  bool resume = false;                   ///< resubmit the tasks whose runs are not final.
};

/// Where the sweep's tasks find their inputs: the running lenetlab, the sweep file and the
/// dataset cache (absolute paths).
struct TaskInputs {
  std::filesystem::path binary;
  std::filesystem::path data_dir;
};

/// What a submission did.
struct SubmitOutcome {
  std::string script_text;         ///< the sbatch script (of the first submission on resume).
  std::filesystem::path script;    ///< its file (empty on a dry run).
  std::optional<SlurmJobRow> job;  ///< the recorded submission; empty: nothing submitted.
  std::vector<std::string> notes;  ///< warnings and tasks left out, one line each.
};

/// Submits the sweep's job array (or, with options.resume, resubmits the tasks that have runs not
/// final and are no longer pending or running, reusing the recorded script with `sbatch
/// --array=IDS`; command-line --partition, --time, --mem, --cpus-per-task then override its
/// lines). Steps: checks sbatch is on PATH, writes the marker and the script, runs `sbatch
/// --parsable`, records the job (upserting the sweep) in `db`.
/// Throws Error: sbatch missing from PATH; sbatch's refusal, quoted (an unknown partition, a time
/// above the partition's limit); a fresh submission while the sweep's last job still has tasks
/// pending or running, or with another task count than earlier shards (their databases would
/// overlap); --resume without an earlier submission; unwritable directories.
SubmitOutcome submit_sweep(const Sweep& sweep, const std::filesystem::path& db,
                           const TaskInputs& inputs, const SubmitOptions& options);

/// One array task in `lenetlab slurm status`.
struct TaskProgress {
  int task = 0;
  std::string job;                   ///< "JOB_TASK" of its last submission.
  std::optional<TaskState> slurm;    ///< empty: neither squeue nor sacct knows it.
  int runs = 0;                      ///< runs of its shard.
  int final_runs = 0;                ///< finished, stopped early or diverged in its database.
  int problem_runs = 0;              ///< failed or interrupted.
  std::vector<std::string> current;  ///< running runs: "NAME epoch E/EPOCHS".
  std::string log_tail;              ///< last line of its log when it failed; else empty.
};

/// Slurm's state of each task of the sweep's last submissions beside its shard's progress (its
/// database read as of its last commit). Throws Error when the sweep was never submitted.
std::vector<TaskProgress> sweep_status(const Sweep& sweep, const std::filesystem::path& db);

/// What `lenetlab slurm collect` did.
struct CollectOutcome {
  int shards = 0;      ///< shard databases found and merged (or refused)
  int conflicts = 0;   ///< shards refused for a conflict (nothing of them merged)
  int runs = 0;        ///< runs of the sweep
  int final_runs = 0;  ///< of them final in the sweep's database after the merge
};

/// Merges every shard database of the sweep's submissions that exists into `db`
/// (store/merge.hpp ResultsMerger: one transaction per shard, idempotent, a conflicting shard
/// refused as a whole), one line per shard on `progress` (with every conflict's two values), then
/// copies the checkpoint files of the sweep's runs (final.ckpt, best.ckpt, last.ckpt) from the
/// shards' checkpoints/ to the database's, leaving files already there, so `lenetlab evaluate`
/// finds them. Throws Error when the sweep was never submitted; StoreError as ResultsMerger.
CollectOutcome collect_sweep(const Sweep& sweep, const std::filesystem::path& db,
                             std::FILE* progress);

}  // namespace lenetlab
