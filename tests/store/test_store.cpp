// Tests of store/store.hpp: schema creation, live visibility of each call from a second connection,
// rerun semantics, error reporting, read-only mode and concurrent writers.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"

namespace lenetlab {
namespace {

using lenetlab::test::TempDir;
using test::make_config;
using test::make_epoch;
using test::make_result;

/// A second, independent connection: what `lenetlab query` or the sqlite3 shell would see.
SQLite::Database reader(const std::filesystem::path& path) {
  return SQLite::Database(path.string(), SQLite::OPEN_READONLY);
}

int64_t count(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getInt64();
}

std::string text(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getString();
}

/// Message of the StoreError `body` throws (fails the test when it throws nothing or another type).
template <typename Body>
std::string store_error(Body&& body) {
  return test::error_of<StoreError>(body);
}

using test::contains;

TEST_CASE("store: a new database gets the current schema version and WAL in a created directory") {
  TempDir dir;
  const auto path = dir / "nested/dir/results.db";
  { Store store(path); }
  REQUIRE(std::filesystem::exists(path));
  SQLite::Database db = reader(path);
  CHECK(count(db, "PRAGMA user_version") == kSchemaVersion);
  CHECK(kSchemaVersion == 10);
  CHECK(text(db, "PRAGMA journal_mode") == "wal");
  for (const char* table :
       {"sweeps", "runs", "epochs", "class_metrics", "confusion", "verifications",
        "published_results", "bench_runs", "bench_results", "bench_profile"}) {
    CAPTURE(table);
    CHECK(count(db, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name = '") +
                        table + "'") == 1);
  }
}

TEST_CASE("store: a version 1 database is upgraded in place and keeps its rows") {
  TempDir dir;
  const auto path = dir / "v1.db";
  {
    SQLite::Database v1(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    // The version 1 schema: today's minus the verifications table and the two runs columns.
    v1.exec(
        "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, file TEXT NOT "
        "NULL, yaml TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)");
    v1.exec("INSERT INTO sweeps VALUES (1, 'old', 'old.yaml', 'name: old', 'x', 'x')");
    v1.exec(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, sweep_id INTEGER "
        "NOT NULL, status TEXT)");
    v1.exec("INSERT INTO runs VALUES (1, 'k', 1, 'finished')");
    v1.exec("CREATE TABLE epochs (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL)");
    v1.exec("INSERT INTO epochs VALUES (1, 1)");
    v1.exec("PRAGMA user_version = 1");
  }
  { Store store(path); }
  SQLite::Database db = reader(path);
  CHECK(count(db, "PRAGMA user_version") == kSchemaVersion);
  CHECK(count(db, "SELECT count(*) FROM sweeps WHERE name = 'old'") == 1);
  CHECK(count(db,
              "SELECT count(*) FROM pragma_table_info('runs') WHERE name IN "
              "('owner', 'heartbeat_at')") == 2);
  // Migration 10: the run is held by the sweep that prepared it.
  CHECK(count(db, "SELECT count(*) FROM sweep_runs WHERE sweep_id = 1 AND run_id = 1") == 1);
  // Epochs recorded before schema version 6 have no data hash.
  CHECK(count(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND data_hash IS NULL") == 1);
  for (const char* table : {"verifications", "published_results", "bench_runs"})
    CHECK(count(db, std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table +
                        "'") == 1);
}

TEST_CASE("store: reopening an existing database keeps its contents") {
  TempDir dir;
  const auto path = dir / "results.db";
  int64_t sweep = 0;
  {
    Store store(path);
    sweep = store.upsert_sweep("mnist-basic", "experiments/mnist-basic.yaml", "name: mnist-basic");
  }
  Store store(path);
  CHECK(store.upsert_sweep("mnist-basic", "other.yaml", "name: mnist-basic\n# edited") == sweep);
  SQLite::Database db = reader(path);
  CHECK(count(db, "SELECT count(*) FROM sweeps") == 1);
  CHECK(text(db, "SELECT file FROM sweeps") == "other.yaml");
  CHECK(text(db, "SELECT yaml FROM sweeps") == "name: mnist-basic\n# edited");
}

TEST_CASE("store: every call is visible to a second connection as soon as it returns") {
  TempDir dir;
  const auto path = dir / "results.db";
  Store store(path);
  SQLite::Database db = reader(path);
  const std::regex iso_utc_ms(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");

  const int64_t sweep = store.upsert_sweep("s", "s.yaml", "name: s");
  CHECK(count(db, "SELECT count(*) FROM sweeps") == 1);
  CHECK(std::regex_match(text(db, "SELECT created_at FROM sweeps"), iso_utc_ms));

  const RunConfig config = make_config();
  const int64_t run = store.prepare_run(sweep, config);
  const std::string where = " FROM runs WHERE id = " + std::to_string(run);
  CHECK(text(db, "SELECT status" + where) == "queued");
  CHECK(text(db, "SELECT key" + where) == config.key());
  CHECK(text(db, "SELECT name" + where) == config.display_name());
  CHECK(text(db, "SELECT config_json" + where) == config.to_json().dump());
  CHECK(text(db, "SELECT optimizer" + where) == "sgd");
  CHECK(count(db, "SELECT batch_size" + where) == 64);
  CHECK(store.run_status(config.key()) == RunStatus::queued);
  CHECK_FALSE(store.run_status("0000000000000000").has_value());

  Environment env;
  env.host = "testhost";
  env.threads = 4;
  env.isa = "avx2";
  store.start_run(run, env, ModelStats{61706, 61706, 416520}, "abc123");
  CHECK(text(db, "SELECT status" + where) == "running");
  CHECK(text(db, "SELECT host" + where) == "testhost");
  CHECK(count(db, "SELECT threads" + where) == 4);
  CHECK(count(db, "SELECT parameters" + where) == 61706);
  CHECK(text(db, "SELECT dataset_sha256" + where) == "abc123");
  CHECK(std::regex_match(text(db, "SELECT started_at" + where), iso_utc_ms));

  store.record_epoch(run, make_epoch(1));
  CHECK(count(db, "SELECT count(*) FROM epochs") == 1);
  CHECK(count(db, "SELECT epochs_completed" + where) == 1);
  store.record_epoch(run, make_epoch(2, /*validation=*/false));
  CHECK(count(db, "SELECT count(*) FROM epochs") == 2);
  CHECK(count(db, "SELECT epochs_completed" + where) == 2);
  CHECK(db.execAndGet("SELECT val_loss FROM epochs WHERE epoch = 2").isNull());
  CHECK(db.execAndGet("SELECT val_accuracy FROM epochs WHERE epoch = 1").getDouble() ==
        doctest::Approx(0.9));
}

TEST_CASE(
    "store: finish_run writes the run columns 10 class_metrics rows and 100 confusion cells") {
  TempDir dir;
  const auto path = dir / "results.db";
  Store store(path);
  const int64_t run = store.prepare_run(store.upsert_sweep("s", "s.yaml", ""), make_config());
  store.start_run(run, Environment{}, ModelStats{}, "");
  for (int e = 1; e <= 3; ++e) store.record_epoch(run, make_epoch(e));
  store.finish_run(run, make_result(0.98, 0.07, 12.5));

  SQLite::Database db = reader(path);
  const std::string where = " FROM runs WHERE id = " + std::to_string(run);
  CHECK(text(db, "SELECT status" + where) == "finished");
  CHECK(db.execAndGet("SELECT error" + where).isNull());
  CHECK(db.execAndGet("SELECT test_accuracy" + where).getDouble() == doctest::Approx(0.98));
  CHECK(db.execAndGet("SELECT test_loss" + where).getDouble() == doctest::Approx(0.07));
  CHECK(count(db, "SELECT test_images" + where) == 1000);
  CHECK(count(db, "SELECT best_epoch" + where) == 3);
  CHECK(db.execAndGet("SELECT seconds" + where).getDouble() == doctest::Approx(12.5));
  CHECK(text(db, "SELECT weights_hash" + where) == "0123456789abcdef");
  CHECK_FALSE(db.execAndGet("SELECT finished_at" + where).isNull());

  CHECK(count(db, "SELECT count(*) FROM class_metrics") == 10);
  CHECK(count(db, "SELECT sum(support) FROM class_metrics") == 1000);
  CHECK(count(db, "SELECT count(*) FROM confusion") == 100);
  CHECK(count(db, "SELECT count(*) FROM confusion WHERE count = 0") == 80);
  CHECK(count(db, "SELECT sum(count) FROM confusion") == 1000);
  CHECK(count(db, "SELECT count FROM confusion WHERE true_label = 3 AND predicted_label = 3") ==
        98);
  CHECK(count(db, "SELECT count FROM confusion WHERE true_label = 9 AND predicted_label = 0") == 2);

  // Finishing again replaces the metrics instead of duplicating them.
  store.finish_run(run, make_result(0.97, 0.08, 13));
  CHECK(count(db, "SELECT count(*) FROM class_metrics") == 10);
  CHECK(count(db, "SELECT count(*) FROM confusion") == 100);
}

TEST_CASE("store: a failed run without a test evaluation stores its error and no metrics") {
  TempDir dir;
  Store store(dir / "results.db");
  const int64_t run = store.prepare_run(store.upsert_sweep("s", "s.yaml", ""), make_config());
  RunResult result;
  result.status = RunStatus::diverged;
  result.error = "loss is NaN at epoch 2";
  result.diverged_epoch = 2;
  result.epochs_completed = 1;
  store.finish_run(run, result);
  SQLite::Database db = reader(dir / "results.db");
  CHECK(text(db, "SELECT status FROM runs") == "diverged");
  CHECK(text(db, "SELECT error FROM runs") == "loss is NaN at epoch 2");
  CHECK(count(db, "SELECT diverged_epoch FROM runs") == 2);
  CHECK(db.execAndGet("SELECT test_accuracy FROM runs").isNull());
  CHECK(db.execAndGet("SELECT weights_hash FROM runs").isNull());
  CHECK(count(db, "SELECT count(*) FROM class_metrics") == 0);
  CHECK(count(db, "SELECT count(*) FROM confusion") == 0);
}

TEST_CASE("store: rerun: a final run keeps its id and results - a non-final run is reset") {
  TempDir dir;
  const auto path = dir / "results.db";
  Store store(path);
  SQLite::Database db = reader(path);
  const int64_t sweep = store.upsert_sweep("s", "s.yaml", "");
  const RunConfig config = make_config();

  const int64_t run = store.prepare_run(sweep, config);
  store.start_run(run, Environment{}, ModelStats{}, "sha");
  for (int e = 1; e <= 3; ++e) store.record_epoch(run, make_epoch(e));

  SUBCASE("finished: unchanged, moved to the sweep that asks for it") {
    store.finish_run(run, make_result());
    const int64_t other = store.upsert_sweep("t", "t.yaml", "");
    CHECK(store.prepare_run(other, config) == run);
    CHECK(store.run_status(config.key()) == RunStatus::finished);
    CHECK(count(db, "SELECT count(*) FROM epochs") == 3);
    CHECK(count(db, "SELECT count(*) FROM confusion") == 100);
    CHECK(count(db, "SELECT epochs_completed FROM runs") == 3);
    CHECK(count(db, "SELECT sweep_id FROM runs") == other);
    CHECK(count(db, "SELECT count(*) FROM runs") == 1);
  }
  SUBCASE("failed: reset to queued, epochs deleted") {
    RunResult failed;
    failed.status = RunStatus::failed;
    failed.error = "oneDNN: out of memory";
    failed.epochs_completed = 3;
    store.finish_run(run, failed);
    CHECK(store.prepare_run(sweep, config) == run);
    CHECK(store.run_status(config.key()) == RunStatus::queued);
    CHECK(count(db, "SELECT count(*) FROM epochs") == 0);
    CHECK(count(db, "SELECT epochs_completed FROM runs") == 0);
    CHECK(db.execAndGet("SELECT error FROM runs").isNull());
    CHECK(db.execAndGet("SELECT started_at FROM runs").isNull());
    CHECK(db.execAndGet("SELECT dataset_sha256 FROM runs").isNull());
  }
  SUBCASE("still running (a crashed process): reset, epochs and metrics deleted") {
    CHECK(store.prepare_run(sweep, config) == run);
    CHECK(store.run_status(config.key()) == RunStatus::queued);
    CHECK(count(db, "SELECT count(*) FROM epochs") == 0);
  }
  SUBCASE("interrupted: reset") {
    store.mark_interrupted(run, "SIGINT");
    CHECK(store.run_status(config.key()) == RunStatus::interrupted);
    CHECK(text(db, "SELECT error FROM runs") == "SIGINT");
    CHECK(store.prepare_run(sweep, config) == run);
    CHECK(store.run_status(config.key()) == RunStatus::queued);
    CHECK(count(db, "SELECT count(*) FROM epochs") == 0);
  }
  // A different configuration is a different run.
  CHECK(store.prepare_run(sweep, make_config("lenet-relu", "sgd", 0.01, 64, 2)) != run);
}

TEST_CASE("store: mark_interrupted leaves a finished run alone") {
  TempDir dir;
  Store store(dir / "results.db");
  const RunConfig config = make_config();
  const int64_t run = store.prepare_run(store.upsert_sweep("s", "s.yaml", ""), config);
  store.finish_run(run, make_result());
  store.mark_interrupted(run, "SIGTERM");
  CHECK(store.run_status(config.key()) == RunStatus::finished);
}

TEST_CASE("store: errors name the database the operation and the SQL") {
  TempDir dir;
  const auto path = dir / "results.db";
  Store store(path);
  const int64_t run = store.prepare_run(store.upsert_sweep("s", "s.yaml", ""), make_config());
  store.record_epoch(run, make_epoch(1));

  // The same epoch again, bit-identical: a no-op (a resume restoring its checkpoint's row).
  store.record_epoch(run, make_epoch(1));
  CHECK(reader(path).execAndGet("SELECT count(*) FROM epochs").getInt() == 1);
  EpochRecord changed = make_epoch(1);
  changed.train_loss = std::nextafter(changed.train_loss, 10.0);
  const std::string duplicate = store_error([&] { store.record_epoch(run, changed); });
  CHECK(contains(duplicate, path.string()));
  CHECK(contains(duplicate, "record_epoch"));
  CHECK(contains(duplicate, "epoch 1 of run"));
  CHECK(contains(duplicate, "different metrics"));
  CHECK(reader(path).execAndGet("SELECT count(*) FROM epochs").getInt() == 1);

  CHECK(contains(store_error([&] { store.record_epoch(run + 100, make_epoch(1)); }),
                 "no run with id"));
  CHECK(contains(store_error([&] { store.start_run(run + 100, {}, {}, ""); }), "no run with id"));
  CHECK(
      contains(store_error([&] { store.finish_run(run + 100, make_result()); }), "no run with id"));
  CHECK(contains(store_error([&] { store.prepare_run(12345, make_config("other")); }),
                 "FOREIGN KEY constraint failed"));

  RunResult bad = make_result();
  bad.test->confusion.resize(99);
  CHECK(contains(store_error([&] { store.finish_run(run, bad); }), "confusion matrix of 99 cells"));
  // A failed call leaves nothing half-written.
  SQLite::Database db = reader(path);
  CHECK(count(db, "SELECT count(*) FROM epochs") == 1);
  CHECK(count(db, "SELECT count(*) FROM runs") == 1);
}

TEST_CASE("store: a newer schema version is refused") {
  TempDir dir;
  const auto path = dir / "results.db";
  { Store store(path); }
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  }
  const std::string message = store_error([&] { Store store(path); });
  CHECK(contains(message, "database schema version " + std::to_string(kSchemaVersion + 1) +
                              " is newer than this lenetlab (supports " +
                              std::to_string(kSchemaVersion) + "); upgrade lenetlab"));
  CHECK(contains(store_error([&] { ResultsReader r(path); }), "newer"));
}

TEST_CASE("store: a file that is not a SQLite database is refused") {
  TempDir dir;
  const auto path = dir / "notes.db";
  std::ofstream(path) << "these are my notes, not a database\n";
  const std::string message = store_error([&] { Store store(path); });
  CHECK(message ==
        path.string() + " is not a lenetlab results database (SQLite): file is not a database");
  CHECK(contains(store_error([&] { ResultsReader r(path); }), "file is not a database"));
}

TEST_CASE("store: a SQLite database of another program is refused and left unchanged") {
  TempDir dir;
  const auto path = dir / "other.db";
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE notes (text TEXT)");
  }
  CHECK(contains(store_error([&] { Store store(path); }), "not a lenetlab results database"));
  SQLite::Database db = reader(path);
  CHECK(count(db, "SELECT count(*) FROM sqlite_master") == 1);
}

TEST_CASE("reader: never creates a file, reads, and SQLite refuses every write") {
  TempDir dir;
  const auto path = dir / "results.db";
  CHECK(contains(store_error([&] { ResultsReader r(path); }),
                 "no results database at " + path.string()));
  CHECK_FALSE(std::filesystem::exists(path));

  const RunConfig config = make_config();
  {
    Store writer(path);
    writer.prepare_run(writer.upsert_sweep("s", "s.yaml", ""), config);
  }
  const ResultsReader r(path);
  CHECK(r.run_status(config.key()) == RunStatus::queued);
  CHECK(std::get<int64_t>(r.execute_sql("PRAGMA query_only").rows.at(0).at(0)) == 1);
  CHECK(contains(store_error([&] { r.execute_sql("DELETE FROM runs"); }), "is opened read-only"));
  // Even with query_only switched off (SQLite counts that PRAGMA as reading), nothing writes.
  r.execute_sql("PRAGMA query_only = 0");
  CHECK(contains(store_error([&] { r.execute_sql("DROP TABLE epochs"); }), "read-only"));
  CHECK(r.run_status(config.key()) == RunStatus::queued);
  CHECK(r.runs().size() == 1);
}

TEST_CASE("store: concurrent record_epoch from 4 threads x 50 epochs") {
  TempDir dir;
  const auto path = dir / "results.db";
  Store store(path);
  const int64_t sweep = store.upsert_sweep("s", "s.yaml", "");
  std::vector<int64_t> runs;
  for (uint64_t seed = 1; seed <= 4; ++seed)
    runs.push_back(store.prepare_run(sweep, make_config("lenet-relu", "sgd", 0.01, 64, seed)));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int e = 1; e <= 50; ++e) store.record_epoch(runs[t], make_epoch(e));
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  SQLite::Database db = reader(path);
  CHECK(count(db, "SELECT count(*) FROM epochs") == 200);
  CHECK(count(db, "SELECT count(*) FROM runs WHERE epochs_completed = 50") == 4);
}

}  // namespace
}  // namespace lenetlab
