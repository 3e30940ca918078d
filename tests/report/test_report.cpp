// Tests of framework/report: leaderboard statistics, escaping, and the HTML report rendered from a
// small results database built here (schema created by Store, rows written by hand).
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "core/error.hpp"
#include "report/assets.hpp"
#include "report/report.hpp"
#include "report/stats.hpp"
#include "store/store.hpp"

namespace fs = std::filesystem;
using lenetlab::ReportOptions;

namespace {

// t quantile at 0.975 with 2 degrees of freedom (tables of Student's t distribution).
constexpr double kT975Dof2 = 4.302652729911275;

const std::string kInjection = "<script>alert(1)</script>";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using lenetlab::test::TempDir;

/// Stand-in JS libraries (their SHA-256 do not match the pins, so tests turn verification off).
fs::path make_fake_assets(const fs::path& dir) {
  const fs::path assets = dir / "assets";
  fs::create_directories(assets);
  for (const auto& pin : lenetlab::kReportAssetPins)
    std::ofstream(assets / pin.install_as) << "/* stand-in for " << pin.package << " */ var x = 1;\n";
  return assets;
}

struct RunSpec {
  std::string sweep = "demo";
  std::string architecture = "lenet5";
  std::string optimizer = "sgd";
  double learning_rate = 0.01;
  int batch_size = 64;
  int seed = 1;
  std::string status = "finished";
  std::string error;
  std::string name;  // default: derived from the fields
  double test_accuracy = 0.98;
  std::string isa = "avx2";
  int epochs_completed = 3;
};

/// Creates the results database's schema at `path` (through Store) and returns the path as text.
std::string with_schema(const fs::path& path) {
  lenetlab::Store{path};
  return path.string();
}

/// A results database with the real schema and hand-written rows.
class TestDb {
 public:
  explicit TestDb(const fs::path& path)
      : path_(path), db_(with_schema(path), SQLite::OPEN_READWRITE) {
    db_.exec("PRAGMA synchronous = OFF");
  }

  void add_sweep(const std::string& name) {
    SQLite::Statement q(db_,
                        "INSERT INTO sweeps(name, file, yaml, created_at, updated_at) "
                        "VALUES (?, ?, ?, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')");
    q.bind(1, name);
    q.bind(2, "experiments/" + name + ".yaml");
    q.bind(3, "name: " + name + "\nseeds: [1, 2, 3]\n");
    q.exec();
  }

