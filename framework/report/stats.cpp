#include "report/stats.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace lenetlab::stats {

double mean(std::span<const double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
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

}  // namespace lenetlab::stats
