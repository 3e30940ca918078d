// `lenetlab slurm` against a real single-node Slurm cluster on loopback (ci/slurm-up.sh, started by
// the ctest fixture slurm_cluster): a sweep on 2,000 real MNIST images submitted as 4 array tasks
// and collected equals, in every stored value, the same sweep run in one process with the same
// thread count; a task cancelled (scancel) in the middle of a run and resubmitted with --resume
// ends the same; sbatch's refusal and a shard directory a task cannot see are reported.
// Skipped when the cluster or MNIST is missing.
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "data/loaders.hpp"
#include "data/process.hpp"
#include "run_cli.hpp"
#include "skip.hpp"
#include "slurm/scheduler.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// 8 runs of 3 epochs: 4 shards of 2 runs (sweep/shard.hpp balances them by cost).
constexpr const char* kSweep = R"(name: slurm-e2e
dataset: mnist
base: {epochs: 3, batch_size: 64, validation_split: 0.1, train_limit: 2000, test_limit: 1000}
grid:
  architecture: [lenet5-relu, lenet5]
  optimizer: [{name: adam, learning_rate: 0.002}, {name: sgd, learning_rate: 0.05}]
  seed: [1, 2]
)";
constexpr int kRuns = 8, kEpochs = 3, kTasks = 4;

/// Why the cluster test cannot run here, or empty. Points SLURM_CONF at ci/slurm-up.sh's cluster
/// when the environment names none.
std::string missing_prerequisite() {
  const char* state = std::getenv("LENETLAB_SLURM_DIR");
  const fs::path conf =
      fs::path(state && *state ? state : "/var/tmp/lenetlab-slurm") / "slurm.conf";
  if (!std::getenv("SLURM_CONF")) setenv("SLURM_CONF", conf.c_str(), 1);
  if (find_on_path("sinfo").empty() || find_on_path("sbatch").empty())
    return "Slurm is not installed (ci/slurm-up.sh installs slurm-wlm and munge as root)";
  std::string out;
  if (run_process({"sinfo", "--noheader", "--format=%T"}, "/", &out) != 0 ||
      (out.find("idle") == std::string::npos && out.find("mix") == std::string::npos &&
       out.find("alloc") == std::string::npos))
    return "no Slurm cluster answers (bash ci/slurm-up.sh starts one): " + out;
  try {
    load_dataset("mnist", dataset_cache_dir());
  } catch (const std::exception& e) {
    return std::string("real MNIST is missing (bash ci/setup.sh fetches it): ") + e.what();
  }
  return "";
}

std::string sql_text(const fs::path& db, const std::string& sql) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getString();
}

