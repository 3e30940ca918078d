// The search section's charts (report/charts.hpp): a protocol's selection (the validation metric of
// each stage-1 run against each tuned setting, per group of `per`) and successive halving's rungs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report/charts.hpp"
#include "report/factors.hpp"
#include "report/resources/chart_rungs.hpp"
#include "report/resources/chart_selection.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

/// The settings the groups of `record` are split by ("architecture", "optimizer"), read from its
/// selections' group names ("optimizer=adam"; sweep/halving.hpp group_of).
std::vector<std::string> per_settings(const SearchRecord& record) {
  std::vector<std::string> per;
  if (record.selections.empty()) return per;
  const std::string& group = record.selections.front().group;
  for (std::size_t at = 0; at < group.size();) {
    const std::size_t end = std::min(group.find(' ', at), group.size());
    const std::string token = group.substr(at, end - at);
    per.push_back(token.substr(0, token.find('=')));
    at = end + 1;
  }
  return per;
}

/// The group of a stage-1 run, as its selection names it ("" without per).
std::string group_of_run(const RunRow& run, const std::vector<std::string>& per) {
  std::string group;
  for (const std::string& setting : per)
    group += fmt::format("{}{}={}", group.empty() ? "" : " ", setting,
                         setting == "architecture" ? run.architecture : run.optimizer);
  return group;
}

/// A selection metric (sweep/protocol.hpp: val_accuracy or val_loss) as an axis shows it.
struct Metric {
  std::string name, unit, format;
};

Metric metric_axis(const std::string& metric) {
  if (metric == "val_loss") return {"validation loss", "cross-entropy, nats", ".3f"};
  return {"validation accuracy", "%", ".1%"};
}

/// Panel width (px) for `panels` panels side by side.
int panel_width(std::size_t panels) {
  return std::clamp(660 / static_cast<int>(std::max<std::size_t>(panels, 1)) - 24, 170, 480);
}

std::string value_text(const json& value) {
  return value.is_number() ? fmt::format("{:.4g}", value.get<double>()) : value.dump();
}

/// The leaves of a tuning run's configuration (empty when config_json is not JSON).
std::map<std::string, json> leaves_of(const RunRow& run) {
  const json config = json::parse(run.config_json, nullptr, false);
  return config.is_discarded() ? std::map<std::string, json>{} : setting_leaves(config);
}

/// Stage-1 runs in the order of their groups, with each one's group and leaves.
struct Candidates {
  std::vector<std::string> groups;  ///< selections' groups first (by name), then any other
  std::vector<std::string> group;   ///< of tuning[i]
  std::vector<std::map<std::string, json>> leaves;
  std::vector<bool> selected;  ///< tuning[i] is a run of its group's selected setting
};

Candidates candidates_of(const SearchRecord& record) {
  const std::vector<std::string> per = per_settings(record);
  Candidates c;
  std::set<std::string> chosen;  // configuration identities of the selected settings
  for (const SelectionRow& s : record.selections) {
    c.groups.push_back(s.group);
    for (const TuningRun& t : record.tuning)
      if (t.run.key == s.run_key) chosen.insert(configuration_identity(t.run.config_json).key);
  }
  for (const TuningRun& t : record.tuning) {
    c.group.push_back(group_of_run(t.run, per));
    if (std::find(c.groups.begin(), c.groups.end(), c.group.back()) == c.groups.end())
      c.groups.push_back(c.group.back());
    c.leaves.push_back(leaves_of(t.run));
    c.selected.push_back(chosen.count(configuration_identity(t.run.config_json).key) > 0);
  }
  return c;
}

