// arch_cost: the figures of a built Network (engine) from the shapes alone, for every shipped
// architecture, the partial connectivity of LeNet-5's C3 and a padded, strided convolution.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "config/architecture_loader.hpp"
#include "config/search_path.hpp"
#include "nn/network.hpp"

namespace lenetlab {
namespace {

void check_against_network(const ArchSpec& arch) {
  CAPTURE(arch.file);
  const ArchCost cost = arch_cost(arch);
  const Network network(arch, 0);
  CHECK(cost.macs_per_image == network.macs_per_image());
  CHECK(cost.parameters == network.parameter_count());
  CHECK(cost.macs_per_image > 0);
}

TEST_CASE("arch_cost: equals Network's MACs and parameter count on the shipped architectures") {
  const std::vector<std::string> names = available_architectures();
  REQUIRE(names.size() >= 5);
  for (const std::string& name : names) {
    check_against_network(load_architecture(find_architecture(name, SourceMark{"test"})));
  }
}

TEST_CASE("arch_cost: masked weights, padding, stride, trainable pooling and batch norm") {
  const ArchSpec arch = parse_architecture(R"(name: cost-net
input: {channels: 2, height: 11, width: 9}
layers:
  - conv: {filters: 3, kernel: 3, stride: 2, padding: 1, connection_map: [[0], [1], [0, 1]]}
  - batch_norm
  - pool: {type: avg, size: 2, trainable: true}
  - activation: tanh
  - flatten
  - dense: {units: 7}
  - dropout: 0.5
  - dense: {units: 10}
  - softmax
)",
                                           "cost-net.yaml");
  // conv: 4 connected (output, input) pairs x 9 taps x (6 x 5) positions; pool to (3, 3, 2); dense: 18 x 7 + 7 x 10.
  const ArchCost cost = arch_cost(arch);
  CHECK(cost.macs_per_image == 4 * 9 * 6 * 5 + 18 * 7 + 7 * 10);
  CHECK(cost.parameters == (4 * 9 + 3) + 4 * 3 + 2 * 3 + (18 + 1) * 7 + (7 + 1) * 10);
  check_against_network(arch);
}

TEST_CASE("arch_cost: a layer that does not fit throws at its mark") {
  ArchSpec arch = parse_architecture(R"(name: fits
input: {channels: 1, height: 8, width: 8}
layers:
  - conv: {filters: 2, kernel: 3}
  - flatten
  - dense: {units: 10}
  - softmax
)",
                                     "fits.yaml");
  arch.layers[0].kernel = 9;
  try {
    arch_cost(arch);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.mark().line == 4);
    CHECK(std::string(e.what()).find("kernel 9 with padding 0 does not fit the input (1, 8, 8)") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace lenetlab
