// Plain records produced by training and consumed by several sinks (SQLite store, progress line,
// HTML report). One record, many sinks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lenetlab {

/// Status of a run in the results database. Transitions: queued -> running -> one of the final
/// states. Successive halving (sweep/halving.hpp) adds two that are not final: paused (trained to
/// its rung's epoch budget, waiting for the rung's decision; it continues from its checkpoint when
/// promoted) and pruned (not promoted: its search stopped it at the rung it reached; another sweep
/// asking for the same run trains it on).
enum class RunStatus {
  queued,
  running,
  finished,
  failed,
  diverged,
  stopped_early,
  interrupted,
  paused,
  pruned
};
const char* to_string(RunStatus status);
/// Throws lenetlab::Error on an unknown name.
RunStatus run_status_from_string(const std::string& name);
/// Every status, in declaration order (for choices on the command line and in error messages).
inline constexpr RunStatus kRunStatuses[] = {
    RunStatus::queued,      RunStatus::running,  RunStatus::finished,
    RunStatus::failed,      RunStatus::diverged, RunStatus::stopped_early,
    RunStatus::interrupted, RunStatus::paused,   RunStatus::pruned};
/// The names of kRunStatuses, in the same order ("queued", "running", ...).
std::vector<std::string> run_status_names();
/// finished, diverged and stopped_early are final: a rerun of the sweep skips them, and the run's
/// last checkpoint can be removed once its result is recorded.
bool is_final(RunStatus status);
/// finished and stopped_early are completed: training ended as configured and the test set was
/// evaluated, so the run's results can be ranked and compared.
bool is_completed(RunStatus status);
/// failed, diverged and interrupted are retryable: `lenetlab run --retry-failed` reruns them
/// (interrupted and time-limited runs resume from their last checkpoint).
bool is_retryable(RunStatus status);
/// failed, diverged and interrupted are problems: the report flags them for attention (the same
/// set as is_retryable: a problem is a run that a retry may fix).
bool is_problem(RunStatus status);
/// Display order: results first (finished, stopped_early, pruned), then problems (diverged, failed,
/// interrupted), then unfinished (paused, running, queued). 0 is first.
int display_rank(RunStatus status);

/// One epoch of one run, written to the database when the epoch ends.
struct EpochRecord {
  int epoch = 0;          ///< 1-based.
  double train_loss = 0;  ///< mean softmax cross-entropy over the epoch's training images (nats).
  double train_accuracy = 0;  ///< fraction in [0, 1], computed during the epoch (training mode).
  std::optional<double> val_loss;  ///< on the held-out validation images, inference mode.
  std::optional<double> val_accuracy;
  double learning_rate = 0;  ///< learning rate used during this epoch.
  double seconds = 0;        ///< wall time of the training part of the epoch (excludes validation).
  double images_per_second = 0;  ///< training images / seconds.
  /// The epoch's data: 16 hex digits over its training order and distortion stream
  /// (train/distortion.hpp epoch_data_hash); empty when not known (rows of older versions).
  std::string data_hash = {};
};

/// Classification metrics on a labelled set (the test set at the end of a run).
struct ClassMetrics {
  int label = 0;
  double precision = 0;  ///< tp / (tp + fp); 0 when nothing was predicted as this class.
  double recall = 0;     ///< tp / (tp + fn); 0 when the class has no images.
  double f1 = 0;         ///< 2 p r / (p + r); 0 when p + r = 0.
  int64_t support = 0;   ///< number of images whose true label is this class.
};

struct EvalMetrics {
  double loss = 0;      ///< mean softmax cross-entropy over the images (nats).
  double accuracy = 0;  ///< fraction in [0, 1] of images whose arg-max class is the label.
  int64_t images = 0;   ///< images evaluated.
  int num_classes = 10;
  /// confusion[t * num_classes + p] = images of true class t predicted as p.
  std::vector<int64_t> confusion;
  std::vector<ClassMetrics> per_class;
};

/// Where and how a run executed. Everything needed to repeat it bit for bit besides its config.
struct Environment {
  std::string host;
  std::string cpu_model;       ///< /proc/cpuinfo "model name".
  std::string isa;             ///< dnnl::get_effective_cpu_isa(), e.g. "avx512_core".
  std::string onednn_version;  ///< e.g. "2.6.3 (commit ...)".
  std::string tbb_version;
  std::string compiler;    ///< e.g. "GCC 12.2.0".
  std::string build_type;  ///< CMAKE_BUILD_TYPE.
  std::string git_commit;  ///< commit lenetlab was built from; "-dirty" appended when tracked
                           ///< files differed from it at build time, "unknown" outside git.
  int threads = 1;         ///< OpenMP threads inside oneDNN for this run.
};

/// A published result a sweep is compared against (sweep key `references`: sweeps/README.md).
/// It documents the claim; it does not change any run (nor its key).
struct PublishedResult {
  std::string architecture;
  /// Published figure, as accuracy in [0, 1].
  double test_accuracy = 0;
  /// The bar a reproduction must reach (mean over seeds), in [0, 1]; 0 = none.
  double required_test_accuracy = 0;
  /// Citation.
  std::string source;
};

/// Summary of a finished (or failed) run.
struct RunResult {
  RunStatus status = RunStatus::finished;
  std::string error;  ///< message when failed/diverged.
  std::optional<int> diverged_epoch;
  int epochs_completed = 0;
  int resumed_from_epoch = 0;  ///< >0 when training continued from a checkpoint after that epoch
  std::optional<int>
      best_epoch;  ///< epoch with the best monitored metric (early stopping) or best val accuracy.
  std::optional<double> best_val_accuracy;
  std::optional<EvalMetrics> test;  ///< absent when the run did not finish training.
  double seconds = 0;               ///< wall time of the whole run.
  std::string weights_hash;         ///< XXH3-64 of the final weights (hex).
};

}  // namespace lenetlab
