#include "stats/hypothesis.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "stats/summary.hpp"

namespace lenetlab::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// p-value of a statistic `t` under `dist` (a Boost.Math distribution symmetric about 0).
template <typename Dist>
double tail_p(const Dist& dist, double t, Alternative alternative) {
  using boost::math::cdf;
  using boost::math::complement;
  switch (alternative) {
    case Alternative::less:
      return cdf(dist, t);
    case Alternative::greater:
      return cdf(complement(dist, t));
    case Alternative::two_sided:
      break;
  }
  return std::min(1.0, 2 * cdf(complement(dist, std::abs(t))));
}

/// Fills t, p_value, low and high from difference, standard_error and df.
void finish_t_test(MeanDifference& r, Alternative alternative, double confidence) {
  if (!std::isfinite(r.standard_error) || !(r.df > 0)) {
    // An infinite value (a loss that overflowed): no test; Boost refuses a NaN df.
    r.t = r.p_value = r.low = r.high = kNaN;
    return;
  }
  const boost::math::students_t_distribution<double> dist(r.df);
  const double q = boost::math::quantile(dist, (1 + confidence) / 2);
  r.low = r.difference - q * r.standard_error;
  r.high = r.difference + q * r.standard_error;
  if (r.standard_error > 0) {
    r.t = r.difference / r.standard_error;
    r.p_value = tail_p(dist, r.t, alternative);
  } else {
    r.t = kNaN;
    r.p_value = kNaN;
  }
}

/// Mid-ranks, doubled so that they are integers: the values at sorted positions i..j (1-based)
/// that are equal all get i + j. Also returns sum over tie groups of (t^3 - t).
std::vector<long> doubled_mid_ranks(std::span<const double> values, double& tie_term) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return values[x] < values[y]; });
  std::vector<long> ranks(values.size());
  tie_term = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = static_cast<long>(i + 1 + j + 1);
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    i = j + 1;
  }
  return ranks;
}

/// p-value from the exact distribution `dist` (probabilities of each doubled statistic) at the
/// observed doubled statistic `observed`.
double exact_p(const std::vector<double>& dist, long observed, Alternative alternative) {
  double lower = 0, upper = 0;  // P(S <= observed), P(S >= observed)
  for (std::size_t s = 0; s < dist.size(); ++s) {
    if (static_cast<long>(s) <= observed) lower += dist[s];
    if (static_cast<long>(s) >= observed) upper += dist[s];
  }
  switch (alternative) {
    case Alternative::less:
      return std::min(1.0, lower);
    case Alternative::greater:
      return std::min(1.0, upper);
    case Alternative::two_sided:
      break;
  }
  return std::min(1.0, 2 * std::min(lower, upper));
}

/// Normal approximation with continuity correction (as R's wilcox.test): z = (statistic - mean -
/// correction) / sigma; p = 1 when sigma is 0.
double normal_p(double statistic, double mean, double sigma, Alternative alternative) {
  if (!(sigma > 0)) return 1;
  const double centred = statistic - mean;
  const double correction = alternative == Alternative::greater ? 0.5
                            : alternative == Alternative::less  ? -0.5
                                                                : (centred > 0   ? 0.5
                                                                   : centred < 0 ? -0.5
                                                                                 : 0);
  const boost::math::normal_distribution<double> normal;
  return tail_p(normal, (centred - correction) / sigma, alternative);
}

}  // namespace

MeanDifference paired_t_test(std::span<const double> a, std::span<const double> b,
                             Alternative alternative, double confidence) {
  if (a.size() != b.size())
    throw std::invalid_argument("paired_t_test: both samples need the same number of values");
  if (a.size() < 2) throw std::invalid_argument("paired_t_test: at least 2 pairs needed");
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  MeanDifference r;
  r.n_a = r.n_b = a.size();
  r.difference = mean(d);
  r.standard_error = sample_sd(d) / std::sqrt(static_cast<double>(d.size()));
  r.df = static_cast<double>(d.size() - 1);
  finish_t_test(r, alternative, confidence);
  return r;
}

MeanDifference welch_t_test(std::span<const double> a, std::span<const double> b,
                            Alternative alternative, double confidence) {
  if (a.size() < 2 || b.size() < 2)
    throw std::invalid_argument("welch_t_test: at least 2 values in each sample needed");
  MeanDifference r;
  r.n_a = a.size();
  r.n_b = b.size();
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double va = std::pow(sample_sd(a), 2) / na, vb = std::pow(sample_sd(b), 2) / nb;
  r.difference = mean(a) - mean(b);
  r.standard_error = std::sqrt(va + vb);
  // Welch-Satterthwaite with the variances as shares of their sum: the same df, without the
  // underflow of va^2 + vb^2 (0 / 0) when both are below about 1e-154.
  const double wa = r.standard_error > 0 ? va / (va + vb) : 0, wb = 1 - wa;
  r.df = r.standard_error > 0 ? 1 / (wa * wa / (na - 1) + wb * wb / (nb - 1)) : na + nb - 2;
  finish_t_test(r, alternative, confidence);
  return r;
}

