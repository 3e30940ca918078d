// The sections about results: leaderboard, learning curves, best run, all runs, failed runs.
#include <fmt/format.h>

#include <algorithm>

#include "core/text.hpp"
#include "report/html_sections.hpp"

namespace lenetlab::report {

namespace {

constexpr std::string_view kDash = "\u2014";

/// A run's test accuracy as a percentage; for a completed run without one "not evaluated" (a
/// protocol's tuning run) or "no labels" (its test set was a prediction set).
std::string run_test_accuracy(const RunRow& r) {
  if (!r.test_accuracy && is_completed(r.status)) return r.tuning() ? "not evaluated" : "no labels";
  return pct(r.test_accuracy);
}

Html leaderboard_head(bool other) {
  return html(
      "<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n<p class=\"note\">One row per "
      "configuration (runs identical except for the seed), by mean test accuracy. &plusmn; is "
      "the sample standard deviation over seeds. The 95% interval of the mean is Student's t with "
      "n&minus;1 degrees of freedom on the logit scale, transformed back, so that it stays inside "
      "[0, 100%] (the logit for proportions: Warton &amp; Hui, Ecology 92(1), 2011); with fewer "
      "than 3 seeds it is not informative and not shown.</p>\n"
      "<div class=\"scroll\"><table id=\"leaderboard-table\"><thead><tr><th>config</th>"
      "<th>architecture</th><th>optimizer</th><th class=\"num\" title=\"learning rate\">lr</th>"
      "<th class=\"num\" title=\"batch size\">batch</th>{}<th class=\"num\">seeds</th>"
      "<th class=\"num\" title=\"mean &plusmn; sample sd over seeds\">test accuracy</th>"
      "<th class=\"num\">95% interval</th>"
      "<th class=\"num\" title=\"best validation accuracy, mean over seeds\">best val.</th>"
      "<th class=\"num\" title=\"epochs completed, mean over seeds\">epochs</th>"
      "<th class=\"num\" title=\"wall time of a run in seconds, mean over seeds\">seconds</th>"
      "<th class=\"num\">parameters</th><th>status</th></tr></thead><tbody>\n",
      other ? Html("<th title=\"settings whose value differs from the one most configurations "
                   "use\">other settings</th>")
            : Html());
}

Html leaderboard_row(const ReportModel& model, const ConfigGroup& g, bool other) {
  const RunRow& r = model.runs[g.runs.front()];
  Html accuracy = escaped(kDash), ci = escaped(kDash), ci_title;
  if (g.test.n > 0) {
    accuracy = escaped(pct(g.test.mean));
    if (g.test.sd) accuracy += html(" &plusmn; {:.2f}", 100.0 * *g.test.sd);
  } else {
    accuracy = escaped(run_test_accuracy(r) == "no labels" ? "no labels" : kDash);
  }
  ci = interval_text(g.test_interval);
  if (g.test_interval.informative && g.t_quantile)
    ci_title = html(" title=\"logit-scale Student-t interval, t(0.975, {}) = {:.3f}\"",
                    g.test.n - 1, *g.t_quantile);
  const std::string seeds = g.test.n == g.runs.size()
                                ? std::to_string(g.runs.size())
                                : fmt::format("{} ({} tested)", g.runs.size(), g.test.n);
  std::string settings;
  for (const Setting& s : g.other_settings)
    settings += fmt::format("{}{}={}", settings.empty() ? "" : ", ", s.path, s.value);
  Html row = html(
      "<tr data-config=\"{}\"><td><strong>{}</strong></td><td>{}</td><td>{}</td>"
      "<td class=\"num\">{:g}</td><td class=\"num\">{}</td>",
      g.id, g.id, r.architecture, r.optimizer, r.learning_rate, r.batch_size);
  if (other) row += html("<td class=\"mono\">{}</td>", settings);
  row += html(
      "<td class=\"num\">{}</td><td class=\"num test-accuracy\">{}</td><td class=\"num\"{}>{}"
      "</td><td class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td class=\"num\">{}</td>"
      "<td class=\"num\">{}</td><td class=\"nowrap\">{}</td></tr>\n",
      seeds, accuracy, ci_title, ci, pct(g.best_val_mean), g.epochs_mean,
      seconds_text(g.seconds_mean), g.parameters ? thousands(*g.parameters) : std::string(kDash),
      status_text(g.statuses));
  return row;
}

Html class_metrics_table(const BestRun& b) {
  if (b.classes.empty() || !b.macro) return {};
  Html out(
      "<div><h3>Per-class metrics (test set)</h3><table id=\"class-metrics\"><thead><tr>"
      "<th class=\"num\">label</th><th class=\"num\">precision</th><th class=\"num\">recall"
      "</th><th class=\"num\">F1</th><th class=\"num\">support</th></tr></thead><tbody>\n");
  for (const ClassMetrics& c : b.classes)
    out += html(
        "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        c.label, pct(c.precision), pct(c.recall), pct(c.f1), thousands(c.support));
  const BestRun::Macro& m = *b.macro;
  out += html(
      "</tbody><tfoot><tr><th>macro avg.</th><th class=\"num\">{}</th><th class=\"num\">{}"
      "</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></tfoot></table></div>\n",
      pct(m.precision), pct(m.recall), pct(m.f1), thousands(m.support));
  return out;
}

}  // namespace

Html leaderboard_section(const ReportModel& model, const nlohmann::json& charts) {
  const bool other = std::any_of(model.groups.begin(), model.groups.end(),
                                 [](const ConfigGroup& g) { return !g.other_settings.empty(); });
  Html out = leaderboard_head(other);
  for (const ConfigGroup& g : model.groups) out += leaderboard_row(model, g, other);
  out += "</tbody></table></div>\n";
  if (charts.contains("chart-accuracy"))
    out += "<div class=\"chart\" id=\"chart-accuracy\"></div>\n";
  out += "</section>\n";
  return out;
}

Html curves_section(const nlohmann::json& charts) {
  Html out("<section id=\"curves\">\n<h2>Learning curves</h2>\n");
  if (!charts.contains("chart-loss")) {
    out += "<p class=\"note\">No epoch has been recorded yet.</p>\n</section>\n";
    return out;
  }
  if (charts.contains("chart-overlay"))
    out +=
        "<h3>By factor</h3>\n<p class=\"note\">Choose a setting that varies and a metric: one "
        "line per value of the setting, the mean per epoch over every run with that value (its "
        "seeds and the rest of the grid), with the 95% Student-t interval of that mean as a "
        "band.</p>\n<div class=\"chart\" id=\"chart-overlay\"></div>\n";
  out +=
      "<h3>Per configuration</h3>\n<p class=\"note\">Train (blue) and validation (orange) per "
      "epoch, one line per seed. Training figures are averaged over each epoch in training mode; "
      "validation figures are measured after it.</p>\n"
      "<h3>Loss (cross-entropy, nats)</h3>\n<div class=\"chart\" id=\"chart-loss\"></div>\n"
      "<h3>Accuracy</h3>\n<div class=\"chart\" id=\"chart-curve-accuracy\"></div>\n</section>\n";
  return out;
}

Html best_run_section(const ReportModel& model, const nlohmann::json& charts) {
  Html out("<section id=\"best\">\n<h2>Best run</h2>\n");
  if (!model.best) {
    out += "<p class=\"note\">No run has a test accuracy yet.</p>\n</section>\n";
    return out;
  }
  const BestRun& b = *model.best;
  const RunRow& best = model.runs[b.run];
  out += html(
      "<p><strong>{}</strong> (run {}, key <code>{}</code>, configuration {}): test accuracy "
      "<strong>{}</strong> after {} epoch{}, {} s.</p>\n",
      best.name, best.id, best.key, b.config_id, pct(best.test_accuracy), best.epochs_completed,
      best.epochs_completed == 1 ? "" : "s", seconds_text(best.seconds));
  out += "<div class=\"cards\">\n";
  if (charts.contains("chart-confusion"))
    out += "<div class=\"chart\" id=\"chart-confusion\"></div>\n";
  else
    out += "<p class=\"note\">No confusion matrix recorded for this run.</p>\n";
  out += class_metrics_table(b);
  out += html("</div>\n<h3>Configuration</h3>\n{}\n</section>\n", config_block(best.config_json));
  return out;
}

Html all_runs_section(const ReportModel& model) {
  const bool several_sweeps = model.sweeps.size() > 1;
  Html out = html(
      "<section id=\"runs\">\n<h2>All runs</h2>\n<div class=\"scroll\"><table id=\"runs-table\">"
      "<thead><tr><th class=\"num\">id</th><th>key</th>{}<th>config</th><th>name</th>"
      "<th>status</th><th>error</th><th class=\"num\">epochs</th>"
      "<th class=\"num\">test accuracy</th><th class=\"num\">seconds</th><th>configuration</th>"
      "</tr></thead><tbody>\n",
      several_sweeps ? Html("<th>sweep</th>") : Html());
  for (size_t i = 0; i < model.runs.size(); ++i) {
    const RunRow& r = model.runs[i];
    out += html("<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td>", r.id, r.key);
    if (several_sweeps) out += html("<td>{}</td>", r.sweep);
    out += html(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}/{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td><details><summary>show</summary>{}</details></td></tr>\n",
        model.config_of_run[i], r.name, status_badge(r.status), r.error.value_or(""),
        r.epochs_completed, r.epochs, run_test_accuracy(r), seconds_text(r.seconds),
        config_block(r.config_json));
  }
  out += "</tbody></table></div>\n</section>\n";
  return out;
}

Html failures_section(const ReportModel& model) {
  Html out("<section id=\"failures\">\n<h2>Failed, diverged and interrupted runs</h2>\n");
  if (model.problems.empty()) {
    out += "<p class=\"note\">None.</p>\n</section>\n";
    return out;
  }
  out +=
      "<table id=\"failures-table\"><thead><tr><th class=\"num\">id</th><th>name</th>"
      "<th>status</th><th class=\"num\">epochs</th><th>error</th></tr></thead><tbody>\n";
  for (const size_t i : model.problems) {
    const RunRow& r = model.runs[i];
    std::string epochs = std::to_string(r.epochs_completed);
    if (r.diverged_epoch) epochs += fmt::format(" (diverged at {})", *r.diverged_epoch);
    out += html(
        "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
        "<td><pre>{}</pre></td></tr>\n",
        r.id, r.name, status_badge(r.status), epochs, r.error.value_or("(no message recorded)"));
  }
  out += "</tbody></table>\n</section>\n";
  return out;
}

}  // namespace lenetlab::report
