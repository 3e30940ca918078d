#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

struct BatchNormPlan : Layer::Plan {
  dnnl::memory mean, variance;  ///< batch statistics of the last training forward (C).
};

/// A plain (nchw, nc, nhwc) or channel-blocked (nChw8c, nChw16c) f32 tensor walked in memory
/// order, as runs of contiguous elements (the whole-batch statistics of engine 2). A run is either
/// a row of channel lanes (element k of the run is channel c0 + k: blocked layouts, nc, nhwc) or
/// a row of one channel's positions (plain nchw). Every loop below visits the elements in this
/// fixed order, so its sums do not depend on anything but the tensor.
struct ChannelLayout {
  int64_t n = 0, c = 0, h = 1, w = 1, block = 1, sn = 0, sc = 0, sh = 0, sw = 0;
  explicit ChannelLayout(const dnnl::memory::desc& desc) {
    const dnnl_memory_desc_t& d = desc.data;
    const auto& b = d.format_desc.blocking;
    const bool blocked_c = b.inner_nblks == 1 && b.inner_idxs[0] == 1;
    if (d.format_kind != dnnl_blocked || (d.ndims != 2 && d.ndims != 4) ||
        (b.inner_nblks != 0 && !blocked_c))
      throw RunError("batch norm (whole batch): unsupported activation layout");
    if (blocked_c) block = b.inner_blks[0];
    n = d.dims[0];
    c = d.dims[1];
    sn = b.strides[0];
    sc = b.strides[1];
    if (d.ndims == 4) {
      h = d.dims[2];
      w = d.dims[3];
      sh = b.strides[2];
      sw = b.strides[3];
    }
  }
  int64_t count() const { return n * h * w; }
  /// Channel lanes are contiguous (blocked, or channel stride 1).
  bool lanes() const { return block > 1 || sc == 1; }
  /// Lanes per run (padded channels included); 1 when runs are of one channel.
  int64_t lane_count() const { return block > 1 ? block : (sc == 1 ? c : 1); }
  /// Channels rounded up to whole runs of lanes: the size of per-channel arrays.
  int64_t padded() const {
    const int64_t l = lane_count();
    return (c + l - 1) / l * l;
  }
  /// Lanes layout: f(offset, c0, count) for each run of `count` channel lanes c0.. at offset..
  /// Channel layout (plain nchw): g(offset, channel, length, stride) for each row of a channel.
  template <typename F, typename G>
  void for_runs(F&& f, G&& g) const {
    if (lanes()) {
      const int64_t l = lane_count(), groups = (c + l - 1) / l;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t cb = 0; cb < groups; ++cb)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x)
              f(i * sn + cb * (block > 1 ? sc : 0) + y * sh + x * sw, cb * l,
                std::min(l, c - cb * l));
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h; ++y) g(i * sn + ch * sc + y * sh, ch, w, sw);
  }
};

enum { kGamma = 0, kBeta = 1, kMovingMean = 2, kMovingVariance = 3 };

}  // namespace

BatchNormLayer::BatchNormLayer(const LayerArgs& a) : Layer(a) {
  if (spec_.bn_epsilon <= 0 || spec_.bn_momentum < 0 || spec_.bn_momentum >= 1)
    throw RunError(spec_.mark.str() + ": " + name_ +
                   ": batch_norm needs epsilon > 0 and momentum in [0, 1)");
  out_ = in_;
  params_.reserve(4);
  std::fill_n(add_param(a.ctx, "gamma", in_.c, true).value(), in_.c, 1.0f);
  add_param(a.ctx, "beta", in_.c, true);
  add_param(a.ctx, "moving_mean", in_.c, false);
  std::fill_n(add_param(a.ctx, "moving_variance", in_.c, false).value(), in_.c, 1.0f);
}

