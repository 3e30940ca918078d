// Crash safety: a real `lenetlab run` is SIGKILLed mid-sweep several times, then run to completion.
// Every epoch row committed before a kill must survive unchanged and exactly once, the database
// must pass PRAGMA integrity_check after every kill, and the final results must be bit-identical to
// an uninterrupted execution (runs resume from their last epoch's checkpoint).
//
// The kills come from fault injection (core/crash_point.hpp, LENETLAB_CRASH_AT): the process kills
// itself at a chosen pass of a chosen point (after a batch, right after an epoch row's commit,
// between a checkpoint's write and its rename, ...). A timer-based kill lands elsewhere on a faster
// or busier machine; these land at the same places everywhere, so the test's counts are exact.
// One more kill from outside, at a seeded random delay, covers points no crash point marks.
// Second test: a tune-then-replicate protocol with successive halving, killed at crash points.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "skip.hpp"
#include "temp_dir.hpp"
#include "data/loaders.hpp"
#include "data/process.hpp"

namespace fs = std::filesystem;

namespace {

using lenetlab::test::TempDir;

constexpr const char* kSweep = R"(name: kill
dataset: mnist
base: {epochs: 5, batch_size: 64, validation_split: 0.1, train_limit: 3000, test_limit: 500}
grid:
  architecture: [lenet5-relu, lenet5-bn-dropout]
  optimizer: [adam]
)";

// Stage 1: 4 runs, rung 0 of 1 epoch, one per optimizer promoted to 2 epochs; stage 2: 2 x 2 runs
// of 2 epochs: 14 epoch rows in all.
constexpr const char* kProtocolSweep = R"(name: killproto
dataset: mnist
base: {architecture: lenet5-relu, batch_size: 64, validation_split: 0.2, train_limit: 1000,
       test_limit: 300}
search: {method: successive_halving, min_epochs: 1, reduction: 2, max_epochs: 2}
grid:
  optimizer: [sgd, adam]
  learning_rate: [0.003, 0.03]
protocol:
  tune: {seeds: [1], per: [optimizer]}
  replicate: {seeds: [11, 12]}
)";

std::vector<std::string> argv_for(const fs::path& db, const fs::path& sweep) {
  return {LENETLAB_EXECUTABLE, "--db", db.string(), "run", sweep.string(), "--jobs", "2", "-q"};
}

