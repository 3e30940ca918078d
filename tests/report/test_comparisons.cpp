// Tests of report/comparisons.hpp on hand-written rows: which pairs are compared, the paired or
// Welch choice (against R's t.test output on the sleep data), Holm over the family, the verdicts,
// factor summaries and time to target.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report/model.hpp"
#include "report_rows.hpp"

namespace lenetlab::report {
namespace {

using test::make_config;
using test::make_run;

using test::kSleep1;
using test::kSleep2;

/// Accuracy 0.9 + extra / 100 of the sleep data: sgd takes drug 1, adam drug 2 (seeds 1..10);
/// `adam_seed_offset` moves adam's seeds so that no seed is shared. Three epochs per run, training
/// seconds 2 each, validation accuracy 0.90, 0.95, 0.985.
ReportRows sleep_rows(uint64_t adam_seed_offset, bool with_lr_pair = false) {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("sleep", "sleep.yaml", "name: sleep\n", "2024-01-01"));
  int64_t id = 1;
  for (uint64_t k = 0; k < 10; ++k) {
    rows.runs.push_back(make_run(id++, make_config("lenet5", "sgd", 0.01, 64, k + 1),
                                 RunStatus::finished, 0.9 + kSleep1[k] / 100));
    rows.runs.push_back(make_run(id++,
                                 make_config("lenet5", "adam", 0.01, 64, k + 1 + adam_seed_offset),
                                 RunStatus::finished, 0.9 + kSleep2[k] / 100));
    if (with_lr_pair && k < 3)
      rows.runs.push_back(make_run(id++, make_config("lenet5", "sgd", 0.1, 64, k + 1),
                                   RunStatus::finished, 0.9 + kSleep1[k] / 100 + 0.001 * k));
  }
  for (std::size_t i = 0; i < rows.runs.size(); ++i) {
    std::vector<EpochRecord> epochs;
    const double val[] = {0.90, 0.95, 0.985};
    for (int e = 1; e <= 3; ++e) epochs.push_back({e, 0.5, 0.9, 0.3, val[e - 1], 0.01, 2.0, 1e3});
    rows.epochs.push_back(epochs);
  }
  return rows;
}

const Comparison& only_pair(const ReportModel& m) {
  REQUIRE(m.comparisons.pairs.size() == 1);
  return m.comparisons.pairs.front();
}

}  // namespace

TEST_CASE("comparisons: same seeds are compared paired (R t.test(paired = TRUE) on sleep)") {
  const ReportModel m = build_report_model(sleep_rows(0), "");
  const Comparison& c = only_pair(m);
  CHECK(c.factor == "optimizer");
  CHECK(c.paired);
  CHECK(c.n_a == 10);
  CHECK(c.a_value == "adam");  // the better mean first
  CHECK(c.b_value == "sgd");
  // R: mean difference -1.58, 95% CI -2.4598858 -0.7001142, p-value = 0.002833 (drug 1 - 2);
  // here adam - sgd, in accuracy units (hours / 100).
  CHECK(c.difference == doctest::Approx(0.0158));
  REQUIRE(c.low.has_value());
  CHECK(*c.low == doctest::Approx(0.007001142).epsilon(1e-5));
  CHECK(*c.high == doctest::Approx(0.024598858).epsilon(1e-5));
  REQUIRE(c.p_value.has_value());
  CHECK(*c.p_value == doctest::Approx(0.002833).epsilon(1e-3));
  CHECK(*c.p_holm == doctest::Approx(*c.p_value));  // a family of one
  CHECK(c.wilcoxon_p.has_value());
  CHECK(c.significant);
  CHECK(c.verdict.find("better than") != std::string::npos);
  CHECK(c.verdict.find("by 1.58 points [0.70, 2.46]") != std::string::npos);
}

TEST_CASE("comparisons: different seeds are compared by Welch (R t.test on sleep)") {
  const ReportModel m = build_report_model(sleep_rows(100), "");
  const Comparison& c = only_pair(m);
  CHECK_FALSE(c.paired);
  CHECK_FALSE(c.wilcoxon_p.has_value());
  // R: t.test(extra ~ group, data = sleep): p-value = 0.07939, CI -3.3654832 0.2054832.
  REQUIRE(c.p_value.has_value());
  CHECK(*c.p_value == doctest::Approx(0.07939).epsilon(1e-3));
  CHECK(*c.low == doctest::Approx(-0.002054832).epsilon(1e-4));
  CHECK(*c.high == doctest::Approx(0.033654832).epsilon(1e-5));
  CHECK_FALSE(c.significant);
  CHECK(c.verdict.find("no detectable difference with 10 seeds") != std::string::npos);
  REQUIRE(c.seeds_needed.has_value());
  CHECK(*c.seeds_needed > 10);
  CHECK(c.verdict.find(std::to_string(*c.seeds_needed) + " seeds would detect 1.58 points") !=
        std::string::npos);
}

