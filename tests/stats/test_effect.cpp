// Tests of stats/effect.hpp against published values: Lakens (2013)'s worked example for Hedges'
// g, R's ?power.t.test examples for power and sample size, and Dobson's plant-weight data (R
// datasets::PlantGrowth) for the one-way ANOVA.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

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