  int64_t add_run(const RunSpec& spec) {
    SQLite::Database& db = db_;
    SQLite::Transaction transaction(db);
    const nlohmann::json config = {
        {"architecture", spec.architecture},
        {"architecture_yaml", "layers:\n  - conv: {filters: 6, kernel: 5}\n"},
        {"dataset", "mnist"},
        {"optimizer", {{"name", spec.optimizer}, {"learning_rate", spec.learning_rate}}},
        {"batch_size", spec.batch_size},
        {"epochs", 3},
        {"seed", spec.seed}};
    const std::string name =
        spec.name.empty()
            ? fmt::format("{}/{} lr={:g} bs={} seed={}", spec.architecture, spec.optimizer,
                          spec.learning_rate, spec.batch_size, spec.seed)
            : spec.name;
    const bool finished = spec.status == "finished";
    SQLite::Statement q(db, R"sql(
      INSERT INTO runs(key, sweep_id, name, architecture, optimizer, learning_rate, batch_size,
                       epochs, seed, dataset, config_json, status, error, parameters, threads, host,
                       cpu_model, isa, onednn_version, compiler, git_commit, dataset_sha256,
                       seconds, epochs_completed, best_val_accuracy, test_accuracy)
      VALUES (?, (SELECT id FROM sweeps WHERE name = ?), ?, ?, ?, ?, ?, 3, ?, 'mnist', ?, ?, ?,
              61706, 4, 'testhost', 'Test CPU', ?, '2.6.3', 'GCC 12.2.0', 'abc123', 'deadbeef',
              ?, ?, ?, ?))sql");
    int i = 1;
    q.bind(i++, fmt::format("{:016x}", next_key_++));
    q.bind(i++, spec.sweep);
    q.bind(i++, name);
    q.bind(i++, spec.architecture);
    q.bind(i++, spec.optimizer);
    q.bind(i++, spec.learning_rate);
    q.bind(i++, spec.batch_size);
    q.bind(i++, spec.seed);
    q.bind(i++, config.dump());
    q.bind(i++, spec.status);
    if (spec.error.empty())
      q.bind(i++);
    else
      q.bind(i++, spec.error);
    q.bind(i++, spec.isa);
    q.bind(i++, 12.5 + spec.seed);
    q.bind(i++, spec.epochs_completed);
    if (finished) {
      q.bind(i++, spec.test_accuracy - 0.001);
      q.bind(i++, spec.test_accuracy);
    } else {
      q.bind(i++);
      q.bind(i++);
    }
    q.exec();
    const int64_t id = db.getLastInsertRowid();

    for (int e = 1; e <= spec.epochs_completed; ++e) {
      SQLite::Statement ep(db,
                           "INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, 1.5, 40000, "
                           "'2024-01-01T00:00:00Z')");
      ep.bind(1, id);
      ep.bind(2, e);
      ep.bind(3, 0.5 / e);
      ep.bind(4, 0.9 + 0.02 * e);
      ep.bind(5, 0.6 / e);
      ep.bind(6, 0.89 + 0.02 * e);
      ep.bind(7, spec.learning_rate);
      ep.exec();
    }
    if (finished) {
      for (int label = 0; label < 10; ++label) {
        SQLite::Statement cm(db, "INSERT INTO class_metrics VALUES (?, ?, 0.97, 0.96, 0.965, 100)");
        cm.bind(1, id);
        cm.bind(2, label);
        cm.exec();
        for (int predicted = 0; predicted < 10; ++predicted) {
          SQLite::Statement cf(db, "INSERT INTO confusion VALUES (?, ?, ?, ?)");
          cf.bind(1, id);
          cf.bind(2, label);
          cf.bind(3, predicted);
          cf.bind(4, label == predicted ? 96 : (predicted == (label + 1) % 10 ? 4 : 0));
          cf.exec();
        }
      }
    }
    transaction.commit();
    return id;
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  SQLite::Database db_;
  int next_key_ = 1;
};

const std::vector<double> kSgdAccuracies = {0.981, 0.984, 0.979};    // lenet5/sgd, seeds 1..3
const std::vector<double> kAdamAccuracies = {0.990, 0.9925, 0.988};  // lenet-relu/adam, seeds 1..3

/// Sweep "demo": 2 configurations x 3 seeds plus one failed run whose name, architecture and error
/// carry script-injection strings; sweep "other": one run. `mixed_isa` records one run on another
/// ISA.
void fill_demo(TestDb& db, bool mixed_isa) {
  db.add_sweep("demo");
  db.add_sweep("other");
  for (int seed = 1; seed <= 3; ++seed) {
    RunSpec sgd;
    sgd.seed = seed;
    sgd.test_accuracy = kSgdAccuracies[seed - 1];
    db.add_run(sgd);
    RunSpec adam;
    adam.architecture = "lenet-relu";
    adam.optimizer = "adam";
    adam.learning_rate = 0.001;
    adam.batch_size = 128;
    adam.seed = seed;
    adam.test_accuracy = kAdamAccuracies[seed - 1];
    if (mixed_isa && seed == 2) adam.isa = "avx512_core";
    db.add_run(adam);
  }
  RunSpec failed;
  failed.architecture = "bad</script><script>alert(2)</script>";
  failed.name = "</script><script>alert(3)</script>";
  failed.learning_rate = 0.5;
  failed.status = "failed";
  failed.error = "shape mismatch " + kInjection + " & 'quotes'";
  failed.epochs_completed = 1;
  db.add_run(failed);
  RunSpec other;
  other.sweep = "other";
  other.architecture = "lenet1";
  other.test_accuracy = 0.95;
  db.add_run(other);
}

std::string section(const std::string& html, const std::string& start, const std::string& end) {
  const size_t from = html.find(start);
  REQUIRE(from != std::string::npos);
  const size_t to = html.find(end, from);
  REQUIRE(to != std::string::npos);
  return html.substr(from, to - from);
}

std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const lenetlab::Error& e) {
    return e.what();
  }
  FAIL("expected lenetlab::Error");
  return {};
}

}  // namespace

