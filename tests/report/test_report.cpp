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
#include "report/report.hpp"
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

/// Records a run of `config` through Store: started, `epochs` epochs, then finished with
/// `test_accuracy` (10 classes, 100 images each) or failed when it is negative.
void record_run(Store& store, int64_t sweep, const RunConfig& config, double test_accuracy,
                int epochs = 3) {
  const int64_t id = store.prepare_run(sweep, config);
  Environment env;
  env.host = "testhost";
  env.isa = "avx2";
  env.threads = 2;
  store.start_run(id, env, ModelStats{61706, 61706, 416520}, "deadbeef");
  for (int e = 1; e <= epochs; ++e) {
    EpochRecord record;
    record.epoch = e;
    record.train_loss = 0.5 / e;
    record.train_accuracy = 0.9 + 0.02 * e;
    record.val_loss = 0.6 / e;
    record.val_accuracy = 0.89 + 0.02 * e;
    store.record_epoch(id, record);
  }
  RunResult result;
  result.epochs_completed = epochs;
  result.seconds = 10;
  if (test_accuracy < 0) {
    result.status = RunStatus::failed;
    result.error = "shape mismatch";
  } else {
    EvalMetrics test;
    test.accuracy = test_accuracy;
    test.images = 1000;
    test.confusion.assign(100, 0);
    for (int label = 0; label < 10; ++label) {
      test.confusion[label * 10 + label] = 96;
      test.confusion[label * 10 + (label + 1) % 10] = 4;
      test.per_class.push_back({label, 0.96, 0.96, 0.96, 100});
    }
    result.test = test;
    result.best_val_accuracy = test_accuracy - 0.001;
  }
  store.finish_run(id, result);
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
    record_run(store, demo, test::make_config("lenet5", "sgd", 0.01, 64, seed), kSgd[seed - 1]);
    record_run(store, demo, test::make_config("lenet-relu", "adam", 0.001, 128, seed),
               kAdam[seed - 1]);
  }
  record_run(store, demo, test::make_config("lenet5", "sgd", 0.5, 64, 1), -1, 1);
  store.set_published_results(demo, {{"lenet-relu", 0.991, 0.985, "a paper"}});
  const int64_t other = store.upsert_sweep("other", "other.yaml", "name: other\n");
  record_run(store, other, test::make_config("lenet1", "sgd", 0.01, 64, 1), 0.95);
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
