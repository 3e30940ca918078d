// Tests of stats/hypothesis.hpp against the outputs printed in R's documentation examples (R 4.x,
// package stats) and the textbook examples behind them; the source is named in each case.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "stats/hypothesis.hpp"

using namespace lenetlab::stats;

namespace {

// R datasets::sleep (Cushny & Peebles 1905; Student 1908): extra hours of sleep of 10 patients
// under drug 1 (group 1) and drug 2 (group 2).
const std::vector<double> kSleep1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kSleep2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

}  // namespace

TEST_CASE("stats hypothesis: paired t-test on the sleep data (R ?t.test, ?sleep)") {
  // R: t.test(extra[group == 1], extra[group == 2], paired = TRUE): t = -4.0621, df = 9,
  // p-value = 0.002833, 95 percent CI -2.4598858 -0.7001142, mean difference -1.58.
  const MeanDifference r = paired_t_test(kSleep1, kSleep2);
  CHECK(r.n_a == 10);
  CHECK(r.difference == doctest::Approx(-1.58));
  CHECK(r.t == doctest::Approx(-4.0621).epsilon(1e-4));
  CHECK(r.df == doctest::Approx(9));
  CHECK(r.p_value == doctest::Approx(0.002833).epsilon(1e-3));
  CHECK(r.low == doctest::Approx(-2.4598858).epsilon(1e-6));
  CHECK(r.high == doctest::Approx(-0.7001142).epsilon(1e-6));
  // One-sided: half the two-sided p in the direction of the difference.
  CHECK(paired_t_test(kSleep1, kSleep2, Alternative::less).p_value ==
        doctest::Approx(0.002833 / 2).epsilon(1e-3));
  CHECK(paired_t_test(kSleep1, kSleep2, Alternative::greater).p_value > 0.99);
}

TEST_CASE("stats hypothesis: Welch t-test on the sleep data (R ?t.test)") {
  // R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939,
  // 95 percent CI -3.3654832 0.2054832.
  const MeanDifference r = welch_t_test(kSleep1, kSleep2);
  CHECK(r.difference == doctest::Approx(-1.58));
  CHECK(r.t == doctest::Approx(-1.8608).epsilon(1e-4));
  CHECK(r.df == doctest::Approx(17.776).epsilon(1e-4));
  CHECK(r.p_value == doctest::Approx(0.07939).epsilon(1e-3));
  CHECK(r.low == doctest::Approx(-3.3654832).epsilon(1e-6));
  CHECK(r.high == doctest::Approx(0.2054832).epsilon(1e-6));
}

TEST_CASE("stats hypothesis: the paired test sees what Welch cannot on the same numbers") {
  // The sleep data again: the patients differ much more from each other than the drugs do, so
  // pairing by patient turns p = 0.079 (Welch, R) into p = 0.0028 (paired, R).
  CHECK(welch_t_test(kSleep1, kSleep2).p_value > 0.05);
  CHECK(paired_t_test(kSleep1, kSleep2).p_value < 0.01);
}

