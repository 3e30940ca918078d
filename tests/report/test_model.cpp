// Tests of report/model.hpp on hand-written rows: configurations, their statistics, best run,
// status counts, environments and published results. Numbers only; no markup.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "report/model.hpp"
#include "report_rows.hpp"

namespace lenetlab::report {
namespace {

using test::make_config;
using test::make_run;

// t quantile at 0.975 with 2 degrees of freedom (tables of Student's t distribution).
constexpr double kT975Dof2 = 4.302652729911275;

const std::vector<double> kSgd = {0.981, 0.984, 0.979};    // lenet5/sgd, seeds 1..3
const std::vector<double> kAdam = {0.990, 0.9925, 0.988};  // lenet-relu/adam, seeds 1..3

double mean_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double squares = 0;
  for (double x : v) squares += (x - m) * (x - m);
  return std::sqrt(squares / static_cast<double>(v.size() - 1));
}

/// Runs 1-6: sgd and adam, 3 seeds each, interleaved; 7: sgd with 5 epochs, seed 1, 0.97;
/// 8: a failed run; 9: a queued run. Three epochs each for the finished runs.
ReportRows demo_rows() {
  ReportRows rows;
  rows.sweeps.push_back(test::make_sweep("demo", "demo.yaml", "name: demo\n", "2024-01-01"));
  int64_t id = 1;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    rows.runs.push_back(make_run(id++, make_config("lenet5", "sgd", 0.01, 64, seed),
                                 RunStatus::finished, kSgd[seed - 1]));
    rows.runs.push_back(make_run(id++, make_config("lenet-relu", "adam", 0.001, 128, seed),
                                 RunStatus::finished, kAdam[seed - 1]));
  }
  RunConfig longer = make_config("lenet5", "sgd", 0.01, 64, 1);
  longer.epochs = 5;
  rows.runs.push_back(make_run(id++, longer, RunStatus::finished, 0.97));
  rows.runs.push_back(
      make_run(id++, make_config("lenet5", "sgd", 0.5, 64, 1), RunStatus::failed, {}));
  rows.runs.back().error = "shape mismatch";
  rows.runs.push_back(
      make_run(id++, make_config("lenet5", "sgd", 0.5, 64, 2), RunStatus::queued, {}));
  for (const RunRow& r : rows.runs) {
    std::vector<EpochRecord> epochs;
    for (int e = 1; e <= r.epochs_completed; ++e)
      epochs.push_back({e, 0.5 / e, 0.9 + 0.02 * e, 0.6 / e, 0.89 + 0.02 * e});
    rows.epochs.push_back(epochs);
  }
  return rows;
}

const ConfigGroup& group_with(const ReportModel& m, const std::string& optimizer, int64_t epochs) {
  for (const ConfigGroup& g : m.groups)
    if (m.runs[g.runs.front()].optimizer == optimizer && g.config && g.config->epochs == epochs)
      return g;
  FAIL("no such configuration");
  return m.groups.front();
}

TEST_CASE("model: runs differing only in the seed form one configuration, by mean test accuracy") {
  const ReportModel m = build_report_model(demo_rows(), "");
  CHECK(m.title == "lenetlab report: demo");
  REQUIRE(m.groups.size() == 4);  // adam, sgd, sgd 5 epochs, sgd lr 0.5 (failed + queued)
  CHECK(m.groups[0].id == "C1");
  CHECK(m.groups[0].runs == std::vector<size_t>{1, 3, 5});
  CHECK(m.groups[1].runs == std::vector<size_t>{0, 2, 4});
  CHECK(m.groups[2].runs == std::vector<size_t>{6});
  CHECK(m.groups[3].runs == std::vector<size_t>{7, 8});
  CHECK(m.groups[0].label == "C1 lenet-relu/adam lr=0.001 bs=128");
  CHECK(m.config_of_run ==
        std::vector<std::string>{"C2", "C1", "C2", "C1", "C2", "C1", "C3", "C4", "C4"});

  for (const auto& [group, values] : {std::pair{&m.groups[0], &kAdam}, {&m.groups[1], &kSgd}}) {
    CAPTURE(group->id);
    CHECK(group->test.n == 3);
    CHECK(group->test_accuracies == *values);
    CHECK(group->test.mean == doctest::Approx(mean_of(*values)).epsilon(1e-12));
    REQUIRE(group->test.sd.has_value());
    CHECK(*group->test.sd == doctest::Approx(sd_of(*values)).epsilon(1e-9));
    REQUIRE(group->test.ci_half_width.has_value());
    CHECK(*group->test.ci_half_width ==
          doctest::Approx(kT975Dof2 * sd_of(*values) / std::sqrt(3.0)).epsilon(1e-9));
    REQUIRE(group->t_quantile.has_value());
    CHECK(*group->t_quantile == doctest::Approx(kT975Dof2).epsilon(1e-9));
    CHECK(*group->best_val_mean == doctest::Approx(mean_of(*values) - 0.001));
    CHECK(group->epochs_mean == 3.0);
    CHECK(group->parameters == 61706);
  }
  // Seconds are 12.5 + id: adam runs 2, 4, 6.
  CHECK(*m.groups[0].seconds_mean == doctest::Approx(12.5 + 4.0));

  // One seed: a mean, no sd or interval. No result at all: last, mean of nothing.
  CHECK(m.groups[2].test.n == 1);
  CHECK(m.groups[2].test.mean == doctest::Approx(0.97));
  CHECK_FALSE(m.groups[2].test.sd.has_value());
  CHECK_FALSE(m.groups[2].t_quantile.has_value());
  CHECK(m.groups[3].test.n == 0);
  CHECK(m.groups[3].seconds_mean.has_value());  // the failed run has seconds
  CHECK_FALSE(m.groups[3].best_val_mean.has_value());
  CHECK(m.groups[3].epochs_mean == doctest::Approx(1.5));  // 3 and 0 epochs
  CHECK(m.groups[3].statuses.size() == 2);
  CHECK(m.groups[3].statuses[0].status == RunStatus::failed);
  CHECK(m.groups[3].statuses[1].status == RunStatus::queued);
}

