// The loops of WindowPool (window_pool.hpp), written once over a vector type V and included by one
// translation unit per instruction set, each with its own LENETLAB_WINDOW_NS so that nothing here
// is shared between them (an AVX-512 copy of a function must never be what the SSE2 path calls).
// Only WindowPool's fields are read here, none of its inline member functions.
//
// V provides: R (a register of W floats), M (a lane mask), load/store (unaligned), set1, zero,
// add, sub, mul, gt / eq (ordered, quiet: false on NaN, as SSE's cmpgt / cmpeq), select(m, a, b)
// (a where m, else b), gather(p, stride, count) / scatter(p, stride, count, v) (lane l at
// p[l * stride] for l < count; the other lanes read as +0, are not written). Only IEEE adds,
// subtracts, multiplies and exact selects, never a fused multiply-add (both files are compiled with
// -ffp-contract=off): each lane computes what the scalar code or oneDNN computes for its element.
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

/// A dst-side tensor (dst, diff_dst, the dst of the activation after) of image i, channel block cb,
/// in lanes c..c+W-1 of position j = oh * OW + ow. Channel-blocked like the kernels: at
/// p[j * j_stride + c]. Plain NCHW (WindowPool::dst_planes): channel c at p[c * c_stride + j *
/// j_stride], read with a gather and written with a scatter; lanes of channels past the last read
/// as +0 (as a blocked layout's zero padding) and are not written.
template <class V>
struct View {
  float* p = nullptr;
  int64_t j_stride = 0, c_stride = 0;
  int channels = 0;  ///< channels from the block's first one to the last of the tensor
  bool plain = false;
  typename V::R load(int64_t j, int c) const {
    if (!plain) return V::load(p + j * j_stride + c);
    return V::gather(p + c * c_stride + j * j_stride, c_stride, channels - c);
  }
  void store(int64_t j, int c, typename V::R v) const {
    if (!plain) return V::store(p + j * j_stride + c, v);
    V::scatter(p + c * c_stride + j * j_stride, c_stride, channels - c, v);
  }
};

/// Block (i, cb) of a dst-side tensor `t` (null: an empty view) of layout `s`.
template <class V, int L>
View<V> view_of(const WindowPool& m, const ChannelPlanes& s, const float* t, int64_t i, int cb) {
  View<V> v;
  if (t == nullptr) return v;
  v.plain = s.block == 1;
  v.p = const_cast<float*>(t) + i * s.n_stride + cb * (v.plain ? L : 1) * s.block_stride;
  v.j_stride = s.j_stride;
  v.c_stride = s.block_stride;
  v.channels = m.channels - cb * L;
  return v;
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
void store_dst(const WindowPool& m, const View<V>& dst, int64_t j, int c, typename V::R y) {
  if (m.dst_scale != 0.0f) y = V::add(V::mul(V::set1(m.dst_scale), y), V::zero());
  dst.store(j, c, y);
}

// L = channels per block (8 or 16), a multiple of V::W: a whole block at a time. K = the window
// size when known at compile time (2: unrolled), else 0 (m.k). Each block works on a local copy
// of the WindowPool, whose fields the compiler can then keep in registers (the float stores
// cannot alias a local).

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

template <class V, int L, int K>
void max_forward_k(const WindowPool& pool, int n, const float* x, float* y, float* argmax) {
  for_each_block(pool, n, [&](int64_t i, int cb) {
    const WindowPool m = pool;
    const ChannelPlanes &xs = m.src_planes, &ys = m.dst_planes;
    const int k = K > 0 ? K : m.k;
    const float* xb = x + i * xs.n_stride + cb * xs.block_stride;
    const View<V> yb = view_of<V, L>(m, ys, y, i, cb);
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
          yb.store(j, c, best);
          if (ab != nullptr) V::store(ab + j * L + c, at);
        }
      }
  });
}

