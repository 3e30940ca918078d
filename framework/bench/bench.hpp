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
// later). The calling thread only waits. Functions that take a Dataset read it and never modify it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/architecture.hpp"
#include "core/records.hpp"
#include "data/dataset.hpp"

namespace lenetlab {

class Network;
class Store;

// ---- the matrix file ---------------------------------------------------------------------------

/// A bench matrix, loaded from YAML (experiments/bench/default.yaml):
///
///   architectures: [lenet5, lenet-relu]   # names on the architecture search path, or .yaml paths
///   batch_sizes: [64, 128]                # 1..65536
///   threads: [1, 2]                       # OpenMP threads inside oneDNN, 1..1024
///   warmup_steps: 10                      # untimed steps before each mode (>= 0)
///   steps: 20                             # steps per timed repetition (>= 1)
///   repetitions: 5                        # timed repetitions; min/median/max are over these (>=
///   1) dataset: mnist                        # as in sweeps: mnist | fashion-mnist |
///   csv:TRAIN,TEST seed: 1                               # initial weights and batch order
///
/// Every key is optional (defaults below); a list key also accepts a single value.
struct BenchMatrix {
  std::string file;  ///< path it was loaded from ("" when built in code).
  std::string yaml;  ///< verbatim text (stored with the bench run).
  std::vector<ArchSpec>
      architectures;  ///< resolved and parsed; default: every shipped architecture.
  std::vector<int> batch_sizes{64, 128};
  std::vector<int> threads{1};
  int warmup_steps = 10;
  int steps = 20;
  int repetitions = 5;
  std::string dataset = "mnist";
  uint64_t seed = 1;
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

enum class BenchMode { training, inference };
const char* to_string(BenchMode mode);

/// Settings of one measurement (taken from the matrix).
struct BenchSettings {
  int warmup_steps = 10;
  int steps = 20;
  int repetitions = 5;
  uint64_t seed = 1;
};

/// Throughput of one architecture x batch size x threads x mode.
struct BenchResult {
  std::string architecture;
  int batch_size = 0;
  int threads = 1;
  BenchMode mode = BenchMode::training;
  int warmup_steps = 0;
  int steps = 0;
  int repetitions = 0;
  int64_t macs_per_image =
      0;  ///< forward multiply-accumulates per image (Network::macs_per_image).
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
/// Create it on the thread that runs it, after omp_set_num_threads. Not thread-safe. `data` must
/// outlive the session (the input pipeline reads its images in place).
/// Throws RunError when the architecture does not fit the dataset (classes, image size) or the
/// dataset has fewer training images than one batch.
class BenchSession {
 public:
  BenchSession(const ArchSpec& arch, const Dataset& data, int batch_size, uint64_t seed);
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
  std::unique_ptr<Impl> impl_;
  int batch_size_;
};

/// Measures training and inference throughput of `arch` at one batch size and thread count on a new
/// worker thread (see the file comment): warmup_steps untimed steps, then `repetitions` timed
/// groups of `steps` steps, for training first, then inference, on one network. Returns {training,
/// inference}. Exceptions of the worker (RunError, dnnl::error) are rethrown on the calling thread.
std::vector<BenchResult> bench_case(const ArchSpec& arch, int batch_size, int threads,
                                    const BenchSettings& settings, const Dataset& data);

// ---- profile -----------------------------------------------------------------------------------

/// One line of a training-step profile.
struct ProfileRow {
  std::string part;       ///< layer name (e.g. "conv2"), or "data", "loss", "optimizer", "step".
  std::string direction;  ///< forward | backward | backward_data | backward_weights |
                          ///< backward_other | step ("data", "loss", "optimizer") | whole ("step").
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
  std::vector<ProfileRow>
      rows;  ///< data, forward by layer, loss, backward by layer (last first), optimizer, step.
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
ProfileResult profile_training(const ArchSpec& arch, int batch_size, int threads,
                               const BenchSettings& settings, const Dataset& data);

// ---- results database --------------------------------------------------------------------------

/// Context of one `lenetlab bench` invocation, stored in bench_runs.
struct BenchRunInfo {
  std::string kind = "matrix";  ///< matrix | profile.
  std::string matrix_file;
  std::string matrix_yaml;
  std::string dataset;
  std::string dataset_sha256;
  Environment
      environment;  ///< capture_environment(); its threads field is not stored (per result).
  std::string build_flags;   ///< compiler flags of the build (bench_build_flags()).
  double load_average = -1;  ///< 1-minute load average when the bench started (-1 unknown).
  int cores = 0;             ///< std::thread::hardware_concurrency().
};

/// CMAKE_CXX_FLAGS and the flags of the build type lenetlab_bench was compiled with.
std::string bench_build_flags();
/// 1-minute load average from getloadavg(), or -1.
double load_average_1min();

/// Creates bench_runs, bench_results and bench_profile when absent (framework/bench/schema.sql).
/// Throws StoreError on failure.
void ensure_bench_schema(Store& store);
/// Inserts a bench_runs row (started_at = now) and returns its id. Calls ensure_bench_schema.
int64_t record_bench_run(Store& store, const BenchRunInfo& info);
/// Inserts result rows of a bench run, in one transaction.
void record_bench_results(Store& store, int64_t bench_run_id,
                          const std::vector<BenchResult>& results);
/// Inserts the rows of a profile (whole step included, as part "step"), in one transaction.
void record_profile(Store& store, int64_t bench_run_id, const ProfileResult& profile);
/// Sets bench_runs.finished_at = now.
void finish_bench_run(Store& store, int64_t bench_run_id);

// ---- helpers for tests and the benchmark suite -------------------------------------------------

/// An in-memory dataset of `train_images` / `test_images` 28x28 images with uniformly random pixels
/// and labels in [0, 10), from `seed` (name "synthetic"). Same sizes and costs as MNIST, no files.
Dataset synthetic_dataset(int64_t train_images, int64_t test_images, uint64_t seed);

}  // namespace lenetlab
