// Tests of report/report.hpp end to end: a results database written through Store, read back and
// rendered to a file; the errors for unknown sweeps, empty databases and missing assets.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "report/assets.hpp"
#include "report/model.hpp"
#include "report/report.hpp"
#include "record_run.hpp"
#include "report_rows.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Stand-in JS libraries (their SHA-256 do not match the pins, so tests turn verification off).
fs::path make_fake_assets(const fs::path& dir) {
  const fs::path assets = dir / "assets";
  fs::create_directories(assets);
  for (const auto& pin : kReportAssetPins)
    std::ofstream(assets / pin.install_as)
        << "/* stand-in for " << pin.package << " */ var x = 1;\n";
  return assets;
}

const std::vector<double> kSgd = {0.981, 0.984, 0.979};
const std::vector<double> kAdam = {0.990, 0.9925, 0.988};

/// Sweep "demo": lenet5/sgd and lenet-relu/adam x 3 seeds and one failed run, with a published
/// result; sweep "other": one run.
fs::path make_database(const TempDir& tmp) {
  const fs::path path = tmp.path() / "results.db";
  Store store(path);
  const int64_t demo = store.upsert_sweep("demo", "demo.yaml", "name: demo\n");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    test::record_run(store, demo, test::make_config("lenet5", "sgd", 0.01, 64, seed),
                     kSgd[seed - 1]);
    test::record_run(store, demo, test::make_config("lenet-relu", "adam", 0.001, 128, seed),
                     kAdam[seed - 1]);
  }
  test::record_run(store, demo, test::make_config("lenet5", "sgd", 0.5, 64, 1), -1, {1});
  store.set_published_results(demo, {{"lenet-relu", 0.991, 0.985, "a paper"}});
  const int64_t other = store.upsert_sweep("other", "other.yaml", "name: other\n");
  test::record_run(store, other, test::make_config("lenet1", "sgd", 0.01, 64, 1), 0.95);
  return path;
}

ReportOptions options_for(const TempDir& tmp, const std::string& sweep) {
  ReportOptions options;
  options.sweep = sweep;
  options.output = tmp.path() / "report.html";
  options.assets_dir = make_fake_assets(tmp.path());
  options.verify_assets = false;
  return options;
}

std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected lenetlab::Error");
  return {};
}

TEST_CASE("report: a database written by Store, rendered to a file, the database is not changed") {
  TempDir tmp;
  const fs::path db = make_database(tmp);
  const std::string db_before = read_text(db);
  const ReportOptions options = options_for(tmp, "demo");
  const ReportSummary summary = write_report(db, options);

  REQUIRE(fs::is_regular_file(options.output));
  CHECK(summary.runs == 7);
  CHECK(summary.bytes == fs::file_size(options.output));
  CHECK(read_text(db) == db_before);
  const std::string html = read_text(options.output);
  CHECK(html.find("lenetlab report: demo") != std::string::npos);
  CHECK(html.find("stand-in for vega-embed") != std::string::npos);
  CHECK(html.find("lenet1") == std::string::npos);  // the other sweep's run
  // The figures of the model reach the page (their numbers are tested in test_model.cpp).
  const double adam_mean = (kAdam[0] + kAdam[1] + kAdam[2]) / 3;
  CHECK(html.find(fmt::format("{:.2f}%", 100 * adam_mean)) != std::string::npos);
  for (const char* id : {"chart-accuracy", "chart-loss", "chart-confusion", "published"})
    CHECK_MESSAGE(html.find(fmt::format("id=\"{}\"", id)) != std::string::npos, id);

  const std::string all = render_report(db, options_for(tmp, ""));
  CHECK(all.find("lenet1") != std::string::npos);
}

