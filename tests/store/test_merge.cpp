// Merging results databases (store/merge.hpp) written through Store with hand-built records:
// every row once with its ids mapped, idempotence, an incremental merge of a run that progressed,
// a run's status that never moves back (pruned ahead of paused), rung decisions, a conflicting
// input refused whole, a snapshot that leaves out an uncommitted write, and bad inputs.
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store/merge.hpp"
#include "store/store.hpp"
#include "store_test_util.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

Environment environment() {
  Environment env;
  env.host = "node1";
  env.isa = "avx512_core";
  env.onednn_version = "2.6.3";
  env.threads = 1;
  return env;
}

/// A shard database with the sweep "s": run `seed` trained for `epochs` epochs, finished when
/// `finish`; returns the run's key.
std::string add_run(Store& store, uint64_t seed, int epochs, bool finish, double accuracy = 0.98) {
  const int64_t sweep = store.upsert_sweep("s", "s.yaml", "name: s\n");
  const RunConfig config = make_config("lenet-relu", "sgd", 0.01, 64, seed);
  const int64_t run = store.prepare_run(sweep, config);
  store.claim_run(run);
  store.start_run(run, environment(), {61706, 61706, 416520}, "abc");
  for (int e = 1; e <= epochs; ++e) store.record_epoch(run, make_epoch(e));
  if (finish) store.finish_run(run, make_result(accuracy));
  return config.key();
}