TEST_CASE("comparisons: only pairs that differ in one factor, Holm over the family") {
  const ReportModel m = build_report_model(sleep_rows(0, true), "");
  // sgd 0.01 vs adam 0.01 (optimizer) and sgd 0.01 vs sgd 0.1 (learning rate); adam 0.01 vs sgd
  // 0.1 differ in two factors and are not compared.
  REQUIRE(m.comparisons.pairs.size() == 2);
  std::vector<double> p;
  for (const Comparison& c : m.comparisons.pairs) p.push_back(*c.p_value);
  const double low = std::min(p[0], p[1]), high = std::max(p[0], p[1]);
  for (const Comparison& c : m.comparisons.pairs)
    CHECK(*c.p_holm ==
          doctest::Approx(*c.p_value == low ? std::min(1.0, 2 * low) : std::max(2 * low, high)));
  // The learning-rate pair shares 3 of sgd 0.01's 10 seeds: not the same seeds, so Welch.
  const Comparison& lr = m.comparisons.pairs[0].factor == "learning rate" ? m.comparisons.pairs[0]
                                                                          : m.comparisons.pairs[1];
  CHECK_FALSE(lr.paired);
  CHECK(lr.n_a + lr.n_b == 13);

  ComparisonOptions only_lr;
  only_lr.factor = "learning rate";
  ReportRows rows = sleep_rows(0, true);
  rows.comparison = only_lr;
  const ReportModel m2 = build_report_model(std::move(rows), "");
  REQUIRE(m2.comparisons.pairs.size() == 1);
  CHECK(*m2.comparisons.pairs[0].p_holm == doctest::Approx(*m2.comparisons.pairs[0].p_value));
}

TEST_CASE("comparisons: factor summary and time to target") {
  const ReportModel m = build_report_model(sleep_rows(0), "");
  REQUIRE(m.comparisons.factors.size() == 1);
  const FactorSummary& f = m.comparisons.factors[0];
  CHECK(f.factor == "optimizer");
  REQUIRE(f.levels.size() == 2);
  CHECK(f.levels[0].value == "adam");
  CHECK(f.levels[0].runs == 10);
  CHECK(f.levels[0].mean == doctest::Approx(0.9 + 2.33 / 100));
  REQUIRE(f.levels[0].low.has_value());
  CHECK(*f.levels[0].low < f.levels[0].mean);
  // Two configurations, one per value: all the variance across them is the factor's.
  REQUIRE(f.eta_squared.has_value());
  CHECK(*f.eta_squared == doctest::Approx(1.0));

  // Targets 0.98 and 0.99: the third epoch reaches 0.985 >= 0.98 after 6 training seconds; 0.99
  // is never reached.
  REQUIRE(m.comparisons.run_targets.size() == 20);
  const auto& t = m.comparisons.run_targets[0].targets;
  REQUIRE(t.size() == 2);
  CHECK(t[0].epoch == 3);
  CHECK(*t[0].seconds == doctest::Approx(6.0));
  CHECK_FALSE(t[1].epoch.has_value());
  REQUIRE(m.comparisons.group_targets.size() == 4);
  CHECK(m.comparisons.group_targets[0].reached == 10);
  CHECK(*m.comparisons.group_targets[0].epochs_mean == doctest::Approx(3));
  CHECK(m.comparisons.group_targets[1].reached == 0);

  ReportRows rows = sleep_rows(0);
  rows.comparison.metric = ComparisonMetric::epochs_to_target;
  rows.comparison.targets = {0.9, 0.95};
  const ReportModel m2 = build_report_model(std::move(rows), "");
  const Comparison& c = only_pair(m2);
  CHECK(c.mean_a == doctest::Approx(1));
  CHECK(c.verdict.find("no difference") != std::string::npos);
}

TEST_CASE("comparisons: a mean difference that rounds to 0 asks for no seeds") {
  // Test accuracies of adam and rmsprop at 0.001 (sweeps/optimizer-lr-sensitivity.yaml, seeds 1-5):
  // per-seed differences 0.0018, 0.0023, 0.0030, 0.0002, -0.0073 sum to 0, in doubles to 1e-17.
  const std::vector<double> adam = {0.9615, 0.9541, 0.9561, 0.9603, 0.9562};
  const std::vector<double> rmsprop = {0.9597, 0.9518, 0.9531, 0.9601, 0.9635};
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("s", "s.yaml", "name: s\n", "2024-01-01"));
  for (uint64_t k = 0; k < 5; ++k) {
    rows.runs.push_back(make_run(static_cast<int64_t>(2 * k + 1),
                                 make_config("lenet5", "adam", 0.001, 64, k + 1),
                                 RunStatus::finished, adam[k]));
    rows.runs.push_back(make_run(static_cast<int64_t>(2 * k + 2),
                                 make_config("lenet5", "rmsprop", 0.001, 64, k + 1),
                                 RunStatus::finished, rmsprop[k]));
  }
  rows.epochs.resize(rows.runs.size());
  const ReportModel m = build_report_model(rows, "");
  const Comparison& c = only_pair(m);
  CAPTURE(c.verdict);
  CHECK(c.paired);
  CHECK(std::abs(c.difference) < 1e-12);
  CHECK(c.verdict.rfind("no detectable difference with 5 seeds", 0) == 0);
  CHECK(c.verdict.find("seeds would") == std::string::npos);
}