TEST_CASE("report: unknown sweep, empty database, missing or unverified assets") {
  TempDir tmp;
  const fs::path db = make_database(tmp);
  ReportOptions options = options_for(tmp, "nope");
  const std::string unknown = error_message([&] { render_report(db, options); });
  CHECK(unknown.find("'nope'") != std::string::npos);
  CHECK(unknown.find("demo, other") != std::string::npos);
  CHECK_FALSE(fs::exists(options.output));
  CHECK(list_sweeps(db) == std::vector<std::string>{"demo", "other"});

  const fs::path empty = tmp.path() / "empty.db";
  Store{empty};
  options.sweep.clear();
  const std::string none = error_message([&] { render_report(empty, options); });
  CHECK(none.find("no runs") != std::string::npos);
  CHECK(none.find("sweeps present: none") != std::string::npos);
  options.sweep = "demo";
  CHECK(error_message([&] { render_report(empty, options); }).find("'demo'") != std::string::npos);
  CHECK_THROWS_AS(render_report(tmp.path() / "missing.db", options), StoreError);

  options.assets_dir = tmp.path() / "no-assets";
  const std::string missing = error_message([&] { render_report(db, options); });
  CHECK(missing.find("report assets (Vega-Lite) not found in") != std::string::npos);
  CHECK(missing.find("lenetlab report --fetch-assets") != std::string::npos);

  options.assets_dir = tmp.path() / "assets";
  options.verify_assets = true;
  const std::string unverified = error_message([&] { render_report(db, options); });
  CHECK(unverified.find("SHA-256") != std::string::npos);
  CHECK(unverified.find(std::string(kReportAssetPins[0].sha256)) != std::string::npos);

  options.verify_assets = false;
  options.output = tmp.path() / "no-such-dir" / "report.html";
  CHECK(error_message([&] {
          write_report(db, options);
        }).find(options.output.parent_path().string()) != std::string::npos);
}

/// Comparison options with `targets` (empty: the sweeps' targets keys).
report::ComparisonOptions with_targets(std::vector<double> targets) {
  report::ComparisonOptions options;
  options.targets = std::move(targets);
  return options;
}

TEST_CASE("report: time to target at the sweep's targets key, compare's --targets over them") {
  TempDir tmp;
  const fs::path db = tmp.path() / "results.db";
  {
    Store store(db);
    const int64_t demo =
        store.upsert_sweep("demo", "demo.yaml", "name: demo\ntargets: [0.92, 0.95]\n");
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      test::record_run(store, demo, test::make_config("lenet5", "sgd", 0.01, 64, seed),
                       kSgd[seed - 1]);
      test::record_run(store, demo, test::make_config("lenet5", "sgd", 0.02, 64, seed),
                       kAdam[seed - 1], {3, 0.03});
    }
    const int64_t other = store.upsert_sweep("other", "other.yaml", "name: other\n");
    test::record_run(store, other, test::make_config("lenet1", "sgd", 0.01, 64, 1), 0.95);
  }
  // Validation accuracy 0.91, 0.93, 0.95 in epochs 1 to 3 (lr 0.01): 0.92 at epoch 2, 0.95 at 3.
  const report::ReportModel demo = read_report_model(db, "demo", with_targets({}));
  REQUIRE(demo.comparisons.targets == std::vector<double>{0.92, 0.95});
  REQUIRE(demo.comparisons.run_targets.size() == 6);
  CHECK(demo.comparisons.run_targets[0].targets[0].epoch == 2);
  CHECK(demo.comparisons.run_targets[0].targets[1].epoch == 3);
  CHECK(demo.comparisons.run_targets[1].targets[0].epoch == 1);  // lr 0.02: 0.94, 0.96, 0.98
  CHECK(demo.comparisons.run_targets[1].targets[1].epoch == 2);
  // Every sweep: the union, the defaults (0.98, 0.99) for the sweep without the key.
  CHECK(read_report_model(db, "", with_targets({})).comparisons.targets ==
        std::vector<double>{0.92, 0.95, 0.98, 0.99});
  CHECK(read_report_model(db, "other", with_targets({})).comparisons.targets ==
        report::kDefaultTargets);
  // Given targets (compare --targets) win.
  CHECK(read_report_model(db, "demo", with_targets({0.9})).comparisons.targets ==
        std::vector<double>{0.9});
  const std::string html = render_report(db, options_for(tmp, "demo"));
  const std::size_t start = html.find("id=\"targets-table\"");
  REQUIRE(start != std::string::npos);
  const std::string table = html.substr(start, html.find("</table>", start) - start);
  CHECK(table.find("92.00%") != std::string::npos);
  CHECK(table.find("95.00%") != std::string::npos);
  CHECK(table.find("98.00%") == std::string::npos);
  // A stored text whose targets the loader refuses: its position, not a crash.
  {
    Store store(db);
    store.upsert_sweep("demo", "demo.yaml", "name: demo\ntargets: [0.95, 0.92]\n");
  }
  const std::string bad = error_message([&] { render_report(db, options_for(tmp, "demo")); });
  CHECK(bad.find("sweep 'demo' as stored in") != std::string::npos);
  CHECK(bad.find(":2:17: 'targets' must increase") != std::string::npos);
}