TEST_CASE("model: other settings name what sets a configuration apart, outside the columns") {
  const ReportModel m = build_report_model(demo_rows(), "");
  const ConfigGroup& longer = group_with(m, "sgd", 5);
  REQUIRE(longer.other_settings.size() == 1);
  CHECK(longer.other_settings[0].path == "epochs");
  CHECK(longer.other_settings[0].value == "5");
  // Architecture, optimizer, learning rate, batch size and seed have columns of their own.
  for (const ConfigGroup& g : m.groups)
    if (&g != &longer) CHECK(g.other_settings.empty());
}

TEST_CASE("model: the configuration identity comes from RunConfig, with the seed set to 0") {
  const RunConfig a = make_config("lenet5", "sgd", 0.01, 64, 1);
  const RunConfig b = make_config("lenet5", "sgd", 0.01, 64, 2);
  const RunConfig c = make_config("lenet5", "sgd", 0.02, 64, 1);
  const ConfigIdentity ia = configuration_identity(a.to_json().dump());
  CHECK(ia.key == configuration_identity(b.to_json().dump()).key);
  CHECK(ia.key != configuration_identity(c.to_json().dump()).key);
  REQUIRE(ia.config.has_value());
  CHECK(ia.config->seed == 0);
  RunConfig zero = a;
  zero.seed = 0;
  CHECK(ia.key == zero.to_json().dump());

  // Not a complete stored configuration: its own text is the key, nothing is merged.
  for (const std::string& text : {std::string("not json"), std::string(R"({"seed": 1})"),
                                  std::string(R"({"architecture": "<b>x</b>"})")}) {
    const ConfigIdentity raw = configuration_identity(text);
    CHECK(raw.key == text);
    CHECK_FALSE(raw.config.has_value());
  }
  // A key RunConfig does not know is not dropped: such a run is not merged with the others.
  nlohmann::json extra = a.to_json();
  extra["future_setting"] = 1;
  CHECK_FALSE(configuration_identity(extra.dump()).config.has_value());
}

TEST_CASE("model: best run, status counts, problems") {
  ReportModel m = build_report_model(demo_rows(), "my title");
  CHECK(m.title == "my title");
  REQUIRE(m.best.has_value());
  CHECK(m.runs[m.best->run].id == 4);  // adam seed 2, 0.9925
  CHECK(m.best->config_id == "C1");

  REQUIRE(m.statuses.size() == 3);
  CHECK(m.statuses[0].status == RunStatus::finished);
  CHECK(m.statuses[0].runs == 7);
  CHECK(m.statuses[1].status == RunStatus::failed);
  CHECK(m.statuses[1].runs == 1);
  CHECK(m.statuses[2].status == RunStatus::queued);
  CHECK(m.problems == std::vector<size_t>{7});

  std::vector<ClassMetrics> classes;
  std::vector<ConfusionCell> cells;
  for (int label = 0; label < 3; ++label) {
    classes.push_back({label, 0.9 + 0.01 * static_cast<double>(label), 0.8, 0.85, 100 + label});
    cells.push_back({label, label, 90});
    cells.push_back({label, (label + 1) % 3, 10 + label});
  }
  set_best_run_details(m, classes, cells);
  const BestRun& b = *m.best;
  CHECK(b.labels == 3);
  CHECK(b.max_count == 90);
  CHECK(b.confusion == std::vector<int64_t>{90, 10, 0, 0, 90, 11, 12, 0, 90});
  REQUIRE(b.macro.has_value());
  CHECK(b.macro->precision == doctest::Approx(0.91));
  CHECK(b.macro->recall == doctest::Approx(0.8));
  CHECK(b.macro->support == 303);

  ReportRows none = demo_rows();
  for (RunRow& r : none.runs) r.test_accuracy.reset();
  CHECK_FALSE(build_report_model(none, "").best.has_value());
}