/// The selection chart of one tuned setting.
json selection_spec(const SearchRecord& record, const Candidates& c, const TunedSetting& setting) {
  json points = json::array();
  for (std::size_t i = 0; i < record.tuning.size(); ++i) {
    const TuningRun& t = record.tuning[i];
    const auto leaf = c.leaves[i].find(setting.path);
    if (!t.metric || !std::isfinite(*t.metric) || leaf == c.leaves[i].end() ||
        !leaf->second.is_number())
      continue;
    const double x = leaf->second.get<double>();
    if (setting.log && x <= 0) continue;
    const bool pruned = t.run.status == RunStatus::pruned;
    points.push_back({{"group", c.group[i].empty() ? "all runs" : c.group[i]},
                      {"x", x},
                      {"value", *t.metric},
                      {"epochs", t.last_epoch},
                      {"fate", c.selected[i] ? "selected"
                               : pruned      ? "pruned"
                                             : "full budget"},
                      {"selected", static_cast<bool>(c.selected[i])},
                      {"run", t.run.name},
                      {"seed", t.run.seed},
                      {"label", value_text(leaf->second)}});
  }
  json groups = json::array();
  for (const std::string& g : c.groups) groups.push_back(g.empty() ? "all runs" : g);
  const Metric metric = metric_axis(record.selections.front().metric);
  const json x_scale = setting.log ? json{{"type", "log"}, {"nice", false}, {"padding", 12}}
                                   : json{{"zero", false}, {"padding", 12}};
  return fill_template(
      resources::kChartSelection,
      {{"title", fmt::format("Selection of {}: {} against {}{}", record.sweep, metric.name,
                             setting.name, groups.size() > 1 ? ", per group" : "")},
       {"points", points},
       {"groups", groups},
       {"width", panel_width(groups.size())},
       {"x_title", setting.name + (setting.log ? " (log scale)" : "")},
       {"x_scale", x_scale},
       {"y_title", fmt::format("{} at the last epoch reached ({})", metric.name, metric.unit)},
       {"y_format", metric.format}});
}

/// The rungs chart of a successive-halving record; `group_of_run` (run id -> group) from the
/// protocols' stage-1 runs, a run absent from it in one panel "all candidates".
json rungs_spec(const SearchRecord& record, const std::map<int64_t, std::string>& group_of_run) {
  std::map<int, int> last;  // bracket (Hyperband's; 0 for successive halving) -> its last rung
  std::set<int> budgets;
  for (const RungRow& g : record.rungs) {
    last[g.bracket] = std::max(last[g.bracket], g.rung);
    budgets.insert(g.epochs);
  }
  json rows = json::array();
  std::set<std::string> groups;
  for (const RungRow& g : record.rungs) {
    if (!g.metric_value || !std::isfinite(*g.metric_value)) continue;
    const auto it = group_of_run.find(g.run_id);
    const std::string group =
        it == group_of_run.end() || it->second.empty() ? "all candidates" : it->second;
    groups.insert(group);
    const int final_rung = last[g.bracket];
    const char* decision = g.promoted ? (g.rung == final_rung ? "best" : "promoted")
                                      : (g.rung < final_rung ? "pruned" : "final rung");
    rows.push_back({{"group", group},
                    {"key", g.run_key},
                    {"run", g.run_name},
                    {"epochs", g.epochs},
                    {"value", *g.metric_value},
                    {"rank", fmt::format("{}/{}", g.rank, g.candidates)},
                    {"decision", decision}});
  }
  // Drawn in row order: the best of each rung (rank 1) last, on top of the points it overlaps.
  std::reverse(rows.begin(), rows.end());
  const Metric metric = metric_axis(record.rungs.front().metric);
  return fill_template(resources::kChartRungs,
                       {{"title", fmt::format("{} of {}: {} at each rung",
                                              last.size() > 1 ? "Hyperband" : "Successive halving",
                                              record.sweep, metric.name)},
                        {"rows", rows},
                        {"groups", json(std::vector<std::string>(groups.begin(), groups.end()))},
                        {"width", panel_width(groups.size())},
                        {"budgets", json(std::vector<int>(budgets.begin(), budgets.end()))},
                        {"y_title", fmt::format("{} ({})", metric.name, metric.unit)},
                        {"y_format", metric.format}});
}

}  // namespace