TEST_CASE("stats hypothesis: t-tests refuse too few values and report constant differences") {
  CHECK_THROWS_AS(paired_t_test(std::vector<double>{1.0}, std::vector<double>{2.0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(paired_t_test(kSleep1, std::vector<double>{1.0, 2.0}), std::invalid_argument);
  CHECK_THROWS_AS(welch_t_test(kSleep1, std::vector<double>{1.0}), std::invalid_argument);
  const std::vector<double> same = {0.9, 0.91, 0.92};
  const MeanDifference r = paired_t_test(same, same);
  CHECK(r.difference == 0);
  CHECK(std::isnan(r.p_value));
}

TEST_CASE("stats hypothesis: degenerate inputs give no test instead of a Boost.Math error") {
  // Welch on the sleep data scaled by 1e-150: t, df and p do not depend on the scale (R's values
  // above: t = -1.8608, df = 17.776, p = 0.07939); the squared variances underflow to 0 there.
  std::vector<double> tiny1, tiny2;
  for (const double x : kSleep1) tiny1.push_back(x * 1e-150);
  for (const double x : kSleep2) tiny2.push_back(x * 1e-150);
  const MeanDifference w = welch_t_test(tiny1, tiny2);
  CHECK(w.df == doctest::Approx(17.776).epsilon(1e-4));
  CHECK(w.t == doctest::Approx(-1.8608).epsilon(1e-4));
  CHECK(w.p_value == doctest::Approx(0.07939).epsilon(1e-3));
  // A constant sample against a varying one: df = n - 1 of the varying one (Welch's limit).
  const std::vector<double> constant = {0.5, 0.5, 0.5};
  CHECK(welch_t_test(constant, kSleep1).df == doctest::Approx(9));
  // Both constant: no standard error, no p-value, the interval collapses on the difference.
  const MeanDifference both = welch_t_test(constant, std::vector<double>{0.25, 0.25});
  CHECK(std::isnan(both.p_value));
  CHECK(both.low == doctest::Approx(0.25));
  // An infinite value (an overflowed loss): no test, no exception.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> with_inf = {inf, 1.0, 2.0};
  const MeanDifference wi = welch_t_test(with_inf, kSleep1);
  CHECK(std::isnan(wi.p_value));
  CHECK(std::isnan(wi.low));
  CHECK(std::isnan(paired_t_test(with_inf, constant).p_value));
  // Rank tests of one value per side and of all-equal values.
  CHECK(mann_whitney_u(std::vector<double>{1.0}, std::vector<double>{1.0}).p_value == 1);
  CHECK(wilcoxon_signed_rank(constant, constant).p_value == 1);
}

TEST_CASE("stats hypothesis: Wilcoxon signed-rank, exact (R ?wilcox.test, Hollander & Wolfe)") {
  // R's example from Hollander & Wolfe (1973), p. 29f: Hamilton depression scale factor IV before
  // (x, first visit) and after (y, second visit) a tranquilizer. R: wilcox.test(x, y, paired =
  // TRUE, alternative = "greater"): V = 40, p-value = 0.01953.
  const std::vector<double> x = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
  const std::vector<double> y = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
  const RankTest r = wilcoxon_signed_rank(x, y, Alternative::greater);
  CHECK(r.statistic == doctest::Approx(40));
  CHECK(r.exact);
  CHECK(r.n_used == 9);
  CHECK(r.p_value == doctest::Approx(0.01953).epsilon(1e-3));
  CHECK(wilcoxon_signed_rank(x, y).p_value == doctest::Approx(2 * 0.01953).epsilon(1e-3));
}

TEST_CASE("stats hypothesis: Wilcoxon signed-rank drops zeros and ranks ties by mid-rank") {
  // Three seeds, all differences positive: the smallest exact two-sided p is 2 / 2^3 = 0.25
  // (Wilcoxon 1945's table: no 3-pair result can reach 0.05); a zero difference is dropped.
  const std::vector<double> a = {0.99, 0.98, 0.97, 0.95};
  const std::vector<double> b = {0.98, 0.97, 0.96, 0.95};
  const RankTest r = wilcoxon_signed_rank(a, b);
  CHECK(r.n_used == 3);
  CHECK(r.statistic == doctest::Approx(6));  // ranks 2, 2, 2 (three tied differences)
  CHECK(r.p_value == doctest::Approx(0.25));
  const RankTest none = wilcoxon_signed_rank(b, b);
  CHECK(none.n_used == 0);
  CHECK(none.p_value == 1);
}

TEST_CASE("stats hypothesis: Mann-Whitney U, exact (R ?wilcox.test, Hollander & Wolfe)") {
  // R's example from Hollander & Wolfe (1973), p. 69f: permeability constants of the human
  // chorioamnion at term (x) and at 12-26 weeks (y). R: wilcox.test(x, y, alternative = "g"):
  // W = 35, p-value = 0.1272.
  const std::vector<double> x = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> y = {1.15, 0.88, 0.90, 0.74, 1.21};
  const RankTest r = mann_whitney_u(x, y, Alternative::greater);
  CHECK(r.statistic == doctest::Approx(35));
  CHECK(r.exact);
  CHECK(r.p_value == doctest::Approx(0.1272).epsilon(1e-3));
  CHECK(mann_whitney_u(y, x, Alternative::less).p_value == doctest::Approx(0.1272).epsilon(1e-3));
  CHECK_THROWS_AS(mann_whitney_u(x, std::vector<double>{}), std::invalid_argument);
}

TEST_CASE("stats hypothesis: Mann-Whitney U, normal approximation for large samples") {
  // 30 against 30 completely separated: W = 0; the normal approximation with continuity
  // correction (Mann & Whitney 1947): mean n_a n_b / 2 = 450, sd sqrt(n_a n_b (n + 1) / 12).
  std::vector<double> a, b;
  for (int i = 1; i <= 30; ++i) {
    a.push_back(i);
    b.push_back(30 + i);
  }
  const RankTest r = mann_whitney_u(a, b);
  CHECK_FALSE(r.exact);
  CHECK(r.statistic == doctest::Approx(0));
  const double z = (0 - 450 + 0.5) / std::sqrt(30.0 * 30 * 61 / 12);
  CHECK(r.p_value == doctest::Approx(std::erfc(-z / std::sqrt(2.0))).epsilon(1e-9));
}

TEST_CASE("stats hypothesis: Holm adjustment of a known family") {
  // The example of the Wikipedia article "Holm-Bonferroni method" (four hypotheses, alpha =
  // 0.05: H1 and H4 rejected, H2 and H3 not), whose adjusted p-values by Holm (1979)'s step-down
  // rule are R's p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02.
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  const std::vector<double> adjusted = holm_adjust(p);
  REQUIRE(adjusted.size() == 4);
  CHECK(adjusted[0] == doctest::Approx(0.03));
  CHECK(adjusted[1] == doctest::Approx(0.06));
  CHECK(adjusted[2] == doctest::Approx(0.06));
  CHECK(adjusted[3] == doctest::Approx(0.02));
  // A NaN (a test not done) is left out of the family: the other three are adjusted as m = 3.
  const std::vector<double> with_nan = {0.01, std::nan(""), 0.03, 0.005};
  const std::vector<double> a3 = holm_adjust(with_nan);
  CHECK(std::isnan(a3[1]));
  CHECK(a3[3] == doctest::Approx(0.015));
  CHECK(a3[0] == doctest::Approx(0.02));
  CHECK(a3[2] == doctest::Approx(0.03));
  CHECK(holm_adjust(std::vector<double>{0.6, 0.7})[0] == doctest::Approx(1.0));
}