TEST_CASE("model: status counts follow the display order of statuses") {
  std::vector<RunRow> runs(5);
  runs[0].status = RunStatus::queued;
  runs[1].status = RunStatus::interrupted;
  runs[2].status = RunStatus::finished;
  runs[3].status = RunStatus::queued;
  runs[4].status = RunStatus::stopped_early;
  const auto counts = count_statuses({&runs[0], &runs[1], &runs[2], &runs[3], &runs[4]});
  REQUIRE(counts.size() == 4);
  CHECK(counts[0].status == RunStatus::finished);
  CHECK(counts[1].status == RunStatus::stopped_early);
  CHECK(counts[2].status == RunStatus::interrupted);
  CHECK(counts[3].status == RunStatus::queued);
  CHECK(counts[3].runs == 2);
}

TEST_CASE("model: environments and the conditions that differ between runs") {
  ReportRows rows = demo_rows();
  rows.runs[1].isa = "avx512_core";
  rows.runs[2].dataset_sha256 = "0123456789abcdef0123";
  const ReportModel m = build_report_model(rows, "");
  CHECK(m.runs_without_environment == 1);  // the queued run
  REQUIRE(m.environments.size() == 2);
  CHECK(m.environments[0].isa == "avx2");
  CHECK(m.environments[0].runs == 7);
  CHECK(m.environments[1].isa == "avx512_core");
  CHECK(m.environments[1].threads == 4);
  REQUIRE(m.differences.size() == 2);
  CHECK(m.differences[0].field == "isa");
  REQUIRE(m.differences[0].values.size() == 2);
  CHECK(m.differences[0].values[1].value == "avx512_core");
  CHECK(m.differences[0].values[1].runs == 1);
  CHECK(m.differences[1].field == "dataset_sha256");
  CHECK(m.differences[1].dataset == "mnist");

  CHECK(build_report_model(demo_rows(), "").differences.empty());

  // Thread counts differ: a difference between engine-1 runs, none between engine-2 runs (their
  // results do not depend on the count).
  ReportRows threads = demo_rows();
  threads.runs[1].threads = 2;
  REQUIRE(build_report_model(threads, "").differences.size() == 1);
  CHECK(build_report_model(threads, "").differences[0].field == "threads");
  for (RunRow& r : threads.runs) {
    CHECK(r.engine() == 1);
    r.config_json.insert(1, "\"engine\":2,\"micro_batch\":32,");  // the keys of engine 2
    CHECK(r.engine() == 2);
  }
  CHECK(build_report_model(threads, "").differences.empty());
}

TEST_CASE("model: published results beside the measured mean and interval") {
  ReportRows rows = demo_rows();
  rows.published.push_back({"demo", "lenet-relu", 0.991, 0.985, "a paper"});
  rows.published.push_back({"demo", "lenet5", 0.99, 0.99, "another"});
  rows.published.push_back({"demo", "lenet1", 0.98, 0, "none run"});
  rows.published.push_back({"demo", "wide", 0.98, 0, "two seeds far apart"});
  for (const auto& [seed, accuracy] : {std::pair{1, 0.95}, std::pair{2, 0.999}}) {
    rows.runs.push_back(make_run(static_cast<int64_t>(rows.runs.size() + 1),
                                 make_config("wide", "sgd", 0.01, 64, seed), RunStatus::finished,
                                 accuracy));
    rows.epochs.emplace_back();
  }
  const ReportModel m = build_report_model(rows, "");
  REQUIRE(m.published.size() == 4);

  const PublishedComparison& relu = m.published[0];
  REQUIRE(relu.measured.has_value());
  CHECK(relu.seeds.size() == 3);
  CHECK(relu.seeds[1].seed == 2);
  CHECK(relu.measured->mean == doctest::Approx(mean_of(kAdam)));
  // Three seeds: the logit-scale interval of stats/summary.hpp (tested there), inside (0, 1).
  const stats::BoundedInterval expected = stats::bounded_mean_interval(kAdam);
  REQUIRE(relu.interval.informative);
  CHECK(*relu.interval.low == doctest::Approx(*expected.low));
  CHECK(*relu.interval.high == doctest::Approx(*expected.high));
  CHECK(*relu.interval.low < relu.measured->mean);
  CHECK(*relu.interval.high < 1.0);
  CHECK(relu.reached == true);

  const PublishedComparison& lenet5 = m.published[1];
  CHECK(lenet5.seeds.size() == 4);  // three seeds and the 5-epoch run
  CHECK(lenet5.reached == false);

  CHECK_FALSE(m.published[2].measured.has_value());
  CHECK_FALSE(m.published[2].reached.has_value());

  // t(0.975, 1) = 12.706: the Student-t interval of two seeds would pass 100%; the report gives
  // none ("not informative").
  const PublishedComparison& wide = m.published[3];
  REQUIRE(wide.measured.has_value());
  CHECK(wide.measured->mean + *wide.measured->ci_half_width > 1.0);
  CHECK_FALSE(wide.interval.informative);
  CHECK_FALSE(wide.interval.high.has_value());
}

TEST_CASE("model: one list of epochs per run is required") {
  ReportRows rows = demo_rows();
  rows.epochs.pop_back();
  CHECK_THROWS_AS(build_report_model(rows, ""), std::invalid_argument);
}

}  // namespace
}  // namespace lenetlab::report