template <class V, int L, int K>
void max_backward_k(const WindowPool& pool, int n, const float* argmax, const float* dy, float* dx,
                    const float* relu_dst) {
  for_each_block(pool, n, [&](int64_t i, int cb) {
    const WindowPool m = pool;
    const ChannelPlanes& xs = m.diff_src_planes;
    const int k = K > 0 ? K : m.k;
    const View<V> dyb = view_of<V, L>(m, m.diff_dst_planes, dy, i, cb);
    const View<V> yb = view_of<V, L>(m, m.dst_planes, relu_dst, i, cb);
    float* dxb = dx + i * xs.n_stride + cb * xs.block_stride;
    const float* ab = argmax + argmax_offset(m, i, cb);
    // dx row by row (each window row of an output row in turn): its stores in order, the
    // gradient read (a gather when plain) once per window row.
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int kh = 0; kh < k; ++kh)
        for (int64_t ow = 0; ow < m.out_w; ++ow) {
          const int64_t j0 = (oh * k + kh) * m.in_w + ow * k, j = oh * m.out_w + ow;
          for (int c = 0; c < L; c += V::W) {
            typename V::R gradient = dyb.load(j, c);
            if (yb.p != nullptr)
              gradient =
                  V::select(V::gt(yb.load(j, c), V::zero()), gradient, V::mul(gradient, V::zero()));
            const typename V::R at = V::load(ab + j * L + c);
            for (int kw = 0; kw < k; ++kw)
              V::store(dxb + (j0 + kw) * xs.j_stride + c,
                       V::select(V::eq(at, V::set1(float(kh * k + kw))), gradient, V::zero()));
          }
        }
    zero_outside_windows<V, L>(m, dxb, nullptr);
  });
}

template <class V, int L, int K>
void avg_forward_k(const WindowPool& pool, int n, const float* x, float* pooled, float* y,
                   const float* a, const float* b) {
  for_each_block(pool, n, [&](int64_t i, int cb) {
    const WindowPool m = pool;
    const ChannelPlanes &xs = m.src_planes, &ps = m.pooled_planes;
    const int k = K > 0 ? K : m.k;
    const typename V::R scale = V::set1(1.0f / float(k * k));
    const float* xb = x + i * xs.n_stride + cb * xs.block_stride;
    const View<V> yb = view_of<V, L>(m, m.dst_planes, y, i, cb);
    const int64_t po = i * ps.n_stride + cb * ps.block_stride;
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int64_t ow = 0; ow < m.out_w; ++ow) {
        const int64_t j0 = oh * k * m.in_w + ow * k, j = oh * m.out_w + ow;
        const int64_t at = po + j * ps.j_stride;
        for (int c = 0; c < L; c += V::W) {
          typename V::R sum = V::zero();
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw)
              sum = V::add(sum, load_src<V>(m, xb + (j0 + kh * m.in_w + kw) * xs.j_stride + c));
          const typename V::R average = V::mul(sum, scale);
          if (a == nullptr) {
            store_dst<V>(m, yb, j, c, average);
            continue;
          }
          if (pooled != nullptr) V::store(pooled + at + c, average);
          const int channel = cb * L + c;
          store_dst<V>(m, yb, j, c,
                       V::add(V::mul(V::load(a + channel), average), V::load(b + channel)));
        }
      }
  });
}

