// The report's charts: Vega-Lite specs filled from the model. The specs are templates in
// report/resources/*.vl.json, embedded at build time; a template marks each place the model fills
// with a string "@name" (the whole JSON value), and its "$comment" says what each one holds.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "report/model.hpp"

namespace lenetlab::report {

/// Parses `template_text` and replaces every string value "@name" by values.at("name"); drops the
/// top-level "$comment". Throws std::logic_error naming the placeholder when a value is missing
/// or a value is not used (a template and its caller disagree), nlohmann::json::parse_error when
/// the template is not JSON.
nlohmann::json fill_template(std::string_view template_text,
                             const std::map<std::string, nlohmann::json>& values);

/// The specs of the charts the model has data for, keyed by the id of the element each one draws
/// into: "chart-accuracy" (configurations with a test accuracy), "chart-loss" and
/// "chart-curve-accuracy" (runs with epochs), "chart-confusion" (a best run with cells), and the
/// views of report/charts_views.cpp and report/charts_bench.cpp.
nlohmann::json chart_specs(const ReportModel& model);

/// The ends of an interval as drawn: low and high when informative, else the mean twice (a rule of
/// no length).
std::pair<double, double> interval_or_mean(const stats::BoundedInterval& interval);

/// "chart-cost": test accuracy against a cost chosen in the page (report/pareto.hpp kCostAxes),
/// seeds, means with intervals, the Pareto front. Absent without a configuration with both.
void add_cost_chart(const ReportModel& model, nlohmann::json& charts);
/// "chart-lr": final test accuracy against the learning rate (log axis), one line per
/// configuration without its learning rate; only when some line has two learning rates or more.
void add_sensitivity_chart(const ReportModel& model, nlohmann::json& charts);
/// "chart-overlay": per epoch, the mean over runs of each value of a factor chosen in the page
/// (report/factors.hpp), with its interval; only with a factor and epochs.
void add_overlay_chart(const ReportModel& model, nlohmann::json& charts);
/// "chart-parallel": parallel coordinates of the factors and a metric chosen in the page, one
/// line per run with a test accuracy; only with a factor.
void add_parallel_chart(const ReportModel& model, nlohmann::json& charts);
/// "chart-bench-threads", "chart-bench-batch" (images/s of matrix benches against threads and
/// batch size), "chart-bench-profile" (profile benches as stacked bars); each only with its rows.
void add_bench_charts(const ReportModel& model, nlohmann::json& charts);

}  // namespace lenetlab::report
