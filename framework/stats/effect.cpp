#include "stats/effect.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "stats/summary.hpp"

namespace lenetlab::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Noncentrality above which t_test_power uses the chi-squared limit (see there): Boost.Math's
/// noncentral t throws (itrunc, evaluation_error) from about 6.5e4 on; at 1e3 the two agree to
/// 1e-6 (tests/stats/test_effect.cpp).
constexpr double kLargeNoncentrality = 1e3;
}  // namespace

double hedges_g(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty() || a.size() + b.size() < 3)
    throw std::invalid_argument("hedges_g: needs values in both samples and 3 in all");
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double sa = a.size() > 1 ? sample_sd(a) : 0, sb = b.size() > 1 ? sample_sd(b) : 0;
  const double pooled = std::sqrt(((na - 1) * sa * sa + (nb - 1) * sb * sb) / (na + nb - 2));
  if (!(pooled > 0)) return kNaN;
  const double correction = 1 - 3 / (4 * (na + nb) - 9);
  return correction * (mean(a) - mean(b)) / pooled;
}

double t_test_power(double n, double delta, double sd, Design design, double alpha) {
  if (!(n >= 2)) throw std::domain_error("t_test_power: n must be at least 2");
  if (!(sd > 0)) throw std::domain_error("t_test_power: sd must be positive");
  const double df = design == Design::paired ? n - 1 : 2 * (n - 1);
  const double ncp =
      (design == Design::paired ? std::sqrt(n) : std::sqrt(n / 2)) * std::abs(delta) / sd;
  const double critical =
      boost::math::quantile(boost::math::students_t_distribution<double>(df), 1 - alpha / 2);
  if (ncp > kLargeNoncentrality) {
    // T' = (Z + ncp) / S with S = sqrt(chi^2_df / df): against ncp > 1e3 the standard normal Z is
    // negligible, so P(T' > c) = P(S < ncp / c) = P(chi^2_df < df (ncp / c)^2).
    const double s = ncp / critical, x = df * s * s;
    return std::isinf(x) ? 1
                         : boost::math::cdf(boost::math::chi_squared_distribution<double>(df), x);
  }
  const boost::math::non_central_t_distribution<double> shifted(df, ncp);
  return boost::math::cdf(boost::math::complement(shifted, critical));
}

std::optional<std::size_t> seeds_needed(double delta, double sd, Design design, double power,
                                        double alpha, std::size_t max_seeds) {
  if (!std::isfinite(delta) || delta == 0 || !std::isfinite(sd) || !(sd > 0)) return std::nullopt;
  // Power grows with n: bisect on [2, max_seeds] for the first n that reaches `power`.
  const auto enough = [&](std::size_t n) {
    return t_test_power(static_cast<double>(n), delta, sd, design, alpha) >= power;
  };
  try {
    if (!enough(max_seeds)) return std::nullopt;
    std::size_t low = 2, high = max_seeds;
    while (low < high) {
      const std::size_t mid = low + (high - low) / 2;
      if (enough(mid))
        high = mid;
      else
        low = mid + 1;
    }
    return low;
  } catch (const std::exception&) {
    // Boost.Math's non-central t throws (evaluation_error, itrunc) for extreme non-centrality,
    // e.g. a tiny standard deviation: no estimate rather than a failed report.
    return std::nullopt;
  }
}

OneWayAnova one_way_anova(const std::vector<std::vector<double>>& groups) {
  double grand = 0, count = 0, nonempty = 0;
  for (const auto& g : groups) {
    for (const double v : g) grand += v;
    count += static_cast<double>(g.size());
    if (!g.empty()) ++nonempty;
  }
  if (nonempty < 2) throw std::invalid_argument("one_way_anova: needs at least 2 groups");
  grand /= count;
  OneWayAnova r;
  for (const auto& g : groups) {
    if (g.empty()) continue;
    const double m = mean(g);
    r.ss_between += static_cast<double>(g.size()) * (m - grand) * (m - grand);
    for (const double v : g) r.ss_within += (v - m) * (v - m);
  }
  r.ss_total = r.ss_between + r.ss_within;
  r.df_between = nonempty - 1;
  r.df_within = count - nonempty;
  r.eta_squared = r.ss_total > 0 ? r.ss_between / r.ss_total : kNaN;
  if (r.df_within > 0 && r.ss_within > 0) {
    r.f = (r.ss_between / r.df_between) / (r.ss_within / r.df_within);
    const boost::math::fisher_f_distribution<double> dist(r.df_between, r.df_within);
    // An F that overflows (a within-group variance near 0) has p 0; Boost refuses infinity.
    r.p_value = std::isinf(r.f) ? 0 : boost::math::cdf(boost::math::complement(dist, r.f));
  } else {
    r.f = kNaN;
    r.p_value = kNaN;
  }
  return r;
}

}  // namespace lenetlab::stats
