// The training loop of one run, as a Trainer with one member per stage (after Caffe's Solver:
// Solve / Step / Snapshot / Restore): data split, resume from a checkpoint, epochs of shuffled
// mini-batches with validation and early stopping, snapshots, and the final test evaluation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "data/dataset.hpp"
#include "nn/rng.hpp"
#include "train/checkpoint.hpp"
#include "train/early_stopping.hpp"
#include "train/run_conditions.hpp"

namespace lenetlab {

class Distorter;
class InputPipeline;
class MicroBatchNetwork;
class Network;
class Optimizer;
struct BatchLoss;

/// Size figures of the built network (see store/store.hpp ModelStats, same meaning).
struct NetworkStats {
  int64_t parameters = 0;
  int64_t trainable_parameters = 0;
  int64_t macs_per_image = 0;
};

/// How a run starts: what is known once the network is built and the resume decision is taken.
struct RunStart {
  NetworkStats stats;
  int64_t train_images = 0;  ///< after the validation split (and train_limit)
  int64_t val_images = 0;
  RunConditions conditions;  ///< what this invocation runs under (recorded in its checkpoints)
  /// > 0: training continues after this epoch from last.ckpt. 0: it starts at epoch 1, and rows
  /// of epochs recorded earlier for this run are stale.
  int resumed_from_epoch = 0;
  /// Epoch resumed_from_epoch's row as the checkpoint holds it (absent in older checkpoints): the
  /// observer records it again if the crash came between the checkpoint and the database commit.
  std::optional<EpochRecord> resumed_record;
};

/// Receives a run's progress; called on the run's own thread. Default implementations do nothing.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  /// Training is about to start (or continue); primitives are not created yet.
  virtual void on_started(const RunStart&) {}
  /// Called at most ~4 times per second during an epoch. loss/accuracy are running means of the
  /// epoch.
  virtual void on_batch(int /*epoch*/, int64_t /*images_done*/, int64_t /*images_total*/,
                        double /*loss*/, double /*accuracy*/) {}
  /// An epoch ended; its record is final. Throwing from here fails the run.
  virtual void on_epoch(const EpochRecord&) {}
};

struct TrainOptions {
  /// Where the run's checkpoints go (train/checkpoint.hpp); empty = no checkpoints.
  std::filesystem::path checkpoint_dir;
  /// The run's key (config.key(), what its checkpoints are marked with); computed when empty.
  std::string run_key;
  /// Continue from checkpoint_dir/last.ckpt when it exists and belongs to this run (see
  /// Trainer::try_resume for the conditions it must have been written under).
  bool resume = true;
  /// A last.ckpt written under other conditions is set aside and the run starts over from epoch 1
  /// (`lenetlab run --restart-mismatched`), instead of ResumeRefused.
  bool restart_mismatched = false;
  /// The conditions a format-1 last.ckpt (written before checkpoints recorded them: lenetlab 0.1.0
  /// up to efcfb97, engine version 1) was computed under, as the results database recorded
  /// them for the run (thread count, ISA and oneDNN of its last start; the engine version is
  /// kFormat1EngineVersion whatever is given here). Such a checkpoint is rewritten in format 2
  /// with them, then judged like any other. Absent: it is refused as one of unknown conditions.
  std::optional<RunConditions> legacy_conditions;
  /// Polled every batch; when set, the run ends with status interrupted (the last completed epoch's
  /// checkpoint stays, so a later invocation resumes from it).
  const std::atomic<bool>* cancel = nullptr;
  /// Train at most to this epoch (0 = config.epochs): successive halving's rung budget
  /// (sweep/halving.hpp). A run that reaches it before config.epochs ends with status paused,
  /// its last.ckpt kept and no test evaluation; a later call with a larger budget continues from
  /// that checkpoint, bit-identical to a run trained straight through.
  int epoch_budget = 0;
  /// Wall-time limit of this invocation of the run in seconds (0 = none). Past it the run ends as
  /// `failed` with the message "time limit of N s exceeded in epoch E"; its last checkpoint stays.
  double time_limit_seconds = 0;
};