RankTest wilcoxon_signed_rank(std::span<const double> a, std::span<const double> b,
                              Alternative alternative) {
  if (a.size() != b.size())
    throw std::invalid_argument(
        "wilcoxon_signed_rank: both samples need the same number of values");
  std::vector<double> d, magnitude;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) {
      d.push_back(a[i] - b[i]);
      magnitude.push_back(std::abs(a[i] - b[i]));
    }
  RankTest r;
  r.n_used = d.size();
  if (d.empty()) return r;
  double tie_term = 0;
  const std::vector<long> ranks = doubled_mid_ranks(magnitude, tie_term);
  long observed = 0, total = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    total += ranks[i];
    if (d[i] > 0) observed += ranks[i];
  }
  r.statistic = static_cast<double>(observed) / 2;
  const double n = static_cast<double>(d.size());
  r.exact = d.size() <= kExactRankLimit;
  if (!r.exact) {
    const double sigma = std::sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48);
    r.p_value = normal_p(r.statistic, n * (n + 1) / 4, sigma, alternative);
    return r;
  }
  // dist[s]: probability that the positive doubled ranks sum to s, each sign +/- with 1/2.
  std::vector<double> dist(static_cast<std::size_t>(total) + 1, 0.0);
  dist[0] = 1;
  long reach = 0;
  for (const long rank : ranks) {
    reach += rank;
    for (long s = reach; s >= 0; --s) {
      const double without = dist[static_cast<std::size_t>(s)] / 2;
      const double with = s >= rank ? dist[static_cast<std::size_t>(s - rank)] / 2 : 0;
      dist[static_cast<std::size_t>(s)] = without + with;
    }
  }
  r.p_value = exact_p(dist, observed, alternative);
  return r;
}

RankTest mann_whitney_u(std::span<const double> a, std::span<const double> b,
                        Alternative alternative) {
  if (a.empty() || b.empty())
    throw std::invalid_argument("mann_whitney_u: both samples need at least one value");
  std::vector<double> pooled(a.begin(), a.end());
  pooled.insert(pooled.end(), b.begin(), b.end());
  double tie_term = 0;
  const std::vector<long> ranks = doubled_mid_ranks(pooled, tie_term);
  long observed = 0, total = 0;
  for (std::size_t i = 0; i < pooled.size(); ++i) {
    total += ranks[i];
    if (i < a.size()) observed += ranks[i];
  }
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double offset = na * (na + 1) / 2;
  RankTest r;
  r.n_used = pooled.size();
  r.statistic = static_cast<double>(observed) / 2 - offset;
  r.exact = pooled.size() <= kExactRankLimit;
  if (!r.exact) {
    const double n = na + nb;
    const double sigma = std::sqrt(na * nb / 12 * ((n + 1) - tie_term / (n * (n - 1))));
    r.p_value = normal_p(r.statistic, na * nb / 2, sigma, alternative);
    return r;
  }
  // ways[k][s]: number of k-subsets of the ranks seen so far whose doubled ranks sum to s.
  const std::size_t k_max = a.size(), s_max = static_cast<std::size_t>(total);
  std::vector<std::vector<double>> ways(k_max + 1, std::vector<double>(s_max + 1, 0.0));
  ways[0][0] = 1;
  for (const long rank : ranks) {
    const auto step = static_cast<std::size_t>(rank);
    for (std::size_t k = k_max; k >= 1; --k)
      for (std::size_t s = s_max; s >= step; --s) ways[k][s] += ways[k - 1][s - step];
  }
  const double subsets = std::accumulate(ways[k_max].begin(), ways[k_max].end(), 0.0);
  std::vector<double> dist(ways[k_max]);
  for (double& p : dist) p /= subsets;
  r.p_value = exact_p(dist, observed, alternative);
  return r;
}

std::vector<double> holm_adjust(std::span<const double> p_values) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p_values.size(); ++i)
    if (!std::isnan(p_values[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return p_values[x] < p_values[y]; });
  std::vector<double> adjusted(p_values.size(), kNaN);
  const double m = static_cast<double>(order.size());
  double running = 0;
  for (std::size_t j = 0; j < order.size(); ++j) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(j)) * p_values[order[j]]));
    adjusted[order[j]] = running;
  }
  return adjusted;
}

}  // namespace lenetlab::stats
