// The resolved configuration of one run: everything needed to repeat it. Produced by sweep
// expansion (config/sweep_loader.hpp; the settings and their defaults are documented for users in
// sweeps/README.md and described once in config/run_settings.cpp), serialised to canonical JSON
// for the results database and the run key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/architecture.hpp"

namespace lenetlab {

/// The update rule (optim/optimizer.hpp).
enum class OptimizerKind { sgd, adam, rmsprop };
inline constexpr std::array<EnumName<OptimizerKind>, 3> kOptimizerKinds = {{
    {OptimizerKind::sgd, "sgd"},
    {OptimizerKind::adam, "adam"},
    {OptimizerKind::rmsprop, "rmsprop"},
}};

/// Optimizer hyper-parameters. Names and defaults follow the Keras optimizer docs
/// (keras.io/api/optimizers); update rules are documented in optim/optimizer.hpp.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  /// Keras defaults: sgd 0.01, adam 0.001, rmsprop 0.001 (set by kind when omitted).
  double learning_rate = 0.01;
  /// sgd, rmsprop. Keras default 0.
  double momentum = 0.0;
  /// sgd only.
  bool nesterov = false;
  /// adam.
  double beta_1 = 0.9;
  /// adam.
  double beta_2 = 0.999;
  /// adam, rmsprop (Keras default 1e-7; PyTorch uses 1e-8).
  double epsilon = 1e-7;
  /// rmsprop decay of the squared-gradient average (PyTorch calls it alpha).
  double rho = 0.9;
  /// L2 penalty added to the gradient: g += weight_decay * w (PyTorch semantics).
  double weight_decay = 0.0;
};

/// The metric early stopping watches (an EpochRecord field).
enum class EarlyStoppingMonitor { val_loss, val_accuracy, train_loss, train_accuracy };
inline constexpr std::array<EnumName<EarlyStoppingMonitor>, 4> kEarlyStoppingMonitors = {{
    {EarlyStoppingMonitor::val_loss, "val_loss"},
    {EarlyStoppingMonitor::val_accuracy, "val_accuracy"},
    {EarlyStoppingMonitor::train_loss, "train_loss"},
    {EarlyStoppingMonitor::train_accuracy, "train_accuracy"},
}};
/// Whether the monitored value improves upwards; automatic: max for accuracies, min for losses.
enum class EarlyStoppingMode { min, max, automatic };
inline constexpr std::array<EnumName<EarlyStoppingMode>, 3> kEarlyStoppingModes = {{
    {EarlyStoppingMode::min, "min"},
    {EarlyStoppingMode::max, "max"},
    {EarlyStoppingMode::automatic, "auto"},
}};

/// Early stopping as keras.callbacks.EarlyStopping.
struct EarlyStoppingConfig {
  bool enabled = false;
  EarlyStoppingMonitor monitor = EarlyStoppingMonitor::val_loss;
  /// Epochs without improvement before stopping.
  int patience = 0;
  /// Minimum change that counts as an improvement.
  double min_delta = 0.0;
  EarlyStoppingMode mode = EarlyStoppingMode::automatic;
  /// Evaluate the test set with the best epoch's weights.
  bool restore_best_weights = false;

  /// Whether the monitor is computed on the validation images (needs validation_split > 0).
  bool monitors_validation() const {
    return monitor == EarlyStoppingMonitor::val_loss ||
           monitor == EarlyStoppingMonitor::val_accuracy;
  }
  /// Whether larger values of the monitor are better (mode, or for automatic the metric).
  bool maximizes() const {
    return mode == EarlyStoppingMode::max || (mode == EarlyStoppingMode::automatic &&
                                              (monitor == EarlyStoppingMonitor::val_accuracy ||
                                               monitor == EarlyStoppingMonitor::train_accuracy));
  }
};

/// Names of the tables above (the spellings of sweep files and of to_json).
const char* to_string(OptimizerKind kind);
const char* to_string(EarlyStoppingMonitor monitor);
const char* to_string(EarlyStoppingMode mode);

/// Piecewise-constant learning-rate schedule by epoch (the idea of Keras's PiecewiseConstantDecay
/// and PyTorch's MultiStepLR, with epochs as the unit and factors of the run's learning rate):
/// from epoch steps[i].first on (1-based), training uses learning_rate * steps[i].second; before
/// the first step the factor is 1. LeCun et al. 1998 (sec. V-A: rates 0.0005, 0.0002, 0.0001,
/// 0.00005, 0.00001 for passes 1-2, 3-5, 6-8, 9-12, 13+) anneal this way: {3: 0.4, 6: 0.2, 9: 0.1,
/// 13: 0.02}. Empty = a constant learning rate.
struct LearningRateSchedule {
  std::vector<std::pair<int, double>> steps;  ///< (first epoch, factor), epochs increasing
  bool empty() const { return steps.empty(); }
  /// Multiplier of the learning rate in epoch `epoch`.
  double factor(int epoch) const {
    double f = 1.0;
    for (const auto& [first, value] : steps)
      if (first <= epoch) f = value;
    return f;
  }
};

