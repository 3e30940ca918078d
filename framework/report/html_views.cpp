// The sections that weigh configurations against each other: cost against accuracy (with the
// Pareto-optimal configurations listed), learning-rate sensitivity, parallel coordinates.
#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "report/charts.hpp"
#include "report/factors.hpp"
#include "report/html_sections.hpp"
#include "report/pareto.hpp"

namespace lenetlab::report {

namespace {

std::string count_text(const std::optional<int64_t>& n) {
  return n ? thousands(*n) : std::string("\u2014");
}

/// The configurations that are Pareto-optimal against at least one cost, in leaderboard order,
/// with the costs they are optimal against.
Html pareto_table(const ReportModel& model) {
  const std::vector<CostFront> fronts = cost_fronts(model);
  std::vector<std::vector<std::string_view>> optimal_on(model.groups.size());
  for (std::size_t a = 0; a < fronts.size(); ++a)
    for (std::size_t k = 0; k < fronts[a].groups.size(); ++k)
      if (fronts[a].optimal[k]) optimal_on[fronts[a].groups[k]].push_back(kCostAxes[a].label);
  Html rows;
  for (std::size_t g = 0; g < model.groups.size(); ++g) {
    if (optimal_on[g].empty()) continue;
    const ConfigGroup& c = model.groups[g];
    const RunRow& r = model.runs[c.runs.front()];
    std::string against;
    for (const auto label : optimal_on[g])
      against += (against.empty() ? "" : ", ") + std::string(label);
    rows += html(
        "<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"num\">{:g}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{}</td></tr>\n",
        c.id, r.architecture, r.optimizer, r.learning_rate, r.batch_size, c.test.n,
        pct(c.test.mean), interval_text(c.test_interval),
        seconds_text(group_cost(model, c, kCostAxes[0])), count_text(c.parameters),
        count_text(c.macs_per_image), against);
  }
  return html(
      "<h3>Pareto-optimal configurations</h3>\n<p class=\"note\">No other configuration has both "
      "a higher mean test accuracy and a lower cost (or one of them equal). A configuration is "
      "listed when this holds for at least one of the costs.</p>\n<div class=\"scroll\">"
      "<table id=\"pareto-table\" class=\"sortable\"><thead><tr><th>config</th>"
      "<th>architecture</th><th>optimizer</th><th class=\"num\">lr</th><th class=\"num\">batch"
      "</th><th class=\"num\">seeds</th><th class=\"num\">test accuracy</th><th class=\"num\">95% "
      "interval</th><th class=\"num\" title=\"training seconds, mean over seeds\">seconds</th><th "
      "class=\"num\">parameters</th>"
      "<th class=\"num\">MACs per image</th><th>optimal against</th></tr></thead><tbody>\n{}"
      "</tbody></table></div>\n",
      rows);
}

}  // namespace

Html cost_section(const ReportModel& model, const nlohmann::json& charts) {
  if (!charts.contains("chart-cost")) return {};
  return html(
      "<section id=\"cost\">\n<h2>Cost against accuracy</h2>\n<p class=\"note\">Mean test "
      "accuracy of each configuration (filled) with its 95% interval, against the cost chosen "
      "above the chart: training seconds of a run (its epochs' training time, validation "
      "excluded; mean over seeds), parameters, or forward multiply-accumulates per image. Faint "
      "points are the seeds. Ringed, labelled and joined: "
      "the Pareto-optimal configurations for that cost.</p>\n<div class=\"chart\" "
      "id=\"chart-cost\"></div>\n{}</section>\n",
      pareto_table(model));
}

Html sensitivity_section(const nlohmann::json& charts) {
  if (!charts.contains("chart-lr")) return {};
  return Html(
      "<section id=\"sensitivity\">\n<h2>Learning-rate sensitivity</h2>\n<p class=\"note\">"
      "Final test accuracy against the learning rate, as DeepOBS plots it (Schneider, Balles and "
      "Hennig, ICLR 2019): one line per configuration apart from its learning rate, the mean "
      "over seeds with its 95% Student-t interval as a band, each seed a point. A flat line is "
      "an optimizer that forgives a badly chosen learning rate.</p>\n<div class=\"chart\" "
      "id=\"chart-lr\"></div>\n</section>\n");
}

Html parallel_section(const ReportModel& model, const nlohmann::json& charts) {
  if (!charts.contains("chart-parallel")) return {};
  Html confounded;
  for (const Factor& f : varying_factors(model.groups)) {
    if (f.confounded.empty()) continue;
    std::vector<Html> paths;
    for (const std::string& path : f.confounded) paths.push_back(html("<code>{}</code>", path));
    confounded += html("<li>with {}: {}</li>\n", f.name, join(paths, ", "));
  }
  if (!confounded.empty())
    confounded = html(
        "<p class=\"note\">Settings that vary exactly with a setting drawn above (no axis of "
        "their own):</p>\n"
        "<ul class=\"note\">{}</ul>\n",
        confounded);
  return html(
      "<section id=\"parallel\">\n<h2>Settings against the metric</h2>\n<p class=\"note\">"
      "Parallel coordinates: one line per run, through its value of every setting that varies "
      "(values in order, evenly spaced) to the metric chosen above the chart (scaled from its "
      "lowest to its highest value), coloured by that metric.</p>\n<div class=\"chart\" "
      "id=\"chart-parallel\"></div>\n{}</section>\n",
      confounded);
}

}  // namespace lenetlab::report
