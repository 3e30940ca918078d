// Shared pieces of the Google Benchmark suite (lenetlab_benchmarks): the synthetic dataset and a
// one-entry cache of warmed-up BenchSessions, so that the repeated calls Google Benchmark makes to
// a benchmark function with the same arguments reuse one network instead of rebuilding it.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench.hpp"

namespace lenetlab::benchsuite {

/// 4,096 training images of random pixels (bench.hpp synthetic_dataset): same sizes and per-image
/// costs as MNIST, so the suite needs no dataset files.
const Dataset& dataset();

/// Sets the calling thread's OpenMP thread count, then returns the session for (architecture name,
/// batch size, threads), building it and running 3 training and 3 inference steps (oneDNN notes:
/// the first execution of a primitive is ~6x slower) when the previous call used another key.
BenchSession& session(const std::string& architecture, int batch_size, int threads);

/// Batch sizes x OpenMP threads every benchmark runs with (arguments "batch" and "threads").
void apply_common_args(benchmark::internal::Benchmark* b);

void register_layer_benchmarks();     // bench_layers.cpp
void register_training_benchmarks();  // bench_training.cpp

}  // namespace lenetlab::benchsuite
