// Internal to the sweep loader: builds one run's RunConfig from the settings chosen for it
// (sweeps/README.md "Settings" and "How a sweep expands"; the settings are described in
// config/run_settings.cpp).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>

#include "config/run_config.hpp"
#include "config/sweep_values.hpp"

namespace lenetlab::sweep_detail {

/// A setting chosen for one run, with its precedence layer (0 base, 1 recipe, 2 grid).
/// Holds pointers: YAML::Node's operator= would rebind the document's nodes.
struct Chosen {
  const YAML::Node* key;
  const ExpandedValue* value;
  int layer;
};
using Settings = std::map<std::string, Chosen, std::less<>>;

/// Keys valid in base, a recipe and the grid (run_settings.cpp), in table order.
const yaml::Names& setting_keys();

class RunBuilder;
/// Parses the settings chosen for one run into `run` (every key is one of setting_keys()):
/// each setting by its row, then the optimizer with learning_rate (their precedence depends on
/// the layers they come from), then the checks between settings. ConfigError at the value.
void apply_settings(const yaml::YamlReader& r, RunBuilder& builder, const Settings& settings,
                    RunConfig& run);

/// Builds the runs of one sweep; each distinct architecture is loaded once.
class RunBuilder {
 public:
  /// `root`: the sweep's top-level node (for errors that concern the whole run);
  /// `sweep_dir`: relative architecture paths are resolved against it.
  RunBuilder(const yaml::YamlReader& reader, const YAML::Node& root,
             std::filesystem::path sweep_dir, std::string dataset)
      : r_(reader), root_(root), sweep_dir_(std::move(sweep_dir)), dataset_(std::move(dataset)) {}

  /// The run made of `settings`; ConfigError at the offending value.
  RunConfig build(const Settings& settings) {
    RunConfig run;
    run.dataset = dataset_;
    apply_settings(r_, *this, settings, run);
    return run;
  }

  /// The architecture named by the scalar `v` (a name on the search path, or a path relative to
  /// the sweep file), loaded once per name.
  const ArchSpec& architecture(const YAML::Node& v);
  const YAML::Node& root() const { return root_; }

 private:
  const yaml::YamlReader& r_;
  YAML::Node root_;
  std::filesystem::path sweep_dir_;
  std::string dataset_;
  std::unordered_map<std::string, ArchSpec> cache_;  // by the name as written
};

}  // namespace lenetlab::sweep_detail
