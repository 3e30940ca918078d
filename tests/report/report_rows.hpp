// Rows for the report tests, written by hand: configurations made by RunConfig (so that they are
// complete stored configurations, as the store writes them) and runs with chosen results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "store/rows.hpp"

namespace lenetlab::test {

/// A small valid architecture: RunConfig::from_json parses the stored YAML.
inline constexpr const char* kTinyArchitecture =
    "name: tiny\n"
    "input: {channels: 1, height: 28, width: 28}\n"
    "layers:\n"
    "  - flatten\n"
    "  - dense: {units: 10}\n"
    "  - softmax\n";

/// A configuration with the architecture's YAML parsed by RunConfig::from_json. `optimizer`:
/// sgd | adam | rmsprop.
inline RunConfig make_config(const std::string& architecture, const std::string& optimizer,
                             double learning_rate, int batch_size, uint64_t seed) {
  RunConfig c;
  c.architecture = architecture;
  c.arch.yaml = kTinyArchitecture;
  c.optimizer.kind = value_of(kOptimizerKinds, optimizer).value();
  c.optimizer.learning_rate = learning_rate;
  c.batch_size = batch_size;
  c.seed = seed;
  c.epochs = 3;
  return RunConfig::from_json(c.to_json(), "test configuration");
}

inline SweepRow make_sweep(const std::string& name, const std::string& file,
                           const std::string& yaml, const std::string& updated_at) {
  SweepRow s;
  s.name = name;
  s.file = file;
  s.yaml = yaml;
  s.updated_at = updated_at;
  return s;
}

/// A run row of `config` with `status` and, when given, `test_accuracy`; a queued run has no
/// environment.
inline RunRow make_run(int64_t id, const RunConfig& config, RunStatus status,
                       std::optional<double> test_accuracy) {
  RunRow r;
  r.id = id;
  r.key = config.key();
  r.sweep = "demo";
  r.name = config.display_name();
  r.architecture = config.architecture;
  r.optimizer = to_string(config.optimizer.kind);
  r.learning_rate = config.optimizer.learning_rate;
  r.batch_size = config.batch_size;
  r.epochs = config.epochs;
  r.seed = static_cast<int64_t>(config.seed);
  r.dataset = config.dataset;
  r.config_json = config.to_json().dump();
  r.status = status;
  if (status != RunStatus::queued) {
    r.parameters = 61706;
    r.threads = 4;
    r.host = "testhost";
    r.cpu_model = "Test CPU";
    r.isa = "avx2";
    r.onednn_version = "2.6.3";
    r.compiler = "GCC 12.2.0";
    r.git_commit = "abc123";
    r.dataset_sha256 = "deadbeef";
    r.seconds = 12.5 + static_cast<double>(id);
    r.epochs_completed = config.epochs;
  }
  if (test_accuracy) {
    r.test_accuracy = test_accuracy;
    r.best_val_accuracy = *test_accuracy - 0.001;
  }
  return r;
}

/// R datasets::sleep (Cushny & Peebles 1905): extra hours of sleep of 10 patients, drug 1 and 2.
inline const std::vector<double> kSleep1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
inline const std::vector<double> kSleep2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

}  // namespace lenetlab::test
