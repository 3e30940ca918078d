// Throughput benchmarks of the training engine (`lenetlab bench`): a matrix of architectures x
// batch sizes x OpenMP thread counts, each measured for training (full step) and inference
// (forward), and a per-layer profile of one training step. Results go to the results database in
// three tables of their own (framework/bench/schema.sql); the runs/epochs schema is not touched.
//
// Units: images/s, milliseconds per step, GFLOP/s (2 FLOPs per multiply-accumulate). Times are
// taken with std::chrono::steady_clock around whole groups of steps.
//
// Threading: every case runs on a fresh worker thread that calls omp_set_num_threads(threads)
// before it creates any primitive (oneDNN notes, "Threading": the count at creation is the one used
// later). Engine 2 (nn/micro_batch.hpp) runs its micro-batches on `threads` workers instead, each
// with one-thread primitives, as a training run of engine 2 does. The calling thread only waits. Functions that take a Dataset read it and never modify it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/architecture.hpp"
#include "core/records.hpp"
#include "data/dataset.hpp"

namespace lenetlab {

class MicroBatchNetwork;
class Network;
class Store;

// ---- the matrix file ---------------------------------------------------------------------------

/// A bench matrix, loaded from YAML. Format, ranges and defaults: experiments/bench/README.md;
/// every key is optional (the defaults below), a list key also accepts a single value.
struct BenchMatrix {
  /// Path it was loaded from ("" when built in code).
  std::string file;
  /// Verbatim text (stored with the bench run).
  std::string yaml;
  /// Resolved and parsed; default: every shipped architecture.
  std::vector<ArchSpec> architectures;
  std::vector<int> batch_sizes{64, 128};
  std::vector<int> threads{1};
  int warmup_steps = 10;
  int steps = 20;
  int repetitions = 5;
  std::string dataset = "mnist";
  uint64_t seed = 1;
  /// The training engine measured (run setting `engine`, sweeps/README.md): 1 or 2.
  int engine = 1;
  /// Engine 2: images per micro-batch (run setting `micro_batch`; its default).
  int micro_batch = 32;
};

/// Parses a matrix file. Throws ConfigError "file:line:column: ..." for YAML syntax errors, a root
/// that is not a mapping, unknown or duplicate keys (naming the valid keys), values of the wrong
/// type or out of range, empty lists, duplicate list entries and unknown architectures (with the
/// available names); ConfigError naming the file when it cannot be read or exceeds 1 MiB.
BenchMatrix load_bench_matrix(const std::filesystem::path& file);
/// Same, from text; `file_name` is used in error marks and BenchMatrix::file.
BenchMatrix parse_bench_matrix(const std::string& text, const std::string& file_name);

/// The matrix used when `lenetlab bench` gets none: ./experiments/bench/default.yaml when it
/// exists, else the one in the lenetlab source tree.
std::filesystem::path default_bench_matrix();

// ---- measurement -------------------------------------------------------------------------------

/// What a measurement times: a full training step, or inference (input fill and forward).
enum class BenchMode { training, inference };
/// Which command made a bench run: the matrix, or `--profile`.
enum class BenchKind { matrix, profile };
/// What one profile row times (ProfileRow::direction).
enum class ProfileDirection {
  forward,           ///< a layer's forward
  backward,          ///< a layer's whole backward in the step
  backward_data,     ///< its backward-data primitive, timed on its own after the step
  backward_weights,  ///< its backward-weights primitive, timed on its own after the step
  backward_other,    ///< backward minus those two (reorders, the C3 mask)
  step,              ///< a part of the step that is not a layer: data, loss, optimizer
  whole,             ///< the whole uninstrumented step
};

/// Names as stored in the database and printed: "training", "inference"; "matrix", "profile";
/// "forward", "backward", "backward_data", "backward_weights", "backward_other", "step", "whole".
const char* to_string(BenchMode mode);
const char* to_string(BenchKind kind);
const char* to_string(ProfileDirection direction);
/// The inverse of to_string; throws Error naming the valid names for any other text.
BenchMode bench_mode_from_string(std::string_view name);
BenchKind bench_kind_from_string(std::string_view name);
ProfileDirection profile_direction_from_string(std::string_view name);

/// Settings of one measurement (taken from the matrix).
struct BenchSettings {
  int warmup_steps = 10;
  int steps = 20;
  int repetitions = 5;
  uint64_t seed = 1;
  int engine = 1;        ///< 1 or 2 (BenchMatrix::engine)
  int micro_batch = 32;  ///< engine 2's micro-batch size, >= 1
};

/// Throughput of one architecture x batch size x threads x mode.
struct BenchResult {
  std::string architecture;
  int batch_size = 0;
  int threads = 1;
  BenchMode mode = BenchMode::training;
  int engine = 1;
  int micro_batch = 0;  ///< engine 2's micro-batch size; 0 for engine 1
  int warmup_steps = 0;
  int steps = 0;
  int repetitions = 0;
  /// Forward multiply-accumulates per image (Network::macs_per_image).
  int64_t macs_per_image = 0;
  std::vector<double> samples;  ///< images/s of each repetition, in order.
  double images_per_second_min = 0;
  double images_per_second_median = 0;  ///< median of samples (mean of the middle two when even).
  double images_per_second_max = 0;
  /// 2 * MACs * images/s / 1e9, with the training step counted as 3x the forward MACs
  /// (backward-data and backward-weights each as much as the forward; an approximation: the first
  /// layer skips backward-data). Uses the median rate.
  double gflops() const;
};

/// One network with its input pipeline, an SGD optimizer (learning rate 0.01, no momentum) and a
/// cursor over the training images in an order shuffled from the seed (reshuffled when used up):
/// the unit that the bench, the profile and the Google Benchmark suite time.
/// Engine 2 (`engine` 2): the steps of a training run of engine 2 (nn/micro_batch.hpp), its
/// micro-batches on `threads` workers (the calling thread included), dropout keyed by the images'
/// indices in epoch 0; network() is then its replica 0, and the profile does not apply.
/// Create it on the thread that runs it, after omp_set_num_threads. Not thread-safe. `data` must
/// outlive the session (the input pipeline reads its images in place).
/// Throws RunError when the architecture does not fit the dataset (classes, image size) or the
/// dataset has fewer training images than one batch.
class BenchSession {
 public:
  BenchSession(const ArchSpec& arch, const Dataset& data, int batch_size, uint64_t seed,
               int engine = 1, int micro_batch = 32, int threads = 1);
  ~BenchSession();
  BenchSession(const BenchSession&) = delete;
  BenchSession& operator=(const BenchSession&) = delete;

