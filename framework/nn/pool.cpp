#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

namespace {

/// Whether channel_planes() can describe `md`.
bool has_channel_planes(const dnnl::memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  const auto& b = d.format_desc.blocking;
  const bool blocked_on_c = b.inner_nblks == 1 && b.inner_idxs[0] == 1 && b.inner_blks[0] > 1;
  return d.ndims == 4 && d.format_kind == dnnl_blocked && d.offset0 == 0 &&
         (b.inner_nblks == 0 || blocked_on_c) && b.strides[2] == d.dims[3] * b.strides[3];
}

ChannelPlanes channel_planes(const dnnl::memory::desc& md, const std::string& where) {
  if (!has_channel_planes(md))
    throw RunError(where + "trainable pooling got an unsupported memory layout");
  const dnnl_memory_desc_t& d = md.data;
  const auto& b = d.format_desc.blocking;
  const bool blocked_on_c = b.inner_nblks == 1 && b.inner_idxs[0] == 1 && b.inner_blks[0] > 1;
  ChannelPlanes p;
  p.n_stride = b.strides[0];
  p.block_stride = b.strides[1];
  p.j_stride = b.strides[3];
  p.block = blocked_on_c ? static_cast<int>(b.inner_blks[0]) : 1;
  return p;
}

/// Trainable pooling's parameter gradients from the per-image sums (N, 2, stride): for each
/// channel, da[c] and db[c] are the images' sums added in order 0..N-1 (the same order for any
/// thread count).
void add_image_sums(const std::vector<float>& sums, int n, int64_t stride, int channels, float* da,
                    float* db) {
  for (int c = 0; c < channels; ++c) {
    da[c] = db[c] = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      da[c] += sums[size_t(2 * i * stride + c)];
      db[c] += sums[size_t((2 * i + 1) * stride + c)];
    }
  }
}

struct PoolPlan : Layer::Plan {
  dnnl::memory pooled,
      diff_pooled;  ///< avg_pool(x) and its gradient (trainable pooling only), in dst's layout.
  ChannelPlanes planes;  ///< layout of pooled / diff_pooled / dst / diff_dst (trainable only).
  /// Trainable pooling's backward, per image and channel: sum of dy * pooled, then sum of dy;
  /// (N, 2, C) on oneDNN's path, (N, 2, channels padded to whole blocks) on the hand-written one.
  std::vector<float> sums;
  /// The hand-written pooling (see WindowPool), when it replaces oneDNN's, and for max pooling the
  /// window positions of the maxima of the last training forward, (N, C/block, OH, OW, block).
  std::optional<WindowPool> window;
  dnnl::memory argmax;         ///< shared with the layer's other plans (Layer::make_memory)
  bool relu_backward = false;  ///< the backward applies the derivative of the relu before it
  /// Absorbed scaled tanh (average pooling): the diff_src of the one before, which the backward
  /// writes instead of its own diff_src; the dst and diff_dst of the one after, which it reads
  /// instead of its own diff_dst. Empty: none.
  dnnl::memory tanh_before_diff_src, tanh_after_dst, tanh_after_diff_dst;
  /// Trainable average pooling on the hand-written path: coefficient and bias padded with zeros
  /// to whole channel blocks (refreshed every forward).
  std::vector<float> coefficient, bias;
};

/// The hand-written pooling of one batch size and the layouts of its dst and diff_dst.
struct WindowLayouts {
  WindowPool pool;
  dnnl::memory::desc dst, diff_dst;
};