/// A database shaped like the quickstart's (30 runs): 5 architectures x 3 optimizers x 2 seeds,
/// with the cases that broke reports: configurations whose seeds differ by 1e-12 (a tiny sd of
/// the paired differences: Boost.Math's noncentral t threw inside seeds_needed), one with the
/// same results on both seeds, runs without epoch times, a failed run.
fs::path make_quickstart_database(const TempDir& tmp) {
  const fs::path path = tmp.path() / "quickstart.db";
  Store store(path);
  const int64_t sweep = store.upsert_sweep("quickstart", "quickstart.yaml", "name: quickstart\n");
  const std::vector<std::string> architectures = {"lenet5", "lenet-relu", "lenet5-bn",
                                                  "lenet5-bn-dropout", "lenet5-relu"};
  const std::vector<std::pair<std::string, double>> optimizers = {
      {"sgd", 0.01}, {"adam", 0.001}, {"rmsprop", 0.001}};
  for (std::size_t a = 0; a < architectures.size(); ++a)
    for (std::size_t o = 0; o < optimizers.size(); ++o)
      for (uint64_t seed = 1; seed <= 2; ++seed) {
        const RunConfig config = test::make_config(architectures[a], optimizers[o].first,
                                                   optimizers[o].second, 64, seed);
        const double base = 0.97 + 0.002 * static_cast<double>(a) + 0.001 * static_cast<double>(o);
        double accuracy = base + (seed == 2 ? 0.0015 * static_cast<double>((a + o) % 3) : 0);
        if (a == 0) accuracy = base + (seed == 2 ? 1e-12 * static_cast<double>(o + 1) : 0);
        if (a == 1 && o == 1) accuracy = 0.975;            // identical seeds
        if (a == 4 && o == 2 && seed == 2) accuracy = -1;  // failed
        test::record_run(
            store, sweep, config, accuracy,
            {3, 0.01 * static_cast<double>(o), a == 2 ? 0 : 1.5 + 0.1 * static_cast<double>(a)});
      }
  return path;
}

TEST_CASE("report: a quickstart-shaped database renders, on every comparison metric") {
  TempDir tmp;
  const fs::path db = make_quickstart_database(tmp);
  const std::string html = render_report(db, options_for(tmp, ""));
  CHECK(html.find("id=\"targets-table\"") != std::string::npos);
  for (const report::ComparisonMetricInfo& info : report::kComparisonMetrics) {
    CAPTURE(info.name);
    report::ComparisonOptions options;
    options.metric = info.metric;
    const report::ReportModel m = read_report_model(db, "", options);
    CHECK(m.runs.size() == 30);
    CHECK(m.groups.size() == 15);
    CHECK_FALSE(m.comparisons.pairs.empty());
  }
  // The tiny-sd pairs are tested (lenet5 differs from lenet5 by optimizer at 1e-12 per seed).
  const report::ReportModel m = read_report_model(db, "", {});
  bool tiny = false, identical = false;
  for (const report::Comparison& c : m.comparisons.pairs) {
    CAPTURE(c.verdict);
    CHECK_FALSE(c.verdict.empty());
    if (c.factor == "optimizer" && c.paired && c.p_value && *c.p_value < 1e-6) tiny = true;
    if (c.verdict.find("no difference") != std::string::npos ||
        c.verdict.find("does not vary") != std::string::npos)
      identical = true;
  }
  CHECK(tiny);
  CHECK(identical);
}

TEST_CASE(
    "report assets: default directory follows LENETLAB_ASSETS_DIR, else sits beside the datasets") {
  const char* saved = std::getenv("LENETLAB_ASSETS_DIR");
  const std::string saved_value = saved ? saved : "";
  ::setenv("LENETLAB_ASSETS_DIR", "/tmp/some-assets", 1);
  CHECK(default_assets_dir() == fs::path("/tmp/some-assets"));
  ::unsetenv("LENETLAB_ASSETS_DIR");
  CHECK(default_assets_dir("/data/cache/datasets") == fs::path("/data/cache/assets"));
  if (saved) ::setenv("LENETLAB_ASSETS_DIR", saved_value.c_str(), 1);
}

}  // namespace
}  // namespace lenetlab
