#include "sweep/runner.hpp"

#include <fmt/format.h>
#include <omp.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "config/architecture.hpp"
#include "core/crash_point.hpp"
#include "core/environment.hpp"
#include "store/reader.hpp"
#include "sweep/progress.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace lenetlab {

namespace {

/// A planned run registered in the store for this invocation.
struct QueuedRun {
  const PlannedRun* plan = nullptr;
  int64_t id = 0;
  std::filesystem::path checkpoints;  ///< the run's checkpoint directory
  /// The conditions of the run's last start as the database recorded them (for a checkpoint that
  /// predates recorded conditions: TrainOptions::legacy_conditions).
  std::optional<RunConditions> recorded;
};

/// Forwards a run's events to the store (every epoch committed when it ends) and the progress
/// output.
class RunObserver final : public TrainObserver {
 public:
  RunObserver(Store& store, Progress& progress, const QueuedRun& run, const Dataset& data)
      : store_(store), progress_(progress), run_(run), data_(data) {}

  void on_started(const RunStart& start) override {
    // Rows after the epoch training continues from are stale (a restart, or a checkpoint that
    // could not be used); the trainer alone decides which epoch that is.
    store_.discard_epochs_after(run_.id, start.resumed_from_epoch);
    const NetworkStats& s = start.stats;
    store_.start_run(run_.id, capture_environment(start.conditions.threads),
                     {s.parameters, s.trainable_parameters, s.macs_per_image}, data_.sha256);
    const RunConfig& config = *run_.plan->config;
    progress_.run_started(run_.id, run_.plan->index, config.display_name(), config.epochs,
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

/// The refusal and the ways out, on one line.
std::string refusal_message(const ResumeRefused& e, const std::string& sweep_file) {
  const std::string restart = fmt::format(
      "or `lenetlab run {} --restart-mismatched` to start it over from epoch 1", sweep_file);
  const std::optional<RunConditions>& recorded = e.recorded();
  RunConditions threads_only;
  if (recorded) {
    threads_only = e.current();
    threads_only.threads = recorded->threads;
  }
  if (recorded && condition_differences(*recorded, threads_only).empty())
    return fmt::format("{}; rerun with --threads-per-run {} to resume it, {}", e.what(),
                       recorded->threads, restart);
  return fmt::format("{}; resume it where those conditions hold, {}", e.what(), restart);
}

/// prepare_run's keep_epochs: every row stays (the trainer decides, Store::discard_epochs_after).
constexpr int kKeepEveryEpoch = std::numeric_limits<int>::max();

/// One invocation of run_sweep: registers the runs, executes them and records their results.
class SweepRunner {
 public:
  SweepRunner(const Sweep& sweep, const Dataset& data, Store& store, const RunnerOptions& options)
      : sweep_(sweep),
        data_(data),
        store_(store),
        options_(options),
        threads_(std::max(1, options.threads_per_run)),
        progress_(options.progress, options.live, static_cast<int>(sweep.runs.size()), sweep.name) {
    summary_.total = static_cast<int>(sweep.runs.size());
  }

  SweepSummary run() {
    const auto t0 = std::chrono::steady_clock::now();
    sweep_id_ = store_.upsert_sweep(sweep_.name, sweep_.file, sweep_.yaml);
    store_.set_published_results(sweep_id_, sweep_.references);
    std::vector<PlannedRun> plan = plan_sweep(sweep_, data_.train.n);
    if (options_.select) {
      std::erase_if(plan, [this](const PlannedRun& run) { return !options_.select(run); });
      summary_.total = static_cast<int>(plan.size());
    }
    const std::vector<QueuedRun> queue = register_runs(plan);
    execute(queue);
    progress_.finish();
    summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary_;
  }

 private:
  std::vector<QueuedRun> register_runs(const std::vector<PlannedRun>& plan);
  std::optional<RunConditions> recorded_conditions(const std::string& key);
  void execute(const std::vector<QueuedRun>& queue);
  bool claim(const QueuedRun& run);
  void run_one(const QueuedRun& run);
  void record(const QueuedRun& run, RunResult result);
  void skip(const RunConfig& config, const std::string& why) {
    progress_.skipped(config.display_name(), why);
    std::lock_guard lock(summary_mutex_);
    ++summary_.skipped;
  }
  bool cancelled() const { return options_.cancel && options_.cancel->load(); }

  const Sweep& sweep_;
  const Dataset& data_;
  Store& store_;
  const RunnerOptions& options_;
  const int threads_;
  Progress progress_;
  int64_t sweep_id_ = 0;
  std::optional<ResultsReader> reader_;  ///< opened when a run's recorded conditions are needed
  SweepSummary summary_;
  std::mutex summary_mutex_;
};

std::vector<QueuedRun> SweepRunner::register_runs(const std::vector<PlannedRun>& plan) {
  std::vector<QueuedRun> queue;
  for (const PlannedRun& run : plan) {
    const auto status = store_.run_status(run.key);
    const bool retry = status && is_retryable(*status);
    if (options_.retry_failed ? !retry : status && is_final(*status)) {
      // A final run another sweep trained (the same key) is this sweep's too.
      if (status) store_.add_to_sweep(sweep_id_, run.key);
      skip(*run.config, status ? std::string("already ") + to_string(*status) : "not run yet");
      continue;
    }
    // Read before prepare_run resets them.
    std::optional<RunConditions> recorded = status ? recorded_conditions(run.key) : std::nullopt;
    // Every epoch row stays until the trainer reports where the run continues (on_started).
    const int64_t id = store_.prepare_run(sweep_id_, *run.config, kKeepEveryEpoch, retry);
    queue.push_back({&run, id, checkpoint_dir(store_.path(), run.key), std::move(recorded)});
  }
  return queue;
}

std::optional<RunConditions> SweepRunner::recorded_conditions(const std::string& key) {
  if (!reader_) reader_.emplace(store_.path());
  const RunRow row = reader_->run(reader_->resolve_run(key));
  if (!row.threads || !row.isa || !row.onednn_version) return std::nullopt;  // never started
  return RunConditions{static_cast<int>(*row.threads), *row.isa, *row.onednn_version,
                       kFormat1EngineVersion, row.git_commit.value_or("")};
}

void SweepRunner::execute(const std::vector<QueuedRun>& queue) {
  if (queue.empty()) return;
  std::vector<const PlannedRun*> plans;
  std::vector<const QueuedRun*> by_index(sweep_.runs.size() + 1);
  for (const QueuedRun& run : queue) {
    plans.push_back(run.plan);
    by_index[static_cast<size_t>(run.plan->index)] = &run;
  }
  order_longest_first(plans);
  std::vector<const QueuedRun*> order;
  for (const PlannedRun* plan : plans) order.push_back(by_index[static_cast<size_t>(plan->index)]);
  const int jobs = concurrent_jobs(options_, queue.size());
  Heartbeat heartbeat(store_);
  // oneTBB schedules: the serial input stage hands out the runs in order (longest first), at most
  // `jobs` at a time (the pipeline's live tokens, the arena's threads); once cancelled it hands
  // out no more, so the rest stays queued.
  size_t next = 0;
  tbb::task_arena arena(jobs);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<size_t>(jobs),
        tbb::make_filter<void, size_t>(tbb::filter_mode::serial_in_order,
                                       [&](tbb::flow_control& flow) -> size_t {
                                         if (next == order.size() || cancelled()) flow.stop();
                                         return next++;
                                       }) &
            tbb::make_filter<size_t, void>(tbb::filter_mode::parallel,
                                           [&](size_t i) { run_one(*order[i]); }));
  });
}

bool SweepRunner::claim(const QueuedRun& run) {
  try {
    if (store_.claim_run(run.id)) return true;
    skip(*run.plan->config, "running in another lenetlab process");
  } catch (const std::exception& e) {
    skip(*run.plan->config, std::string("not claimed: ") + e.what());
  }
  return false;
}

void SweepRunner::run_one(const QueuedRun& run) {
  if (!claim(run)) return;
  // Before any primitive is created on this thread (oneDNN notes, "Threading").
  omp_set_num_threads(threads_);
  RunObserver observer(store_, progress_, run, data_);
  RunResult result;
  try {
    TrainOptions train_options;
    train_options.checkpoint_dir = run.checkpoints;
    train_options.run_key = run.plan->key;
    train_options.cancel = options_.cancel;
    train_options.time_limit_seconds = options_.time_limit_seconds;
    train_options.epoch_budget = options_.epoch_budget;
    train_options.restart_mismatched = options_.restart_mismatched;
    train_options.legacy_conditions = run.recorded;
    result = train_run(*run.plan->config, data_, observer, train_options);
  } catch (const ResumeRefused& e) {
    result.status = RunStatus::failed;
    result.error = refusal_message(e, sweep_.file);
    result.epochs_completed = e.epoch();  // its rows and checkpoint stay
    std::lock_guard lock(summary_mutex_);
    ++summary_.refused;
  } catch (const std::exception& e) {
    result.status = RunStatus::failed;
    result.error = e.what();
  }
  record(run, std::move(result));
}

void SweepRunner::record(const QueuedRun& run, RunResult result) {
  std::string detail = result.error;
  if (result.test)
    detail = fmt::format("test accuracy {:.2f}%, {} epochs, {:.1f} s", 100 * result.test->accuracy,
                         result.epochs_completed, result.seconds);
  else if (is_completed(result.status))
    detail =
        fmt::format("no test labels (weights kept for `lenetlab predict`), {} epochs, {:.1f} s",
                    result.epochs_completed, result.seconds);
  crash_point("run-trained");
  try {
    store_.finish_run(run.id, result);
    // Recorded: the resume point can go. Not before: a run whose last.ckpt is gone starts over,
    // and its recorded epochs would be dropped. Runs that are not final (failed: time limit or
    // refused; interrupted) keep it to resume from.
    if (is_final(result.status)) {
      std::error_code ec;
      std::filesystem::remove(checkpoint_path(run.checkpoints, CheckpointKind::last), ec);
    }
  } catch (const std::exception& e) {
    result.status = RunStatus::failed;
    detail = std::string("could not record the result: ") + e.what();
  }
  progress_.run_ended(run.id, run.plan->index, run.plan->config->display_name(), result.status,
                      detail);
  std::lock_guard lock(summary_mutex_);
  switch (result.status) {
    case RunStatus::finished:
      ++summary_.finished;
      break;
    case RunStatus::stopped_early:
      ++summary_.stopped_early;
      break;
    case RunStatus::diverged:
      ++summary_.diverged;
      break;
    case RunStatus::interrupted:
      ++summary_.interrupted;
      break;
    case RunStatus::paused:
      ++summary_.paused;
      break;
    default:
      ++summary_.failed;
      break;
  }
}

}  // namespace

