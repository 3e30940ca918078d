// The charts that weigh configurations against each other: cost against accuracy, learning-rate
// sensitivity, learning curves overlaid by factor, parallel coordinates (report/charts.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "report/charts.hpp"
#include "report/factors.hpp"
#include "report/pareto.hpp"
#include "report/resources/chart_cost.hpp"
#include "report/resources/chart_lr.hpp"
#include "report/resources/chart_overlay.hpp"
#include "report/resources/chart_parallel.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

/// mean, lo, hi (lo = hi = mean when there is no interval) and n of `values`: for accuracies
/// accuracy_interval (inside (0, 1), from 3 values), else the Student-t interval (from 2).
json summary_fields(const std::vector<double>& values, bool accuracy) {
  const stats::Summary s = stats::summarize(values);
  double lo = s.mean, hi = s.mean;
  if (accuracy) {
    std::tie(lo, hi) = interval_or_mean(accuracy_interval(values));
  } else if (s.ci_half_width) {
    lo = s.mean - *s.ci_half_width;
    hi = s.mean + *s.ci_half_width;
  }
  return {{"mean", s.mean}, {"lo", lo}, {"hi", hi}, {"n", s.n}};
}

/// The group's label without its learning rate: "lenet5/sgd bs=64" plus the other factors that
/// vary, e.g. " optimizer.momentum=0.9".
std::string line_label(const ReportModel& model, std::size_t g,
                       const std::vector<Factor>& factors) {
  const RunRow& r = model.runs[model.groups[g].runs.front()];
  std::string label = fmt::format("{}/{}", r.architecture, r.optimizer);
  for (const Factor& f : factors) {
    if (f.path == "architecture" || f.path == "optimizer.name" ||
        f.path == "optimizer.learning_rate" || !f.of_group[g])
      continue;
    label +=
        fmt::format(" {}={}", f.path == "batch_size" ? "bs" : f.path, f.values[*f.of_group[g]]);
  }
  return label;
}

}  // namespace

void add_cost_chart(const ReportModel& model, json& charts) {
  const std::vector<CostFront> fronts = cost_fronts(model);
  json seeds = json::array(), means = json::array(), axes = json::array(), order = json::array();
  for (const ConfigGroup& g : model.groups)
    if (g.test.n > 0) order.push_back(g.label);
  for (std::size_t a = 0; a < kCostAxes.size(); ++a) {
    const CostAxis& axis = kCostAxes[a];
    if (fronts[a].groups.empty()) continue;
    axes.push_back(axis.label);
    for (std::size_t k = 0; k < fronts[a].groups.size(); ++k) {
      const ConfigGroup& g = model.groups[fronts[a].groups[k]];
      const auto [lo, hi] = interval_or_mean(g.test_interval);
      means.push_back({{"config", g.label},
                       {"id", g.id},
                       {"axis", axis.label},
                       {"x", fronts[a].costs[k]},
                       {"mean", g.test.mean},
                       {"lo", lo},
                       {"hi", hi},
                       {"n", g.test.n},
                       {"pareto", static_cast<bool>(fronts[a].optimal[k])}});
      for (const std::size_t i : g.runs) {
        const RunRow& r = model.runs[i];
        const auto x = axis.of_run(model, i);
        if (r.test_accuracy && x && *x > 0)
          seeds.push_back({{"config", g.label},
                           {"axis", axis.label},
                           {"x", *x},
                           {"accuracy", *r.test_accuracy},
                           {"seed", r.seed}});
      }
    }
  }
  if (axes.empty()) return;
  charts["chart-cost"] = fill_template(resources::kChartCost, {{"seeds", seeds},
                                                               {"means", means},
                                                               {"axes", axes},
                                                               {"first_axis", axes.front()},
                                                               {"order", order}});
}

void add_sensitivity_chart(const ReportModel& model, json& charts) {
  const std::vector<Factor> factors = varying_factors(model.groups);
  std::map<std::string, std::set<double>> rates;  // line -> learning rates with a result
  std::vector<std::string> lines(model.groups.size());
  for (std::size_t g = 0; g < model.groups.size(); ++g) {
    lines[g] = line_label(model, g, factors);
    if (model.groups[g].test.n > 0)
      rates[lines[g]].insert(model.runs[model.groups[g].runs.front()].learning_rate);
  }
  if (std::none_of(rates.begin(), rates.end(), [](const auto& r) { return r.second.size() >= 2; }))
    return;
  json seeds = json::array(), means = json::array();
  for (std::size_t g = 0; g < model.groups.size(); ++g) {
    const ConfigGroup& group = model.groups[g];
    if (group.test.n == 0) continue;
    const double lr = model.runs[group.runs.front()].learning_rate;
    json mean = summary_fields(group.test_accuracies, true);
    mean.update({{"line", lines[g]}, {"lr", lr}, {"config", group.label}});
    means.push_back(std::move(mean));
    for (const std::size_t i : group.runs)
      if (const RunRow& r = model.runs[i]; r.test_accuracy)
        seeds.push_back(
            {{"line", lines[g]}, {"lr", lr}, {"accuracy", *r.test_accuracy}, {"seed", r.seed}});
  }
  charts["chart-lr"] = fill_template(resources::kChartLr, {{"seeds", seeds}, {"means", means}});
}

