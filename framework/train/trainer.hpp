// The training loop of one run: data split, epochs of shuffled mini-batches, validation, early
// stopping, divergence detection and the final test evaluation.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "data/dataset.hpp"

namespace lenetlab {

/// Size figures of the built network (see store/store.hpp ModelStats, same meaning).
struct NetworkStats {
  int64_t parameters = 0;
  int64_t trainable_parameters = 0;
  int64_t macs_per_image = 0;
};

/// Receives a run's progress; called on the run's own thread. Default implementations do nothing.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  /// The network is built (primitives not yet created); train/validation sizes are known.
  virtual void on_built(const NetworkStats&, int64_t /*train_images*/, int64_t /*val_images*/) {}
  /// Called at most ~4 times per second during an epoch. loss/accuracy are running means of the
  /// epoch.
  virtual void on_batch(int /*epoch*/, int64_t /*images_done*/, int64_t /*images_total*/,
                        double /*loss*/, double /*accuracy*/) {}
  /// An epoch ended; its record is final. Throwing from here fails the run.
  virtual void on_epoch(const EpochRecord&) {}
  /// Training continues from a checkpoint after `epoch` completed epochs. `record` is that epoch's
  /// row as the checkpoint holds it (absent in older checkpoints): the observer records it again if
  /// the crash came between the checkpoint and the database commit.
  virtual void on_resumed(int /*epoch*/, const std::optional<EpochRecord>& /*record*/) {}
};

struct TrainOptions {
  /// Where the run's checkpoints go (train/checkpoint.hpp); empty = no checkpoints.
  std::filesystem::path checkpoint_dir;
  /// Continue from checkpoint_dir/last.ckpt when it exists and belongs to this run.
  bool resume = true;
  /// Polled every batch; when set, the run ends with status interrupted (the last completed epoch's
  /// checkpoint stays, so a later invocation resumes from it).
  const std::atomic<bool>* cancel = nullptr;
  /// Wall-time limit of this invocation of the run in seconds (0 = none). Past it the run ends as
  /// `failed` with the message "time limit of N s exceeded in epoch E"; its last checkpoint stays.
  double time_limit_seconds = 0;
};

/// Trains `config` on `data` and evaluates on the test set.
/// - Validation: validation_split of the training images (after train_limit), drawn from the seed's
///   split stream; the rest is shuffled each epoch from the shuffle stream.
/// - Batches: batch_size images; the last partial batch is trained with its own primitives unless
///   drop_last. Loss is the batch mean (Keras/PyTorch reduction), so a tail batch of m images has
///   weight 1/m per image.
/// - A non-finite batch loss ends the run: status diverged, diverged_epoch set, no test evaluation.
/// - Early stopping (keras.callbacks.EarlyStopping semantics): stop when the monitored metric has
/// not
///   improved by more than min_delta for `patience` epochs; restore_best_weights restores the best
///   epoch's parameters (incl. batch-norm statistics) before the test evaluation. Status
///   stopped_early.
/// - Checkpoints (options.checkpoint_dir): at the end of each epoch the whole training state and
///   the epoch's record go to last.ckpt, then the record is delivered (on_epoch); a run resumed
///   from it ends bit-identical to an uninterrupted one (same thread count and ISA). At the end
///   final.ckpt (and best.ckpt) hold the evaluated weights; last.ckpt stays for the caller to
///   remove once the result is recorded (the sweep runner does), so that a process killed in
///   between resumes with every recorded epoch (from the last one, only the evaluation is redone).
///   An unreadable or foreign last.ckpt is ignored (training restarts).
/// Throws RunError (bad shapes, input that does not fit); oneDNN errors propagate as dnnl::error.
RunResult train_run(const RunConfig& config, const Dataset& data, TrainObserver& observer,
                    const TrainOptions& options = {});

}  // namespace lenetlab
