// Tests of report/stats.hpp: mean, sample sd and the Student-t interval against table values.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "report/stats.hpp"

namespace {

// t quantile at 0.975 with 2 degrees of freedom (tables of Student's t distribution).
constexpr double kT975Dof2 = 4.302652729911275;

}  // namespace

TEST_CASE("report stats: mean, sample sd and Student-t CI of {0.98, 0.99, 1.00}") {
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

TEST_CASE("report stats: degenerate samples") {
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
