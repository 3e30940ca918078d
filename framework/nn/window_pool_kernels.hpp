// The loops of WindowPool (window_pool.hpp), written once over a vector type V and included by one
// translation unit per instruction set, each with its own LENETLAB_WINDOW_NS so that nothing here
// is shared between them (an AVX-512 copy of a function must never be what the SSE2 path calls).
// Only WindowPool's fields are read here, none of its inline member functions.
//
// V provides: R (a register of W floats), M (a lane mask), load/store (unaligned), set1, zero,
// add, sub, mul, gt / eq (ordered, quiet: false on NaN, as SSE's cmpgt / cmpeq), select(m, a, b)
// (a where m, else b). Only IEEE adds, subtracts, multiplies and exact selects, never a fused
// multiply-add (both files are compiled with -ffp-contract=off): each lane computes what the scalar
// code or oneDNN computes for its element.
#ifndef LENETLAB_WINDOW_NS
#error "define LENETLAB_WINDOW_NS before including window_pool_kernels.hpp"
#endif

#include <cstdint>

#include "nn/window_pool.hpp"

namespace lenetlab {
namespace LENETLAB_WINDOW_NS {
namespace {

int blocks_of(const WindowPool& m) { return (m.channels + m.block - 1) / m.block; }

/// f(i, cb) for every image i and channel block cb, images across the OpenMP threads.
template <typename F>
void for_each_block(const WindowPool& m, int n, F f) {
  const int nb = blocks_of(m);
  const bool parallel = int64_t{n} * m.channels * m.in_h * m.in_w >= m.parallel_elements;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < n; ++i)
    for (int cb = 0; cb < nb; ++cb) f(i, cb);
}

int64_t argmax_offset(const WindowPool& m, int64_t i, int cb) {
  return (i * blocks_of(m) + cb) * m.out_h * m.out_w * m.block;
}

/// The scaled tanh's derivative lane by lane: dy * S * (A - y * y * (1 / A)), the operations of
/// scaled_tanh_backward() in its order.
template <class V>
typename V::R scaled_tanh_backward(typename V::R dy, typename V::R y) {
  return V::mul(V::mul(dy, V::set1(kScaledTanhS)),
                V::sub(V::set1(kScaledTanhA), V::mul(V::mul(y, y), V::set1(1.0f / kScaledTanhA))));
}

/// An element of the pooling's src as the kernels use it: x, or with m.src_scale (a scaled tanh's
/// A, whose pass the pooling took over) A x + 0, what oneDNN's eltwise linear computes (a fused
/// multiply-add with beta = +0: the same bits, since A x never rounds to zero for x != 0, and
/// -0 + 0 = +0 either way).
template <class V>
typename V::R load_src(const WindowPool& m, const float* p) {
  if (m.src_scale == 0.0f) return V::load(p);
  return V::add(V::mul(V::set1(m.src_scale), V::load(p)), V::zero());
}

/// Stores an element of the average pooling's dst: y, or with m.dst_scale (a scaled tanh's S, whose
/// first pass the pooling took over) S y + 0, as load_src() computes A x + 0.
template <class V>
void store_dst(const WindowPool& m, float* p, typename V::R y) {
  if (m.dst_scale != 0.0f) y = V::add(V::mul(V::set1(m.dst_scale), y), V::zero());
  V::store(p, y);
}

// L = channels per block (8 or 16), a multiple of V::W: a whole block at a time.

template <class V, int L>
void max_forward(const WindowPool& m, int n, const float* x, float* y, float* argmax) {
  const ChannelPlanes &xs = m.src_planes, &ys = m.dst_planes;
  const int k = m.k;
  for_each_block(m, n, [&](int64_t i, int cb) {
    const float* xb = x + i * xs.n_stride + cb * xs.block_stride;
    float* yb = y + i * ys.n_stride + cb * ys.block_stride;
    float* ab = argmax != nullptr ? argmax + argmax_offset(m, i, cb) : nullptr;
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int64_t ow = 0; ow < m.out_w; ++ow) {
        const int64_t j0 = oh * k * m.in_w + ow * k, j = oh * m.out_w + ow;
        for (int c = 0; c < L; c += V::W) {
          typename V::R best = V::load(xb + j0 * xs.j_stride + c), at = V::zero();
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw) {
              const typename V::R v = V::load(xb + (j0 + kh * m.in_w + kw) * xs.j_stride + c);
              const typename V::M greater = V::gt(v, best);  // the first maximum stays
              best = V::select(greater, v, best);
              at = V::select(greater, V::set1(float(kh * k + kw)), at);
            }
          V::store(yb + j * ys.j_stride + c, best);
          if (ab != nullptr) V::store(ab + j * L + c, at);
        }
      }
  });
}

template <class V, int L>
void max_backward(const WindowPool& m, int n, const float* argmax, const float* dy, float* dx,
                  const float* relu_dst) {
  const ChannelPlanes &ys = m.dst_planes, &xs = m.diff_src_planes;
  const int64_t k = m.k;
  for_each_block(m, n, [&](int64_t i, int cb) {
    const float* dyb = dy + i * ys.n_stride + cb * ys.block_stride;
    float* dxb = dx + i * xs.n_stride + cb * xs.block_stride;
    const float* ab = argmax + argmax_offset(m, i, cb);
    const float* yb =
        relu_dst != nullptr ? relu_dst + i * ys.n_stride + cb * ys.block_stride : nullptr;
    for (int64_t h = 0; h < m.in_h; ++h)
      for (int64_t w = 0; w < m.in_w; ++w) {
        float* d = dxb + (h * m.in_w + w) * xs.j_stride;
        const int64_t oh = h / k, ow = w / k;
        if (oh >= m.out_h || ow >= m.out_w) {  // beyond the last whole window
          for (int c = 0; c < L; c += V::W) V::store(d + c, V::zero());
          continue;
        }
        const typename V::R here = V::set1(float((h % k) * k + w % k));
        const float* at = ab + (oh * m.out_w + ow) * L;
        const float* g = dyb + (oh * m.out_w + ow) * ys.j_stride;
        for (int c = 0; c < L; c += V::W) {
          typename V::R gradient = V::load(g + c);
          if (yb != nullptr) {
            const float* y = yb + (oh * m.out_w + ow) * ys.j_stride + c;
            gradient =
                V::select(V::gt(V::load(y), V::zero()), gradient, V::mul(gradient, V::zero()));
          }
          V::store(d + c, V::select(V::eq(V::load(at + c), here), gradient, V::zero()));
        }
      }
  });
}

