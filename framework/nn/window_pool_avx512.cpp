// WindowPool's kernels on 16-channel blocks with AVX-512 registers: one register per pixel of a
// block. Compiled with -mavx512f (framework/nn/CMakeLists.txt) and called only when the CPU has
// AVX512F (window_pool.cpp). Includes nothing but intrinsics and the kernels, whose code is all
// local to this file.
#include <immintrin.h>

#define LENETLAB_WINDOW_NS window_avx512_kernels
#include "nn/window_pool_kernels.hpp"

namespace lenetlab {
namespace {

/// Sixteen lanes of AVX-512F; a mask is one bit per lane.
struct Avx512 {
  using R = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R set1(float v) { return _mm512_set1_ps(v); }
  static R zero() { return _mm512_setzero_ps(); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static M gt(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M eq(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static R select(M m, R a, R b) { return _mm512_mask_blend_ps(m, b, a); }
  /// Lanes l < count of p[l * stride]; stride * 15 fits an int32 (PoolLayer checks).
  static __m512i lanes(int64_t stride) {
    return _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi32(static_cast<int>(stride)));
  }
  static M first(int count) {
    return count >= W ? M(0xFFFF) : count <= 0 ? M(0) : M((1u << count) - 1);
  }
  static R gather(const float* p, int64_t stride, int count) {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), first(count), lanes(stride), p, 4);
  }
  static void scatter(float* p, int64_t stride, int count, R x) {
    _mm512_mask_i32scatter_ps(p, first(count), lanes(stride), x, 4);
  }
};

}  // namespace

namespace window_avx512 {

void max_forward(const WindowPool& m, int n, const float* x, float* y, float* argmax) {
  window_avx512_kernels::max_forward<Avx512, 16>(m, n, x, y, argmax);
}
void max_backward(const WindowPool& m, int n, const float* argmax, const float* dy, float* dx,
                  const float* relu_dst) {
  window_avx512_kernels::max_backward<Avx512, 16>(m, n, argmax, dy, dx, relu_dst);
}
void avg_forward(const WindowPool& m, int n, const float* x, float* pooled, float* y,
                 const float* a, const float* b) {
  window_avx512_kernels::avg_forward<Avx512, 16>(m, n, x, pooled, y, a, b);
}
void avg_backward(const WindowPool& m, int n, const float* dy, const float* pooled, const float* a,
                  float* dx, float* sums, const float* tanh_before, const float* tanh_after) {
  window_avx512_kernels::avg_backward<Avx512, 16>(m, n, dy, pooled, a, dx, sums, tanh_before,
                                                  tanh_after);
}

}  // namespace window_avx512
}  // namespace lenetlab