/// Whether the hand-written pooling (WindowPool) can run this layer for one batch size:
/// non-overlapping windows on channel-blocked layouts (blocks of 8 or 16 for src, diff_src and
/// `blocked`, oneDNN's dst blocking of src); average pooling only where 1 / k^2 is exact (k a power
/// of two) and there is a diff_src to write. dst and diff_dst are in the layouts the next layer
/// wants (`wanted`, from prefer_dst_layouts) where it wants plain ones (`plain_dst`), else in
/// src's blocking. nullopt: oneDNN's pooling runs it.
std::optional<WindowLayouts> window_layouts(const LayerSpec& spec, Shape in, Shape out,
                                            const dnnl::memory::desc& src,
                                            const dnnl::memory& diff_src,
                                            const dnnl::memory::desc& blocked,
                                            const Layer::SrcLayouts* wanted,
                                            const dnnl::memory::desc& plain_dst, WindowIsa isa,
                                            const std::string& where) {
  const int k = spec.kernel, s = spec.stride > 0 ? spec.stride : k;
  const bool window_kind = spec.pool_max ? k * k <= 256 : (k & (k - 1)) == 0 && bool(diff_src);
  if (!window_kind || s != k || !has_channel_planes(src) || !has_channel_planes(blocked) ||
      (diff_src && !has_channel_planes(diff_src.get_desc())))
    return std::nullopt;
  WindowLayouts w{WindowPool{}, blocked, blocked};
  // (The kernels address a plain layout's channels with int32 offsets.)
  if (wanted != nullptr && wanted->src == plain_dst && int64_t{out.h} * out.w * 16 <= INT32_MAX) {
    w.dst = wanted->src;
    if (wanted->diff_src != blocked) w.diff_dst = w.dst;
  }
  WindowPool& m = w.pool;
  m.k = k;
  m.parallel_elements = kParallelElements;
  m.isa = isa;
  m.channels = in.c;
  m.in_h = in.h;
  m.in_w = in.w;
  m.out_h = out.h;
  m.out_w = out.w;
  m.src_planes = channel_planes(src, where);
  m.dst_planes = channel_planes(w.dst, where);
  m.diff_dst_planes = channel_planes(w.diff_dst, where);
  m.pooled_planes = channel_planes(blocked, where);
  m.diff_src_planes = diff_src ? channel_planes(diff_src.get_desc(), where) : m.src_planes;
  m.block = m.src_planes.block;
  if ((m.block == 8 || m.block == 16) && m.pooled_planes.block == m.block &&
      m.diff_src_planes.block == m.block)
    return w;
  return std::nullopt;
}

}  // namespace

PoolLayer::PoolLayer(const LayerArgs& a) : Layer(a) {
  const auto where = spec_.mark.str() + ": " + name_ + ": ";
  if (in_.flat) throw RunError(where + "pooling needs a (C, H, W) input, got " + in_.str());
  const int k = spec_.kernel, s = spec_.stride > 0 ? spec_.stride : spec_.kernel;
  if (k <= 0) throw RunError(where + "pool size must be positive");
  const int64_t oh = conv_output_size(in_.h, k, s, 0), ow = conv_output_size(in_.w, k, s, 0);
  if (oh < 1 || ow < 1)
    throw RunError(fmt::format("{}pool size {} does not fit input {}: a dimension would be zero",
                               where, k, in_.str()));
  out_ = Shape{in_.c, static_cast<int>(oh), static_cast<int>(ow), false};
  if (spec_.pool_trainable) {
    if (spec_.pool_max)
      throw RunError(where + "trainable pooling is defined for average pooling only");
    params_.reserve(2);
    Param& coefficient = add_param(a.ctx, "coefficient", in_.c, true);
    std::fill_n(coefficient.value(), in_.c, 1.0f);
    add_param(a.ctx, "bias", in_.c, true);
  }
}