/// A run's last.ckpt belongs to it and fits, but its bits were computed under other conditions
/// than this invocation's (train/run_conditions.hpp): continuing would give results that match
/// neither an uninterrupted run under the recorded conditions nor one under the current ones.
/// what(): "cannot resume after epoch E: its checkpoint was computed with threads per run 1 (now
/// 2), ..." (one line). The checkpoint is left as it is.
class ResumeRefused : public RunError {
 public:
  ResumeRefused(int epoch, std::optional<RunConditions> recorded, RunConditions current,
                const std::vector<std::string>& differences);
  /// Completed epochs in the checkpoint.
  int epoch() const { return epoch_; }
  /// Absent for a format-1 checkpoint without legacy_conditions.
  const std::optional<RunConditions>& recorded() const { return recorded_; }
  const RunConditions& current() const { return current_; }

 private:
  int epoch_;
  std::optional<RunConditions> recorded_;
  RunConditions current_;
};

/// Trains `config` on `data` and evaluates on the test set (when it is labelled: a prediction set
/// gives no test metrics, RunResult::test stays absent).
/// - Validation: validation_split of the training images (after train_limit), drawn from the seed's
///   split stream; the rest is shuffled each epoch from the shuffle stream.
/// - Distortions (config.augment): each training image is distorted anew every epoch, as a pure
///   function of (seed, epoch, image index) (train/distortion.hpp); validation and test images
///   never. Each epoch's record carries the hash of its data (order and distortion stream).
/// - Batches: batch_size images; the last partial batch is trained with its own primitives unless
///   drop_last. Loss is the batch mean (Keras/PyTorch reduction), so a tail batch of m images has
///   weight 1/m per image.
/// - A non-finite batch loss ends the run: status diverged, diverged_epoch set, no test evaluation.
/// - Early stopping (train/early_stopping.hpp, keras.callbacks.EarlyStopping semantics): stop when
///   the monitored metric has not improved by more than min_delta for `patience` epochs;
///   restore_best_weights restores the best epoch's parameters (incl. batch-norm statistics)
///   before the test evaluation. Status stopped_early.
/// - Checkpoints (options.checkpoint_dir): at the end of each epoch the whole training state and
///   the epoch's record go to last.ckpt, then the record is delivered (on_epoch); a run resumed
///   from it ends bit-identical to an uninterrupted one (same conditions: try_resume). At the end
///   final.ckpt (and best.ckpt) hold the evaluated weights; last.ckpt stays for the caller to
///   remove once the result is recorded (the sweep runner does), so that a process killed in
///   between resumes with every recorded epoch (from the last one, only the evaluation is redone).
///   An unreadable or foreign last.ckpt is ignored (training restarts); one of this run written
///   under other conditions throws ResumeRefused (or is set aside: restart_mismatched).
/// Must run on the thread whose OpenMP thread count is set for the run (oneDNN notes,
/// "Threading"). Throws RunError (bad shapes, input that does not fit); oneDNN errors propagate as
/// dnnl::error.
RunResult train_run(const RunConfig& config, const Dataset& data, TrainObserver& observer,
                    const TrainOptions& options = {});

