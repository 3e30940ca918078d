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

/// Where element (n, c, h, w) of a plain (nchw, nc) or channel-blocked (nChw8c, nChw16c) f32
/// tensor is: n * sn + (c / block) * sc + h * sh + w * sw + c % block.
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
  /// f(offset) for every element of channel ch, in (n, h, w) order.
  template <typename F>
  void for_channel(int64_t ch, F&& f) const {
    const int64_t base = (ch / block) * sc + ch % block;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) f(base + i * sn + y * sh + x * sw);
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

void BatchNormLayer::batch_moments(int n, std::vector<double>& moments) const {
  const auto& p = static_cast<const BatchNormPlan&>(*plans_.at(n));
  const ChannelLayout l(p.src.get_desc());
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  moments.assign(2 * size_t(in_.c), 0.0);
  for (int64_t c = 0; c < l.c; ++c) {
    double sum = 0, squares = 0;
    l.for_channel(c, [&](int64_t i) { sum += x[i]; });
    const double mean = sum / double(l.count());
    l.for_channel(c, [&](int64_t i) { squares += (x[i] - mean) * (x[i] - mean); });
    moments[2 * c] = mean;
    moments[2 * c + 1] = squares;
  }
}

namespace {

/// Per channel c of a whole-batch plan: 1 / sqrt(var + epsilon) and the mean, in double.
struct ChannelStats {
  std::vector<double> mean, inv_std;
  ChannelStats(const dnnl::memory& mean_m, const dnnl::memory& var_m, int c, double eps) {
    const float* m = static_cast<const float*>(mean_m.get_data_handle());
    const float* v = static_cast<const float*>(var_m.get_data_handle());
    for (int i = 0; i < c; ++i) {
      mean.push_back(m[i]);
      inv_std.push_back(1.0 / std::sqrt(double(v[i]) + eps));
    }
  }
};

}  // namespace

void BatchNormLayer::backward_sums(int n, std::vector<double>& sums) const {
  const auto& p = static_cast<const BatchNormPlan&>(*plans_.at(n));
  const ChannelLayout l(p.src.get_desc());
  const ChannelStats st(p.mean, p.variance, in_.c, double(static_cast<float>(spec_.bn_epsilon)));
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  const float* y = static_cast<const float*>(p.dst.get_data_handle());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  const bool relu = fused_relu_;
  sums.assign(2 * size_t(in_.c), 0.0);
  for (int64_t c = 0; c < l.c; ++c) {
    double s_dy = 0, s_dy_xhat = 0;
    l.for_channel(c, [&](int64_t i) {
      const double d = relu && !(y[i] > 0.0f) ? 0.0 : double(dy[i]);
      s_dy += d;
      s_dy_xhat += d * ((x[i] - st.mean[c]) * st.inv_std[c]);
    });
    sums[2 * c] = s_dy;
    sums[2 * c + 1] = s_dy_xhat;
  }
}

void BatchNormLayer::whole_batch_backward(int n) {
  auto& p = plan<BatchNormPlan>(n);
  std::vector<double> own;
  backward_sums(n, own);
  for (int c = 0; c < in_.c; ++c) {
    params_[kGamma].gradient()[c] = static_cast<float>(own[2 * c + 1]);
    params_[kBeta].gradient()[c] = static_cast<float>(own[2 * c]);
  }
  if (!p.diff_src) return;
  const ChannelLayout l(p.src.get_desc());
  const ChannelStats st(p.mean, p.variance, in_.c, double(static_cast<float>(spec_.bn_epsilon)));
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  const float* y = static_cast<const float*>(p.dst.get_data_handle());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  float* dx = static_cast<float*>(p.diff_src.get_data_handle());
  const float* gamma = params_[kGamma].value();
  const double m = double(total_count_);
  for (int64_t c = 0; c < l.c; ++c) {
    const double mean_dy = total_sums_[2 * c] / m, mean_dy_xhat = total_sums_[2 * c + 1] / m;
    const double scale = double(gamma[c]) * st.inv_std[c];
    l.for_channel(c, [&](int64_t i) {
      const double d = fused_relu_ && !(y[i] > 0.0f) ? 0.0 : double(dy[i]);
      const double xhat = (x[i] - st.mean[c]) * st.inv_std[c];
      dx[i] = static_cast<float>(scale * (d - mean_dy - xhat * mean_dy_xhat));
    });
  }
}

}  // namespace lenetlab
