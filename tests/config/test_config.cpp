// Tests of config/yaml_loader: the shipped architectures and sweeps, sweep expansion semantics, and
// the position (line:column) and wording of every kind of configuration error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml_loader.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = LENETLAB_SOURCE_DIR;
const fs::path kArchitectures = kSource / "experiments" / "architectures";
const fs::path kSweeps = kSource / "sweeps";
const fs::path kFixtures = kSource / "tests" / "config" / "fixtures";

/// What a failed load reported (line/column 0 when nothing was thrown).
struct Caught {
  std::string message;  // what(), "file:line:column: detail"
  std::string detail;
  int line = 0;
  int column = 0;
};

Caught caught(const ConfigError& e) {
  return Caught{e.what(), e.detail(), e.mark().line, e.mark().column};
}

Caught sweep_error(const std::string& text, const SweepOptions& options = {}) {
  try {
    parse_sweep(text, "test.yaml", options);
  } catch (const ConfigError& e) {
    return caught(e);
  }
  return Caught{"<no error>", "<no error>", 0, 0};
}

Caught arch_error(const std::string& text) {
  try {
    parse_architecture(text, "arch.yaml");
  } catch (const ConfigError& e) {
    return caught(e);
  }
  return Caught{"<no error>", "<no error>", 0, 0};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<LayerKind> kinds(const ArchSpec& arch) {
  std::vector<LayerKind> out;
  for (const LayerSpec& layer : arch.layers) out.push_back(layer.kind);
  return out;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A valid architecture body: `extra` layers go before the classifier head.
std::string arch_with(const std::string& layers) {
  return "name: t\n"
         "input: {channels: 1, height: 28, width: 28}\n"
         "layers:\n" +
         layers;
}

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using K = LayerKind;

// -------------------------------------------------------------------------------------------------
// Shipped architectures

TEST_CASE("config: the five shipped architectures load with the right layers") {
  const std::vector<std::string> names = available_architectures();
  for (const char* name :
       {"lenet5", "lenet-relu", "lenet5-bn", "lenet5-bn-dropout", "lenet5-relu"}) {
    CAPTURE(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    const fs::path file = find_architecture(name, SourceMark{"test"});
    CHECK(file == kArchitectures / (std::string(name) + ".yaml"));
  }

  SUBCASE("lenet5: tanh, trainable subsampling, C3 partial connectivity") {
    const fs::path file = kArchitectures / "lenet5.yaml";
    const ArchSpec arch = load_architecture(file);
    CHECK(arch.name == "lenet5");
    CHECK(arch.file == file.string());
    CHECK(arch.yaml == read(file));
    CHECK(arch.input_channels == 1);
    CHECK(arch.input_height == 32);
    CHECK(arch.input_width == 32);
    CHECK(arch.num_classes == 10);
    CHECK(arch.init == InitKind::lecun_uniform_1998);
    CHECK(kinds(arch) == std::vector<K>{K::conv, K::activation, K::pool, K::activation, K::conv,
                                        K::activation, K::pool, K::activation, K::flatten, K::dense,
                                        K::activation, K::dense, K::activation, K::dense,
                                        K::softmax});
    const LayerSpec& s2 = arch.layers[2];
    CHECK_FALSE(s2.pool_max);
    CHECK(s2.pool_trainable);
    CHECK(s2.kernel == 2);
    CHECK(s2.stride == 2);
    CHECK(arch.layers[1].activation == ActivationKind::scaled_tanh);
    const LayerSpec& c3 = arch.layers[4];
    CHECK(c3.filters == 16);
    CHECK(c3.kernel == 5);
    CHECK(c3.padding == 0);
    REQUIRE(c3.connection_map.size() == 16);
    const int connections =
        std::accumulate(c3.connection_map.begin(), c3.connection_map.end(), 0,
                        [](int sum, const std::vector<int>& in) { return sum + int(in.size()); });
    CHECK(connections == 60);
    CHECK(c3.connection_map[15] == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(arch.layers[0].connection_map.empty());
    CHECK(arch.layers[13].units == 10);
    // Marks point at the layer items (line of "  - conv: {filters: 6, kernel: 5}", column of
    // 'conv').
    int conv_line = 0;  // the file's comment header may grow: find the line
    {
      std::ifstream in(file);
      std::string line;
      for (int i = 1; std::getline(in, line); ++i)
        if (line.rfind("  - conv: {filters: 6, kernel: 5}", 0) == 0) conv_line = i;
    }
    REQUIRE(conv_line > 0);
    CHECK(arch.layers[0].mark.line == conv_line);
    CHECK(arch.layers[0].mark.column == 5);
    CHECK(arch.layers[0].mark.file == file.string());
  }

  SUBCASE("lenet-relu: same padding, 500-unit dense") {
    const ArchSpec arch = load_architecture(kArchitectures / "lenet-relu.yaml");
    CHECK(kinds(arch) == std::vector<K>{K::conv, K::activation, K::pool, K::conv, K::activation,
                                        K::pool, K::flatten, K::dense, K::activation, K::dense,
                                        K::softmax});
    CHECK(arch.layers[0].filters == 20);
    CHECK(arch.layers[0].padding == 2);
    CHECK(arch.layers[0].stride == 1);
    CHECK(arch.layers[3].filters == 50);
    CHECK(arch.layers[2].pool_max);
    CHECK(arch.layers[7].units == 500);
    CHECK(arch.init == InitKind::glorot_uniform);
    CHECK_FALSE(arch.layers[0].has_init);
  }

  SUBCASE("lenet5-bn: batch norm with Keras defaults") {
    const ArchSpec arch = load_architecture(kArchitectures / "lenet5-bn.yaml");
    CHECK(arch.layers.size() == 19);
    int batch_norms = 0;
    for (const LayerSpec& layer : arch.layers) {
      if (layer.kind != K::batch_norm) continue;
      ++batch_norms;
      CHECK(layer.bn_momentum == doctest::Approx(0.99));
      CHECK(layer.bn_epsilon == doctest::Approx(1e-3));
    }
    CHECK(batch_norms == 6);
    CHECK_FALSE(arch.layers[3].pool_max);
    CHECK_FALSE(arch.layers[3].pool_trainable);
  }

  SUBCASE("lenet5-bn-dropout: dropout rates") {
    const ArchSpec arch = load_architecture(kArchitectures / "lenet5-bn-dropout.yaml");
    CHECK(arch.layers.size() == 17);
    CHECK(arch.layers[4].kind == K::dropout);
    CHECK(arch.layers[4].rate == doctest::Approx(0.1));
    CHECK(arch.layers[9].kind == K::dropout);
    CHECK(arch.layers[9].rate == doctest::Approx(0.3));
  }

  SUBCASE("lenet5-relu: valid convolutions, max pooling") {
    const ArchSpec arch = load_architecture(kArchitectures / "lenet5-relu.yaml");
    CHECK(kinds(arch) == std::vector<K>{K::conv, K::activation, K::pool, K::conv, K::activation,
                                        K::pool, K::flatten, K::dense, K::activation, K::dense,
                                        K::activation, K::dense, K::softmax});
    CHECK(arch.layers[0].padding == 0);
    CHECK(arch.layers[3].filters == 16);
  }
}

TEST_CASE("config: architecture options and defaults") {
  const ArchSpec arch = parse_architecture(
      arch_with(R"(  - conv: {filters: 4, kernel: 3, stride: 2, padding: 1, init: he_uniform}
  - pool: {type: max, size: 3, stride: 1}
  - batch_norm: {momentum: 0.9, epsilon: 1.0e-5}
  - dropout: {rate: 0.25}
  - flatten
  - dense: {units: 10, init: kaiming_uniform_torch}
  - softmax
)"),
      "arch.yaml");
  CHECK(arch.num_classes == 10);
  CHECK(arch.layers[0].stride == 2);
  CHECK(arch.layers[0].padding == 1);
  CHECK(arch.layers[0].has_init);
  CHECK(arch.layers[0].init == InitKind::he_uniform);
  CHECK(arch.layers[1].kernel == 3);
  CHECK(arch.layers[1].stride == 1);
  CHECK(arch.layers[2].bn_momentum == doctest::Approx(0.9));
  CHECK(arch.layers[2].bn_epsilon == doctest::Approx(1e-5));
  CHECK(arch.layers[3].rate == doctest::Approx(0.25));
  CHECK(arch.layers[5].init == InitKind::kaiming_uniform_torch);
  CHECK(arch.layers[6].mark.line == 10);
  CHECK(arch.layers[6].mark.column == 5);
}

// -------------------------------------------------------------------------------------------------
// Architecture errors: each at the offending node

TEST_CASE("config: architecture errors name the position and the valid choices") {
  SUBCASE("unknown layer kind") {
    const Caught e =
        arch_error(arch_with("  - flatten\n  - fully_connected: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 5);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "unknown layer kind 'fully_connected'"));
    CHECK(has(e.detail, "conv, pool, activation, batch_norm, dropout, flatten, dense, softmax"));
    CHECK(e.message.rfind("arch.yaml:5:5: ", 0) == 0);
  }
  SUBCASE("near-miss layer kind gets a suggestion") {
    const Caught e = arch_error(arch_with("  - flaten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "did you mean 'flatten'?"));
  }
  SUBCASE("softmax not last") {
    const Caught e = arch_error(
        arch_with("  - flatten\n  - dense: {units: 10}\n  - softmax\n  - activation: relu\n"));
    CHECK(e.line == 6);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "softmax must be the last layer"));
  }
  SUBCASE("no softmax at the end") {
    const Caught e = arch_error(arch_with("  - flatten\n  - dense: {units: 10}\n"));
    CHECK(e.line == 5);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "the last layer must be softmax"));
  }
  SUBCASE("missing dense before softmax") {
    const Caught e = arch_error(
        arch_with("  - flatten\n  - dense: {units: 10}\n  - activation: relu\n  - softmax\n"));
    CHECK(e.line == 7);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "softmax must directly follow a dense layer with num_classes (10) units"));
    CHECK(has(e.detail, "found 'activation' before it"));
  }
  SUBCASE("output units differ from num_classes") {
    const Caught e = arch_error(
        "name: t\nnum_classes: 26\nlayers:\n  - flatten\n  - dense: {units: 10}\n  - softmax\n");
    CHECK(e.line == 5);
    CHECK(e.column == 20);
    CHECK(has(e.detail, "has 10 units but num_classes is 26"));
  }
  SUBCASE("pool type median") {
    const Caught e = arch_error(arch_with(
        "  - pool: {type: median, size: 2}\n  - flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 18);
    CHECK(has(e.detail, "unknown pool type 'median'; valid choices: max, avg"));
  }
  SUBCASE("trainable max pooling") {
    const Caught e =
        arch_error(arch_with("  - pool: {type: max, size: 2, trainable: true}\n  - flatten\n  - "
                             "dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 43);
    CHECK(has(e.detail, "average pooling only"));
  }
  SUBCASE("same padding with an even kernel") {
    const Caught e =
        arch_error(arch_with("  - conv: {filters: 2, kernel: 4, padding: same}\n  - flatten\n  - "
                             "dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 44);
    CHECK(has(e.detail, "needs an odd kernel"));
  }
  SUBCASE("unknown conv key with suggestion") {
    const Caught e = arch_error(arch_with(
        "  - conv: {filters: 2, kernal: 5}\n  - flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 24);
    CHECK(has(e.detail,
              "unknown key 'kernal' in conv; valid keys: filters, kernel, stride, padding, "
              "connection_map, init; did you mean 'kernel'?"));
  }
  SUBCASE("conv without kernel") {
    const Caught e = arch_error(
        arch_with("  - conv: {filters: 2}\n  - flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 11);
    CHECK(has(e.detail, "conv needs 'kernel'"));
  }
  SUBCASE("empty connection_map entry") {
    const Caught e =
        arch_error(arch_with("  - conv: {filters: 2, kernel: 5, connection_map: [[0], []]}\n  - "
                             "flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 57);
    CHECK(has(e.detail, "non-empty list of input channel indices"));
  }
  SUBCASE("negative channel in connection_map") {
    const Caught e =
        arch_error(arch_with("  - conv: {filters: 2, kernel: 5, connection_map: [[0], [-1]]}\n  - "
                             "flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 58);
    CHECK(has(e.detail, "expected a non-negative integer for 'connection_map', found '-1'"));
  }
  SUBCASE("two keys in one layer item (bad indentation)") {
    const Caught e =
        arch_error(arch_with("  - conv: {filters: 2, kernel: 5}\n    activation: relu\n  - "
                             "flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 5);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "found a second key 'activation'"));
  }
  SUBCASE("dropout rate 1") {
    const Caught e = arch_error(
        arch_with("  - dropout: 1.0\n  - flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 14);
    CHECK(has(e.detail, "expected a number in [0, 1) for 'dropout', found '1.0'"));
  }
  SUBCASE("layer kind that needs parameters written plain") {
    const Caught e =
        arch_error(arch_with("  - conv\n  - flatten\n  - dense: {units: 10}\n  - softmax\n"));
    CHECK(e.line == 4);
    CHECK(e.column == 5);
    CHECK(has(e.detail, "layer 'conv' needs parameters"));
  }
  SUBCASE("unknown initializer") {
    const Caught e = arch_error(
        "name: t\ninit: xavier\nlayers:\n  - flatten\n  - dense: {units: 10}\n  - softmax\n");
    CHECK(e.line == 2);
    CHECK(e.column == 7);
    CHECK(has(e.detail, "glorot_uniform, he_uniform, lecun_uniform_1998, kaiming_uniform_torch"));
  }
  SUBCASE("missing layers") {
    const Caught e = arch_error("name: t\ninit: he_uniform\n");
    CHECK(e.line == 1);
    CHECK(e.column == 1);
    CHECK(has(e.detail, "missing required key 'layers'"));
  }
}

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
              "recipes, references; did you mean 'grid'?"));
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

}  // namespace
}  // namespace lenetlab

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
