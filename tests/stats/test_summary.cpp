// Tests of stats/summary.hpp: mean, sample sd and the Student-t interval against table values, and
// the bounded (logit-scale) interval of a mean of fractions.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "stats/summary.hpp"

namespace {

// t quantile at 0.975 with 2 degrees of freedom (tables of Student's t distribution).
constexpr double kT975Dof2 = 4.302652729911275;

}  // namespace

TEST_CASE("stats summary: mean, sample sd and Student-t CI of {0.98, 0.99, 1.00}") {
  const std::vector<double> v = {0.98, 0.99, 1.00};
  CHECK(lenetlab::stats::mean(v) == doctest::Approx(0.99).epsilon(1e-12));
  CHECK(lenetlab::stats::sample_sd(v) == doctest::Approx(0.01).epsilon(1e-9));
  CHECK(lenetlab::stats::student_t_quantile(0.975, 2) == doctest::Approx(kT975Dof2).epsilon(1e-9));
  const auto half = lenetlab::stats::t_ci_half_width(v);
  REQUIRE(half.has_value());
  CHECK(*half == doctest::Approx(kT975Dof2 * 0.01 / std::sqrt(3.0)).epsilon(1e-9));

  const auto s = lenetlab::stats::summarize(v);
  CHECK(s.n == 3);
  CHECK(s.mean == doctest::Approx(0.99));
  REQUIRE(s.sd.has_value());
  CHECK(*s.sd == doctest::Approx(0.01));
  REQUIRE(s.ci_half_width.has_value());
  CHECK(*s.ci_half_width == doctest::Approx(*half));
}

TEST_CASE("stats summary: degenerate samples") {
  const std::vector<double> one = {0.97};
  CHECK(lenetlab::stats::mean(one) == doctest::Approx(0.97));
  CHECK(std::isnan(lenetlab::stats::sample_sd(one)));
  CHECK_FALSE(lenetlab::stats::t_ci_half_width(one).has_value());
  const auto s = lenetlab::stats::summarize(one);
  CHECK(s.n == 1);
  CHECK_FALSE(s.sd.has_value());
  CHECK_FALSE(s.ci_half_width.has_value());
  CHECK(std::isnan(lenetlab::stats::mean(std::vector<double>{})));
  CHECK_THROWS_AS(lenetlab::stats::student_t_quantile(1.5, 2), std::domain_error);
  CHECK_THROWS_AS(lenetlab::stats::student_t_quantile(0.5, 0), std::domain_error);
  // Large samples approach the normal quantile.
  CHECK(lenetlab::stats::student_t_quantile(0.975, 1e6) == doctest::Approx(1.959964).epsilon(1e-5));
}

TEST_CASE("stats summary: bounded interval of a mean of fractions (logit-scale t interval)") {
  using lenetlab::stats::bounded_mean_interval;
  // The logit-scale interval computed by hand with the tabled t(0.975, 2) (Student's t tables).
  const std::vector<double> v = {0.97, 0.98, 0.99};
  std::vector<double> z;
  for (double x : v) z.push_back(std::log(x / (1 - x)));
  const double zm = (z[0] + z[1] + z[2]) / 3;
  const double zs = std::sqrt(
      ((z[0] - zm) * (z[0] - zm) + (z[1] - zm) * (z[1] - zm) + (z[2] - zm) * (z[2] - zm)) / 2);
  const auto expit = [](double t) { return 1 / (1 + std::exp(-t)); };
  const auto b = bounded_mean_interval(v);
  CHECK(b.informative);
  CHECK(b.mean == doctest::Approx(0.98));
  REQUIRE(b.low.has_value());
  REQUIRE(b.high.has_value());
  CHECK(*b.low == doctest::Approx(expit(zm - kT975Dof2 * zs / std::sqrt(3.0))).epsilon(1e-9));
  CHECK(*b.high == doctest::Approx(expit(zm + kT975Dof2 * zs / std::sqrt(3.0))).epsilon(1e-9));
  // The plain t interval of the same values runs past 1; this one stays inside (0, 1).
  CHECK(0.98 + *lenetlab::stats::t_ci_half_width(v) > 1.0);
  CHECK(*b.high < 1.0);
  CHECK(*b.low > 0.0);
  CHECK(*b.low <= b.mean);

  // Accuracies of exactly 1 with a known image count: the empirical logit (Cox & Snell).
  const std::vector<double> perfect = {1.0, 1.0, 0.999};
  const auto p = bounded_mean_interval(perfect, 1000);
  REQUIRE(p.high.has_value());
  CHECK(*p.high < 1.0);
  CHECK(*p.low > 0.99);
  const double k = 999, n = 1000;
  const double e0 = std::log((n + 0.5) / 0.5), e1 = std::log((k + 0.5) / (n - k + 0.5));
  const double em = (2 * e0 + e1) / 3;
  const double es = std::sqrt((2 * (e0 - em) * (e0 - em) + (e1 - em) * (e1 - em)) / 2);
  CHECK(*p.high == doctest::Approx(expit(em + kT975Dof2 * es / std::sqrt(3.0))).epsilon(1e-9));
}

TEST_CASE("stats summary: fewer than 3 values give no bounded interval") {
  using lenetlab::stats::bounded_mean_interval;
  // The quickstart example: 2 seeds gave [96.21%, 100.92%] with the plain t interval.
  const std::vector<double> two = {0.9621, 0.9950};
  const auto b = bounded_mean_interval(two);
  CHECK_FALSE(b.informative);
  CHECK_FALSE(b.low.has_value());
  CHECK_FALSE(b.high.has_value());
  CHECK(b.mean == doctest::Approx((0.9621 + 0.9950) / 2));
  CHECK_THROWS_AS(bounded_mean_interval(std::vector<double>{0.5, 1.5, 0.2}), std::domain_error);
  CHECK_THROWS_AS(bounded_mean_interval(two, 0), std::domain_error);
}

TEST_CASE("stats summary: median of the sleep and plant-weight data (R ?sleep, ?PlantGrowth)") {
  // R: with(sleep, tapply(extra, group, median)): 0.35 and 1.75 (Cushny & Peebles 1905, the
  // extra hours of sleep; Student 1908). R: with(PlantGrowth, tapply(weight, group, median)):
  // ctrl 5.155 (Dobson 1983, Table 7.1).
  const std::vector<double> drug1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
  const std::vector<double> drug2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
  const std::vector<double> ctrl = {4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14};
  CHECK(lenetlab::stats::median(drug1) == doctest::Approx(0.35).epsilon(1e-12));
  CHECK(lenetlab::stats::median(drug2) == doctest::Approx(1.75).epsilon(1e-12));
  CHECK(lenetlab::stats::median(ctrl) == doctest::Approx(5.155).epsilon(1e-12));
  // An odd count takes the middle value; the input is not reordered.
  const std::vector<double> odd(drug1.begin(), drug1.end() - 1);
  CHECK(lenetlab::stats::median(odd) == 0.0);
  CHECK(odd.front() == 0.7);
  CHECK(lenetlab::stats::median(std::vector<double>{42}) == 42);
  CHECK(std::isnan(lenetlab::stats::median(std::vector<double>{})));
}