template <class V, int L, int K>
void avg_backward_k(const WindowPool& pool, int n, const float* dy, const float* pooled,
                    const float* a, float* dx, float* sums, const float* tanh_before,
                    const float* tanh_after) {
  for_each_block(pool, n, [&](int64_t i, int cb) {
    const WindowPool m = pool;
    const ChannelPlanes &ps = m.pooled_planes, &xs = m.diff_src_planes, &ts = m.src_planes;
    const int k = K > 0 ? K : m.k;
    const typename V::R scale = V::set1(1.0f / float(k * k));
    const int64_t cp = int64_t{blocks_of(m)} * L;
    float* dxb = dx + i * xs.n_stride + cb * xs.block_stride;
    const float* tb =
        tanh_before != nullptr ? tanh_before + i * ts.n_stride + cb * ts.block_stride : nullptr;
    const View<V> dyb = view_of<V, L>(m, m.diff_dst_planes, dy, i, cb);
    const View<V> tab = view_of<V, L>(m, m.dst_planes, tanh_after, i, cb);
    const int64_t po = i * ps.n_stride + cb * ps.block_stride;
    // Trainable: the image's sums of dy * pooled and of dy, in pixel order, kept in registers.
    typename V::R sum_a[L / V::W], sum_b[L / V::W];
    for (int c = 0; c < L / V::W; ++c) sum_a[c] = sum_b[c] = V::zero();
    for (int64_t oh = 0; oh < m.out_h; ++oh)
      for (int64_t ow = 0; ow < m.out_w; ++ow) {
        const int64_t j0 = oh * k * m.in_w + ow * k, j = oh * m.out_w + ow;
        const int64_t at = po + j * ps.j_stride;
        for (int c = 0; c < L; c += V::W) {
          typename V::R g = dyb.load(j, c);
          if (tab.p != nullptr) g = scaled_tanh_backward<V>(g, tab.load(j, c));
          if (a != nullptr) {
            sum_a[c / V::W] = V::add(sum_a[c / V::W], V::mul(g, V::load(pooled + at + c)));
            sum_b[c / V::W] = V::add(sum_b[c / V::W], g);
            g = V::mul(V::load(a + cb * L + c), g);
          }
          const typename V::R d = V::add(V::zero(), V::mul(g, scale));
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw) {
              const int64_t jx = j0 + kh * m.in_w + kw;
              typename V::R v = d;
              if (tb != nullptr)
                v = scaled_tanh_backward<V>(d, load_src<V>(m, tb + jx * ts.j_stride + c));
              V::store(dxb + jx * xs.j_stride + c, v);
            }
        }
      }
    if (a != nullptr) {
      float* sa = sums + 2 * i * cp + cb * L;
      for (int c = 0; c < L; c += V::W) {
        V::store(sa + c, sum_a[c / V::W]);
        V::store(sa + cp + c, sum_b[c / V::W]);
      }
    }
    zero_outside_windows<V, L>(m, dxb, tb);
  });
}

// The kernels, unrolled for 2x2 windows.

template <class V, int L>
void max_forward(const WindowPool& m, int n, const float* x, float* y, float* argmax) {
  if (m.k == 2) return max_forward_k<V, L, 2>(m, n, x, y, argmax);
  max_forward_k<V, L, 0>(m, n, x, y, argmax);
}

template <class V, int L>
void max_backward(const WindowPool& m, int n, const float* argmax, const float* dy, float* dx,
                  const float* relu_dst) {
  if (m.k == 2) return max_backward_k<V, L, 2>(m, n, argmax, dy, dx, relu_dst);
  max_backward_k<V, L, 0>(m, n, argmax, dy, dx, relu_dst);
}

template <class V, int L>
void avg_forward(const WindowPool& m, int n, const float* x, float* pooled, float* y,
                 const float* a, const float* b) {
  if (m.k == 2) return avg_forward_k<V, L, 2>(m, n, x, pooled, y, a, b);
  avg_forward_k<V, L, 0>(m, n, x, pooled, y, a, b);
}

template <class V, int L>
void avg_backward(const WindowPool& m, int n, const float* dy, const float* pooled, const float* a,
                  float* dx, float* sums, const float* tanh_before, const float* tanh_after) {
  if (m.k == 2)
    return avg_backward_k<V, L, 2>(m, n, dy, pooled, a, dx, sums, tanh_before, tanh_after);
  avg_backward_k<V, L, 0>(m, n, dy, pooled, a, dx, sums, tanh_before, tanh_after);
}

}  // namespace
}  // namespace LENETLAB_WINDOW_NS
}  // namespace lenetlab
