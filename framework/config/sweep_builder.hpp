// Internal to the sweep loader: builds one run's RunConfig from the settings chosen for it
// (sweeps/README.md "Settings" and "How a sweep expands").
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>

#include "config/run_config.hpp"
#include "config/sweep_values.hpp"

namespace lenetlab::sweep_detail {

/// Keys valid in base, a recipe and the grid.
extern const yaml::Names kSettingKeys;

/// A setting chosen for one run, with its precedence layer (0 base, 1 recipe, 2 grid).
/// Holds pointers: YAML::Node's operator= would rebind the document's nodes.
struct Chosen {
  const YAML::Node* key;
  const Value* value;
  int layer;
};
using Settings = std::map<std::string, Chosen, std::less<>>;

/// Builds the runs of one sweep; each distinct architecture is loaded once.
class RunBuilder {
 public:
  /// `root`: the sweep's top-level node (for errors that concern the whole run);
  /// `sweep_dir`: relative architecture paths are resolved against it.
  RunBuilder(const yaml::YamlReader& reader, const YAML::Node& root,
             std::filesystem::path sweep_dir, std::string dataset)
      : r_(reader), root_(root), sweep_dir_(std::move(sweep_dir)), dataset_(std::move(dataset)) {}

  /// The run made of `settings`; ConfigError at the offending value.
  RunConfig build(const Settings& settings);

 private:
  const ArchSpec& architecture(const YAML::Node& v);
  void parse_normalize(const Value& value, RunConfig& run) const;
  void parse_schedule(const Value& value, RunConfig& run) const;
  void parse_early_stopping(const Value& value, EarlyStoppingConfig& es,
                            std::optional<YAML::Node>& monitor_node) const;
  void resolve_optimizer(const Settings& settings, OptimizerConfig& opt) const;

  const yaml::YamlReader& r_;
  YAML::Node root_;
  std::filesystem::path sweep_dir_;
  std::string dataset_;
  std::unordered_map<std::string, ArchSpec> cache_;  // by the name as written
};

}  // namespace lenetlab::sweep_detail
