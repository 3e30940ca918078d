// Sweep errors (config/sweep_loader): the position (line:column) and wording of every kind of
// sweep error, the run limit checked before expansion, and references.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "config_test_util.hpp"

namespace lenetlab {
namespace {

using namespace config_test;

// -------------------------------------------------------------------------------------------------
// Sweep errors: each at the offending node

TEST_CASE("config: sweep errors name the position and the valid choices") {
  SUBCASE("YAML syntax error") {
    const Caught e = sweep_error("name: s\nbase:\n  epochs: 3\n   batch_size: 4\n");
    CHECK(e.line == 4);
    CHECK(e.column == 14);
    CHECK(has(e.detail, "YAML syntax error"));
  }
  SUBCASE("unknown top-level key") {
    const Caught e = sweep_error("name: s\ngird:\n  seed: [1, 2]\n");
    CHECK(e.line == 2);
    CHECK(e.column == 1);
    CHECK(has(e.detail,
              "unknown key 'gird' in sweep; valid keys: name, description, dataset, base, grid, "
              "recipes, references, search, space, targets, protocol; did you mean 'grid'?"));
  }
  SUBCASE("unknown optimizer key with a suggestion") {
    const Caught e = sweep_error(
        "name: s\nbase:\n  architecture: lenet5\n  optimizer: {name: sgd, lerning_rate: 0.1}\n");
    CHECK(e.line == 4);
    CHECK(e.column == 26);
    CHECK(has(e.detail,
              "unknown key 'lerning_rate' in optimizer; valid keys: name, learning_rate, momentum, "
              "nesterov, weight_decay; did you mean 'learning_rate'?"));
  }
  SUBCASE("hyper-parameter of another optimizer") {
    const Caught e = sweep_error(
        "name: s\nbase:\n  architecture: lenet5\n  optimizer: {name: adam, momentum: 0.9}\n");
    CHECK(e.line == 4);
    CHECK(e.column == 27);
    CHECK(has(e.detail,
              "'momentum' does not apply to adam; valid keys for adam: name, learning_rate, "
              "beta_1, beta_2, epsilon, weight_decay"));
  }
  SUBCASE("unknown architecture") {
    const Caught e = sweep_error("name: s\ngrid:\n  architecture: [lenet5, lenet6]\n");
    CHECK(e.line == 3);
    CHECK(e.column == 26);
    CHECK(has(e.detail, "unknown architecture 'lenet6'"));
    CHECK(has(e.detail, "lenet5"));
    CHECK(has(e.detail, "lenet-relu"));
  }
  SUBCASE("unknown optimizer name") {
    const Caught e =
        sweep_error("name: s\nbase: {architecture: lenet5}\ngrid:\n  optimizer: [sgd, adamw]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 20);
    CHECK(has(e.detail, "unknown optimizer 'adamw'; valid choices: sgd, adam, rmsprop"));
  }
  SUBCASE("optimizer mapping without a name") {
    const Caught e =
        sweep_error("name: s\nbase:\n  architecture: lenet5\n  optimizer: {learning_rate: 0.1}\n");
    CHECK(e.line == 4);
    CHECK(e.column == 14);
    CHECK(has(e.detail, "needs 'name'"));
  }
  SUBCASE("negative epochs") {
    const Caught e = sweep_error("name: s\nbase:\n  architecture: lenet5\n  epochs: -3\n");
    CHECK(e.line == 4);
    CHECK(e.column == 11);
    CHECK(e.detail == "expected a positive integer for 'epochs', found '-3'");
  }
  SUBCASE("epochs not a number") {
    const Caught e = sweep_error("name: s\nbase:\n  architecture: lenet5\n  epochs: abc\n");
    CHECK(e.line == 4);
    CHECK(e.column == 11);
    CHECK(e.detail == "expected a positive integer for 'epochs', found 'abc'");
  }
  SUBCASE("learning_rate 0") {
    const Caught e =
        sweep_error("name: s\nbase: {architecture: lenet5}\ngrid:\n  learning_rate: [0.1, 0]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 24);
    CHECK(e.detail == "expected a positive number for 'learning_rate', found '0'");
  }
  SUBCASE("validation_split 1.0") {
    const Caught e =
        sweep_error("name: s\nbase:\n  architecture: lenet5\n  validation_split: 1.0\n");
    CHECK(e.line == 4);
    CHECK(e.column == 21);
    CHECK(e.detail == "expected a number in [0, 1) for 'validation_split', found '1.0'");
  }
  SUBCASE("empty grid list") {
    const Caught e =
        sweep_error("name: s\nbase: {architecture: lenet5}\ngrid:\n  epochs: [1, 2]\n  seed: []\n");
    CHECK(e.line == 5);
    CHECK(e.column == 9);
    CHECK(has(e.detail, "empty list of choices for 'seed'"));
  }
  SUBCASE("nested lists") {
    const Caught e =
        sweep_error("name: s\nbase: {architecture: lenet5}\ngrid:\n  seed: [1, [2, 3]]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 13);
    CHECK(has(e.detail, "a list inside a list"));
  }
  SUBCASE("a list in base") {
    const Caught e = sweep_error("name: s\nbase:\n  architecture: lenet5\n  seed: [1, 2]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 9);
    CHECK(has(e.detail, "lists of choices belong in 'grid' or 'recipes'"));
  }
  SUBCASE("duplicate key") {
    const Caught e = sweep_error(
        "name: s\nbase:\n  architecture: lenet5\n  epochs: 3\n  batch_size: 8\n  epochs: 4\n");
    CHECK(e.line == 6);
    CHECK(e.column == 3);
    CHECK(e.detail == "duplicate key 'epochs' (first given at line 4)");
  }
  SUBCASE("duplicate key in a flow mapping of the grid") {
    const Caught e = sweep_error(
        "name: s\nbase: {architecture: lenet5}\ngrid:\n  optimizer: [{name: sgd, name: adam}]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 27);
    CHECK(has(e.detail, "duplicate key 'name'"));
  }
  SUBCASE("early stopping on val_accuracy without a validation split") {
    const Caught e = sweep_error(R"(name: s
base:
  architecture: lenet5
  early_stopping:
    monitor: val_accuracy
    patience: 3
)");
    CHECK(e.line == 5);
    CHECK(e.column == 14);
    CHECK(has(e.detail, "early_stopping monitors 'val_accuracy' but validation_split is 0"));
  }
  SUBCASE("early stopping's default monitor is val_loss") {
    const Caught e =
        sweep_error("name: s\nbase:\n  architecture: lenet5\n  early_stopping: {patience: 3}\n");
    CHECK(e.line == 4);
    CHECK(e.column == 19);
    CHECK(has(e.detail, "monitors 'val_loss'"));
  }
  SUBCASE("nesterov without momentum") {
    const Caught e = sweep_error(
        "name: s\nbase:\n  architecture: lenet5\n  optimizer: {name: sgd, nesterov: true}\n");
    CHECK(e.line == 4);
    CHECK(e.column == 36);
    CHECK(has(e.detail, "nesterov needs momentum > 0"));
  }
  SUBCASE("no architecture") {
    const Caught e = sweep_error("name: s\ngrid:\n  seed: [1, 2]\n");
    CHECK(e.line == 1);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "no architecture"));
  }
  SUBCASE("identical runs") {
    const Caught e =
        sweep_error("name: s\nbase: {architecture: lenet5}\ngrid:\n  seed: [1, 2, 1]\n");
    CHECK(e.line == 4);
    CHECK(e.column == 3);
    CHECK(has(e.detail, "runs 1 and 3 are identical"));
  }
  SUBCASE("missing name") {
    const Caught e = sweep_error("\n# comment\nbase: {architecture: lenet5}\n");
    CHECK(e.line == 3);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "missing required key 'name'"));
  }
  SUBCASE("invalid name") {
    const Caught e = sweep_error("name: my sweep\n");
    CHECK(e.line == 1);
    CHECK(e.column == 7);
    CHECK(has(e.detail, "invalid sweep name 'my sweep'"));
  }
  SUBCASE("unknown dataset") {
    const Caught e = sweep_error("name: s\ndataset: cifar10\n");
    CHECK(e.line == 2);
    CHECK(e.column == 10);
    CHECK(has(e.detail, "unknown dataset 'cifar10'; valid choices: mnist, fashion-mnist, csv:"));
  }
  SUBCASE("recipe that is not a mapping") {
    const Caught e = sweep_error("name: s\nrecipes:\n  - lenet5\n");
    CHECK(e.line == 3);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "expected a mapping of settings for recipe"));
  }
  SUBCASE("unknown setting in a recipe") {
    const Caught e = sweep_error("name: s\nrecipes:\n  - {architecture: lenet5, epoch: 3}\n");
    CHECK(e.line == 3);
    CHECK(e.column == 28);
    CHECK(has(e.detail, "unknown key 'epoch' in recipe"));
    CHECK(has(e.detail, "did you mean 'epochs'?"));
  }
  SUBCASE("aliases are refused") {
    const Caught e =
        sweep_error("name: s\nbase: &b\n  architecture: lenet5\ngrid:\n  epochs: [1, *b]\n");
    CHECK(e.line == 5);
    CHECK(e.column == 15);
    CHECK(has(e.detail, "aliases"));
  }
  SUBCASE("empty file") {
    const Caught e = sweep_error("");
    CHECK(e.line == 1);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "empty file"));
  }
  SUBCASE("not a mapping") {
    const Caught e = sweep_error("- name: s\n");
    CHECK(e.line == 1);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "expected a mapping of keys at the top level, found a list"));
  }
  SUBCASE("two documents") {
    const Caught e = sweep_error("name: s\n---\nname: t\n");
    CHECK(e.line == 2);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "second YAML document"));
  }
  SUBCASE("file too large") {
    const Caught e = sweep_error("name: s\n" + std::string(std::size_t{1} << 20, '#'));
    CHECK(has(e.detail, "file too large"));
  }
  SUBCASE("missing file") {
    try {
      load_sweep(kFixtures / "no-such-sweep.yaml");
      FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
      CHECK(has(e.what(), "no-such-sweep.yaml"));
      CHECK(e.mark().line == 0);
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Run limit

/// A grid of `keys` x `per_key` choices: epochs, batch_size, seed, ... each 1..per_key.
std::string big_grid(int keys, int per_key) {
  const char* names[] = {"epochs", "batch_size", "seed", "train_limit", "test_limit"};
  std::string text = "name: big\nbase: {architecture: lenet-relu}\ngrid:\n";
  for (int k = 0; k < keys; ++k) {
    text += std::string("  ") + names[k] + ": [";
    for (int i = 1; i <= per_key; ++i) text += (i > 1 ? ", " : "") + std::to_string(i);
    text += "]\n";
  }
  return text;
}

TEST_CASE("config: the run limit is checked before expansion") {
  SUBCASE("10^9 runs are refused at once") {
    const Caught e = sweep_error(big_grid(3, 1000));
    CHECK(e.line == 4);
    CHECK(e.column == 3);
    CHECK(has(e.detail,
              "sweep expands to 1000000000 runs, more than the limit 10000; pass --force "
              "to run it anyway"));
  }
  SUBCASE("counts saturate instead of overflowing") {
    // 14 lists of 30 values: 30^14 > 2^63.
    std::string list = "[1";
    for (int i = 2; i <= 30; ++i) list += ", " + std::to_string(i);
    list += "]";
    std::string text = "name: big\nbase: {architecture: lenet5}\ngrid:\n";
    for (const char* key :
         {"epochs", "batch_size", "seed", "train_limit", "test_limit", "learning_rate"}) {
      text += std::string("  ") + key + ": " + list + "\n";
    }
    text += "  optimizer: {name: adam, beta_1: L, beta_2: L, epsilon: L, weight_decay: L}\n";
    text += "  normalize: {mean: L, std: L}\n  early_stopping: {patience: L, min_delta: L}\n";
    for (std::size_t at = text.find(" L"); at != std::string::npos; at = text.find(" L", at)) {
      text.replace(at + 1, 1, list);
    }
    const Caught e = sweep_error(text);
    CHECK(e.line == 4);
    CHECK(has(e.detail, "sweep expands to more than 9223372036854775807 runs"));
  }
  SUBCASE("recipes count too") {
    const Caught e = sweep_error(
        "name: s\nrecipes:\n  - {architecture: lenet5, seed: [1, 2, 3]}\n  - {architecture: "
        "lenet5-bn}\n",
        SweepOptions{3, false});
    CHECK(e.line == 3);
    CHECK(e.column == 3);
    CHECK(has(e.detail, "sweep expands to 4 runs, more than the limit 3"));
  }
  SUBCASE("force lifts the limit") {
    const std::string text = big_grid(0, 0) + "  seed: [" + [] {
      std::string seeds;
      for (int i = 0; i < 2000; ++i) seeds += (i > 0 ? ", " : "") + std::to_string(i);
      return seeds;
    }() + "]\n";
    CHECK(has(sweep_error(text, SweepOptions{1000, false}).detail, "2000 runs"));
    const Sweep sweep = parse_sweep(text, "test.yaml", SweepOptions{1000, true});
    CHECK(sweep.runs.size() == 2000);
    CHECK(sweep.runs[1999].seed == 1999);
  }
}

TEST_CASE("config: references need an architecture and a figure and change no run key") {
  using lenetlab::ConfigError;
  using lenetlab::parse_sweep;
  using lenetlab::Sweep;
  const std::string head = "name: r\nbase: {architecture: lenet5-relu}\n";
  const Sweep plain = parse_sweep(head, "r.yaml");
  const Sweep with = parse_sweep(
      head + "references:\n  - {architecture: lenet5-relu, test_accuracy: 0.9, source: x}\n",
      "r.yaml");
  REQUIRE(with.references.size() == 1);
  CHECK(with.runs.at(0).key() == plain.runs.at(0).key());
  try {
    parse_sweep(head + "references:\n  - {source: x, test_accuracy: 0.9}\n", "r.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.mark().line == 4);
    CHECK(std::string(e.what()).find("needs 'architecture'") != std::string::npos);
  }
  try {
    parse_sweep(head + "references:\n  - {architecture: lenet5, test_accuracy: 99}\n", "r.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.mark().line == 4);
    CHECK(std::string(e.what()).find("[0, 1)") != std::string::npos);
  }
}

TEST_CASE("config: targets are increasing validation accuracies up to 1 and change no run") {
  const std::string head = "name: t\nbase: {architecture: lenet5-relu, validation_split: 0.1}\n";
  const Sweep plain = parse_sweep(head, "t.yaml");
  const Sweep with = parse_sweep(head + "targets: [0.97, 0.985, 1]\n", "t.yaml");
  CHECK(plain.targets.empty());
  CHECK(with.targets == std::vector<double>{0.97, 0.985, 1.0});
  REQUIRE(with.runs.size() == 1);
  CHECK(with.runs[0].key() == plain.runs[0].key());
  CHECK(with.runs[0].to_json() == plain.runs[0].to_json());
  // The stored text alone gives the same targets, without expanding the sweep.
  CHECK(parse_sweep_targets(with.yaml, "stored") == with.targets);
  CHECK(parse_sweep_targets(plain.yaml, "stored").empty());
  const struct {
    const char* value;
    int column;
    const char* message;
  } bad[] = {
      {"0.98", 10, "expected a non-empty list of target validation accuracies in (0, 1]"},
      {"[]", 10, "expected a non-empty list"},
      {"[0.9, 0]", 16, "expected a validation accuracy in (0, 1] for 'targets', found '0'"},
      {"[0.9, 1.5]", 16, "expected a validation accuracy in (0, 1] for 'targets', found '1.5'"},
      {"[0.9, high]", 16, "expected a number"},
      {"[0.99, 0.98]", 17, "'targets' must increase, each value once: 0.98 after 0.99"},
      {"[0.98, 0.98]", 17, "'targets' must increase, each value once"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.value);
    const Caught e = sweep_error(head + "targets: " + b.value + "\n");
    CHECK(e.line == 3);
    CHECK(e.column == b.column);
    CHECK(has(e.detail, b.message));
    try {
      parse_sweep_targets(head + "targets: " + b.value + "\n", "stored");
      FAIL("expected a ConfigError");
    } catch (const ConfigError& c) {
      CHECK(c.mark().line == 3);
      CHECK(std::string(c.what()).rfind("stored:3:", 0) == 0);
    }
  }
}

}  // namespace
}  // namespace lenetlab