/// Both databases hold the same results (ci/compare-results.sh: every stored value but times,
/// hosts and ids), every row once, and the file is intact.
void check_same_results(const fs::path& expected, const fs::path& actual) {
  std::string out;
  const int same = run_process(
      {"bash", LENETLAB_SOURCE_DIR "/ci/compare-results.sh", expected.string(), actual.string()},
      "/", &out);
  INFO(out);
  CHECK(same == 0);
  CHECK(out.find("\nSAME") != std::string::npos);
  CHECK(sql_text(actual, "PRAGMA integrity_check") == "ok");
  CHECK(sql_text(actual, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") ==
        std::to_string(kRuns));
  CHECK(sql_text(actual, "SELECT COUNT(*) FROM epochs") == std::to_string(kRuns * kEpochs));
  CHECK(sql_text(actual, "SELECT COUNT(*) FROM confusion") == std::to_string(kRuns * 100));
  CHECK(sql_text(actual, "SELECT COUNT(*) FROM class_metrics") == std::to_string(kRuns * 10));
}

/// The array job id of the sweep's last submission.
std::string last_job(const fs::path& db) {
  return sql_text(db, "SELECT job_id FROM slurm_jobs ORDER BY id DESC LIMIT 1");
}

/// Waits until Slurm reports every task of `tasks` of `job` and none is active (at most 180 s).
void wait_for(const std::string& job, size_t tasks) {
  const auto deadline = Clock::now() + std::chrono::seconds(180);
  while (Clock::now() < deadline) {
    const auto states = query_task_states(job);
    bool done = states.size() >= tasks;
    for (const auto& [task, state] : states) done = done && !is_active(state.state);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::string out;
  run_process({"squeue", "--array", "--states=all"}, "/", &out);
  FAIL("job ", job, " did not end within 180 s: ", out);
}

/// A reference: the sweep in one process, the thread count of the tasks (1 per run).
fs::path reference(const TempDir& dir, const fs::path& sweep) {
  const fs::path db = dir / "reference.db";
  const CliResult r =
      run_cli(db, {"run", sweep.string(), "--jobs", "2", "--threads-per-run", "1", "-q"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  return db;
}

/// The line of `text` that contains `part` (empty when none).
std::string line_of(const std::string& text, const std::string& part) {
  const size_t at = text.find(part);
  if (at == std::string::npos) return "";
  const size_t begin = text.rfind('\n', at) + 1;  // npos + 1 = 0
  return text.substr(begin, text.find('\n', at) - begin);
}

/// The sweep file and the database of a test, in a fresh directory.
struct Sweeps {
  TempDir dir;
  fs::path sweep = dir / "slurm-e2e.yaml";
  fs::path db = dir / "results" / "lenetlab.db";
  Sweeps() { std::ofstream(sweep) << kSweep; }
};

void submit_4_tasks(const Sweeps& s) {
  const CliResult submit = run_cli(s.db, {"slurm", "submit", s.sweep.string(), "--tasks", "4"});
  INFO(submit.output);
  REQUIRE(submit.status == 0);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TEST_CASE("slurm cluster: 4 array tasks collected equal the sweep run in one process") {
  if (const std::string why = missing_prerequisite(); !why.empty()) LENETLAB_SKIP_TEST(why);
  const Sweeps s;
  const fs::path &sweep = s.sweep, &db = s.db;
  const fs::path expected = reference(s.dir, sweep);
  const auto t0 = Clock::now();
  submit_4_tasks(s);
  const double submitted = seconds_since(t0);
  wait_for(last_job(db), kTasks);
  const double ran = seconds_since(t0);
  const CliResult collect = run_cli(db, {"slurm", "collect", sweep.string()});
  INFO(collect.output);
  REQUIRE(collect.status == 0);
  MESSAGE(
      fmt::format("4 tasks: submitted in {:.1f} s, all ended at {:.1f} s, collected at {:.1f} s",
                  submitted, ran, seconds_since(t0)));
  check_same_results(expected, db);

  const CliResult status = run_cli(db, {"slurm", "status", sweep.string()});
  INFO(status.output);
  CHECK(status.status == 0);
  for (int task = 0; task < kTasks; ++task)
    CHECK(line_of(status.output, fmt::format("{}_{} ", last_job(db), task)).find(" COMPLETED ") !=
          std::string::npos);
  CHECK(status.output.find("8 of 8 runs final in the shards") != std::string::npos);
  // Collecting again adds nothing.
  const CliResult again = run_cli(db, {"slurm", "collect", sweep.string()});
  CHECK(again.status == 0);
  CHECK(again.output.find("nothing new") != std::string::npos);
  check_same_results(expected, db);
}

/// Waits until a run of the shards in `shard_dir` has finished an epoch but not its last; returns
/// the task of that shard (-1 after 120 s).
int task_in_mid_run(const fs::path& shard_dir) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    for (int task = 0; task < kTasks; ++task) {
      const fs::path shard = shard_dir / fmt::format("shard-{}-of-{}.db", task, kTasks);
      if (!fs::exists(shard)) continue;
      try {
        if (sql_text(shard,
                     "SELECT COUNT(*) FROM runs WHERE status = 'running' AND "
                     "epochs_completed BETWEEN 1 AND epochs - 1") != "0")
          return task;
      } catch (const SQLite::Exception&) {  // being created
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

TEST_CASE("slurm cluster: a task cancelled mid-run, then --resume, ends as if uninterrupted") {
  if (const std::string why = missing_prerequisite(); !why.empty()) LENETLAB_SKIP_TEST(why);
  const Sweeps s;
  const fs::path &sweep = s.sweep, &db = s.db, &dir = s.dir.path();
  const fs::path expected = reference(s.dir, sweep);
  submit_4_tasks(s);
  const std::string job = last_job(db);
  const int task = task_in_mid_run(dir / "results" / "slurm" / "slurm-e2e" / "shards");
  REQUIRE(task >= 0);
  std::string out;
  REQUIRE(run_process({"scancel", fmt::format("{}_{}", job, task)}, "/", &out) == 0);
  wait_for(job, kTasks);

  const CliResult status = run_cli(db, {"slurm", "status", sweep.string()});
  INFO(status.output);
  CHECK(line_of(status.output, fmt::format("{}_{} ", job, task)).find(" CANCELLED ") !=
        std::string::npos);
  const CliResult partial = run_cli(db, {"slurm", "collect", sweep.string()});
  INFO(partial.output);
  CHECK(partial.status == 0);
  CHECK(sql_text(db, "SELECT COUNT(*) FROM runs WHERE status IN ('finished')") != "8");

  const CliResult resume = run_cli(db, {"slurm", "submit", sweep.string(), "--resume"});
  INFO(resume.output);
  REQUIRE(resume.status == 0);
  CHECK(sql_text(db, "SELECT array FROM slurm_jobs ORDER BY id DESC LIMIT 1") ==
        std::to_string(task));
  wait_for(last_job(db), 1);
  const CliResult collect = run_cli(db, {"slurm", "collect", sweep.string()});
  INFO(collect.output);
  REQUIRE(collect.status == 0);
  check_same_results(expected, db);
  // Nothing left to resubmit.
  const CliResult nothing = run_cli(db, {"slurm", "submit", sweep.string(), "--resume"});
  CHECK(nothing.status == 0);
  CHECK(nothing.output.find("nothing to resubmit") != std::string::npos);
}

TEST_CASE("slurm cluster: a refused partition and a shard directory a task cannot see") {
  if (const std::string why = missing_prerequisite(); !why.empty()) LENETLAB_SKIP_TEST(why);
  const Sweeps s;
  const fs::path &sweep = s.sweep, &db = s.db, &dir = s.dir.path();
  const CliResult refused =
      run_cli(db, {"slurm", "submit", sweep.string(), "--tasks", "2", "--partition", "nosuch"});
  INFO(refused.output);
  CHECK(refused.status == 1);
  CHECK(refused.output.find("lenetlab: error: sbatch refused the job") != std::string::npos);
  CHECK(refused.output.find("nvalid partition") != std::string::npos);

  // Held, the marker removed (as on a node that does not mount the directory), released.
  const CliResult held =
      run_cli(db, {"slurm", "submit", sweep.string(), "--tasks", "2", "--sbatch-arg=--hold"});
  INFO(held.output);
  REQUIRE(held.status == 0);
  const fs::path shards = dir / "results" / "slurm" / "slurm-e2e" / "shards";
  fs::remove(shards / ".visible-to-tasks");
  std::string out;
  REQUIRE(run_process({"scontrol", "release", last_job(db)}, "/", &out) == 0);
  wait_for(last_job(db), 2);
  const CliResult status = run_cli(db, {"slurm", "status", sweep.string()});
  INFO(status.output);
  CHECK(status.output.find("FAILED") != std::string::npos);
  CHECK(status.output.find("the shard directory marker " + (shards / ".visible-to-tasks").string() +
                           " is not visible") != std::string::npos);
  CHECK_FALSE(fs::exists(shards / "shard-0-of-2.db"));
}

}  // namespace
}  // namespace lenetlab::test
