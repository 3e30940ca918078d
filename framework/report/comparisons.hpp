// Statistics across configurations: every pair of configurations that differ in exactly one factor
// (report/factors.hpp) compared on one metric, the per-factor summary, and time to target. Computed
// from the report model (report/model.hpp) and nothing else; the HTML view and `lenetlab compare`
// render it.
//
// Methods (each function's source is in stats/): runs with the same seed share initialisation,
// validation split and data order, so two configurations with the same seeds (each with a value)
// are compared paired by seed (paired t-test, with the Wilcoxon signed-rank test as the
// distribution-free check); otherwise by Welch's t-test. The p-values of the family shown are
// adjusted by Holm's method; the effect size is Hedges' g; when the adjusted p-value is not below
// alpha, the verdict gives the seeds per configuration a t-test of the same design would need to
// detect the observed difference at 80 % power.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lenetlab::report {

struct ReportModel;

/// What a comparison is made on; a run without the value takes no part.
enum class ComparisonMetric {
  test_accuracy,      ///< RunRow::test_accuracy (fraction).
  best_val_accuracy,  ///< RunRow::best_val_accuracy (fraction).
  test_loss,          ///< RunRow::test_loss (nats).
  seconds,            ///< training seconds: sum of the epochs' EpochRecord::seconds.
  epochs_to_target,   ///< first epoch whose validation accuracy reaches the target.
  seconds_to_target,  ///< training seconds up to and including that epoch.
};

struct ComparisonMetricInfo {
  ComparisonMetric metric;
  std::string_view name;   ///< "test_accuracy", as on the command line.
  std::string_view label;  ///< "test accuracy", as shown.
  bool higher_is_better;
  bool fraction;  ///< a fraction in [0, 1]: differences shown in percentage points.
};

inline constexpr std::array<ComparisonMetricInfo, 6> kComparisonMetrics = {{
    {ComparisonMetric::test_accuracy, "test_accuracy", "test accuracy", true, true},
    {ComparisonMetric::best_val_accuracy, "best_val_accuracy", "best validation accuracy", true,
     true},
    {ComparisonMetric::test_loss, "test_loss", "test loss", false, false},
    {ComparisonMetric::seconds, "seconds", "training seconds", false, false},
    {ComparisonMetric::epochs_to_target, "epochs_to_target", "epochs to target", false, false},
    {ComparisonMetric::seconds_to_target, "seconds_to_target", "seconds to target", false, false},
}};

const ComparisonMetricInfo& metric_info(ComparisonMetric metric);
/// The metric named `name` (kComparisonMetrics), or absent.
std::optional<ComparisonMetric> parse_comparison_metric(std::string_view name);

/// Default targets of time to target (sweep key `targets`: sweeps/README.md).
inline const std::vector<double> kDefaultTargets = {0.98, 0.99};

struct ComparisonOptions {
  ComparisonMetric metric = ComparisonMetric::test_accuracy;
  /// Only pairs that differ in this factor (Factor::name "optimizer" or its path
  /// "optimizer.name"); empty: every factor. The Holm family is the pairs kept.
  std::string factor;
  /// Target validation accuracies of time to target, increasing.
  std::vector<double> targets = kDefaultTargets;
  /// The target the *_to_target metrics use; absent: the first of `targets`.
  std::optional<double> metric_target;
  double alpha = 0.05;       ///< family-wise error rate of the Holm-adjusted verdicts.
  double confidence = 0.95;  ///< of the intervals.
  double power = 0.8;        ///< of the seeds-needed estimate.
};