std::unique_ptr<Layer::Plan> BatchNormLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                       const dnnl::memory& diff_src) {
  auto p = std::make_unique<BatchNormPlan>();
  // 4-D input keeps its layout; 2-D (N, K) input runs as (N, K, 1, 1): same bytes, per-feature
  // statistics.
  const dnnl::memory::desc md =
      in_.flat ? dnnl::memory::desc({n, in_.c, 1, 1}, dt::f32, tag::nchw) : src.get_desc();
  p->dst = make_memory(ctx, src.get_desc());
  p->diff_dst = make_memory(ctx, src.get_desc());
  auto view = [&](const dnnl::memory& m) {
    return dnnl::memory(md, ctx.engine, m.get_data_handle());
  };
  const dnnl::memory x = view(src), y = view(p->dst), dy = view(p->diff_dst);
  const dnnl::memory::desc c_md({in_.c}, dt::f32, tag::x);
  auto param = [&](int i) { return dnnl::memory(c_md, ctx.engine, params_[i].value()); };
  auto grad = [&](int i) { return dnnl::memory(c_md, ctx.engine, params_[i].gradient()); };
  p->mean = dnnl::memory(c_md, ctx.engine);
  p->variance = dnnl::memory(c_md, ctx.engine);
  const float eps = static_cast<float>(spec_.bn_epsilon);
  const auto attr = ctx.attr();
  using nf = dnnl::normalization_flags;
  const auto flags = nf::use_scale | nf::use_shift | (fused_relu_ ? nf::fuse_norm_relu : nf::none);

  // Whole-batch mode: the batch's statistics come from set_batch_stats (class comment).
  const auto train_flags = whole_batch_ ? flags | nf::use_global_stats : flags;
  dnnl::batch_normalization_forward::primitive_desc train_pd(
      {dnnl::prop_kind::forward_training, md, eps, train_flags}, attr, ctx.engine);
  p->train.push_back({dnnl::batch_normalization_forward(train_pd),
                      {{DNNL_ARG_SRC, x},
                       {DNNL_ARG_DST, y},
                       {DNNL_ARG_SCALE, param(kGamma)},
                       {DNNL_ARG_SHIFT, param(kBeta)},
                       {DNNL_ARG_MEAN, p->mean},
                       {DNNL_ARG_VARIANCE, p->variance}},
                      train_pd.scratchpad_desc()});
  // Fused relu: the forward keeps which outputs were positive, for the backward's mask.
  dnnl::memory workspace;
  if (fused_relu_ && train_pd.workspace_desc().get_size() > 0) {
    workspace = make_memory(ctx, train_pd.workspace_desc());
    p->train.back().args[DNNL_ARG_WORKSPACE] = workspace;
  }
  // Inference must pass use_global_stats, else oneDNN recomputes batch statistics (oneDNN notes).
  dnnl::batch_normalization_forward::primitive_desc infer_pd(
      {dnnl::prop_kind::forward_inference, md, eps, flags | nf::use_global_stats}, attr,
      ctx.engine);
  p->infer.push_back({dnnl::batch_normalization_forward(infer_pd),
                      {{DNNL_ARG_SRC, x},
                       {DNNL_ARG_DST, y},
                       {DNNL_ARG_SCALE, param(kGamma)},
                       {DNNL_ARG_SHIFT, param(kBeta)},
                       {DNNL_ARG_MEAN, param(kMovingMean)},
                       {DNNL_ARG_VARIANCE, param(kMovingVariance)}},
                      infer_pd.scratchpad_desc()});
  if (whole_batch_) return p;  // hand-written backward (whole_batch_backward)
  // Backward always runs: gamma/beta need their gradients even when diff_src is not needed.
  // diff_src has the previous layer's layout, which is src's: the same as md up to the 2-D view.
  dnnl::memory dx = diff_src ? view(diff_src) : make_memory(ctx, md);
  dnnl::batch_normalization_backward::primitive_desc bwd_pd(
      {dnnl::prop_kind::backward, md, md, eps, flags}, attr, ctx.engine, train_pd);
  p->bwd.push_back(
      {dnnl::batch_normalization_backward(bwd_pd),
       {{DNNL_ARG_SRC, x},
        {DNNL_ARG_MEAN, p->mean},
        {DNNL_ARG_VARIANCE, p->variance},
        {DNNL_ARG_DIFF_DST, dy},
        {DNNL_ARG_SCALE, param(kGamma)},
        // 2.6.3 refuses to execute use_shift backward without SHIFT, though it does not read it.
        {DNNL_ARG_SHIFT, param(kBeta)},
        {DNNL_ARG_DIFF_SRC, dx},
        {DNNL_ARG_DIFF_SCALE, grad(kGamma)},
        {DNNL_ARG_DIFF_SHIFT, grad(kBeta)}},
       bwd_pd.scratchpad_desc()});
  if (fused_relu_) p->bwd.back().args[DNNL_ARG_WORKSPACE] = workspace;
  return p;
}

