#include "sweep/runner.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>

#include "core/crash_point.hpp"
#include "core/environment.hpp"
#include "nn/network.hpp"
#include "sweep/progress.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace lenetlab {

namespace {

struct QueuedRun {
  int index = 0;  ///< 1-based position in the sweep
  int64_t id = 0;
  const RunConfig* config = nullptr;
};

/// Forwards a run's events to the store (every epoch committed when it ends) and the progress
/// output.
class RunObserver final : public TrainObserver {
 public:
  RunObserver(Store& store, Progress& progress, const QueuedRun& run, const Dataset& data,
              int threads)
      : store_(store), progress_(progress), run_(run), data_(data), threads_(threads) {}

  void on_started(const RunStart& start) override {
    const NetworkStats& s = start.stats;
    store_.start_run(run_.id, capture_environment(threads_),
                     {s.parameters, s.trainable_parameters, s.macs_per_image}, data_.sha256);
    progress_.run_started(run_.id, run_.index, run_.config->display_name(), run_.config->epochs,
                          start.train_images);
    if (start.resumed_from_epoch == 0) return;
    // A no-op when the row was committed before the process stopped.
    if (start.resumed_record) store_.record_epoch(run_.id, *start.resumed_record);
    progress_.resumed(run_.id, start.resumed_from_epoch);
  }
  void on_batch(int epoch, int64_t done, int64_t total, double loss, double accuracy) override {
    progress_.batch(run_.id, epoch, done, total, loss, accuracy);
  }
  void on_epoch(const EpochRecord& record) override {
    store_.record_epoch(run_.id, record);
    progress_.epoch(run_.id, record);
  }

