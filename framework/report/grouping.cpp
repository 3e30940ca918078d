// Configurations: runs grouped by their settings apart from the seed, the statistics over each
// group's seeds, and the settings that set a group apart (report/model.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "report/factors.hpp"
#include "report/model.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

/// The settings of `config` that the leaderboard does not show in columns of their own: the
/// configuration with those members (and the seed) reset, as flattened to_json() leaves.
std::map<std::string, json> other_leaves(const std::optional<RunConfig>& config) {
  if (!config) return {};
  RunConfig rest = *config;
  rest.seed = 0;
  rest.architecture.clear();
  rest.arch = ArchSpec{};
  rest.optimizer.kind = OptimizerKind{};
  rest.optimizer.learning_rate = 0;
  rest.batch_size = 0;
  return setting_leaves(rest.to_json());
}

std::string value_text(const std::map<std::string, json>& leaves, const std::string& path) {
  const auto it = leaves.find(path);
  return it == leaves.end()       ? std::string("(absent)")
         : it->second.is_string() ? it->second.get<std::string>()
                                  : it->second.dump();
}

/// For every group, the settings whose value differs from the most common one among the groups
/// (groups without a typed configuration take no part).
void set_other_settings(std::vector<ConfigGroup>& groups) {
  std::vector<std::map<std::string, json>> leaves;
  std::set<std::string> paths;
  for (const ConfigGroup& g : groups) {
    leaves.push_back(other_leaves(g.config));
    for (const auto& [path, value] : leaves.back()) paths.insert(path);
  }
  std::map<std::string, std::string> usual;  // path -> most common value, for varying paths only
  for (const auto& path : paths) {
    std::map<std::string, size_t> counts;
    for (size_t i = 0; i < groups.size(); ++i)
      if (groups[i].config) ++counts[value_text(leaves[i], path)];
    if (counts.size() < 2) continue;
    usual[path] = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
                    return a.second < b.second;
                  })->first;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (!groups[i].config) continue;
    for (const auto& [path, common] : usual) {
      std::string value = value_text(leaves[i], path);
      if (value != common) groups[i].other_settings.push_back({path, std::move(value)});
    }
  }
}

void summarize_group(ConfigGroup& g, const std::vector<RunRow>& runs) {
  std::vector<double> best_vals, seconds;
  std::optional<int64_t> images;  // test images of every run with a result, when all agree
  bool same_images = true;
  double epochs = 0;
  for (const size_t i : g.runs) {
    const RunRow& r = runs[i];
    if (r.test_accuracy) {
      g.test_accuracies.push_back(*r.test_accuracy);
      same_images = same_images && r.test_images && (!images || *images == *r.test_images);
      images = r.test_images;
    }
    if (r.best_val_accuracy) best_vals.push_back(*r.best_val_accuracy);
    if (r.seconds) seconds.push_back(*r.seconds);
    if (!g.parameters && r.parameters) g.parameters = r.parameters;
    if (!g.macs_per_image && r.macs_per_image) g.macs_per_image = r.macs_per_image;
    epochs += static_cast<double>(r.epochs_completed);
  }
  g.test = stats::summarize(g.test_accuracies);
  g.test_interval = accuracy_interval(g.test_accuracies, same_images ? images : std::nullopt);
  if (g.test.ci_half_width)
    g.t_quantile = stats::student_t_quantile(0.975, static_cast<double>(g.test.n - 1));
  if (!best_vals.empty()) g.best_val_mean = stats::mean(best_vals);
  if (!seconds.empty()) g.seconds_mean = stats::mean(seconds);
  g.epochs_mean = epochs / static_cast<double>(g.runs.size());
  std::vector<const RunRow*> members;
  for (const size_t i : g.runs) members.push_back(&runs[i]);
  g.statuses = count_statuses(members);
}

}  // namespace

stats::BoundedInterval accuracy_interval(std::span<const double> values,
                                         std::optional<int64_t> trials) {
  try {
    return stats::bounded_mean_interval(values, trials);
  } catch (const std::domain_error&) {
    stats::BoundedInterval none;
    none.n = values.size();
    none.mean = stats::mean(values);
    return none;
  }
}

ConfigIdentity configuration_identity(const std::string& config_json) {
  const json stored = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (stored.is_object()) {
    try {
      RunConfig config = RunConfig::from_json(stored, "stored configuration");
      if (config.to_json() == stored) {
        config.seed = 0;
        std::string key = config.to_json().dump();
        return ConfigIdentity{std::move(key), std::move(config)};
      }
    } catch (const std::exception&) {
      // Not a complete stored configuration (ConfigError, or a YAML or JSON error): grouped by
      // its text below.
    }
  }
  return ConfigIdentity{config_json, std::nullopt};
}

std::vector<ConfigGroup> group_runs(const std::vector<RunRow>& runs) {
  std::map<std::string, size_t> by_key;  // key -> index in groups (first-appearance order)
  std::vector<ConfigGroup> groups;
  for (size_t i = 0; i < runs.size(); ++i) {
    ConfigIdentity identity = configuration_identity(runs[i].config_json);
    const auto [it, inserted] = by_key.try_emplace(std::move(identity.key), groups.size());
    if (inserted) {
      groups.emplace_back();
      groups.back().config = std::move(identity.config);
    }
    groups[it->second].runs.push_back(i);
  }
  for (ConfigGroup& g : groups) summarize_group(g, runs);

  // Best mean test accuracy first; configurations without any test accuracy last.
  std::stable_sort(groups.begin(), groups.end(), [](const ConfigGroup& a, const ConfigGroup& b) {
    const bool ha = a.test.n > 0, hb = b.test.n > 0;
    if (ha != hb) return ha;
    return ha && a.test.mean > b.test.mean;
  });
  for (size_t i = 0; i < groups.size(); ++i) {
    ConfigGroup& g = groups[i];
    g.id = fmt::format("C{}", i + 1);
    const RunRow& r = runs[g.runs.front()];
    g.label = fmt::format("{} {}/{} lr={:g} bs={}", g.id, r.architecture, r.optimizer,
                          r.learning_rate, r.batch_size);
  }
  set_other_settings(groups);
  return groups;
}

}  // namespace lenetlab::report
