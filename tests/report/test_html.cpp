// Tests of the report's HTML view: the typed formatter (report/html.hpp), the chart templates
// (report/charts.hpp), and pages rendered from models whose every database string is hostile.
// Structure and escaping only: the numbers are tested on the model (test_model.cpp).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "report/assets.hpp"
#include "report/charts.hpp"
#include "report/html.hpp"
#include "report/html_view.hpp"
#include "report/model.hpp"
#include "page_util.hpp"
#include "report_rows.hpp"

namespace lenetlab::report {
namespace {

/// Markup, quotes and an ampersand, numbered so that each field can be found in the page.
std::string hostile(int field) { return fmt::format("<script>alert({})</script>\"'&", field); }
/// hostile(field) after html_escape.
std::string hostile_escaped(int field) {
  return fmt::format("&lt;script&gt;alert({})&lt;/script&gt;&quot;&#39;&amp;", field);
}

using test::between;
using test::count;
using test::kStandIns;

/// Two sweeps; runs whose every string column is hostile (field numbers 1-28): three seeds of
/// one configuration with a hostile architecture name, a failed run whose config_json is not JSON,
/// a queued run.
ReportModel hostile_model() {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep(hostile(1), hostile(2), hostile(3), hostile(4)));
  rows.sweeps.push_back(test::make_sweep(hostile(5), "b.yaml", "name: b\n", "2024"));
  const double accuracies[] = {0.95, 0.99, 0.999};  // the 95% interval passes 100%
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    RunRow r = test::make_run(static_cast<int64_t>(seed),
                              test::make_config(hostile(6), "sgd", 0.01, 64, seed),
                              RunStatus::finished, accuracies[seed - 1]);
    r.sweep = seed == 3 ? hostile(5) : hostile(1);
    r.optimizer = hostile(7);
    r.key = hostile(8);
    r.name = hostile(9);
    r.dataset = hostile(10);
    r.host = hostile(11);
    r.cpu_model = hostile(12);
    r.isa = hostile(13 + static_cast<int>(seed));  // 14, 15, 16: differ between runs
    r.onednn_version = hostile(17);
    r.compiler = hostile(18);
    r.git_commit = hostile(19);
    r.dataset_sha256 = hostile(20 + static_cast<int>(seed));  // 21, 22, 23
    rows.runs.push_back(r);
  }
  RunRow failed = test::make_run(4, test::make_config("lenet5", "sgd", 0.5, 64, 1),
                                 RunStatus::failed, std::nullopt);
  failed.config_json = hostile(25);
  failed.error = hostile(26);
  rows.runs.push_back(failed);
  rows.runs.push_back(test::make_run(5, test::make_config("lenet5", "sgd", 0.5, 64, 2),
                                     RunStatus::queued, std::nullopt));
  for (size_t i = 0; i < rows.runs.size(); ++i)
    rows.epochs.push_back({{1, 0.5, 0.9, 0.4, 0.91}, {2, 0.3, 0.95, std::nullopt, std::nullopt}});
  rows.published.push_back({hostile(1), hostile(6), 0.99, 0.98, hostile(27)});
  ReportModel model = build_report_model(std::move(rows), hostile(28));
  set_best_run_details(model, {{0, 0.9, 0.8, 0.85, 10}, {1, 0.7, 0.6, 0.65, 12}},
                       {{0, 0, 8}, {0, 1, 2}, {1, 0, 3}, {1, 1, 9}});
  return model;
}

TEST_CASE("html: text arguments are escaped, Html passes, numbers are formatted") {
  const std::string name = "<b>x</b> & 'y'";
  CHECK(html("<td>{}</td>", name).str() == "<td>&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;</td>");
  CHECK(html("<td>{}</td>", std::string_view("<i>")).str() == "<td>&lt;i&gt;</td>");
  const char* pointer = "\"q\"";
  CHECK(html("{}", pointer).str() == "&quot;q&quot;");
  CHECK(html("<p>{}</p>", html("<b>{}</b>", name)).str() ==
        "<p><b>&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;</b></p>");
  CHECK(html("{:.2f} {} {}", 1.005, int64_t{-3}, size_t{7}).str() == "1.00 -3 7");
  Html joined = join(std::vector<Html>{escaped("<a>"), Html("<br>")}, ", ");
  CHECK(joined.str() == "&lt;a&gt;, <br>");
  Html out("<ul>");
  out += html("<li>{}</li>", name);
  out += "</ul>";
  CHECK(out.str() == "<ul><li>&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;</li></ul>");
}

