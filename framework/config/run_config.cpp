#include "config/run_config.hpp"

#include <xxhash.h>

#include <fmt/format.h>

namespace lenetlab {

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j;
  j["architecture"] = architecture;
  j["architecture_yaml"] = arch.yaml;
  j["dataset"] = dataset;
  j["optimizer"] = {{"name", optimizer.name},
                    {"learning_rate", optimizer.learning_rate},
                    {"momentum", optimizer.momentum},
                    {"nesterov", optimizer.nesterov},
                    {"beta_1", optimizer.beta_1},
                    {"beta_2", optimizer.beta_2},
                    {"epsilon", optimizer.epsilon},
                    {"rho", optimizer.rho},
                    {"weight_decay", optimizer.weight_decay}};
  j["epochs"] = epochs;
  j["batch_size"] = batch_size;
  j["seed"] = seed;
  j["validation_split"] = validation_split;
  j["shuffle"] = shuffle;
  j["drop_last"] = drop_last;
  j["normalize"] = {{"mean", normalize_mean}, {"std", normalize_std}};
  j["early_stopping"] = {{"enabled", early_stopping.enabled},
                         {"monitor", early_stopping.monitor},
                         {"patience", early_stopping.patience},
                         {"min_delta", early_stopping.min_delta},
                         {"mode", early_stopping.mode},
                         {"restore_best_weights", early_stopping.restore_best_weights}};
  j["train_limit"] = train_limit;
  j["test_limit"] = test_limit;
  return j;
}

std::string RunConfig::key() const {
  const std::string text = to_json().dump();
  return fmt::format("{:016x}", static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
}

std::string RunConfig::display_name() const {
  return fmt::format("{}/{} lr={:g} bs={} seed={}", architecture, optimizer.name,
                     optimizer.learning_rate, batch_size, seed);
}

}  // namespace lenetlab