Layer::Fusion BatchNormLayer::fuse(const dnnl::post_ops& post_ops) {
  // 4-D only: the 2-D (N, K, 1, 1) view is not where the shipped architectures put a relu, and
  // its fused form is not checked bit for bit against the unfused one.
  if (in_.flat || post_ops.len() != 1 || post_ops.kind(0) != dnnl::primitive::kind::eltwise)
    return Fusion::none;
  float scale = 0.0f, alpha = 0.0f, beta = 0.0f;
  dnnl::algorithm algorithm;
  post_ops.get_params_eltwise(0, scale, algorithm, alpha, beta);
  if (algorithm != dnnl::algorithm::eltwise_relu || scale != 1.0f || alpha != 0.0f)
    return Fusion::none;
  fused_relu_ = true;
  return Fusion::forward_and_backward;
}

void BatchNormLayer::forward(Context& ctx, int n, bool training) {
  Layer::forward(ctx, n, training);
  if (!training || whole_batch_) return;
  auto& p = plan<BatchNormPlan>(n);
  update_moving_stats(static_cast<const float*>(p.mean.get_data_handle()),
                      static_cast<const float*>(p.variance.get_data_handle()),
                      int64_t{n} * in_.h * in_.w);
}

void BatchNormLayer::update_moving_stats(const float* mean, const float* var, int64_t k) {
  // moving = momentum * moving + (1 - momentum) * batch (Keras BatchNormalization, PyTorch
  // BatchNorm2d with momentum 1 - m). The batch is normalised with its biased variance, but the
  // population variance is estimated with the unbiased one, var * k / (k - 1) over the k values
  // per channel (Ioffe & Szegedy 2015, Algorithm 2 step 10; PyTorch; TensorFlow's fused batch
  // norm). For a dense layer at batch 64 the biased estimate is 1.6% low, which inference would
  // carry as a 0.8% scale error after every such layer.
  const float unbiased = k > 1 ? static_cast<float>(double(k) / double(k - 1)) : 1.0f;
  const float m = static_cast<float>(spec_.bn_momentum);
  float* moving_mean = params_[kMovingMean].value();
  float* moving_var = params_[kMovingVariance].value();
  for (int c = 0; c < in_.c; ++c) {
    moving_mean[c] = m * moving_mean[c] + (1.0f - m) * mean[c];
    moving_var[c] = m * moving_var[c] + (1.0f - m) * (var[c] * unbiased);
  }
}

void BatchNormLayer::backward(Context& ctx, int n) {
  if (whole_batch_) {
    whole_batch_backward(n);
  } else {
    Layer::backward(ctx, n);
  }
}

void BatchNormLayer::set_batch_stats(int n, const std::vector<float>& mean,
                                     const std::vector<float>& variance) {
  auto& p = plan<BatchNormPlan>(n);
  std::copy(mean.begin(), mean.end(), static_cast<float*>(p.mean.get_data_handle()));
  std::copy(variance.begin(), variance.end(), static_cast<float*>(p.variance.get_data_handle()));
}

