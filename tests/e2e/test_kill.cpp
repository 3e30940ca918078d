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

}  // namespace

TEST_CASE(
    "e2e: SIGKILL at random moments loses nothing and the resumed results are bit-identical") {
  try {
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
  } catch (const std::exception& e) {
    FAIL("real MNIST is missing (run `bash ci/setup.sh`): " << e.what());
  }
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
