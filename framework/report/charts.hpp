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
#include <vector>

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
/// views of report/charts_views.cpp, report/charts_bench.cpp and report/charts_search.cpp.
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
/// A setting a protocol's stage 1 tuned: a numeric leaf of RunConfig::to_json() (seed excluded)
/// that takes two values or more among the stage-1 runs of one group of `per`.
struct TunedSetting {
  std::string path;  ///< "optimizer.learning_rate"
  std::string name;  ///< its last component, spaced: "learning rate"
  /// Drawn on a log axis: every value positive, and drawn log_uniform (SearchRecord::log_uniform)
  /// or spanning more than a decade.
  bool log = false;
};
/// The tuned settings of a record with selections (none without), the learning rate first, then
/// by path.
std::vector<TunedSetting> tuned_settings(const SearchRecord& record);
/// Ids of the search section's charts: "chart-selection-R-K" (model.search[R], tuned setting K)
/// and "chart-rungs-R".
std::string selection_chart_id(std::size_t record, std::size_t setting);
std::string rungs_chart_id(std::size_t record);
/// One line under a selection chart: per group, the selected value of `setting` and its metric.
std::string selection_caption(const SearchRecord& record, const TunedSetting& setting);
/// The selection charts of every record with selections and stage-1 runs (one per tuned setting:
/// per group, each stage-1 run's metric at its last epoch against the setting, pruned runs and the
/// selected setting marked; only with a point to draw), and the rungs chart of every record with
/// rungs (each candidate's metric per rung budget, the decision marked).
void add_search_charts(const ReportModel& model, nlohmann::json& charts);
/// "chart-bench-threads", "chart-bench-batch" (images/s of matrix benches against threads and
/// batch size), "chart-bench-profile" (profile benches as stacked bars); each only with its rows.
void add_bench_charts(const ReportModel& model, nlohmann::json& charts);

}  // namespace lenetlab::report
