// The report as data: what the page shows, computed from the rows of the results database and
// nothing else (no SQL, no markup). The HTML view (report/html_view.hpp) renders it; tests assert
// its numbers.
//
// A configuration (ConfigGroup) is a set of runs whose configurations are equal except for the
// seed: configuration_identity() below, derived from RunConfig itself. Statistics over the seeds of
// a configuration are stats/summary.hpp: mean, sample sd (Bessel) and the Student-t 95% interval.
//
// Growth: statistics across configurations (pairwise comparisons, per-factor summaries) belong
// beside `groups` as further members computed by their own functions from groups and runs;
// ConfigGroup::config gives the typed settings to compare and RunRow::seed the pairing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "report/comparisons.hpp"
#include "stats/summary.hpp"
#include "store/rows.hpp"

namespace lenetlab::report {

/// One `lenetlab bench` with its rows (tables bench_runs, bench_results, bench_profile).
struct BenchRun {
  BenchRunRow run;
  std::vector<BenchResultRow> results;   ///< matrix benches, in insertion order.
  std::vector<BenchProfileRow> profile;  ///< profile benches, in position order.
};

/// One run of a protocol's stage 1 (sweep NAME.tune) as the selection chart draws it.
struct TuningRun {
  RunRow run;
  int last_epoch = 0;  ///< the largest epoch recorded (a pruned run: its last rung's budget)
  /// The selection's metric (SelectionRow::metric: val_accuracy or val_loss) at last_epoch;
  /// absent when that epoch has none (no epoch recorded, no validation split).
  std::optional<double> metric;
};

/// The search decisions of one sweep: successive halving's rungs (table search_rungs, by rung then
/// rank) and a protocol's selections (table protocol_selections, by group).
struct SearchRecord {
  std::string sweep;  ///< a protocol's rungs are its stage 1's: sweep NAME.tune
  std::vector<RungRow> rungs;
  std::vector<SelectionRow> selections;
  /// With selections: the runs of stage 1 (sweep NAME.tune), by id.
  std::vector<TuningRun> tuning;
  /// With selections: the settings the sweep's stored `space:` draws log_uniform, by their key in
  /// the file ("learning_rate"), anywhere in the space (inside a choice's alternatives too).
  std::vector<std::string> log_uniform;
};

/// Everything the model is computed from: the rows (store/rows.hpp) of the sweeps reported.
struct ReportRows {
  std::vector<SweepRow> sweeps;  ///< sweeps with at least one run, by name.
  std::vector<RunRow> runs;      ///< by id.
  /// epochs[i]: the epoch rows of runs[i], by epoch (empty when none was recorded).
  std::vector<std::vector<EpochRecord>> epochs;
  std::vector<PublishedRow> published;  ///< by sweep, then architecture.
  std::vector<BenchRun> bench;          ///< every bench run of the database, by id.
  /// The rungs and selections of the sweeps reported (and of their stage 1, NAME.tune).
  std::vector<SearchRecord> search;
  /// Comparisons, factor summaries and time to target (report/comparisons.hpp); targets default
  /// to kDefaultTargets.
  ComparisonOptions comparison;
};

/// Number of runs with one status.
struct StatusCount {
  RunStatus status = RunStatus::queued;
  int64_t runs = 0;
};

/// Counts of the statuses present, in display order (core/records.hpp display_rank).
std::vector<StatusCount> count_statuses(const std::vector<const RunRow*>& runs);

/// What identifies a run's configuration apart from its seed.
struct ConfigIdentity {
  /// Grouping key: RunConfig::to_json() of the configuration with seed 0 when config_json is a
  /// complete stored configuration (RunConfig::from_json accepts it and to_json gives it back);
  /// otherwise the raw config_json text, so that nothing RunConfig does not model is merged.
  std::string key;
  /// The configuration with seed 0; absent in the raw-text case.
  std::optional<RunConfig> config;
};
ConfigIdentity configuration_identity(const std::string& config_json);

/// One setting as shown: its path in RunConfig::to_json() ("optimizer.momentum") and its value
/// (a string as is, anything else as JSON text).
struct Setting {
  std::string path;
  std::string value;
};

/// Runs identical except for the seed, with the leaderboard figures over those runs.
struct ConfigGroup {
  std::string id;     ///< "C1", "C2", ... in leaderboard order.
  std::string label;  ///< "C1 lenet5/sgd lr=0.01 bs=64" (charts), from the first run's columns.
  std::optional<RunConfig> config;  ///< configuration_identity(...).config of its runs.
  std::vector<std::size_t> runs;    ///< indices into ReportModel::runs, ascending.
  /// Settings outside the leaderboard's columns (architecture, optimizer, learning rate, batch
  /// size) whose value here differs from the most common value among configurations.
  std::vector<Setting> other_settings;
  std::vector<double> test_accuracies;  ///< of the runs that have one, in run order.
  stats::Summary test;                  ///< over test_accuracies (95% Student-t).
  std::optional<double> t_quantile;     ///< t(0.975, n - 1) behind test.ci_half_width.
  /// The interval the report shows for the mean test accuracy: accuracy_interval(test_accuracies,
  /// the runs' test images when they all have the same number).
  stats::BoundedInterval test_interval;
  std::optional<double> best_val_mean;    ///< mean best validation accuracy over runs with one.
  double epochs_mean = 0;                 ///< mean epochs completed over all its runs.
  std::optional<double> seconds_mean;     ///< mean wall time (s) over runs with one.
  std::optional<int64_t> parameters;      ///< of the first run that recorded it.
  std::optional<int64_t> macs_per_image;  ///< forward multiply-accumulates, as parameters.
  std::vector<StatusCount> statuses;
};

/// A condition that makes results not bit-comparable, with the values it took.
struct ConditionDifference {
  std::string field;    ///< "isa", "threads", "onednn_version", "compiler", "git_commit",
                        ///< "dataset_sha256".
  std::string dataset;  ///< for dataset_sha256: the dataset whose files differed.
  struct Value {
    std::string value;
    int64_t runs = 0;
  };
  std::vector<Value> values;  ///< by value.
};

/// One distinct environment and the number of runs recorded in it.
struct EnvironmentRow {
  std::string host, cpu_model, isa, onednn_version;
  std::optional<int64_t> threads;
  std::string compiler, git_commit;
  int64_t runs = 0;
};

/// A published result next to what the sweep measured for its architecture.
struct PublishedComparison {
  PublishedRow published;  ///< test_accuracy / required_test_accuracy 0 = not given.
  struct Seed {
    int64_t seed = 0;
    double test_accuracy = 0;
  };
  std::vector<Seed> seeds;                 ///< runs of that sweep and architecture with a result.
  std::optional<stats::Summary> measured;  ///< over seeds; absent when there is none.
  /// accuracy_interval of the seeds' test accuracies (informative = false with fewer than 3).
  stats::BoundedInterval interval;
  /// measured mean >= required; absent without a measurement or a requirement.
  std::optional<bool> reached;
};

/// Per-class metrics and confusion matrix of the best run.
struct BestRun {
  std::size_t run = 0;    ///< index into ReportModel::runs.
  std::string config_id;  ///< its ConfigGroup::id.
  std::vector<ClassMetrics> classes;
  /// Dense confusion matrix, confusion[t * labels + p]; labels covers every label seen in the
  /// cells and in classes. Empty when no cell was recorded.
  int64_t labels = 0;
  std::vector<int64_t> confusion;
  int64_t max_count = 0;
  /// Macro averages over classes (unweighted means) and the total support; absent without
  /// classes.
  struct Macro {
    double precision = 0, recall = 0, f1 = 0;
    int64_t support = 0;
  };
  std::optional<Macro> macro;
};

struct ReportModel {
  std::string title;
  std::string generated;  ///< display_utc_now() when the model was built.
  std::vector<SweepRow> sweeps;
  std::vector<RunRow> runs;                      ///< by id.
  std::vector<std::vector<EpochRecord>> epochs;  ///< epochs[i] of runs[i].
  std::vector<StatusCount> statuses;             ///< over all runs.
  std::vector<ConditionDifference> differences;
  std::vector<EnvironmentRow> environments;
  int64_t runs_without_environment = 0;  ///< never started.
  std::vector<PublishedComparison> published;
  std::vector<ConfigGroup> groups;         ///< best mean test accuracy first.
  std::vector<std::string> config_of_run;  ///< config_of_run[i]: id of the group of runs[i].
  std::optional<BestRun> best;             ///< absent when no run has a test accuracy.
  std::vector<std::size_t> problems;       ///< runs with is_problem(status), by id.
  /// Bench runs with at least one result or profile row, by id (bench runs belong to no sweep:
  /// every one in the database is shown).
  std::vector<BenchRun> bench;
  /// Pairwise comparisons on ReportRows::comparison's metric, factor summaries, time to target.
  ComparisonSet comparisons;
  /// ReportRows::search (report/html_search.cpp).
  std::vector<SearchRecord> search;
};

/// The 95% interval of a mean accuracy as the report shows it: stats::bounded_mean_interval
/// (logit scale, inside (0, 1); not informative with fewer than 3 values), `trials` the images
/// behind each value when known. Values outside [0, 1] (a database edited by hand) give no
/// interval instead of an error.
stats::BoundedInterval accuracy_interval(std::span<const double> values,
                                         std::optional<int64_t> trials = std::nullopt);

/// Builds the model; `title` empty means "lenetlab report: <sweep names>". The best run's classes
/// and confusion cells are read afterwards with set_best_run_details (only that run needs them).
/// Throws std::invalid_argument when rows.epochs and rows.runs differ in size.
ReportModel build_report_model(ReportRows rows, const std::string& title);

/// Fills model.best's per-class metrics and dense confusion matrix from its rows.
void set_best_run_details(ReportModel& model, std::vector<ClassMetrics> classes,
                          const std::vector<ConfusionCell>& cells);

/// Groups runs into configurations (configuration_identity), computes their statistics, sorts them
/// by mean test accuracy (configurations without one last; ties keep first-appearance order),
/// numbers them C1, C2, ... and lists their other settings.
std::vector<ConfigGroup> group_runs(const std::vector<RunRow>& runs);

}  // namespace lenetlab::report