TEST_CASE("comparisons: metric names and bad targets") {
  CHECK(parse_comparison_metric("best_val_accuracy") == ComparisonMetric::best_val_accuracy);
  CHECK_FALSE(parse_comparison_metric("accuracy").has_value());
  ReportRows rows = sleep_rows(0);
  rows.comparison.targets = {0.99, 0.98};
  CHECK_THROWS_AS(build_report_model(std::move(rows), ""), std::invalid_argument);
}

TEST_CASE("comparisons: settings that change together with the factor are named") {
  // Two recipes, as in sweeps/distortions.yaml: lenet5 at batch 64 and lenet-relu at batch 128.
  // The pair differs in one factor (architecture) whose values split the groups exactly as
  // batch_size does, so the comparison says the difference may come from either.
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("recipes", "r.yaml", "name: recipes\n", "2024-01-01"));
  int64_t id = 1;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    rows.runs.push_back(make_run(id++, make_config("lenet5", "sgd", 0.01, 64, seed),
                                 RunStatus::finished, 0.99 + 0.001 * seed));
    rows.runs.push_back(make_run(id++, make_config("lenet-relu", "sgd", 0.01, 128, seed),
                                 RunStatus::finished, 0.992 + 0.0005 * seed));
  }
  rows.epochs.resize(rows.runs.size());
  const ReportModel m = build_report_model(std::move(rows), "");
  const Comparison& c = only_pair(m);
  CHECK(c.factor == "architecture");
  CHECK(c.confounded == std::vector<std::string>{"batch_size"});
  CHECK(confounded_note(c) == " (changes together with: batch_size)");
  Comparison alone = c;
  alone.confounded.clear();
  CHECK(confounded_note(alone).empty());
}

TEST_CASE("comparisons: optimizers with their own hyper-parameters are one factor") {
  // SGD with momentum 0.9, Adam and RMSprop at one learning rate, and SGD with momentum at a
  // second one. Momentum is SGD's own hyper-parameter, part of the optimizer factor, so the three
  // optimizers are compared pairwise; the learning rate stays a factor of its own: SGD 0.1 is
  // compared with SGD 0.01 only (against Adam it differs in two factors).
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("study", "s.yaml", "name: study\n", "2024-01-01"));
  int64_t id = 1;
  auto sgd = [](double lr, uint64_t seed) {
    RunConfig c = make_config("lenet5", "sgd", lr, 64, seed);
    c.optimizer.momentum = 0.9;
    return RunConfig::from_json(c.to_json(), "test configuration");
  };
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const double d = 0.001 * static_cast<double>(seed);
    rows.runs.push_back(make_run(id++, sgd(0.01, seed), RunStatus::finished, 0.98 + d));
    rows.runs.push_back(make_run(id++, make_config("lenet5", "adam", 0.01, 64, seed),
                                 RunStatus::finished, 0.981 + d * 0.5));
    rows.runs.push_back(make_run(id++, make_config("lenet5", "rmsprop", 0.01, 64, seed),
                                 RunStatus::finished, 0.979 + d * 0.7));
    rows.runs.push_back(make_run(id++, sgd(0.1, seed), RunStatus::finished, 0.97 + d));
  }
  rows.epochs.resize(rows.runs.size());
  const ReportModel m = build_report_model(std::move(rows), "");
  std::size_t optimizer_pairs = 0, with_momentum = 0, lr_pairs = 0;
  for (const Comparison& c : m.comparisons.pairs) {
    if (c.factor == "optimizer") ++optimizer_pairs;
    if (c.factor == "learning rate") ++lr_pairs;
    if (std::find(c.confounded.begin(), c.confounded.end(), "optimizer.momentum") !=
        c.confounded.end())
      ++with_momentum;
  }
  CHECK(optimizer_pairs == 3);  // sgd - adam, sgd - rmsprop, adam - rmsprop (all at 0.01)
  CHECK(with_momentum == 2);    // the two with SGD
  CHECK(lr_pairs == 1);         // sgd 0.01 - sgd 0.1
}

}  // namespace lenetlab::report