std::unique_ptr<Layer::Plan> PoolLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                  const dnnl::memory& diff_src) {
  auto p = std::make_unique<PoolPlan>();
  const bool trainable = spec_.pool_trainable;
  const int k = spec_.kernel, s = spec_.stride > 0 ? spec_.stride : k;
  const dnnl::memory::dims strides{s, s}, kernel{k, k}, pad{0, 0};
  const auto algo =
      spec_.pool_max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
  const auto attr = ctx.attr();
  // The pooling keeps the incoming layout (dst "any" follows src): no reorder in the step. The
  // coefficient/bias part of trainable pooling is hand-written and reads that layout through
  // ChannelPlanes, visiting (n, c, h, w) in NCHW order whatever the layout, so that its sums are
  // the same bit for bit.
  const dnnl::memory& x = src;
  const dnnl::memory::desc dst_md(out_.dims(n), dnnl::memory::data_type::f32,
                                  dnnl::memory::format_tag::any);
  dnnl::pooling_forward::primitive_desc train_pd(
      {dnnl::prop_kind::forward_training, algo, x.get_desc(), dst_md, strides, kernel, pad, pad},
      attr, ctx.engine);
  const std::string where = spec_.mark.str() + ": " + name_ + ": ";
  const dnnl::memory::desc& blocked = train_pd.dst_desc();  // src's blocking
  const auto wanted = preferred_.find(n);
  if (const std::optional<WindowLayouts> w =
          window_layouts(spec_, in_, out_, x.get_desc(), diff_src, blocked,
                         wanted == preferred_.end() ? nullptr : &wanted->second,
                         plain_desc(n, out_), ctx.window_isa, where)) {
    // Hand-written both ways, in training and inference.
    p->dst = make_memory(ctx, w->dst);
    p->diff_dst = make_memory(ctx, w->diff_dst);
    if (trainable) p->pooled = make_memory(ctx, blocked);
    p->window = w->pool;
    if (spec_.pool_max) {
      // Plain (N, positions per image): a layout that differs only in N, so the layer's plans
      // of every batch size share one buffer.
      p->argmax = make_memory(
          ctx, dnnl::memory::desc({n, int64_t(w->pool.argmax_size(1))},
                                  dnnl::memory::data_type::f32, dnnl::memory::format_tag::nc));
    } else if (trainable) {
      p->coefficient.assign(size_t(w->pool.padded_channels()), 0.0f);
      p->bias.assign(size_t(w->pool.padded_channels()), 0.0f);
      p->sums.assign(size_t(2) * n * w->pool.padded_channels(), 0.0f);
    }
    return p;
  }
  // oneDNN's pooling (the hand-written one needs no inference descriptor), dst in src's blocking.
  p->dst = make_memory(ctx, blocked);
  p->diff_dst = make_memory(ctx, blocked);
  if (trainable) {
    p->pooled = make_memory(ctx, blocked);
    p->planes = channel_planes(blocked, where);
  }
  const dnnl::memory& pool_dst = trainable ? p->pooled : p->dst;
  dnnl::pooling_forward::primitive_desc infer_pd(
      {dnnl::prop_kind::forward_inference, algo, x.get_desc(), dst_md, strides, kernel, pad, pad},
      attr, ctx.engine);
  if (trainable) p->diff_pooled = make_memory(ctx, train_pd.dst_desc());
  p->train.push_back({dnnl::pooling_forward(train_pd),
                      {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, pool_dst}},
                      train_pd.scratchpad_desc()});
  dnnl::memory workspace;
  if (spec_.pool_max) {
    workspace = dnnl::memory(train_pd.workspace_desc(), ctx.engine);
    p->train.back().args[DNNL_ARG_WORKSPACE] = workspace;
  }
  p->infer.push_back({dnnl::pooling_forward(infer_pd),
                      {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, pool_dst}},
                      infer_pd.scratchpad_desc()});
  if (diff_src) {
    dnnl::pooling_backward::primitive_desc bwd_pd(
        {algo, x.get_desc(), train_pd.dst_desc(), strides, kernel, pad, pad}, attr, ctx.engine,
        train_pd);
    std::vector<Step> after;
    const dnnl::memory dx = convert_back(ctx, diff_src, bwd_pd.diff_src_desc(), after);
    p->bwd.push_back(
        {dnnl::pooling_backward(bwd_pd),
         {{DNNL_ARG_DIFF_DST, trainable ? p->diff_pooled : p->diff_dst}, {DNNL_ARG_DIFF_SRC, dx}},
         bwd_pd.scratchpad_desc()});
    if (spec_.pool_max) p->bwd.back().args[DNNL_ARG_WORKSPACE] = workspace;
    p->bwd.insert(p->bwd.end(), after.begin(), after.end());
  }
  return p;
}

void PoolLayer::forward(Context& ctx, int n, bool training) {
  if (auto& p = plan<PoolPlan>(n); p.window) {
    const auto* x = static_cast<const float*>(p.src.get_data_handle());
    // With the first pass of the scaled tanh after it, into that tanh's dst
    // (WindowPool::dst_scale).
    auto* y = static_cast<float*>(
        (p.window->dst_scale != 0.0f ? p.tanh_after_dst : p.dst).get_data_handle());
    if (spec_.pool_max) {
      p.window->forward(n, x, y,
                        training ? static_cast<float*>(p.argmax.get_data_handle()) : nullptr);
    } else if (!spec_.pool_trainable) {
      p.window->avg_forward(n, x, nullptr, y, nullptr, nullptr);
    } else {
      std::copy_n(params_[0].value(), in_.c, p.coefficient.begin());
      std::copy_n(params_[1].value(), in_.c, p.bias.begin());
      // pooled is for the backward: kept in training only.
      p.window->avg_forward(n, x,
                            training ? static_cast<float*>(p.pooled.get_data_handle()) : nullptr, y,
                            p.coefficient.data(), p.bias.data());
    }
    return;
  }
  Layer::forward(ctx, n, training);
  if (!spec_.pool_trainable) return;
  auto& p = plan<PoolPlan>(n);
  // y = coefficient[c] * pooled + bias[c]
  const float* x = static_cast<const float*>(p.pooled.get_data_handle());
  float* y = static_cast<float*>(p.dst.get_data_handle());
  const float* a = params_[0].value();
  const float* b = params_[1].value();
  const int64_t hw = int64_t{out_.h} * out_.w;
  const ChannelPlanes& at = p.planes;
  const int channels = out_.c;
#pragma omp parallel for schedule(static) if (int64_t{n} * channels * hw >= kParallelElements)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < hw; ++j)
      for (int c = 0; c < channels; ++c) {
        const int64_t o = at.offset(i, c, j);
        y[o] = a[c] * x[o] + b[c];
      }
}

