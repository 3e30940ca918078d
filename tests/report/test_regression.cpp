// Tests of the regression gate (report/regression.hpp) on hand-written rows: configurations matched
// by their settings, the paired or Welch choice and the one-sided p-values against R's t.test on
// its sleep data, the speed check with its margin, Holm over the checks, unmatched configurations.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "report/model.hpp"
#include "report/regression.hpp"
#include "report_rows.hpp"

namespace lenetlab::report {
namespace {

using test::make_config;
using test::make_run;

using test::kSleep1;
using test::kSleep2;

/// One configuration (lenet5/sgd lr 0.01) with 10 seeds starting at `first_seed`, test accuracy
/// 0.9 + extra / 100, three epochs per run at `speed` images/s (+ epoch index, so ranks differ).
ReportModel model_of(const std::vector<double>& extra, uint64_t first_seed, double speed,
                     double lr = 0.01) {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("gate", "gate.yaml", "name: gate\n", "2024-01-01"));
  for (std::size_t k = 0; k < extra.size(); ++k) {
    rows.runs.push_back(make_run(static_cast<int64_t>(k + 1),
                                 make_config("lenet5", "sgd", lr, 64, first_seed + k),
                                 RunStatus::finished, 0.9 + extra[k] / 100));
    std::vector<EpochRecord> epochs;
    for (int e = 1; e <= 3; ++e)
      epochs.push_back({e, 0.5, 0.9, 0.3, 0.95, lr, 2.0, speed + e + static_cast<double>(k)});
    rows.epochs.push_back(epochs);
  }
  return build_report_model(rows, "");
}

const RegressionCheck& check_of(const RegressionReport& r, const std::string& metric) {
  for (const RegressionCheck& c : r.checks)
    if (c.metric == metric) return c;
  FAIL("no check of " << metric);
  return r.checks.front();
}

}  // namespace

TEST_CASE("regression gate: a database against itself is not worse") {
  const ReportModel m = model_of(kSleep2, 1, 1000);
  const RegressionReport r = regression_checks(m, m);
  REQUIRE(r.checks.size() == 2);
  CHECK(r.worse_count() == 0);
  const RegressionCheck& acc = check_of(r, "test_accuracy");
  CHECK(acc.test == "paired t");
  CHECK_FALSE(acc.p_value.has_value());  // every difference 0: t undefined
  CHECK(acc.note == "identical per seed");
  CHECK(check_of(r, "images_per_second").p_value.value() > 0.5);
}

TEST_CASE("regression gate: same seeds, paired one-sided t (R t.test(paired, 'less') on sleep)") {
  // Candidate = drug 1, baseline = drug 2. R: t.test(extra[1:10], extra[11:20], paired = TRUE,
  // alternative = "less"): t = -4.0621, df = 9, p-value = 0.001416.
  const RegressionReport r =
      regression_checks(model_of(kSleep2, 1, 1000), model_of(kSleep1, 1, 1000));
  const RegressionCheck& acc = check_of(r, "test_accuracy");
  CHECK(acc.test == "paired t");
  CHECK(acc.n_baseline == 10);
  CHECK(acc.baseline == doctest::Approx(0.9 + 2.33 / 100));
  CHECK(acc.candidate == doctest::Approx(0.9 + 0.75 / 100));
  REQUIRE(acc.p_value.has_value());
  CHECK(*acc.p_value == doctest::Approx(0.001416).epsilon(2e-3));
  // Holm over 2 checks: the smallest p times 2.
  CHECK(*acc.p_holm == doctest::Approx(2 * *acc.p_value));
  CHECK(acc.worse);
  CHECK(r.worse_count() == 1);
}

TEST_CASE("regression gate: other seeds, Welch one-sided (R t.test(x, y, 'less') on sleep)") {
  // R: t.test(extra[1:10], extra[11:20], alternative = "less"): t = -1.8608, df = 17.776,
  // p-value = 0.03969. Holm over the two checks doubles it: 0.079, not worse at 0.05.
  const RegressionReport r =
      regression_checks(model_of(kSleep2, 1, 1000), model_of(kSleep1, 101, 1000));
  const RegressionCheck& acc = check_of(r, "test_accuracy");
  CHECK(acc.test == "Welch t");
  REQUIRE(acc.p_value.has_value());
  CHECK(*acc.p_value == doctest::Approx(0.03969).epsilon(2e-3));
  CHECK_FALSE(acc.worse);
  RegressionOptions loose;
  loose.alpha = 0.1;
  CHECK(check_of(regression_checks(model_of(kSleep2, 1, 1000), model_of(kSleep1, 101, 1000), loose),
                 "test_accuracy")
            .worse);
}

TEST_CASE("regression gate: speed, Mann-Whitney against the baseline less the margin") {
  const ReportModel base = model_of(kSleep2, 1, 1000);
  // 3% slower: inside the 5% margin.
  CHECK(regression_checks(base, model_of(kSleep2, 1, 970)).worse_count() == 0);
  // 20% slower: every candidate epoch below every baseline epoch times 0.95.
  const RegressionReport slow = regression_checks(base, model_of(kSleep2, 1, 800));
  const RegressionCheck& speed = check_of(slow, "images_per_second");
  CHECK(speed.test == "Mann-Whitney U");
  CHECK(speed.n_baseline == 30);
  CHECK(speed.worse);
  CHECK(speed.candidate < speed.baseline);
}

TEST_CASE("regression gate: configurations matched by settings, the rest listed") {
  const RegressionReport r =
      regression_checks(model_of(kSleep2, 1, 1000), model_of(kSleep1, 1, 1000, 0.1));
  CHECK(r.checks.empty());
  REQUIRE(r.only_in_baseline.size() == 1);
  REQUIRE(r.only_in_candidate.size() == 1);
  CHECK(r.only_in_baseline.front().find("lr=0.01") != std::string::npos);
  CHECK(r.only_in_candidate.front().find("lr=0.1") != std::string::npos);
}

}  // namespace lenetlab::report