/// Every row of every table (ids included), ordered: equal dumps mean equal databases.
std::string dump(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement tables(d, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (tables.executeStep()) {
    const std::string table = tables.getColumn(0).getString();
    const int columns =
        d.execAndGet("SELECT count(*) FROM pragma_table_info('" + table + "')").getInt();
    SQLite::Statement rows(
        d, "SELECT * FROM \"" + table + "\" ORDER BY 1, 2" + (columns > 2 ? ", 3" : ""));
    out += "[" + table + "]\n";
    while (rows.executeStep()) {
      for (int c = 0; c < rows.getColumnCount(); ++c) {
        const SQLite::Column v = rows.getColumn(c);
        out += v.isNull()    ? "NULL"
               : v.isFloat() ? std::to_string(v.getDouble()) + "/" + std::to_string(v.getInt64())
                             : v.getString();
        out += '|';
      }
      out += '\n';
    }
  }
  return out;
}

int64_t count(const fs::path& db, const std::string& sql) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

std::string integrity(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet("PRAGMA integrity_check").getString();
}

/// No natural key occurs twice.
void check_no_duplicates(const fs::path& db) {
  for (const char* sql :
       {"SELECT count(*) - count(DISTINCT key) FROM runs",
        "SELECT count(*) - count(DISTINCT name) FROM sweeps",
        "SELECT count(*) FROM (SELECT run_id, epoch FROM epochs GROUP BY 1, 2 HAVING count(*) > 1)",
        "SELECT count(*) FROM (SELECT run_id, verified_at, host FROM verifications GROUP BY 1, 2, "
        "3 HAVING count(*) > 1)",
        "SELECT count(*) FROM (SELECT kind, started_at, host FROM bench_runs GROUP BY 1, 2, 3 "
        "HAVING count(*) > 1)"}) {
    CAPTURE(sql);
    CHECK(count(db, sql) == 0);
  }
}

TEST_CASE("merge: shards into a new database: every row once, ids mapped by natural keys") {
  TempDir dir;
  const fs::path a = dir / "a.db", b = dir / "b.db", into = dir / "into.db";
  std::string finished, partial, other;
  {
    Store store(a);
    finished = add_run(store, 1, 3, true);
    partial = add_run(store, 2, 2, false);
  }
  {
    Store store(b);
    add_run(store, 9, 1, false);  // ids 1 in b: mapped, not copied
    other = add_run(store, 3, 3, true, 0.97);
    const int64_t bench = store.begin_bench_run({0,
                                                 "matrix",
                                                 "",
                                                 {},
                                                 "m.yaml",
                                                 "m: 1\n",
                                                 "mnist",
                                                 "abc",
                                                 "node2",
                                                 "cpu",
                                                 2,
                                                 {},
                                                 "avx2",
                                                 "2.6.3",
                                                 "2021",
                                                 "gcc",
                                                 "Release",
                                                 "-O3",
                                                 "abc123"});
    BenchResultRow row;
    row.architecture = "lenet5";
    row.batch_size = 64;
    row.threads = 1;
    row.mode = "training";
    row.samples = "[1,2]";
    store.record_bench_results(bench, {row});
    store.finish_bench_run(bench);
  }
  {
    SQLite::Database d(b.string(), SQLite::OPEN_READWRITE);
    d.exec(
        "INSERT INTO verifications (run_id, verified_at, matched, epochs_compared, mismatches, "
        "details, host) SELECT id, '2026-12-03T10:00:00.000Z', 1, 3, 0, '[]', 'node2' FROM "
        "runs WHERE status = 'finished'");
  }
  ResultsMerger merger(into);
  const MergeResult ra = merger.merge(a);
  CHECK(ra.conflicts.empty());
  CHECK(ra.counts.runs_added == 2);
  CHECK(ra.counts.epochs == 5);
  CHECK(ra.counts.test_rows == 110);
  const MergeResult rb = merger.merge(b);
  CHECK(rb.conflicts.empty());
  CHECK(rb.counts.runs_added == 2);
  CHECK(rb.counts.verifications == 1);
  CHECK(rb.counts.bench_rows == 2);

  CHECK(count(into, "SELECT count(*) FROM sweeps") == 1);
  CHECK(count(into, "SELECT count(*) FROM runs") == 4);
  CHECK(count(into, "SELECT count(*) FROM epochs") == 9);
  CHECK(count(into, "SELECT count(*) FROM class_metrics") == 20);
  CHECK(count(into, "SELECT count(*) FROM confusion") == 200);
  CHECK(count(into, "SELECT count(*) FROM bench_results") == 1);
  // Each child row hangs off the run with its key in the input.
  CHECK(count(into, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.key = '" +
                        partial + "'") == 2);
  CHECK(count(into,
              "SELECT count(*) FROM verifications v JOIN runs r ON r.id = v.run_id WHERE "
              "r.key = '" +
                  other + "'") == 1);
  CHECK(count(into,
              "SELECT count(*) FROM confusion c JOIN runs r ON r.id = c.run_id WHERE r.key "
              "= '" +
                  finished + "' AND c.count = 98") == 10);
  CHECK(count(into, "SELECT count(*) FROM runs r JOIN sweeps s ON s.id = r.sweep_id") == 4);
  CHECK(integrity(into) == "ok");
  check_no_duplicates(into);

  SUBCASE("merging again changes nothing") {
    const std::string before = dump(into);
    for (const fs::path& input : {a, b, a}) {
      const MergeResult again = merger.merge(input);
      CHECK(again.conflicts.empty());
      CHECK(again.counts.unchanged());
    }
    CHECK(dump(into) == before);
  }
}

TEST_CASE("merge: incremental: a shard that progressed adds its epochs and results, never back") {
  TempDir dir;
  const fs::path shard = dir / "shard.db", into = dir / "into.db", old = dir / "old.db";
  std::string key;
  int64_t run = 0;
  Store store(shard);
  key = add_run(store, 1, 1, false);
  run = count(shard, "SELECT id FROM runs");
  ResultsMerger merger(into);
  CHECK(merger.merge(shard).counts.epochs == 1);
  {  // the state of the first merge
    SQLite::Database d(shard.string(), SQLite::OPEN_READONLY);
    d.exec("VACUUM INTO '" + old.string() + "'");
  }
  CHECK(count(into, "SELECT epochs_completed FROM runs") == 1);

  store.record_epoch(run, make_epoch(2));
  store.record_epoch(run, make_epoch(3));
  MergeResult r = merger.merge(shard);
  CHECK(r.counts.epochs == 2);
  CHECK(r.counts.runs_advanced == 1);
  CHECK(count(into, "SELECT epochs_completed FROM runs") == 3);
  CHECK(count(into, "SELECT count(*) FROM runs WHERE status = 'running'") == 1);

  store.finish_run(run, make_result());
  r = merger.merge(shard);
  CHECK(r.counts.runs_advanced == 1);
  CHECK(r.counts.test_rows == 110);
  CHECK(count(into,
              "SELECT count(*) FROM runs WHERE status = 'finished' AND test_accuracy = 0.98 "
              "AND weights_hash = '0123456789abcdef'") == 1);

  // An older snapshot of the same shard: nothing moves back, nothing is lost.
  const std::string before = dump(into);
  r = merger.merge(old);
  CHECK(r.conflicts.empty());
  CHECK(r.counts.unchanged());
  CHECK(dump(into) == before);
  CHECK(integrity(into) == "ok");
  check_no_duplicates(into);
}

TEST_CASE("merge: a run key with another value is a conflict: both values named, nothing merged") {
  TempDir dir;
  const fs::path a = dir / "a.db", b = dir / "b.db", into = dir / "into.db";
  std::string key;
  {
    Store store(a);
    key = add_run(store, 1, 3, true, 0.98);
  }
  {
    Store store(b);
    add_run(store, 1, 3, true, 0.5);  // same configuration, other results
    add_run(store, 2, 3, true);       // a new run: not merged either
  }
  ResultsMerger merger(into);
  REQUIRE(merger.merge(a).conflicts.empty());
  const std::string before = dump(into);
  const MergeResult r = merger.merge(b);
  REQUIRE_FALSE(r.conflicts.empty());
  bool accuracy = false;
  for (const MergeConflict& c : r.conflicts) {
    CHECK(c.run == key);
    if (c.row == "runs" && c.column == "test_accuracy") {
      accuracy = true;
      CHECK(c.into == "0.98");
      CHECK(c.input == "0.5");
    }
  }
  CHECK(accuracy);
  CHECK(r.counts.unchanged());
  CHECK(dump(into) == before);

  SUBCASE("an epoch that differs is a conflict even while the run is not final") {
    const fs::path c = dir / "c.db";
    {
      Store store(c);
      const int64_t sweep = store.upsert_sweep("s", "s.yaml", "name: s\n");
      const int64_t run = store.prepare_run(sweep, make_config("lenet-relu", "sgd", 0.01, 64, 1));
      EpochRecord e = make_epoch(1);
      e.train_loss = 0.25;
      store.record_epoch(run, e);
    }
    const MergeResult rc = merger.merge(c);
    REQUIRE(rc.conflicts.size() == 1);
    CHECK(rc.conflicts[0].row == "epochs epoch=1");
    CHECK(rc.conflicts[0].column == "train_loss");
    CHECK(rc.conflicts[0].into == "1");
    CHECK(rc.conflicts[0].input == "0.25");
    CHECK(dump(into) == before);
  }
}

/// Run `seed` of sweep "s" trained 1 epoch and paused at that budget (successive halving).
int64_t add_paused_run(Store& store, uint64_t seed) {
  const std::string key = add_run(store, seed, 1, false);
  const int64_t run = count(store.path(), "SELECT id FROM runs WHERE key = '" + key + "'");
  RunResult paused = make_result(0.98, 0.07, 10, RunStatus::paused);
  paused.epochs_completed = 1;
  paused.test.reset();
  store.finish_run(run, paused);
  return run;
}

/// The decision of rung 0 for `run`: ranked `rank` of 3, promoted when rank 1.
void add_rung(Store& store, int64_t run, int rank) {
  RungRow row;
  row.run_id = run;
  row.epochs = 1;
  row.metric = "val_accuracy";
  row.metric_value = 0.9;
  row.rank = rank;
  row.candidates = 3;
  row.promoted = rank == 1;
  store.record_rung(store.upsert_sweep("s", "s.yaml", "name: s\n"), 0, {row});
}

TEST_CASE("merge: successive halving: pruned is ahead of paused, rung decisions copied by keys") {
  TempDir dir;
  const fs::path a = dir / "a.db", b = dir / "b.db", c = dir / "c.db", into = dir / "into.db";
  {
    Store store(a);
    add_paused_run(store, 1);
  }
  {  // paused with the latest sign of life: by times alone it would win over pruned
    SQLite::Database d(a.string(), SQLite::OPEN_READWRITE);
    d.exec("UPDATE runs SET heartbeat_at = '2099-01-01T00:00:00.000Z'");
  }
  {
    Store store(b);
    add_run(store, 9, 1, false);  // ids differ from the target's: mapped by key
    const int64_t run = add_paused_run(store, 1);
    add_rung(store, run, 2);
    store.prune_run(run, "pruned at rung 0");
  }
  ResultsMerger merger(into);
  REQUIRE(merger.merge(a).conflicts.empty());
  CHECK(count(into, "SELECT count(*) FROM runs WHERE status = 'paused'") == 1);
  const MergeResult rb = merger.merge(b);
  REQUIRE(rb.conflicts.empty());
  CHECK(rb.counts.runs_advanced == 1);
  CHECK(rb.counts.rungs == 1);
  // The rung row hangs off the same run (by key) and sweep (by name) in the target.
  CHECK(count(into,
              "SELECT count(*) FROM search_rungs g JOIN runs r ON r.id = g.run_id JOIN sweeps s "
              "ON s.id = g.sweep_id WHERE r.status = 'pruned' AND r.seed = 1 AND s.name = 's' "
              "AND g.rank = 2 AND g.promoted = 0") == 1);
  const std::string before = dump(into);
  const MergeResult again = merger.merge(a);  // paused, later heartbeat: never back over pruned
  CHECK(again.conflicts.empty());
  CHECK(again.counts.unchanged());
  CHECK(merger.merge(b).counts.unchanged());
  CHECK(dump(into) == before);
  check_no_duplicates(into);

  {  // another decision of the same rung for the same run: refused whole
    Store store(c);
    add_rung(store, add_paused_run(store, 1), 1);
  }
  const MergeResult rc = merger.merge(c);
  REQUIRE(rc.conflicts.size() == 2);
  for (const MergeConflict& conflict : rc.conflicts) {
    CHECK(conflict.row == "search_rungs sweep=s rung=0");
    CHECK((conflict.column == "rank" || conflict.column == "promoted"));
  }
  CHECK(rc.conflicts[0].into == "2");
  CHECK(rc.conflicts[0].input == "1");
  CHECK(dump(into) == before);
}

TEST_CASE("merge: a run held by two sweeps stays held by both, whichever input brings which") {
  TempDir dir;
  const fs::path a = dir / "a.db", b = dir / "b.db", into = dir / "into.db";
  std::string key;
  {  // a: sweep s trained the run; sweep t, a rerun under another name, found it final
    Store store(a);
    key = add_run(store, 1, 2, true);
    store.add_to_sweep(store.upsert_sweep("t", "t.yaml", "name: t\n"), key);
  }
  {  // b: the same run, held by s only
    Store store(b);
    add_run(store, 1, 2, true);
  }
  const std::string held =
      "SELECT group_concat(s.name) FROM (SELECT s.name FROM sweep_runs m JOIN sweeps s ON s.id = "
      "m.sweep_id JOIN runs r ON r.id = m.run_id WHERE r.key = '" +
      key + "' ORDER BY s.name) s";
  SQLite::Database ad(a.string(), SQLite::OPEN_READONLY);
  CHECK(ad.execAndGet(held).getString() == "s,t");
  ResultsMerger merger(into);
  REQUIRE(merger.merge(b).conflicts.empty());
  const MergeResult ra = merger.merge(a);
  REQUIRE(ra.conflicts.empty());
  CHECK(ra.counts.memberships == 1);
  SQLite::Database d(into.string(), SQLite::OPEN_READONLY);
  CHECK(d.execAndGet(held).getString() == "s,t");
  CHECK(merger.merge(a).counts.unchanged());
}

TEST_CASE("merge: an epoch's data hash: a conflict when both know it, filled in when unknown") {
  TempDir dir;
  const fs::path a = dir / "a.db", b = dir / "b.db", into = dir / "into.db";
  std::string key;
  {
    Store store(a);
    key = add_run(store, 1, 2, false);
  }
  { Store store(b); }
  {
    SQLite::Database writer(b.string(), SQLite::OPEN_READWRITE);
    writer.exec("ATTACH DATABASE '" + a.string() + "' AS a");
    for (const char* table : {"sweeps", "runs", "epochs"})
      writer.exec(std::string("INSERT INTO main.") + table + " SELECT * FROM a." + table);
  }
  const auto set_hash = [](const fs::path& db, const std::string& value) {
    SQLite::Database writer(db.string(), SQLite::OPEN_READWRITE);
    writer.exec("UPDATE epochs SET data_hash = " + value + " WHERE epoch = 1");
  };
  const auto hash = [&](const fs::path& db) {
    SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
    const SQLite::Column v = d.execAndGet("SELECT data_hash FROM epochs WHERE epoch = 1");
    return v.isNull() ? std::string("NULL") : v.getString();
  };
  ResultsMerger merger(into);
  set_hash(a, "NULL");  // a database written before the column: not known
  REQUIRE(merger.merge(a).conflicts.empty());
  CHECK(hash(into) == "NULL");
  // b knows it: no conflict, the unknown value is filled in; again, nothing changes.
  const MergeResult filled = merger.merge(b);
  CHECK(filled.conflicts.empty());
  CHECK(filled.counts.epochs == 1);
  CHECK(hash(into) == "0000000000000001");
  CHECK(merger.merge(b).counts.unchanged());
  CHECK(merger.merge(a).counts.unchanged());  // NULL in the input never erases a known hash
  CHECK(hash(into) == "0000000000000001");
  // Another order or distortion stream for the same epoch is a conflict.
  set_hash(b, "'00000000000000ff'");
  const std::string before = dump(into);
  const MergeResult r = merger.merge(b);
  REQUIRE(r.conflicts.size() == 1);
  CHECK(r.conflicts[0].run == key);
  CHECK(r.conflicts[0].row == "epochs epoch=1");
  CHECK(r.conflicts[0].column == "data_hash");
  CHECK(r.conflicts[0].into == "0000000000000001");
  CHECK(r.conflicts[0].input == "00000000000000ff");
  CHECK(dump(into) == before);
}

TEST_CASE("merge: a shard being written is read as of its last commit") {
  TempDir dir;
  const fs::path shard = dir / "shard.db", into = dir / "into.db";
  {
    Store store(shard);
    add_run(store, 1, 1, false);
  }
  SQLite::Database writer(shard.string(), SQLite::OPEN_READWRITE);
  writer.exec("BEGIN IMMEDIATE");
  writer.exec(
      "INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, val_loss, val_accuracy, "
      "learning_rate, seconds, images_per_second, recorded_at) SELECT run_id, 2, train_loss, "
      "train_accuracy, val_loss, val_accuracy, learning_rate, seconds, images_per_second, "
      "recorded_at FROM epochs");
  ResultsMerger merger(into);
  CHECK(merger.merge(shard).counts.epochs == 1);  // did not wait for the writer
  writer.exec("COMMIT");
  CHECK(merger.merge(shard).counts.epochs == 1);
  CHECK(count(into, "SELECT count(*) FROM epochs") == 2);
}

TEST_CASE("merge: bad inputs are refused naming the file, the target unchanged") {
  TempDir dir;
  const fs::path into = dir / "into.db", text = dir / "notes.db", foreign = dir / "other.db";
  std::ofstream(text) << "not a database\n";
  {
    SQLite::Database d(foreign.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    d.exec("CREATE TABLE t (x)");
  }
  ResultsMerger merger(into);
  const std::string before = dump(into);
  CHECK(contains(error_of<StoreError>([&] { merger.merge(dir / "missing.db"); }),
                 "no results database at"));
  CHECK(contains(error_of<StoreError>([&] { merger.merge(text); }),
                 "notes.db is not a lenetlab results database"));
  CHECK(contains(error_of<StoreError>([&] { merger.merge(foreign); }),
                 "other.db is not a lenetlab results database"));
  CHECK(contains(error_of<StoreError>([&] { merger.merge(into); }), "is the database merged into"));
  {
    SQLite::Database d(foreign.string(), SQLite::OPEN_READWRITE);
    d.exec("PRAGMA user_version = 99");
  }
  CHECK(contains(error_of<StoreError>([&] { merger.merge(foreign); }), "upgrade lenetlab"));
  CHECK(dump(into) == before);
}

}  // namespace
}  // namespace lenetlab::test
