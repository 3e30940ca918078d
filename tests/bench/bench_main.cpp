// lenetlab_benchmarks: Google Benchmark suite of the training engine (ctest runs it once, briefly:
// tests/bench/CMakeLists.txt).
//   build/<preset>/tests/bench/lenetlab_benchmarks --benchmark_filter='layer/lenet-relu/.*'
// The context block records oneDNN version, ISA, compiler, build flags and commit with the results.
#include <omp.h>

#include "bench_common.hpp"
#include "config/yaml_loader.hpp"
#include "core/environment.hpp"

namespace lenetlab::benchsuite {

namespace {

struct Cached {
  std::string architecture;
  int batch_size = 0;
  int threads = 0;
  std::unique_ptr<BenchSession> session;
};

}  // namespace

const Dataset& dataset() {
  static const Dataset data = synthetic_dataset(4096, 0, 1);
  return data;
}

BenchSession& session(const std::string& architecture, int batch_size, int threads) {
  static Cached cached;
  omp_set_num_threads(
      threads);  // before any primitive of this session is created, and for its runs
  if (cached.session && cached.architecture == architecture && cached.batch_size == batch_size &&
      cached.threads == threads)
    return *cached.session;
  cached.session.reset();
  const ArchSpec arch =
      load_architecture(find_architecture(architecture, SourceMark{"benchmark", 0, 0}));
  cached = Cached{architecture, batch_size, threads,
                  std::make_unique<BenchSession>(arch, dataset(), batch_size, 1)};
  for (int i = 0; i < 3; ++i) cached.session->train_step();
  for (int i = 0; i < 3; ++i) cached.session->infer_step();
  return *cached.session;
}

void apply_common_args(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{64, 128}, {1, 2}})->ArgNames({"batch", "threads"})->UseRealTime();
}

}  // namespace lenetlab::benchsuite

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const lenetlab::Environment env = lenetlab::capture_environment(1);
  benchmark::AddCustomContext("onednn", env.onednn_version);
  benchmark::AddCustomContext("isa", env.isa);
  benchmark::AddCustomContext("compiler", env.compiler);
  benchmark::AddCustomContext("build_type", env.build_type);
  benchmark::AddCustomContext("build_flags", lenetlab::bench_build_flags());
  benchmark::AddCustomContext("git_commit", env.git_commit);
  lenetlab::benchsuite::register_layer_benchmarks();
  lenetlab::benchsuite::register_training_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
