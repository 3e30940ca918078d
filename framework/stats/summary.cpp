#include "stats/summary.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace lenetlab::stats {

double mean(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double median(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const std::size_t m = sorted.size() / 2;
  return sorted.size() % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

double sample_sd(std::span<const double> values) {
  if (values.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double m = mean(values);
  double squares = 0;
  for (double v : values) squares += (v - m) * (v - m);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0 && p < 1)) throw std::domain_error("student_t_quantile: p must be in (0, 1)");
  if (!(dof > 0)) throw std::domain_error("student_t_quantile: dof must be positive");
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), p);
}

std::optional<double> t_ci_half_width(std::span<const double> values, double confidence) {
  if (values.size() < 2) return std::nullopt;
  const double n = static_cast<double>(values.size());
  const double t = student_t_quantile((1 + confidence) / 2, n - 1);
  return t * sample_sd(values) / std::sqrt(n);
}

Summary summarize(std::span<const double> values, double confidence) {
  Summary s;
  s.n = values.size();
  s.mean = mean(values);
  if (values.size() >= 2) {
    s.sd = sample_sd(values);
    s.ci_half_width = t_ci_half_width(values, confidence);
  }
  return s;
}

BoundedInterval bounded_mean_interval(std::span<const double> values, std::optional<int64_t> trials,
                                      double confidence) {
  if (trials && *trials <= 0)
    throw std::domain_error("bounded_mean_interval: trials must be positive");
  BoundedInterval b;
  b.n = values.size();
  b.mean = mean(values);
  std::vector<double> logits;
  for (const double x : values) {
    if (!(x >= 0 && x <= 1))
      throw std::domain_error("bounded_mean_interval: values must be fractions in [0, 1]");
    if (trials) {
      const double n = static_cast<double>(*trials);
      const double k = x * n;
      logits.push_back(std::log((k + 0.5) / (n - k + 0.5)));
    } else {
      const double c = std::clamp(x, 1e-6, 1 - 1e-6);
      logits.push_back(std::log(c / (1 - c)));
    }
  }
  if (b.n < kMinValuesForInterval) return b;
  const double centre = mean(logits);
  const double half = *t_ci_half_width(logits, confidence);
  const auto expit = [](double z) { return 1 / (1 + std::exp(-z)); };
  b.informative = true;
  b.low = expit(centre - half);
  b.high = expit(centre + half);
  return b;
}

}  // namespace lenetlab::stats
