#include <fmt/format.h>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

ActivationLayer::ActivationLayer(const LayerArgs& a) : Layer(a) { out_ = in_; }

dnnl::post_ops ActivationLayer::post_ops() const {
  dnnl::post_ops ops;  // fusable(): relu and scaled_tanh
  if (spec_.activation == ActivationKind::scaled_tanh) {
    // S x and tanh; A y stays this layer's pass (see the class comment).
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, kScaledTanhS, 0.0f);
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_tanh, 0.0f, 0.0f);
  } else {
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  }
  return ops;
}

std::unique_ptr<Layer::Plan> ActivationLayer::make_plan(Context& ctx, int, const dnnl::memory& src,
                                                        const dnnl::memory& diff_src) {
  auto p = std::make_unique<Plan>();
  const auto md = src.get_desc();  // element-wise: keep the incoming layout
  const bool fused = fusion_ != Fusion::none;
  // Fused: the previous layer's primitive wrote activation(x) (scaled tanh: tanh(S x)) into its
  // dst, which is ours too.
  p->dst = fused ? src : make_memory(ctx, md);
  if (fusion_ == Fusion::forward_and_backward) {
    // The previous layer's backward applies the derivative to its own diff_dst: ours is the same
    // buffer, and this layer executes nothing.
    p->diff_dst = diff_src;
    return p;
  }
  // Fused: the backward runs in place (oneDNN eltwise backward allows diff_dst == diff_src; the
  // scaled tanh's is element-wise), so this layer's diff_dst is the previous layer's: one buffer
  // less of the layer's size.
  const bool in_place = fused && diff_src && diff_src.get_desc() == md;
  p->diff_dst = in_place ? diff_src : make_memory(ctx, md);
  const auto attr = ctx.attr();
  const ActivationKind a = spec_.activation;
  auto eltwise = [&](dnnl::algorithm algo, float alpha, const dnnl::memory& in,
                     const dnnl::memory& out) {
    dnnl::eltwise_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_training, algo, md, alpha, 0.0f}, attr, ctx.engine);
    if (!fused || a == ActivationKind::scaled_tanh) {
      p->train.push_back({dnnl::eltwise_forward(pd),
                          {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}},
                          pd.scratchpad_desc()});
    }
    return pd;
  };
  if (a == ActivationKind::scaled_tanh) {
    // dst = A * tanh(S * src), as three passes, or fused only the last, in place on the previous
    // layer's dst (backward is hand-written below).
    if (!fused) {
      eltwise(dnnl::algorithm::eltwise_linear, kScaledTanhS, src, p->dst);
      eltwise(dnnl::algorithm::eltwise_tanh, 0.0f, p->dst, p->dst);
    }
    eltwise(dnnl::algorithm::eltwise_linear, kScaledTanhA, p->dst, p->dst);
  } else {
    // relu's derivative from src unfused (src > 0); fused, src is gone and dst > 0 is the same
    // mask. tanh and sigmoid always use dst. Fused, the forward descriptor only hints the backward.
    const auto algo =
        a == ActivationKind::relu   ? (fused ? dnnl::algorithm::eltwise_relu_use_dst_for_bwd
                                             : dnnl::algorithm::eltwise_relu)
        : a == ActivationKind::tanh ? dnnl::algorithm::eltwise_tanh_use_dst_for_bwd
                                    : dnnl::algorithm::eltwise_logistic_use_dst_for_bwd;
    auto fwd_pd = eltwise(algo, 0.0f, src, p->dst);
    if (diff_src) {
      dnnl::eltwise_backward::primitive_desc bwd_pd({algo, md, md, 0.0f, 0.0f}, attr, ctx.engine,
                                                    fwd_pd);
      const bool use_dst = a != ActivationKind::relu || fused;
      std::vector<Step> after;
      const dnnl::memory dx = convert_back(ctx, diff_src, md, after);
      p->bwd.push_back({dnnl::eltwise_backward(bwd_pd),
                        {{use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, use_dst ? p->dst : src},
                         {DNNL_ARG_DIFF_DST, p->diff_dst},
                         {DNNL_ARG_DIFF_SRC, dx}},
                        bwd_pd.scratchpad_desc()});
      p->bwd.insert(p->bwd.end(), after.begin(), after.end());
    }
  }
  p->infer = p->train;
  return p;
}

bool ActivationLayer::can_drop_backward(int n) const {
  const Plan& p = *plans_.at(n);
  if (!p.diff_src || backward_dropped(n)) return false;
  if (spec_.activation == ActivationKind::scaled_tanh)
    return true;  // fused or not, its own hand-written pass
  return spec_.activation == ActivationKind::relu && fusion_ == Fusion::forward &&
         p.diff_dst.get_data_handle() == p.diff_src.get_data_handle();
}

void ActivationLayer::forward(Context& ctx, int n, bool training) {
  if (forward_dropped(n)) return;
  if (!first_pass_dropped(n)) return Layer::forward(ctx, n, training);
  Plan& p = *plans_.at(n);
  auto& steps = training ? p.train : p.infer;
  for (size_t i = 1; i < steps.size(); ++i) ctx.execute(steps[i]);
}

void ActivationLayer::backward(Context& ctx, int n) {
  Plan& p = *plans_.at(n);
  if (!p.diff_src || backward_dropped(n)) return;
  if (spec_.activation != ActivationKind::scaled_tanh) {
    Layer::backward(ctx, n);
    return;
  }
  // scaled_tanh, element-wise in the shared layout (padding of blocked layouts is zero in dy, so
  // it stays zero in dx).
  const float* y = static_cast<const float*>(p.dst.get_data_handle());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  float* dx = static_cast<float*>(p.diff_src.get_data_handle());
  const int64_t count = static_cast<int64_t>(p.dst.get_desc().get_size() / sizeof(float));
  // Across the run's OpenMP threads (element-wise: the same bits for any thread count).
#pragma omp parallel for schedule(static) if (count >= kParallelElements)
  for (int64_t i = 0; i < count; ++i) dx[i] = scaled_tanh_backward(dy[i], y[i]);
}

}  // namespace lenetlab
