// Tests of the report's comparative views: the Pareto front (report/pareto.hpp), the factors
// (report/factors.hpp), the chart data of cost, learning-rate sensitivity, overlaid curves,
// parallel coordinates and bench (report/charts.hpp), and their sections in the page.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "report/assets.hpp"
#include "report/charts.hpp"
#include "report/comparisons.hpp"
#include "report/html.hpp"
#include "report/factors.hpp"
#include "report/html_view.hpp"
#include "report/pareto.hpp"
#include "page_util.hpp"
#include "report_rows.hpp"

namespace lenetlab::report {
namespace {

using nlohmann::json;
using test::make_config;
using test::make_run;

using test::between;
using test::count;
using test::kStandIns;

/// Two architectures x {sgd lr 0.1, sgd lr 0.01 (momentum 0.9), adam lr 0.001} x seeds 1-3; test
/// accuracy = base + 0.01 x seed, where base depends on the configuration; training seconds (over
/// two epochs, each with validation) and sizes as set below.
ReportRows sweep_rows() {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("grid", "grid.yaml", "name: grid\n", "2026"));
  struct Cell {
    const char* architecture;
    const char* optimizer;
    double lr, base, seconds;
    int64_t parameters, macs;
  };
  const Cell cells[] = {
      {"small", "sgd", 0.1, 0.90, 10, 1000, 5000},
      {"small", "sgd", 0.01, 0.93, 10, 1000, 5000},
      {"small", "adam", 0.001, 0.95, 12, 1000, 5000},
      {"large", "sgd", 0.1, 0.92, 30, 9000, 40000},
      {"large", "sgd", 0.01, 0.96, 30, 9000, 40000},
      {"large", "adam", 0.001, 0.94, 35, 9000, 40000},
  };
  int64_t id = 0;
  for (const Cell& c : cells)
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      RunConfig config = make_config(c.architecture, c.optimizer, c.lr, 64, seed);
      if (config.optimizer.kind == OptimizerKind::sgd) config.optimizer.momentum = 0.9;
      config = RunConfig::from_json(config.to_json(), "test");
      RunRow r =
          make_run(++id, config, RunStatus::finished, c.base + 0.01 * static_cast<double>(seed));
      r.seconds = 100;  // wall time: not the cost axis
      r.parameters = c.parameters;
      r.macs_per_image = c.macs;
      rows.runs.push_back(r);
      // Training seconds: half of c.seconds in each epoch.
      rows.epochs.push_back(
          {{1, 0.5, 0.8, 0.6, 0.7 + 0.01 * static_cast<double>(seed), c.lr, c.seconds / 2},
           {2, 0.3, 0.9, 0.4, 0.8 + 0.01 * static_cast<double>(seed), c.lr, c.seconds / 2}});
    }
  return rows;
}

const ConfigGroup& group_of(const ReportModel& m, const std::string& arch, double lr) {
  for (const ConfigGroup& g : m.groups)
    if (m.runs[g.runs.front()].architecture == arch && m.runs[g.runs.front()].learning_rate == lr)
      return g;
  FAIL("no such configuration");
  return m.groups.front();
}

TEST_CASE("pareto: dominated points, equal points, NaN") {
  const double nan = std::nan("");
  const std::vector<CostPoint> points = {
      {1, 0.90},    // A: cheapest of the good ones
      {2, 0.95},    // B
      {3, 0.94},    // C: dearer and worse than B
      {2, 0.95},    // D: equal to B, so neither dominates the other
      {0.5, 0.80},  // E: cheapest of all
      {nan, 1.0},   // F: unknown cost
      {4, 0.95},    // G: as good as B, dearer
      {1, 0.85},    // H: as cheap as A, worse
  };
  CHECK(pareto_optimal(points) ==
        std::vector<bool>{true, true, false, true, true, false, false, false});
  CHECK(pareto_optimal(std::vector<CostPoint>{}).empty());
  CHECK(pareto_optimal(std::vector<CostPoint>{{5, 0.5}}) == std::vector<bool>{true});
}

