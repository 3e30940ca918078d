// Sweep files (config/sweep_loader): the shipped sweeps and the expansion semantics (lists inside
// choices, precedence, learning_rate, early_stopping, paths, schedules, run keys).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config_test_util.hpp"

namespace lenetlab {
namespace {

using namespace config_test;

// -------------------------------------------------------------------------------------------------
// Shipped sweeps

TEST_CASE("config: quickstart expands to 30 runs") {
  const Sweep sweep = load_sweep(kSweeps / "quickstart.yaml");
  CHECK(sweep.name == "quickstart");
  CHECK(sweep.dataset == "mnist");
  CHECK(sweep.file == (kSweeps / "quickstart.yaml").string());
  CHECK(sweep.yaml == read(kSweeps / "quickstart.yaml"));
  REQUIRE(sweep.runs.size() == 30);
  for (const RunConfig& run : sweep.runs) {
    CHECK(run.epochs == 2);
    CHECK(run.batch_size == 64);
    CHECK(run.validation_split == doctest::Approx(0.1));
    CHECK(run.dataset == "mnist");
    CHECK(run.arch.name == run.architecture);
    CHECK_FALSE(run.early_stopping.enabled);
  }
  // architecture slowest, then optimizer, then seed.
  CHECK(sweep.runs[0].architecture == "lenet5");
  CHECK(sweep.runs[0].optimizer.kind == OptimizerKind::sgd);
  CHECK(sweep.runs[0].optimizer.momentum == doctest::Approx(0.9));
  CHECK(sweep.runs[0].seed == 1);
  CHECK(sweep.runs[1].seed == 2);
  CHECK(sweep.runs[2].optimizer.kind == OptimizerKind::adam);
  CHECK(sweep.runs[2].optimizer.learning_rate == doctest::Approx(0.001));
  CHECK(sweep.runs[2].optimizer.momentum == 0.0);
  CHECK(sweep.runs[4].optimizer.kind == OptimizerKind::rmsprop);
  CHECK(sweep.runs[6].architecture == "lenet-relu");
  CHECK(sweep.runs[29].architecture == "lenet5-relu");
  CHECK(sweep.runs[29].optimizer.kind == OptimizerKind::rmsprop);
  CHECK(sweep.runs[29].seed == 2);
}

TEST_CASE("config: seed-recipes expands to 15 runs with each recipe's settings") {
  const Sweep sweep = load_sweep(kSweeps / "seed-recipes.yaml");
  CHECK(sweep.name == "seed-recipes");
  REQUIRE(sweep.runs.size() == 15);
  // Published references: 5, the 1998 figure given as an error rate.
  REQUIRE(sweep.references.size() == 5);
  CHECK(sweep.references[0].architecture == "lenet5");
  CHECK(sweep.references[0].test_accuracy == doctest::Approx(1.0 - 0.0095));
  CHECK(sweep.references[0].required_test_accuracy == doctest::Approx(0.989));
  for (int i = 0; i < 15; ++i) CHECK(sweep.runs[i].seed == uint64_t(i % 3 + 1));

  const RunConfig& relu = sweep.runs[0];
  CHECK(relu.architecture == "lenet-relu");
  CHECK(relu.optimizer.kind == OptimizerKind::sgd);
  CHECK(relu.optimizer.learning_rate == doctest::Approx(0.01));
  CHECK(relu.optimizer.momentum == 0.0);
  CHECK(relu.batch_size == 128);
  CHECK(relu.epochs == 20);

  const RunConfig& bn = sweep.runs[3];
  CHECK(bn.architecture == "lenet5-bn");
  CHECK(bn.optimizer.kind == OptimizerKind::adam);
  CHECK(bn.optimizer.learning_rate == doctest::Approx(1e-3));
  CHECK(bn.batch_size == 64);
  CHECK(bn.epochs == 30);
  CHECK(bn.validation_split == doctest::Approx(0.2));

  const RunConfig& dropout = sweep.runs[6];
  CHECK(dropout.architecture == "lenet5-bn-dropout");
  CHECK(dropout.optimizer.kind == OptimizerKind::rmsprop);
  CHECK(dropout.optimizer.learning_rate == doctest::Approx(0.001));
  CHECK(dropout.epochs == 50);
  CHECK(dropout.validation_split == doctest::Approx(0.2));
  CHECK(dropout.early_stopping.enabled);
  CHECK(dropout.early_stopping.monitor == EarlyStoppingMonitor::val_accuracy);
  CHECK(dropout.early_stopping.patience == 5);
  CHECK(dropout.early_stopping.restore_best_weights);
  CHECK(dropout.early_stopping.mode == EarlyStoppingMode::automatic);

  const RunConfig& flux = sweep.runs[9];
  CHECK(flux.architecture == "lenet5-relu");
  CHECK(flux.optimizer.kind == OptimizerKind::adam);
  CHECK(flux.optimizer.learning_rate == doctest::Approx(3e-4));
  CHECK(flux.epochs == 20);
  CHECK(flux.batch_size == 64);
  CHECK_FALSE(flux.early_stopping.enabled);

  const RunConfig& lenet5 = sweep.runs[12];
  CHECK(lenet5.architecture == "lenet5");
  CHECK(lenet5.optimizer.kind == OptimizerKind::sgd);
  CHECK(lenet5.optimizer.momentum == doctest::Approx(0.9));
  CHECK(lenet5.arch.init == InitKind::lecun_uniform_1998);
  // One 10x step from epoch 11 (chosen on a validation split: sweeps/lenet5-validation.yaml).
  REQUIRE(lenet5.learning_rate_schedule.steps.size() == 1);
  CHECK(lenet5.learning_rate_schedule.factor(10) == 1.0);
  CHECK(lenet5.learning_rate_schedule.factor(11) == doctest::Approx(0.1));
  CHECK(lenet5.learning_rate_schedule.factor(20) == doctest::Approx(0.1));
}

TEST_CASE("config: lenet5-validation holds out 10,000 training images and tries 4 schedules") {
  const Sweep sweep = load_sweep(kSweeps / "lenet5-validation.yaml");
  REQUIRE(sweep.runs.size() == 4);
  for (const RunConfig& run : sweep.runs) {
    CHECK(run.architecture == "lenet5");
    CHECK(std::llround(run.validation_split * 60000) == 10000);
    CHECK(run.seed == 1);
  }
  CHECK(sweep.runs[0].learning_rate_schedule.empty());
  CHECK(sweep.runs[2].learning_rate_schedule.factor(11) == doctest::Approx(0.1));
}

TEST_CASE("config: lenet5-bn-seeds is the lenet5-bn seed recipe with seeds 4 to 10") {
  const Sweep recipes = load_sweep(kSweeps / "seed-recipes.yaml");
  const Sweep more = load_sweep(kSweeps / "lenet5-bn-seeds.yaml");
  const RunConfig* recipe = nullptr;
  for (const RunConfig& run : recipes.runs)
    if (run.architecture == "lenet5-bn" && run.seed == 1) recipe = &run;
  REQUIRE(recipe != nullptr);
  REQUIRE(more.runs.size() == 7);
  for (size_t i = 0; i < more.runs.size(); ++i) {
    CAPTURE(i);
    CHECK(more.runs[i].seed == 4 + i);
    nlohmann::json a = more.runs[i].to_json(), b = recipe->to_json();
    a.erase("seed");
    b.erase("seed");
    CHECK(a == b);  // every other setting, the architecture's text included
  }
}

TEST_CASE("config: optimizer-lr-sensitivity is 3 optimizers x 3 learning rates x 5 seeds") {
  const Sweep sweep = load_sweep(kSweeps / "optimizer-lr-sensitivity.yaml");
  REQUIRE(sweep.runs.size() == 45);
  CHECK(sweep.targets == std::vector<double>{0.95, 0.97});
  std::map<OptimizerKind, std::set<double>> rates;
  for (const RunConfig& run : sweep.runs) {
    CHECK(run.architecture == "lenet5-relu");
    rates[run.optimizer.kind].insert(run.optimizer.learning_rate);
  }
  CHECK(rates[OptimizerKind::sgd] == std::set<double>{0.003333, 0.01, 0.03});
  CHECK(rates[OptimizerKind::adam] == std::set<double>{0.0003333, 0.001, 0.003});
  CHECK(rates[OptimizerKind::rmsprop] == std::set<double>{0.0003333, 0.001, 0.003});
  CHECK(sweep.runs[0].optimizer.momentum == doctest::Approx(0.9));
}

// -------------------------------------------------------------------------------------------------
// Expansion semantics

TEST_CASE("config: a list inside an optimizer choice expands inside that choice only") {
  const Sweep sweep = parse_sweep(R"(name: conditional
base: {architecture: lenet5}
grid:
  optimizer: [{name: sgd, learning_rate: [0.1, 0.01]}, {name: adam}]
  seed: [1, 2]
)",
                                  "test.yaml");
  REQUIRE(sweep.runs.size() == 6);
  const double lr[] = {0.1, 0.1, 0.01, 0.01, 0.001, 0.001};
  const char* name[] = {"sgd", "sgd", "sgd", "sgd", "adam", "adam"};
  for (int i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(to_string(sweep.runs[i].optimizer.kind) == std::string(name[i]));
    CHECK(sweep.runs[i].optimizer.learning_rate == doctest::Approx(lr[i]));
    CHECK(sweep.runs[i].seed == uint64_t(i % 2 + 1));
  }
}

TEST_CASE("config: precedence: base < recipe < grid") {
  const Sweep sweep = parse_sweep(R"(name: precedence
base:
  architecture: lenet5
  epochs: 3
  batch_size: 32
  train_limit: 100
recipes:
  - {epochs: 4, batch_size: 16}
  - {architecture: lenet-relu, test_limit: [10, 20]}
grid:
  epochs: [5]
  shuffle: [true, false]
)",
                                  "test.yaml");
  // (1 + 2) recipe expansions x 2 grid choices, recipes outer.
  REQUIRE(sweep.runs.size() == 6);
  for (const RunConfig& run : sweep.runs) {
    CHECK(run.epochs == 5);  // grid beats recipe and base
    CHECK(run.train_limit == 100);
  }
  CHECK(sweep.runs[0].batch_size == 16);  // recipe beats base
  CHECK(sweep.runs[0].shuffle);
  CHECK_FALSE(sweep.runs[1].shuffle);
  CHECK(sweep.runs[2].batch_size == 32);
  CHECK(sweep.runs[2].architecture == "lenet-relu");
  CHECK(sweep.runs[2].arch.name == "lenet-relu");
  CHECK(sweep.runs[2].test_limit == 10);
  CHECK(sweep.runs[4].test_limit == 20);
  CHECK(sweep.runs[0].architecture == "lenet5");
}

