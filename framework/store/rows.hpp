// Typed rows of the results database: one struct per table, every column, as ResultsReader
// (store/reader.hpp) returns them and, for the bench tables, as Store writes them. The schema and its
// units are documented in framework/store/README.md; std::optional marks a nullable column.
// Units: times are ISO-8601 UTC text ("2026-11-21T15:30:00.123Z"); durations are seconds unless
// named _ms; rates are images/s; losses are nats; accuracies are fractions in [0, 1].
// Epochs and test metrics use the records training produces (core/records.hpp: EpochRecord,
// ClassMetrics), so what is written is what is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/records.hpp"

namespace lenetlab {

/// Schema version this build reads and writes (PRAGMA user_version); the number of migrations in
/// store/migrations/. Older databases are upgraded in place when opened; newer ones are refused.
inline constexpr int kSchemaVersion = 10;

/// Table sweeps.
struct SweepRow {
  int64_t id = 0;
  std::string name;        ///< the sweep file's `name:` (unique).
  std::string file;        ///< path of the sweep file as given at its last `lenetlab run`.
  std::string yaml;        ///< verbatim text of the sweep file at its last `lenetlab run`.
  std::string created_at;  ///< first `lenetlab run` of the sweep.
  std::string updated_at;  ///< last `lenetlab run` of the sweep.
};

/// Table runs, joined with the name of its sweep. Columns that stay NULL until the run starts
/// (environment, model size) or ends (results) are optional.
struct RunRow {
  int64_t id = 0;
  std::string key;  ///< 16 hex digits: hash of config_json (RunConfig::key); unique.
  /// The sweep the row was read under: the filter's sweep (ResultsReader::runs with
  /// RunFilter::sweep, table sweep_runs), else the sweep that prepared the run (runs.sweep_id).
  int64_t sweep_id = 0;
  std::string sweep;  ///< sweeps.name of sweep_id.
  std::string name;   ///< display name, e.g. "lenet-relu/sgd lr=0.01 bs=128 seed=1".
  std::string architecture;
  std::string optimizer;
  double learning_rate = 0;  ///< initial learning rate.
  int64_t batch_size = 0;
  int64_t epochs = 0;  ///< epochs requested.
  int64_t seed = 0;
  std::string dataset;      ///< "mnist", "fashion-mnist" or "csv:TRAIN,TEST".
  std::string config_json;  ///< resolved configuration, canonical JSON (RunConfig::to_json).
  RunStatus status = RunStatus::queued;
  std::optional<std::string> error;       ///< set for failed, diverged, interrupted runs.
  std::optional<int64_t> diverged_epoch;  ///< set for diverged runs.
  std::optional<int64_t> parameters;      ///< all parameters incl. batch-norm running statistics.
  std::optional<int64_t> trainable_parameters;
  std::optional<int64_t> macs_per_image;  ///< forward multiply-accumulates per image.
  // Environment (core/records.hpp Environment), recorded when the run starts.
  std::optional<int64_t> threads;  ///< OpenMP threads inside oneDNN.
  std::optional<std::string> host, cpu_model, isa, onednn_version, tbb_version, compiler,
      build_type, git_commit;
  std::optional<std::string> dataset_sha256;
  std::optional<std::string> started_at, finished_at;
  std::optional<double> seconds;  ///< wall time of the whole run, set when it ends.
  int64_t epochs_completed = 0;   ///< largest epoch recorded (0 before the first).
  std::optional<int64_t> best_epoch;
  std::optional<double> best_val_accuracy;  ///< absent without a validation split.
  std::optional<double> test_loss;          ///< absent when training did not finish.
  std::optional<double> test_accuracy;
  std::optional<int64_t> test_images;
  std::optional<std::string> weights_hash;  ///< XXH3-64 of the final weights, 16 hex digits.
  std::optional<std::string> owner;         ///< "host:pid" of the process that claimed the run.
  std::optional<std::string> heartbeat_at;  ///< last sign of life of that process (every 15 s).
  /// A tuning run of a protocol (sweeps/README.md "Protocol"): its configuration has
  /// evaluate_test false, so it has no test metrics by design.
  bool tuning() const { return config_json.find("\"evaluate_test\":false") != std::string::npos; }
  /// The run's training engine (run setting `engine`: in config_json only when 2).
  int engine() const { return config_json.find("\"engine\":2") != std::string::npos ? 2 : 1; }
};

/// Table confusion: images of true class `true_label` predicted as `predicted_label` (test set).
struct ConfusionCell {
  int64_t true_label = 0;
  int64_t predicted_label = 0;
  int64_t count = 0;
};

/// Table verifications: one `lenetlab verify RUN`.
struct VerificationRow {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string verified_at;
  bool matched = false;  ///< every compared value identical.
  int64_t epochs_compared = 0;
  int64_t mismatches = 0;  ///< number of differing values.
  std::string details;     ///< JSON array [{epoch, metric, stored, reproduced}] of the differences.
  std::optional<int64_t> threads;
  std::optional<std::string> isa, onednn_version, host, git_commit;
};

/// Table published_results joined with its sweep's name: a result the sweep compares itself with.
struct PublishedRow {
  std::string sweep;  ///< sweeps.name.
  std::string architecture;
  double test_accuracy = 0;           ///< the published figure.
  double required_test_accuracy = 0;  ///< bar the mean over seeds must reach; 0 = none.
  std::string source;                 ///< citation.
};

/// Table search_rungs (joined with the run's key and name): one candidate of one rung of a
/// successive-halving sweep (sweep/halving.hpp). Store::record_rung ignores run_key and run_name.
struct RungRow {
  int64_t run_id = 0;
  std::string run_key;
  std::string run_name;
  int bracket = 0;  ///< Hyperband's bracket, 0-based (0 for successive halving)
  int rung = 0;     ///< 0-based, within the bracket
  int epochs = 0;   ///< the rung's epoch budget
  std::string metric;
  std::optional<double> metric_value;  ///< absent: the run diverged before the budget
  int rank = 0;                        ///< 1 = best
  int candidates = 0;
  bool promoted = false;
};

/// Table protocol_selections (joined with the chosen run's key and name): the setting a
/// tune-then-replicate protocol selected for one group (sweep/protocol.hpp). Store::record_selection
/// ignores run_key and run_name.
struct SelectionRow {
  std::string group;  ///< e.g. "optimizer=adam"; empty without per
  int64_t run_id = 0;
  std::string run_key;
  std::string run_name;
  std::string metric;
  double metric_value = 0;  ///< mean over the setting's tuning runs
  int tuning_runs = 0;
  int settings = 0;  ///< settings compared in the group
};

/// Table bench_runs: one `lenetlab bench`. Store::begin_bench_run ignores id, started_at and
/// finished_at (the store sets them).
struct BenchRunRow {
  int64_t id = 0;
  std::string kind;  ///< "matrix" or "profile".
  std::string started_at;
  std::optional<std::string> finished_at;  ///< absent while running or when interrupted.
  std::string matrix_file;                 ///< path of the matrix file as given (or the default).
  std::string matrix_yaml;                 ///< its verbatim text.
  std::string dataset;
  std::string dataset_sha256;
  std::string host, cpu_model;
  int64_t cores = 0;                   ///< std::thread::hardware_concurrency().
  std::optional<double> load_average;  ///< 1-minute load average at the start.
  std::string isa, onednn_version, tbb_version, compiler, build_type;
  std::string build_flags;  ///< CMAKE_CXX_FLAGS and CMAKE_CXX_FLAGS_<BUILD_TYPE>.
  std::string git_commit;
  int64_t engine = 1;                  ///< the training engine measured (1 or 2).
  std::optional<int64_t> micro_batch;  ///< engine 2's micro-batch size; absent for engine 1.
};

/// Table bench_results: one architecture x batch size x threads x mode of a matrix bench.
struct BenchResultRow {
  int64_t bench_run_id = 0;  ///< ignored by Store::record_bench_results (its argument is used).
  std::string architecture;
  int64_t batch_size = 0;
  int64_t threads = 0;               ///< OpenMP threads inside oneDNN.
  std::string mode;                  ///< "training" or "inference".
  double images_per_second_min = 0;  ///< over the repetitions.
  double images_per_second_median = 0;
  double images_per_second_max = 0;
  std::string samples;  ///< JSON array: images/s of each repetition, in order.
  int64_t macs_per_image = 0;
  int64_t warmup_steps = 0;
  int64_t steps = 0;  ///< steps per repetition.
  int64_t repetitions = 0;
};

/// Table bench_profile: one part of a profiled training step, in step order.
struct BenchProfileRow {
  int64_t bench_run_id = 0;  ///< ignored by Store::record_bench_profile (its argument is used).
  int64_t position = 0;      ///< 0-based row order; Store::record_bench_profile numbers the rows.
  std::string architecture;
  int64_t batch_size = 0;
  int64_t threads = 0;
  std::string part;            ///< layer name, or data | loss | optimizer | step.
  std::string direction;       ///< forward | backward | backward_data | backward_weights |
                               ///< backward_other | step | whole.
  double ms_per_step = 0;      ///< milliseconds: median over repetitions of the mean per step.
  double percent_of_step = 0;  ///< 100 * ms_per_step / whole-step time.
  bool in_sum = false;         ///< one of the disjoint parts summed against the whole step.
  int64_t steps = 0;
  int64_t repetitions = 0;
};

/// Table slurm_jobs: one `lenetlab slurm submit` (an sbatch job array). Store::record_slurm_job
/// ignores id and submitted_at (the store sets them).
struct SlurmJobRow {
  int64_t id = 0;
  std::string sweep;                   ///< sweeps.name of the sweep submitted.
  std::string job_id;                  ///< the array job id sbatch printed, e.g. "4711".
  std::optional<std::string> cluster;  ///< the cluster sbatch named (multi-cluster sites).
  int64_t tasks = 0;                   ///< N: array task I trains shard I of N.
  std::string array;                   ///< task ids submitted, sbatch --array syntax ("0-3").
  std::string script;                  ///< path of the sbatch script.
  std::string shard_dir;               ///< directory of the shard databases.
  std::string submitted_at;
};

}  // namespace lenetlab
