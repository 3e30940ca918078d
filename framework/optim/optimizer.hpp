// Optimizers over a flat list of parameters. State is indexed by position in that list (never by
// address). Update rules, with g = gradient + weight_decay * w (L2, PyTorch `weight_decay`
// semantics) and t the 1-based step count:
//
//  SGD (torch.optim.SGD; Sutskever et al. 2013):
//      momentum = 0:  w -= lr * g
//      momentum:      v = momentum * v + g;  w -= lr * v
//      nesterov:      v = momentum * v + g;  w -= lr * (g + momentum * v)
//  Adam (Kingma & Ba 2015, Algorithm 1; torch.optim.Adam):
//      m = beta_1 m + (1 - beta_1) g;  v = beta_2 v + (1 - beta_2) g^2
//      w -= lr * (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
//  RMSprop (Hinton 2012, lecture 6e; the torch.optim.RMSprop form, epsilon outside the square root;
//  Keras puts it inside, a difference of order epsilon / sqrt(s)), centered=False:
//      s = rho s + (1 - rho) g^2;  without momentum: w -= lr * g / (sqrt(s) + epsilon)
//      with momentum: b = momentum * b + g / (sqrt(s) + epsilon);  w -= lr * b
// Defaults (config/run_config.hpp OptimizerConfig) are Keras's: Adam beta_1 0.9, beta_2 0.999,
// epsilon 1e-7; RMSprop rho 0.9, epsilon 1e-7. Arithmetic is f32 per element in index order, so a
// step is deterministic.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config/run_config.hpp"

namespace lenetlab {

/// Non-owning view of one trainable tensor and its gradient (both `size` floats).
struct ParamView {
  float* value = nullptr;
  const float* gradient = nullptr;
  int64_t size = 0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// Applies one update to every parameter with learning rate config().learning_rate.
  virtual void step() = 0;
  const OptimizerConfig& config() const { return config_; }
  /// Steps taken (Adam's t).
  int64_t steps() const { return t_; }
  /// Internal state, for checkpoints: `buffers_per_param` buffers per parameter (SGD: velocity;
  /// Adam: m, v; RMSprop: s, momentum buffer), stored as state()[b * params + k], each of param k's
  /// size.
  std::vector<std::vector<float>>& state() { return state_; }
  /// Learning rate of the next steps (a schedule changes it between epochs).
  void set_learning_rate(double learning_rate) { config_.learning_rate = learning_rate; }
  /// Restores the step count together with state() (resume from a checkpoint).
  void set_steps(int64_t t) { t_ = t; }

 protected:
  Optimizer(std::vector<ParamView> params, OptimizerConfig config, int buffers_per_param)
      : params_(std::move(params)), config_(std::move(config)) {
    for (int b = 0; b < buffers_per_param; ++b)
      for (const auto& p : params_) state_.emplace_back(p.size, 0.0f);
  }
  /// Buffer b of parameter k.
  float* buffer(int b, size_t k) { return state_[b * params_.size() + k].data(); }
  std::vector<ParamView> params_;
  OptimizerConfig config_;
  std::vector<std::vector<float>> state_;
  int64_t t_ = 0;
};

/// Creates the optimizer of config.kind (sgd | adam | rmsprop).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<ParamView> params);

}  // namespace lenetlab