  /// Data loading: gathers the next batch_size images (by shuffled index) into the network input.
  void fill_next();
  /// One training step: fill_next + forward (training) + loss with gradient + backward + SGD step.
  void train_step();
  /// One inference step: fill_next + forward (inference mode).
  void infer_step();
  /// Runs the optimizer step only (the profile times it on its own).
  void optimizer_step();
  /// Loss with gradient of the last forward against the last filled labels.
  void loss_with_gradient();

  Network& network() { return *net_; }
  int batch_size() const { return batch_size_; }

 private:
  struct Impl;
  std::unique_ptr<Network> net_;
  std::unique_ptr<MicroBatchNetwork> micro_;  ///< engine 2 (net_ is its replica 0)
  std::unique_ptr<Impl> impl_;
  int batch_size_;
};

/// Measures training and inference throughput of `arch` at one batch size and thread count on a new
/// worker thread (see the file comment): warmup_steps untimed steps, then `repetitions` timed
/// groups of `steps` steps, for training first, then inference, on one network of
/// settings.engine. Returns {training, inference}. Exceptions of the worker (RunError,
/// dnnl::error) are rethrown on the calling thread; Error for settings out of range.
std::vector<BenchResult> bench_case(const ArchSpec& arch, int batch_size, int threads,
                                    const BenchSettings& settings, const Dataset& data);

// ---- profile -----------------------------------------------------------------------------------

/// One line of a training-step profile.
struct ProfileRow {
  /// Layer name (e.g. "conv2"), or "data", "loss", "optimizer" (direction step), "step" (whole).
  std::string part;
  ProfileDirection direction = ProfileDirection::forward;
  double ms_per_step = 0;      ///< median over repetitions of the mean time per step.
  double percent_of_step = 0;  ///< 100 * ms_per_step / whole-step time.
  /// True for the disjoint parts whose sum is compared with the whole step (data, each layer's
  /// forward and backward, loss, optimizer). False for the whole step and for the breakdown of a
  /// layer's backward into its backward-data and backward-weights primitives (timed apart, see
  /// profile_training) and the rest (reorders, masks).
  bool in_sum = true;
};

struct ProfileResult {
  std::string architecture;
  int batch_size = 0;
  int threads = 1;
  int steps = 0;
  int repetitions = 0;
  /// data, forward by layer, loss, backward by layer (last first), optimizer, step.
  std::vector<ProfileRow> rows;
  double whole_step_ms = 0;    ///< median over repetitions of an uninstrumented step's mean time.
  double sum_of_parts_ms = 0;  ///< sum of the in_sum rows.
  /// whole_step_ms / sum_of_parts_ms: near 1 when the per-part timers account for the step.
  double ratio() const { return sum_of_parts_ms > 0 ? whole_step_ms / sum_of_parts_ms : 0; }
};

/// Profiles one training step of `arch` on a new worker thread. Each repetition runs `steps`
/// instrumented steps (a steady_clock reading around each part: data, every layer's forward in
/// order, loss, every layer's backward in reverse order, optimizer) followed by `steps` plain
/// train_step()s. For a convolution or dense layer that computes both backward-data and
/// backward-weights, the two primitives are also timed on their own, re-executed after the step's
/// optimizer update (everything they write is recomputed by the next step before it is read, so
/// training is unaffected), and reported as backward_data / backward_weights rows; the rest of the
/// layer's in-step backward time (reorders, the C3 mask) is backward_other, which can come out
/// slightly negative under noise because the primitives are timed apart from the step.
/// The message of the Error a profile of engine 2 is refused with.
inline constexpr const char* kProfileEngine1Only =
    "bench: --profile times engine 1's layers; engine 2 runs them per micro-batch (measure it "
    "without --profile)";

/// Engine 1 only: throws Error(kProfileEngine1Only) for settings.engine 2.
ProfileResult profile_training(const ArchSpec& arch, int batch_size, int threads,
                               const BenchSettings& settings, const Dataset& data);

// ---- results database --------------------------------------------------------------------------

/// Context of one `lenetlab bench` invocation, stored in bench_runs.
struct BenchRunInfo {
  BenchKind kind = BenchKind::matrix;
  std::string matrix_file;
  std::string matrix_yaml;
  std::string dataset;
  std::string dataset_sha256;
  /// capture_environment(); its threads field is not stored (it is per result).
  Environment environment;
  std::string build_flags;   ///< compiler flags of the build (bench_build_flags()).
  double load_average = -1;  ///< 1-minute load average when the bench started (-1 unknown).
  int cores = 0;             ///< std::thread::hardware_concurrency().
  int engine = 1;            ///< the engine measured (BenchMatrix::engine)
  int micro_batch = 0;       ///< engine 2's micro-batch size; 0 for engine 1
};

/// CMAKE_CXX_FLAGS and the flags of the build type lenetlab_bench was compiled with.
std::string bench_build_flags();
/// 1-minute load average from getloadavg(), or -1.
double load_average_1min();

/// Inserts a bench_runs row (started_at = now) and returns its id (Store::begin_bench_run).
int64_t record_bench_run(Store& store, const BenchRunInfo& info);
/// Inserts result rows of a bench run, in one transaction.
void record_bench_results(Store& store, int64_t bench_run_id,
                          const std::vector<BenchResult>& results);
/// Inserts the rows of a profile (whole step included, as part "step"), in one transaction.
void record_profile(Store& store, int64_t bench_run_id, const ProfileResult& profile);
/// Sets bench_runs.finished_at = now.
void finish_bench_run(Store& store, int64_t bench_run_id);

// ---- a whole `lenetlab bench`: plan, execute, record (bench_run.cpp) -------------------------

/// One cell of a matrix.
struct BenchCase {
  const ArchSpec* architecture = nullptr;  ///< an element of BenchMatrix::architectures
  int batch_size = 0;
  int threads = 1;
};
/// The cells of `m` in the order they are measured: architectures, then batch sizes, then thread
/// counts (the innermost). Points into `m`.
std::vector<BenchCase> bench_cases(const BenchMatrix& m);

/// The BenchRunInfo of a bench run of `kind` over `m` on `data`: the matrix file and text, the
/// dataset's name and SHA-256, the environment (capture_environment at m.threads.front()), the
/// build flags, and the load average and core count now.
BenchRunInfo make_bench_run_info(BenchKind kind, const BenchMatrix& m, const Dataset& data);

/// Sees a bench run's progress (the CLI prints it), on the calling thread.
class BenchObserver {
 public:
  virtual ~BenchObserver() = default;
  /// The bench run is recorded as `bench_run_id`; measuring starts.
  virtual void on_started(const BenchRunInfo& info, int64_t bench_run_id) {
    (void)info;
    (void)bench_run_id;
  }
  /// Case `index` (0-based) of `count` is about to be measured (a profile is one case).
  virtual void on_case(size_t index, size_t count, const BenchCase& c) {
    (void)index;
    (void)count;
    (void)c;
  }
};

struct BenchMatrixRun {
  int64_t bench_run_id = 0;
  std::vector<BenchResult> results;  ///< bench_cases order; training, then inference, per case
};
/// A bench run over every case of `m` on `data`: recorded in `store` (record_bench_run first), each
/// case measured with bench_case and its results stored at once (a later failure keeps them), then
/// finish_bench_run. Throws what bench_case and the store throw (RunError, StoreError).
BenchMatrixRun run_bench_matrix(const BenchMatrix& m, const Dataset& data, Store& store,
                                BenchObserver& observer);

struct BenchProfileRun {
  int64_t bench_run_id = 0;
  ProfileResult profile;
};
/// The same for `--profile`: profile_training of `arch` at the first batch size and thread count
/// of `m`, with m's steps and repetitions, recorded as a bench run of kind profile. Throws
/// Error(kProfileEngine1Only) before recording anything when m.engine is 2.
BenchProfileRun run_bench_profile(const BenchMatrix& m, const ArchSpec& arch, const Dataset& data,
                                  Store& store, BenchObserver& observer);

// ---- helpers for tests and the benchmark suite -------------------------------------------------

/// An in-memory dataset of `train_images` / `test_images` 28x28 images with uniformly random pixels
/// and labels in [0, 10), from `seed` (name "synthetic"). Same sizes and costs as MNIST, no files.
Dataset synthetic_dataset(int64_t train_images, int64_t test_images, uint64_t seed);

}  // namespace lenetlab