std::vector<TunedSetting> tuned_settings(const SearchRecord& record) {
  if (record.selections.empty()) return {};
  const Candidates c = candidates_of(record);
  // path -> group -> distinct values (as text); path -> every numeric value.
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;
  std::map<std::string, std::vector<double>> numbers;
  std::set<std::string> non_numeric;
  for (std::size_t i = 0; i < record.tuning.size(); ++i)
    for (const auto& [path, value] : c.leaves[i]) {
      if (path == "seed" || path == "architecture_yaml") continue;
      values[path][c.group[i]].insert(value.dump());
      if (value.is_number())
        numbers[path].push_back(value.get<double>());
      else
        non_numeric.insert(path);
    }
  std::vector<TunedSetting> out;
  for (const auto& [path, by_group] : values) {
    if (non_numeric.count(path) || std::none_of(by_group.begin(), by_group.end(),
                                                [](const auto& g) { return g.second.size() >= 2; }))
      continue;
    const auto [lo, hi] = std::minmax_element(numbers[path].begin(), numbers[path].end());
    const std::string key = path.substr(path.rfind('.') + 1);
    const bool drawn_log = std::count(record.log_uniform.begin(), record.log_uniform.end(), key);
    const bool log = *lo > 0 && (drawn_log || *hi > 10 * *lo);
    std::string name = key;
    std::replace(name.begin(), name.end(), '_', ' ');
    out.push_back({path, name, log});
  }
  std::stable_sort(out.begin(), out.end(), [](const TunedSetting& a, const TunedSetting& b) {
    return (a.path == "optimizer.learning_rate") > (b.path == "optimizer.learning_rate");
  });
  return out;
}

std::string selection_chart_id(std::size_t record, std::size_t setting) {
  return fmt::format("chart-selection-{}-{}", record, setting);
}

std::string rungs_chart_id(std::size_t record) { return fmt::format("chart-rungs-{}", record); }

std::string selection_caption(const SearchRecord& record, const TunedSetting& setting) {
  const Candidates c = candidates_of(record);
  std::string chosen;
  for (const SelectionRow& s : record.selections) {
    std::string value = "?";
    for (std::size_t i = 0; i < record.tuning.size(); ++i)
      if (record.tuning[i].run.key == s.run_key)
        if (const auto leaf = c.leaves[i].find(setting.path); leaf != c.leaves[i].end())
          value = value_text(leaf->second);
    const std::string figure = s.metric == "val_loss"
                                   ? fmt::format("{:.4f}", s.metric_value)
                                   : fmt::format("{:.2f}%", 100 * s.metric_value);
    chosen +=
        fmt::format("{}{}{} {} ({}{})", chosen.empty() ? "" : "; ",
                    s.group.empty() ? "" : s.group + ": ", setting.name, value, figure,
                    s.tuning_runs > 1 ? fmt::format(", mean of {} seeds", s.tuning_runs) : "");
  }
  const Metric metric = metric_axis(record.selections.front().metric);
  return fmt::format(
      "Selected by {} (the mean over each setting's tuning seeds at its last epoch; the test set "
      "is never evaluated in stage 1): {}.",
      metric.name, chosen);
}

void add_search_charts(const ReportModel& model, json& charts) {
  std::vector<Candidates> candidates;
  std::map<int64_t, std::string> group_of_run;
  for (const SearchRecord& record : model.search) {
    candidates.push_back(candidates_of(record));
    for (std::size_t i = 0; i < record.tuning.size(); ++i)
      group_of_run[record.tuning[i].run.id] = candidates.back().group[i];
  }
  for (std::size_t r = 0; r < model.search.size(); ++r) {
    const SearchRecord& record = model.search[r];
    if (!record.rungs.empty()) {
      json spec = rungs_spec(record, group_of_run);
      if (!spec["data"]["values"].empty()) charts[rungs_chart_id(r)] = std::move(spec);
    }
    if (record.tuning.empty()) continue;
    const Candidates& c = candidates[r];
    const std::vector<TunedSetting> settings = tuned_settings(record);
    for (std::size_t k = 0; k < settings.size(); ++k) {
      json spec = selection_spec(record, c, settings[k]);
      if (!spec["data"]["values"].empty()) charts[selection_chart_id(r, k)] = std::move(spec);
    }
  }
}

}  // namespace lenetlab::report
