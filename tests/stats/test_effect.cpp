// Tests of stats/effect.hpp against published values: Lakens (2013)'s worked example for Hedges'
// g, R's ?power.t.test examples for power and sample size, and Dobson's plant-weight data (R
// datasets::PlantGrowth) for the one-way ANOVA.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <limits>

#include "stats/effect.hpp"

using namespace lenetlab::stats;

TEST_CASE("stats effect: Hedges' g of Lakens (2013)'s movie ratings") {
  // Lakens 2013, "Calculating and reporting effect sizes", Front. Psychol. 4:863, Table 1: two
  // movies rated by 10 people each; t(18) = 2.52, Cohen's d_s = 1.13, Hedges' g_s = 1.08.
  const std::vector<double> movie1 = {9, 7, 8, 9, 8, 9, 9, 10, 9, 9};
  const std::vector<double> movie2 = {9, 6, 7, 8, 7, 9, 8, 8, 8, 7};
  CHECK(hedges_g(movie1, movie2) == doctest::Approx(1.08).epsilon(0.005));
  CHECK(hedges_g(movie2, movie1) == doctest::Approx(-1.08).epsilon(0.005));
  CHECK(std::isnan(hedges_g(std::vector<double>{1, 1}, std::vector<double>{1, 1})));
  CHECK_THROWS_AS(hedges_g(std::vector<double>{1}, std::vector<double>{2}), std::invalid_argument);
}

TEST_CASE("stats effect: power of the t-test and seeds needed (R ?power.t.test)") {
  // R: power.t.test(n = 20, delta = 1): power = 0.8689528 (two-sample, sd 1, alpha 0.05).
  CHECK(t_test_power(20, 1, 1, Design::two_sample) == doctest::Approx(0.8689528).epsilon(1e-6));
  // R: power.t.test(power = .90, delta = 1): n = 22.02110 per group.
  CHECK(t_test_power(22.02110, 1, 1, Design::two_sample) == doctest::Approx(0.90).epsilon(1e-5));
  const auto n = seeds_needed(1, 1, Design::two_sample, 0.90);
  REQUIRE(n.has_value());
  CHECK(*n == 23);
  // A paired design with the same sd of differences needs fewer: n - 1 df and ncp sqrt(n) d / s.
  CHECK(*seeds_needed(1, 1, Design::paired, 0.90) < 23);
  CHECK_FALSE(seeds_needed(0, 1, Design::paired).has_value());
  CHECK_FALSE(seeds_needed(1e-6, 1, Design::paired, 0.8, 0.05, 100).has_value());
  CHECK_THROWS_AS(t_test_power(1, 1, 1, Design::paired), std::domain_error);
}

TEST_CASE("stats effect: power and seeds needed at extreme noncentrality do not throw") {
  // Above a noncentrality of 1e3 the power is P(chi^2_df < df (ncp / t_crit)^2), the limit of the
  // noncentral t's definition (Johnson, Kotz & Balakrishnan 1995, ch. 31). Beside it, Boost.Math's
  // noncentral t (which throws beyond about 6.5e4): the two agree where both work.
  for (const double df : {1.0, 2.0, 4.0}) {
    const double n = df + 1;                    // paired: df = n - 1, ncp = sqrt(n) delta / sd
    const double sd = std::sqrt(n) / 1.0001e3;  // ncp just above the switch
    const double critical =
        boost::math::quantile(boost::math::students_t_distribution<double>(df), 1 - 1e-6 / 2);
    const double boost_power = boost::math::cdf(boost::math::complement(
        boost::math::non_central_t_distribution<double>(df, 1.0001e3), critical));
    CHECK(t_test_power(n, 1, sd, Design::paired, 1e-6) ==
          doctest::Approx(boost_power).epsilon(1e-6));
  }
  // Tiny standard deviations (accuracies equal to the last bit) and huge differences: an answer.
  CHECK(t_test_power(3, 1, 1e-15, Design::paired) == 1);
  CHECK(t_test_power(2, 1, 1e-300, Design::two_sample) == 1);
  // With 1 df at alpha 1e-6 (t_crit = 636619.8) the power at ncp 6.4e6 is P(|Z| < 10.05).
  CHECK(t_test_power(2, 1, std::sqrt(2.0) / 6.366198e6, Design::paired, 1e-6) ==
        doctest::Approx(1).epsilon(1e-9));
  CHECK(*seeds_needed(0.01, 1e-12, Design::paired) == 2);
  CHECK(*seeds_needed(1e300, 1e-300, Design::two_sample) == 2);
  CHECK(*seeds_needed(1e-4, 5e-324, Design::paired) == 2);
  // Identical values (sd 0), no difference, or values that are not numbers: no estimate.
  CHECK_FALSE(seeds_needed(0.01, 0, Design::paired).has_value());
  CHECK_FALSE(seeds_needed(0, 0, Design::paired).has_value());
  CHECK_FALSE(seeds_needed(std::nan(""), 1, Design::paired).has_value());
  CHECK_FALSE(seeds_needed(1, std::numeric_limits<double>::infinity(), Design::paired));
}

TEST_CASE("stats effect: one-way ANOVA and eta squared of the plant-weight data") {
  // Dobson (1983), An Introduction to Statistical Modelling, Table 7.1; R datasets::PlantGrowth.
  // R: anova(lm(weight ~ group, PlantGrowth)): group Sum Sq 3.7663 (2 df), Residuals 10.4921
  // (27 df), F = 4.8461, Pr(>F) = 0.01591; eta^2 = 3.7663 / 14.2584.
  const std::vector<std::vector<double>> groups = {
      {4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14},
      {4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69},
      {6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26}};
  const OneWayAnova a = one_way_anova(groups);
  CHECK(a.ss_between == doctest::Approx(3.7663).epsilon(1e-4));
  CHECK(a.ss_within == doctest::Approx(10.4921).epsilon(1e-4));
  CHECK(a.df_between == 2);
  CHECK(a.df_within == 27);
  CHECK(a.f == doctest::Approx(4.8461).epsilon(1e-4));
  CHECK(a.p_value == doctest::Approx(0.01591).epsilon(1e-3));
  CHECK(a.eta_squared == doctest::Approx(3.7663 / 14.2584).epsilon(1e-4));
  CHECK_THROWS_AS(one_way_anova({{1.0, 2.0}}), std::invalid_argument);
}

TEST_CASE("stats effect: one-way ANOVA of degenerate groups does not throw") {
  // One value per group: no within-group variance, F undefined; eta^2 = 1 (all between groups).
  const OneWayAnova single = one_way_anova({{1.0}, {2.0}});
  CHECK(std::isnan(single.f));
  CHECK(std::isnan(single.p_value));
  CHECK(single.eta_squared == 1);
  // Every value equal: nothing to explain.
  const OneWayAnova flat = one_way_anova({{0.99, 0.99}, {0.99, 0.99}});
  CHECK(std::isnan(flat.eta_squared));
  CHECK(std::isnan(flat.p_value));
  // A within-group variance so small that F overflows: p = 0 (Boost refuses an infinite F).
  const OneWayAnova huge = one_way_anova({{0.0, 1e-150}, {1e150, 1e150}});
  CHECK(std::isinf(huge.f));
  CHECK(huge.p_value == 0);
  CHECK(huge.eta_squared == doctest::Approx(1));
}
