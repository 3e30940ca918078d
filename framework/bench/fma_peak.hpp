// The machine's measured fp32 fused multiply-add peak: the ceiling that `lenetlab bench`'s GFLOP/s
// column is read against (the "compute roof" of the Roofline model, Williams, Waterman and
// Patterson 2009, CACM 52(4), sec. 2), measured rather than computed from a data sheet because the
// clock under load, the number of FMA units and how a core executes 512-bit vectors vary by CPU.
#pragma once

#include <string>
#include <vector>

namespace lenetlab {

/// One measurement of the FMA loop on `threads` threads.
struct FmaPeak {
  std::string kernel;  ///< "avx512f", "avx2+fma" or "sse (mul+add)": the widest this CPU runs
  int threads = 0;     ///< concurrent threads, each running the loop
  double gflops = 0;   ///< whole-machine GFLOP/s: 2 flops per lane per FMA, best repetition
  double gflops_per_thread = 0;  ///< gflops / threads
};

/// Runs the FMA loop on `threads` threads (each: 16 independent vector accumulators, so that the
/// FMA latency is hidden on up to 2 units of 4-8 cycles' latency) for `repetitions` timed groups of
/// about `seconds` each after one untimed group, and returns the best group's rate. Pure register
/// work: no memory traffic, so this is an upper bound no layer can reach.
/// Throws std::invalid_argument when threads < 1, repetitions < 1 or seconds <= 0.
FmaPeak measure_fma_peak(int threads, int repetitions = 5, double seconds = 0.2);

/// measure_fma_peak for each thread count, in order.
std::vector<FmaPeak> measure_fma_peaks(const std::vector<int>& threads);

}  // namespace lenetlab
