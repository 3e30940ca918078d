#include "report/factors.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

namespace lenetlab::report {

namespace {

using nlohmann::json;

void add_leaves(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) add_leaves(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}

struct Named {
  std::string_view path, name;
};
constexpr std::array<Named, 4> kFirst = {{{"architecture", "architecture"},
                                          {"optimizer.name", "optimizer"},
                                          {"optimizer.learning_rate", "learning rate"},
                                          {"batch_size", "batch size"}}};

std::size_t rank(const std::string& path) {
  for (std::size_t i = 0; i < kFirst.size(); ++i)
    if (kFirst[i].path == path) return i;
  return kFirst.size();
}

std::string shown_name(const std::string& path) {
  const std::size_t r = rank(path);
  return r < kFirst.size() ? std::string(kFirst[r].name) : path;
}

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

/// Which groups share a value, independent of the values themselves: each group's value index
/// renumbered by first appearance.
std::vector<std::optional<std::size_t>> split_of(const Factor& f) {
  std::map<std::size_t, std::size_t> renumber;
  std::vector<std::optional<std::size_t>> split;
  for (const auto& v : f.of_group)
    split.push_back(v ? std::optional(renumber.try_emplace(*v, renumber.size()).first->second)
                      : std::nullopt);
  return split;
}

/// The factor of `path` over the groups' leaves; values sorted.
Factor make_factor(const std::string& path,
                   const std::vector<std::map<std::string, json>>& per_group,
                   const std::vector<ConfigGroup>& groups) {
  Factor f{path, shown_name(path), {}, true, {}, {}};
  std::map<std::string, json> distinct;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].config) continue;
    const auto it = per_group[g].find(path);
    const json value = it == per_group[g].end() ? json(nullptr) : it->second;
    distinct.emplace(text_of(value), value);
  }
  std::vector<std::pair<std::string, json>> sorted(distinct.begin(), distinct.end());
  f.numeric =
      std::all_of(sorted.begin(), sorted.end(), [](const auto& v) { return v.second.is_number(); });
  if (f.numeric)
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second.template get<double>() < b.second.template get<double>();
    });
  for (const auto& [text, value] : sorted) f.values.push_back(text);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].config) {
      f.of_group.push_back(std::nullopt);
      continue;
    }
    const auto it = per_group[g].find(path);
    const std::string text = text_of(it == per_group[g].end() ? json(nullptr) : it->second);
    f.of_group.push_back(static_cast<std::size_t>(
        std::find(f.values.begin(), f.values.end(), text) - f.values.begin()));
  }
  return f;
}

}  // namespace

std::map<std::string, nlohmann::json> setting_leaves(const nlohmann::json& config) {
  std::map<std::string, json> leaves;
  add_leaves(config, "", leaves);
  return leaves;
}

std::vector<Factor> varying_factors(const std::vector<ConfigGroup>& groups) {
  std::vector<std::map<std::string, json>> per_group(groups.size());
  std::map<std::string, std::size_t> paths;  // path -> rank (the order of the factors)
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].config) continue;
    per_group[g] = setting_leaves(groups[g].config->to_json());
    for (const auto& [path, value] : per_group[g])
      if (path != "seed" && path != "architecture_yaml") paths.emplace(path, rank(path));
  }
  std::vector<std::pair<std::size_t, std::string>> ordered;
  for (const auto& [path, r] : paths) ordered.emplace_back(r, path);
  std::stable_sort(ordered.begin(), ordered.end());

  std::vector<Factor> factors;
  for (const auto& [r, path] : ordered) {
    Factor f = make_factor(path, per_group, groups);
    if (f.values.size() < 2) continue;
    const auto split = split_of(f);
    const auto same = std::find_if(factors.begin(), factors.end(), [&](const Factor& earlier) {
      return split_of(earlier) == split;
    });
    if (same != factors.end())
      same->confounded.push_back(path);
    else
      factors.push_back(std::move(f));
  }
  return factors;
}

}  // namespace lenetlab::report