/// Sets the elements of a block's diff_src outside every window (rows and columns beyond the last
/// whole window) to zero, or with `tanh_before` (that block of the scaled tanh's dst) to the
/// tanh's derivative applied to a zero gradient.
template <class V, int L>
void zero_outside_windows(const WindowPool& m, float* dxb, const float* tanh_before) {
  const ChannelPlanes &xs = m.diff_src_planes, &ys = m.src_planes;
  for (int64_t h = 0; h < m.in_h; ++h)
    for (int64_t w = (h < m.out_h * m.k ? m.out_w * m.k : 0); w < m.in_w; ++w) {
      float* d = dxb + (h * m.in_w + w) * xs.j_stride;
      for (int c = 0; c < L; c += V::W) {
        typename V::R v = V::zero();
        if (tanh_before != nullptr)
          v = scaled_tanh_backward<V>(
              v, load_src<V>(m, tanh_before + (h * m.in_w + w) * ys.j_stride + c));
        V::store(d + c, v);
      }
    }
}

template <class V, int L>
void avg_forward(const WindowPool& m, int n, const float* x, float* pooled, float* y,
                 const float* a, const float* b) {
  const ChannelPlanes &xs = m.src_planes, &ys = m.dst_planes;
  const int k = m.k;
  const typename V::R scale = V::set1(1.0f / float(k * k));
  for_each_block(m, n, [&](int64_t i, int cb) {
    const float* xb = x + i * xs.n_stride + cb * xs.block_stride;
    const int64_t yo = i * ys.n_stride + cb * ys.block_stride;
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int64_t ow = 0; ow < m.out_w; ++ow) {
        const int64_t j0 = oh * k * m.in_w + ow * k, at = yo + (oh * m.out_w + ow) * ys.j_stride;
        for (int c = 0; c < L; c += V::W) {
          typename V::R sum = V::zero();
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw)
              sum = V::add(sum, load_src<V>(m, xb + (j0 + kh * m.in_w + kw) * xs.j_stride + c));
          const typename V::R average = V::mul(sum, scale);
          if (a == nullptr) {
            store_dst<V>(m, y + at + c, average);
            continue;
          }
          V::store(pooled + at + c, average);
          const int channel = cb * L + c;
          store_dst<V>(m, y + at + c,
                       V::add(V::mul(V::load(a + channel), average), V::load(b + channel)));
        }
      }
  });
}

template <class V, int L>
void avg_backward(const WindowPool& m, int n, const float* dy, const float* pooled, const float* a,
                  float* dx, float* sums, const float* tanh_before, const float* tanh_after) {
  const ChannelPlanes &ys = m.dst_planes, &xs = m.diff_src_planes, &ts = m.src_planes;
  const int k = m.k;
  const typename V::R scale = V::set1(1.0f / float(k * k));
  const int64_t cp = int64_t{blocks_of(m)} * L;
  for_each_block(m, n, [&](int64_t i, int cb) {
    float* dxb = dx + i * xs.n_stride + cb * xs.block_stride;
    const float* tb =
        tanh_before != nullptr ? tanh_before + i * ts.n_stride + cb * ts.block_stride : nullptr;
    const int64_t yo = i * ys.n_stride + cb * ys.block_stride;
    float* sa = a != nullptr ? sums + 2 * i * cp + cb * L : nullptr;
    float* sb = a != nullptr ? sa + cp : nullptr;
    if (a != nullptr)
      for (int c = 0; c < L; c += V::W) {
        V::store(sa + c, V::zero());
        V::store(sb + c, V::zero());
      }
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int64_t ow = 0; ow < m.out_w; ++ow) {
        const int64_t j0 = oh * k * m.in_w + ow * k, at = yo + (oh * m.out_w + ow) * ys.j_stride;
        for (int c = 0; c < L; c += V::W) {
          typename V::R g = V::load(dy + at + c);
          if (tanh_after != nullptr) g = scaled_tanh_backward<V>(g, V::load(tanh_after + at + c));
          if (a != nullptr) {
            V::store(sa + c, V::add(V::load(sa + c), V::mul(g, V::load(pooled + at + c))));
            V::store(sb + c, V::add(V::load(sb + c), g));
            g = V::mul(V::load(a + cb * L + c), g);
          }
          const typename V::R d = V::add(V::zero(), V::mul(g, scale));
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw) {
              const int64_t j = j0 + kh * m.in_w + kw;
              typename V::R v = d;
              if (tb != nullptr)
                v = scaled_tanh_backward<V>(d, load_src<V>(m, tb + j * ts.j_stride + c));
              V::store(dxb + j * xs.j_stride + c, v);
            }
        }
      }
    zero_outside_windows<V, L>(m, dxb, tb);
  });
}

}  // namespace
}  // namespace LENETLAB_WINDOW_NS
}  // namespace lenetlab
