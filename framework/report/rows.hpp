// The rows the report reads from the results database (schema: store/schema.sql), one struct per
// table with the columns the report shows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lenetlab::report {

struct SweepRow {
  std::string name;
  std::string file;
  std::string yaml;
  std::string updated_at;
};

struct RunRow {
  int64_t id = 0;
  std::string key;
  std::string sweep;
  std::string name;
  std::string architecture;
  std::string optimizer;
  double learning_rate = 0;
  int64_t batch_size = 0;
  int64_t epochs = 0;  ///< requested
  int64_t seed = 0;
  std::string dataset;
  std::string config_json;
  std::string status;
  std::optional<std::string> error;
  std::optional<int64_t> diverged_epoch;
  std::optional<int64_t> parameters;
  std::optional<int64_t> threads;
  std::optional<std::string> host, cpu_model, isa, onednn_version, compiler, git_commit,
      dataset_sha256;
  std::optional<double> seconds;
  int64_t epochs_completed = 0;
  std::optional<double> best_val_accuracy;
  std::optional<double> test_accuracy;
};

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
};

struct ClassRow {
  int64_t label = 0;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct ConfusionRow {
  int64_t true_label = 0;
  int64_t predicted_label = 0;
  int64_t count = 0;
};

struct PublishedRow {
  std::string sweep;
  std::string architecture;
  double test_accuracy = 0;
  double required_test_accuracy = 0;
  std::string source;
};

}  // namespace lenetlab::report
