// The tables of run settings (run_settings.hpp) and what is made from them: parsing a run's chosen
// settings (sweep_detail::apply_settings), RunConfig::to_json and RunConfig::from_json.
#include "config/run_settings.hpp"

#include <fmt/format.h>

#include <array>
#include <string>
#include <type_traits>
#include <variant>

#include "config/architecture_loader.hpp"
#include "config/augment_settings.hpp"
#include "config/enum_names.hpp"
#include "config/run_config.hpp"
#include "config/sweep_builder.hpp"

namespace lenetlab {
namespace {

using nlohmann::json;
using sweep_detail::ExpandedValue;
using sweep_detail::Field;
using sweep_detail::RunBuilder;
using sweep_detail::Settings;
using yaml::Range;
using yaml::YamlReader;

constexpr const auto& table_of(OptimizerKind) { return kOptimizerKinds; }
constexpr const auto& table_of(EarlyStoppingMonitor) { return kEarlyStoppingMonitors; }
constexpr const auto& table_of(EarlyStoppingMode) { return kEarlyStoppingModes; }

/// A setting held in one member of S: parsed, written and read by type (integer with a minimum,
/// number with a range, boolean, string, or a vocabulary enum through its name table).
template <typename S>
using Member =
    std::variant<std::monostate, int S::*, uint64_t S::*, double S::*, bool S::*, std::string S::*,
                 OptimizerKind S::*, EarlyStoppingMonitor S::*, EarlyStoppingMode S::*>;

template <typename S>
struct Row {
  SettingDoc doc;
  Member<S> member{};
  int64_t min = 0;           // integers
  Range range = Range::any;  // numbers
  unsigned optimizers = 0;   // optimizer keys: one bit per OptimizerKind the key applies to
};

/// Visits the member pointer of a row that has one (a row without is skipped).
template <typename S, typename F>
void visit_member(const Row<S>& row, F&& f) {
  std::visit(
      [&](auto m) {
        if constexpr (!std::is_same_v<decltype(m), std::monostate>) f(m);
      },
      row.member);
}

template <typename S>
void parse_member(const YamlReader& r, const Row<S>& row, const YAML::Node& v, S& s) {
  const std::string_view what = row.doc.name;
  visit_member(row, [&](auto m) {
    using T = std::remove_reference_t<decltype(s.*m)>;
    if constexpr (std::is_same_v<T, int>) {
      s.*m = static_cast<int>(r.integer(v, what, row.min));
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      s.*m = r.unsigned_integer(v, what);
    } else if constexpr (std::is_same_v<T, double>) {
      s.*m = r.number(v, what, row.range);
    } else if constexpr (std::is_same_v<T, bool>) {
      s.*m = r.boolean(v, what);
    } else if constexpr (std::is_same_v<T, std::string>) {
      s.*m = r.string(v, what);
    } else {
      const auto& table = table_of(T{});
      s.*m = table[r.one_of(v, what, names_of(table))].value;
    }
  });
}

template <typename S>
void write_member(const Row<S>& row, const S& s, json& j) {
  visit_member(row, [&](auto m) {
    using T = std::remove_reference_t<decltype(s.*m)>;
    if constexpr (std::is_enum_v<T>) {
      j[std::string(row.doc.json_key)] = std::string(name_of(table_of(T{}), s.*m));
    } else {
      j[std::string(row.doc.json_key)] = s.*m;
    }
  });
}

template <typename S>
void read_member(const Row<S>& row, const json& j, S& s) {
  visit_member(row, [&](auto m) {
    using T = std::remove_reference_t<decltype(s.*m)>;
    const json& value = j.at(std::string(row.doc.json_key));
    if constexpr (std::is_enum_v<T>) {
      const std::string name = value.template get<std::string>();
      const std::optional<T> e = value_of(table_of(T{}), name);
      if (!e) throw Error(fmt::format("unknown {} '{}'", row.doc.name, name));
      s.*m = *e;
    } else {
      s.*m = value.template get<T>();
    }
  });
}

// ---- optimizer and early_stopping keys ---------------------------------------------------------

constexpr unsigned kSgd = 1u << static_cast<int>(OptimizerKind::sgd);
constexpr unsigned kAdam = 1u << static_cast<int>(OptimizerKind::adam);
constexpr unsigned kRmsprop = 1u << static_cast<int>(OptimizerKind::rmsprop);
constexpr unsigned kEvery = kSgd | kAdam | kRmsprop;

using O = OptimizerConfig;
// clang-format off
const std::array<Row<O>, 9> kOptimizerRows = {{
  {{"name", "name", "sgd | adam | rmsprop", "sgd", "the update rule (optim/optimizer.hpp)"}, &O::kind, 0, Range::any, kEvery},
  {{"learning_rate", "learning_rate", "> 0", "sgd 0.01, adam 0.001, rmsprop 0.001", "step size (Keras defaults by optimizer)"}, &O::learning_rate, 0, Range::positive, kEvery},
  {{"momentum", "momentum", "in [0, 1)", "0", "sgd, rmsprop"}, &O::momentum, 0, Range::unit_interval, kSgd | kRmsprop},
  {{"nesterov", "nesterov", "true/false; needs momentum > 0", "false", "sgd: Nesterov momentum"}, &O::nesterov, 0, Range::any, kSgd},
  {{"beta_1", "beta_1", "in [0, 1)", "0.9", "adam: decay of the first moment"}, &O::beta_1, 0, Range::unit_interval, kAdam},
  {{"beta_2", "beta_2", "in [0, 1)", "0.999", "adam: decay of the second moment"}, &O::beta_2, 0, Range::unit_interval, kAdam},
  {{"epsilon", "epsilon", "> 0", "1e-7", "adam, rmsprop: added to the denominator"}, &O::epsilon, 0, Range::positive, kAdam | kRmsprop},
  {{"rho", "rho", "in [0, 1)", "0.9", "rmsprop: decay of the squared-gradient average"}, &O::rho, 0, Range::unit_interval, kRmsprop},
  {{"weight_decay", "weight_decay", ">= 0", "0", "L2 penalty added to the gradient"}, &O::weight_decay, 0, Range::non_negative, kEvery},
}};

using E = EarlyStoppingConfig;
const std::array<Row<E>, 5> kEarlyStoppingRows = {{
  {{"monitor", "monitor", "val_loss | val_accuracy | train_loss | train_accuracy", "val_loss", "the metric watched"}, &E::monitor},
  {{"patience", "patience", "integer >= 0", "0", "epochs without improvement before stopping"}, &E::patience, 0},
  {{"min_delta", "min_delta", ">= 0", "0", "smallest change that counts as an improvement"}, &E::min_delta, 0, Range::non_negative},
  {{"mode", "mode", "min | max | auto", "auto", "auto: max for accuracy, min for loss"}, &E::mode},
  {{"restore_best_weights", "restore_best_weights", "true/false", "false", "evaluate the test set with the best epoch's weights"}, &E::restore_best_weights},
}};
// clang-format on

yaml::Names row_names(const auto& rows, unsigned optimizers = kEvery) {
  yaml::Names names;
  for (const auto& row : rows)
    if ((row.optimizers & optimizers) != 0 || row.optimizers == 0) names.push_back(row.doc.name);
  return names;
}

template <typename S, std::size_t N>
const Row<S>* find_row(const std::array<Row<S>, N>& rows, std::string_view name) {
  for (const Row<S>& row : rows)
    if (row.doc.name == name) return &row;
  return nullptr;
}

// ---- custom settings: parse, write and read ----------------------------------------------------

/// What a custom parse function may use besides the value.
struct Context {
  const YamlReader& r;
  RunBuilder& builder;
};

void parse_architecture_setting(const Context& c, const ExpandedValue& value, RunConfig& run) {
  run.architecture = c.r.string(value.node, "architecture");
  run.arch = c.builder.architecture(value.node);
}
void write_architecture(const RunConfig& run, json& j) {
  j["architecture"] = run.architecture;
  j["architecture_yaml"] = run.arch.yaml;
}
void read_architecture(const json& j, RunConfig& run, const std::string& origin) {
  run.architecture = j.at("architecture").get<std::string>();
  run.arch = parse_architecture(j.at("architecture_yaml").get<std::string>(),
                                origin + " (stored architecture '" + run.architecture + "')");
}

const yaml::Names kNormalizeKeys = {"mean", "std"};

void parse_normalize(const Context& c, const ExpandedValue& value, RunConfig& run) {
  c.r.expect_map(value.node, "normalize");
  run.normalize_mean = 0.0;
  run.normalize_std = 1.0;
  for (const Field& f : value.fields) {
    if (!yaml::contains(kNormalizeKeys, f.name))
      c.r.unknown_key(f.key, "normalize", kNormalizeKeys);
    if (f.name == "mean") run.normalize_mean = c.r.number(f.value.node, f.name, Range::any);
    if (f.name == "std") run.normalize_std = c.r.number(f.value.node, f.name, Range::positive);
  }
}
void write_normalize(const RunConfig& run, json& j) {
  j["normalize"] = {{"mean", run.normalize_mean}, {"std", run.normalize_std}};
}
void read_normalize(const json& j, RunConfig& run, const std::string&) {
  run.normalize_mean = j.at("normalize").at("mean").get<double>();
  run.normalize_std = j.at("normalize").at("std").get<double>();
}

/// `{FIRST_EPOCH: FACTOR, ...}`, e.g. {3: 0.4, 6: 0.2}: epochs increasing, factors > 0.
void parse_schedule(const Context& c, const ExpandedValue& value, RunConfig& run) {
  c.r.expect_map(value.node, "learning_rate_schedule");
  auto& steps = run.learning_rate_schedule.steps;
  steps.clear();
  for (const Field& f : value.fields) {
    const int epoch = static_cast<int>(c.r.integer(f.key, "learning_rate_schedule epoch", 1));
    if (!steps.empty() && epoch <= steps.back().first) {
      c.r.fail(f.key, fmt::format("learning_rate_schedule epochs must increase: {} comes after {}",
                                  epoch, steps.back().first));
    }
    steps.emplace_back(epoch,
                       c.r.number(f.value.node, "learning_rate_schedule factor", Range::positive));
  }
  if (steps.empty()) c.r.fail(value.node, "learning_rate_schedule is empty; write {EPOCH: FACTOR}");
}
/// Written only when set, so that runs without a schedule keep the keys they had before it existed.
void write_schedule(const RunConfig& run, json& j) {
  if (!run.learning_rate_schedule.empty())
    j["learning_rate_schedule"] = run.learning_rate_schedule.steps;
}
void read_schedule(const json& j, RunConfig& run, const std::string&) {
  if (j.contains("learning_rate_schedule")) {
    run.learning_rate_schedule.steps =
        j.at("learning_rate_schedule").get<std::vector<std::pair<int, double>>>();
  }
}

/// A mapping of kEarlyStoppingRows keys, or true (defaults) / false (off).
void parse_early_stopping(const Context& c, const ExpandedValue& value, RunConfig& run) {
  EarlyStoppingConfig& es = run.early_stopping;
  es = EarlyStoppingConfig{};
  if (value.node.IsScalar() && yaml::parse_bool(value.node.Scalar())) {
    es.enabled = *yaml::parse_bool(value.node.Scalar());
    return;
  }
  const yaml::Names keys = row_names(kEarlyStoppingRows);
  if (!value.node.IsMap()) {
    c.r.fail(value.node, fmt::format("expected a mapping ({}) or true/false for 'early_stopping', "
                                     "found {}",
                                     yaml::join(keys), yaml::describe(value.node)));
  }
  es.enabled = true;
  for (const Field& f : value.fields) {
    const Row<E>* row = find_row(kEarlyStoppingRows, f.name);
    if (row == nullptr) c.r.unknown_key(f.key, "early_stopping", keys);
    parse_member(c.r, *row, f.value.node, es);
  }
}
void write_early_stopping(const RunConfig& run, json& j) {
  json e = {{"enabled", run.early_stopping.enabled}};
  for (const Row<E>& row : kEarlyStoppingRows) write_member(row, run.early_stopping, e);
  j["early_stopping"] = std::move(e);
}
void read_early_stopping(const json& j, RunConfig& run, const std::string&) {
  const json& e = j.at("early_stopping");
  run.early_stopping.enabled = e.at("enabled").get<bool>();
  for (const Row<E>& row : kEarlyStoppingRows) read_member(row, e, run.early_stopping);
}

// ---- augment (config/augment_settings.hpp) -------------------------------------------------------

void parse_augment(const Context& c, const ExpandedValue& value, RunConfig& run) {
  run.augment = sweep_detail::parse_augment(c.r, value);
}
void write_augment(const RunConfig& run, json& j) { sweep_detail::write_augment(run.augment, j); }
void read_augment(const json& j, RunConfig& run, const std::string&) {
  run.augment = sweep_detail::read_augment(j);
}

// ---- engine and micro_batch ---------------------------------------------------------------------

/// Written only for engine 2 (with its micro_batch), so that runs of engine 1 keep their keys.
void write_engine(const RunConfig& run, json& j) {
  if (run.engine == 1) return;
  j["engine"] = run.engine;
  j["micro_batch"] = run.micro_batch;
}
void read_engine(const json& j, RunConfig& run, const std::string&) {
  run.engine = j.value("engine", 1);
  run.micro_batch = j.value("micro_batch", RunConfig{}.micro_batch);
}
void with_engine(const RunConfig&, json&) {}
void with_engine(const json&, RunConfig&, const std::string&) {}

/// The optimizer is parsed after the other settings, together with learning_rate
/// (resolve_optimizer): which of the two wins depends on the layers they come from.
void write_optimizer(const RunConfig& run, json& j) {
  json o = json::object();
  for (const Row<O>& row : kOptimizerRows) write_member(row, run.optimizer, o);
  j["optimizer"] = std::move(o);
}
void read_optimizer(const json& j, RunConfig& run, const std::string&) {
  for (const Row<O>& row : kOptimizerRows) read_member(row, j.at("optimizer"), run.optimizer);
}

/// evaluate_test: written only when false, so the runs that evaluate (all before it) keep their key.
void parse_evaluate_test(const Context& c, const ExpandedValue& value, RunConfig& run) {
  run.evaluate_test = c.r.boolean(value.node, "evaluate_test");
}
void write_evaluate_test(const RunConfig& run, json& j) {
  if (!run.evaluate_test) j["evaluate_test"] = false;
}
void read_evaluate_test(const json& j, RunConfig& run, const std::string&) {
  run.evaluate_test = j.value("evaluate_test", true);
}

// ---- the run settings ----------------------------------------------------------------------------

/// One setting of a run. Scalar settings have a member and nothing else; the others have their
/// functions (a null parse: resolved after the loop, see resolve_optimizer).
struct RunRow {
  Row<RunConfig> row;
  /// A key of base, a recipe and the grid (dataset is a top-level key of the sweep).
  bool in_settings = true;
  void (*parse)(const Context&, const ExpandedValue&, RunConfig&) = nullptr;
  void (*write)(const RunConfig&, json&) = nullptr;
  void (*read)(const json&, RunConfig&, const std::string& origin) = nullptr;
};

using R = RunConfig;
// clang-format off
const std::array<RunRow, 19> kRunRows = {{
  {{{"architecture", "architecture", "a name from experiments/architectures or a path to a .yaml file", "required", "the network"}}, true, parse_architecture_setting, write_architecture, read_architecture},
  {{{"epochs", "epochs", "integer > 0", "10", "passes over the training images"}, &R::epochs, 1}},
  {{{"batch_size", "batch_size", "integer > 0", "64", "images per training step"}, &R::batch_size, 1}},
  {{{"seed", "seed", "integer >= 0", "0", "initialisation, shuffling and the validation split"}, &R::seed}},
  {{{"validation_split", "validation_split", "in [0, 1)", "0", "fraction of the training images held out"}, &R::validation_split, 0, Range::unit_interval}},
  {{{"shuffle", "shuffle", "true/false", "true", "reshuffle the training images every epoch"}, &R::shuffle}},
  {{{"drop_last", "drop_last", "true/false", "false", "skip the last partial batch of an epoch"}, &R::drop_last}},
  {{{"normalize", "normalize", "{mean, std}, std > 0", "{mean: 0, std: 1}", "(x - mean) / std after x/255"}}, true, parse_normalize, write_normalize, read_normalize},
  {{{"optimizer", "optimizer", "sgd | adam | rmsprop, or a mapping with name and hyper-parameters", "sgd", "the update rule"}}, true, nullptr, write_optimizer, read_optimizer},
  {{{"learning_rate", "", "> 0", "by optimizer", "applies to whichever optimizer is chosen"}}},
  {{{"early_stopping", "early_stopping", "a mapping, or true/false", "off", "keras.callbacks.EarlyStopping"}}, true, parse_early_stopping, write_early_stopping, read_early_stopping},
  {{{"train_limit", "train_limit", "integer >= 0", "0", "use only the first N training images (0 = all)"}, &R::train_limit, 0}},
  {{{"test_limit", "test_limit", "integer >= 0", "0", "use only the first N test images (0 = all)"}, &R::test_limit, 0}},
  {{{"learning_rate_schedule", "learning_rate_schedule", "{FIRST_EPOCH: FACTOR, ...}", "constant", "piecewise-constant factors of the learning rate"}}, true, parse_schedule, write_schedule, read_schedule},
  {{{"augment", "augment", "{affine: {translate, scale, squeeze, shear} | true, elastic: {alpha, sigma} | true}, or false", "none", "seeded distortions of the training images (LeCun et al. 1998 sec. III-B; Simard et al. 2003 sec. 2)"}}, true, parse_augment, write_augment, read_augment},
  {{{"evaluate_test", "evaluate_test", "true/false", "true", "evaluate the test set after training (false: a tuning run, no test metrics; sweeps/README.md \"Protocol\")"}}, true, parse_evaluate_test, write_evaluate_test, read_evaluate_test},
  {{{"engine", "engine", "1 | 2", "1", "2: micro-batches, the same results for any thread count (framework/nn/micro_batch.hpp)"}, &R::engine, 1}, true, nullptr, write_engine, read_engine},
  {{{"micro_batch", "micro_batch", "integer > 0; engine 2 only", "32", "engine 2: images per micro-batch"}, &R::micro_batch, 1}, true, nullptr, with_engine, with_engine},
  {{{"dataset", "dataset", "mnist | fashion-mnist | csv:TRAIN.csv,TEST.csv", "mnist", "top-level key of the sweep"}, &R::dataset}, false},
}};
// clang-format on

const RunRow* find_run_row(std::string_view name) {
  for (const RunRow& row : kRunRows)
    if (row.row.doc.name == name) return &row;
  return nullptr;
}

std::vector<SettingDoc> docs_of(const auto& rows) {
  std::vector<SettingDoc> docs;
  for (const auto& row : rows) docs.push_back(row.doc);
  return docs;
}

/// Keras defaults (keras.io/api/optimizers): SGD 0.01, Adam 0.001, RMSprop 0.001.
double default_learning_rate(OptimizerKind kind) {
  return kind == OptimizerKind::sgd ? 0.01 : 0.001;
}

/// An optimizer name ("unknown optimizer 'x'; valid choices: ..." otherwise).
OptimizerKind parse_optimizer_kind(const YamlReader& r, const YAML::Node& v) {
  return kOptimizerKinds[r.one_of(v, "optimizer", names_of(kOptimizerKinds))].value;
}

/// The optimizer mapping `value` (its `name` decides which keys apply); returns the node of its
/// own learning_rate, if any.
std::optional<YAML::Node> parse_optimizer_mapping(const YamlReader& r, const ExpandedValue& value,
                                                  OptimizerConfig& opt) {
  const Field* name = nullptr;
  for (const Field& f : value.fields)
    if (f.name == "name") name = &f;
  if (name == nullptr) {
    r.fail(value.node, fmt::format("an optimizer mapping needs 'name' ({})",
                                   yaml::join(names_of(kOptimizerKinds))));
  }
  opt.kind = parse_optimizer_kind(r, name->value.node);
  const std::string_view kind = to_string(opt.kind);
  const yaml::Names valid = row_names(kOptimizerRows, 1u << static_cast<int>(opt.kind));
  std::optional<YAML::Node> own_lr, nesterov;
  for (const Field& f : value.fields) {
    const Row<O>* row = find_row(kOptimizerRows, f.name);
    if (!yaml::contains(valid, f.name)) {
      if (row != nullptr) {
        r.fail(f.key, fmt::format("'{}' does not apply to {}; valid keys for {}: {}", f.name, kind,
                                  kind, yaml::join(valid)));
      }
      r.unknown_key(f.key, "optimizer", valid);
    }
    parse_member(r, *row, f.value.node, opt);
    if (f.name == "learning_rate") own_lr.emplace(f.value.node);
    if (f.name == "nesterov") nesterov.emplace(f.value.node);
  }
  if (opt.nesterov && opt.momentum <= 0.0) r.fail(*nesterov, "nesterov needs momentum > 0");
  return own_lr;
}

/// optimizer (name or mapping; a later layer replaces it wholesale) + learning_rate (applies to
/// whichever optimizer is chosen, unless the optimizer mapping of a higher layer sets its own).
void resolve_optimizer(const YamlReader& r, const Settings& settings, OptimizerConfig& opt) {
  opt = OptimizerConfig{};
  const auto o = settings.find("optimizer");
  const auto lr = settings.find("learning_rate");
  std::optional<YAML::Node> own_lr;
  if (o != settings.end()) {
    const ExpandedValue& value = *o->second.value;
    if (value.node.IsMap()) {
      own_lr = parse_optimizer_mapping(r, value, opt);
    } else {
      opt.kind = parse_optimizer_kind(r, value.node);
    }
  }
  if (!own_lr) opt.learning_rate = default_learning_rate(opt.kind);
  if (lr != settings.end()) {
    const double value = r.number(lr->second.value->node, "learning_rate", Range::positive);
    if (own_lr && lr->second.layer == o->second.layer) {
      r.fail(*lr->second.key,
             "'learning_rate' is given both here and inside 'optimizer' at the same level; keep "
             "one");
    }
    if (!own_lr || lr->second.layer > o->second.layer) opt.learning_rate = value;
  }
}

/// Monitoring a val_* metric needs a validation split.
void check_monitor(const YamlReader& r, const Settings& settings, const RunConfig& run) {
  const EarlyStoppingConfig& es = run.early_stopping;
  if (!es.enabled || !es.monitors_validation() || run.validation_split > 0.0) return;
  const ExpandedValue& value = *settings.find("early_stopping")->second.value;
  const YAML::Node* blame = &value.node;
  for (const Field& f : value.fields)
    if (f.name == "monitor") blame = &f.value.node;
  r.fail(*blame, fmt::format("early_stopping monitors '{}' but validation_split is 0 for this run; "
                             "set validation_split > 0 or monitor train_loss/train_accuracy",
                             to_string(es.monitor)));
}

/// engine is 1 or 2; micro_batch applies to engine 2.
void check_engine(const YamlReader& r, const Settings& settings, const RunConfig& run) {
  if (const auto e = settings.find("engine"); e != settings.end() && run.engine > 2)
    r.fail(e->second.value->node, fmt::format("engine must be 1 or 2, got {}", run.engine));
  if (const auto m = settings.find("micro_batch"); m != settings.end() && run.engine != 2)
    r.fail(m->second.value->node, "micro_batch applies to engine 2; set engine: 2");
}

}  // namespace

std::vector<SettingDoc> run_setting_docs() {
  std::vector<SettingDoc> docs;
  for (const RunRow& row : kRunRows)
    if (row.in_settings) docs.push_back(row.row.doc);
  return docs;
}
std::vector<SettingDoc> optimizer_setting_docs() { return docs_of(kOptimizerRows); }
std::vector<SettingDoc> early_stopping_setting_docs() { return docs_of(kEarlyStoppingRows); }

namespace sweep_detail {

const yaml::Names& setting_keys() {
  static const yaml::Names keys = [] {
    yaml::Names names;
    for (const RunRow& row : kRunRows)
      if (row.in_settings) names.push_back(row.row.doc.name);
    return names;
  }();
  return keys;
}

void apply_settings(const YamlReader& r, RunBuilder& builder, const Settings& settings,
                    RunConfig& run) {
  const Context context{r, builder};
  for (const auto& [name, chosen] : settings) {
    const RunRow& row = *find_run_row(name);  // keys were checked against setting_keys()
    if (row.parse != nullptr) {
      row.parse(context, *chosen.value, run);
    } else {
      parse_member(r, row.row, chosen.value->node, run);
    }
  }
  if (run.architecture.empty()) {
    r.fail(builder.root(),
           "no architecture for this run; set 'architecture' in base, a recipe or the grid");
  }
  resolve_optimizer(r, settings, run.optimizer);
  check_monitor(r, settings, run);
  check_engine(r, settings, run);
}

}  // namespace sweep_detail

nlohmann::json RunConfig::to_json() const {
  json j;
  for (const RunRow& row : kRunRows) {
    if (row.write != nullptr) {
      row.write(*this, j);
    } else {
      write_member(row.row, *this, j);
    }
  }
  return j;
}

RunConfig RunConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  RunConfig c;
  try {
    for (const RunRow& row : kRunRows) {
      if (row.read != nullptr) {
        row.read(j, c, origin);
      } else {
        read_member(row.row, j, c);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(SourceMark{origin, 0, 0}, std::string("stored configuration: ") + e.what());
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw ConfigError(SourceMark{origin, 0, 0}, std::string("stored configuration: ") + e.what());
  }
  return c;
}

}  // namespace lenetlab
