// End-to-end: sweep YAML -> `lenetlab run` (oneDNN training, parallel runs) -> SQLite rows ->
// `lenetlab query` -> `lenetlab report`, on a 2,000-image subset of the real MNIST (which the
// README's test command fetches first; the test fails, naming the command, when it is missing).
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_cli.hpp"
#include "temp_dir.hpp"
#include "data/loaders.hpp"
#include "data/process.hpp"

namespace fs = std::filesystem;

namespace {

using lenetlab::test::CliResult;
using lenetlab::test::run_cli;
using lenetlab::test::TempDir;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

constexpr const char* kSweep = R"(name: e2e
dataset: mnist
base:
  epochs: 2
  batch_size: 64
  validation_split: 0.1
  train_limit: 2000
  test_limit: 1000
grid:
  architecture: [lenet5-relu, lenet5]
  optimizer: [{name: adam, learning_rate: 0.002}]
  seed: [1, 2]
)";

bool mnist_available() {
  try {
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
    return true;
  } catch (const std::exception& e) {
    MESSAGE("real MNIST is missing: " << e.what());
    return false;
  }
}

}  // namespace

TEST_CASE("e2e: sweep on 2000 real MNIST images -> database rows, query, report, rerun skips") {
  REQUIRE_MESSAGE(mnist_available(),
                  "run `bash ci/setup.sh` (it runs `lenetlab data fetch mnist`)");
  TempDir dir;
  const fs::path sweep = dir.path() / "e2e.yaml";
  write(sweep, kSweep);

  const CliResult run = run_cli(dir / "results.db", {"run", sweep.string(), "--jobs", "2"});
  INFO(run.output);
  REQUIRE(run.status == 0);

  SQLite::Database db((dir.path() / "results.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM runs").getInt() == 4);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM runs WHERE status = 'finished'").getInt() == 4);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM epochs").getInt() == 8);
  CHECK(db.execAndGet("SELECT MIN(epochs_completed) FROM runs").getInt() == 2);
  // Chance is 10%; 2 epochs (56 steps) on 1,800 images reach 70-90%.
  CHECK(db.execAndGet("SELECT MIN(test_accuracy) FROM runs").getDouble() > 0.5);
  CHECK(db.execAndGet("SELECT MIN(test_images) FROM runs").getInt() == 1000);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM class_metrics").getInt() == 40);
  CHECK(db.execAndGet("SELECT SUM(count) FROM confusion").getInt() == 4000);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM epochs WHERE val_accuracy IS NULL").getInt() == 0);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM epochs WHERE images_per_second <= 0").getInt() == 0);
  // Environment recorded with every run.
  CHECK(db.execAndGet("SELECT COUNT(*) FROM runs WHERE isa IS NULL OR onednn_version IS NULL OR "
                      "threads != 1 OR dataset_sha256 IS NULL OR git_commit IS NULL")
            .getInt() == 0);
  CHECK(
      db.execAndGet("SELECT parameters FROM runs WHERE architecture = 'lenet5' LIMIT 1").getInt() ==
      60850);
  // Same seed, same config => same key; different seeds train differently.
  CHECK(db.execAndGet("SELECT COUNT(DISTINCT weights_hash) FROM runs").getInt() == 4);

  SUBCASE("a rerun skips finished runs and keeps their rows") {
    const CliResult again = run_cli(dir / "results.db", {"run", sweep.string(), "--jobs", "2"});
    INFO(again.output);
    CHECK(again.status == 0);
    CHECK(again.output.find("4 skipped") != std::string::npos);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM epochs").getInt() == 8);
  }
  SUBCASE("results do not depend on --jobs (1 vs 2 concurrent runs): every value bit-identical") {
    TempDir other;
    const CliResult one = run_cli(other / "results.db", {"run", sweep.string(), "--jobs", "1"});
    INFO(one.output);
    REQUIRE(one.status == 0);
    const std::string q =
        "SELECT group_concat(r.key || e.epoch || ':' || quote(e.train_loss) || "
        "quote(e.val_accuracy) || r.weights_hash, ',') FROM (SELECT * FROM epochs "
        "ORDER BY run_id, epoch) e JOIN runs r ON r.id = e.run_id";
    SQLite::Database db1((other.path() / "results.db").string(), SQLite::OPEN_READONLY);
    const std::string a = db.execAndGet(q).getString(), b = db1.execAndGet(q).getString();
    CHECK(a.size() > 100);
    CHECK(a == b);
  }
  SUBCASE("query best as JSON") {
    const CliResult q =
        run_cli(dir / "results.db", {"query", "best", "--sweep", "e2e", "--format", "json"});
    INFO(q.output);
    REQUIRE(q.status == 0);
    const auto rows = nlohmann::json::parse(q.output);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0]["test_accuracy"].get<double>() >= rows[3]["test_accuracy"].get<double>());
  }
  SUBCASE("report is written and self-contained") {
    const fs::path html = dir.path() / "report.html";
    const CliResult r =
        run_cli(dir / "results.db", {"report", "--sweep", "e2e", "-o", html.string()});
    INFO(r.output);
    REQUIRE(r.status == 0);
    REQUIRE(fs::exists(html));
    std::ifstream in(html);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text.find("vegaEmbed") != std::string::npos);
    CHECK(text.find("lenet5-relu") != std::string::npos);
    CHECK(fs::file_size(html) > 500 * 1024);  // the three chart libraries are inlined
  }
}