TEST_CASE("report stats: mean, sample sd and Student-t CI of {0.98, 0.99, 1.00}") {
  const std::vector<double> v = {0.98, 0.99, 1.00};
  CHECK(lenetlab::stats::mean(v) == doctest::Approx(0.99).epsilon(1e-12));
  CHECK(lenetlab::stats::sample_sd(v) == doctest::Approx(0.01).epsilon(1e-9));
  CHECK(lenetlab::stats::student_t_quantile(0.975, 2) == doctest::Approx(kT975Dof2).epsilon(1e-9));
  const auto half = lenetlab::stats::t_ci_half_width(v);
  REQUIRE(half.has_value());
  CHECK(*half == doctest::Approx(kT975Dof2 * 0.01 / std::sqrt(3.0)).epsilon(1e-9));

  const auto s = lenetlab::stats::summarize(v);
  CHECK(s.n == 3);
  CHECK(s.mean == doctest::Approx(0.99));
  REQUIRE(s.sd.has_value());
  CHECK(*s.sd == doctest::Approx(0.01));
  REQUIRE(s.ci_half_width.has_value());
  CHECK(*s.ci_half_width == doctest::Approx(*half));
}

TEST_CASE("report stats: degenerate samples") {
  const std::vector<double> one = {0.97};
  CHECK(lenetlab::stats::mean(one) == doctest::Approx(0.97));
  CHECK(std::isnan(lenetlab::stats::sample_sd(one)));
  CHECK_FALSE(lenetlab::stats::t_ci_half_width(one).has_value());
  const auto s = lenetlab::stats::summarize(one);
  CHECK(s.n == 1);
  CHECK_FALSE(s.sd.has_value());
  CHECK_FALSE(s.ci_half_width.has_value());
  CHECK(std::isnan(lenetlab::stats::mean(std::vector<double>{})));
  CHECK_THROWS_AS(lenetlab::stats::student_t_quantile(1.5, 2), std::domain_error);
  CHECK_THROWS_AS(lenetlab::stats::student_t_quantile(0.5, 0), std::domain_error);
  // Large samples approach the normal quantile.
  CHECK(lenetlab::stats::student_t_quantile(0.975, 1e6) == doctest::Approx(1.959964).epsilon(1e-5));
}