/// One run's training, stage by stage. run() is train_run; the stages are public so that tests
/// can drive them, in the order run() calls them: split(), then optionally try_resume(), then
/// run_epoch() for each epoch from first_epoch(), then finish().
class Trainer {
 public:
  /// Builds the network (initialised from the seed) and the optimizer; reads the conditions of the
  /// calling thread (RunConditions::current()). Throws RunError when the architecture's class
  /// count differs from the dataset's (or is smaller, when the dataset took it from its labels:
  /// Dataset::num_classes_from_labels), the training images have no labels, batch_size <= 0, or
  /// the network cannot be built.
  Trainer(const RunConfig& config, const Dataset& data, TrainObserver& observer,
          const TrainOptions& options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// The whole run (see train_run).
  RunResult run();

  /// Splits the training images: validation indices drawn from the seed's split stream, both parts
  /// in ascending order. Throws RunError when no training image is left.
  void split();
  /// The resume contract. Continues from `state` when it is a `last` checkpoint of this run that
  /// fits this network and split (same key, parameter and optimizer buffer sizes, dropout streams,
  /// index counts) and was computed under this invocation's conditions (threads per run, ISA,
  /// oneDNN version, engine version; not the engine commit: within one engine version speed never
  /// changes results): restores parameters, optimizer, random streams, order, early stopping and
  /// best-epoch tracking and returns true. Returns false (and changes nothing) when it does not fit
  /// (a foreign or stale file: the run starts over), or when the conditions differ and
  /// restart_mismatched is set. Throws ResumeRefused when the conditions differ (or are unknown:
  /// format 1 without legacy_conditions).
  bool try_resume(const TrainState& state);
  /// Trains epoch `epoch` (1-based), validates and updates early stopping. Returns its record, or
  /// nullopt when the run ended inside it (cancelled, time limit, diverged: see result()).
  std::optional<EpochRecord> run_epoch(int epoch);
  /// The state to write as a `kind` checkpoint now: last (after run_epoch: everything to continue,
  /// with the epoch's record), best (the restored best weights, after finish's restore), final
  /// (the evaluated weights).
  TrainState snapshot(CheckpointKind kind);
  /// Restores the best weights (restore_best_weights), evaluates the test set, writes best.ckpt
  /// and final.ckpt; returns the result.
  RunResult finish();

  int first_epoch() const { return first_epoch_; }
  const RunResult& result() const { return result_; }
  const RunConditions& conditions() const { return conditions_; }

 private:
  using Clock = std::chrono::steady_clock;
  double seconds() const;
  /// Ends the run (status and message) when cancelled or past the time limit.
  bool should_end(int epoch);
  /// Validation metrics, best-epoch tracking and early stopping at the end of `record`'s epoch.
  void end_epoch(EpochRecord& record);
  /// last.ckpt when it exists and loads; nullopt otherwise (unreadable files are ignored).
  std::optional<TrainState> read_last_checkpoint() const;
  /// `state` is a last checkpoint of this run whose every array fits this network and split.
  bool fits(const TrainState& state);
  RunStart start_facts() const;
  /// Forward and loss of training images [start, start + n) of the epoch's order (engine 1 on
  /// net_, engine 2 on micro_).
  BatchLoss train_forward(int epoch, int64_t start, int n);
  EvalMetrics evaluate_on(const InputPipeline& input, const std::vector<int64_t>& idx);

  const RunConfig& config_;
  const Dataset& data_;
  TrainObserver& observer_;
  TrainOptions options_;
  std::string key_;  ///< config.key()
  Clock::time_point t_run_;
  RunConditions conditions_;
  std::unique_ptr<Network> net_;
  std::unique_ptr<MicroBatchNetwork> micro_;  ///< engine 2 (net_ is its replica 0)
  std::unique_ptr<InputPipeline> train_input_, test_input_;
  std::unique_ptr<Distorter> distorter_;  ///< config.augment, when on
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<int64_t> train_idx_, val_idx_, test_idx_;
  Rng shuffle_rng_;
  EarlyStopping stopper_;
  bool track_best_ = false;  ///< early stopping with restore_best_weights
  std::optional<std::vector<std::vector<float>>> best_weights_;
  std::vector<uint8_t> labels_;
  RunResult result_;
  int first_epoch_ = 1;
  bool stop_ = false;  ///< early stopping decided to stop after the current epoch
  std::optional<EpochRecord> last_record_;
  std::optional<EpochRecord> resumed_record_;
};

}  // namespace lenetlab
