// Runs the runs of a sweep and records them in the results store, in three steps:
//   plan     each run once: its key, canonical JSON and estimated cost (plan_sweep);
//   execute  the runs to do, longest first, `jobs` at a time on a oneTBB arena;
//   record   each run's result, its checkpoint cleanup, and the sweep's summary.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "data/dataset.hpp"
#include "store/store.hpp"

namespace lenetlab {

struct PlannedRun;

struct RunnerOptions {
  /// Concurrent runs (oneTBB arena size). 0 = number of cores / threads_per_run (at least 1).
  int jobs = 0;
  /// OpenMP threads inside oneDNN per run, set on the worker thread before it creates primitives
  /// (oneDNN notes, "Threading": one thread per concurrent run avoids oversubscription). Results
  /// are bit-identical only for the same value (it is recorded with each run and its checkpoints).
  int threads_per_run = 1;
  /// Where progress goes, and whether to redraw live lines (a terminal) or print log lines.
  std::FILE* progress = stderr;
  bool live = false;
  /// Set (e.g. by a SIGINT handler) to stop: active runs end as `interrupted`, queued ones stay
  /// queued.
  const std::atomic<bool>* cancel = nullptr;
  /// Per-run wall-time limit in seconds (0 = none); see TrainOptions::time_limit_seconds.
  double time_limit_seconds = 0;
  /// Rerun only the runs recorded as failed, diverged or interrupted (from their last checkpoint
  /// when one exists); every other run of the sweep is left as it is.
  bool retry_failed = false;
  /// A run whose last.ckpt was written under other conditions (thread count, ISA, oneDNN or engine
  /// version) starts over from epoch 1 instead of being refused (TrainOptions::restart_mismatched).
  bool restart_mismatched = false;
  /// When set, only the planned runs it accepts are part of this invocation (one shard of the
  /// sweep: sweep/shard.hpp); the others are neither run nor counted in SweepSummary.
  std::function<bool(const PlannedRun&)> select;
  /// Successive halving (sweep/halving.hpp): train each run at most to this epoch (0 = its
  /// epochs); a run that stops there is recorded as paused (TrainOptions::epoch_budget).
  int epoch_budget = 0;
};

/// One run of a sweep as planned: everything derived from its configuration, computed once.
struct PlannedRun {
  int index = 0;                      ///< 1-based position in the sweep
  const RunConfig* config = nullptr;  ///< into Sweep::runs
  std::string key;                    ///< config->key()
  std::string config_json;            ///< config->to_json().dump(), what the store records
  /// Estimated work in forward multiply-accumulates: MACs per image (config/architecture.hpp
  /// arch_cost) x training images after the validation split x epochs. Orders the runs only.
  double cost = 0;
};

/// The runs of `sweep` in sweep order, each with its key, JSON and cost; `train_images` is the
/// dataset's training set size (train_limit applies).
std::vector<PlannedRun> plan_sweep(const Sweep& sweep, int64_t train_images);

/// Longest first (LPT scheduling keeps the last worker from finishing alone on a long run); ties
/// keep their sweep order. Order affects wall time only: each run's result depends on its own
/// config, seed and thread count, never on its neighbours.
void order_longest_first(std::vector<const PlannedRun*>& runs);

/// How many runs execute at once for `runs` runs to do: options.jobs, else cores /
/// threads_per_run; at least 1 and at most `runs` (when runs > 0).
int concurrent_jobs(const RunnerOptions& options, size_t runs);

struct SweepSummary {
  int total = 0;    ///< runs in the sweep (in its shard, with RunnerOptions::select)
  int skipped = 0;  ///< already final in the database, or running in another process
  int finished = 0;
  int stopped_early = 0;
  int diverged = 0;
  int failed = 0;  ///< includes the refused ones
  int interrupted = 0;
  /// Paused at an epoch budget (RunnerOptions::epoch_budget).
  int paused = 0;
  /// Not promoted by a rung of successive halving (sweep/halving.hpp).
  int pruned = 0;
  /// Runs refused to resume because their checkpoint was written under other conditions
  /// (train/run_conditions.hpp); recorded as failed with the message.
  int refused = 0;
  double seconds = 0;
  /// Runs that did not end finished/stopped_early in this invocation.
  int not_finished() const { return diverged + failed + interrupted; }
  /// Adds the run counts of `s` (every count but total; seconds not either).
  void add_counts(const SweepSummary& s);
};

/// Records the sweep, skips runs already final, trains the others concurrent_jobs() at a time and
/// records every epoch as it ends. A run that throws is recorded as failed with its message; the
/// others go on. Throws StoreError only when the database cannot be written at all.
///
/// Resuming: the trainer decides (Trainer::try_resume: last.ckpt of the run, fitting, written under
/// this invocation's conditions) and reports where it continues; the store then drops the run's
/// epoch rows after that epoch. A run refused because its checkpoint was written under other
/// conditions is recorded as failed, its rows and checkpoint kept, with the one-line message
/// "cannot resume after epoch E: its checkpoint was computed with threads per run 1 (now 2); rerun
/// with --threads-per-run 1 to resume it, or `lenetlab run SWEEP --restart-mismatched` to start it
/// over from epoch 1"; a later invocation under the recorded conditions resumes it.
SweepSummary run_sweep(const Sweep& sweep, const Dataset& data, Store& store,
                       const RunnerOptions& options);

}  // namespace lenetlab