namespace {

/// A dense blocked tensor of L lanes: (h, w) inside a block with w stride L and h stride w * L.
template <int L>
bool dense_blocks(const ChannelLayout& l) {
  return l.block == L && l.sw == L && l.sh == l.w * L;
}

/// out[e] = f(e, channel) for every element e of a dense blocked tensor of L lanes, padding
/// lanes included.
template <int L, typename F>
void dense_block_walk(const ChannelLayout& l, float* __restrict out, const F& f) {
  const int64_t groups = (l.c + L - 1) / L, positions = l.h * l.w;
  for (int64_t i = 0; i < l.n; ++i)
    for (int64_t cb = 0; cb < groups; ++cb) {
      const int64_t base = i * l.sn + cb * l.sc, c0 = cb * L;
      for (int64_t j = 0; j < positions; ++j)
        for (int k = 0; k < L; ++k) out[base + j * L + k] = f(base + j * L + k, c0 + k);
    }
}

/// Sums of N float terms per element (std::array<float, N> term(offset, channel)), per channel.
template <size_t N>
using Sums = std::array<std::vector<double>, N>;

/// channel_sums of a dense blocked tensor of L lanes (dense_blocks<L>): per image, channel block
/// and row, the float sums over the row's positions in order, each added to the channel's
/// double (rows of at most a few dozen values: float rounding stays near the terms'). The
/// accumulators are named arrays (not an array of N), so that the lane loops vectorise.
template <int L, size_t N, typename Term>
void block_sums(const ChannelLayout& l, Term& term, Sums<N>& out) {
  static_assert(N == 1 || N == 2);
  const int64_t groups = (l.c + L - 1) / L;
  for (int64_t i = 0; i < l.n; ++i)
    for (int64_t cb = 0; cb < groups; ++cb) {
      const int64_t c0 = cb * L;
      double first[L] = {}, second[L] = {};
      for (int64_t y = 0; y < l.h; ++y) {
        const int64_t row = i * l.sn + cb * l.sc + y * l.sh;
        float row_first[L] = {}, row_second[L] = {};
        for (int64_t x = 0; x < l.w; ++x)
          for (int k = 0; k < L; ++k) {
            const std::array<float, N> t = term(row + x * L + k, c0 + k);
            row_first[k] += t[0];
            if constexpr (N == 2) row_second[k] += t[N - 1];
          }
        for (int k = 0; k < L; ++k) {
          first[k] += double(row_first[k]);
          if constexpr (N == 2) second[k] += double(row_second[k]);
        }
      }
      for (int k = 0; k < L; ++k) {
        out[0][size_t(c0 + k)] += first[k];
        if constexpr (N == 2) out[N - 1][size_t(c0 + k)] += second[k];
      }
    }
}

/// Per channel (padded to whole runs): the sums over the tensor of the N float terms
/// term(offset, channel), in double, in memory order (ChannelLayout::for_runs); a dense blocked
/// tensor per image and channel block first.
template <size_t N, typename Term>
Sums<N> channel_sums(const ChannelLayout& l, Term&& term) {
  Sums<N> out;
  for (auto& v : out) v.assign(size_t(l.padded()), 0.0);
  if (dense_blocks<8>(l)) {
    block_sums<8, N>(l, term, out);
  } else if (dense_blocks<16>(l)) {
    block_sums<16, N>(l, term, out);
  } else {
    l.for_runs(
        [&](int64_t offset, int64_t c0, int64_t count) {
          for (int64_t k = 0; k < count; ++k) {
            const std::array<float, N> t = term(offset + k, c0 + k);
            for (size_t s = 0; s < N; ++s) out[s][size_t(c0 + k)] += double(t[s]);
          }
        },
        [&](int64_t offset, int64_t ch, int64_t length, int64_t stride) {
          double acc[N] = {};
          for (int64_t k = 0; k < length; ++k) {
            const std::array<float, N> t = term(offset + k * stride, ch);
            for (size_t s = 0; s < N; ++s) acc[s] += double(t[s]);
          }
          for (size_t s = 0; s < N; ++s) out[s][size_t(ch)] += acc[s];
        });
  }
  return out;
}

/// A per-channel array in float (padded as the sums).
std::vector<float> floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

/// Per channel of a whole-batch plan (padded as ChannelLayout::padded): the mean and
/// 1 / sqrt(var + epsilon), in double.
struct ChannelStats {
  std::vector<double> mean, inv_std;
  ChannelStats(const dnnl::memory& mean_m, const dnnl::memory& var_m, const ChannelLayout& l,
               double eps)
      : mean(size_t(l.padded()), 0.0), inv_std(size_t(l.padded()), 0.0) {
    const float* m = static_cast<const float*>(mean_m.get_data_handle());
    const float* v = static_cast<const float*>(var_m.get_data_handle());
    for (int64_t i = 0; i < l.c; ++i) {
      mean[i] = m[i];
      inv_std[i] = 1.0 / std::sqrt(double(v[i]) + eps);
    }
  }
};

}  // namespace

void BatchNormLayer::batch_moments(int n, std::vector<double>& moments) const {
  const auto& p = static_cast<const BatchNormPlan&>(*plans_.at(n));
  const ChannelLayout l(p.src.get_desc());
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  const std::vector<double> sum =
      channel_sums<1>(l, [x](int64_t i, int64_t) { return std::array<float, 1>{x[i]}; })[0];
  std::vector<double> mean(sum.size());
  for (size_t c = 0; c < sum.size(); ++c) mean[c] = sum[c] / double(l.count());
  const std::vector<float> mean_f = floats(mean);
  const float* mu = mean_f.data();
  const std::vector<double> squares = channel_sums<1>(l, [x, mu](int64_t i, int64_t c) {
    const float d = x[i] - mu[c];
    return std::array<float, 1>{d * d};
  })[0];
  moments.assign(2 * size_t(in_.c), 0.0);
  for (int64_t c = 0; c < l.c; ++c) {
    moments[2 * c] = mean[c];
    moments[2 * c + 1] = squares[c];
  }
}

