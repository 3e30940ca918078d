#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
ConvLayer::ConvLayer(const LayerArgs& a) : Layer(a) {
  const auto where = spec_.mark.str() + ": " + name_ + ": ";
  if (in_.flat) throw RunError(where + "conv needs a (C, H, W) input, got " + in_.str());
  if (spec_.filters <= 0 || spec_.kernel <= 0 || spec_.stride <= 0 || spec_.padding < 0)
    throw RunError(where + "filters, kernel and stride must be positive, padding >= 0");
  pad_ = spec_.padding;
  // 64-bit: the padding may be as large as INT_MAX, and then 2 * padding overflows an int.
  const int64_t oh = conv_output_size(in_.h, spec_.kernel, spec_.stride, pad_);
  const int64_t ow = conv_output_size(in_.w, spec_.kernel, spec_.stride, pad_);
  if (oh <= 0 || ow <= 0)
    throw RunError(fmt::format("{}kernel {} does not fit input {} with padding {}", where,
                               spec_.kernel, in_.str(), pad_));
  if (oh > INT32_MAX || ow > INT32_MAX)
    throw RunError(fmt::format("{}output {}x{} is too large (padding {})", where, oh, ow, pad_));
  out_ = Shape{spec_.filters, static_cast<int>(oh), static_cast<int>(ow), false};

  const int64_t kk = int64_t{spec_.kernel} * spec_.kernel;
  const int64_t wsize = int64_t{spec_.filters} * in_.c * kk;
  params_.reserve(2);
  Param& w = add_param(a.ctx, "weights", wsize, true);
  add_param(a.ctx, "bias", spec_.filters, true);
  double fan_in = double(in_.c) * kk;
  if (!spec_.connection_map.empty()) {
    if (static_cast<int>(spec_.connection_map.size()) != spec_.filters)
      throw RunError(fmt::format("{}connection_map has {} entries, expected one per filter ({})",
                                 where, spec_.connection_map.size(), spec_.filters));
    w.mask.assign(wsize, 0.0f);
    int64_t connections = 0;
    for (int o = 0; o < spec_.filters; ++o) {
      for (int i : spec_.connection_map[o]) {
        if (i < 0 || i >= in_.c)
          throw RunError(fmt::format("{}connection_map[{}] names input channel {}, input has {}",
                                     where, o, i, in_.c));
        std::fill_n(w.mask.begin() + (int64_t{o} * in_.c + i) * kk, kk, 1.0f);
        ++connections;
      }
    }
    // fan-in of one unit = its connected inputs (LeCun 1998 appendix C uses the actual fan-in).
    fan_in = double(connections) / spec_.filters * kk;
  }
  const double limit =
      init_limit(spec_.has_init ? spec_.init : a.default_init, fan_in, double(spec_.filters) * kk);
  init_uniform(w.value(), wsize, limit, a.init_rng, w.mask.empty() ? nullptr : w.mask.data());
}

int64_t ConvLayer::macs() const {
  // One MAC per connected weight per output position.
  return params_[0].count() * out_.h * out_.w;
}

namespace {

const auto kAny = tag::any;
const auto kAlgo = dnnl::algorithm::convolution_direct;

}  // namespace

dnnl::convolution_forward::primitive_desc ConvLayer::forward_pd(Context& ctx, int n) const {
  return {{dnnl::prop_kind::forward_training,
           kAlgo,
           {in_.dims(n), dt::f32, kAny},
           {{spec_.filters, in_.c, spec_.kernel, spec_.kernel}, dt::f32, kAny},
           {{spec_.filters}, dt::f32, tag::x},
           {out_.dims(n), dt::f32, kAny},
           {spec_.stride, spec_.stride},
           {pad_, pad_},
           {pad_, pad_}},
          forward_attr(ctx),
          ctx.engine};
}

dnnl::convolution_backward_data::primitive_desc ConvLayer::backward_data_pd(
    Context& ctx, int n, const dnnl::convolution_forward::primitive_desc& fwd_pd) const {
  return {{kAlgo,
           {in_.dims(n), dt::f32, kAny},
           {{spec_.filters, in_.c, spec_.kernel, spec_.kernel}, dt::f32, kAny},
           {out_.dims(n), dt::f32, kAny},
           {spec_.stride, spec_.stride},
           {pad_, pad_},
           {pad_, pad_}},
          ctx.attr(),
          ctx.engine,
          fwd_pd};
}

Layer::SrcLayouts ConvLayer::src_layouts(Context& ctx, int n) {
  const auto fwd_pd = forward_pd(ctx, n);
  return {fwd_pd.src_desc(), backward_data_pd(ctx, n, fwd_pd).diff_src_desc()};
}

