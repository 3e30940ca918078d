// What Slurm says about the tasks of a job array: squeue for jobs the controller still holds
// (pending, running, and finished ones for MinJobAge seconds), sacct for older ones when the
// cluster keeps accounting. Both are asked through their machine-readable output formats (squeue
// manual: --array, --states=all, --format %K %T %r; sacct manual: --parsable2, --allocations,
// --format JobID,State,ExitCode; Slurm 22.05).
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace lenetlab {

/// One array task as Slurm reports it.
struct TaskState {
  std::string state;   ///< Slurm's job state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...
  std::string detail;  ///< squeue's reason (e.g. "Resources") or sacct's exit code ("2:0").
  std::string source;  ///< "squeue" or "sacct".
};

/// True for states in which a task may still run (PENDING, RUNNING, CONFIGURING, COMPLETING,
/// REQUEUED, REQUEUE_HOLD, REQUEUE_FED, RESIZING, SUSPENDED, STOPPED, SIGNALING, STAGE_OUT).
bool is_active(const std::string& state);

/// Parses `squeue --array --noheader --states=all --jobs=JOB --format=%F|%K|%T|%r` output: task
/// id -> state, for the lines of array job `job_id`. Other lines (errors on stderr captured with
/// it) are ignored.
std::map<int, TaskState> parse_squeue(const std::string& output, const std::string& job_id);

/// Parses `sacct --noheader --parsable2 --allocations --jobs=JOB --format=JobID,State,ExitCode`
/// output: "JOB_3|COMPLETED|0:0", "JOB_[4-7]|PENDING|0:0" (a range of pending tasks), "CANCELLED
/// by 0" as CANCELLED. Other lines are ignored.
std::map<int, TaskState> parse_sacct(const std::string& output, const std::string& job_id);

/// The tasks of array job `job_id` Slurm knows about: squeue's answer, completed by sacct's for
/// the tasks squeue no longer holds. Programs missing from PATH, or failing (no accounting
/// storage, a job id the controller forgot), give no answer: tasks neither knows are absent.
std::map<int, TaskState> query_task_states(const std::string& job_id);

/// The program's path when `name` is an executable file in a directory of $PATH; empty otherwise.
std::filesystem::path find_on_path(const std::string& name);

}  // namespace lenetlab
