#include "config/sweep_builder.hpp"

#include <fmt/format.h>

#include "config/architecture_loader.hpp"
#include "config/search_path.hpp"

namespace lenetlab::sweep_detail {

namespace fs = std::filesystem;
using namespace yaml;

const Names kSettingKeys = {"architecture",     "epochs",
                            "batch_size",       "seed",
                            "validation_split", "shuffle",
                            "drop_last",        "normalize",
                            "optimizer",        "learning_rate",
                            "early_stopping",   "train_limit",
                            "test_limit",       "learning_rate_schedule"};
const Names kNormalizeKeys = {"mean", "std"};
const Names kEarlyStoppingKeys = {"monitor", "patience", "min_delta", "mode",
                                  "restore_best_weights"};
const Names kMonitors = {"val_loss", "val_accuracy", "train_loss", "train_accuracy"};
const Names kModes = {"min", "max", "auto"};
const Names kOptimizers = {"sgd", "adam", "rmsprop"};
/// Keys valid in an optimizer mapping, per optimizer (index as kOptimizers).
const Names kOptimizerKeys[] = {
    {"name", "learning_rate", "momentum", "nesterov", "weight_decay"},
    {"name", "learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"},
    {"name", "learning_rate", "rho", "momentum", "epsilon", "weight_decay"},
};
/// Keras defaults (keras.io/api/optimizers): SGD 0.01, Adam 0.001, RMSprop 0.001.
const double kDefaultLearningRate[] = {0.01, 0.001, 0.001};
const Names kAllOptimizerKeys = {"name",   "learning_rate", "momentum", "nesterov",    "beta_1",
                                 "beta_2", "epsilon",       "rho",      "weight_decay"};

RunConfig RunBuilder::build(const Settings& settings) {
  RunConfig run;
  run.dataset = dataset_;
  std::optional<YAML::Node> monitor_node, early_node;
  for (const auto& [name, chosen] : settings) {
    const YAML::Node& v = chosen.value->node;
    if (name == "architecture") {
      run.architecture = r_.string(v, name);
      run.arch = architecture(v);
    } else if (name == "epochs") {
      run.epochs = static_cast<int>(r_.integer(v, name, 1));
    } else if (name == "batch_size") {
      run.batch_size = static_cast<int>(r_.integer(v, name, 1));
    } else if (name == "seed") {
      run.seed = r_.unsigned_integer(v, name);
    } else if (name == "validation_split") {
      run.validation_split = r_.number(v, name, Range::unit_interval);
    } else if (name == "shuffle") {
      run.shuffle = r_.boolean(v, name);
    } else if (name == "drop_last") {
      run.drop_last = r_.boolean(v, name);
    } else if (name == "train_limit") {
      run.train_limit = static_cast<int>(r_.integer(v, name, 0));
    } else if (name == "test_limit") {
      run.test_limit = static_cast<int>(r_.integer(v, name, 0));
    } else if (name == "normalize") {
      parse_normalize(*chosen.value, run);
    } else if (name == "learning_rate_schedule") {
      parse_schedule(*chosen.value, run);
    } else if (name == "early_stopping") {
      early_node.emplace(v);
      parse_early_stopping(*chosen.value, run.early_stopping, monitor_node);
    }
  }
  if (run.architecture.empty()) {
    r_.fail(root_,
            "no architecture for this run; set 'architecture' in base, a recipe or the grid");
  }
  resolve_optimizer(settings, run.optimizer);
  if (run.early_stopping.enabled && run.early_stopping.monitor.rfind("val_", 0) == 0 &&
      run.validation_split <= 0.0) {
    r_.fail(monitor_node ? *monitor_node : *early_node,
            fmt::format("early_stopping monitors '{}' but validation_split is 0 for this run; set "
                        "validation_split > 0 or monitor train_loss/train_accuracy",
                        run.early_stopping.monitor));
  }
  return run;
}

const ArchSpec& RunBuilder::architecture(const YAML::Node& v) {
  const std::string& name = v.Scalar();
  const auto cached = cache_.find(name);
  if (cached != cache_.end()) return cached->second;
  if (name.empty()) r_.fail(v, "empty architecture name");
  std::string target = name;
  if (looks_like_path(name)) {
    const fs::path path(name);
    if (path.is_relative()) target = (sweep_dir_ / path).string();
  }
  ArchSpec arch = load_architecture(find_architecture(target, r_.at(v)));
  return cache_.emplace(name, std::move(arch)).first->second;
}

void RunBuilder::parse_normalize(const Value& value, RunConfig& run) const {
  r_.expect_map(value.node, "normalize");
  run.normalize_mean = 0.0;
  run.normalize_std = 1.0;
  for (const Field& f : value.fields) {
    if (!contains(kNormalizeKeys, f.name)) r_.unknown_key(f.key, "normalize", kNormalizeKeys);
    if (f.name == "mean") run.normalize_mean = r_.number(f.value.node, f.name, Range::any);
    if (f.name == "std") run.normalize_std = r_.number(f.value.node, f.name, Range::positive);
  }
}

/// `{FIRST_EPOCH: FACTOR, ...}`, e.g. {3: 0.4, 6: 0.2}: epochs increasing, factors > 0.
void RunBuilder::parse_schedule(const Value& value, RunConfig& run) const {
  r_.expect_map(value.node, "learning_rate_schedule");
  auto& steps = run.learning_rate_schedule.steps;
  steps.clear();
  for (const Field& f : value.fields) {
    const int epoch = static_cast<int>(r_.integer(f.key, "learning_rate_schedule epoch", 1));
    if (!steps.empty() && epoch <= steps.back().first) {
      r_.fail(f.key, fmt::format("learning_rate_schedule epochs must increase: {} comes after {}",
                                 epoch, steps.back().first));
    }
    steps.emplace_back(epoch,
                       r_.number(f.value.node, "learning_rate_schedule factor", Range::positive));
  }
  if (steps.empty()) r_.fail(value.node, "learning_rate_schedule is empty; write {EPOCH: FACTOR}");
}

void RunBuilder::parse_early_stopping(const Value& value, EarlyStoppingConfig& es,
                                      std::optional<YAML::Node>& monitor_node) const {
  es = EarlyStoppingConfig{};
  if (value.node.IsScalar() && parse_bool(value.node.Scalar())) {
    es.enabled = *parse_bool(value.node.Scalar());
    return;
  }
  if (!value.node.IsMap()) {
    r_.fail(value.node, fmt::format("expected a mapping ({}) or true/false for 'early_stopping', "
                                    "found {}",
                                    join(kEarlyStoppingKeys), describe(value.node)));
  }
  es.enabled = true;
  for (const Field& f : value.fields) {
    const YAML::Node& v = f.value.node;
    if (!contains(kEarlyStoppingKeys, f.name)) {
      r_.unknown_key(f.key, "early_stopping", kEarlyStoppingKeys);
    }
    if (f.name == "monitor") {
      es.monitor = kMonitors[r_.one_of(v, "monitor", kMonitors)];
      monitor_node.emplace(v);
    } else if (f.name == "patience") {
      es.patience = static_cast<int>(r_.integer(v, f.name, 0));
    } else if (f.name == "min_delta") {
      es.min_delta = r_.number(v, f.name, Range::non_negative);
    } else if (f.name == "mode") {
      es.mode = kModes[r_.one_of(v, "mode", kModes)];
    } else if (f.name == "restore_best_weights") {
      es.restore_best_weights = r_.boolean(v, f.name);
    }
  }
}

/// optimizer (name or mapping; a later layer replaces it wholesale) + learning_rate (applies to
/// whichever optimizer is chosen, unless the optimizer mapping of a higher layer sets its own).
void RunBuilder::resolve_optimizer(const Settings& settings, OptimizerConfig& opt) const {
  opt = OptimizerConfig{};
  const auto o = settings.find("optimizer");
  const auto lr = settings.find("learning_rate");
  std::size_t index = 0;  // sgd
  std::optional<YAML::Node> own_lr, nesterov;
  if (o != settings.end()) {
    const Value& value = *o->second.value;
    if (value.node.IsMap()) {
      const Field* name = nullptr;
      for (const Field& f : value.fields) {
        if (f.name == "name") name = &f;
      }
      if (name == nullptr) {
        r_.fail(value.node,
                fmt::format("an optimizer mapping needs 'name' ({})", join(kOptimizers)));
      }
      index = r_.one_of(name->value.node, "optimizer", kOptimizers);
      opt.name = kOptimizers[index];
      const Names& valid = kOptimizerKeys[index];
      for (const Field& f : value.fields) {
        const YAML::Node& v = f.value.node;
        if (!contains(valid, f.name)) {
          if (contains(kAllOptimizerKeys, f.name)) {
            r_.fail(f.key, fmt::format("'{}' does not apply to {}; valid keys for {}: {}", f.name,
                                       opt.name, opt.name, join(valid)));
          }
          r_.unknown_key(f.key, "optimizer", valid);
        }
        if (f.name == "learning_rate") {
          opt.learning_rate = r_.number(v, f.name, Range::positive);
          own_lr.emplace(v);
        } else if (f.name == "momentum") {
          opt.momentum = r_.number(v, f.name, Range::unit_interval);
        } else if (f.name == "nesterov") {
          opt.nesterov = r_.boolean(v, f.name);
          nesterov.emplace(v);
        } else if (f.name == "beta_1") {
          opt.beta_1 = r_.number(v, f.name, Range::unit_interval);
        } else if (f.name == "beta_2") {
          opt.beta_2 = r_.number(v, f.name, Range::unit_interval);
        } else if (f.name == "epsilon") {
          opt.epsilon = r_.number(v, f.name, Range::positive);
        } else if (f.name == "rho") {
          opt.rho = r_.number(v, f.name, Range::unit_interval);
        } else if (f.name == "weight_decay") {
          opt.weight_decay = r_.number(v, f.name, Range::non_negative);
        }
      }
    } else {
      index = r_.one_of(value.node, "optimizer", kOptimizers);
      opt.name = kOptimizers[index];
    }
  }
  if (!own_lr) opt.learning_rate = kDefaultLearningRate[index];
  if (lr != settings.end()) {
    const YAML::Node& v = lr->second.value->node;
    const double value = r_.number(v, "learning_rate", Range::positive);
    if (own_lr && lr->second.layer == o->second.layer) {
      r_.fail(*lr->second.key,
              "'learning_rate' is given both here and inside 'optimizer' at the "
              "same level; keep one");
    }
    if (!own_lr || lr->second.layer > o->second.layer) opt.learning_rate = value;
  }
  if (opt.nesterov && opt.momentum <= 0.0) {
    r_.fail(*nesterov, "nesterov needs momentum > 0");
  }
}

}  // namespace lenetlab::sweep_detail
