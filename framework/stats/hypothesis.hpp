// Two-sample tests on the seeds of two configurations: the paired and Welch t-tests with the
// interval of the difference of means, the Wilcoxon signed-rank and Mann-Whitney U rank tests, and
// Holm's adjustment of a family of p-values. Distribution functions are Boost.Math's (students_t,
// normal). All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace lenetlab::stats {

/// Which difference a test looks for, as R's `alternative`: two_sided (a != b), less (a < b),
/// greater (a > b).
enum class Alternative { two_sided, less, greater };

/// A t-test of mean(a) - mean(b) with its interval.
struct MeanDifference {
  std::size_t n_a = 0, n_b = 0;  ///< paired: both the number of pairs.
  double difference = 0;         ///< mean(a) - mean(b) (paired: mean of the differences).
  double standard_error = 0;     ///< of the difference.
  double t = 0;                  ///< difference / standard_error; NaN when the SE is 0.
  double df = 0;                 ///< degrees of freedom (Welch: Welch-Satterthwaite, fractional).
  /// NaN when the standard error is 0 (constant differences: the test is undefined), or when a
  /// value is infinite (then t, low and high are NaN too).
  double p_value = 0;
  /// Two-sided interval of the difference at the requested confidence (whatever the
  /// alternative): difference -/+ t_{(1 + confidence) / 2, df} * standard_error.
  double low = 0, high = 0;
};

/// Paired t-test on d_i = a_i - b_i: t = mean(d) / (sd(d) / sqrt(n)), df = n - 1 (Student 1908;
/// as R's t.test(a, b, paired = TRUE)). Throws std::invalid_argument when the sizes differ or
/// n < 2.
MeanDifference paired_t_test(std::span<const double> a, std::span<const double> b,
                             Alternative alternative = Alternative::two_sided,
                             double confidence = 0.95);

/// Welch's unequal-variances t-test: SE = sqrt(s_a^2 / n_a + s_b^2 / n_b), df by the
/// Welch-Satterthwaite equation (Welch 1947, Biometrika 34:28-35; as R's t.test(a, b)). Throws
/// std::invalid_argument when either sample has fewer than 2 values.
MeanDifference welch_t_test(std::span<const double> a, std::span<const double> b,
                            Alternative alternative = Alternative::two_sided,
                            double confidence = 0.95);

/// A rank test's statistic and p-value.
struct RankTest {
  double statistic = 0;  ///< Wilcoxon: V, the sum of the ranks of positive differences;
                         ///< Mann-Whitney: W = U of a, the rank sum of a - n_a (n_a + 1) / 2.
  double p_value = 1;
  bool exact = false;      ///< exact distribution (true) or normal approximation (false).
  std::size_t n_used = 0;  ///< Wilcoxon: non-zero differences; Mann-Whitney: n_a + n_b.
};

/// Largest number of non-zero differences (Wilcoxon) or of values (Mann-Whitney, n_a + n_b) for
/// which the exact distribution is computed; above it the normal approximation is used.
inline constexpr std::size_t kExactRankLimit = 50;

/// Wilcoxon signed-rank test of the paired differences a_i - b_i (Wilcoxon 1945, Biometrics
/// Bulletin 1(6):80-83; statistic V as R's wilcox.test(a, b, paired = TRUE)). Zero differences are
/// dropped (Wilcoxon's method, R's default); tied absolute differences get mid-ranks. With at most
/// kExactRankLimit non-zero differences the p-value is exact: the distribution of V over the 2^n
/// equally likely sign assignments of the observed (mid-)ranks, by dynamic programming, so it stays
/// exact under ties (conditional on them; R falls back to the normal approximation there).
/// Above that: normal approximation with tie and continuity corrections (as R's). No non-zero
/// difference: V = 0, p = 1. Throws std::invalid_argument when the sizes differ.
RankTest wilcoxon_signed_rank(std::span<const double> a, std::span<const double> b,
                              Alternative alternative = Alternative::two_sided);

/// Mann-Whitney U test (Wilcoxon rank-sum; Mann & Whitney 1947, Ann. Math. Statist. 18:50-60;
/// statistic W as R's wilcox.test(a, b)): ties get mid-ranks. With n_a + n_b <= kExactRankLimit the
/// p-value is exact: the distribution of a's rank sum over all equally likely choices of n_a of
/// the observed (mid-)ranks, by dynamic programming (exact also under ties, conditional on them).
/// Above that: normal approximation with tie and continuity corrections (as R's). Throws
/// std::invalid_argument when either sample is empty.
RankTest mann_whitney_u(std::span<const double> a, std::span<const double> b,
                        Alternative alternative = Alternative::two_sided);

/// Holm's step-down adjusted p-values (Holm 1979, Scand. J. Statist. 6:65-70; as R's
/// p.adjust(p, "holm")): with the m p-values sorted p_(1) <= ... <= p_(m), the adjusted
/// p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)), returned in the input order. Rejecting where
/// the adjusted value is below alpha controls the family-wise error rate at alpha. NaN entries
/// (tests that could not be done) stay NaN and do not count in m.
std::vector<double> holm_adjust(std::span<const double> p_values);

}  // namespace lenetlab::stats