TEST_CASE(
    "e2e: a run over its time limit fails, the sweep goes on, --retry-failed reruns only it") {
  REQUIRE_MESSAGE(mnist_available(),
                  "run `bash ci/setup.sh` (it runs `lenetlab data fetch mnist`)");
  TempDir dir;
  const fs::path sweep = dir.path() / "limits.yaml";
  // lenet-relu on 20,000 image-epochs needs > 4 s even at 5,000 images/s; lenet5-relu on 200
  // images needs ~0.05 s: far on either side of the 2 s limit, however fast or loaded the machine.
  write(sweep,
        "name: limits\nbase: {test_limit: 200}\nrecipes:\n"
        "  - {architecture: lenet-relu, epochs: 4, train_limit: 5000}\n"
        "  - {architecture: lenet5-relu, epochs: 1, train_limit: 200}\n");
  const CliResult first =
      run_cli(dir / "results.db", {"run", sweep.string(), "--jobs", "1", "--time-limit", "2"});
  INFO(first.output);
  CHECK(first.status == 3);  // some runs did not finish
  SQLite::Database db((dir.path() / "results.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT status FROM runs WHERE architecture = 'lenet-relu'").getString() ==
        "failed");
  CHECK(db.execAndGet("SELECT error FROM runs WHERE architecture = 'lenet-relu'")
            .getString()
            .find("time limit of 2 s exceeded") != std::string::npos);
  const std::string finished_hash =
      db.execAndGet("SELECT weights_hash FROM runs WHERE architecture = 'lenet5-relu'").getString();

  const CliResult retry = run_cli(dir / "results.db", {"run", sweep.string(), "--retry-failed"});
  INFO(retry.output);
  CHECK(retry.status == 0);
  CHECK(retry.output.find("1 finished") != std::string::npos);
  CHECK(retry.output.find("1 skipped") != std::string::npos);
  CHECK(db.execAndGet("SELECT count(*) FROM runs WHERE status = 'finished'").getInt() == 2);
  CHECK(db.execAndGet("SELECT weights_hash FROM runs WHERE architecture = 'lenet5-relu'")
            .getString() == finished_hash);
}

TEST_CASE("e2e: a bad sweep is refused with file:line:column before any run") {
  TempDir dir;
  const fs::path sweep = dir.path() / "bad.yaml";
  write(sweep, "name: bad\ngrid:\n  architecture: [lenet5]\n  optimizer: [{name: adamw}]\n");
  const CliResult r = run_cli(dir / "results.db", {"run", sweep.string()});
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.output.find(sweep.string() + ":4:") != std::string::npos);
  CHECK(r.output.find("adamw") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "results.db"));
}

TEST_CASE("e2e: an engine-2 run recorded with 2 threads verifies with 1, engine 1 refuses") {
  REQUIRE_MESSAGE(mnist_available(),
                  "run `bash ci/setup.sh` (it runs `lenetlab data fetch mnist`)");
  TempDir dir;
  const fs::path sweep = dir.path() / "engines.yaml";
  write(sweep,
        "name: engines\nbase: {architecture: lenet5-bn-dropout, epochs: 1, train_limit: 600,\n"
        "  test_limit: 200, validation_split: 0.1, optimizer: adam}\n"
        "grid:\n  engine: [1, 2]\n");
  const CliResult run =
      run_cli(dir / "results.db", {"run", sweep.string(), "--threads-per-run", "2"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  SQLite::Database db((dir.path() / "results.db").string(), SQLite::OPEN_READONLY);
  const auto id_of = [&](const char* where) {
    return std::to_string(
        db.execAndGet(std::string("SELECT id FROM runs WHERE ") + where).getInt64());
  };
  const std::string engine2 = id_of("config_json LIKE '%\"engine\":2%'");
  const std::string engine1 = id_of("config_json NOT LIKE '%\"engine\"%'");
  const CliResult verified = run_cli(dir / "results.db", {"verify", engine2, "--threads", "1"});
  INFO(verified.output);
  CHECK(verified.status == 0);
  CHECK(verified.output.find("1 thread(s) (recorded 2)") != std::string::npos);
  CHECK(verified.output.find("MATCH, every value bit-identical") != std::string::npos);
  const CliResult evaluated = run_cli(dir / "results.db", {"evaluate", engine2});
  INFO(evaluated.output);
  CHECK(evaluated.output.find("reproduced exactly") != std::string::npos);
  const CliResult refused = run_cli(dir / "results.db", {"verify", engine1, "--threads", "1"});
  INFO(refused.output);
  CHECK(refused.status != 0);
  CHECK(refused.output.find("results depend on the thread count") != std::string::npos);
}