TEST_CASE(
    "config: an optimizer chosen later does not inherit another optimizer's hyper-parameters") {
  const Sweep sweep = parse_sweep(R"(name: no-leak
base:
  architecture: lenet5
  optimizer: {name: sgd, learning_rate: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1.0e-4}
grid:
  optimizer: [adam, {name: rmsprop, rho: 0.8}]
)",
                                  "test.yaml");
  REQUIRE(sweep.runs.size() == 2);
  const OptimizerConfig& adam = sweep.runs[0].optimizer;
  CHECK(adam.kind == OptimizerKind::adam);
  CHECK(adam.learning_rate == doctest::Approx(0.001));
  CHECK(adam.momentum == 0.0);
  CHECK_FALSE(adam.nesterov);
  CHECK(adam.weight_decay == 0.0);
  const OptimizerConfig& rmsprop = sweep.runs[1].optimizer;
  CHECK(rmsprop.kind == OptimizerKind::rmsprop);
  CHECK(rmsprop.rho == doctest::Approx(0.8));
  CHECK(rmsprop.momentum == 0.0);
}

TEST_CASE("config: a separate learning_rate applies to whichever optimizer is chosen") {
  SUBCASE("base learning_rate, grid optimizer without one") {
    const Sweep sweep = parse_sweep(R"(name: lr
base: {architecture: lenet5, learning_rate: 0.02}
grid: {optimizer: [sgd, adam]}
)",
                                    "test.yaml");
    REQUIRE(sweep.runs.size() == 2);
    CHECK(sweep.runs[0].optimizer.learning_rate == doctest::Approx(0.02));
    CHECK(sweep.runs[1].optimizer.kind == OptimizerKind::adam);
    CHECK(sweep.runs[1].optimizer.learning_rate == doctest::Approx(0.02));
  }
  SUBCASE("grid learning_rate beats the base optimizer's") {
    const Sweep sweep = parse_sweep(R"(name: lr
base:
  architecture: lenet5
  optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.5}
grid:
  learning_rate: [0.3, 0.03]
)",
                                    "test.yaml");
    REQUIRE(sweep.runs.size() == 2);
    CHECK(sweep.runs[0].optimizer.learning_rate == doctest::Approx(0.3));
    CHECK(sweep.runs[0].optimizer.momentum == doctest::Approx(0.5));
    CHECK(sweep.runs[1].optimizer.learning_rate == doctest::Approx(0.03));
  }
  SUBCASE("a grid optimizer's own learning_rate beats the base learning_rate") {
    const Sweep sweep = parse_sweep(R"(name: lr
base: {architecture: lenet5, learning_rate: 0.5}
grid:
  optimizer: [{name: sgd, learning_rate: 0.1}]
)",
                                    "test.yaml");
    CHECK(sweep.runs.at(0).optimizer.learning_rate == doctest::Approx(0.1));
  }
  SUBCASE("both in the same layer is ambiguous") {
    const Caught e = sweep_error(R"(name: lr
base:
  architecture: lenet5
  optimizer: {name: sgd, learning_rate: 0.1}
  learning_rate: 0.2
)");
    CHECK(e.line == 5);
    CHECK(e.column == 3);
    CHECK(has(e.detail, "'learning_rate' is given both here and inside 'optimizer'"));
  }
  SUBCASE("defaults by name") {
    const Sweep sweep = parse_sweep(
        "name: d\nbase: {architecture: lenet5}\ngrid: {optimizer: [sgd, adam, rmsprop]}\n",
        "test.yaml");
    REQUIRE(sweep.runs.size() == 3);
    CHECK(sweep.runs[0].optimizer.learning_rate == doctest::Approx(0.01));
    CHECK(sweep.runs[1].optimizer.learning_rate == doctest::Approx(0.001));
    CHECK(sweep.runs[2].optimizer.learning_rate == doctest::Approx(0.001));
  }
}

