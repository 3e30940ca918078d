#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

DenseLayer::DenseLayer(const LayerArgs& a) : Layer(a) {
  if (!in_.flat)
    throw RunError(spec_.mark.str() + ": " + name_ +
                   ": dense needs a flat input; add `flatten` before it (input is " + in_.str() +
                   ")");
  if (spec_.units <= 0)
    throw RunError(spec_.mark.str() + ": " + name_ + ": units must be positive");
  out_ = Shape{spec_.units, 1, 1, true};
  params_.reserve(2);
  const int64_t wsize = int64_t{spec_.units} * in_.c;
  Param& w = add_param(a.ctx, "weights", wsize, true);
  add_param(a.ctx, "bias", spec_.units, true);
  init_uniform(w.value(), wsize,
               init_limit(spec_.has_init ? spec_.init : a.default_init, in_.c, spec_.units),
               a.init_rng);
}

std::unique_ptr<Layer::Plan> DenseLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                   const dnnl::memory& diff_src) {
  auto p = std::make_unique<Plan>();
  p->dst = make_memory(ctx, n, out_);
  p->diff_dst = make_memory(ctx, n, out_);
  const auto src_md = src.get_desc(), dst_md = p->dst.get_desc();
  const dnnl::memory::desc w_md({out_.c, in_.c}, dt::f32, tag::oi);
  const dnnl::memory::desc b_md({out_.c}, dt::f32, tag::x);
  dnnl::memory w(w_md, ctx.engine, params_[0].value()), b(b_md, ctx.engine, params_[1].value());
  dnnl::memory dw(w_md, ctx.engine, params_[0].gradient()),
      db(b_md, ctx.engine, params_[1].gradient());
  const auto attr = ctx.attr();
  dnnl::inner_product_forward::primitive_desc fwd_pd(
      {dnnl::prop_kind::forward_training, src_md, w_md, b_md, dst_md}, forward_attr(ctx),
      ctx.engine);
  p->train.push_back(
      {dnnl::inner_product_forward(fwd_pd),
       {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, p->dst}},
       fwd_pd.scratchpad_desc()});
  p->infer = p->train;
  dnnl::inner_product_backward_weights::primitive_desc bww_pd({src_md, w_md, b_md, dst_md}, attr,
                                                              ctx.engine, fwd_pd);
  p->bwd.push_back({dnnl::inner_product_backward_weights(bww_pd),
                    {{DNNL_ARG_SRC, src},
                     {DNNL_ARG_DIFF_DST, p->diff_dst},
                     {DNNL_ARG_DIFF_WEIGHTS, dw},
                     {DNNL_ARG_DIFF_BIAS, db}},
                    bww_pd.scratchpad_desc()});
  if (diff_src) {
    dnnl::inner_product_backward_data::primitive_desc bwd_pd({src_md, w_md, dst_md}, attr,
                                                             ctx.engine, fwd_pd);
    p->bwd.push_back(
        {dnnl::inner_product_backward_data(bwd_pd),
         {{DNNL_ARG_DIFF_DST, p->diff_dst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diff_src}},
         bwd_pd.scratchpad_desc()});
  }
  return p;
}

FlattenLayer::FlattenLayer(const LayerArgs& a) : Layer(a) {
  out_ = Shape{static_cast<int>(in_.size()), 1, 1, true};
}

Layer::SrcLayouts FlattenLayer::src_layouts(Context&, int n) {
  return {plain_desc(n, in_), plain_desc(n, in_)};
}

std::unique_ptr<Layer::Plan> FlattenLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                     const dnnl::memory& diff_src) {
  auto p = std::make_unique<Plan>();
  const dnnl::memory::desc md(out_.dims(n), dt::f32, tag::nc);
  const dnnl::memory::desc plain4 = plain_desc(n, in_);
  const dnnl::memory x = convert(ctx, src, plain4, p->train);
  p->infer = p->train;
  p->dst = dnnl::memory(md, ctx.engine, x.get_data_handle());
  if (diff_src && diff_src.get_desc() == plain4) {
    p->diff_dst = dnnl::memory(md, ctx.engine, diff_src.get_data_handle());
  } else {
    p->diff_dst = make_memory(ctx, md);
    if (diff_src) {
      const dnnl::memory dy4(plain4, ctx.engine, p->diff_dst.get_data_handle());
      dnnl::reorder::primitive_desc pd(ctx.engine, plain4, ctx.engine, diff_src.get_desc(),
                                       ctx.attr());
      p->bwd.push_back({dnnl::reorder(pd),
                        {{DNNL_ARG_FROM, dy4}, {DNNL_ARG_TO, diff_src}},
                        pd.scratchpad_desc()});
    }
  }
  return p;
}

}  // namespace lenetlab
