// Hand-written pooling with non-overlapping windows on channel-blocked layouts (WindowPool), used
// by PoolLayer where oneDNN 2.6 is slow. Kept free of oneDNN's headers: its kernels are compiled
// twice, for SSE2 (the x86-64 baseline, window_pool.cpp) and for AVX-512 (window_pool_avx512.cpp),
// and a translation unit built for AVX-512 must not emit copies of inline functions that the rest
// of the program could link to.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lenetlab {

/// LeNet's scaled tanh y = A tanh(S x) (LeCun et al. 1998, appendix A: A = 1.7159, S = 2/3).
constexpr float kScaledTanhA = 1.7159f;
constexpr float kScaledTanhS = 2.0f / 3.0f;

/// The instructions of the window kernels: AVX-512 on 16-channel blocks (AVX512F), else SSE2 (the
/// x86-64 baseline; also for 8-channel blocks). The same IEEE operations lane by lane and no fused
/// multiply-add, so the same bits either way (tests run both). A run chooses one in its Context
/// (nn/layer.hpp), by default best_window_isa().
enum class WindowIsa { sse2, avx512 };
/// Whether this CPU can run `isa` (SSE2: always).
bool window_isa_supported(WindowIsa isa);
/// The best ISA this CPU has: AVX-512 where supported, else SSE2.
WindowIsa best_window_isa();

/// Where element (n, c, j) of a (N, C, H, W) tensor is, j = h * W + w, for the layouts oneDNN
/// gives activations here: plain NCHW, NHWC and channel-blocked nChw8c / nChw16c (aBcd8b, aBcd16b:
/// channels padded up to the block, the padding zero). Strides in floats.
struct ChannelPlanes {
  int64_t n_stride = 0, block_stride = 0, j_stride = 0;
  int block = 1;  ///< channels per block (1: not blocked; then block_stride is the channel stride)
  int64_t offset(int64_t n, int c, int64_t j) const {
    return n * n_stride + (c / block) * block_stride + c % block + j * j_stride;
  }
};

/// Max and average pooling with non-overlapping windows (stride = kernel, no padding) on
/// channel-blocked layouts (block 8 or 16), one pass each way. oneDNN 2.6's max pooling spends 3x
/// its inference time writing its workspace in training, and its backward passes zero-fill
/// diff_src before accumulating into it; a trainable (LeNet-5) average pooling needed two more
/// passes for its coefficient and bias. Max: the forward keeps the window position of each maximum
/// (as a float), the first greatest value in (kh, kw) order, the element oneDNN picks. Average:
/// oneDNN's operations in its order. Values and gradients are the same bits as oneDNN's (unit tests
/// against it, ties and zeros of both signs included), and the same with either instruction set
/// (isa). Rows and columns beyond the last whole window get a zero gradient. Images
/// run across the calling thread's OpenMP threads once the work reaches parallel_elements.
struct WindowPool {
  int k = 2, channels = 0, block = 1;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  /// src and diff_src: channel-blocked (block). dst (with the dst of an activation after it) and
  /// diff_dst: blocked the same way, or plain NCHW (block 1) when the layer that reads them wants
  /// that (PoolLayer::prefer_dst_layouts), then read and written a block of channels at a time
  /// with gathers and scatters (channel stride x 15 must fit an int32). pooled (trainable average
  /// pooling): blocked.
  ChannelPlanes src_planes, dst_planes, diff_dst_planes, diff_src_planes, pooled_planes;
  int64_t parallel_elements = 0;  ///< input elements from which images run across threads
  /// The kernels' instructions (AVX-512 applies to 16-channel blocks); the caller checks that the
  /// CPU has them (Context does).
  WindowIsa isa = WindowIsa::sse2;
  /// Average pooling: when nonzero, src holds tanh(S x) of a scaled tanh whose last pass (y = A t)
  /// this pooling applies where it reads src, forward and backward (A: kScaledTanhA). Max pooling
  /// ignores it.
  float src_scale = 0.0f;
  /// Average pooling: when nonzero, the forward writes S y + 0, the first pass of a scaled tanh
  /// after it (S: kScaledTanhS), into that tanh's dst instead of y into its own.
  float dst_scale = 0.0f;

  int blocks() const { return (channels + block - 1) / block; }
  int padded_channels() const { return blocks() * block; }
  /// Window positions, one per output element of a block (padding channels included).
  size_t argmax_size(int n) const { return size_t(n) * blocks() * out_h * out_w * block; }

  /// y = max over each window of x; argmax (training; null: not kept) gets the window position of
  /// the maximum as a float (exact), so that both passes are plain SIMD selects. argmax: (N,
  /// blocks, OH, OW, block).
  void forward(int n, const float* x, float* y, float* argmax) const;
  /// dx = dy at each window's argmax, 0 elsewhere (every element of dx written once). With
  /// `relu_dst` (this pooling's dst, the maxima of a relu's dst), also the relu's derivative as
  /// oneDNN's relu backward computes it from dst: dy where the maximum is > 0, else dy * 0.
  void backward(int n, const float* argmax, const float* dy, float* dx,
                const float* relu_dst) const;
  /// Average pooling, for k * k a power of two: pooled = (((0 + x_00) + x_01) + ...) * (1 / k^2),
  /// oneDNN 2.6's operations in its order (unit test against it), written to y; trainable (LeCun
  /// 1998 sec. II.B), y = a * pooled + b (a, b per channel, padded with zeros to whole blocks) and
  /// pooled kept (null: not kept, in inference). a, b and pooled null: not trainable. See
  /// src_scale and dst_scale.
  void avg_forward(int n, const float* x, float* pooled, float* y, const float* a,
                   const float* b) const;
  /// Its backward: every element of a window gets 0 + g * (1 / k^2) (oneDNN accumulates into a
  /// zeroed diff_src: -0 becomes +0), g = dy, or trainable g = a * dy; then also, per image,
  /// sums[(i, 0, c)] = sum over pixels of dy * pooled and sums[(i, 1, c)] = sum of dy, in pixel
  /// order, for the gradients of a and b (sums: N x 2 x padded channels). Absorbed scaled tanh
  /// (scaled_tanh_backward): with `tanh_after` (the dst of the one after, in dst's layout; dy is
  /// then its diff_dst) dy is first replaced by that derivative; with `tanh_before` (the dst of the
  /// one before, i.e. this pooling's src, in src's layout; dx is then that activation's diff_src)
  /// every element written to dx, zeros outside windows included, is.
  void avg_backward(int n, const float* dy, const float* pooled, const float* a, float* dx,
                    float* sums, const float* tanh_before, const float* tanh_after) const;
};

/// The scaled tanh's derivative as ActivationLayer's backward applies it:
/// dx = dy * S * (A - y * y * (1 / A)) for y = A tanh(S x) (dy/dx = A S (1 - tanh^2)), in this
/// order of float operations (the window kernels do the same lane by lane).
inline float scaled_tanh_backward(float dy, float y) {
  return dy * kScaledTanhS * (kScaledTanhA - y * y * (1.0f / kScaledTanhA));
}

}  // namespace lenetlab
