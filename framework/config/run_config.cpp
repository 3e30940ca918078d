#include "config/run_config.hpp"

#include <xxhash.h>

#include <fmt/format.h>

#include "config/architecture_loader.hpp"

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
  // Only when set, so that runs without a schedule keep the keys they had before it existed.
  if (!learning_rate_schedule.empty()) j["learning_rate_schedule"] = learning_rate_schedule.steps;
  return j;
}

RunConfig RunConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  RunConfig c;
  try {
    c.architecture = j.at("architecture").get<std::string>();
    c.arch = parse_architecture(j.at("architecture_yaml").get<std::string>(),
                                origin + " (stored architecture '" + c.architecture + "')");
    c.dataset = j.at("dataset").get<std::string>();
    const auto& o = j.at("optimizer");
    c.optimizer.name = o.at("name").get<std::string>();
    c.optimizer.learning_rate = o.at("learning_rate").get<double>();
    c.optimizer.momentum = o.at("momentum").get<double>();
    c.optimizer.nesterov = o.at("nesterov").get<bool>();
    c.optimizer.beta_1 = o.at("beta_1").get<double>();
    c.optimizer.beta_2 = o.at("beta_2").get<double>();
    c.optimizer.epsilon = o.at("epsilon").get<double>();
    c.optimizer.rho = o.at("rho").get<double>();
    c.optimizer.weight_decay = o.at("weight_decay").get<double>();
    c.epochs = j.at("epochs").get<int>();
    c.batch_size = j.at("batch_size").get<int>();
    c.seed = j.at("seed").get<uint64_t>();
    c.validation_split = j.at("validation_split").get<double>();
    c.shuffle = j.at("shuffle").get<bool>();
    c.drop_last = j.at("drop_last").get<bool>();
    c.normalize_mean = j.at("normalize").at("mean").get<double>();
    c.normalize_std = j.at("normalize").at("std").get<double>();
    const auto& e = j.at("early_stopping");
    c.early_stopping.enabled = e.at("enabled").get<bool>();
    c.early_stopping.monitor = e.at("monitor").get<std::string>();
    c.early_stopping.patience = e.at("patience").get<int>();
    c.early_stopping.min_delta = e.at("min_delta").get<double>();
    c.early_stopping.mode = e.at("mode").get<std::string>();
    c.early_stopping.restore_best_weights = e.at("restore_best_weights").get<bool>();
    c.train_limit = j.at("train_limit").get<int>();
    c.test_limit = j.at("test_limit").get<int>();
    if (j.contains("learning_rate_schedule")) {
      c.learning_rate_schedule.steps =
          j.at("learning_rate_schedule").get<std::vector<std::pair<int, double>>>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(SourceMark{origin, 0, 0}, std::string("stored configuration: ") + e.what());
  }
  return c;
}

std::string RunConfig::key() const {
  const std::string text = to_json().dump();
  return fmt::format("{:016x}",
                     static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
}

std::string RunConfig::display_name() const {
  return fmt::format("{}/{} lr={:g} bs={} seed={}", architecture, optimizer.name,
                     optimizer.learning_rate, batch_size, seed);
}

}  // namespace lenetlab
