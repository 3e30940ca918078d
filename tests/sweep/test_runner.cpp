// The sweep runner: the plan (keys, JSON, costs, order), the job count, and run_sweep on a real
// results database with small runs of the synthetic dataset: final runs skipped, checkpoints
// cleaned up by status, --retry-failed, cancellation.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "config/architecture.hpp"
#include "store/reader.hpp"
#include "sweep_test_util.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"

namespace lenetlab::test {
namespace {

TEST_CASE("sweep: plan: each run once with its key, canonical JSON and cost") {
  Sweep sweep = small_sweep({1, 2});
  sweep.runs.push_back(make_run(lenet_relu(), "sgd", 0.01, 3, 5));
  sweep.runs.back().train_limit = 100;
  const auto plan = plan_sweep(sweep, 1000);
  REQUIRE(plan.size() == 3);
  for (size_t i = 0; i < plan.size(); ++i) {
    CAPTURE(i);
    CHECK(plan[i].index == int(i) + 1);
    CHECK(plan[i].config == &sweep.runs[i]);
    CHECK(plan[i].key == sweep.runs[i].key());
    CHECK(plan[i].config_json == sweep.runs[i].to_json().dump());
  }
  const double relu5 = double(arch_cost(lenet5_relu()).macs_per_image);
  CHECK(plan[0].cost == relu5 * 1000 * 0.9 * 2);
  // train_limit caps the images; validation_split 0.1 holds a tenth out.
  CHECK(plan[2].cost == double(arch_cost(lenet_relu()).macs_per_image) * 100 * 0.9 * 3);

  std::vector<const PlannedRun*> order = {&plan[0], &plan[1], &plan[2]};
  order_longest_first(order);
  const bool relu_longest = plan[2].cost > plan[0].cost;
  CHECK(order[0] == (relu_longest ? &plan[2] : &plan[0]));
  // Equal costs keep their sweep order.
  CHECK(std::find(order.begin(), order.end(), &plan[0]) <
        std::find(order.begin(), order.end(), &plan[1]));
}

TEST_CASE("sweep: concurrent jobs: given, or cores / threads per run, never more than runs") {
  RunnerOptions options;
  options.jobs = 3;
  CHECK(concurrent_jobs(options, 10) == 3);
  CHECK(concurrent_jobs(options, 2) == 2);
  CHECK(concurrent_jobs(options, 0) == 3);
  options.jobs = 0;
  options.threads_per_run = 1000000;
  CHECK(concurrent_jobs(options, 10) == 1);
  options.threads_per_run = 1;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CHECK(concurrent_jobs(options, 1000) == cores);
}

TEST_CASE(
    "sweep: run_sweep records every run, skips final ones, keeps only the final checkpoints") {
  TempDir dir;
  const auto db = dir / "results.db";
  const Dataset data = make_dataset(300, 60);
  const Sweep sweep = small_sweep({1, 2, 3}, 1);
  QuietOptions options;
  options.jobs = 2;
  {
    Store store(db);
    const SweepSummary s = run_sweep(sweep, data, store, options);
    CHECK(s.total == 3);
    CHECK(s.finished == 3);
    CHECK(s.not_finished() == 0);
    CHECK(s.skipped == 0);
  }
  for (const RunConfig& run : sweep.runs) {
    CAPTURE(run.seed);
    const auto dir_of_run = checkpoint_dir(db, run.key());
    CHECK(db_text(db, "SELECT status FROM runs WHERE key = '" + run.key() + "'") == "finished");
    CHECK(db_text(db, "SELECT threads FROM runs WHERE key = '" + run.key() + "'") == "1");
    CHECK_FALSE(std::filesystem::exists(checkpoint_path(dir_of_run, CheckpointKind::last)));
    CHECK(std::filesystem::exists(checkpoint_path(dir_of_run, CheckpointKind::final)));
  }
  // A second invocation finds them final.
  Store store(db);
  const SweepSummary again = run_sweep(sweep, data, store, options);
  CHECK(again.skipped == 3);
  CHECK(again.finished == 0);
}

TEST_CASE("sweep: a failed run keeps its checkpoint and --retry-failed reruns only it") {
  TempDir dir;
  const auto db = dir / "results.db";
  const Dataset data = make_dataset(300, 60);
  Sweep sweep = small_sweep({1}, 2);
  QuietOptions options;
  Store store(db);
  CHECK(run_sweep(sweep, data, store, options).finished == 1);
  sweep.runs.push_back(make_run(lenet5_relu(), "adam", 1e-3, 2, 2));
  options.time_limit_seconds = 1e-9;  // the new run fails at its first batch
  const SweepSummary limited = run_sweep(sweep, data, store, options);
  CHECK(limited.skipped == 1);
  CHECK(limited.failed == 1);
  const std::string key = sweep.runs[1].key();
  CHECK(db_text(db, "SELECT status FROM runs WHERE key = '" + key + "'") == "failed");
  CHECK(db_text(db, "SELECT error FROM runs WHERE key = '" + key + "'").find("time limit") !=
        std::string::npos);
  options.time_limit_seconds = 0;
  options.retry_failed = true;
  const SweepSummary retried = run_sweep(sweep, data, store, options);
  CHECK(retried.skipped == 1);
  CHECK(retried.finished == 1);
  CHECK(db_text(db, "SELECT status FROM runs WHERE key = '" + key + "'") == "finished");
}

TEST_CASE("sweep: a rerun under another name holds the runs it skips, both sweeps list them") {
  TempDir dir;
  const auto db = dir / "results.db";
  const Dataset data = make_dataset(300, 60);
  Sweep first = small_sweep({1, 2}, 1);
  QuietOptions options;
  Store store(db);
  CHECK(run_sweep(first, data, store, options).finished == 2);
  // The same two runs and a new one, as sweep "renamed": the two are skipped, trained once.
  Sweep renamed = small_sweep({1, 2, 3}, 1);
  renamed.name = "renamed";
  const SweepSummary s = run_sweep(renamed, data, store, options);
  CHECK(s.skipped == 2);
  CHECK(s.finished == 1);
  const ResultsReader reader(db);
  const auto names = [&](const std::string& sweep) {
    RunFilter filter;
    filter.sweep = sweep;
    std::vector<std::string> out;
    for (const RunRow& r : reader.runs(filter)) out.push_back(r.sweep + ":" + r.key);
    return out;
  };
  const std::string k1 = renamed.runs[0].key(), k2 = renamed.runs[1].key();
  const std::string k3 = renamed.runs[2].key();
  CHECK(names("small") == std::vector<std::string>{"small:" + k1, "small:" + k2});
  CHECK(names("renamed") ==
        std::vector<std::string>{"renamed:" + k1, "renamed:" + k2, "renamed:" + k3});
  CHECK(reader.runs().size() == 3);  // unfiltered: each run once
  CHECK(db_text(db, "SELECT count(*) FROM sweep_runs") == "5");
}

TEST_CASE("sweep: cancelled before it starts: nothing is trained, the runs stay queued") {
  TempDir dir;
  const auto db = dir / "results.db";
  const Dataset data = make_dataset(300, 60);
  const Sweep sweep = small_sweep({1, 2}, 1);
  QuietOptions options;
  std::atomic<bool> cancel{true};
  options.cancel = &cancel;
  Store store(db);
  const SweepSummary s = run_sweep(sweep, data, store, options);
  CHECK(s.finished + s.failed + s.interrupted == 0);
  CHECK(db_text(db, "SELECT COUNT(*) FROM runs WHERE status = 'queued'") == "2");
}

}  // namespace
}  // namespace lenetlab::test
