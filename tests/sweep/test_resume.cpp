// The resume contract through run_sweep, on a real results database: a run interrupted after
// epoch 1 under --threads-per-run 1 is refused under 2 (recorded as failed with the one-line
// message, its rows and checkpoint kept); with --restart-mismatched it equals an uninterrupted
// 2-thread run; under 1 thread it equals an uninterrupted 1-thread run. A checkpoint written by
// efcfb97 (format 1) resumes under the thread count the database recorded.
#include <doctest/doctest.h>
#include <stdio.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "sweep_test_util.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

/// A progress stream that sets `cancel` when the runner reports the end of epoch 1 (its row is
/// committed, its checkpoint written): the run then stops at the next batch, as after Ctrl-C.
class CancelAfterEpoch1 {
 public:
  explicit CancelAfterEpoch1(std::atomic<bool>& cancel) : cancel_(cancel) {
    cookie_io_functions_t io{};
    io.write = [](void* self, const char* data, size_t size) -> ssize_t {
      if (std::string(data, size).find(" epoch 1/") != std::string::npos)
        static_cast<CancelAfterEpoch1*>(self)->cancel_ = true;
      return static_cast<ssize_t>(size);
    };
    file_ = fopencookie(this, "w", io);
    setvbuf(file_, nullptr, _IOLBF, 0);
  }
  ~CancelAfterEpoch1() { std::fclose(file_); }
  CancelAfterEpoch1(const CancelAfterEpoch1&) = delete;
  CancelAfterEpoch1& operator=(const CancelAfterEpoch1&) = delete;
  std::FILE* file() const { return file_; }

 private:
  std::atomic<bool>& cancel_;
  std::FILE* file_ = nullptr;
};

/// Runs `sweep` on the database in `dir` under `threads` threads per run.
SweepSummary run_in(const fs::path& dir, const Sweep& sweep, const Dataset& data, int threads,
                    bool restart_mismatched = false) {
  QuietOptions options;
  options.threads_per_run = threads;
  options.restart_mismatched = restart_mismatched;
  Store store(dir / "results.db");
  return run_sweep(sweep, data, store, options);
}

/// The run of `sweep` trained under 1 thread and stopped after epoch 1, in `dir`.
void interrupted_after_epoch_1(const fs::path& dir, const Sweep& sweep, const Dataset& data) {
  std::atomic<bool> cancel{false};
  CancelAfterEpoch1 stream(cancel);
  QuietOptions options;
  options.progress = stream.file();
  options.cancel = &cancel;
  Store store(dir / "results.db");
  const SweepSummary s = run_sweep(sweep, data, store, options);
  REQUIRE(s.interrupted == 1);
}

std::string column(const fs::path& dir, const std::string& key, const std::string& name) {
  return db_text(dir / "results.db", "SELECT " + name + " FROM runs WHERE key = '" + key + "'");
}

TEST_CASE(
    "sweep: resume: other threads per run refused, --restart-mismatched, the recorded count") {
  const Dataset data = make_dataset(300, 60);
  Sweep sweep = small_sweep({1}, 3);
  sweep.runs[0] = make_run(lenet5_bn(), "adam", 1e-3, 3, 1);
  const std::string key = sweep.runs[0].key();
  TempDir root;
  // Uninterrupted references.
  for (const int t : {1, 2}) {
    const fs::path dir = root / ("reference" + std::to_string(t));
    fs::create_directories(dir);
    CHECK(run_in(dir, sweep, data, t).finished == 1);
  }
  const fs::path dir = root / "interrupted";
  fs::create_directories(dir);
  interrupted_after_epoch_1(dir, sweep, data);
  CHECK(column(dir, key, "status") == "interrupted");
  CHECK(column(dir, key, "epochs_completed") == "1");

  const SweepSummary refused = run_in(dir, sweep, data, 2);
  CHECK(refused.refused == 1);
  CHECK(refused.failed == 1);
  CHECK(column(dir, key, "status") == "failed");
  const std::string error = column(dir, key, "error");
  CHECK(error ==
        "cannot resume after epoch 1: its checkpoint was computed with threads per run 1 (now 2); "
        "rerun with --threads-per-run 1 to resume it, or `lenetlab run small.yaml "
        "--restart-mismatched` to start it over from epoch 1");
  // Nothing lost: the row of epoch 1 and the checkpoint stay.
  CHECK(db_text(dir / "results.db", "SELECT COUNT(*) FROM epochs") == "1");
  CHECK(column(dir, key, "epochs_completed") == "1");
  CHECK(fs::exists(checkpoint_path(checkpoint_dir(dir / "results.db", key), CheckpointKind::last)));

  const fs::path copy = root / "copy";
  fs::copy(dir, copy, fs::copy_options::recursive);

  // Under the recorded count: resumed, as if never stopped.
  CHECK(run_in(dir, sweep, data, 1).finished == 1);
  CHECK(run_values(dir / "results.db", key) == run_values(root / "reference1/results.db", key));
  CHECK(column(dir, key, "threads") == "1");

  // Started over under 2 threads: the epoch-1 row of 1 thread is replaced.
  CHECK(run_in(copy, sweep, data, 2, /*restart_mismatched=*/true).finished == 1);
  CHECK(run_values(copy / "results.db", key) == run_values(root / "reference2/results.db", key));
  CHECK(column(copy, key, "threads") == "2");
}

TEST_CASE("sweep: resume: a format-1 checkpoint resumes under the threads the database recorded") {
  const Dataset data = make_dataset(300, 60);
  const Sweep sweep = small_sweep({4}, 3);
  const std::string key = sweep.runs[0].key();
  TempDir root;
  fs::create_directories(root / "reference");
  CHECK(run_in(root / "reference", sweep, data, 1).finished == 1);
  const fs::path dir = root / "old";
  fs::create_directories(dir);
  interrupted_after_epoch_1(dir, sweep, data);
  // As efcfb97 wrote it: no conditions.
  const auto last = checkpoint_path(checkpoint_dir(dir / "results.db", key), CheckpointKind::last);
  TrainState old = load_checkpoint(last);
  old.conditions.reset();
  save_checkpoint(last, old);

  const SweepSummary refused = run_in(dir, sweep, data, 2);
  CHECK(refused.refused == 1);
  CHECK(column(dir, key, "error").find("threads per run 1 (now 2)") != std::string::npos);
  // The refusal reset the run's recorded environment; the checkpoint kept the conditions.
  CHECK(run_in(dir, sweep, data, 1).finished == 1);
  CHECK(run_values(dir / "results.db", key) == run_values(root / "reference/results.db", key));
}

}  // namespace
}  // namespace lenetlab::test
