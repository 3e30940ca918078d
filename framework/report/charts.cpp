#include "report/charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "report/resources/chart_accuracy.hpp"
#include "report/resources/chart_confusion.hpp"
#include "report/resources/chart_curve_accuracy.hpp"
#include "report/resources/chart_loss.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

void fill(json& node, const std::map<std::string, json>& values, std::set<std::string>& used) {
  if (node.is_string()) {
    const std::string& text = node.get_ref<const std::string&>();
    if (text.size() < 2 || text.front() != '@') return;
    const std::string name = text.substr(1);
    const auto it = values.find(name);
    if (it == values.end())
      throw std::logic_error(fmt::format("chart template: no value for placeholder @{}", name));
    used.insert(name);
    node = it->second;
  } else if (node.is_structured()) {
    for (auto& child : node) fill(child, values, used);
  }
}

/// Test accuracy per configuration: 95% interval, mean and seeds.
void add_accuracy_chart(const ReportModel& model, json& charts) {
  json summary = json::array(), seeds = json::array(), order = json::array();
  for (const ConfigGroup& g : model.groups) {
    if (g.test.n == 0) continue;
    const auto [lo, hi] = interval_or_mean(g.test_interval);
    summary.push_back(
        {{"config", g.label}, {"mean", g.test.mean}, {"n", g.test.n}, {"lo", lo}, {"hi", hi}});
    order.push_back(g.label);
    for (const size_t i : g.runs) {
      const RunRow& r = model.runs[i];
      if (r.test_accuracy)
        seeds.push_back({{"config", g.label}, {"seed", r.seed}, {"accuracy", *r.test_accuracy}});
    }
  }
  if (summary.empty()) return;
  const json x_scale = {{"zero", false}};
  const std::string title =
      "Test accuracy: seeds (circles), mean (bar) and 95% interval (line; with 3 seeds or more)";
  charts["chart-accuracy"] = fill_template(resources::kChartAccuracy, {{"title", title},
                                                                       {"summary", summary},
                                                                       {"seeds", seeds},
                                                                       {"order", order},
                                                                       {"x_scale", x_scale}});
}

/// Loss and accuracy per epoch, train and validation, one line per seed.
void add_curve_charts(const ReportModel& model, json& charts) {
  json rows = json::array(), order = json::array();
  for (const ConfigGroup& g : model.groups) {
    bool any = false;
    for (const size_t i : g.runs) {
      const int64_t seed = model.runs[i].seed;
      for (const EpochRecord& e : model.epochs[i]) {
        any = true;
        rows.push_back({{"config", g.label},
                        {"seed", seed},
                        {"epoch", e.epoch},
                        {"split", "train"},
                        {"loss", e.train_loss},
                        {"accuracy", e.train_accuracy}});
        if (e.val_loss || e.val_accuracy)
          rows.push_back({{"config", g.label},
                          {"seed", seed},
                          {"epoch", e.epoch},
                          {"split", "validation"},
                          {"loss", e.val_loss ? json(*e.val_loss) : json(nullptr)},
                          {"accuracy", e.val_accuracy ? json(*e.val_accuracy) : json(nullptr)}});
      }
    }
    if (any) order.push_back(g.label);
  }
  if (rows.empty()) return;
  charts["chart-loss"] = fill_template(resources::kChartLoss, {{"rows", rows}, {"order", order}});
  charts["chart-curve-accuracy"] =
      fill_template(resources::kChartCurveAccuracy, {{"rows", rows}, {"order", order}});
}

/// The best run's confusion matrix, every cell including the empty ones.
void add_confusion_chart(const ReportModel& model, json& charts) {
  if (!model.best || model.best->confusion.empty()) return;
  const BestRun& b = *model.best;
  json values = json::array();
  for (int64_t t = 0; t < b.labels; ++t)
    for (int64_t p = 0; p < b.labels; ++p)
      values.push_back({{"true", t},
                        {"predicted", p},
                        {"count", b.confusion[static_cast<size_t>(t * b.labels + p)]}});
  // The colour scale is symlog, so a cell is dark once its log-count passes ~55% of the maximum.
  const double dark = std::expm1(0.55 * std::log1p(static_cast<double>(b.max_count)));
  const int size = static_cast<int>(std::clamp<int64_t>(b.labels * 36, 200, 520));
  charts["chart-confusion"] = fill_template(
      resources::kChartConfusion, {{"values", values},
                                   {"size", size},
                                   {"font_size", b.labels > 12 ? 8 : 11},
                                   {"dark_test", fmt::format("datum.count > {:.3f}", dark)}});
}

}  // namespace

json fill_template(std::string_view template_text, const std::map<std::string, json>& values) {
  json spec = json::parse(template_text);
  spec.erase("$comment");
  std::set<std::string> used;
  fill(spec, values, used);
  for (const auto& [name, value] : values)
    if (!used.count(name))
      throw std::logic_error(fmt::format("chart template: placeholder @{} does not occur", name));
  return spec;
}

std::pair<double, double> interval_or_mean(const stats::BoundedInterval& interval) {
  if (interval.informative && interval.low && interval.high) return {*interval.low, *interval.high};
  return {interval.mean, interval.mean};
}

json chart_specs(const ReportModel& model) {
  json charts = json::object();
  add_accuracy_chart(model, charts);
  add_cost_chart(model, charts);
  add_sensitivity_chart(model, charts);
  add_curve_charts(model, charts);
  add_overlay_chart(model, charts);
  add_parallel_chart(model, charts);
  add_confusion_chart(model, charts);
  add_bench_charts(model, charts);
  add_search_charts(model, charts);
  return charts;
}

}  // namespace lenetlab::report
