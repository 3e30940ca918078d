#include "train/early_stopping.hpp"

#include <cmath>

namespace lenetlab {

double monitored_value(EarlyStoppingMonitor monitor, const EpochRecord& record) {
  switch (monitor) {
    case EarlyStoppingMonitor::val_loss:
      return record.val_loss.value_or(NAN);
    case EarlyStoppingMonitor::val_accuracy:
      return record.val_accuracy.value_or(NAN);
    case EarlyStoppingMonitor::train_accuracy:
      return record.train_accuracy;
    case EarlyStoppingMonitor::train_loss:
      break;
  }
  return record.train_loss;
}

EarlyStopping::EarlyStopping(const EarlyStoppingConfig& config)
    : config_(config), maximize_(config.maximizes()) {}

bool EarlyStopping::update(double value, int epoch) {
  const std::optional<double>& best = state_.best;
  const bool better =
      !best || (maximize_ ? value > *best + config_.min_delta : value < *best - config_.min_delta);
  if (better) {
    state_.best = value;
    state_.best_epoch = epoch;
    state_.wait = 0;
  } else {
    ++state_.wait;
  }
  return better;
}

bool EarlyStopping::should_stop() const {
  return config_.enabled && state_.best && state_.wait > 0 && state_.wait >= config_.patience;
}

}  // namespace lenetlab
