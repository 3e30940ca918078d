// The FMA peak loop (fma_peak.hpp). Each kernel keeps kAccumulators vector registers busy with
// independent a = a * m + c chains (m, c constants close to 1 and 0 so the values stay finite).
#include "bench/fma_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace lenetlab {

namespace {

constexpr int kAccumulators = 16;
constexpr int64_t kInner = 1024;  // FMA rounds between loop-counter checks

using Clock = std::chrono::steady_clock;

__attribute__((target("avx512f"))) float fma_rounds_avx512(int64_t rounds) {
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  return lanes[0] + lanes[15];
}

__attribute__((target("avx2,fma"))) float fma_rounds_avx2(int64_t rounds) {
  __m256 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  float lanes[8];
  __m256 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(lanes, sum);
  return lanes[0] + lanes[7];
}

float fma_rounds_sse(int64_t rounds) {
  __m128 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm_set1_ps(0.001f * static_cast<float>(i));
  const __m128 m = _mm_set1_ps(0.999999f), c = _mm_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], m), c);
  return _mm_cvtss_f32(acc[0]) + _mm_cvtss_f32(acc[kAccumulators - 1]);
}

struct Kernel {
  const char* name;
  int lanes;
  float (*rounds)(int64_t);
};

Kernel widest_kernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", 16, fma_rounds_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2+fma", 8, fma_rounds_avx2};
  return {"sse (mul+add)", 4, fma_rounds_sse};
}

/// Rounds one thread runs in about `seconds`, from a short calibration.
int64_t calibrate(const Kernel& k, double seconds) {
  int64_t rounds = kInner;
  for (;;) {
    const auto t0 = Clock::now();
    volatile float sink = k.rounds(rounds);
    (void)sink;
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (dt > 0.02 || rounds > (int64_t{1} << 40))
      return std::max<int64_t>(kInner, static_cast<int64_t>(rounds * seconds / std::max(dt, 1e-9)));
    rounds *= 4;
  }
}

/// Seconds for `threads` threads to each run `rounds` rounds, started together.
double timed_group(const Kernel& k, int threads, int64_t rounds) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      volatile float sink = k.rounds(rounds);
      (void)sink;
    });
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& th : pool) th.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

FmaPeak measure_fma_peak(int threads, int repetitions, double seconds) {
  if (threads < 1 || repetitions < 1 || !(seconds > 0))
    throw std::invalid_argument(
        "measure_fma_peak: threads and repetitions must be >= 1, seconds > 0");
  const Kernel k = widest_kernel();
  const int64_t rounds = calibrate(k, seconds);
  const double flops = 2.0 * k.lanes * kAccumulators * static_cast<double>(rounds) * threads;
  timed_group(k, threads, rounds);  // untimed: clocks settle
  double best = 0;
  for (int r = 0; r < repetitions; ++r)
    best = std::max(best, flops / timed_group(k, threads, rounds) / 1e9);
  return {k.name, threads, best, best / threads};
}

std::vector<FmaPeak> measure_fma_peaks(const std::vector<int>& threads) {
  std::vector<FmaPeak> out;
  for (int t : threads) out.push_back(measure_fma_peak(t));
  return out;
}

}  // namespace lenetlab