TEST_CASE("pareto: the fronts of configurations on each cost") {
  const ReportModel m = build_report_model(sweep_rows(), "");
  const std::vector<CostFront> fronts = cost_fronts(m);
  REQUIRE(fronts.size() == kCostAxes.size());
  // Means: small 0.92, 0.95, 0.97 (10, 10, 12 s); large 0.94, 0.98, 0.96 (30, 30, 35 s).
  // Seconds: small sgd 0.01 (0.95 at 10 s) beats small sgd 0.1; small adam (0.97, 12 s) and
  // large sgd 0.01 (0.98, 30 s) are not beaten; large adam and large sgd 0.1 are.
  std::vector<std::string> optimal;
  for (size_t k = 0; k < fronts[0].groups.size(); ++k)
    if (fronts[0].optimal[k]) optimal.push_back(m.groups[fronts[0].groups[k]].label);
  CHECK(optimal == std::vector<std::string>{group_of(m, "large", 0.01).label,
                                            group_of(m, "small", 0.001).label,
                                            group_of(m, "small", 0.01).label});
  // Parameters: the same size for all three optimizers of an architecture, so only the best of
  // each size can be optimal: small adam (0.97) and large sgd 0.01 (0.98).
  size_t on_parameters = 0;
  for (size_t k = 0; k < fronts[1].groups.size(); ++k) on_parameters += fronts[1].optimal[k];
  CHECK(on_parameters == 2);
}

TEST_CASE("factors: settings that vary, in order, with the ones that vary with them") {
  const ReportModel m = build_report_model(sweep_rows(), "");
  const std::vector<Factor> factors = varying_factors(m.groups);
  REQUIRE(factors.size() == 3);
  CHECK(factors[0].path == "architecture");
  CHECK(factors[0].values == std::vector<std::string>{"large", "small"});
  CHECK(factors[1].name == "optimizer");
  CHECK(factors[1].confounded == std::vector<std::string>{"optimizer.momentum"});
  CHECK(factors[2].name == "learning rate");
  CHECK(factors[2].numeric);
  CHECK(factors[2].values == std::vector<std::string>{"0.001", "0.01", "0.1"});
  const ConfigGroup& g = group_of(m, "small", 0.1);
  const size_t index = static_cast<size_t>(&g - m.groups.data());
  CHECK(factors[0].values[*factors[0].of_group[index]] == "small");
  CHECK(factors[2].values[*factors[2].of_group[index]] == "0.1");
}

TEST_CASE("charts: cost, sensitivity, overlaid curves and parallel coordinates") {
  const ReportModel m = build_report_model(sweep_rows(), "");
  const json charts = chart_specs(m);
  for (const char* id : {"chart-cost", "chart-lr", "chart-overlay", "chart-parallel"})
    CHECK_MESSAGE(charts.contains(id), id);

  // Cost: every seed and mean on each of the three axes; the interval of 3 seeds stays in [0, 1].
  const json& cost = charts["chart-cost"];
  CHECK(cost["layer"][0]["data"]["values"].size() == 18 * 3);
  const json& means = cost["layer"][2]["data"]["values"];
  CHECK(means.size() == 6 * 3);
  for (const json& row : means) {
    CHECK(row["lo"].get<double>() >= 0);
    CHECK(row["hi"].get<double>() <= 1);
  }

  // Sensitivity: one line per architecture x optimizer; SGD has two learning rates.
  std::set<std::string> lines;
  for (const json& row : charts["chart-lr"]["layer"][1]["data"]["values"])
    lines.insert(row["line"]);
  CHECK(lines == std::set<std::string>{"large/adam", "large/sgd", "small/adam", "small/sgd"});

  // Overlay: validation accuracy of architecture "small" at epoch 2 over its 9 runs: 0.81,
  // 0.82, 0.83 (seeds 1-3), three times each -> mean 0.82.
  bool found = false;
  for (const json& row : charts["chart-overlay"]["data"]["values"])
    if (row["factor"] == "architecture" && row["value"] == "small" &&
        row["metric"] == "validation accuracy" && row["epoch"] == 2) {
      found = true;
      CHECK(row["n"] == 9);
      CHECK(row["mean"].get<double>() == doctest::Approx(0.82));
      CHECK(row["lo"].get<double>() < 0.82);
    }
  CHECK(found);

  // Parallel coordinates: per run, one row per factor and one per metric (3 + 3).
  CHECK(charts["chart-parallel"]["layer"][1]["data"]["values"].size() == 18 * 6);
}

TEST_CASE("charts: no sensitivity view when no line has two learning rates") {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("s", "s.yaml", "name: s\n", "2026"));
  int64_t id = 0;
  for (const char* optimizer : {"sgd", "adam"})
    for (uint64_t seed = 1; seed <= 2; ++seed) {
      rows.runs.push_back(
          make_run(++id, make_config("a", optimizer, optimizer[0] == 's' ? 0.01 : 0.001, 64, seed),
                   RunStatus::finished, 0.9));
      rows.epochs.emplace_back();
    }
  const json charts = chart_specs(build_report_model(std::move(rows), ""));
  CHECK(charts.contains("chart-cost"));
  CHECK_FALSE(charts.contains("chart-lr"));
  CHECK_FALSE(charts.contains("chart-overlay"));  // no epochs
}

