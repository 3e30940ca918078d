// The comparisons section: for each metric with data, the pairwise comparisons of configurations
// that differ in one setting (grouped by that setting, with the verdicts, sortable), the per-factor
// summary, then time to target and the methods with their sources (report/comparisons.hpp).
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "report/comparisons.hpp"
#include "report/html_sections.hpp"

namespace lenetlab::report {

namespace {

constexpr std::string_view kDash = "\u2014";

/// A difference or mean of `info`'s metric: fractions in percentage points or percent.
std::string amount(const ComparisonMetricInfo& info, double value, bool difference) {
  if (info.fraction) return difference ? fmt::format("{:+.2f} pts", 100 * value) : pct(value);
  return difference ? fmt::format("{:+.4g}", value) : fmt::format("{:.4g}", value);
}

std::string p_text(const std::optional<double>& p) {
  if (!p) return std::string(kDash);
  return *p < 1e-4 ? std::string("<0.0001") : fmt::format("{:.4f}", *p);
}

Html pair_row(const Comparison& c, const ComparisonMetricInfo& info) {
  const std::string interval = c.low && c.high ? fmt::format("[{}, {}]", amount(info, *c.low, true),
                                                             amount(info, *c.high, true))
                                               : std::string(kDash);
  return html(
      "<tr data-key=\"{}\"{}><td>{}</td><td><strong>{}</strong> ({})</td><td>{} ({})</td>"
      "<td class=\"num\">{}</td><td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td>"
      "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
      "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
      c.factor, c.significant ? Html(" class=\"significant\"") : Html(),
      c.factor + confounded_note(c), c.a, c.a_value, c.b, c.b_value,
      c.paired ? fmt::format("{}", c.n_a) : fmt::format("{} / {}", c.n_a, c.n_b),
      c.paired ? "paired" : "Welch", c.difference, amount(info, c.difference, true), interval,
      p_text(c.p_value), p_text(c.p_holm), c.paired ? p_text(c.wilcoxon_p) : std::string(kDash),
      c.hedges_g ? fmt::format("{:.2f}", *c.hedges_g) : std::string(kDash), c.verdict);
}

Html pairs_table(const ComparisonSet& set, const ComparisonMetricInfo& info) {
  if (set.pairs.empty())
    return Html(
        "<p class=\"note\">No two configurations differ in exactly one setting, so none is "
        "compared.</p>\n");
  Html rows;
  for (const Comparison& c : set.pairs) rows += pair_row(c, info);
  return html(
      "<div class=\"scroll\"><table class=\"sortable comparisons\" data-metric=\"{}\"><thead>"
      "<tr><th>setting</th><th title=\"the configuration with the better mean\">better</th>"
      "<th>than</th><th class=\"num\" title=\"values compared (paired: seeds in both)\">n</th>"
      "<th>test</th><th class=\"num\" title=\"mean of better minus mean of worse\">difference"
      "</th><th class=\"num\">{:.0f}% interval</th><th class=\"num\">p</th>"
      "<th class=\"num\" title=\"Holm-adjusted over the pairs of this table\">p (Holm)</th>"
      "<th class=\"num\" title=\"Wilcoxon signed-rank, paired only\">p (Wilcoxon)</th>"
      "<th class=\"num\" title=\"Hedges' g\">effect g</th><th>verdict</th></tr></thead>"
      "<tbody>\n{}</tbody></table></div>\n",
      info.name, 100 * set.confidence, rows);
}

Html factor_summary(const ComparisonSet& set, const ComparisonMetricInfo& info) {
  Html rows;
  for (const FactorSummary& f : set.factors) {
    const std::string explained =
        f.eta_squared
            ? fmt::format("{:.0f}% (ANOVA p = {})", 100 * *f.eta_squared, p_text(f.p_value))
            : std::string(kDash);
    for (std::size_t i = 0; i < f.levels.size(); ++i) {
      const FactorLevel& l = f.levels[i];
      const std::string interval =
          l.low && l.high
              ? fmt::format("[{}, {}]", amount(info, *l.low, false), amount(info, *l.high, false))
              : std::string(l.runs > 0 ? "not informative" : kDash);
      rows += html(
          "<tr data-key=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          f.factor, i == 0 ? f.factor : std::string(), l.value, l.configurations, l.runs,
          l.runs > 0 ? amount(info, l.mean, false) : std::string(kDash), interval,
          i == 0 ? explained : std::string());
    }
  }
  if (rows.empty()) return {};
  return html(
      "<h4>Per setting</h4>\n<p class=\"note\">Each value of a setting that varies, over the rest "
      "of the grid: the mean of every run with that value, and the share of the variance across "
      "configurations the setting explains.</p>\n<div class=\"scroll\"><table "
      "class=\"factor-summary\"><thead><tr><th>setting</th><th>value</th>"
      "<th class=\"num\">configurations</th><th class=\"num\">runs</th><th class=\"num\">mean"
      "</th><th class=\"num\">interval</th><th class=\"num\">variance explained</th></tr>"
      "</thead><tbody>\n{}</tbody></table></div>\n",
      rows);
}

Html targets_table(const ReportModel& model, const ComparisonSet& set) {
  Html rows;
  for (const GroupTarget& t : set.group_targets)
    rows += html(
        "<tr><td><strong>{}</strong></td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        t.config_id, pct(t.target), t.reached, t.runs,
        t.epochs_mean ? fmt::format("{:.1f}", *t.epochs_mean) : std::string("not reached"),
        t.seconds_mean ? fmt::format("{:.1f}", *t.seconds_mean) : std::string("not reached"));
  if (rows.empty() || model.groups.empty()) return {};
  return html(
      "<h3>Time to target</h3>\n<p class=\"note\">As DAWNBench and MLPerf measure training: the "
      "first epoch at which a run's validation accuracy reaches each target, and the training "
      "seconds up to the end of that epoch, averaged over the runs that reached it. The "
      "targets are the sweep's <code>targets</code> key (default 98% and 99%).</p>\n"
      "<div class=\"scroll\"><table id=\"targets-table\" class=\"sortable\"><thead><tr>"
      "<th>config</th><th class=\"num\">target</th><th class=\"num\">runs reaching it</th>"
      "<th class=\"num\">epochs (mean)</th><th class=\"num\">seconds (mean)</th></tr></thead>"
      "<tbody>\n{}</tbody></table></div>\n",
      rows);
}

}  // namespace

Html comparisons_section(const ReportModel& model) {
  if (model.groups.size() < 2) return {};
  Html blocks, options, factors;
  const ComparisonSet& primary = model.comparisons;  // the metric the model was built for
  for (const ComparisonMetricInfo& info : kComparisonMetrics) {
    if (info.metric == ComparisonMetric::seconds_to_target) continue;  // epochs_to_target says it
    // The other metrics with the primary set's targets, levels and power.
    ComparisonOptions options_of_metric;
    options_of_metric.metric = info.metric;
    options_of_metric.targets = primary.targets;
    options_of_metric.metric_target = primary.metric_target;
    options_of_metric.alpha = primary.alpha;
    options_of_metric.confidence = primary.confidence;
    options_of_metric.power = primary.power;
    ComparisonSet set =
        info.metric == primary.metric ? primary : compare_configurations(model, options_of_metric);
    if (set.pairs.empty() && info.metric != primary.metric) continue;
    const bool shown = info.metric == primary.metric;
    options += html("<option value=\"{}\"{}>{}</option>", info.name,
                    shown ? Html(" selected") : Html(), info.label);
    blocks += html("<div class=\"metric-block\" data-key=\"{}\"{}><h3>{}</h3>\n{}{}</div>\n",
                   info.name, shown ? Html() : Html(" hidden"), info.label, pairs_table(set, info),
                   factor_summary(set, info));
  }
  for (const FactorSummary& f : primary.factors)
    factors += html("<option value=\"{}\">{}</option>", f.factor, f.factor);
  Html methods;
  for (const std::string& m : primary.methods) methods += html("<li>{}</li>\n", m);
  return html(
      "<section id=\"comparisons\">\n<h2>Comparisons</h2>\n<p class=\"note\">Is one "
      "configuration better than another, by how much, and is it more than seed noise? Every "
      "pair of configurations that differ in exactly one setting, the better one first; rows in "
      "bold are differences that survive Holm's correction. Click a column header to sort. The "
      "same from the command line: <code>lenetlab compare</code>.</p>\n<p class=\"controls\">"
      "<label>metric: <select data-show=\"comparisons-blocks\">{}</select></label> "
      "<label>setting: <select data-filter=\"comparisons-blocks\"><option value=\"\">every "
      "setting</option>{}</select></label></p>\n"
      "<div id=\"comparisons-blocks\">\n{}</div>\n{}<details open><summary>Methods and sources"
      "</summary><ul class=\"note\">\n{}</ul></details>\n</section>\n",
      options, factors, blocks, targets_table(model, primary), methods);
}

}  // namespace lenetlab::report
