// Hyperband (config/search_spec.hpp HalvingSpec::brackets, sweep/halving.hpp): the brackets
// against the paper's table, a file's candidates split into brackets, the file's mistakes, and a
// search on the synthetic squares that records each bracket's rungs and gives the same runs with
// one job and with two.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../config/config_test_util.hpp"
#include "../sweep/sweep_test_util.hpp"
#include "sweep/halving.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

HalvingSpec hyperband(int min_epochs, int reduction, int max_epochs) {
  HalvingSpec h;
  h.min_epochs = min_epochs;
  h.reduction = reduction;
  h.max_epochs = max_epochs;
  h.hyperband = true;
  return h;
}

TEST_CASE("hyperband: brackets match Li et al. 2018, table 1 (R = 81, eta = 3)") {
  // Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, "Hyperband: A Novel Bandit-Based Approach
  // to Hyperparameter Optimization", JMLR 18(185), 2018, table 1: s = 4..0 start n = 81, 34, 15,
  // 8, 5 configurations with r = 1, 3, 9, 27, 81 resources, each rung x3 up to 81.
  const auto brackets = hyperband(1, 3, 81).brackets();
  REQUIRE(brackets.size() == 5);
  const std::vector<int> n = {81, 34, 15, 8, 5};
  const std::vector<std::vector<int>> budgets = {
      {1, 3, 9, 27, 81}, {3, 9, 27, 81}, {9, 27, 81}, {27, 81}, {81}};
  for (size_t s = 0; s < brackets.size(); ++s) {
    CHECK(brackets[s].candidates == n[s]);
    CHECK(brackets[s].budgets == budgets[s]);
  }
  // R not a power of eta: budgets are max_epochs / eta^k rounded down, never below min_epochs.
  const auto uneven = hyperband(2, 3, 20).brackets();  // R = 10: s_max = 2
  REQUIRE(uneven.size() == 3);
  CHECK(uneven[0].budgets == std::vector<int>{2, 6, 20});
  CHECK(uneven[1].budgets == std::vector<int>{6, 20});
  CHECK(uneven[2].budgets == std::vector<int>{20});
  CHECK(uneven[0].candidates == 9);  // ceil(3 / 3 x 9)
  CHECK(uneven[1].candidates == 5);  // ceil(3 / 2 x 3)
  CHECK(uneven[2].candidates == 3);
  // Below one reduction step there is one bracket: random search at max_epochs.
  const auto one = hyperband(2, 3, 5).brackets();
  REQUIRE(one.size() == 1);
  CHECK(one[0].candidates == 1);
  CHECK(one[0].budgets == std::vector<int>{5});
}

std::string hyperband_file(const std::string& search) {
  return "name: s\nbase: {architecture: lenet-relu, validation_split: 0.1}\nsearch: {method: "
         "hyperband, " +
         search + "}\nspace:\n  learning_rate: {log_uniform: {low: 1.0e-4, high: 1}}\n";
}

TEST_CASE("hyperband: a file's candidates are drawn once and split into brackets in order") {
  using config_test::sweep_error;
  const Sweep sweep = parse_sweep(
      hyperband_file("sampler: sobol, seed: 3, min_epochs: 1, reduction: 3, max_epochs: 9"),
      "s.yaml");
  // Brackets of R = 9, eta = 3: 9 candidates from 1 epoch, 5 from 3, 3 from 9.
  REQUIRE(sweep.runs.size() == 17);
  REQUIRE(sweep.bracket.size() == 17);
  std::vector<int> sizes(3, 0);
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    ++sizes.at(static_cast<size_t>(sweep.bracket[i]));
    CHECK(sweep.runs[i].epochs == 9);
    if (i > 0) CHECK(sweep.bracket[i] >= sweep.bracket[i - 1]);
  }
  CHECK(sizes == std::vector<int>{9, 5, 3});
  // The shipped example is that search.
  const Sweep shipped = load_sweep(config_test::kSweeps / "hyperband-adam.yaml");
  CHECK(shipped.runs.size() == 17);
  CHECK(shipped.bracket == sweep.bracket);
  // The same points as a sobol search of 17 runs: hyperband only splits them.
  const Sweep plain = parse_sweep(
      "name: s\nbase: {architecture: lenet-relu, validation_split: 0.1, epochs: 9}\nsearch: "
      "{method: sobol, runs: 17, seed: 3}\nspace:\n  learning_rate: {log_uniform: {low: 1.0e-4, "
      "high: 1}}\n",
      "s.yaml");
  for (size_t i = 0; i < sweep.runs.size(); ++i)
    CHECK(sweep.runs[i].optimizer.learning_rate == plain.runs[i].optimizer.learning_rate);

  CHECK(sweep_error(hyperband_file("min_epochs: 1, max_epochs: 9")).detail ==
        "hyperband draws new candidates for every bracket; add 'sampler: random' or 'sampler: "
        "sobol' and a 'space'");
  CHECK(sweep_error(hyperband_file("sampler: random, runs: 4, max_epochs: 9")).detail ==
        "hyperband sets the number of candidates of each bracket (Li et al. 2018); remove 'runs'");
  CHECK(sweep_error(hyperband_file("sampler: random")).detail ==
        "hyperband needs 'max_epochs' (the last rung's epochs)");
}