TEST_CASE("html: escaping for text, JSON in <script> and inlined JavaScript") {
  CHECK(html_escape(R"(a&b<c>"d"'e')") == "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
  CHECK(html_escape("plain") == "plain");
  CHECK(script_safe_json(R"({"n":"</script><b>"})") == R"({"n":"\u003c/script>\u003cb>"})");
  // The escaped JSON is still the same value.
  CHECK(nlohmann::json::parse(script_safe_json(R"({"n":"</script>"})"))["n"] == "</script>");
  CHECK(escape_inline_script("s='</script>';t='</SCRIPT >'") ==
        R"(s='<\/script>';t='<\/SCRIPT >')");
  CHECK(escape_inline_script("a<!--b") == R"(a\x3C!--b)");
  CHECK(escape_inline_script("x</scrip") == "x</scrip");
  CHECK(escape_inline_script("if(a</b/)") == "if(a</b/)");
}

TEST_CASE("charts: templates take every value they name and nothing else") {
  const std::string tmpl = R"({"$comment": "c", "a": "@x", "b": [{"c": "@y"}, "@"], "d": "@x"})";
  const auto spec = fill_template(tmpl, {{"x", {1, 2}}, {"y", "@z"}});
  CHECK(spec == nlohmann::json::parse(R"({"a": [1, 2], "b": [{"c": "@z"}, "@"], "d": [1, 2]})"));
  CHECK_THROWS_AS(fill_template(tmpl, {{"x", 1}}), std::logic_error);
  CHECK_THROWS_AS(fill_template(tmpl, {{"x", 1}, {"y", 2}, {"unused", 3}}), std::logic_error);
}

TEST_CASE("html: every string from the database is escaped, in the page and in the charts") {
  const ReportModel model = hostile_model();
  const std::string page = render_html(model, kStandIns);

  CHECK(page.find("<script>alert") == std::string::npos);
  CHECK(page.find("</script>\"'&") == std::string::npos);
  // Only the page's own scripts: three libraries, the chart data, the embed code.
  CHECK(count(page, "<script") == 5);
  // Each field is shown, escaped (the hash is cut to 16 characters, a mark's first 15 bytes).
  for (int field = 1; field <= 28; ++field) {
    if (field == 13 || field == 20 || field == 24) continue;  // unused numbers
    CAPTURE(field);
    if (field >= 21 && field <= 23)
      CHECK(page.find(html_escape(hostile(field).substr(0, 16))) != std::string::npos);
    else
      CHECK(page.find(hostile_escaped(field)) != std::string::npos);
  }
  // The chart data holds the names as data, '<' written as \u003c.
  const std::string start = "<script id=\"lenetlab-charts\" type=\"application/json\">";
  const auto charts = nlohmann::json::parse(between(page, start, "</script>").substr(start.size()));
  const std::string label = charts["chart-accuracy"]["layer"][0]["data"]["values"][0]["config"];
  CHECK(label.find(hostile(6)) != std::string::npos);
  CHECK(page.find("\\u003cscript>alert(6)\\u003c/script>") != std::string::npos);
}

TEST_CASE("html: sections, tables and charts of a page") {
  const ReportModel model = hostile_model();
  const std::string page = render_html(model, kStandIns);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  for (const char* id : {"environment", "published", "leaderboard", "curves", "best", "runs",
                         "failures", "conditions-warning", "chart-accuracy", "chart-loss",
                         "chart-curve-accuracy", "chart-confusion", "class-metrics"})
    CHECK_MESSAGE(page.find(fmt::format("id=\"{}\"", id)) != std::string::npos, id);
  CHECK(page.find("var vegaEmbed = 1;") != std::string::npos);
  CHECK(page.find("http") == std::string::npos);  // offline: no external URL

  // One table row per configuration, per run and per problem run (plus the header rows).
  CHECK(count(between(page, "id=\"leaderboard-table\"", "</table>"), "<tr") ==
        model.groups.size() + 1);
  CHECK(count(between(page, "id=\"runs-table\"", "</table>"), "<tr") == model.runs.size() + 1);
  CHECK(count(between(page, "id=\"failures-table\"", "</table>"), "<tr") == 2);
  CHECK(count(between(page, "id=\"class-metrics\"", "</table>"), "<tr") == 2 + 2);

  const nlohmann::json charts = chart_specs(model);
  std::vector<std::string> ids;
  for (const auto& [id, spec] : charts.items()) ids.push_back(id);
  // No learning-rate view (one learning rate per line) and no bench rows.
  CHECK(ids == std::vector<std::string>{"chart-accuracy", "chart-confusion", "chart-cost",
                                        "chart-curve-accuracy", "chart-loss", "chart-overlay",
                                        "chart-parallel"});
  // Train rows for both epochs, validation only where it was measured.
  CHECK(charts["chart-loss"]["data"]["values"].size() == model.runs.size() * 3);
  CHECK(model.groups.size() == 3);
  CHECK(charts["chart-confusion"]["data"]["values"].size() == 4);
  CHECK(charts["chart-accuracy"]["layer"][2]["data"]["values"].size() == 3);
  // Three seeds 0.95, 0.99, 0.999: the Student-t interval would pass 100%; the one drawn stays
  // inside.
  const auto& summary = charts["chart-accuracy"]["layer"][0]["data"]["values"];
  for (const auto& row : summary) CHECK(row["hi"].get<double>() < 1.0);
}

TEST_CASE("html: a page without results says so instead of drawing charts") {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("s", "s.yaml", "name: s\n", "2024"));
  rows.runs.push_back(test::make_run(1, test::make_config("lenet5", "sgd", 0.01, 64, 1),
                                     RunStatus::queued, std::nullopt));
  rows.epochs.emplace_back();
  const ReportModel model = build_report_model(std::move(rows), "");
  CHECK(chart_specs(model).empty());
  const std::string page = render_html(model, kStandIns);
  CHECK(page.find("id=\"chart-") == std::string::npos);
  CHECK(page.find("No run has a test accuracy yet.") != std::string::npos);
  CHECK(page.find("No epoch has been recorded yet.") != std::string::npos);
  CHECK(page.find("id=\"published\"") == std::string::npos);
  CHECK(page.find("id=\"conditions-warning\"") == std::string::npos);
}

}  // namespace
}  // namespace lenetlab::report
