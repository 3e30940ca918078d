// When the engine's own element-wise loops (activations, dropout, the poolings' sums, the
// optimizers' updates) run across the run's OpenMP threads. One constant, shared by nn/ and
// optim/, so that neither includes the other for it.
#pragma once

#include <cstdint>

namespace lenetlab {

/// Element count from which such a loop runs across the run's OpenMP threads (`#pragma omp
/// parallel for ... if (count >= kParallelElements)`); below it, starting the threads costs more
/// than the loop (about 10 us on 2 cores). Changing it changes no value: every loop gives each
/// element to exactly one thread and no reduction depends on the split.
constexpr int64_t kParallelElements = int64_t{1} << 14;

}  // namespace lenetlab
