// Whole-step benchmarks per shipped architecture: a training step (input fill from a shuffled
// index, forward in training mode, softmax cross-entropy with gradient, backward, SGD update) and
// an inference step (input fill, forward in inference mode), as `lenetlab bench` measures them.
//
// Counters: images/s (wall time) and GFLOP/s = 2 x MACs x images/s / 1e9 with
// Network::macs_per_image() forward MACs per image; a training step counts 3x the forward
// (backward-data and backward-weights each as much as the forward; the first layer skips
// backward-data, so this slightly overstates it).
#include "bench_common.hpp"
#include "nn/network.hpp"

namespace lenetlab::benchsuite {

namespace {

const char* const kArchitectures[] = {"lenet5", "lenet-relu", "lenet5-bn", "lenet5-bn-dropout",
                                      "lenet5-relu"};

void step_benchmark(benchmark::State& state, const std::string& architecture, bool training) {
  const int batch = static_cast<int>(state.range(0)), threads = static_cast<int>(state.range(1));
  BenchSession& s = session(architecture, batch, threads);
  for (auto _ : state) {
    if (training)
      s.train_step();
    else
      s.infer_step();
  }
  const double images = double(state.iterations()) * batch;
  const double flops_per_image =
      2.0 * (training ? 3.0 : 1.0) * double(s.network().macs_per_image());
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_image * images / 1e9, benchmark::Counter::kIsRate);
}

}  // namespace

void register_training_benchmarks() {
  for (const char* arch : kArchitectures)
    for (const bool training : {true, false}) {
      const std::string name = std::string(training ? "train_step/" : "infer_step/") + arch;
      const std::string a = arch;
      apply_common_args(benchmark::RegisterBenchmark(
          name.c_str(),
          [a, training](benchmark::State& state) { step_benchmark(state, a, training); }));
    }
}

}  // namespace lenetlab::benchsuite