std::unique_ptr<Layer::Plan> ConvLayer::make_plan(Context& ctx, int n, const dnnl::memory& src,
                                                  const dnnl::memory& diff_src) {
  auto p = std::make_unique<Plan>();
  // Layouts: oneDNN picks src/weights/dst (format_tag::any) for its jit kernels (e.g. nChw16c, a
  // blocked OIhw16i16o); parameters stay plain OIHW for the optimizer and are reordered once per
  // step (cheap at these sizes, oneDNN notes pitfall 2). Activations stay in the primitive's
  // layout.
  const dnnl::memory::desc src_any(in_.dims(n), dt::f32, kAny),
      dst_any(out_.dims(n), dt::f32, kAny);
  const dnnl::memory::desc w_any({spec_.filters, in_.c, spec_.kernel, spec_.kernel}, dt::f32, kAny);
  const dnnl::memory::desc w_md({spec_.filters, in_.c, spec_.kernel, spec_.kernel}, dt::f32,
                                tag::oihw);
  const dnnl::memory::desc b_md({spec_.filters}, dt::f32, tag::x);
  const dnnl::memory::dims strides{spec_.stride, spec_.stride}, pad{pad_, pad_};
  const auto attr = ctx.attr();
  dnnl::memory w(w_md, ctx.engine, params_[0].value()), b(b_md, ctx.engine, params_[1].value());
  dnnl::memory dw(w_md, ctx.engine, params_[0].gradient()),
      db(b_md, ctx.engine, params_[1].gradient());

  const auto fwd_pd = forward_pd(ctx, n);
  p->dst = make_memory(ctx, fwd_pd.dst_desc());
  p->diff_dst = make_memory(ctx, fwd_pd.dst_desc());
  const dnnl::memory x = convert(ctx, src, fwd_pd.src_desc(), p->train);
  const dnnl::memory w_fwd = convert(ctx, w, fwd_pd.weights_desc(), p->train);
  p->train.push_back(
      {dnnl::convolution_forward(fwd_pd),
       {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w_fwd}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, p->dst}},
       fwd_pd.scratchpad_desc()});
  p->infer = p->train;

  dnnl::convolution_backward_weights::primitive_desc bww_pd(
      {kAlgo, src_any, w_any, b_md, dst_any, strides, pad, pad}, attr, ctx.engine, fwd_pd);
  std::vector<Step> after;
  // The forward's converted src is still valid during backward; reuse it when layouts agree.
  const dnnl::memory x_bww =
      bww_pd.src_desc() == x.get_desc() ? x : convert(ctx, src, bww_pd.src_desc(), p->bwd);
  const dnnl::memory dy_bww = convert(ctx, p->diff_dst, bww_pd.diff_dst_desc(), p->bwd);
  const dnnl::memory dw_bww = convert_back(ctx, dw, bww_pd.diff_weights_desc(), after);
  p->bwd.push_back({dnnl::convolution_backward_weights(bww_pd),
                    {{DNNL_ARG_SRC, x_bww},
                     {DNNL_ARG_DIFF_DST, dy_bww},
                     {DNNL_ARG_DIFF_WEIGHTS, dw_bww},
                     {DNNL_ARG_DIFF_BIAS, db}},
                    bww_pd.scratchpad_desc()});
  p->bwd.insert(p->bwd.end(), after.begin(), after.end());
  after.clear();

  if (diff_src) {  // skipped for the first layer (oneDNN notes: IC=1 backward-data is 13x the
                   // forward)
    const auto bwd_pd = backward_data_pd(ctx, n, fwd_pd);
    const dnnl::memory dy_bwd = bwd_pd.diff_dst_desc() == dy_bww.get_desc()
                                    ? dy_bww
                                    : convert(ctx, p->diff_dst, bwd_pd.diff_dst_desc(), p->bwd);
    const dnnl::memory w_bwd = bwd_pd.weights_desc() == w_fwd.get_desc()
                                   ? w_fwd
                                   : convert(ctx, w, bwd_pd.weights_desc(), p->bwd);
    const dnnl::memory dx = convert_back(ctx, diff_src, bwd_pd.diff_src_desc(), after);
    p->bwd.push_back(
        {dnnl::convolution_backward_data(bwd_pd),
         {{DNNL_ARG_DIFF_DST, dy_bwd}, {DNNL_ARG_WEIGHTS, w_bwd}, {DNNL_ARG_DIFF_SRC, dx}},
         bwd_pd.scratchpad_desc()});
    p->bwd.insert(p->bwd.end(), after.begin(), after.end());
  }
  return p;
}

void ConvLayer::backward(Context& ctx, int n) {
  Layer::backward(ctx, n);
  const Param& w = params_[0];
  if (!w.mask.empty()) {  // C3 connection map: unconnected weights get no gradient
    float* g = w.gradient();
    const float* m = w.mask.data();
    for (int64_t i = 0; i < w.size; ++i) g[i] *= m[i];
  }
}

}  // namespace lenetlab
