// Crash safety: a real `lenetlab run` is SIGKILLed at random moments, several times, then run to
// completion. Every epoch row committed before a kill must survive unchanged and exactly once,
// the database must pass PRAGMA integrity_check after every kill, and the final results must be
// bit-identical to an uninterrupted execution (runs resume from their last epoch's checkpoint).
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

#include "data/loaders.hpp"
#include "data/process.hpp"

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lenetlab-kill-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

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

/// Starts lenetlab without waiting; stdout/stderr to /dev/null.
pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
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
  SQLite::Statement q(d, "SELECT r.key, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, "
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
  SQLite::Statement q(d, "SELECT key, weights_hash || ' ' || status || ' ' || test_accuracy FROM runs");
  std::map<std::string, std::string> out;
  while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getString();
  return out;
}

std::string integrity(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet("PRAGMA integrity_check").getString();
}

}  // namespace

TEST_CASE("e2e: SIGKILL at random moments loses nothing and the resumed results are bit-identical") {
  try {
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
  } catch (const std::exception& e) {
    FAIL("real MNIST is missing (run `bash ci/setup.sh`): " << e.what());
  }
  TempDir dir;
  const fs::path sweep = dir.path / "kill.yaml";
  std::ofstream(sweep) << kSweep;

  // Reference: one uninterrupted execution.
  const fs::path reference = dir.path / "reference" / "results.db";
  fs::create_directories(reference.parent_path());
  std::string output;
  REQUIRE(lenetlab::run_process(argv_for(reference, sweep), LENETLAB_SOURCE_DIR, &output) == 0);
  const auto expected_rows = epoch_rows(reference);
  const auto expected_final = final_hashes(reference);
  REQUIRE(expected_rows.size() == 10);

  // Killed executions: random moments (fixed seed, so the schedule is the same every time).
  const fs::path db = dir.path / "killed" / "results.db";
  fs::create_directories(db.parent_path());
  std::mt19937 rng(20261121);
  std::uniform_int_distribution<int> delay_ms(300, 2500);
  int kills = 0;
  size_t rows_before_last_kill = 0;
  for (int attempt = 0; attempt < 6; ++attempt) {
    const pid_t pid = spawn(argv_for(db, sweep));
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++kills;
    }
    if (!fs::exists(db)) continue;
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
  }
  MESSAGE(kills << " kills; " << rows_before_last_kill << " of 10 epoch rows recorded before the last");
  CHECK(kills >= 3);

  // Finish: resumes interrupted runs, skips finished ones.
  REQUIRE(lenetlab::run_process(argv_for(db, sweep), LENETLAB_SOURCE_DIR, &output) == 0);
  CHECK(integrity(db) == "ok");
  CHECK(epoch_rows(db) == expected_rows);
  CHECK(final_hashes(db) == expected_final);
}
