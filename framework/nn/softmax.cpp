
#include "core/error.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

SoftmaxLayer::SoftmaxLayer(const LayerArgs& a) : Layer(a) {
  if (!in_.flat)
    throw RunError(spec_.mark.str() + ": " + name_ + ": softmax needs (N, classes) logits, got " +
                   in_.str());
  out_ = in_;
}

std::unique_ptr<Layer::Plan> SoftmaxLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                     const dnnl::memory& diff_src) {
  auto p = std::make_unique<Plan>();
  p->dst = make_memory(ctx, n, out_);
  // The loss writes d(loss)/d(logits) into diff_dst, which is the layer below's diff_dst when the
  // layouts agree (always, for dense logits): no copy.
  const bool share = diff_src && diff_src.get_desc() == p->dst.get_desc();
  p->diff_dst = share ? diff_src : make_memory(ctx, n, out_);
  dnnl::logsoftmax_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_training, src.get_desc(), 1}, ctx.attr(), ctx.engine);
  p->train.push_back({dnnl::logsoftmax_forward(pd),
                      {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, p->dst}},
                      pd.scratchpad_desc()});
  p->infer = p->train;
  if (diff_src && !share) {
    dnnl::reorder::primitive_desc r(ctx.engine, p->diff_dst.get_desc(), ctx.engine,
                                    diff_src.get_desc(), ctx.attr());
    p->bwd.push_back({dnnl::reorder(r),
                      {{DNNL_ARG_FROM, p->diff_dst}, {DNNL_ARG_TO, diff_src}},
                      r.scratchpad_desc()});
  }
  return p;
}

}  // namespace lenetlab
