// The page skeleton, the formats the sections share, and the sections about the sweep: header,
// environment, published results.
#include "report/html_view.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "report/charts.hpp"
#include "report/html_sections.hpp"
#include "report/resources/embed_charts_js.hpp"
#include "report/resources/report_css.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

constexpr std::string_view kDash = "\u2014";

/// "<code>avx2</code> (3 runs), <code>avx512_core</code> (1 run)".
Html value_list(const ConditionDifference& d) {
  std::vector<Html> items;
  for (const auto& v : d.values) {
    const std::string shown = d.field == "dataset_sha256" ? v.value.substr(0, 16) : v.value;
    items.push_back(html("<code>{}</code> ({} run{})", shown, v.runs, v.runs == 1 ? "" : "s"));
  }
  return join(items, ", ");
}

Html conditions_warning(const ReportModel& model) {
  if (model.differences.empty()) return {};
  Html out(
      "<div class=\"warning\" id=\"conditions-warning\"><strong>&#9888; Runs were recorded "
      "under different conditions.</strong> Their results are not bit-comparable; differences "
      "between configurations may partly come from these:\n<ul>\n");
  for (const ConditionDifference& d : model.differences) {
    if (d.dataset.empty())
      out += html("<li><strong>{}</strong>: {}</li>\n", d.field, value_list(d));
    else
      out += html("<li><strong>{}</strong> of {}: {}</li>\n", d.field, d.dataset, value_list(d));
  }
  out += "</ul></div>\n";
  return out;
}

Html environment_table(const ReportModel& model) {
  if (model.environments.empty())
    return html("<p class=\"note\">No run has started yet, so no environment was recorded.</p>\n");
  Html out(
      "<div class=\"scroll\"><table><thead><tr><th>host</th><th>CPU</th><th>ISA</th>"
      "<th>oneDNN</th><th class=\"num\">threads</th><th>compiler</th><th>git commit</th>"
      "<th class=\"num\">runs</th></tr></thead><tbody>\n");
  for (const EnvironmentRow& e : model.environments)
    out += html(
        "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}"
        "</td><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>\n",
        e.host, e.cpu_model, e.isa, e.onednn_version,
        e.threads ? std::to_string(*e.threads) : std::string(kDash), e.compiler, e.git_commit,
        e.runs);
  out += "</tbody></table></div>\n";
  const int64_t n = model.runs_without_environment;
  if (n > 0)
    out += html("<p class=\"note\">{} run{} never started (no environment recorded).</p>\n", n,
                n == 1 ? "" : "s");
  return out;
}

Html published_row(const PublishedComparison& c) {
  const PublishedRow& p = c.published;
  Html measured("no finished run yet"), interval("&mdash;"), verdict("&mdash;");
  if (c.measured) interval = interval_text(c.interval);
  if (c.measured) {
    const stats::Summary& m = *c.measured;
    measured = html("{} (n={}{})", pct(m.mean), m.n,
                    m.sd ? fmt::format(", sd {:.2f} pts", 100 * *m.sd) : std::string());
    if (c.reached)
      verdict = *c.reached ? Html("<span class=\"ok\">reached</span>")
                           : Html("<span class=\"bad\">missed</span>");
  }
  std::string seeds;
  for (const auto& s : c.seeds)
    seeds += fmt::format("{}seed {}: {}", seeds.empty() ? "" : ", ", s.seed, pct(s.test_accuracy));
  return html(
      "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
      "<td>{}</td></tr>\n",
      p.architecture, p.test_accuracy > 0 ? escaped(pct(p.test_accuracy)) : Html("&mdash;"),
      p.required_test_accuracy > 0 ? html("&ge; {}", pct(p.required_test_accuracy))
                                   : Html("&mdash;"),
      measured, interval, verdict, seeds, p.source);
}

}  // namespace

std::string pct(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

std::string pct(const std::optional<double>& fraction) {
  return fraction ? pct(*fraction) : std::string(kDash);
}

Html interval_text(const stats::BoundedInterval& interval) {
  if (interval.informative && interval.low && interval.high)
    return html("[{}, {}]", pct(*interval.low), pct(*interval.high));
  if (interval.n == 0) return escaped(kDash);
  return html(
      "<span class=\"muted\" title=\"{} seed{}: a 95% interval needs at least {} (with 2, "
      "t(0.975, 1) = 12.7 makes it wider than any difference it could show)\">not informative"
      "</span>",
      interval.n, interval.n == 1 ? "" : "s", stats::kMinValuesForInterval);
}

std::string seconds_text(const std::optional<double>& seconds) {
  return seconds ? fmt::format("{:.1f}", *seconds) : std::string(kDash);
}

std::string status_text(const std::vector<StatusCount>& statuses) {
  std::string out;
  for (const StatusCount& s : statuses)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", s.runs, to_string(s.status));
  return out;
}

Html status_badge(RunStatus status) {
  return html(R"(<span class="status status-{0}">{0}</span>)", to_string(status));
}

Html config_block(const std::string& config_json) {
  json config = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) return html("<pre>{}</pre>", config_json);
  std::string yaml;
  if (auto it = config.find("architecture_yaml"); it != config.end() && it->is_string()) {
    yaml = it->get<std::string>();
    config.erase(it);
  }
  Html out = html("<pre>{}</pre>", config.dump(2, ' ', false, json::error_handler_t::replace));
  if (!yaml.empty()) out += html("<p class=\"note\">architecture YAML:</p><pre>{}</pre>", yaml);
  return out;
}

