// The HTML view of the report model: one self-contained page (no external URL). Sections: header
// (sweeps, date, runs by status, links to the sections present), environment (with a warning when
// runs were recorded under different conditions), published results, leaderboard, comparisons
// (pairs differing in one setting, per-setting summary, time to target), cost against accuracy
// (Pareto-optimal configurations), learning-rate sensitivity, learning curves (overlaid by a
// factor chosen in the page, and per configuration), settings against the metric (parallel
// coordinates), best run, benchmark (bench tables), all runs, failed runs. Every string of the
// model reaches the page through the html() formatter (report/html.hpp); the chart specs
// (report/charts.hpp) through script_safe_json.
#pragma once

#include <string>

#include "report/assets.hpp"
#include "report/model.hpp"

namespace lenetlab::report {

/// The complete HTML document of `model`, inlining `assets` (Vega, Vega-Lite, vega-embed) after
/// escape_inline_script. Names that are not UTF-8 appear as U+FFFD in the chart data.
std::string render_html(const ReportModel& model, const ReportAssets& assets);

}  // namespace lenetlab::report
