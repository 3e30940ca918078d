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

  dnnl::batch_normalization_forward::primitive_desc train_pd(
      {dnnl::prop_kind::forward_training, md, eps, flags}, attr, ctx.engine);
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
  if (fused_relu_) {
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
  if (!training) return;
  auto& p = plan<BatchNormPlan>(n);
  // moving = momentum * moving + (1 - momentum) * batch (Keras BatchNormalization, PyTorch
  // BatchNorm2d with momentum 1 - m). The batch is normalised with its biased variance, but the
  // population variance is estimated with the unbiased one, var * k / (k - 1) over the k values
  // per channel (Ioffe & Szegedy 2015, Algorithm 2 step 10; PyTorch; TensorFlow's fused batch
  // norm). For a dense layer at batch 64 the biased estimate is 1.6% low, which inference would
  // carry as a 0.8% scale error after every such layer.
  const int64_t k = int64_t{n} * in_.h * in_.w;
  const float unbiased = k > 1 ? static_cast<float>(double(k) / double(k - 1)) : 1.0f;
  const float m = static_cast<float>(spec_.bn_momentum);
  const float* mean = static_cast<const float*>(p.mean.get_data_handle());
  const float* var = static_cast<const float*>(p.variance.get_data_handle());
  float* moving_mean = params_[kMovingMean].value();
  float* moving_var = params_[kMovingVariance].value();
  for (int c = 0; c < in_.c; ++c) {
    moving_mean[c] = m * moving_mean[c] + (1.0f - m) * mean[c];
    moving_var[c] = m * moving_var[c] + (1.0f - m) * (var[c] * unbiased);
  }
}

}  // namespace lenetlab
