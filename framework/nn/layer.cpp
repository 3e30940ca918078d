#include "nn/layer.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lenetlab {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::memory::dims Shape::dims(int n) const {
  if (flat) return {n, c};
  return {n, c, h, w};
}

tag Shape::tag() const { return flat ? tag::nc : tag::nchw; }

std::string Shape::str() const {
  return flat ? fmt::format("({})", c) : fmt::format("({}, {}, {})", c, h, w);
}

int64_t Param::count() const {
  if (mask.empty()) return size;
  int64_t n = 0;
  for (float m : mask) n += m != 0.0f;
  return n;
}

Context::Context(WindowIsa window_isa) : window_isa(window_isa) {
  if (!window_isa_supported(window_isa))
    throw RunError("this CPU has no AVX-512 (AVX512F) for the hand-written poolings");
}

dnnl::primitive_attr Context::attr() const {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

dnnl::primitive_attr Layer::forward_attr(const Context& ctx) const {
  dnnl::primitive_attr a = ctx.attr();
  if (post_ops_.len() > 0) a.set_post_ops(post_ops_);
  return a;
}

void Layer::prepare(Context& ctx, int n, const dnnl::memory& src, const dnnl::memory& diff_src) {
  if (plans_.count(n)) return;
  next_buffer_ = 0;
  auto p = make_plan(ctx, n, src, diff_src);
  p->src = src;
  p->diff_src = diff_src;
  for (auto* list : {&p->train, &p->infer, &p->bwd})
    for (Step& step : *list) ctx.steps.push_back(&step);
  plans_[n] = std::move(p);
}

void Layer::forward(Context& ctx, int n, bool training) {
  Plan& p = *plans_.at(n);
  for (Step& step : training ? p.train : p.infer) ctx.execute(step);
}

void Layer::backward(Context& ctx, int n) {
  for (Step& step : plans_.at(n)->bwd) ctx.execute(step);
}

dnnl::memory::desc Layer::plain_desc(int n, Shape shape) {
  return dnnl::memory::desc(shape.dims(n), dt::f32, shape.tag());
}

namespace {

/// Whether `a` and `b` lay out their elements the same way but for the outermost dimension (N),
/// whose stride is then independent of N: a tensor of the smaller is a prefix of the larger.
bool same_but_batch(const dnnl::memory::desc& a, const dnnl::memory::desc& b) {
  dnnl_memory_desc_t x = a.data, y = b.data;
  if (x.ndims != y.ndims || x.ndims == 0 || x.format_kind != dnnl_blocked ||
      y.format_kind != dnnl_blocked || x.offset0 != 0 || y.offset0 != 0)
    return false;
  const auto outermost = [](const dnnl_memory_desc_t& d) {
    for (int i = 1; i < d.ndims; ++i)
      if (d.format_desc.blocking.strides[0] < d.format_desc.blocking.strides[i]) return false;
    for (int i = 0; i < d.format_desc.blocking.inner_nblks; ++i)
      if (d.format_desc.blocking.inner_idxs[i] == 0) return false;
    return true;
  };
  if (!outermost(x) || !outermost(y)) return false;
  x.dims[0] = x.padded_dims[0] = y.dims[0];
  return dnnl::memory::desc(x) == b;
}

}  // namespace

dnnl::memory Layer::make_memory(Context& ctx, const dnnl::memory::desc& desc) {
  const size_t k = next_buffer_++;
  if (k >= buffers_.size()) buffers_.resize(k + 1);
  dnnl::memory& shared = buffers_[k];
  if (shared && same_but_batch(shared.get_desc(), desc) &&
      desc.get_size() <= shared.get_desc().get_size())
    return dnnl::memory(desc, ctx.engine, shared.get_data_handle());
  dnnl::memory m(desc, ctx.engine);
  std::memset(m.get_data_handle(), 0, desc.get_size());
  if (!shared || desc.get_size() > shared.get_desc().get_size()) shared = m;
  return m;
}

namespace {

Step reorder_step(Context& ctx, const dnnl::memory& from, const dnnl::memory& to) {
  dnnl::reorder::primitive_desc pd(ctx.engine, from.get_desc(), ctx.engine, to.get_desc(),
                                   ctx.attr());
  return {dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc()};
}

}  // namespace

dnnl::memory Layer::convert(Context& ctx, const dnnl::memory& from, const dnnl::memory::desc& desc,
                            std::vector<Step>& steps) {
  if (from.get_desc() == desc) return from;
  dnnl::memory to = make_memory(ctx, desc);
  steps.push_back(reorder_step(ctx, from, to));
  return to;
}

dnnl::memory Layer::convert_back(Context& ctx, const dnnl::memory& to,
                                 const dnnl::memory::desc& desc, std::vector<Step>& after) {
  if (to.get_desc() == desc) return to;
  dnnl::memory from = make_memory(ctx, desc);
  after.push_back(reorder_step(ctx, from, to));
  return from;
}

std::vector<float> Layer::to_plain(Context& ctx, const dnnl::memory& m, int n, Shape shape) {
  dnnl::memory plain(plain_desc(n, shape), ctx.engine);
  dnnl::memory from = m;
  dnnl::reorder(from, plain).execute(ctx.stream, from, plain);
  ctx.stream.wait();
  const float* v = static_cast<const float*>(plain.get_data_handle());
  return std::vector<float>(v, v + n * shape.size());
}

void Layer::from_plain(Context& ctx, const std::vector<float>& values, const dnnl::memory& m, int n,
                       Shape shape) {
  dnnl::memory plain(plain_desc(n, shape), ctx.engine);
  std::copy(values.begin(), values.end(), static_cast<float*>(plain.get_data_handle()));
  dnnl::memory to = m;
  dnnl::reorder(plain, to).execute(ctx.stream, plain, to);
  ctx.stream.wait();
}

Param& Layer::add_param(Context& ctx, const std::string& suffix, int64_t size, bool trainable) {
  Param p;
  p.name = name_ + "." + suffix;
  p.size = size;
  p.trainable = trainable;
  const dnnl::memory::desc md({size}, dt::f32, tag::x);
  p.data = dnnl::memory(md, ctx.engine);
  std::memset(p.value(), 0, size * sizeof(float));
  if (trainable) {
    p.grad = dnnl::memory(md, ctx.engine);
    std::memset(p.gradient(), 0, size * sizeof(float));
  }
  params_.push_back(std::move(p));
  return params_.back();
}

dnnl::memory Layer::make_memory(Context& ctx, int n, Shape shape) {
  return make_memory(ctx, plain_desc(n, shape));
}

}  // namespace lenetlab