ReportRows with_bench(ReportRows rows) {
  BenchRun matrix;
  matrix.run.id = 1;
  matrix.run.kind = "matrix";
  matrix.run.host = "<b>host</b>";
  for (const int64_t threads : {1, 2})
    for (const char* mode : {"training", "inference"})
      matrix.results.push_back({1, "lenet5", 64, threads, mode, 100.0 * threads, 110.0 * threads,
                                120.0 * threads, "[]", 1000, 1, 2, 3});
  BenchRun profile;
  profile.run.id = 2;
  profile.run.kind = "profile";
  profile.profile = {{2, 0, "lenet5", 64, 1, "data", "step", 0.1, 5, true, 2, 3},
                     {2, 1, "lenet5", 64, 1, "conv1", "forward", 1.0, 50, true, 2, 3},
                     {2, 2, "lenet5", 64, 1, "conv1", "backward_data", 0.4, 20, false, 2, 3},
                     {2, 3, "lenet5", 64, 1, "step", "whole", 2.0, 100, false, 2, 3}};
  BenchRun empty;  // interrupted before its first case: not shown
  empty.run.id = 3;
  rows.bench = {matrix, profile, empty};
  return rows;
}

TEST_CASE("bench: throughput and profile charts, tables, environment") {
  const ReportModel m = build_report_model(with_bench(sweep_rows()), "");
  REQUIRE(m.bench.size() == 2);
  const json charts = chart_specs(m);
  CHECK(charts["chart-bench-threads"]["data"]["values"].size() == 4);
  CHECK(charts["chart-bench-batch"]["data"]["values"].size() == 4);
  // The disjoint parts only, the whole step as its own layer.
  CHECK(charts["chart-bench-profile"]["layer"][0]["data"]["values"].size() == 2);
  CHECK(charts["chart-bench-profile"]["layer"][1]["data"]["values"][0]["ms"] == 2.0);

  const std::string page = render_html(m, kStandIns);
  CHECK(count(between(page, "id=\"bench-runs\"", "</table>"), "<tr") == 2 + 1);
  CHECK(count(between(page, "id=\"bench-table\"", "</table>"), "<tr") == 4 + 1);
  CHECK(page.find("&lt;b&gt;host&lt;/b&gt;") != std::string::npos);
  CHECK(page.find("<a href=\"#bench\">") != std::string::npos);
}

TEST_CASE("html: the comparisons section renders the pairs, the settings and time to target") {
  const ReportModel m = build_report_model(sweep_rows(), "");
  const ComparisonSet& set = m.comparisons;  // test accuracy, the default
  REQUIRE_FALSE(set.pairs.empty());
  const std::string page = render_html(m, kStandIns);
  const std::string section = between(page, "<section id=\"comparisons\">", "</section>");
  // One row per pair of the test-accuracy table, each with its verdict.
  const std::string table = between(section, "data-metric=\"test_accuracy\"", "</table>");
  CHECK(count(table, "<tr data-key=") == set.pairs.size());
  for (const Comparison& c : set.pairs)
    CHECK(table.find(html_escape(c.verdict)) != std::string::npos);
  CHECK(section.find("class=\"factor-summary\"") != std::string::npos);
  CHECK(section.find("id=\"targets-table\"") != std::string::npos);
  CHECK(section.find("Holm") != std::string::npos);
  // The setting selector lists each factor.
  for (const char* factor : {"architecture", "optimizer", "learning rate"})
    CHECK(section.find(fmt::format("<option value=\"{}\">", factor)) != std::string::npos);
}

TEST_CASE("html: the comparative sections and the Pareto table") {
  const ReportModel m = build_report_model(sweep_rows(), "");
  const std::string page = render_html(m, kStandIns);
  for (const char* id : {"cost", "sensitivity", "parallel", "chart-cost", "chart-lr",
                         "chart-overlay", "chart-parallel", "pareto-table"})
    CHECK_MESSAGE(page.find(fmt::format("id=\"{}\"", id)) != std::string::npos, id);
  // Optimal on some cost: small sgd 0.01, small adam, large sgd 0.01.
  CHECK(count(between(page, "id=\"pareto-table\"", "</table>"), "<tr") == 3 + 1);
  CHECK(page.find("<li>with optimizer: <code>optimizer.momentum</code></li>") != std::string::npos);
  // The navigation names only the sections present: no bench, no published results.
  const std::string nav = between(page, "<nav>", "</nav>");
  CHECK(nav.find("#cost") != std::string::npos);
  CHECK(nav.find("#bench") == std::string::npos);
  CHECK(nav.find("#published") == std::string::npos);
}

}  // namespace
}  // namespace lenetlab::report