/// Starts lenetlab without waiting; stdout/stderr to /dev/null. `crash_at`: LENETLAB_CRASH_AT.
pid_t spawn(const std::vector<std::string>& args, const std::string& crash_at = "") {
  const pid_t pid = fork();
  if (pid == 0) {
    if (crash_at.empty())
      unsetenv("LENETLAB_CRASH_AT");
    else
      setenv("LENETLAB_CRASH_AT", crash_at.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

using EpochRow = std::tuple<double, double, double, double>;  // train loss/acc, val loss/acc
/// (run key, epoch) -> metrics, for every epoch row in the database.
std::map<std::pair<std::string, int>, EpochRow> epoch_rows(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT r.key, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, "
                      "e.val_accuracy FROM epochs e JOIN runs r ON r.id = e.run_id");
  std::map<std::pair<std::string, int>, EpochRow> rows;
  while (q.executeStep())
    rows[{q.getColumn(0).getString(), q.getColumn(1).getInt()}] = {
        q.getColumn(2).getDouble(), q.getColumn(3).getDouble(), q.getColumn(4).getDouble(),
        q.getColumn(5).getDouble()};
  return rows;
}

std::map<std::string, std::string> final_hashes(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(
      d, "SELECT key, weights_hash || ' ' || status || ' ' || test_accuracy FROM runs");
  std::map<std::string, std::string> out;
  while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getString();
  return out;
}

std::string integrity(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet("PRAGMA integrity_check").getString();
}

void require_mnist() {
  try {
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
  } catch (const std::exception& e) {
    FAIL("real MNIST is missing (run `bash ci/setup.sh`): " << e.what());
  }
}

/// Every stored value a rerun must reproduce (times, hosts and ids left out), one line each.
std::string stored(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  std::string out;
  for (const char* sql :
       {"SELECT s.name, r.key, r.status, r.error, r.epochs_completed, r.best_epoch, "
        "printf('%.17g %.17g %.17g', r.best_val_accuracy, r.test_loss, r.test_accuracy), "
        "r.test_images, r.weights_hash, r.config_json FROM runs r JOIN sweeps s ON s.id = "
        "r.sweep_id ORDER BY r.key",
        "SELECT r.key, e.epoch, printf('%.17g %.17g %.17g %.17g %.17g', e.train_loss, "
        "e.train_accuracy, e.val_loss, e.val_accuracy, e.learning_rate) FROM epochs e JOIN "
        "runs r ON r.id = e.run_id ORDER BY r.key, e.epoch",
        "SELECT r.key, c.label, printf('%.17g %.17g %.17g', c.precision, c.recall, c.f1), "
        "c.support FROM class_metrics c JOIN runs r ON r.id = c.run_id ORDER BY 1, 2",
        "SELECT r.key, c.true_label, c.predicted_label, c.count FROM confusion c JOIN runs r "
        "ON r.id = c.run_id ORDER BY 1, 2, 3",
        "SELECT s.name, r.key, g.rung, g.epochs, g.metric, printf('%.17g', g.metric_value), "
        "g.rank, g.candidates, g.promoted FROM search_rungs g JOIN runs r ON r.id = g.run_id "
        "JOIN sweeps s ON s.id = g.sweep_id ORDER BY 1, 3, 2",
        "SELECT s.name, p.group_name, r.key, p.metric, printf('%.17g', p.metric_value), "
        "p.tuning_runs, p.settings FROM protocol_selections p JOIN runs r ON r.id = p.run_id "
        "JOIN sweeps s ON s.id = p.sweep_id ORDER BY 1, 2"}) {
    SQLite::Statement q(d, sql);
    while (q.executeStep()) {
      for (int c = 0; c < q.getColumnCount(); ++c)
        out += (q.getColumn(c).isNull() ? std::string("NULL") : q.getColumn(c).getString()) + "|";
      out += "\n";
    }
    out += "--\n";
  }
  return out;
}

int64_t count(const fs::path& db, const std::string& sql) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

}  // namespace

TEST_CASE(
    "e2e: SIGKILL at random moments loses nothing and the resumed results are bit-identical") {
  require_mnist();
  TempDir dir;
  const fs::path sweep = dir.path() / "kill.yaml";
  std::ofstream(sweep) << kSweep;

  // Reference: one uninterrupted execution.
  const fs::path reference = dir.path() / "reference" / "results.db";
  fs::create_directories(reference.parent_path());
  std::string output;
  REQUIRE(lenetlab::run_process(argv_for(reference, sweep), LENETLAB_SOURCE_DIR, &output) == 0);
  const auto expected_rows = epoch_rows(reference);
  const auto expected_final = final_hashes(reference);
  REQUIRE(expected_rows.size() == 10);

  // Killed executions. 2 runs x 5 epochs x 43 batches, 2 in parallel. Each plan is reached whatever
  // the plans before it did: bounding their progress (a kill at the 3rd epoch commit leaves at most
  // 4 epochs done, "step:70" at most one more, ...) leaves enough work, so every plan kills and the
  // count is exact. "checkpoint-renamed" kills between an epoch's checkpoint and its row's commit:
  // the resume must restore that row from the checkpoint. "step:5" right after a kill at a commit
  // stops the resumed process before it could recompute a row it dropped. "run-trained:1" (last:
  // the run killed before it is still unfinished) kills after a run's last epoch and evaluation,
  // before its result is recorded: the next process must keep its rows (its last.ckpt is removed
  // only once the result is committed).
  const std::vector<std::string> plans = {
      "epoch-committed:3",    "step:5", "checkpoint-written:2", "step:70",
      "checkpoint-renamed:2", "step:5", "epoch-committed:2",    "run-trained:1"};
  const fs::path db = dir.path() / "killed" / "results.db";
  fs::create_directories(db.parent_path());
  int kills = 0;
  size_t rows_before_last_kill = 0;
  auto check_after_kill = [&](const std::string& plan) {
    INFO("after the kill at " << plan);
    REQUIRE(fs::exists(db));
    CHECK(integrity(db) == "ok");
    const auto rows = epoch_rows(db);
    // Every row committed before this kill is still there with the same values; all agree with
    // the reference (a row is never half-written, never duplicated: (run, epoch) is the key).
    for (const auto& [k, v] : rows) {
      REQUIRE(expected_rows.count(k) == 1);
      CHECK(expected_rows.at(k) == v);
    }
    CHECK(rows.size() >= rows_before_last_kill);
    rows_before_last_kill = rows.size();
  };
  for (const std::string& plan : plans) {
    const pid_t pid = spawn(argv_for(db, sweep), plan);
    REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    CHECK_MESSAGE(killed, "LENETLAB_CRASH_AT=" << plan << " was not reached");
    kills += killed;
    check_after_kill(plan);
  }
  // From outside, at a seeded random moment (it may also come after the sweep ended).
  std::mt19937 rng(20261121);
  const pid_t pid = spawn(argv_for(db, sweep));
  REQUIRE(pid > 0);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  check_after_kill("a random moment");
  MESSAGE(kills << " injected kills + 1 from outside; " << rows_before_last_kill
                << " of 10 epoch rows recorded before the run to completion");
  CHECK(kills == static_cast<int>(plans.size()));

  // Finish: resumes interrupted runs, skips finished ones.
  REQUIRE(lenetlab::run_process(argv_for(db, sweep), LENETLAB_SOURCE_DIR, &output) == 0);
  CHECK(integrity(db) == "ok");
  CHECK(epoch_rows(db) == expected_rows);
  CHECK(final_hashes(db) == expected_final);
}

// A protocol with successive halving (sweep/protocol.hpp, sweep/halving.hpp) SIGKILLed four times
// at points spread over rung 0, the rung decisions, stage 2 and between a paused run's training and
// its record, then run to completion, stores exactly what an uninterrupted run stores: every epoch
// row, every run's status and results, every rung decision and the selection. (The kill between a
// paused run's training and its record once left that run `running` for good: its rung was decided
// around it.)
TEST_CASE("e2e: a protocol with successive halving SIGKILLed 4 times stores what one run stores") {
  require_mnist();
  TempDir dir;
  const fs::path sweep = dir.path() / "killproto.yaml";
  std::ofstream(sweep) << kProtocolSweep;
  const fs::path reference = dir.path() / "reference" / "results.db";
  fs::create_directories(reference.parent_path());
  std::string output;
  REQUIRE(lenetlab::run_process(argv_for(reference, sweep), LENETLAB_SOURCE_DIR, &output) == 0);
  const std::string expected = stored(reference);
  REQUIRE(count(reference, "SELECT count(*) FROM epochs") == 14);
  REQUIRE(count(reference, "SELECT count(*) FROM runs WHERE status = 'pruned'") == 2);
  REQUIRE(count(reference, "SELECT count(*) FROM protocol_selections") == 2);

  // Each process counts its own passes: the 2nd epoch row of rung 0; a paused run trained, its
  // result not yet recorded; then the 3rd and 4th epoch rows of what is left (rung 1 and stage 2).
  const fs::path db = dir.path() / "killed" / "results.db";
  fs::create_directories(db.parent_path());
  int64_t rows = 0;
  for (const std::string plan :
       {"epoch-committed:2", "run-trained:2", "epoch-committed:3", "epoch-committed:4"}) {
    INFO("LENETLAB_CRASH_AT=" << plan);
    const pid_t pid = spawn(argv_for(db, sweep), plan);
    REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    const int64_t now = count(db, "SELECT count(*) FROM epochs");
    CHECK(now >= rows);
    CHECK(now < 14);
    rows = now;
  }
  CHECK(count(db, "SELECT count(*) FROM protocol_selections") == 2);  // the last kills: stage 2
  const int completed = lenetlab::run_process(argv_for(db, sweep), LENETLAB_SOURCE_DIR, &output);
  INFO(output);
  REQUIRE(completed == 0);
  CHECK(stored(db) == expected);
}