TEST_CASE("config: settings without grid or recipes make one run, every setting is read") {
  const Sweep sweep = parse_sweep(R"(name: single
description: "one run"
dataset: "csv:train.csv,test.csv"
base:
  architecture: lenet-relu
  epochs: 7
  batch_size: 100
  seed: 18446744073709551615
  validation_split: 0.25
  shuffle: false
  drop_last: yes
  normalize: {mean: 0.1307, std: 0.3081}
  optimizer: {name: adam, learning_rate: 2e-3, beta_1: 0.8, beta_2: 0.99, epsilon: 1e-8, weight_decay: 0.01}
  early_stopping: {monitor: train_loss, patience: 2, min_delta: 0.001, mode: min}
  train_limit: 1000
  test_limit: 500
)",
                                  "test.yaml");
  REQUIRE(sweep.runs.size() == 1);
  const RunConfig& run = sweep.runs[0];
  CHECK(sweep.dataset == "csv:train.csv,test.csv");
  CHECK(run.dataset == "csv:train.csv,test.csv");
  CHECK(run.epochs == 7);
  CHECK(run.batch_size == 100);
  CHECK(run.seed == 18446744073709551615ull);
  CHECK(run.validation_split == doctest::Approx(0.25));
  CHECK_FALSE(run.shuffle);
  CHECK(run.drop_last);
  CHECK(run.normalize_mean == doctest::Approx(0.1307));
  CHECK(run.normalize_std == doctest::Approx(0.3081));
  CHECK(run.optimizer.kind == OptimizerKind::adam);
  CHECK(run.optimizer.learning_rate == doctest::Approx(2e-3));
  CHECK(run.optimizer.beta_1 == doctest::Approx(0.8));
  CHECK(run.optimizer.beta_2 == doctest::Approx(0.99));
  CHECK(run.optimizer.epsilon == doctest::Approx(1e-8));
  CHECK(run.optimizer.weight_decay == doctest::Approx(0.01));
  CHECK(run.early_stopping.enabled);
  CHECK(run.early_stopping.monitor == EarlyStoppingMonitor::train_loss);
  CHECK(run.early_stopping.patience == 2);
  CHECK(run.early_stopping.min_delta == doctest::Approx(0.001));
  CHECK(run.early_stopping.mode == EarlyStoppingMode::min);
  CHECK(run.train_limit == 1000);
  CHECK(run.test_limit == 500);
}

