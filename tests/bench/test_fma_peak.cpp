// framework/bench/fma_peak: the FMA loop picks the widest kernel the CPU runs, gives a rate in a
// physically possible range, and refuses bad arguments.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "bench/fma_peak.hpp"

using namespace lenetlab;

TEST_CASE("the FMA peak runs the widest kernel this CPU supports") {
  __builtin_cpu_init();
  const FmaPeak p = measure_fma_peak(1, 1, 0.02);
  if (__builtin_cpu_supports("avx512f"))
    CHECK(p.kernel == "avx512f");
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    CHECK(p.kernel == "avx2+fma");
  else
    CHECK(p.kernel == "sse (mul+add)");
  CHECK(p.threads == 1);
  CHECK(p.gflops == doctest::Approx(p.gflops_per_thread));
}

TEST_CASE("the FMA peak is in a physically possible range") {
  // Lower bound: 1 GFLOP/s, below any x86-64 core since SSE (4 lanes, 2 flops, ~1 GHz, even when
  // shared with a loaded machine's other work for a second). Upper bound: 2 flops x 16 lanes x
  // 2 FMA units x 6 GHz = 384 GFLOP/s per thread, above any shipping core.
  const FmaPeak p = measure_fma_peak(2, 2, 0.02);
  CHECK(p.threads == 2);
  CHECK(p.gflops_per_thread > 1.0);
  CHECK(p.gflops_per_thread < 384.0);
  CHECK(p.gflops == doctest::Approx(2 * p.gflops_per_thread));
}

TEST_CASE("the FMA peak refuses bad arguments") {
  CHECK_THROWS_AS(measure_fma_peak(0), std::invalid_argument);
  CHECK_THROWS_AS(measure_fma_peak(1, 0), std::invalid_argument);
  CHECK_THROWS_AS(measure_fma_peak(1, 1, 0.0), std::invalid_argument);
}
