// The sbatch script of `lenetlab slurm submit` and the plain-text answers of sbatch: a sweep as a
// Slurm job array whose task I trains shard I of N (`lenetlab run SWEEP --shard I/N`, see
// sweep/shard.hpp) into its own database. Pure text functions; submitting is slurm/jobs.hpp.
//
// Sources: the sbatch manual of Slurm 22.05 (`man sbatch`: --array, --parsable, --signal,
// --requeue, --open-mode, the filename patterns %x %A %a, and the variables SLURM_ARRAY_TASK_ID and
// SLURM_CPUS_PER_TASK of the task's environment).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lenetlab {

/// Seconds before its time limit at which Slurm sends a task SIGTERM (`--signal=B:TERM@60`), so
/// `lenetlab run` ends its active runs as `interrupted` (their last epoch checkpointed) and a
/// resubmission resumes them. The sbatch manual says the signal may come up to 60 s earlier than
/// asked (event handling resolution); ending a run takes one batch, so 60 s leaves ample margin.
inline constexpr int kSignalSecondsBeforeLimit = 60;

/// Everything an sbatch script says. Paths must be absolute: a task runs on another node, in
/// another working directory.
struct SbatchRequest {
  std::string sweep_name;            ///< the sweep's `name:` (job name "lenetlab-NAME").
  std::filesystem::path sweep_file;  ///< the sweep YAML each task loads.
  std::filesystem::path binary;      ///< the lenetlab each task executes.
  std::filesystem::path data_dir;    ///< the dataset cache each task reads (--data-dir).
  std::filesystem::path shard_dir;   ///< shard databases (and their checkpoints/) live here.
  std::filesystem::path log_dir;     ///< one log file per task: %x-%A_%a.out.
  /// A file written just before submitting; a task that cannot see it stops with a message (the
  /// shard directory is not on a file system the node shares).
  std::filesystem::path marker;
  int tasks = 1;            ///< N: the sweep's shard count.
  std::vector<int> array;   ///< the task ids to run (each in [0, tasks)); all of them when empty.
  int cpus_per_task = 1;    ///< --cpus-per-task; a task runs cpus / threads_per_run runs at once.
  int threads_per_run = 1;  ///< OpenMP threads per run: results are bitwise those of this count.
  std::string partition;    ///< --partition; empty: the cluster's default partition.
  std::string time;         ///< --time (Slurm syntax, e.g. "2:00:00"); empty: the partition's.
  std::string mem;          ///< --mem (e.g. "4G"); empty: the partition's default.
  std::vector<std::string> extra;  ///< --sbatch-arg values, one #SBATCH line each, verbatim.
};

/// The script's text (bash). Its #SBATCH lines ask for the job array (`--array=` array_spec),
/// --cpus-per-task, --signal=B:TERM@kSignalSecondsBeforeLimit, --requeue, --open-mode=append, the
/// log files, and the optional partition, time, memory and extra lines. Its body checks that the
/// marker, the binary and the sweep file are visible (else exit 2 naming the path and the node),
/// then `exec`s `lenetlab --db SHARD --data-dir DIR run SWEEP --shard $SLURM_ARRAY_TASK_ID/N --jobs
/// J --threads-per-run T --quiet`, J = max(1, SLURM_CPUS_PER_TASK / T): exec makes lenetlab the
/// batch shell, which is what --signal=B: signals. Throws Error when a request field would break
/// the script (a newline, an empty array, a task id out of range, counts below 1).
std::string sbatch_script(const SbatchRequest& request);

/// "shard-I-of-N.db": the database of array task I under the shard directory.
std::string shard_file_name(int index, int count);

/// Task ids in sbatch --array syntax, sorted, runs collapsed: {0,1,2,3} -> "0-3", {1,3,4,5} ->
/// "1,3-5". Throws Error when `ids` is empty or holds a negative id.
std::string array_spec(std::vector<int> ids);

/// The inverse of array_spec for the forms it writes and sbatch accepts ("0-3", "1,3-5", "7"; no
/// step or %limit suffix). Throws Error naming the text otherwise.
std::vector<int> parse_array_spec(const std::string& text);

/// What `sbatch --parsable` printed: "JOBID" or "JOBID;CLUSTER" (sbatch manual, --parsable).
struct SubmittedJob {
  std::string job_id;
  std::optional<std::string> cluster;
};

/// Finds the job id in sbatch --parsable output; other lines (sbatch's warnings on stderr, when
/// captured together) are ignored. Throws Error "sbatch printed no job id: OUTPUT" when no line is
/// a job id.
SubmittedJob parse_sbatch_parsable(const std::string& output);

/// `text` quoted for bash: single quotes, each ' written as '\''.
std::string shell_quote(const std::string& text);

}  // namespace lenetlab
