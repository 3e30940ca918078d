// Descriptive statistics over the seeds of one configuration: mean, sample standard deviation, the
// Student-t interval of a mean, and an interval for the mean of a metric bounded to [0, 1] that never
// leaves [0, 1]. Every distribution function is Boost.Math's. All functions are pure and
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace lenetlab::stats {

/// Arithmetic mean. Returns NaN for an empty sample.
double mean(std::span<const double> values);

/// Median: the middle value of the sorted values, or the mean of the two middle values when the
/// count is even (R's median(), quantile type 7 at 1/2). Returns NaN for an empty sample.
double median(std::span<const double> values);

/// Sample standard deviation with Bessel's correction: sqrt(sum (x - mean)^2 / (n - 1)).
/// Returns NaN when n < 2 (undefined for a single value).
double sample_sd(std::span<const double> values);

/// Quantile of Student's t distribution with `dof` degrees of freedom: the t such that
/// P(T <= t) = p. Computed with boost::math::students_t. Requires 0 < p < 1 and dof > 0; throws
/// std::domain_error otherwise.
double student_t_quantile(double p, double dof);

/// Half-width of the two-sided confidence interval of the mean at level `confidence` (e.g. 0.95):
/// t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n) (Student 1908; any textbook, e.g. Moore,
/// McCabe & Craig, Introduction to the Practice of Statistics, "the one-sample t confidence
/// interval"). Returns std::nullopt when n < 2.
std::optional<double> t_ci_half_width(std::span<const double> values, double confidence = 0.95);

/// Everything the leaderboard shows for one metric over the seeds of a configuration.
struct Summary {
  std::size_t n = 0;                    ///< number of values.
  double mean = 0;                      ///< NaN when n == 0.
  std::optional<double> sd;             ///< sample sd; absent when n < 2.
  std::optional<double> ci_half_width;  ///< 95 % Student-t half-width; absent when n < 2.
};

/// mean, sample_sd and t_ci_half_width of `values` at level `confidence`.
Summary summarize(std::span<const double> values, double confidence = 0.95);

/// Fewest values for which bounded_mean_interval gives an interval: with 2 seeds the t quantile
/// (12.7 at 95 %, 1 degree of freedom) makes any interval too wide to inform.
inline constexpr std::size_t kMinValuesForInterval = 3;

/// The mean of a metric bounded to [0, 1] (an accuracy) with an interval that stays inside (0, 1).
struct BoundedInterval {
  std::size_t n = 0;
  double mean = 0;  ///< arithmetic mean of the values (NaN when n == 0).
  /// False when n < kMinValuesForInterval: low and high are then absent ("not informative").
  bool informative = false;
  std::optional<double> low, high;  ///< inside (0, 1); low <= high.
};

/// Interval of the mean of fractions in [0, 1] by a Student-t interval on the logit scale,
/// transformed back: z_i = logit(x_i), [expit(mean z - t s_z / sqrt(n)), expit(mean z + t s_z /
/// sqrt(n))] with t = t_{(1 + confidence) / 2, n - 1} (the logit transform for proportions:
/// Agresti, Categorical Data Analysis, 3rd ed. 2013, the logit link; Warton & Hui 2011, "The
/// arcsine is asinine: the analysis of proportions in ecology", Ecology 92(1):3-10, which
/// recommends the logit over the arcsine). A value of exactly 0 or 1 has no logit: with `trials`
/// (images behind each fraction) the empirical logit log((k + 1/2) / (trials - k + 1/2)), k =
/// x * trials, is used for every value (Cox & Snell, Analysis of Binary Data, 2nd ed. 1989, the
/// empirical logistic transform); without it values are clamped to [1e-6, 1 - 1e-6]. The interval
/// is centred on the back-transformed mean logit, which for accuracies above 1/2 lies at or above
/// the arithmetic mean. n < kMinValuesForInterval: no interval (informative = false). Throws
/// std::domain_error for a value outside [0, 1] or trials <= 0.
BoundedInterval bounded_mean_interval(std::span<const double> values,
                                      std::optional<int64_t> trials = std::nullopt,
                                      double confidence = 0.95);

}  // namespace lenetlab::stats
