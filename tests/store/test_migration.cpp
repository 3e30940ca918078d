// Schema migrations (store/database.cpp): a version-2 database written by the efcfb97 release
// (tests/store/fixtures/v2-efcfb97.db, see the README there) upgrades in place to kSchemaVersion,
// keeps every row bit for bit, and the new binary queries, reports and verifies from it.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/loaders.hpp"
#include "data/process.hpp"
#include "run_cli.hpp"
#include "skip.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;
using test::CliResult;
using test::run_cli;
using test::TempDir;

const fs::path kFixture = fs::path(LENETLAB_SOURCE_DIR) / "tests/store/fixtures/v2-efcfb97.db";

/// A copy of the fixture in `dir` (the committed file is never opened in place).
fs::path copy_fixture(const TempDir& dir) {
  REQUIRE(fs::exists(kFixture));
  const fs::path copy = dir / "results.db";
  fs::copy_file(kFixture, copy);
  return copy;
}

/// Every row of every table, each value in SQLite's quote() text (REALs to 17 digits: exact).
std::map<std::string, std::vector<std::string>> dump(const fs::path& path) {
  SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
  std::vector<std::string> tables;
  SQLite::Statement names(db,
                          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                          "'sqlite_%' ORDER BY name");
  while (names.executeStep()) tables.push_back(names.getColumn(0).getString());
  std::map<std::string, std::vector<std::string>> rows;
  for (const std::string& table : tables) {
    SQLite::Statement select(db, fmt::format("SELECT * FROM {} ORDER BY rowid", table));
    auto& out = rows[table];
    while (select.executeStep()) {
      std::string row;
      for (int c = 0; c < select.getColumnCount(); ++c) {
        const SQLite::Column value = select.getColumn(c);
        row += std::string(select.getColumnName(c)) + "=";
        if (value.isNull())
          row += "NULL";
        else if (value.isFloat())
          row += fmt::format("{:.17g}", value.getDouble());
        else
          row += value.getString();
        row += "|";
      }
      out.push_back(row);
    }
  }
  return rows;
}

int user_version(const fs::path& path) {
  SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA user_version").getInt();
}

TEST_CASE("migration: a version-2 database of efcfb97 upgrades in place and keeps every row") {
  TempDir dir;
  const fs::path path = copy_fixture(dir);
  REQUIRE(user_version(path) == 2);
  const auto before = dump(path);
  REQUIRE(before.at("runs").size() == 2);
  REQUIRE(before.at("bench_results").size() == 2);  // created outside the versioned schema then

  SUBCASE("opened by the reader") {
    const ResultsReader reader(path);
    CHECK(user_version(path) == kSchemaVersion);
    const std::vector<RunRow> runs = reader.runs();
    REQUIRE(runs.size() == 2);
    for (const RunRow& run : runs) {
      CHECK(run.status == RunStatus::finished);
      CHECK(run.sweep == "fixture-v2");
      CHECK(run.test_images == 200);
      CHECK(reader.epochs(run.id).size() == 1);
      CHECK(reader.class_metrics(run.id).size() == 10);
      CHECK(reader.confusion(run.id).size() == 100);
    }
    const std::vector<VerificationRow> verifications = reader.verifications();
    REQUIRE(verifications.size() == 1);
    CHECK(verifications[0].matched);
    CHECK(reader.published_results().size() == 1);
    REQUIRE(reader.bench_runs().size() == 1);
    CHECK(reader.bench_results(reader.bench_runs()[0].id).size() == 2);
    CHECK(reader.bench_runs()[0].engine == 1);  // migration 8: older bench runs measured engine 1
    CHECK_FALSE(reader.bench_runs()[0].micro_batch.has_value());
  }
  SUBCASE("opened by the writer") {
    Store store(path);
    CHECK(user_version(path) == kSchemaVersion);
  }
  // Every table and row of version 2 is still there, value for value; nothing else was added but
  // the empty tables and the NULL columns of later migrations (4: slurm_jobs, 5: search_rungs,
  // 6: epochs.data_hash, 7: protocol_selections, 8: bench_runs.engine (1) and micro_batch), and
  // sweep_runs (10), filled from runs.sweep_id.
  const auto without_new_tables = [&path] {
    auto rows = dump(path);
    const auto strip = [](std::vector<std::string>& table, const std::string& added) {
      for (std::string& row : table) {
        REQUIRE(row.size() > added.size());
        CHECK(row.substr(row.size() - added.size()) == added);
        row.resize(row.size() - added.size());
      }
    };
    strip(rows["epochs"], "data_hash=NULL|");
    strip(rows["bench_runs"], "engine=1|micro_batch=NULL|");
    for (const char* table : {"slurm_jobs", "search_rungs", "protocol_selections"}) {
      CHECK(rows[table].empty());
      rows.erase(table);
    }
    // 10: sweep_runs, one row per run (the sweep that prepared it).
    CHECK(rows["sweep_runs"].size() == rows["runs"].size());
    rows.erase("sweep_runs");
    return rows;
  };
  CHECK(without_new_tables() == before);
  // A second opening finds the current version and changes nothing.
  { Store again(path); }
  CHECK(without_new_tables() == before);
}

