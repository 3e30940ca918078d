// Small descriptive statistics for the report's leaderboard: mean, sample standard deviation and
// the Student-t confidence interval of a mean over seeds. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace lenetlab::stats {

/// Arithmetic mean. Returns NaN for an empty sample.
double mean(std::span<const double> values);

/// Sample standard deviation with Bessel's correction: sqrt(sum (x - mean)^2 / (n - 1)).
/// Returns NaN when n < 2 (undefined for a single value).
double sample_sd(std::span<const double> values);

/// Quantile of Student's t distribution with `dof` degrees of freedom: the t such that
/// P(T <= t) = p. Computed with boost::math::students_t. Requires 0 < p < 1 and dof > 0; throws
/// std::domain_error otherwise.
double student_t_quantile(double p, double dof);

/// Half-width of the two-sided confidence interval of the mean at level `confidence` (e.g. 0.95):
/// t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n). Returns std::nullopt when n < 2.
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

}  // namespace lenetlab::stats
