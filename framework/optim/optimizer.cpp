#include "optim/optimizer.hpp"

#include <cmath>

#include "core/error.hpp"

namespace lenetlab {

namespace {

/// Per-parameter state buffers (one vector per parameter, same size), zero-initialised.
std::vector<std::vector<float>> zero_state(const std::vector<ParamView>& params) {
  std::vector<std::vector<float>> state;
  for (const auto& p : params) state.emplace_back(p.size, 0.0f);
  return state;
}

class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config)), velocity_(zero_state(params_)) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), mu = float(config_.momentum),
                wd = float(config_.weight_decay);
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* v = velocity_[k].data();
      const int64_t n = params_[k].size;
      if (mu == 0.0f) {
        for (int64_t i = 0; i < n; ++i) w[i] -= lr * (grad[i] + wd * w[i]);
      } else if (config_.nesterov) {
        for (int64_t i = 0; i < n; ++i) {
          const float g = grad[i] + wd * w[i];
          v[i] = mu * v[i] + g;
          w[i] -= lr * (g + mu * v[i]);
        }
      } else {
        for (int64_t i = 0; i < n; ++i) {
          v[i] = mu * v[i] + grad[i] + wd * w[i];
          w[i] -= lr * v[i];
        }
      }
    }
  }

 private:
  std::vector<std::vector<float>> velocity_;
};

class Adam final : public Optimizer {
 public:
  Adam(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config)), m_(zero_state(params_)), v_(zero_state(params_)) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), b1 = float(config_.beta_1),
                b2 = float(config_.beta_2), eps = float(config_.epsilon),
                wd = float(config_.weight_decay);
    const float c1 = 1.0f / float(1.0 - std::pow(config_.beta_1, double(t_)));
    const float c2 = 1.0f / float(1.0 - std::pow(config_.beta_2, double(t_)));
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* m = m_[k].data();
      float* v = v_[k].data();
      for (int64_t i = 0; i < params_[k].size; ++i) {
        const float g = grad[i] + wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        w[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
      }
    }
  }

 private:
  std::vector<std::vector<float>> m_, v_;
};

class RmsProp final : public Optimizer {
 public:
  RmsProp(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config)),
        s_(zero_state(params_)),
        b_(zero_state(params_)) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), rho = float(config_.rho),
                eps = float(config_.epsilon), mu = float(config_.momentum),
                wd = float(config_.weight_decay);
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* s = s_[k].data();
      float* b = b_[k].data();
      for (int64_t i = 0; i < params_[k].size; ++i) {
        const float g = grad[i] + wd * w[i];
        s[i] = rho * s[i] + (1.0f - rho) * g * g;
        const float u = g / (std::sqrt(s[i]) + eps);
        if (mu == 0.0f) {
          w[i] -= lr * u;
        } else {
          b[i] = mu * b[i] + u;
          w[i] -= lr * b[i];
        }
      }
    }
  }

 private:
  std::vector<std::vector<float>> s_, b_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::vector<ParamView> params) {
  if (config.name == "sgd") return std::make_unique<Sgd>(std::move(params), config);
  if (config.name == "adam") return std::make_unique<Adam>(std::move(params), config);
  if (config.name == "rmsprop") return std::make_unique<RmsProp>(std::move(params), config);
  throw Error("unknown optimizer '" + config.name + "'; expected sgd, adam or rmsprop");
}

}  // namespace lenetlab