TEST_CASE("report escaping: HTML text, JSON in <script>, inlined JavaScript") {
  CHECK(lenetlab::html_escape(R"(a&b<c>"d"'e')") == "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
  CHECK(lenetlab::html_escape("plain") == "plain");
  CHECK(lenetlab::script_safe_json(R"({"n":"</script><b>"})") ==
        R"({"n":"\u003c/script>\u003cb>"})");
  // The escaped JSON is still the same value.
  CHECK(nlohmann::json::parse(lenetlab::script_safe_json(R"({"n":"</script>"})"))["n"] ==
        "</script>");
  CHECK(lenetlab::escape_inline_script("s='</script>';t='</SCRIPT >'") ==
        R"(s='<\/script>';t='<\/SCRIPT >')");
  CHECK(lenetlab::escape_inline_script("a<!--b") == R"(a\x3C!--b)");
  CHECK(lenetlab::escape_inline_script("x</scrip") == "x</scrip");
  CHECK(lenetlab::escape_inline_script("if(a</b/)") == "if(a</b/)");
}

TEST_CASE("report: leaderboard, statistics and sections from a small database") {
  TempDir tmp;
  TestDb db(tmp.path() / "results.db");
  fill_demo(db, /*mixed_isa=*/false);
  const std::string db_before = read_text(db.path());

  ReportOptions options;
  options.sweep = "demo";
  options.output = tmp.path() / "demo.html";
  options.assets_dir = make_fake_assets(tmp.path());
  options.verify_assets = false;
  const auto summary = lenetlab::write_report(db.path(), options);

  REQUIRE(fs::is_regular_file(options.output));
  CHECK(summary.runs == 7);
  CHECK(summary.bytes == fs::file_size(options.output));
  const std::string html = read_text(options.output);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("lenetlab report: demo") != std::string::npos);
  CHECK(html.find("stand-in for vega-embed") != std::string::npos);
  // The report never writes to the database.
  CHECK(read_text(db.path()) == db_before);

  const std::string board = section(html, "<table id=\"leaderboard-table\"", "</table>");
  // Expected figures computed from the inserted values.
  for (const auto* values : {&kSgdAccuracies, &kAdamAccuracies}) {
    const double mean = (values->at(0) + values->at(1) + values->at(2)) / 3.0;
    double squares = 0;
    for (double v : *values) squares += (v - mean) * (v - mean);
    const double sd = std::sqrt(squares / 2.0);
    const double half = kT975Dof2 * sd / std::sqrt(3.0);
    CAPTURE(mean);
    CHECK(board.find(fmt::format("{:.2f}% &plusmn; {:.2f}", 100 * mean, 100 * sd)) !=
          std::string::npos);
    CHECK(board.find(fmt::format("[{:.2f}%, {:.2f}%]", 100 * (mean - half), 100 * (mean + half))) !=
          std::string::npos);
  }
  // Sorted by mean test accuracy: adam (higher) is C1, sgd is C2, the failed configuration last.
  const size_t adam = board.find("lenet-relu");
  const size_t sgd = board.find("<td>lenet5</td>");
  const size_t bad = board.find("bad&lt;/script&gt;");
  REQUIRE(adam != std::string::npos);
  REQUIRE(sgd != std::string::npos);
  REQUIRE(bad != std::string::npos);
  CHECK(adam < sgd);
  CHECK(sgd < bad);
  CHECK(board.find("<tr data-config=\"C1\"><td><strong>C1</strong></td><td>lenet-relu</td>") !=
        std::string::npos);
  // The single failed run has no test accuracy, hence no CI.
  CHECK(board.find("1 failed") != std::string::npos);

  // Sections and charts.
  for (const char* id : {"id=\"environment\"", "id=\"curves\"", "id=\"chart-loss\"",
                         "id=\"chart-curve-accuracy\"", "id=\"chart-confusion\"",
                         "id=\"class-metrics\"", "id=\"runs-table\"", "id=\"failures-table\""})
    CHECK_MESSAGE(html.find(id) != std::string::npos, id);
  CHECK(html.find("conditions-warning") == std::string::npos);  // same environment everywhere
  CHECK(html.find("lenet1") == std::string::npos);              // run of the other sweep excluded

  // The chart specs are valid JSON once read back from the page.
  const std::string specs_text =
      section(html, "<script id=\"lenetlab-charts\" type=\"application/json\">", "</script>")
          .substr(std::string("<script id=\"lenetlab-charts\" type=\"application/json\">").size());
  const auto specs = nlohmann::json::parse(specs_text);
  CHECK(specs.contains("chart-loss"));
  CHECK(specs.contains("chart-confusion"));
  CHECK(specs["chart-loss"]["data"]["values"].size() == 6 * 3 * 2 + 1 * 2);  // failed: 1 epoch
}

TEST_CASE("report: strings from the database cannot inject markup or script") {
  TempDir tmp;
  TestDb db(tmp.path() / "results.db");
  fill_demo(db, false);
  ReportOptions options;
  options.output = tmp.path() / "all.html";
  options.assets_dir = make_fake_assets(tmp.path());
  options.verify_assets = false;
  lenetlab::write_report(db.path(), options);
  const std::string html = read_text(options.output);

  CHECK(html.find(kInjection) == std::string::npos);
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find("</script><script>alert") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);  // the error
  CHECK(html.find("&lt;/script&gt;&lt;script&gt;alert(3)") != std::string::npos);  // the name
  CHECK(html.find("&amp; &#39;quotes&#39;") != std::string::npos);
  CHECK(html.find("\\u003c/script>\\u003cscript>alert(2)") != std::string::npos);  // chart JSON

  // Exactly the scripts we wrote: three libraries, the JSON specs, the embed code.
  size_t scripts = 0;
  for (size_t at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1))
    ++scripts;
  CHECK(scripts == 5);
  // No external URL anywhere (the stand-in libraries have none either).
  CHECK(html.find("http") == std::string::npos);
  // Both sweeps, with a sweep column.
  CHECK(html.find("lenet1") != std::string::npos);
  CHECK(html.find("<th>sweep</th>") != std::string::npos);
}

