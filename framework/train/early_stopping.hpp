// Early stopping with the semantics of keras.callbacks.EarlyStopping (keras.io/api/callbacks/
// early_stopping): the monitored metric, its best value so far and the epochs since it last
// improved.
#pragma once

#include <optional>
#include <string>

#include "config/run_config.hpp"
#include "core/records.hpp"

namespace lenetlab {

/// What the stopper carries from one epoch to the next; saved in last.ckpt so that a resumed run
/// stops where an uninterrupted one would.
struct EarlyStoppingState {
  std::optional<double> best;  ///< best monitored value so far; absent before the first epoch
  int best_epoch = 0;          ///< 1-based epoch of `best`; 0 before the first epoch
  int wait = 0;                ///< epochs since the last improvement
};

/// The value of `monitor` in `record`. A validation metric of a run without validation images is NaN,
/// which never counts as an improvement.
double monitored_value(EarlyStoppingMonitor monitor, const EpochRecord& record);

/// Tracks the monitored metric and decides when to stop (Keras semantics).
class EarlyStopping {
 public:
  /// EarlyStoppingConfig::maximizes(): mode max, or auto with an accuracy monitor: larger is
  /// better; else smaller.
  explicit EarlyStopping(const EarlyStoppingConfig& config);

  /// Records the epoch's monitored value. Returns true when it improves on the best value by more
  /// than min_delta (or is the first value), which then becomes the best.
  bool update(double value, int epoch);
  /// Keras: stop only after a non-improving epoch, once `patience` of them have accumulated (so
  /// patience 0 never stops on an improving epoch). Always false when early stopping is disabled.
  bool should_stop() const;

  const EarlyStoppingState& state() const { return state_; }
  void restore(const EarlyStoppingState& state) { state_ = state; }

 private:
  EarlyStoppingConfig config_;
  bool maximize_ = false;
  EarlyStoppingState state_;
};

}  // namespace lenetlab