TEST_CASE("config: early_stopping: false in a later layer switches it off") {
  const Sweep sweep = parse_sweep(R"(name: es
base:
  architecture: lenet5
  validation_split: 0.1
  early_stopping: {monitor: val_loss, patience: 3}
grid:
  early_stopping: [false, true]
)",
                                  "test.yaml");
  REQUIRE(sweep.runs.size() == 2);
  CHECK_FALSE(sweep.runs[0].early_stopping.enabled);
  CHECK(sweep.runs[1].early_stopping.enabled);
  CHECK(sweep.runs[1].early_stopping.patience == 0);  // replaced whole: defaults
}

TEST_CASE("config: architectures by path and by search path") {
  SUBCASE("a relative .yaml path is resolved from the sweep file's directory") {
    const Sweep sweep = load_sweep(kFixtures / "relative-arch.yaml");
    REQUIRE(sweep.runs.size() == 2);
    CHECK(sweep.runs[0].architecture == "tiny-net.yaml");
    CHECK(sweep.runs[0].arch.name == "tiny-net");
    CHECK(fs::equivalent(sweep.runs[0].arch.file, kFixtures / "tiny-net.yaml"));
    CHECK(sweep.runs[1].arch.layers.size() == 5);
  }
  SUBCASE("LENETLAB_ARCH_PATH comes first") {
    const ScopedEnv env("LENETLAB_ARCH_PATH", "/nonexistent:" + kFixtures.string());
    const std::vector<fs::path> path = architecture_search_path();
    REQUIRE(path.size() >= 3);
    CHECK(path[0] == "/nonexistent");
    CHECK(path[1] == kFixtures);
    const std::vector<std::string> names = available_architectures();
    CHECK(std::find(names.begin(), names.end(), "tiny-net") != names.end());
    CHECK(std::find(names.begin(), names.end(), "lenet5") != names.end());
    const Sweep sweep = parse_sweep("name: s\nbase: {architecture: tiny-net}\n", "test.yaml");
    CHECK(sweep.runs.at(0).arch.name == "tiny-net");
  }
  SUBCASE("a missing architecture file") {
    const Caught e = sweep_error("name: s\nbase: {architecture: nowhere/missing.yaml}\n");
    CHECK(e.line == 2);
    CHECK(e.column == 22);
    CHECK(has(e.detail, "architecture file 'nowhere/missing.yaml' not found"));
  }
}

