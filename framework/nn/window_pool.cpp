// WindowPool's SSE2 kernels (the x86-64 baseline) and the choice of instruction set.
#include "nn/window_pool.hpp"

#include <immintrin.h>

#define LENETLAB_WINDOW_NS window_sse2
#include "nn/window_pool_kernels.hpp"

namespace lenetlab {

namespace window_avx512 {
// window_pool_avx512.cpp: the same kernels on 16-channel blocks with AVX-512 registers.
void max_forward(const WindowPool& m, int n, const float* x, float* y, float* argmax);
void max_backward(const WindowPool& m, int n, const float* argmax, const float* dy, float* dx,
                  const float* relu_dst);
void avg_forward(const WindowPool& m, int n, const float* x, float* pooled, float* y,
                 const float* a, const float* b);
void avg_backward(const WindowPool& m, int n, const float* dy, const float* pooled, const float* a,
                  float* dx, float* sums, const float* tanh_before, const float* tanh_after);
}  // namespace window_avx512

namespace {

/// Four lanes of SSE2; a mask is all ones / all zeros per lane.
struct Sse2 {
  using R = __m128;
  using M = __m128;
  static constexpr int W = 4;
  static R load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, R v) { _mm_storeu_ps(p, v); }
  static R set1(float v) { return _mm_set1_ps(v); }
  static R zero() { return _mm_setzero_ps(); }
  static R add(R a, R b) { return _mm_add_ps(a, b); }
  static R sub(R a, R b) { return _mm_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm_mul_ps(a, b); }
  static M gt(R a, R b) { return _mm_cmpgt_ps(a, b); }
  static M eq(R a, R b) { return _mm_cmpeq_ps(a, b); }
  static R select(M m, R a, R b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
  static R gather(const float* p, int64_t stride, int count) {
    alignas(16) float v[W] = {};
    for (int l = 0; l < W && l < count; ++l) v[l] = p[l * stride];
    return _mm_load_ps(v);
  }
  static void scatter(float* p, int64_t stride, int count, R x) {
    alignas(16) float v[W];
    _mm_store_ps(v, x);
    for (int l = 0; l < W && l < count; ++l) p[l * stride] = v[l];
  }
};

bool cpu_has_avx512() { return __builtin_cpu_supports("avx512f"); }

bool use_avx512(const WindowPool& m) { return m.block == 16 && m.isa == WindowIsa::avx512; }

}  // namespace

bool window_isa_supported(WindowIsa isa) { return isa == WindowIsa::sse2 || cpu_has_avx512(); }

WindowIsa best_window_isa() { return cpu_has_avx512() ? WindowIsa::avx512 : WindowIsa::sse2; }

void WindowPool::forward(int n, const float* x, float* y, float* argmax) const {
  if (use_avx512(*this)) return window_avx512::max_forward(*this, n, x, y, argmax);
  if (block == 16) return window_sse2::max_forward<Sse2, 16>(*this, n, x, y, argmax);
  window_sse2::max_forward<Sse2, 8>(*this, n, x, y, argmax);
}

void WindowPool::backward(int n, const float* argmax, const float* dy, float* dx,
                          const float* relu_dst) const {
  if (use_avx512(*this)) return window_avx512::max_backward(*this, n, argmax, dy, dx, relu_dst);
  if (block == 16) return window_sse2::max_backward<Sse2, 16>(*this, n, argmax, dy, dx, relu_dst);
  window_sse2::max_backward<Sse2, 8>(*this, n, argmax, dy, dx, relu_dst);
}

void WindowPool::avg_forward(int n, const float* x, float* pooled, float* y, const float* a,
                             const float* b) const {
  if (use_avx512(*this)) return window_avx512::avg_forward(*this, n, x, pooled, y, a, b);
  if (block == 16) return window_sse2::avg_forward<Sse2, 16>(*this, n, x, pooled, y, a, b);
  window_sse2::avg_forward<Sse2, 8>(*this, n, x, pooled, y, a, b);
}

void WindowPool::avg_backward(int n, const float* dy, const float* pooled, const float* a,
                              float* dx, float* sums, const float* tanh_before,
                              const float* tanh_after) const {
  if (use_avx512(*this))
    return window_avx512::avg_backward(*this, n, dy, pooled, a, dx, sums, tanh_before, tanh_after);
  if (block == 16)
    return window_sse2::avg_backward<Sse2, 16>(*this, n, dy, pooled, a, dx, sums, tanh_before,
                                               tanh_after);
  window_sse2::avg_backward<Sse2, 8>(*this, n, dy, pooled, a, dx, sums, tanh_before, tanh_after);
}

}  // namespace lenetlab