Html header_section(const ReportModel& model, const Html& nav) {
  std::string names;
  for (const SweepRow& s : model.sweeps) names += (names.empty() ? "" : ", ") + s.name;
  return html(
      "<header>\n<h1>{}</h1>\n<p class=\"meta\">Sweep{}: <strong>{}</strong> &middot; generated {}"
      " &middot; {} runs ({})</p>\n<nav>{}</nav>\n</header>\n",
      model.title, model.sweeps.size() == 1 ? "" : "s", names, model.generated, model.runs.size(),
      status_text(model.statuses), nav);
}

Html environment_section(const ReportModel& model) {
  Html out("<section id=\"environment\">\n<h2>Environment</h2>\n");
  out += conditions_warning(model);
  out += environment_table(model);
  for (const SweepRow& s : model.sweeps)
    out += html(
        "<details><summary>Sweep file of <strong>{}</strong> ({}, updated {})</summary>"
        "<pre>{}</pre></details>\n",
        s.name, s.file, s.updated_at, s.yaml);
  out += "</section>\n";
  return out;
}

Html published_section(const ReportModel& model) {
  if (model.published.empty()) return {};
  std::vector<Html> rows;
  for (const PublishedComparison& c : model.published) rows.push_back(published_row(c));
  return html(
      "<section id=\"published\">\n<h2>Published results</h2>\n<p class=\"note\">Test accuracy "
      "on the full test set: the published figure, the bar a reproduction must reach, and the "
      "measured mean over seeds with its 95% interval (Student-t on the logit scale, so that it "
      "stays "
      "inside [0, 100%]: Warton &amp; Hui 2011; none with fewer than 3 seeds).</p>\n"
      "<div class=\"scroll\"><table><thead><tr><th>architecture</th><th>published</th>"
      "<th>required</th><th>measured mean</th><th>95% interval</th><th>verdict</th><th>per "
      "seed</th>"
      "<th>source</th></tr></thead>\n<tbody>\n{}</tbody></table></div>\n</section>\n",
      join(rows, ""));
}

std::string render_html(const ReportModel& model, const ReportAssets& assets) {
  const json charts = chart_specs(model);
  Html page = html(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"lenetlab report\">\n<title>{}</title>\n<style>\n{}"
      "</style>\n</head>\n<body>\n<main>\n",
      model.title, Html::trusted(std::string(resources::kReportCss)));
  struct Part {
    MarkupLiteral id, title;
    Html section;  ///< empty: not on this page
  };
  const Part parts[] = {
      {"environment", "Environment", environment_section(model)},
      {"published", "Published", published_section(model)},
      {"leaderboard", "Leaderboard", leaderboard_section(model, charts)},
      {"search", "Search", search_section(model, charts)},
      {"comparisons", "Comparisons", comparisons_section(model)},
      {"cost", "Cost", cost_section(model, charts)},
      {"sensitivity", "Learning rate", sensitivity_section(charts)},
      {"curves", "Learning curves", curves_section(charts)},
      {"parallel", "Settings", parallel_section(model, charts)},
      {"best", "Best run", best_run_section(model, charts)},
      {"bench", "Benchmark", bench_section(model, charts)},
      {"runs", "All runs", all_runs_section(model)},
      {"failures", "Failures", failures_section(model)},
  };
  Html nav;
  for (const Part& p : parts)
    if (!p.section.empty()) nav += html("<a href=\"#{}\">{}</a>", Html(p.id), Html(p.title));
  page += header_section(model, nav);
  for (const Part& p : parts) page += p.section;
  page += "</main>\n";
  for (const auto& [pin, text] : {std::pair{&kReportAssetPins[0], &assets.vega},
                                  std::pair{&kReportAssetPins[1], &assets.vega_lite},
                                  std::pair{&kReportAssetPins[2], &assets.vega_embed}})
    page += html("<!-- {}@{} -->\n<script>\n{}\n</script>\n", pin->package, pin->version,
                 Html::trusted(escape_inline_script(*text)));
  // Names come from the database, which anyone can edit with sqlite3: bytes that are not UTF-8
  // are shown as U+FFFD rather than failing the report (json::dump would throw).
  const std::string specs = charts.dump(-1, ' ', false, json::error_handler_t::replace);
  page += html("<script id=\"lenetlab-charts\" type=\"application/json\">{}</script>\n",
               Html::trusted(script_safe_json(specs)));
  page += html("<script>\n{}</script>\n</body>\n</html>\n",
               Html::trusted(std::string(resources::kEmbedChartsJs)));
  return page.str();
}

}  // namespace lenetlab::report
