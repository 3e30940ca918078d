// Helpers shared by the store and query tests: a temporary directory and hand-built records.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "temp_dir.hpp"
#include "config/run_config.hpp"
#include "core/records.hpp"

namespace lenetlab::test {

/// A run configuration as sweep expansion would produce it (the architecture YAML is a stub).
inline RunConfig make_config(const std::string& architecture = "lenet-relu",
                             const std::string& optimizer = "sgd", double learning_rate = 0.01,
                             int batch_size = 64, uint64_t seed = 1) {
  RunConfig config;
  config.architecture = architecture;
  config.arch.name = architecture;
  config.arch.file = "experiments/architectures/" + architecture + ".yaml";
  config.arch.yaml = "name: " + architecture + "\nlayers:\n  - conv: {filters: 6, kernel: 5}\n";
  config.optimizer.kind = value_of(kOptimizerKinds, optimizer).value();
  config.optimizer.learning_rate = learning_rate;
  config.batch_size = batch_size;
  config.seed = seed;
  config.epochs = 3;
  return config;
}

inline EpochRecord make_epoch(int epoch, bool validation = true) {
  EpochRecord record;
  record.epoch = epoch;
  record.train_loss = 1.0 / epoch;
  record.train_accuracy = 0.9 + 0.01 * epoch;
  if (validation) {
    record.val_loss = 1.2 / epoch;
    record.val_accuracy = 0.89 + 0.01 * epoch;
  }
  record.learning_rate = 0.01;
  record.seconds = 2.5;
  record.images_per_second = 24000;
  record.data_hash = std::string(15, '0') + std::to_string(epoch % 10);
  return record;
}

/// A finished run with a 10-class test evaluation: accuracy on the diagonal, the rest of each
/// row's images predicted as the next class.
inline RunResult make_result(double accuracy = 0.98, double loss = 0.07, double seconds = 10,
                             RunStatus status = RunStatus::finished) {
  RunResult result;
  result.status = status;
  result.epochs_completed = 3;
  result.best_epoch = 3;
  result.best_val_accuracy = accuracy - 0.005;
  result.seconds = seconds;
  result.weights_hash = "0123456789abcdef";
  EvalMetrics test;
  test.loss = loss;
  test.accuracy = accuracy;
  test.images = 1000;
  test.num_classes = 10;
  test.confusion.assign(100, 0);
  for (int t = 0; t < 10; ++t) {
    const auto right = static_cast<int64_t>(100 * accuracy);
    test.confusion[t * 10 + t] = right;
    test.confusion[t * 10 + (t + 1) % 10] = 100 - right;
    test.per_class.push_back({t, accuracy, accuracy, accuracy, 100});
  }
  result.test = test;
  return result;
}

/// True when `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Message of the `Exception` that `body` throws (fails the test when it throws nothing).
template <typename Exception, typename Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const Exception& e) {
    return e.what();
  }
  FAIL("expected an exception");
  return "";
}

}  // namespace lenetlab::test
