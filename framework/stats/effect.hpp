// How large a difference is and how many seeds it takes to see it: Hedges' g, the power of a
// t-test and the seeds needed for 80 % power, and the share of variance a factor explains (one-way
// ANOVA, eta squared). Distribution functions are Boost.Math's (students_t, non_central_t,
// fisher_f). All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace lenetlab::stats {

/// Hedges' g of mean(a) - mean(b): Cohen's d with the pooled standard deviation
/// s_p = sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / (n_a + n_b - 2)), times the small-sample
/// correction J = 1 - 3 / (4 (n_a + n_b) - 9) (Hedges & Olkin, Statistical Methods for
/// Meta-Analysis, 1985, ch. 5; Lakens 2013, "Calculating and reporting effect sizes", Front.
/// Psychol. 4:863, eq. 1 and 4). The same formula serves paired samples (the pooled sd of the two
/// conditions, Lakens's g_av, not the sd of the differences), so that paired and unpaired effect
/// sizes are on one scale. NaN when s_p is 0; throws std::invalid_argument when n_a + n_b < 3 or a
/// sample is empty.
double hedges_g(std::span<const double> a, std::span<const double> b);

/// How the two samples of a t-test relate.
enum class Design {
  paired,      ///< one sample of n differences: df = n - 1, ncp = sqrt(n) delta / sd.
  two_sample,  ///< two samples of n each: df = 2 (n - 1), ncp = sqrt(n / 2) delta / sd.
};

/// Power of the two-sided t-test at level alpha to detect a true difference `delta` given the
/// standard deviation `sd` (of the differences for paired, of each sample for two_sample) with n
/// seeds (per configuration): P(T' > t_{1 - alpha/2, df}) for T' noncentral t with the df and ncp
/// of `design` (as R's power.t.test with strict = FALSE, which counts the far tail as zero).
/// n may be fractional (R solves for it). Above a noncentrality of 1e3 (where Boost.Math's
/// noncentral t series stops converging) the normal part of T' is negligible against ncp and the
/// power is P(chi^2_df < df (ncp / t_crit)^2), T' = (Z + ncp) / sqrt(chi^2_df / df) being the
/// definition of the noncentral t (Johnson, Kotz & Balakrishnan, Continuous Univariate
/// Distributions vol. 2, 2nd ed. 1995, ch. 31). Throws std::domain_error when n < 2 or sd <= 0.
double t_test_power(double n, double delta, double sd, Design design, double alpha = 0.05);

/// The fewest seeds (per configuration) at which t_test_power reaches `power`; absent when delta is
/// 0 or not finite, sd is not positive or finite, or more than `max_seeds` would be needed.
std::optional<std::size_t> seeds_needed(double delta, double sd, Design design, double power = 0.8,
                                        double alpha = 0.05, std::size_t max_seeds = 10000);

/// One-way analysis of variance of groups of values (Fisher; any textbook, e.g. Montgomery, Design
/// and Analysis of Experiments, ch. 3).
struct OneWayAnova {
  double ss_between = 0, ss_within = 0, ss_total = 0;  ///< sums of squares.
  double df_between = 0, df_within = 0;
  /// eta^2 = ss_between / ss_total: the share of the variance the grouping explains (Pearson;
  /// Cohen, Statistical Power Analysis, 2nd ed. 1988, sec. 8.2); NaN when ss_total is 0.
  double eta_squared = 0;
  double f = 0;        ///< (ss_between / df_between) / (ss_within / df_within); NaN when undefined.
  double p_value = 0;  ///< P(F > f) for F(df_between, df_within); NaN when f is.
};

/// One-way ANOVA of `groups` (empty groups are ignored). Throws std::invalid_argument with fewer
/// than 2 non-empty groups.
OneWayAnova one_way_anova(const std::vector<std::vector<double>>& groups);

}  // namespace lenetlab::stats