TEST_CASE("migration: an upgraded database accepts the statuses of successive halving") {
  TempDir dir;
  const fs::path path = copy_fixture(dir);
  { Store store(path); }
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
  // Migration 5 widened the CHECK of runs.status in place: paused and pruned pass, others fail.
  CHECK(db.exec("UPDATE runs SET status = 'paused' WHERE id = 1") == 1);
  CHECK(db.exec("UPDATE runs SET status = 'pruned' WHERE id = 2") == 1);
  CHECK_THROWS_AS(db.exec("UPDATE runs SET status = 'sleeping' WHERE id = 1"), SQLite::Exception);
}

TEST_CASE("migration: an upgraded database and a new one have the same tables and columns") {
  TempDir dir;
  const fs::path upgraded = copy_fixture(dir);
  const fs::path fresh = dir / "fresh.db";
  { Store store(upgraded); }
  { Store store(fresh); }
  auto columns = [](const fs::path& path) {
    SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.pk FROM "
                        "sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' "
                        "ORDER BY m.name, p.cid");
    std::vector<std::string> out;
    while (q.executeStep())
      out.push_back(fmt::format("{}.{} {} {} {} {}", q.getColumn(0).getString(),
                                q.getColumn(1).getInt(), q.getColumn(2).getString(),
                                q.getColumn(3).getString(), q.getColumn(4).getInt(),
                                q.getColumn(5).getInt()));
    return out;
  };
  CHECK(columns(upgraded) == columns(fresh));
  CHECK(user_version(fresh) == kSchemaVersion);
}

TEST_CASE("migration: the new binary queries, reports and verifies a version-2 database") {
  TempDir dir;
  const fs::path path = copy_fixture(dir);
  const CliResult runs = run_cli(path, {"query", "runs", "--format", "csv"});
  CHECK(runs.status == 0);
  CHECK(test::contains(runs.output, "fixture-v2"));
  CHECK(user_version(path) == kSchemaVersion);
  const CliResult best = run_cli(path, {"query", "best", "--format", "csv"});
  CHECK(best.status == 0);
  CHECK(test::contains(best.output, "lenet-relu"));

  // Epochs of version 2 have no data hash: shown as '-', and same-data cannot compare them.
  const CliResult curve = run_cli(path, {"query", "curve", "1", "--format", "csv"});
  CHECK(curve.status == 0);
  CHECK(test::contains(curve.output, ",data_hash\n"));
  const CliResult same = run_cli(path, {"query", "same-data", "1", "2"});
  CHECK(same.status == 4);
  CHECK(test::contains(same.output, "no epoch could be compared"));

  const CliResult report = run_cli(path, {"report", "-o", (dir / "report.html").string()});
  CHECK(report.status == 0);
  CHECK(fs::file_size(dir / "report.html") > 1000);

  const fs::path mnist = dataset_cache_dir();
  if (!fs::exists(mnist / "mnist" / "train-images-idx3-ubyte"))
    LENETLAB_SKIP_TEST("MNIST not in ", mnist.string(),
                       "/mnist; run `lenetlab data fetch mnist` to verify the fixture's runs");
  for (const char* run : {"1", "2"}) {
    CAPTURE(run);
    const CliResult verify = run_cli(path, {"verify", run});
    CHECK(verify.status == 0);
    CHECK(test::contains(verify.output, "verification: MATCH"));
  }
}

}  // namespace
}  // namespace lenetlab
