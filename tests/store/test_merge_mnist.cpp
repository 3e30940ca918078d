// `lenetlab run --shard I/N` and `lenetlab merge` on a small real sweep (300 MNIST training images,
// 200 test images): the merged shards hold exactly what the same sweep run in one process stores
// (ci/compare-results.sh: every epoch metric, test metric, weights hash, class-metrics row and
// confusion cell), merging again changes nothing, no row twice, `PRAGMA integrity_check` ok.
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/loaders.hpp"
#include "data/process.hpp"
#include "run_cli.hpp"
#include "skip.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using lenetlab::test::CliResult;
using lenetlab::test::run_command;
using lenetlab::test::run_lenetlab;
using lenetlab::test::TempDir;

constexpr const char* kSweep = R"(name: shards
dataset: mnist
base:
  epochs: 2
  batch_size: 32
  validation_split: 0.1
  train_limit: 300
  test_limit: 200
grid:
  architecture: [lenet5-relu, lenet5, lenet5-bn]
  optimizer: [{name: adam, learning_rate: 0.002}, {name: sgd, learning_rate: 0.02, momentum: 0.9}]
  seed: [1]
)";

bool mnist_available() {
  try {
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

/// ci/compare-results.sh on `a` and `b`: its exit status (0 SAME, 1 DIFFERENT) and its table
/// (table, rows in a, rows in b, differing rows).
CliResult compare(const fs::path& a, const fs::path& b) {
  return run_command({"bash", LENETLAB_SOURCE_DIR "/ci/compare-results.sh", a.string(), b.string()},
                     "/");
}

TEST_CASE("merge: 3 shards of a real sweep merged = the sweep run in one process, every value") {
  if (!mnist_available())
    LENETLAB_SKIP_TEST("real MNIST is missing: run `lenetlab data fetch mnist`");
  TempDir dir;
  std::ofstream(dir.path() / "shards.yaml") << kSweep;
  const CliResult one = run_lenetlab({"--db", "one.db", "run", "shards.yaml", "-q"}, dir.path());
  INFO(one.output);
  REQUIRE(one.status == 0);
  std::vector<std::string> merge_args{"merge", "--into", "merged.db"};
  for (int i = 0; i < 3; ++i) {
    const std::string db = "results/shards.shard-" + std::to_string(i) + "-of-3.db";
    const CliResult shard = run_lenetlab(
        {"--db", db, "run", "shards.yaml", "--shard", std::to_string(i) + "/3", "-q"}, dir.path());
    INFO(shard.output);
    REQUIRE(shard.status == 0);
    CHECK(shard.output.find("sweep shards: 2 runs: 2 finished") != std::string::npos);
    merge_args.push_back(db);
  }
  const CliResult merged = run_lenetlab(merge_args, dir.path());
  INFO(merged.output);
  REQUIRE(merged.status == 0);
  CHECK(merged.output.find("3 of 3 inputs merged") != std::string::npos);

  const CliResult table = compare(dir / "one.db", dir / "merged.db");
  INFO(table.output);
  CHECK(table.output.find("runs 6 6 0") != std::string::npos);
  CHECK(table.output.find("epochs 12 12 0") != std::string::npos);
  CHECK(table.output.find("confusion 600 600 0") != std::string::npos);
  CHECK(table.status == 0);
  // the comparison can fail: one shard alone differs
  CHECK(compare(dir / "one.db", dir / "results/shards.shard-0-of-3.db").status == 1);

  const CliResult again = run_lenetlab(merge_args, dir.path());
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK(again.output.find("6 runs") == std::string::npos);
  CHECK(again.output.find("2 runs, nothing new") != std::string::npos);
  SQLite::Database db((dir / "merged.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT count(*) FROM runs").getInt() == 6);
  CHECK(db.execAndGet("SELECT count(*) FROM epochs").getInt() == 12);
  CHECK(db.execAndGet("SELECT count(*) FROM confusion").getInt() == 600);
  CHECK(compare(dir / "one.db", dir / "merged.db").output == table.output);
}

}  // namespace