TEST_CASE("report: runs recorded on different ISAs raise the warning box") {
  TempDir tmp;
  TestDb db(tmp.path() / "results.db");
  fill_demo(db, /*mixed_isa=*/true);
  ReportOptions options;
  options.sweep = "demo";
  options.output = tmp.path() / "demo.html";
  options.assets_dir = make_fake_assets(tmp.path());
  options.verify_assets = false;
  const std::string html = lenetlab::render_report(db.path(), options);
  const std::string warning =
      section(html, "<div class=\"warning\" id=\"conditions-warning\"", "</div>");
  CHECK(warning.find("isa") != std::string::npos);
  CHECK(warning.find("avx512_core") != std::string::npos);
  CHECK(warning.find("avx2") != std::string::npos);
}

TEST_CASE("report: unknown sweep, empty database, missing or unverified assets") {
  TempDir tmp;
  TestDb db(tmp.path() / "results.db");
  fill_demo(db, false);
  ReportOptions options;
  options.output = tmp.path() / "x.html";
  options.assets_dir = make_fake_assets(tmp.path());
  options.verify_assets = false;

  options.sweep = "nope";
  const std::string unknown = error_message([&] { lenetlab::render_report(db.path(), options); });
  CHECK(unknown.find("'nope'") != std::string::npos);
  CHECK(unknown.find("demo, other") != std::string::npos);
  CHECK_FALSE(fs::exists(options.output));

  CHECK(lenetlab::list_sweeps(db.path()) == std::vector<std::string>{"demo", "other"});

  TestDb empty(tmp.path() / "empty.db");
  options.sweep.clear();
  const std::string none = error_message([&] { lenetlab::render_report(empty.path(), options); });
  CHECK(none.find("no runs") != std::string::npos);
  CHECK(none.find("sweeps present: none") != std::string::npos);
  options.sweep = "demo";
  const std::string named = error_message([&] { lenetlab::render_report(empty.path(), options); });
  CHECK(named.find("'demo'") != std::string::npos);

  CHECK_THROWS_AS(lenetlab::render_report(tmp.path() / "missing.db", options),
                  lenetlab::StoreError);

  options.assets_dir = tmp.path() / "no-assets";
  const std::string missing = error_message([&] { lenetlab::render_report(db.path(), options); });
  CHECK(missing.find("report assets (Vega-Lite) not found in") != std::string::npos);
  CHECK(missing.find("lenetlab report --fetch-assets") != std::string::npos);

  options.assets_dir = tmp.path() / "assets";
  options.verify_assets = true;
  const std::string unverified =
      error_message([&] { lenetlab::render_report(db.path(), options); });
  CHECK(unverified.find("SHA-256") != std::string::npos);
  CHECK(unverified.find(std::string(lenetlab::kReportAssetPins[0].sha256)) != std::string::npos);
}

TEST_CASE(
    "report assets: default directory follows LENETLAB_ASSETS_DIR, else sits beside the datasets") {
  const char* saved = std::getenv("LENETLAB_ASSETS_DIR");
  const std::string saved_value = saved ? saved : "";
  ::setenv("LENETLAB_ASSETS_DIR", "/tmp/some-assets", 1);
  CHECK(lenetlab::default_assets_dir() == fs::path("/tmp/some-assets"));
  ::unsetenv("LENETLAB_ASSETS_DIR");
  CHECK(lenetlab::default_assets_dir("/data/cache/datasets") == fs::path("/data/cache/assets"));
  if (saved) ::setenv("LENETLAB_ASSETS_DIR", saved_value.c_str(), 1);
}
