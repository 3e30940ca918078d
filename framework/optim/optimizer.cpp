#include "optim/optimizer.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace lenetlab {

namespace {

class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config), 1) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), mu = float(config_.momentum),
                wd = float(config_.weight_decay);
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* v = buffer(0, k);
      const int64_t n = params_[k].size;
      // Element-wise, across the run's OpenMP threads: the same bits for any thread count.
      if (mu == 0.0f) {
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
        for (int64_t i = 0; i < n; ++i) w[i] -= lr * (grad[i] + wd * w[i]);
      } else if (config_.nesterov) {
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
        for (int64_t i = 0; i < n; ++i) {
          const float g = grad[i] + wd * w[i];
          v[i] = mu * v[i] + g;
          w[i] -= lr * (g + mu * v[i]);
        }
      } else {
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
        for (int64_t i = 0; i < n; ++i) {
          v[i] = mu * v[i] + grad[i] + wd * w[i];
          w[i] -= lr * v[i];
        }
      }
    }
  }
};

class Adam final : public Optimizer {
 public:
  Adam(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config), 2) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), b1 = float(config_.beta_1),
                b2 = float(config_.beta_2), eps = float(config_.epsilon),
                wd = float(config_.weight_decay);
    // 1 - beta in double, then rounded: (1.0f - 0.999f) would be off by 1.3e-5 relative.
    const float one_minus_b1 = float(1.0 - config_.beta_1),
                one_minus_b2 = float(1.0 - config_.beta_2);
    const float c1 = 1.0f / float(1.0 - std::pow(config_.beta_1, double(t_)));
    const float c2 = 1.0f / float(1.0 - std::pow(config_.beta_2, double(t_)));
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* m = buffer(0, k);
      float* v = buffer(1, k);
      const int64_t n = params_[k].size;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
      for (int64_t i = 0; i < n; ++i) {
        const float g = grad[i] + wd * w[i];
        m[i] = b1 * m[i] + one_minus_b1 * g;
        v[i] = b2 * v[i] + one_minus_b2 * g * g;
        w[i] -= lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
      }
    }
  }
};

class RmsProp final : public Optimizer {
 public:
  RmsProp(std::vector<ParamView> params, OptimizerConfig config)
      : Optimizer(std::move(params), std::move(config), 2) {}

  void step() override {
    ++t_;
    const float lr = float(config_.learning_rate), rho = float(config_.rho),
                eps = float(config_.epsilon), mu = float(config_.momentum),
                wd = float(config_.weight_decay), one_minus_rho = float(1.0 - config_.rho);
    for (size_t k = 0; k < params_.size(); ++k) {
      float* w = params_[k].value;
      const float* grad = params_[k].gradient;
      float* s = buffer(0, k);
      float* b = buffer(1, k);
      const int64_t n = params_[k].size;
#pragma omp parallel for schedule(static) if (n >= kParallelElements)
      for (int64_t i = 0; i < n; ++i) {
        const float g = grad[i] + wd * w[i];
        s[i] = rho * s[i] + one_minus_rho * g * g;
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
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<ParamView> params) {
  switch (config.kind) {
    case OptimizerKind::sgd:
      return std::make_unique<Sgd>(std::move(params), config);
    case OptimizerKind::adam:
      return std::make_unique<Adam>(std::move(params), config);
    case OptimizerKind::rmsprop:
      return std::make_unique<RmsProp>(std::move(params), config);
  }
  throw Error("unknown optimizer kind " + std::to_string(static_cast<int>(config.kind)));
}

}  // namespace lenetlab
