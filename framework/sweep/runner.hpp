// Runs the runs of a sweep in parallel (oneTBB) and records them in the results store.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "config/yaml_loader.hpp"
#include "data/dataset.hpp"
#include "store/store.hpp"

namespace lenetlab {

struct RunnerOptions {
  /// Concurrent runs (oneTBB task arena size). 0 = number of cores / threads_per_run (at least 1).
  int jobs = 0;
  /// OpenMP threads inside oneDNN per run, set on the worker thread before it creates primitives
  /// (oneDNN notes, "Threading": one thread per concurrent run avoids oversubscription). Results
  /// are bit-identical only for the same value (it is recorded with each run).
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
};

struct SweepSummary {
  int total = 0;    ///< runs in the sweep
  int skipped = 0;  ///< already final in the database
  int finished = 0;
  int stopped_early = 0;
  int diverged = 0;
  int failed = 0;
  int interrupted = 0;
  double seconds = 0;
  /// Runs that did not end finished/stopped_early in this invocation.
  int not_finished() const { return diverged + failed + interrupted; }
};

/// Records the sweep, skips runs already final, trains the others `jobs` at a time and records
/// every epoch as it ends. A run that throws is recorded as failed with its message; the others go
/// on. Throws StoreError only when the database cannot be written at all.
SweepSummary run_sweep(const Sweep& sweep, const Dataset& data, Store& store,
                       const RunnerOptions& options);

}  // namespace lenetlab