void PoolLayer::backward(Context& ctx, int n) {
  auto& p = plan<PoolPlan>(n);
  if (p.window && !spec_.pool_max) {
    const bool trainable = spec_.pool_trainable;
    const bool before = bool(p.tanh_before_diff_src), after = bool(p.tanh_after_dst);
    const auto f = [](const dnnl::memory& m) { return static_cast<float*>(m.get_data_handle()); };
    p.window->avg_backward(
        n, f(after ? p.tanh_after_diff_dst : p.diff_dst), f(trainable ? p.pooled : p.dst),
        trainable ? p.coefficient.data() : nullptr, f(before ? p.tanh_before_diff_src : p.diff_src),
        p.sums.data(), before ? f(p.src) : nullptr, after ? f(p.tanh_after_dst) : nullptr);
    if (trainable)
      add_image_sums(p.sums, n, p.window->padded_channels(), in_.c, params_[0].gradient(),
                     params_[1].gradient());
    return;
  }
  if (p.window) {
    if (p.diff_src)
      p.window->backward(
          n, static_cast<const float*>(p.argmax.get_data_handle()),
          static_cast<const float*>(p.diff_dst.get_data_handle()),
          static_cast<float*>(p.diff_src.get_data_handle()),
          p.relu_backward ? static_cast<const float*>(p.dst.get_data_handle()) : nullptr);
    return;
  }
  if (spec_.pool_trainable) {
    const float* x = static_cast<const float*>(p.pooled.get_data_handle());
    const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
    float* dx = static_cast<float*>(p.diff_pooled.get_data_handle());
    const float* a = params_[0].value();
    float* da = params_[0].gradient();
    float* db = params_[1].gradient();
    const int64_t hw = int64_t{out_.h} * out_.w;
    const ChannelPlanes& at = p.planes;
    const int channels = out_.c;
    p.sums.resize(size_t(2) * n * channels);
    // Images across the run's OpenMP threads, each one's sums over its pixels in order j = 0..HW-1
    // (pixel outer, channel inner: one visit of each cache line of a channel-blocked layout);
    // then, per channel, the images' sums added in order 0..N-1. The same operations in the same
    // order for any thread count and layout, so the same bits.
#pragma omp parallel for schedule(static) if (int64_t{n} * channels * hw >= kParallelElements)
    for (int64_t i = 0; i < n; ++i) {
      float* sa = p.sums.data() + 2 * i * channels;
      float* sb = sa + channels;
      std::fill_n(sa, 2 * channels, 0.0f);
      for (int64_t j = 0; j < hw; ++j)
        for (int c = 0; c < channels; ++c) {
          const int64_t o = at.offset(i, c, j);
          sa[c] += dy[o] * x[o];
          sb[c] += dy[o];
          dx[o] = a[c] * dy[o];
        }
    }
    add_image_sums(p.sums, n, channels, channels, da, db);
  }
  Layer::backward(ctx, n);
}

PoolLayer::Absorbed PoolLayer::absorb_activations(int n, const ActivationLayer* before,
                                                  const ActivationLayer* after) {
  auto& p = plan<PoolPlan>(n);
  Absorbed taken;
  if (!p.window || !p.diff_src) return taken;
  const auto is = [](const ActivationLayer* a, ActivationKind kind) {
    return a != nullptr && a->spec().activation == kind;
  };
  if (spec_.pool_max) {
    // A fused relu runs its backward in place: this layer's diff_src is the relu's.
    taken.before = p.relu_backward = is(before, ActivationKind::relu) && before->fused();
    return taken;
  }
  if (is(before, ActivationKind::scaled_tanh) &&
      before->diff_src(n).get_desc() == p.diff_src.get_desc()) {
    p.tanh_before_diff_src = before->diff_src(n);
    taken.before = true;
    // Fused into the layer before it, the tanh has one pass left, y = A t in place: done here
    // where src is read, and its dst keeps t.
    if (before->fused()) {
      p.window->src_scale = kScaledTanhA;
      taken.before_forward = true;
    }
  }
  if (is(after, ActivationKind::scaled_tanh) && after->dst(n).get_desc() == p.dst.get_desc() &&
      after->diff_dst(n).get_desc() == p.diff_dst.get_desc()) {
    p.tanh_after_dst = after->dst(n);
    p.tanh_after_diff_dst = after->diff_dst(n);
    taken.after = true;
    // Its first pass, S y, is done by this layer's forward, written into its dst.
    if (!after->fused()) {
      p.window->dst_scale = kScaledTanhS;
      taken.after_forward = true;
    }
  }
  return taken;
}

}  // namespace lenetlab