 private:
  Store& store_;
  Progress& progress_;
  const QueuedRun& run_;
  const Dataset& data_;
  int threads_;
};

/// Marks this process's running runs alive every 15 s while it exists, so another process takes
/// them over only after this one died (Store::claim_run, Store::kStaleSeconds).
class Heartbeat {
 public:
  explicit Heartbeat(Store& store)
      : thread_([this, &store] {
          std::unique_lock lock(mutex_);
          while (!cv_.wait_for(lock, std::chrono::seconds(15), [this] { return done_; })) {
            try {
              store.heartbeat();
            } catch (const std::exception&) {  // a busy database: try again at the next beat
            }
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

SweepSummary run_sweep(const Sweep& sweep, const Dataset& data, Store& store,
                       const RunnerOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  SweepSummary summary;
  summary.total = static_cast<int>(sweep.runs.size());
  Progress progress(options.progress, options.live, summary.total, sweep.name);

  const int64_t sweep_id = store.upsert_sweep(sweep.name, sweep.file, sweep.yaml);
  store.set_published_results(sweep_id, sweep.references);
  std::vector<QueuedRun> queue;
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    const RunConfig& config = sweep.runs[i];
    const auto status = store.run_status(config.key());
    const bool retry = status && (*status == RunStatus::failed || *status == RunStatus::diverged ||
                                  *status == RunStatus::interrupted);
    if (options.retry_failed ? !retry : status && is_final(*status)) {
      progress.skipped(config.display_name(),
                       status ? std::string("already ") + to_string(*status) : "not run yet");
      ++summary.skipped;
      continue;
    }
    // An interrupted run resumes from its last completed epoch's checkpoint (rows up to it are
    // kept).
    int keep = 0;
    try {
      const auto last = checkpoint_dir(store.path(), config.key()) / "last.ckpt";
      if (std::filesystem::exists(last)) keep = read_checkpoint_header(last).epoch;
    } catch (const Error&) {  // unreadable: train_run ignores it too and starts over
    }
    queue.push_back({static_cast<int>(i) + 1,
                     store.prepare_run(sweep_id, config, keep, /*reset_final=*/retry), &config});
  }

  const int threads = std::max(1, options.threads_per_run);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = options.jobs > 0 ? options.jobs : std::max(1, cores / threads);
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(queue.size())));

  // Longest runs first (LPT scheduling keeps the last worker from finishing alone on a long run):
  // estimated cost = forward MACs per image x training images x epochs. Order affects wall time
  // only; each run's result depends on its own config, seed and thread count, never on its
  // neighbours.
  std::map<std::string, int64_t> macs;
  for (const QueuedRun& run : queue) {
    auto [it, inserted] = macs.try_emplace(run.config->arch.file, 0);
    if (inserted) {
      try {
        it->second = Network(run.config->arch, 0).macs_per_image();
      } catch (const std::exception&) {  // the run itself will report the problem
      }
    }
  }
  auto cost = [&](const QueuedRun& r) {
    const RunConfig& c = *r.config;
    const double images = c.train_limit > 0 ? c.train_limit : static_cast<double>(data.train.n);
    return double(macs[c.arch.file]) * images * (1.0 - c.validation_split) * c.epochs;
  };
  std::stable_sort(queue.begin(), queue.end(),
                   [&](const QueuedRun& a, const QueuedRun& b) { return cost(a) > cost(b); });

  std::mutex summary_mutex;
  std::atomic<size_t> next{0};
  Heartbeat heartbeat(store);
  tbb::task_arena arena(jobs);
  arena.execute([&] {
    tbb::parallel_for(0, jobs, [&](int) {
      for (size_t i; (i = next.fetch_add(1)) < queue.size();) {
        const QueuedRun& run = queue[i];
        if (options.cancel && options.cancel->load()) break;  // leave the rest queued
        bool claimed = false;
        try {
          claimed = store.claim_run(run.id);
        } catch (const std::exception& e) {
          progress.skipped(run.config->display_name(), std::string("not claimed: ") + e.what());
          std::lock_guard lock(summary_mutex);
          ++summary.skipped;
          continue;
        }
        if (!claimed) {
          progress.skipped(run.config->display_name(), "running in another lenetlab process");
          std::lock_guard lock(summary_mutex);
          ++summary.skipped;
          continue;
        }
        // Before any primitive is created on this thread (oneDNN notes, "Threading").
        omp_set_num_threads(threads);
        RunObserver observer(store, progress, run, data, threads);
        RunResult result;
        const auto run_checkpoints = checkpoint_dir(store.path(), run.config->key());
        try {
          TrainOptions train_options;
          train_options.checkpoint_dir = run_checkpoints;
          train_options.cancel = options.cancel;
          train_options.time_limit_seconds = options.time_limit_seconds;
          result = train_run(*run.config, data, observer, train_options);
        } catch (const std::exception& e) {
          result.status = RunStatus::failed;
          result.error = e.what();
        }
        std::string detail = result.error;
        if (result.test)
          detail =
              fmt::format("test accuracy {:.2f}%, {} epochs, {:.1f} s", 100 * result.test->accuracy,
                          result.epochs_completed, result.seconds);
        crash_point("run-trained");
        try {
          store.finish_run(run.id, result);
          // Recorded: the resume point can go. Not before: a run whose last.ckpt is gone resumes
          // from scratch, and its recorded epochs would be dropped (Store::prepare_run). Failed
          // (time limit) and interrupted runs keep it to resume from.
          if (result.status == RunStatus::finished || result.status == RunStatus::stopped_early ||
              result.status == RunStatus::diverged) {
            std::error_code ec;
            std::filesystem::remove(run_checkpoints / "last.ckpt", ec);
          }
        } catch (const std::exception& e) {
          result.status = RunStatus::failed;
          detail = std::string("could not record the result: ") + e.what();
        }
        progress.run_ended(run.id, result.status, detail);
        std::lock_guard lock(summary_mutex);
        switch (result.status) {
          case RunStatus::finished:
            ++summary.finished;
            break;
          case RunStatus::stopped_early:
            ++summary.stopped_early;
            break;
          case RunStatus::diverged:
            ++summary.diverged;
            break;
          case RunStatus::interrupted:
            ++summary.interrupted;
            break;
          default:
            ++summary.failed;
            break;
        }
      }
    });
  });
  progress.finish();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace lenetlab