/// Two configurations that differ in exactly one factor, compared on one metric.
struct Comparison {
  std::string factor;  ///< Factor::name: "optimizer", "learning rate", "batch size", a path.
  /// ConfigGroup::id of the two, `a` the one with the better mean (by the metric's direction;
  /// equal means: leaderboard order).
  std::string a, b;
  std::string a_value, b_value;  ///< the factor's value in each ("adam", "0.001").
  /// Settings that change together with the factor in this grid (Factor::confounded, e.g. a
  /// recipe's batch_size beside its architecture): the difference may come from any of them.
  std::vector<std::string> confounded;
  std::size_t n_a = 0, n_b = 0;  ///< values compared (paired: both the number of seeds shared).
  bool paired = false;           ///< paired by seed (same seeds with a value in both), else Welch.
  double mean_a = 0, mean_b = 0;
  double difference = 0;  ///< mean_a - mean_b (paired: mean of the per-seed differences).
  /// Interval of the difference at options.confidence; absent without a test.
  std::optional<double> low, high;
  std::optional<double> p_value;     ///< two-sided t-test (paired or Welch); absent without one.
  std::optional<double> p_holm;      ///< Holm-adjusted over the pairs of the set with a p-value.
  std::optional<double> wilcoxon_p;  ///< paired only: two-sided exact signed-rank p-value.
  std::optional<double> hedges_g;    ///< of a against b; absent when the pooled sd is 0.
  /// Seeds per configuration for options.power to detect |difference| (same design); absent when
  /// not tested, the difference is 0, or more than 1000 would be needed.
  std::optional<std::size_t> seeds_needed;
  bool significant = false;  ///< p_holm < options.alpha.
  /// "C2 (adam) better than C1 (sgd) by 0.21 points [0.05, 0.37], p = 0.004 after Holm", or
  /// "no detectable difference with 3 seeds (p = 0.41 after Holm); about 12 seeds would detect
  /// 0.10 points at 80% power", or why no test was made.
  std::string verdict;
};

/// One value of a factor over the rest of the grid.
struct FactorLevel {
  std::string value;
  std::size_t configurations = 0;  ///< with this value and at least one run with the metric.
  std::size_t runs = 0;            ///< values pooled: every seed of those configurations.
  double mean = 0;                 ///< of the pooled run values.
  /// Interval of that mean: for fraction metrics stats::bounded_mean_interval (logit scale, none
  /// with fewer than 3 values), else the Student-t interval (none with fewer than 2).
  std::optional<double> low, high;
};

/// A factor: its values' means and the share of the variance across configurations it explains.
struct FactorSummary {
  std::string factor;               ///< Factor::name.
  std::string path;                 ///< Factor::path.
  std::vector<FactorLevel> levels;  ///< in Factor::values order.
  /// eta^2 of a one-way ANOVA of the configurations' means grouped by this factor's value
  /// (stats::one_way_anova): the share of the variance across configurations it explains, in [0,
  /// 1]. Absent with fewer than 2 values having configurations, or no variance.
  std::optional<double> eta_squared;
  std::optional<double> p_value;  ///< of that ANOVA's F test.
};

/// First time one run reached one target validation accuracy.
struct TargetTime {
  double target = 0;
  std::optional<int64_t> epoch;   ///< first epoch with val_accuracy >= target; absent: not reached.
  std::optional<double> seconds;  ///< training seconds up to and including that epoch.
};

/// Time to target of one run (runs without validation accuracy have none reached).
struct RunTargets {
  std::size_t run = 0;              ///< index into ReportModel::runs.
  std::vector<TargetTime> targets;  ///< one per ComparisonSet::targets.
};

/// Time to target of one configuration at one target, over its runs.
struct GroupTarget {
  std::string config_id;
  double target = 0;
  std::size_t runs = 0;                             ///< runs of the configuration.
  std::size_t reached = 0;                          ///< of those, the runs that reached the target.
  std::optional<double> epochs_mean, seconds_mean;  ///< over the runs that reached it.
};

struct ComparisonSet {
  ComparisonMetric metric = ComparisonMetric::test_accuracy;
  std::optional<double> metric_target;  ///< for the *_to_target metrics.
  double alpha = 0.05, confidence = 0.95, power = 0.8;
  std::vector<double> targets;
  /// Grouped by factor (factors in varying_factors order), then by a's leaderboard order.
  std::vector<Comparison> pairs;
  std::vector<FactorSummary> factors;
  std::vector<RunTargets> run_targets;     ///< one per run of the model, in run order.
  std::vector<GroupTarget> group_targets;  ///< by configuration (leaderboard order), then target.
  /// The methods and their sources, one sentence each, for the page and the command.
  std::vector<std::string> methods;
};

/// The comparisons, factor summaries and time to target of `model` (its groups, runs, epochs).
/// Throws std::invalid_argument when options.targets are not increasing fractions in (0, 1].
ComparisonSet compare_configurations(const ReportModel& model, const ComparisonOptions& options);

/// " (changes together with: batch_size, normalize.mean)" after a factor's name when other
/// settings vary with it in the grid (Comparison::confounded); empty otherwise.
std::string confounded_note(const Comparison& c);

/// The value of `metric` for run `run` of `model`; absent when the run has none (no test result,
/// no validation accuracy, target not reached). `target` is used by the *_to_target metrics.
std::optional<double> run_metric(const ReportModel& model, std::size_t run, ComparisonMetric metric,
                                 double target);

}  // namespace lenetlab::report