/// Five candidates (learning rates 10^-4 .. 10^-2) of lenet5-relu with Adam on the squares,
/// Hyperband with min 1, eta 3, max 3 epochs: bracket 1 halves three candidates from 1 epoch to 3,
/// bracket 2 trains two for 3 epochs.
Sweep hyperband_sweep() {
  Sweep sweep = small_sweep({}, 3);
  for (int i = 0; i < 5; ++i) {
    sweep.runs.push_back(make_run(lenet5_relu(), "adam", std::pow(10.0, -4.0 + 0.5 * i), 3, 1));
    sweep.runs.back().validation_split = 0.2;
    sweep.bracket.push_back(i < 3 ? 0 : 1);
  }
  SearchSpec spec;
  spec.halving = hyperband(1, 3, 3);
  sweep.search = spec;
  return sweep;
}

/// Every decision (with its bracket) and every stored value of every run, as text.
std::string outcome(const fs::path& db, const Sweep& sweep) {
  std::string out = db_text(db,
                            "SELECT group_concat(line, char(10)) FROM (SELECT printf('%s %d %d %d "
                            "%.17g %d %d %d', r.key, g.bracket, g.rung, g.epochs, g.metric_value, "
                            "g.rank, g.candidates, g.promoted) AS line FROM search_rungs g JOIN "
                            "runs r ON r.id = g.run_id ORDER BY g.bracket, g.rung, r.key)");
  for (const RunConfig& run : sweep.runs) out += "\n" + run_values(db, run.key());
  return out;
}

TEST_CASE("hyperband: each bracket is halved from its own budget, the same with --jobs 1 and 2") {
  REQUIRE(hyperband(1, 3, 3).brackets().size() == 2);
  REQUIRE(hyperband(1, 3, 3).brackets()[0].candidates == 3);
  REQUIRE(hyperband(1, 3, 3).brackets()[1].candidates == 2);
  const Dataset data = make_dataset(400, 60);
  const Sweep sweep = hyperband_sweep();
  TempDir root;
  const auto search = [&](const std::string& name, int jobs) {
    fs::create_directories(root / name);
    QuietOptions options;
    options.jobs = jobs;
    Store store(root / name / "results.db");
    return run_halving(sweep, data, store, options);
  };
  const SweepSummary one = search("one", 1);
  CHECK(one.finished == 3);  // bracket 1's best and both of bracket 2
  CHECK(one.pruned == 2);
  const fs::path db = root / "one" / "results.db";
  CHECK(db_text(db,
                "SELECT group_concat(x, ' ') FROM (SELECT bracket || ':' || rung || ':' || "
                "epochs || ':' || count(*) || ':' || sum(promoted) AS x FROM search_rungs "
                "GROUP BY bracket, rung ORDER BY bracket, rung)") ==
        "0:0:1:3:1 0:1:3:1:1 1:0:3:2:1");
  // Bracket 2's runs trained 3 epochs at once; bracket 1's pruned runs stopped after 1.
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    const std::string epochs =
        db_text(db, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.key = '" +
                        sweep.runs[i].key() + "'");
    const std::string status =
        db_text(db, "SELECT status FROM runs WHERE key = '" + sweep.runs[i].key() + "'");
    INFO("run " << i);
    CHECK((status == "pruned" ? epochs == "1" : epochs == "3"));
    if (i >= 3) CHECK(status == "finished");
  }
  const std::string reference = outcome(db, sweep);
  search("two", 2);
  CHECK(outcome(root / "two" / "results.db", sweep) == reference);
  // A rerun of a decided search trains nothing and decides the same.
  CHECK(search("one", 2).finished == 0);
  CHECK(outcome(db, sweep) == reference);
}

}  // namespace
}  // namespace lenetlab::test
