// The settings that vary across the configurations of a report ("factors"): what the page lets a
// reader choose between in the overlaid learning curves and the parallel coordinates, and what a
// comparison of two configurations differs in. Internal to report/.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/model.hpp"

namespace lenetlab::report {

/// One setting that takes more than one value across the configurations.
struct Factor {
  /// Leaf of RunConfig::to_json(): "architecture", "optimizer.name", "optimizer.learning_rate",
  /// "batch_size", "optimizer.momentum", ...
  std::string path;
  /// As shown: "architecture", "optimizer", "learning rate", "batch size", else `path`.
  std::string name;
  /// Distinct values as text (strings as they are, numbers as JSON), in numeric order when every
  /// value is a number, else in text order.
  std::vector<std::string> values;
  bool numeric = false;  ///< every value is a JSON number.
  /// of_group[g]: index into `values` of groups[g]'s value; absent for a group without a typed
  /// configuration (ConfigGroup::config).
  std::vector<std::optional<std::size_t>> of_group;
  /// Paths of other settings whose values split the configurations exactly as this one does
  /// (quickstart: optimizer.momentum with optimizer.name); they are not factors of their own.
  std::vector<std::string> confounded;
};

/// Leaves of a JSON object by path: {"optimizer": {"name": "sgd"}} -> {"optimizer.name": "sgd"}.
std::map<std::string, nlohmann::json> setting_leaves(const nlohmann::json& config);

/// The factors of `groups` (seed and the architecture's YAML text excluded), architecture,
/// optimizer, learning rate and batch size first, then the others by path. A setting whose split of
/// the configurations repeats an earlier factor's is listed in that factor's `confounded`.
std::vector<Factor> varying_factors(const std::vector<ConfigGroup>& groups);

}  // namespace lenetlab::report
