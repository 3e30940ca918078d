#include "sweep/replay.hpp"

#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/environment.hpp"
#include "core/error.hpp"
#include "nn/micro_batch.hpp"
#include "nn/network.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics.hpp"
#include "train/run_weights.hpp"
#include "train/trainer.hpp"

namespace lenetlab {

namespace {

/// Collects the reproduced epochs.
class Recorder final : public TrainObserver {
 public:
  void on_epoch(const EpochRecord& r) override { epochs.push_back(r); }
  std::vector<EpochRecord> epochs;
};

std::string show(std::optional<double> v) {
  return v ? fmt::format("{:.17g}", *v) : std::string("NULL");
}

}  // namespace

StoredRun load_stored_run(const ResultsReader& reader, const std::string& run) {
  const RunRow row = reader.run(reader.resolve_run(run));
  StoredRun r;
  r.id = row.id;
  r.key = row.key;
  r.name = row.name;
  r.status = row.status;
  r.config = RunConfig::from_json(nlohmann::json::parse(row.config_json),
                                  fmt::format("run {} ({})", r.id, r.key));
  r.threads = row.threads ? static_cast<int>(*row.threads) : 1;
  r.isa = row.isa.value_or("");
  r.onednn_version = row.onednn_version.value_or("");
  r.dataset_sha256 = row.dataset_sha256.value_or("");
  r.weights_hash = row.weights_hash.value_or("");
  r.test_loss = row.test_loss;
  r.test_accuracy = row.test_accuracy;
  r.epochs = reader.epochs(r.id);
  return r;
}

std::vector<std::string> condition_differences(const StoredRun& run, const Dataset& data) {
  const Environment here = capture_environment(run.threads);
  std::vector<std::string> diffs;
  if (!run.isa.empty() && run.isa != here.isa)
    diffs.push_back(fmt::format("CPU ISA: recorded {}, here {}", run.isa, here.isa));
  if (!run.onednn_version.empty() && run.onednn_version != here.onednn_version)
    diffs.push_back(
        fmt::format("oneDNN: recorded {}, here {}", run.onednn_version, here.onednn_version));
  if (!run.dataset_sha256.empty() && run.dataset_sha256 != data.sha256)
    diffs.push_back(
        fmt::format("dataset checksum: recorded {}, here {}", run.dataset_sha256, data.sha256));
  return diffs;
}

namespace {

/// Refuses (or, with `force`, warns about) recorded conditions this machine cannot meet.
void check_conditions(const StoredRun& run, const Dataset& data, bool force, std::FILE* out) {
  const auto diffs = condition_differences(run, data);
  if (diffs.empty()) return;
  std::string text;
  for (const auto& d : diffs) text += "\n  " + d;
  if (!force)
    throw Error(
        fmt::format("run {} cannot be reproduced bit for bit on this machine:{}\n(pass "
                    "--force to run it anyway; results are then expected to differ)",
                    run.id, text));
  fmt::print(out, "warning: recorded conditions differ:{}\n", text);
}

/// Trains the run's configuration again from scratch with its recorded thread count, in a
/// temporary checkpoint directory; `epochs` receives every reproduced epoch.
RunResult retrain(const StoredRun& run, const Dataset& data, std::vector<EpochRecord>& epochs,
                  int threads) {
  // Set before any primitive exists (oneDNN notes, "Threading").
  omp_set_num_threads(threads);
  const auto tmp = std::filesystem::temp_directory_path() /
                   fmt::format("lenetlab-verify-{}-{}", getpid(), run.key);
  Recorder recorder;
  RunResult result;
  RunConfig config = run.config;
  try {
    TrainOptions options;
    options.checkpoint_dir = tmp;
    options.resume = false;
    result = train_run(config, data, recorder, options);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  epochs = std::move(recorder.epochs);
  return result;
}

/// Stored against reproduced values, bit for bit; the differences as the verification's details.
class Comparison {
 public:
  bool compare(int epoch, const char* metric, std::optional<double> stored,
               std::optional<double> reproduced) {
    // Bitwise: a REAL stored by SQLite round-trips the double exactly.
    const bool same = stored.has_value() == reproduced.has_value() &&
                      (!stored || std::memcmp(&*stored, &*reproduced, sizeof(double)) == 0);
    if (!same)
      differ(epoch, metric, stored ? nlohmann::json(*stored) : nlohmann::json(),
             reproduced ? nlohmann::json(*reproduced) : nlohmann::json());
    return same;
  }
  void differ(int epoch, const char* metric, nlohmann::json stored, nlohmann::json reproduced) {
    ++result.mismatches;
    details_.push_back(
        {{"epoch", epoch}, {"metric", metric}, {"stored", stored}, {"reproduced", reproduced}});
  }
  VerifyResult finish() {
    result.matched = result.mismatches == 0;
    result.details_json = details_.dump();
    return result;
  }
  VerifyResult result;

 private:
  nlohmann::json details_ = nlohmann::json::array();
};

/// Compares and prints every recorded epoch (an interrupted run has fewer than configured).
void compare_epochs(const StoredRun& run, const std::vector<EpochRecord>& again, Comparison& c,
                    std::FILE* out) {
  fmt::print(out, "{:>5}  {:<22} {:<22} {:<10} {:<10} {}\n", "epoch", "train_loss (stored)",
             "train_loss (again)", "val_acc", "val_acc", "bit-identical");
  for (size_t i = 0; i < run.epochs.size(); ++i) {
    const EpochRecord& s = run.epochs[i];
    const bool have = i < again.size();
    const EpochRecord r = have ? again[i] : EpochRecord{};
    bool ok = have;
    ok &= c.compare(s.epoch, "train_loss", s.train_loss,
                    have ? std::optional(r.train_loss) : std::nullopt);
    ok &= c.compare(s.epoch, "train_accuracy", s.train_accuracy,
                    have ? std::optional(r.train_accuracy) : std::nullopt);
    ok &= c.compare(s.epoch, "val_loss", s.val_loss, have ? r.val_loss : std::nullopt);
    ok &= c.compare(s.epoch, "val_accuracy", s.val_accuracy, have ? r.val_accuracy : std::nullopt);
    ok &= c.compare(s.epoch, "learning_rate", s.learning_rate,
                    have ? std::optional(r.learning_rate) : std::nullopt);
    if (!s.data_hash.empty() && !(have && r.data_hash == s.data_hash)) {  // "": not recorded
      c.differ(s.epoch, "data_hash", s.data_hash,
               have ? nlohmann::json(r.data_hash) : nlohmann::json());
      ok = false;
    }
    fmt::print(out, "{:>5}  {:<22.17g} {:<22} {:<10} {:<10} {}\n", s.epoch, s.train_loss,
               have ? fmt::format("{:.17g}", r.train_loss) : "-",
               s.val_accuracy ? fmt::format("{:.4f}", *s.val_accuracy) : "-",
               have && r.val_accuracy ? fmt::format("{:.4f}", *r.val_accuracy) : "-",
               ok ? "yes" : "NO");
    ++c.result.epochs_compared;
  }
}

/// Compares and prints the test metrics and the final weights' hash.
void compare_results(const StoredRun& run, const RunResult& result, Comparison& c, std::FILE* out) {
  if (run.test_accuracy && result.test) {
    const bool a = c.compare(0, "test_loss", run.test_loss, result.test->loss);
    const bool b = c.compare(0, "test_accuracy", run.test_accuracy, result.test->accuracy);
    fmt::print(out, "test: loss {} vs {}, accuracy {} vs {}: {}\n", show(run.test_loss),
               show(result.test->loss), show(run.test_accuracy), show(result.test->accuracy),
               a && b ? "bit-identical" : "DIFFERENT");
  }
  if (!run.weights_hash.empty() && run.status != RunStatus::running &&
      run.status != RunStatus::interrupted) {
    const bool same = run.weights_hash == result.weights_hash;
    if (!same) c.differ(0, "weights_hash", run.weights_hash, result.weights_hash);
    fmt::print(out, "final weights: {} vs {}: {}\n", run.weights_hash, result.weights_hash,
               same ? "identical" : "DIFFERENT");
  }
}

}  // namespace

std::string recorded_engine_version(const StoredRun& run) {
  return run.config.engine == 2 ? "2" : kFormat1EngineVersion;
}

namespace {

/// The thread count to verify `run` with; throws Error when its engine cannot.
int verify_threads(const StoredRun& run, int threads) {
  const std::string recorded = recorded_engine_version(run);
  const std::string here = engine_version_of(run.config.engine);
  if (recorded != here)
    throw Error(
        fmt::format("run {} was computed by engine version {}, and this build computes "
                    "its configuration with engine version {}: verify it with a build "
                    "of engine version {}",
                    run.id, recorded, here, recorded));
  if (threads <= 0) return run.threads;
  if (threads != run.threads && !thread_invariant(recorded))
    throw Error(
        fmt::format("run {} (engine {}) was recorded with {} thread(s), and engine {} "
                    "results depend on the thread count: verify it with --threads {} "
                    "(or without --threads)",
                    run.id, run.config.engine, run.threads, run.config.engine, run.threads));
  return threads;
}

}  // namespace

VerifyResult verify_run(Store& store, const StoredRun& run, const Dataset& data, bool force,
                        std::FILE* out, int threads) {
  if (run.epochs.empty())
    throw Error(fmt::format("run {} ({}) has no recorded epochs to verify (status {})", run.id,
                            run.key, to_string(run.status)));
  const int execute_threads = verify_threads(run, threads);
  check_conditions(run, data, force, out);
  fmt::print(out, "verify run {} ({}): {} epochs, {} thread(s) (recorded {}), ISA {}, seed {}\n",
             run.id, run.name, run.epochs.size(), execute_threads, run.threads, run.isa,
             run.config.seed);
  std::fflush(out);
  std::vector<EpochRecord> again;
  const RunResult result = retrain(run, data, again, execute_threads);

  Comparison comparison;
  compare_epochs(run, again, comparison, out);
  compare_results(run, result, comparison, out);
  const VerifyResult v = comparison.finish();
  fmt::print(out, "verification: {} ({} epochs compared, {} differing values)\n",
             v.matched ? "MATCH, every value bit-identical" : "MISMATCH", v.epochs_compared,
             v.mismatches);
  store.record_verification(run.id, v.matched, v.epochs_compared, v.mismatches, v.details_json,
                            capture_environment(execute_threads));
  return v;
}

EvalMetrics evaluate_run(const ResultsReader& reader, const StoredRun& run, const Dataset& data,
                         const std::string& checkpoint, std::FILE* out) {
  if (!data.test.labelled)
    throw Error(
        fmt::format("the test images of dataset '{}' have no labels, so there is nothing to "
                    "evaluate; `lenetlab predict {}` writes their predictions",
                    data.name, run.id));
  const std::optional<CheckpointKind> kind = checkpoint_kind_from_string(checkpoint);
  if (!kind || *kind == CheckpointKind::last)
    throw Error(fmt::format("unknown checkpoint '{}'; expected final or best", checkpoint));
  omp_set_num_threads(run.threads);
  const ArchSpec& arch = run.config.arch;
  Network net(arch, run.config.seed);
  const TrainState state = load_run_weights(checkpoint_dir(reader.path(), run.key), run.key,
                                            fmt::format("run {}", run.id), *kind, net);
  const bool same_dataset = data.name == run.config.dataset || run.config.dataset.empty();
  int64_t n = data.test.n;
  if (same_dataset && run.config.test_limit > 0) n = std::min<int64_t>(n, run.config.test_limit);
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  const InputPipeline input(data.test, arch.input_channels, arch.input_height, arch.input_width,
                            run.config.normalize_mean, run.config.normalize_std);
  // images/s times the inference itself: the primitives of the full and the tail batch are
  // created (and JIT-compiled) first, as a training run creates them before its first step.
  const int batch = run.config.batch_size;
  std::unique_ptr<MicroBatchNetwork> micro;  // engine 2: its own evaluation, on any thread count
  if (run.config.engine == 2) {
    micro = std::make_unique<MicroBatchNetwork>(arch, run.config.seed, net, run.config.micro_batch,
                                                run.threads);
  } else {
    if (n > 0) net.prepare(static_cast<int>(std::min<int64_t>(n, batch)));
    if (n > batch && n % batch != 0) net.prepare(static_cast<int>(n % batch));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const EvalMetrics m = micro ? evaluate(*micro, net.num_classes(), input, idx, batch)
                              : evaluate(net, input, idx, batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print(out, "run {} ({}), {} checkpoint (epoch {}, weights {}), {} thread(s)\n", run.id,
             run.name, checkpoint, state.epoch, state.weights_hash, run.threads);
  fmt::print(out, "{} test images of {}: loss {:.6f}, accuracy {:.2f}% ({:.0f} images/s)\n",
             m.images, data.name, m.loss, 100 * m.accuracy, seconds > 0 ? m.images / seconds : 0.0);
  fmt::print(out, "{:>5} {:>9} {:>9} {:>9} {:>8}\n", "class", "precision", "recall", "f1",
             "support");
  for (const auto& c : m.per_class)
    fmt::print(out, "{:>5} {:>9.4f} {:>9.4f} {:>9.4f} {:>8}\n", c.label, c.precision, c.recall,
               c.f1, c.support);
  if (same_dataset && checkpoint == "final" && run.test_accuracy) {
    const bool same = run.test_loss && *run.test_loss == m.loss && *run.test_accuracy == m.accuracy;
    fmt::print(out, "stored test metrics: loss {}, accuracy {}: {}\n", show(run.test_loss),
               show(run.test_accuracy), same ? "reproduced exactly" : "DIFFERENT");
  }
  return m;
}

}  // namespace lenetlab