void BatchNormLayer::backward_sums(int n, std::vector<double>& sums) {
  const auto& p = plan<BatchNormPlan>(n);
  const ChannelLayout l(p.src.get_desc());
  const ChannelStats st(p.mean, p.variance, l, double(static_cast<float>(spec_.bn_epsilon)));
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  const float* y = static_cast<const float*>(p.dst.get_data_handle());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  const std::vector<float> mean_f = floats(st.mean);
  const float* mu = mean_f.data();
  // Per element: dy (masked by the fused relu: zero where the forward's output was not positive;
  // both loaded, then selected, so that the loop vectorises) and dy * (x - mean), in one pass.
  Sums<2> s;
  if (fused_relu_) {
    s = channel_sums<2>(l, [y, dy, x, mu](int64_t i, int64_t c) {
      const float g = dy[i], out = y[i];
      const float d = out > 0.0f ? g : 0.0f;
      return std::array<float, 2>{d, d * (x[i] - mu[c])};
    });
  } else {
    s = channel_sums<2>(l, [dy, x, mu](int64_t i, int64_t c) {
      return std::array<float, 2>{dy[i], dy[i] * (x[i] - mu[c])};
    });
  }
  sums.assign(2 * size_t(in_.c), 0.0);
  for (int64_t c = 0; c < l.c; ++c) {
    sums[2 * c] = s[0][size_t(c)];
    sums[2 * c + 1] = s[1][size_t(c)] * st.inv_std[c];
  }
  own_sums_ = sums;
}

void BatchNormLayer::whole_batch_backward(int n) {
  auto& p = plan<BatchNormPlan>(n);
  // own_sums_: this micro-batch's sums, from backward_sums just before (MicroBatchNetwork).
  for (int c = 0; c < in_.c; ++c) {
    params_[kGamma].gradient()[c] = static_cast<float>(own_sums_[2 * c + 1]);
    params_[kBeta].gradient()[c] = static_cast<float>(own_sums_[2 * c]);
  }
  if (!p.diff_src) return;
  const ChannelLayout l(p.src.get_desc());
  const ChannelStats st(p.mean, p.variance, l, double(static_cast<float>(spec_.bn_epsilon)));
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  const float* y = static_cast<const float*>(p.dst.get_data_handle());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  float* dx = static_cast<float*>(p.diff_src.get_data_handle());
  const float* gamma = params_[kGamma].value();
  // dx = a (d - mean(d)) - b (x - mean), a = gamma / sigma, b = a / sigma * mean(d * xhat): the
  // class comment's formula with xhat = (x - mean) / sigma, per channel in float.
  const double m = double(total_count_);
  std::vector<float> a(size_t(l.padded()), 0.0f), b(a.size(), 0.0f), mean_d(a.size(), 0.0f),
      mean(a.size(), 0.0f);
  for (int64_t c = 0; c < l.c; ++c) {
    const double scale = double(gamma[c]) * st.inv_std[c];
    a[c] = static_cast<float>(scale);
    b[c] = static_cast<float>(scale * st.inv_std[c] * (total_sums_[2 * c + 1] / m));
    mean_d[c] = static_cast<float>(total_sums_[2 * c] / m);
    mean[c] = static_cast<float>(st.mean[c]);
  }
  const bool relu = fused_relu_;
  const float *pa = a.data(), *pb = b.data(), *pd = mean_d.data(), *pm = mean.data();
  const auto grad = [=](int64_t i, int64_t c) {
    const float g = dy[i], out = y[i];
    const float d = relu && !(out > 0.0f) ? 0.0f : g;
    return pa[c] * (d - pd[c]) - pb[c] * (x[i] - pm[c]);
  };
  // Dense blocks: every lane, the padding ones too (their coefficients are 0, so they get 0).
  if (dense_blocks<8>(l)) return dense_block_walk<8>(l, dx, grad);
  if (dense_blocks<16>(l)) return dense_block_walk<16>(l, dx, grad);
  l.for_runs(
      [&](int64_t offset, int64_t c0, int64_t count) {
        for (int64_t k = 0; k < count; ++k) dx[offset + k] = grad(offset + k, c0 + k);
      },
      [&](int64_t offset, int64_t ch, int64_t length, int64_t stride) {
        for (int64_t k = 0; k < length; ++k)
          dx[offset + k * stride] = grad(offset + k * stride, ch);
      });
}

}  // namespace lenetlab