void add_overlay_chart(const ReportModel& model, json& charts) {
  const std::vector<Factor> factors = varying_factors(model.groups);
  struct Metric {
    std::string_view name;
    bool accuracy;
    std::optional<double> (*of)(const EpochRecord&);
  };
  static const Metric kMetrics[] = {
      {"validation accuracy", true, [](const EpochRecord& e) { return e.val_accuracy; }},
      {"training accuracy", true,
       [](const EpochRecord& e) { return std::optional(e.train_accuracy); }},
      {"validation loss", false, [](const EpochRecord& e) { return e.val_loss; }},
      {"training loss", false, [](const EpochRecord& e) { return std::optional(e.train_loss); }},
  };
  json rows = json::array(), factor_names = json::array(), metric_names = json::array();
  std::set<std::string_view> metrics_present;
  for (const Factor& f : factors) {
    factor_names.push_back(f.name);
    for (std::size_t v = 0; v < f.values.size(); ++v)
      for (const Metric& metric : kMetrics) {
        std::map<int, std::vector<double>> by_epoch;
        for (std::size_t g = 0; g < model.groups.size(); ++g)
          if (f.of_group[g] == v)
            for (const std::size_t i : model.groups[g].runs)
              for (const EpochRecord& e : model.epochs[i])
                if (const auto x = metric.of(e); x && std::isfinite(*x))
                  by_epoch[e.epoch].push_back(*x);
        for (const auto& [epoch, values] : by_epoch) {
          json row = summary_fields(values, metric.accuracy);
          row.update({{"factor", f.name},
                      {"value", f.values[v]},
                      {"metric", metric.name},
                      {"epoch", epoch}});
          rows.push_back(std::move(row));
          metrics_present.insert(metric.name);
        }
      }
  }
  for (const Metric& metric : kMetrics)
    if (metrics_present.count(metric.name)) metric_names.push_back(metric.name);
  if (rows.empty()) return;
  charts["chart-overlay"] =
      fill_template(resources::kChartOverlay, {{"rows", rows},
                                               {"factors", factor_names},
                                               {"first_factor", factor_names.front()},
                                               {"metrics", metric_names},
                                               {"first_metric", metric_names.front()}});
}

namespace {

/// A run metric on the last axis of the parallel coordinates.
struct RunMetric {
  std::string_view name;
  std::optional<double> (*of)(const RunRow&);
  double scale;  ///< shown value = scale x stored value.
  const char* unit;
  double lo = INFINITY, hi = -INFINITY;  ///< over the runs drawn.
  double position(double x) const { return hi > lo ? (x - lo) / (hi - lo) : 0.5; }
};

double value_position(const Factor& f, std::size_t v) {
  return static_cast<double>(v) / static_cast<double>(f.values.size() - 1);
}

/// The rows of one run: one per factor (metric "") and one per metric, each holding every metric's
/// value under the metric's name (the colour follows the metric chosen in the page).
void add_run_lines(const ReportModel& model, std::size_t g, const RunRow& r,
                   const std::vector<Factor>& factors, const std::vector<RunMetric>& metrics,
                   json& lines) {
  json common = {{"run", r.id}, {"config", model.groups[g].label}, {"seed", r.seed}};
  for (const RunMetric& m : metrics)
    common[std::string(m.name)] = m.of(r) ? json(*m.of(r)) : json(nullptr);
  for (std::size_t k = 0; k < factors.size(); ++k) {
    if (!factors[k].of_group[g]) continue;
    json row = common;
    row.update({{"axis", factors[k].name},
                {"index", k},
                {"metric", ""},
                {"pos", value_position(factors[k], *factors[k].of_group[g])}});
    lines.push_back(std::move(row));
  }
  for (const RunMetric& m : metrics) {
    if (!m.of(r)) continue;
    json row = common;
    row.update({{"axis", m.name},
                {"index", factors.size()},
                {"metric", m.name},
                {"pos", m.position(*m.of(r))}});
    lines.push_back(std::move(row));
  }
}

}  // namespace

void add_parallel_chart(const ReportModel& model, json& charts) {
  const std::vector<Factor> factors = varying_factors(model.groups);
  if (factors.empty() || !model.best) return;  // best: some run has a test accuracy
  std::vector<RunMetric> metrics;
  for (const RunMetric& m :
       {RunMetric{"test accuracy", [](const RunRow& r) { return r.test_accuracy; }, 100, "%"},
        RunMetric{"best validation accuracy", [](const RunRow& r) { return r.best_val_accuracy; },
                  100, "%"},
        RunMetric{"training seconds", [](const RunRow& r) { return r.seconds; }, 1, " s"}}) {
    RunMetric range = m;
    for (const RunRow& r : model.runs)
      if (const auto x = m.of(r); x && r.test_accuracy)
        range.lo = std::min(range.lo, *x), range.hi = std::max(range.hi, *x);
    if (range.lo <= range.hi) metrics.push_back(range);
  }
  json lines = json::array(), ticks = json::array(), axes = json::array(), names = json::array();
  for (const Factor& f : factors) {
    axes.push_back(f.name);
    for (std::size_t v = 0; v < f.values.size(); ++v)
      ticks.push_back({{"axis", f.name},
                       {"metric", ""},
                       {"pos", value_position(f, v)},
                       {"label", f.values[v]}});
  }
  for (const RunMetric& m : metrics) {
    axes.push_back(m.name);
    names.push_back(m.name);
    for (const double end : {m.lo, m.hi})
      ticks.push_back({{"axis", m.name},
                       {"metric", m.name},
                       {"pos", m.position(end)},
                       {"label", fmt::format("{:.4g}{}", m.scale * end, m.unit)}});
  }
  for (std::size_t g = 0; g < model.groups.size(); ++g)
    for (const std::size_t i : model.groups[g].runs)
      if (model.runs[i].test_accuracy)
        add_run_lines(model, g, model.runs[i], factors, metrics, lines);
  charts["chart-parallel"] =
      fill_template(resources::kChartParallel, {{"lines", lines},
                                                {"ticks", ticks},
                                                {"axes", axes},
                                                {"metrics", names},
                                                {"first_metric", names.front()}});
}

}  // namespace lenetlab::report