TEST_CASE("config: learning_rate_schedule: epochs -> factors, in the key only when set") {
  const Sweep sweep = parse_sweep(R"(name: schedule
base: {architecture: lenet5-relu, optimizer: {name: sgd, learning_rate: 0.01}}
recipes:
  - {seed: 1}
  - {seed: 1, learning_rate_schedule: {3: 0.4, 6: 0.2, 9: 0.1, 13: 0.02}}
)",
                                  "test.yaml");
  REQUIRE(sweep.runs.size() == 2);
  const RunConfig& constant = sweep.runs[0];
  const RunConfig& annealed = sweep.runs[1];
  CHECK(constant.learning_rate_schedule.empty());
  CHECK_FALSE(constant.to_json().contains("learning_rate_schedule"));  // old keys stay valid
  const std::vector<std::pair<int, double>> steps = {{3, 0.4}, {6, 0.2}, {9, 0.1}, {13, 0.02}};
  CHECK(annealed.learning_rate_schedule.steps == steps);
  // LeCun et al. 1998 sec. V-A: passes 1-2, 3-5, 6-8, 9-12, 13+.
  const double factors[] = {1, 1, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.02, 0.02};
  for (int epoch = 1; epoch <= 14; ++epoch) {
    CAPTURE(epoch);
    CHECK(annealed.learning_rate_schedule.factor(epoch) == factors[epoch - 1]);
    CHECK(constant.learning_rate_schedule.factor(epoch) == 1.0);
  }
  CHECK(annealed.key() != constant.key());
  const RunConfig back = RunConfig::from_json(annealed.to_json(), "stored");
  CHECK(back.learning_rate_schedule.steps == steps);
  CHECK(back.key() == annealed.key());

  const std::string head =
      "name: s\nbase: {architecture: lenet5-relu}\nrecipes:\n  - {seed: 1, "
      "learning_rate_schedule: ";
  const Caught decreasing = sweep_error(head + "{5: 0.5, 3: 0.1}}\n");
  CHECK(decreasing.line == 4);
  CHECK(decreasing.detail.find("epochs must increase: 3 comes after 5") != std::string::npos);
  const Caught zero_epoch = sweep_error(head + "{0: 0.5}}\n");
  CHECK(zero_epoch.line == 4);
  CHECK(zero_epoch.detail.find("positive integer") != std::string::npos);
  const Caught negative = sweep_error(head + "{2: -1}}\n");
  CHECK(negative.line == 4);
  CHECK(negative.detail.find("learning_rate_schedule factor") != std::string::npos);
  const Caught list = sweep_error(head + "0.5}\n");
  CHECK(list.detail.find("expected a mapping for 'learning_rate_schedule'") != std::string::npos);
}

TEST_CASE("config: run keys identify configurations") {
  const Sweep sweep = parse_sweep(R"(name: keys
base: {architecture: lenet5, seed: 1}
grid:
  optimizer: [{name: sgd, momentum: 0.9}, {name: sgd, momentum: 0.8}]
)",
                                  "test.yaml");
  const Sweep again = parse_sweep(sweep.yaml, "elsewhere.yaml");
  REQUIRE(sweep.runs.size() == 2);
  CHECK(sweep.runs[0].key() == again.runs[0].key());
  CHECK(sweep.runs[1].key() == again.runs[1].key());
  CHECK(sweep.runs[0].key() != sweep.runs[1].key());
  CHECK(sweep.runs[0].key().size() == 16);
}

}  // namespace
}  // namespace lenetlab
