#include "train/early_stopping.hpp"

#include <cmath>

namespace lenetlab {

double monitored_value(const std::string& monitor, const EpochRecord& record) {
  if (monitor == "val_loss") return record.val_loss.value_or(NAN);
  if (monitor == "val_accuracy") return record.val_accuracy.value_or(NAN);
  if (monitor == "train_accuracy") return record.train_accuracy;
  return record.train_loss;
}

EarlyStopping::EarlyStopping(const EarlyStoppingConfig& config) : config_(config) {
  const bool is_accuracy = config.monitor.find("accuracy") != std::string::npos;
  maximize_ = config.mode == "max" || (config.mode == "auto" && is_accuracy);
}

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
