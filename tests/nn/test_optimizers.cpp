// Optimizers against their published update rules (optim/optimizer.hpp), recomputed here in double
// precision: three steps on two small parameter tensors with a different, fixed gradient per step.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "optim/optimizer.hpp"

namespace lenetlab::test {
namespace {

constexpr int kSteps = 3;

/// Initial values of two parameter tensors (sizes 3 and 2), away from zero so that a relative
/// tolerance is meaningful.
const std::vector<std::vector<double>> kInitial = {{0.5, -1.2, 2.0}, {1.5, -0.7}};

/// Gradient of element i of tensor k at step t (0-based): signs and sizes vary with t, k and i.
double gradient(int t, size_t k, size_t i) {
  const double base = 0.3 * double(i + 1) + 0.2 * double(k);
  const double sign = ((t + static_cast<int>(k) + static_cast<int>(i)) % 2 == 0) ? 1.0 : -1.0;
  return sign * base * (1.0 + 0.5 * t);
}

/// The update rules of optim/optimizer.hpp in double precision. Returns the values after each step.
std::vector<std::vector<std::vector<double>>> reference(const OptimizerConfig& c) {
  std::vector<std::vector<double>> w = kInitial, s1, s2;
  for (const auto& p : w) {
    s1.emplace_back(p.size(), 0.0);
    s2.emplace_back(p.size(), 0.0);
  }
  std::vector<std::vector<std::vector<double>>> history;
  for (int t = 0; t < kSteps; ++t) {
    const double step = t + 1;  // 1-based step count of the Adam bias correction
    for (size_t k = 0; k < w.size(); ++k)
      for (size_t i = 0; i < w[k].size(); ++i) {
        const double g = gradient(t, k, i) + c.weight_decay * w[k][i];
        double& x = w[k][i];
        if (c.kind == OptimizerKind::sgd) {
          if (c.momentum == 0.0) {
            x -= c.learning_rate * g;
          } else {
            double& v = s1[k][i];
            v = c.momentum * v + g;
            x -= c.learning_rate * (c.nesterov ? g + c.momentum * v : v);
          }
        } else if (c.kind == OptimizerKind::adam) {
          double& m = s1[k][i];
          double& v = s2[k][i];
          m = c.beta_1 * m + (1 - c.beta_1) * g;
          v = c.beta_2 * v + (1 - c.beta_2) * g * g;
          const double m_hat = m / (1 - std::pow(c.beta_1, step));
          const double v_hat = v / (1 - std::pow(c.beta_2, step));
          x -= c.learning_rate * m_hat / (std::sqrt(v_hat) + c.epsilon);
        } else {  // rmsprop
          double& s = s1[k][i];
          s = c.rho * s + (1 - c.rho) * g * g;
          const double u = g / (std::sqrt(s) + c.epsilon);
          if (c.momentum == 0.0) {
            x -= c.learning_rate * u;
          } else {
            double& b = s2[k][i];
            b = c.momentum * b + u;
            x -= c.learning_rate * b;
          }
        }
      }
    history.push_back(w);
  }
  return history;
}

/// Runs the engine's optimizer for kSteps and compares every value after every step.
void check_against_reference(const OptimizerConfig& config) {
  std::vector<std::vector<float>> values, grads;
  for (const auto& p : kInitial) {
    values.emplace_back(p.begin(), p.end());
    grads.emplace_back(p.size(), 0.0f);
  }
  std::vector<ParamView> views;
  for (size_t k = 0; k < values.size(); ++k)
    views.push_back({values[k].data(), grads[k].data(), static_cast<int64_t>(values[k].size())});
  auto optimizer = make_optimizer(config, views);
  CHECK(optimizer->steps() == 0);
  const auto expected = reference(config);
  for (int t = 0; t < kSteps; ++t) {
    for (size_t k = 0; k < grads.size(); ++k)
      for (size_t i = 0; i < grads[k].size(); ++i)
        grads[k][i] = static_cast<float>(gradient(t, k, i));
    optimizer->step();
    CHECK(optimizer->steps() == t + 1);
    for (size_t k = 0; k < values.size(); ++k)
      for (size_t i = 0; i < values[k].size(); ++i) {
        CAPTURE(t);
        CAPTURE(k);
        CAPTURE(i);
        CHECK(values[k][i] == doctest::Approx(expected[t][k][i]).epsilon(1e-6));
      }
  }
  // Sanity of the reference itself: every parameter moved.
  for (size_t k = 0; k < values.size(); ++k)
    for (size_t i = 0; i < values[k].size(); ++i)
      CHECK(expected[kSteps - 1][k][i] != kInitial[k][i]);
}

OptimizerConfig make(const std::string& name, double lr) {
  OptimizerConfig c;
  c.kind = value_of(kOptimizerKinds, name).value();
  c.learning_rate = lr;
  return c;
}

}  // namespace

TEST_CASE("nn: sgd: plain, momentum and nesterov follow the update rule") {
  SUBCASE("plain") { check_against_reference(make("sgd", 0.1)); }
  SUBCASE("momentum") {
    auto c = make("sgd", 0.1);
    c.momentum = 0.9;
    check_against_reference(c);
  }
  SUBCASE("nesterov") {
    auto c = make("sgd", 0.1);
    c.momentum = 0.9;
    c.nesterov = true;
    check_against_reference(c);
  }
  SUBCASE("nesterov without momentum is plain sgd") {
    auto c = make("sgd", 0.1);
    c.nesterov = true;
    check_against_reference(c);
  }
}

TEST_CASE("nn: adam follows Kingma & Ba Algorithm 1 with bias correction") {
  SUBCASE("Keras defaults") { check_against_reference(make("adam", 0.05)); }
  SUBCASE("other betas and epsilon") {
    auto c = make("adam", 0.02);
    c.beta_1 = 0.8;
    c.beta_2 = 0.99;
    c.epsilon = 1e-3;
    check_against_reference(c);
  }
}

TEST_CASE("nn: rmsprop follows the update rule, with and without momentum") {
  SUBCASE("plain") { check_against_reference(make("rmsprop", 0.01)); }
  SUBCASE("momentum") {
    auto c = make("rmsprop", 0.01);
    c.momentum = 0.9;
    check_against_reference(c);
  }
  SUBCASE("rho 0.5, epsilon 0.1") {
    auto c = make("rmsprop", 0.01);
    c.rho = 0.5;
    c.epsilon = 0.1;
    check_against_reference(c);
  }
}

TEST_CASE("nn: weight decay adds weight_decay * w to the gradient of every optimizer") {
  SUBCASE("sgd") {
    auto c = make("sgd", 0.1);
    c.weight_decay = 0.05;
    check_against_reference(c);
  }
  SUBCASE("sgd momentum") {
    auto c = make("sgd", 0.1);
    c.momentum = 0.9;
    c.weight_decay = 0.05;
    check_against_reference(c);
  }
  SUBCASE("sgd nesterov") {
    auto c = make("sgd", 0.1);
    c.momentum = 0.5;
    c.nesterov = true;
    c.weight_decay = 0.05;
    check_against_reference(c);
  }
  SUBCASE("adam") {
    auto c = make("adam", 0.05);
    c.weight_decay = 0.1;
    check_against_reference(c);
  }
  SUBCASE("rmsprop") {
    auto c = make("rmsprop", 0.01);
    c.weight_decay = 0.1;
    check_against_reference(c);
  }
  SUBCASE("rmsprop momentum") {
    auto c = make("rmsprop", 0.01);
    c.momentum = 0.9;
    c.weight_decay = 0.1;
    check_against_reference(c);
  }
}

TEST_CASE("nn: optimizers leave a zero weight with a zero gradient at exactly zero") {
  // What keeps masked (C3) weights at zero: no optimizer may move them.
  for (const char* name : {"sgd", "adam", "rmsprop"}) {
    for (const double momentum : {0.0, 0.9}) {
      CAPTURE(name);
      CAPTURE(momentum);
      auto c = make(name, 0.1);
      c.momentum = momentum;
      c.weight_decay = 0.1;
      std::vector<float> w{0.0f, 1.0f}, g{0.0f, 0.5f};
      auto optimizer = make_optimizer(c, {{w.data(), g.data(), 2}});
      for (int t = 0; t < 5; ++t) optimizer->step();
      CHECK(w[0] == 0.0f);
      CHECK(w[1] != 1.0f);
    }
  }
}

TEST_CASE("nn: make_optimizer makes every kind of the table") {
  std::vector<float> w{1.0f}, g{0.0f};
  for (const auto& [kind, name] : kOptimizerKinds) {
    CAPTURE(name);
    CHECK(make_optimizer(make(std::string(name), 0.1), {{w.data(), g.data(), 1}}) != nullptr);
  }
  // Other names are refused where they are read (config/run_settings.cpp).
  for (const char* name : {"foo", "", "Adam", "adagrad"})
    CHECK_FALSE(value_of(kOptimizerKinds, name));
}

}  // namespace lenetlab::test
