// Per-layer forward and backward benchmarks at the shapes of the shipped architectures: the network
// is built from experiments/architectures/<name>.yaml, one full training step fills every layer's
// inputs and gradients, then only layer->forward (training mode) or layer->backward of the layer of
// interest is timed.
//
// Counters: images/s (batch images per iteration, wall time) and, for convolution and dense layers,
// GFLOP/s = 2 x MACs x images/s / 1e9, where the forward counts Layer::macs() per image and the
// backward counts backward-weights (1x forward) plus backward-data (1x forward) except for a first
// layer, which computes no backward-data (nn/layer.hpp).
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "nn/network.hpp"

namespace lenetlab::benchsuite {

namespace {

struct LayerCase {
  const char* architecture;
  const char* layer;  ///< Network's layer name: kind + 1-based count of that kind, e.g. "conv2".
};

// Convolutions, the big dense layer, both pooling kinds, batch norm (4-D and 2-D), the hand-written
// parts (scaled tanh backward, trainable pooling, C3 mask, dropout).
const std::vector<LayerCase> kCases = {
    {"lenet-relu", "conv1"},      {"lenet-relu", "conv2"},
    {"lenet-relu", "pool1"},      {"lenet-relu", "dense1"},
    {"lenet5-relu", "conv1"},     {"lenet5-relu", "conv2"},
    {"lenet5-relu", "pool1"},     {"lenet5-relu", "dense1"},
    {"lenet5-bn", "batch_norm1"}, {"lenet5-bn", "batch_norm3"},
    {"lenet5-bn", "batch_norm5"}, {"lenet5-bn", "pool1"},
    {"lenet5", "conv2"},          {"lenet5", "pool1"},
    {"lenet5", "activation1"},    {"lenet5-bn-dropout", "dropout1"},
};

void layer_benchmark(benchmark::State& state, const LayerCase& c, bool backward) {
  const int batch = static_cast<int>(state.range(0)), threads = static_cast<int>(state.range(1));
  BenchSession& s = session(c.architecture, batch, threads);
  Network& net = s.network();
  Context& ctx = net.context();
  const auto& layers = net.layers();
  size_t index = 0;
  while (index < layers.size() && layers[index]->name() != c.layer) ++index;
  if (index == layers.size()) {
    state.SkipWithError((std::string("no layer ") + c.layer + " in " + c.architecture).c_str());
    return;
  }
  Layer& layer = *layers[index];
  auto run = [&] {
    if (backward)
      layer.backward(ctx, batch);
    else
      layer.forward(ctx, batch, true);
  };
  for (int i = 0; i < 5; ++i) run();
  for (auto _ : state) run();

  const double images = double(state.iterations()) * batch;
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  if (layer.macs() > 0) {
    const double factor = backward ? (index == 0 ? 1.0 : 2.0) : 1.0;
    state.counters["GFLOP/s"] = benchmark::Counter(
        2.0 * factor * double(layer.macs()) * images / 1e9, benchmark::Counter::kIsRate);
  }
}

}  // namespace

void register_layer_benchmarks() {
  for (const LayerCase& c : kCases)
    for (const bool backward : {false, true}) {
      const std::string name = std::string("layer/") + c.architecture + "/" + c.layer + "/" +
                               (backward ? "backward" : "forward");
      apply_common_args(benchmark::RegisterBenchmark(
          name.c_str(),
          [c, backward](benchmark::State& state) { layer_benchmark(state, c, backward); }));
    }
}

}  // namespace lenetlab::benchsuite
