// Architecture files (config/architecture_loader): the shipped architectures, options and
// defaults, and the position (line:column) and wording of every kind of architecture error.
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

}  // namespace
}  // namespace lenetlab