std::vector<PlannedRun> plan_sweep(const Sweep& sweep, int64_t train_images) {
  std::vector<PlannedRun> plan;
  plan.reserve(sweep.runs.size());
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    const RunConfig& config = sweep.runs[i];
    PlannedRun run;
    run.index = static_cast<int>(i) + 1;
    run.config = &config;
    run.config_json = config.to_json().dump();
    run.key = config.key();
    int64_t macs = 0;
    try {
      macs = arch_cost(config.arch).macs_per_image;
    } catch (const Error&) {  // the run itself reports the problem
    }
    const int64_t images =
        config.train_limit > 0 ? std::min<int64_t>(config.train_limit, train_images) : train_images;
    run.cost = double(macs) * double(images) * (1.0 - config.validation_split) * config.epochs;
    plan.push_back(std::move(run));
  }
  return plan;
}

void order_longest_first(std::vector<const PlannedRun*>& runs) {
  std::stable_sort(runs.begin(), runs.end(),
                   [](const PlannedRun* a, const PlannedRun* b) { return a->cost > b->cost; });
}

int concurrent_jobs(const RunnerOptions& options, size_t runs) {
  const int threads = std::max(1, options.threads_per_run);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = options.jobs > 0 ? options.jobs : std::max(1, cores / threads);
  if (runs > 0) jobs = std::min<int>(jobs, static_cast<int>(std::min<size_t>(runs, 1 << 20)));
  return std::max(1, jobs);
}

SweepSummary run_sweep(const Sweep& sweep, const Dataset& data, Store& store,
                       const RunnerOptions& options) {
  return SweepRunner(sweep, data, store, options).run();
}

void SweepSummary::add_counts(const SweepSummary& s) {
  skipped += s.skipped;
  finished += s.finished;
  stopped_early += s.stopped_early;
  diverged += s.diverged;
  failed += s.failed;
  interrupted += s.interrupted;
  paused += s.paused;
  pruned += s.pruned;
  refused += s.refused;
}

}  // namespace lenetlab