/// Ranges of the planar affine distortions of LeCun et al. 1998 (sec. III-B names translation,
/// scaling, squeezing and horizontal shearing but gives no ranges; the defaults are lenetlab's
/// choice). Each image draws every parameter uniformly in
/// [-range, +range] (train/distortion.hpp); the transforms are in data/augment.hpp.
struct AffineAugment {
  double translate = 2.0;  ///< pixels, horizontal and vertical (drawn separately)
  double scale = 0.1;      ///< both axes times 1 + s; in [0, 1)
  double squeeze = 0.1;    ///< x times 1 + q, y times 1 / (1 + q); in [0, 1)
  double shear = 0.1;      ///< x += shear * y (y from the centre)
};

/// Elastic distortions of Simard, Steinkraus, Platt 2003 (sec. 2): a uniform [-1, 1] displacement
/// field smoothed by a Gaussian of sigma pixels and scaled by alpha; defaults alpha 34, sigma 4
/// (the MNIST setting of that section).
struct ElasticAugment {
  double alpha = 34.0;  ///< pixels per unit of the smoothed field; >= 0
  double sigma = 4.0;   ///< pixels; > 0
};

/// Seeded distortions of the training images (not the validation or test images): every
/// distorted image is a pure function of (seed, epoch, image index). Absent parts are off.
struct AugmentConfig {
  std::optional<AffineAugment> affine;
  std::optional<ElasticAugment> elastic;
  bool enabled() const { return affine.has_value() || elastic.has_value(); }
};

struct RunConfig {
  std::string architecture;  ///< name as given in the sweep (resolved to arch.file).
  ArchSpec arch;             ///< resolved architecture (not part of to_json(); its yaml is).
  /// mnist | fashion-mnist | csv:<train.csv>,<test.csv> (core/dataset_ref.hpp).
  std::string dataset = "mnist";
  OptimizerConfig optimizer;
  int epochs = 10;
  int batch_size = 64;
  uint64_t seed = 0;
  /// Fraction of the training images held out, drawn from the seed; 0 = none.
  double validation_split = 0.0;
  bool shuffle = true;  ///< reshuffle the training images every epoch (from the seed).
  /// Tail batch policy: the last partial batch of an epoch is trained on (Keras/PyTorch default,
  /// drop_last=False) with its own primitive set.
  bool drop_last = false;
  /// Optional normalisation after x/255: x = (x - mean) / std. mean=0, std=1 means none.
  double normalize_mean = 0.0;
  double normalize_std = 1.0;
  EarlyStoppingConfig early_stopping;
  LearningRateSchedule learning_rate_schedule;
  /// Use only the first N training images (0 = all). For tests and quick trials.
  int train_limit = 0;
  /// Use only the first N test images (0 = all).
  int test_limit = 0;
  /// Distortions of the training images; none by default.
  AugmentConfig augment;
  /// Evaluate the test set after the last epoch. False for the tuning runs of a protocol
  /// (sweeps/README.md "Protocol"): no test metrics are computed or stored, so nothing can select
  /// by them. In to_json() only when false.
  bool evaluate_test = true;
  /// The training engine: 1 (oneDNN across the run's threads; its bits depend on the thread
  /// count) or 2 (micro-batches, the same bits for any thread count: nn/micro_batch.hpp).
  int engine = 1;
  /// Engine 2: images per micro-batch (the split of every batch, whatever the thread count). 32:
  /// at 1 thread lenet-relu trains as fast as engine 1 with 32, 0.65x with 16 (nn/README.md).
  int micro_batch = 32;

  /// Canonical JSON (keys sorted by nlohmann's std::map) of every setting that changes results,
  /// including the architecture's YAML text. The run key is a hash of this. Written and read
  /// from the settings tables (config/run_settings.cpp).
  nlohmann::json to_json() const;
  /// Stable run identifier: 16 hex digits of XXH3-64 over to_json().dump().
  std::string key() const;
  /// Short human name, e.g. "lenet-relu/sgd lr=0.01 bs=128 seed=1".
  std::string display_name() const;
  /// Inverse of to_json(): rebuilds a stored run's configuration, its architecture parsed from the
  /// stored YAML text (so a later edit of the architecture file does not change it). `origin` names
  /// the source in errors. Throws ConfigError for a malformed or incomplete document.
  static RunConfig from_json(const nlohmann::json& j, const std::string& origin);
};

}  // namespace lenetlab
