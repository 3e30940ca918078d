// The sections of the report page (report/html_view.hpp) and the formats they share. Internal to
// report/.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/html.hpp"
#include "report/model.hpp"

namespace lenetlab::report {

/// A fraction as a percentage with two decimals, "98.21%"; an em dash when absent.
std::string pct(double fraction);
std::string pct(const std::optional<double>& fraction);
/// An accuracy interval as a table cell's content: "[97.15%, 99.02%]"; "not informative" (with
/// the reason as a tooltip) for 1 or 2 values; an em dash without values.
Html interval_text(const stats::BoundedInterval& interval);
/// Seconds with one decimal; an em dash when absent.
std::string seconds_text(const std::optional<double>& seconds);
/// "3 finished, 1 failed".
std::string status_text(const std::vector<StatusCount>& statuses);
/// A status as a coloured label.
Html status_badge(RunStatus status);
/// A stored configuration: its JSON without the architecture's YAML text, then that text.
Html config_block(const std::string& config_json);

/// `nav`: links to the sections present.
Html header_section(const ReportModel& model, const Html& nav);
Html environment_section(const ReportModel& model);
/// Empty when the model has no published results.
Html published_section(const ReportModel& model);
/// `charts`: chart_specs(model); a section shows a chart's element only when its spec exists.
Html leaderboard_section(const ReportModel& model, const nlohmann::json& charts);
Html curves_section(const nlohmann::json& charts);
/// Sections that are empty when their chart is absent (report/html_views.cpp).
Html cost_section(const ReportModel& model, const nlohmann::json& charts);
Html sensitivity_section(const nlohmann::json& charts);
Html parallel_section(const ReportModel& model, const nlohmann::json& charts);
/// Pairwise comparisons, per-setting summary, time to target, methods (report/comparisons.hpp);
/// empty with fewer than two configurations (report/html_comparisons.cpp).
Html comparisons_section(const ReportModel& model);
/// Successive halving's rungs and a protocol's selection, with their charts present in `charts`;
/// empty without either (report/html_search.cpp).
Html search_section(const ReportModel& model, const nlohmann::json& charts);
/// Empty when the database holds no bench rows (report/html_bench.cpp).
Html bench_section(const ReportModel& model, const nlohmann::json& charts);
Html best_run_section(const ReportModel& model, const nlohmann::json& charts);
Html all_runs_section(const ReportModel& model);
Html failures_section(const ReportModel& model);

}  // namespace lenetlab::report
