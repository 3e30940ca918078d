// libFuzzer target: lenetlab::parse_bench_matrix on arbitrary bytes (ci/fuzz.sh runs it, seeded
// with experiments/bench/). It goes through config's YAML reader, as sweeps and architectures do.
// A ConfigError is the expected answer to bad input; any other exception escaping, a crash, a
// sanitizer report or a hang is a bug. Architecture names resolve on the search path, as in
// fuzz_sweep_yaml, so the target needs no file on disk.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/bench.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const lenetlab::BenchMatrix m = lenetlab::parse_bench_matrix(text, "fuzz/matrix.yaml");
    // What a successful parse promises: non-empty lists of positive sizes and thread counts.
    if (m.batch_sizes.empty() || m.threads.empty() || m.steps < 1 || m.repetitions < 1)
      __builtin_trap();
    for (const int b : m.batch_sizes)
      if (b < 1) __builtin_trap();
    for (const int t : m.threads)
      if (t < 1) __builtin_trap();
  } catch (const lenetlab::ConfigError&) {
  }
  return 0;
}
