// Every layer kind three ways (style habit 8): forward against a naive double-precision reference,
// backward against central differences of L = sum(dst * R) (so diff_dst = R), and its shape errors.
// Plus: max-pool ties, batch-norm moving statistics, dropout masks, and the C3 connection mask
// staying exactly zero under every optimizer. Layers that accept any input layout are run on plain
// NCHW and on the blocked layouts (nChw16c, nChw8c) a convolution hands on inside a network.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "nn/layers.hpp"
#include "nn/network.hpp"
#include "nn_test_util.hpp"
#include "optim/optimizer.hpp"

namespace lenetlab::test {
namespace {

// ---- naive references (double precision, NCHW) --------------------------------------------------

/// Convolution with bias, zero padding on every side; weights OIHW.
std::vector<double> conv_reference(const float* x, int n, Shape in, const float* w, const float* b,
                                   int filters, int k, int stride, int pad, Shape out) {
  std::vector<double> y(static_cast<size_t>(int64_t{n} * out.size()));
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < filters; ++o)
      for (int oh = 0; oh < out.h; ++oh)
        for (int ow = 0; ow < out.w; ++ow) {
          double s = b[o];
          for (int c = 0; c < in.c; ++c)
            for (int kh = 0; kh < k; ++kh)
              for (int kw = 0; kw < k; ++kw) {
                const int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                if (ih < 0 || ih >= in.h || iw < 0 || iw >= in.w) continue;
                s += double(x[((int64_t{i} * in.c + c) * in.h + ih) * in.w + iw]) *
                     double(w[((int64_t{o} * in.c + c) * k + kh) * k + kw]);
              }
          y[((int64_t{i} * filters + o) * out.h + oh) * out.w + ow] = s;
        }
  return y;
}

/// Max or average pooling without padding (window k, stride s).
std::vector<double> pool_reference(const float* x, int n, Shape in, bool max, int k, int s,
                                   Shape out) {
  std::vector<double> y(static_cast<size_t>(int64_t{n} * out.size()));
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < in.c; ++c)
      for (int oh = 0; oh < out.h; ++oh)
        for (int ow = 0; ow < out.w; ++ow) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw) {
              const double v =
                  x[((int64_t{i} * in.c + c) * in.h + oh * s + kh) * in.w + ow * s + kw];
              acc = max ? std::max(acc, v) : acc + v;
            }
          y[((int64_t{i} * in.c + c) * out.h + oh) * out.w + ow] = max ? acc : acc / (k * k);
        }
  return y;
}

/// For max pooling: true for source elements within `margin` of another element of one of their
/// windows (a perturbation of that size could change the arg-max: a kink of the layer).
std::vector<bool> max_pool_near_ties(const float* x, int n, Shape in, int k, int s, Shape out,
                                     double margin) {
  std::vector<bool> near(static_cast<size_t>(int64_t{n} * in.size()), false);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < in.c; ++c)
      for (int oh = 0; oh < out.h; ++oh)
        for (int ow = 0; ow < out.w; ++ow) {
          std::vector<int64_t> window;
          for (int kh = 0; kh < k; ++kh)
            for (int kw = 0; kw < k; ++kw)
              window.push_back(((int64_t{i} * in.c + c) * in.h + oh * s + kh) * in.w + ow * s + kw);
          for (int64_t a : window) {
            double others = -std::numeric_limits<double>::infinity();
            for (int64_t b : window)
              if (b != a) others = std::max(others, double(x[b]));
            if (std::abs(double(x[a]) - others) < margin) near[static_cast<size_t>(a)] = true;
          }
        }
  return near;
}

double activation_reference(const std::string& name, double x) {
  if (name == "relu") return x > 0 ? x : 0.0;
  if (name == "tanh") return std::tanh(x);
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  return 1.7159 * std::tanh(2.0 / 3.0 * x);  // scaled_tanh, LeCun 1998 appendix A
}

/// Batch normalisation with per-channel statistics (biased variance) over (N, H, W); 2-D input
/// is passed as (C, 1, 1). mean/var, when given, replace the batch statistics (inference).
std::vector<double> batch_norm_reference(const float* x, int n, Shape in, const float* gamma,
                                         const float* beta, double eps, const float* mean = nullptr,
                                         const float* var = nullptr,
                                         std::vector<double>* batch_mean = nullptr,
                                         std::vector<double>* batch_var = nullptr) {
  const int64_t hw = int64_t{in.h} * in.w;
  std::vector<double> y(static_cast<size_t>(int64_t{n} * in.size()));
  if (batch_mean) batch_mean->assign(in.c, 0.0);
  if (batch_var) batch_var->assign(in.c, 0.0);
  for (int c = 0; c < in.c; ++c) {
    double m = 0, v = 0;
    for (int i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) m += x[(int64_t{i} * in.c + c) * hw + j];
    m /= double(n * hw);
    for (int i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        const double d = x[(int64_t{i} * in.c + c) * hw + j] - m;
        v += d * d;
      }
    v /= double(n * hw);
    if (batch_mean) (*batch_mean)[c] = m;
    if (batch_var) (*batch_var)[c] = v;
    if (mean) m = mean[c];
    if (var) v = var[c];
    for (int i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        const int64_t at = (int64_t{i} * in.c + c) * hw + j;
        y[at] = double(gamma[c]) * (x[at] - m) / std::sqrt(v + eps) + double(beta[c]);
      }
  }
  return y;
}

/// Dense layer y = W x + b, W (units, K) row-major.
std::vector<double> dense_reference(const float* x, int n, int k, const float* w, const float* b,
                                    int units) {
  std::vector<double> y(static_cast<size_t>(n) * units);
  for (int i = 0; i < n; ++i)
    for (int u = 0; u < units; ++u) {
      double s = b[u];
      for (int j = 0; j < k; ++j) s += double(w[int64_t{u} * k + j]) * x[int64_t{i} * k + j];
      y[static_cast<size_t>(i) * units + u] = s;
    }
  return y;
}

// ---- gradient check of one layer ----------------------------------------------------------------

/// Runs backward with diff_dst = R (fixed, random) and compares diff_src and the gradient of every
/// trainable parameter with central differences of L = sum(dst * R). Masked weights (mask 0) are
/// not parameters: their analytic gradient must be exactly zero and they are not perturbed.
void check_layer_gradients(LayerHarness& h, bool training, const GradCheck& opt,
                           const std::function<bool(int64_t)>& skip_src = nullptr,
                           bool check_src = true) {
  Rng rng(99, RngStream::shuffle);
  const std::vector<float> r = uniform_vector(h.dst_size(), rng);
  h.forward_backward(r, training);
  const std::vector<float> diff_src(h.diff_src(), h.diff_src() + h.src_size());
  std::vector<std::vector<float>> grads;
  for (const Param& p : h.layer().params())
    grads.emplace_back(p.trainable ? std::vector<float>(p.gradient(), p.gradient() + p.size)
                                   : std::vector<float>());
  const auto f = [&] { return h.objective(r, training); };
  if (check_src) {
    const int checked = check_gradient("diff_src", h.src(), diff_src, f, opt, skip_src);
    CHECK(checked > h.src_size() / 4);  // kinks may not hide most of the tensor
  }
  for (size_t k = 0; k < h.layer().params().size(); ++k) {
    Param& p = h.param(k);
    if (!p.trainable) continue;
    const std::vector<float> mask = p.mask;
    for (size_t i = 0; i < mask.size(); ++i)
      if (mask[i] == 0.0f) REQUIRE(grads[k][i] == 0.0f);
    const auto masked = [&mask](int64_t i) {
      return !mask.empty() && mask[static_cast<size_t>(i)] == 0.0f;
    };
    CAPTURE(p.name);
    CHECK(check_gradient(p.name.c_str(), p.value(), grads[k], f, opt, masked) > 0);
  }
}

using Tag = LayerHarness::Tag;

/// Layouts of the src a layer is tested with: plain NCHW, and the blocked layouts a convolution
/// may hand to the next layer inside a network.
constexpr Tag kLayouts[] = {Tag::undef, Tag::nChw16c, Tag::nChw8c};

/// The layouts to test a layer on input `in` with (blocked layouts exist for 4-D tensors only).
std::vector<Tag> layouts_for(Shape in) {
  if (in.flat) return {Tag::undef};
  return {std::begin(kLayouts), std::end(kLayouts)};
}

const char* layout_name(Tag tag) {
  return tag == Tag::undef ? "plain" : tag == Tag::nChw16c ? "nChw16c" : "nChw8c";
}

LayerHarness make_harness(const LayerSpec& spec, Shape in, int n, Tag layout = Tag::undef,
                          uint64_t data_seed = 7) {
  LayerHarness h(spec, in, n, true, 1, InitKind::glorot_uniform, layout);
  Rng rng(data_seed, RngStream::split);
  fill_uniform(h.src(), h.src_size(), rng);
  return h;
}

/// Gives every parameter a random value (biases and BN statistics start at constants).
void randomize_params(LayerHarness& h, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed, RngStream::init);
  for (Param& p : h.layer().params()) {
    fill_uniform(p.value(), p.size, rng, lo, hi);
    if (!p.mask.empty())
      for (int64_t i = 0; i < p.size; ++i) p.value()[i] *= p.mask[static_cast<size_t>(i)];
  }
}

}  // namespace

// ===== convolution ===============================================================================

TEST_CASE("nn: conv: forward matches a naive convolution") {
  struct Case {
    Shape in;
    int filters, kernel, stride, padding;
  };
  const Case cases[] = {
      {{3, 7, 7}, 4, 5, 1, 2},  // "same" padding, stride 1
      {{2, 8, 8}, 3, 3, 1, 0},  // valid
      {{2, 8, 8}, 3, 3, 2, 1},  // stride 2 with padding
  };
  for (const Tag layout : kLayouts)
    for (const Case& c : cases) {
      CAPTURE(layout_name(layout));
      CAPTURE(c.kernel);
      CAPTURE(c.stride);
      CAPTURE(c.padding);
      LayerHarness h =
          make_harness(conv_spec(c.filters, c.kernel, c.stride, c.padding), c.in, 3, layout);
      randomize_params(h, 11);
      const int oh = (c.in.h + 2 * c.padding - c.kernel) / c.stride + 1;
      CHECK(h.out().c == c.filters);
      CHECK(h.out().h == oh);
      CHECK(h.out().w == oh);
      CHECK(h.layer().macs() == int64_t{c.filters} * c.in.c * c.kernel * c.kernel * oh * oh);
      h.forward(true);
      check_close(h.dst(),
                  conv_reference(h.src(), 3, c.in, h.param(0).value(), h.param(1).value(),
                                 c.filters, c.kernel, c.stride, c.padding, h.out()),
                  1e-5, 1.0, "conv dst");
    }
}

TEST_CASE("nn: conv: gradients match central differences") {
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    {  // padding 2, stride 1
      LayerHarness h = make_harness(conv_spec(4, 5, 1, 2), {3, 7, 7}, 3, layout);
      randomize_params(h, 12);
      check_layer_gradients(h, true, {});
    }
    {  // valid, stride 2
      LayerHarness h = make_harness(conv_spec(3, 3, 2, 0), {2, 7, 7}, 3, layout);
      randomize_params(h, 13);
      check_layer_gradients(h, true, {});
    }
  }
}

TEST_CASE("nn: conv: connection map masks the weights, forward and gradients") {
  LayerSpec spec = conv_spec(5, 3, 1, 1);
  spec.connection_map = {{0}, {1, 2}, {0, 2}, {0, 1, 2, 3}, {3}};
  const Shape in{4, 6, 6};
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    LayerHarness h = make_harness(spec, in, 3, layout);
    Param& w = h.param(0);
    REQUIRE(w.mask.size() == static_cast<size_t>(w.size));
    // Initialised weights are zero exactly where the map has no connection.
    for (int o = 0; o < 5; ++o)
      for (int c = 0; c < 4; ++c) {
        const auto& m = spec.connection_map[o];
        const bool connected = std::find(m.begin(), m.end(), c) != m.end();
        for (int j = 0; j < 9; ++j) {
          const size_t at = (size_t(o) * 4 + c) * 9 + j;
          CHECK(w.mask[at] == (connected ? 1.0f : 0.0f));
          if (!connected) CHECK(w.value()[at] == 0.0f);
        }
      }
    CHECK(w.count() == 10 * 9);  // 10 connections of 3x3
    CHECK(h.layer().macs() == int64_t{10} * 9 * 6 * 6);
    randomize_params(h, 14);  // keeps masked weights at zero
    h.forward(true);
    check_close(h.dst(),
                conv_reference(h.src(), 3, in, w.value(), h.param(1).value(), 5, 3, 1, 1, h.out()),
                1e-5, 1.0, "masked conv dst");
    check_layer_gradients(h, true, {});
  }
}

TEST_CASE("nn: conv: shape errors") {
  Context ctx;
  Rng rng(1, RngStream::init);
  auto build = [&](const LayerSpec& spec, Shape in) {
    return make_layer(ctx, spec, "conv1", 0, in, InitKind::glorot_uniform, rng, 1);
  };
  CHECK_THROWS_AS(build(conv_spec(4, 5), {1, 4, 4}), RunError);         // kernel > input
  CHECK_THROWS_AS(build(conv_spec(4, 7, 1, 1), {1, 4, 4}), RunError);   // still > with padding
  CHECK_NOTHROW(build(conv_spec(4, 5, 1, 1), {1, 3, 3}));               // fits with padding
  CHECK_THROWS_AS(build(conv_spec(0, 3), {1, 8, 8}), RunError);         // no filters
  CHECK_THROWS_AS(build(conv_spec(2, 3, 0), {1, 8, 8}), RunError);      // stride 0
  CHECK_THROWS_AS(build(conv_spec(2, 3), {16, 1, 1, true}), RunError);  // flat input
  LayerSpec map = conv_spec(2, 3);
  map.connection_map = {{0}};  // one entry for two filters
  CHECK_THROWS_AS(build(map, {2, 8, 8}), RunError);
  map.connection_map = {{0}, {2}};  // channel 2 of a 2-channel input
  CHECK_THROWS_AS(build(map, {2, 8, 8}), RunError);
  // The message names the declaration and the layer.
  LayerSpec big = conv_spec(4, 5);
  big.mark = {"arch.yaml", 7, 5};
  try {
    build(big, {1, 4, 4});
    FAIL("expected RunError");
  } catch (const RunError& e) {
    const std::string what = e.what();
    CHECK(what.find("arch.yaml:7:5") != std::string::npos);
    CHECK(what.find("conv1") != std::string::npos);
  }
}

// ===== pooling ===================================================================================

TEST_CASE("nn: pool: max pooling forward and gradients") {
  struct Case {
    Shape in;
    int kernel, stride;
  };
  // 3x3 windows at stride 3: the hand-written kernels' general (not unrolled) window loop.
  const Case cases[] = {{{3, 6, 6}, 2, 2}, {{2, 7, 7}, 3, 2}, {{2, 7, 7}, 3, 3}};
  for (const Tag layout : kLayouts)
    for (const Case& c : cases) {
      CAPTURE(layout_name(layout));
      CAPTURE(c.kernel);
      CAPTURE(c.stride);
      LayerHarness h = make_harness(pool_spec(true, c.kernel, c.stride), c.in, 3, layout);
      const int o = (c.in.h - c.kernel) / c.stride + 1;
      CHECK(h.out().c == c.in.c);
      CHECK(h.out().h == o);
      CHECK(h.out().w == o);
      CHECK(h.layer().params().empty());
      h.forward(true);
      const auto expected = pool_reference(h.src(), 3, c.in, true, c.kernel, c.stride, h.out());
      check_close(h.dst(), expected, 1e-6, 1.0, "max pool dst (training)");
      h.forward(false);
      check_close(h.dst(), expected, 1e-6, 1.0, "max pool dst (inference)");
      const GradCheck opt;
      const auto near =
          max_pool_near_ties(h.src(), 3, c.in, c.kernel, c.stride, h.out(), 2 * opt.eps);
      check_layer_gradients(h, true, opt, [&near](int64_t i) { return near[size_t(i)]; });
    }
}

TEST_CASE("nn: pool: max pooling sends a tied window's gradient to exactly one position") {
  const Shape in{2, 4, 4};
  const int n = 3;
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    LayerHarness h(pool_spec(true, 2), in, n, true, 1, InitKind::glorot_uniform, layout);
    // Every 2x2 window holds one value four times; windows differ.
    for (int64_t i = 0; i < h.src_size(); ++i) {
      const int64_t w = i % 4, hh = (i / 4) % 4, plane = i / 16;
      h.src()[i] = 0.25f * float(plane * 4 + (hh / 2) * 2 + w / 2);
    }
    Rng rng(5, RngStream::shuffle);
    std::vector<float> r = uniform_vector(h.dst_size(), rng, 0.5f, 1.5f);  // non-zero
    h.forward_backward(r, true);
    const Shape out = h.out();
    REQUIRE(out.h == 2);
    const std::vector<float> y = h.dst();
    for (int64_t plane = 0; plane < int64_t{n} * in.c; ++plane)
      for (int oh = 0; oh < out.h; ++oh)
        for (int ow = 0; ow < out.w; ++ow) {
          const float dy = r[static_cast<size_t>((plane * out.h + oh) * out.w + ow)];
          CHECK(y[size_t((plane * out.h + oh) * out.w + ow)] ==
                h.src()[plane * 16 + oh * 8 + ow * 2]);
          int nonzero = 0;
          double sum = 0;
          for (int kh = 0; kh < 2; ++kh)
            for (int kw = 0; kw < 2; ++kw) {
              const float d = h.diff_src()[plane * 16 + (oh * 2 + kh) * 4 + ow * 2 + kw];
              nonzero += d != 0.0f;
              sum += d;
            }
          CHECK(nonzero == 1);
          CHECK(sum == doctest::Approx(dy).epsilon(1e-6));
        }
  }
}

namespace {

/// oneDNN 2.6's own 2x2 pooling (stride 2, forward training and backward) on plain NCHW values:
/// the reference of the hand-written poolings. Returns {dst, diff_src}.
std::pair<std::vector<float>, std::vector<float>> onednn_pool_2x2(bool max, int n, Shape in,
                                                                  const float* src,
                                                                  const std::vector<float>& dy) {
  using namespace dnnl;
  Context ctx;
  const Shape out{in.c, in.h / 2, in.w / 2, false};
  const memory::desc src_md(in.dims(n), memory::data_type::f32, memory::format_tag::nchw);
  const memory::desc dst_md(out.dims(n), memory::data_type::f32, memory::format_tag::nchw);
  const memory::dims two{2, 2}, zero{0, 0};
  const auto algo = max ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
  pooling_forward::primitive_desc fwd(
      {prop_kind::forward_training, algo, src_md, dst_md, two, two, zero, zero}, ctx.engine);
  pooling_backward::primitive_desc bwd({algo, src_md, dst_md, two, two, zero, zero}, ctx.engine,
                                       fwd);
  std::vector<float> x(src, src + n * in.size()), y(size_t(n * out.size())), dx(x.size());
  std::vector<float> g = dy;
  memory xm(src_md, ctx.engine, x.data()), ym(dst_md, ctx.engine, y.data()),
      dym(dst_md, ctx.engine, g.data()), dxm(src_md, ctx.engine, dx.data());
  std::unordered_map<int, memory> fwd_args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}},
      bwd_args{{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_SRC, dxm}};
  if (max) {
    memory ws(fwd.workspace_desc(), ctx.engine);
    fwd_args[DNNL_ARG_WORKSPACE] = bwd_args[DNNL_ARG_WORKSPACE] = ws;
  }
  pooling_forward(fwd).execute(ctx.stream, fwd_args);
  pooling_backward(bwd).execute(ctx.stream, bwd_args);
  ctx.stream.wait();
  return {y, dx};
}

bool same_bits(const float* a, const float* b, size_t count) {
  return std::memcmp(a, b, sizeof(float) * count) == 0;
}

/// Where a hand-written pooling keeps dst and diff_dst (PoolLayer::prefer_dst_layouts): in src's
/// blocking (no preference), both plain NCHW (a flatten, or activations, next), or dst plain and
/// diff_dst blocked (a convolution of few input channels next).
enum class DstLayouts { blocked, plain, plain_dst_blocked_diff };

const char* dst_layouts_name(DstLayouts d) {
  return d == DstLayouts::blocked ? "blocked" : d == DstLayouts::plain ? "plain" : "plain, blocked";
}

/// LayerHarness's before_prepare for a 2x2 pooling on input `in` in layout `layout`.
std::function<void(Layer&, int)> prefer(DstLayouts d, Shape in, Tag layout) {
  if (d == DstLayouts::blocked) return nullptr;
  return [=](Layer& layer, int n) {
    const Shape out{in.c, in.h / 2, in.w / 2, false};
    const dnnl::memory::desc plain(out.dims(n), dnnl::memory::data_type::f32, Tag::nchw),
        blocked(out.dims(n), dnnl::memory::data_type::f32, layout);
    dynamic_cast<PoolLayer&>(layer).prefer_dst_layouts(
        n, {plain, d == DstLayouts::plain ? plain : blocked});
  };
}

/// Whether the layer took the layouts asked for (see prefer()).
void check_dst_layouts(Layer& layer, int n, DstLayouts d) {
  const auto is_plain = [&](const dnnl::memory& m) {
    return m.get_desc() ==
           dnnl::memory::desc(layer.out_shape().dims(n), dnnl::memory::data_type::f32, Tag::nchw);
  };
  CHECK(is_plain(layer.dst(n)) == (d != DstLayouts::blocked));
  CHECK(is_plain(layer.diff_dst(n)) == (d == DstLayouts::plain));
}

}  // namespace

TEST_CASE("nn: pool: max pooling gives oneDNN's values and gradients bit for bit, ties included") {
  // On blocked layouts the layer's training max pooling is hand-written (PoolLayer, WindowPool);
  // the reference is oneDNN 2.6's own max pooling (forward training with its workspace, backward)
  // on the same values in plain NCHW. Inputs from {-0, +0, 0.5, 1, 2}, the values a relu hands on,
  // so most windows hold ties (and zeros of both signs); odd sizes leave a row and a column
  // outside every window.
  // Each instruction set of the hand-written kernels (SSE2, AVX-512 where the CPU has it), in
  // training and in inference, with dst and diff_dst in each layout it can keep them in.
  const int n = 4;
  for (const WindowIsa isa : window_isas())
    for (const Shape in : {Shape{20, 12, 12}, Shape{6, 9, 7}})
      for (const Tag layout : {Tag::nChw16c, Tag::nChw8c})
        for (const DstLayouts d :
             {DstLayouts::blocked, DstLayouts::plain, DstLayouts::plain_dst_blocked_diff}) {
          CAPTURE(isa == WindowIsa::avx512);
          CAPTURE(in.str());
          CAPTURE(layout_name(layout));
          CAPTURE(dst_layouts_name(d));
          LayerHarness h(pool_spec(true, 2), in, n, true, 1, InitKind::glorot_uniform, layout,
                         prefer(d, in, layout), isa);
          check_dst_layouts(h.layer(), n, d);
          const float values[] = {-0.0f, 0.0f, 0.5f, 1.0f, 2.0f};
          Rng rng(11, RngStream::shuffle);
          for (int64_t i = 0; i < h.src_size(); ++i)
            h.src()[i] = values[static_cast<int>(rng.uniform_float() * 5.0f) % 5];
          const std::vector<float> r = uniform_vector(h.dst_size(), rng, -1.0f, 1.0f);
          const auto [y, dx] = onednn_pool_2x2(true, n, in, h.src(), r);
          h.forward(false);
          CHECK(same_bits(h.dst().data(), y.data(), y.size()));
          h.forward_backward(r, true);
          CHECK(same_bits(h.dst().data(), y.data(), y.size()));
          CHECK(same_bits(h.diff_src(), dx.data(), dx.size()));
        }
}

TEST_CASE("nn: pool: average pooling gives oneDNN's values and gradients bit for bit") {
  // On blocked layouts the layer's 2x2 average pooling is hand-written (PoolLayer, WindowPool);
  // the reference is oneDNN 2.6's average pooling on the same values in plain NCHW, and for the
  // trainable form (LeNet-5 S2/S4) y = a * pooled + b and oneDNN's backward of a * dy, computed
  // here in float. Values of very different sizes (the sum's order shows) and zeros of both signs.
  // Each instruction set of the hand-written kernels, in training and in inference, with dst and
  // diff_dst in each layout it can keep them in.
  const int n = 4;
  for (const WindowIsa isa : window_isas())
    for (const bool trainable : {false, true})
      for (const Shape in : {Shape{6, 12, 12}, Shape{20, 9, 7}})
        for (const Tag layout : {Tag::nChw16c, Tag::nChw8c})
          for (const DstLayouts d :
               {DstLayouts::blocked, DstLayouts::plain, DstLayouts::plain_dst_blocked_diff}) {
            CAPTURE(isa == WindowIsa::avx512);
            CAPTURE(trainable);
            CAPTURE(in.str());
            CAPTURE(layout_name(layout));
            CAPTURE(dst_layouts_name(d));
            LayerHarness h(pool_spec(false, 2, 0, trainable), in, n, true, 1,
                           InitKind::glorot_uniform, layout, prefer(d, in, layout), isa);
            check_dst_layouts(h.layer(), n, d);
            Rng rng(12, RngStream::shuffle);
            for (int64_t i = 0; i < h.src_size(); ++i) {
              const float u = rng.uniform_float();
              h.src()[i] = u < 0.1f ? -0.0f : (u - 0.5f) * (i % 3 == 0 ? 1e4f : 1.0f);
            }
            std::vector<float> r = uniform_vector(h.dst_size(), rng, -1.0f, 1.0f);
            for (size_t i = 0; i < r.size(); i += 7) r[i] = -0.0f;
            const float* a = trainable ? h.param(0).value() : nullptr;  // coefficient
            if (trainable)
              for (int c = 0; c < in.c; ++c) {
                h.param(0).value()[c] = 0.5f + 0.1f * float(c);
                h.param(1).value()[c] = -0.25f * float(c);
              }
            h.forward(false);
            const std::vector<float> inferred = h.dst();
            h.forward_backward(r, true);
            const int64_t plane = int64_t{h.out().h} * h.out().w;
            const auto channel = [&](size_t i) { return (int64_t(i) / plane) % in.c; };
            std::vector<float> dy = r;  // trainable: the pooling's own gradient is a * dy
            if (trainable)
              for (size_t i = 0; i < dy.size(); ++i) dy[i] = a[channel(i)] * r[i];
            auto [y, dx] = onednn_pool_2x2(false, n, in, h.src(), dy);
            if (trainable)
              for (size_t i = 0; i < y.size(); ++i)
                y[i] = a[channel(i)] * y[i] + h.param(1).value()[channel(i)];
            CHECK(same_bits(inferred.data(), y.data(), y.size()));
            CHECK(same_bits(h.dst().data(), y.data(), y.size()));
            CHECK(same_bits(h.diff_src(), dx.data(), dx.size()));
          }
}

TEST_CASE("nn: pool: average pooling forward and gradients") {
  struct Case {
    Shape in;
    int kernel, stride;
  };
  // 4x4 windows at stride 4: the hand-written kernels' general (not unrolled) window loop.
  const Case cases[] = {{{3, 6, 6}, 2, 2}, {{2, 7, 7}, 3, 2}, {{2, 9, 9}, 4, 4}};
  for (const Tag layout : kLayouts)
    for (const Case& c : cases) {
      CAPTURE(layout_name(layout));
      CAPTURE(c.kernel);
      LayerHarness h = make_harness(pool_spec(false, c.kernel, c.stride), c.in, 3, layout);
      h.forward(true);
      const auto expected = pool_reference(h.src(), 3, c.in, false, c.kernel, c.stride, h.out());
      check_close(h.dst(), expected, 1e-5, 1.0, "avg pool dst (training)");
      h.forward(false);
      check_close(h.dst(), expected, 1e-5, 1.0, "avg pool dst (inference)");
      check_layer_gradients(h, true, {});
    }
}

TEST_CASE("nn: pool: trainable average pooling (LeNet-5 subsampling)") {
  const Shape in{4, 8, 8};
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    LayerHarness h = make_harness(pool_spec(false, 2, 2, true), in, 3, layout);
    REQUIRE(h.layer().params().size() == 2);
    Param& a = h.param(0);
    Param& b = h.param(1);
    CHECK(a.size == 4);
    CHECK(b.size == 4);
    for (int c = 0; c < 4; ++c) {
      CHECK(a.value()[c] == 1.0f);  // coefficient starts at 1
      CHECK(b.value()[c] == 0.0f);  // bias at 0
    }
    randomize_params(h, 15);
    for (bool training : {true, false}) {
      h.forward(training);
      std::vector<double> expected = pool_reference(h.src(), 3, in, false, 2, 2, h.out());
      const int64_t hw = int64_t{h.out().h} * h.out().w;
      for (size_t i = 0; i < expected.size(); ++i) {
        const int c = static_cast<int>((int64_t(i) / hw) % in.c);
        expected[i] = double(a.value()[c]) * expected[i] + double(b.value()[c]);
      }
      check_close(h.dst(), expected, 1e-5, 1.0, "trainable pool dst");
    }
    check_layer_gradients(h, true, {});
  }
}

TEST_CASE("nn: pool: shape errors") {
  Context ctx;
  Rng rng(1, RngStream::init);
  auto build = [&](const LayerSpec& spec, Shape in) {
    return make_layer(ctx, spec, "pool1", 0, in, InitKind::glorot_uniform, rng, 1);
  };
  CHECK_THROWS_AS(build(pool_spec(true, 4), {2, 3, 3}), RunError);   // output would be 0x0
  CHECK_THROWS_AS(build(pool_spec(false, 3), {2, 8, 2}), RunError);  // width would be 0
  CHECK_THROWS_AS(build(pool_spec(true, 0), {2, 8, 8}), RunError);
  CHECK_THROWS_AS(build(pool_spec(true, 2), {32, 1, 1, true}), RunError);    // flat input
  CHECK_THROWS_AS(build(pool_spec(true, 2, 2, true), {2, 8, 8}), RunError);  // trainable max
  CHECK_NOTHROW(build(pool_spec(true, 3), {2, 3, 3}));                       // 1x1 output is fine
}

// ===== activations ===============================================================================

TEST_CASE("nn: activation: forward matches the formula, 4-D and 2-D") {
  for (const char* name : {"relu", "tanh", "sigmoid", "scaled_tanh"}) {
    for (const Shape in : {Shape{3, 6, 6}, Shape{10, 1, 1, true}})
      for (const Tag layout : layouts_for(in)) {
        CAPTURE(name);
        CAPTURE(in.flat);
        CAPTURE(layout_name(layout));
        LayerHarness h(activation_spec(name), in, 3, true, 1, InitKind::glorot_uniform, layout);
        Rng rng(21, RngStream::split);
        fill_uniform(h.src(), h.src_size(), rng, -3.0f, 3.0f);
        CHECK(h.out().size() == in.size());
        CHECK(h.out().flat == in.flat);
        std::vector<double> expected(static_cast<size_t>(h.src_size()));
        for (size_t i = 0; i < expected.size(); ++i)
          expected[i] = activation_reference(name, h.src()[i]);
        for (bool training : {true, false}) {
          h.forward(training);
          check_close(h.dst(), expected, 1e-5, 1.0, name);
        }
      }
  }
}

TEST_CASE("nn: activation: gradients match central differences") {
  for (const char* name : {"relu", "tanh", "sigmoid", "scaled_tanh"}) {
    for (const Shape in : {Shape{3, 6, 6}, Shape{10, 1, 1, true}})
      for (const Tag layout : layouts_for(in)) {
        CAPTURE(name);
        CAPTURE(in.flat);
        CAPTURE(layout_name(layout));
        LayerHarness h(activation_spec(name), in, 3, true, 1, InitKind::glorot_uniform, layout);
        Rng rng(22, RngStream::split);
        fill_uniform(h.src(), h.src_size(), rng, -3.0f, 3.0f);
        GradCheck opt;
        opt.eps = 1e-3;
        const std::vector<float> x(h.src(), h.src() + h.src_size());
        const bool relu = std::string(name) == "relu";
        // relu has a kink at 0: skip inputs a perturbation could move across it.
        check_layer_gradients(h, true, opt, [&](int64_t i) {
          return relu && std::abs(x[static_cast<size_t>(i)]) < 2 * opt.eps;
        });
      }
  }
}

TEST_CASE("nn: activation: every kind of the table builds") {
  Context ctx;
  Rng rng(1, RngStream::init);
  for (const auto& [kind, name] : kActivationKinds) {
    CAPTURE(name);
    LayerSpec spec = activation_spec("relu");
    spec.activation = kind;
    CHECK_NOTHROW(
        make_layer(ctx, spec, "activation1", 0, {2, 4, 4}, InitKind::glorot_uniform, rng, 1));
  }
  // Other names are refused where they are read (config/architecture_loader.cpp).
  for (const char* name : {"swish", "", "ReLU"}) CHECK_FALSE(value_of(kActivationKinds, name));
}

// ===== batch normalisation =======================================================================

TEST_CASE("nn: batch norm: training forward and gradients, 4-D input") {
  const Shape in{3, 6, 6};
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    LayerHarness h = make_harness(batch_norm_spec(), in, 3, layout);
    REQUIRE(h.layer().params().size() == 4);
    CHECK(h.param(0).trainable);
    CHECK(h.param(1).trainable);
    CHECK_FALSE(h.param(2).trainable);
    CHECK_FALSE(h.param(3).trainable);
    Rng rng(3, RngStream::init);
    fill_uniform(h.param(0).value(), 3, rng, 0.5f, 1.5f);  // gamma
    fill_uniform(h.param(1).value(), 3, rng);              // beta
    h.forward(true);
    check_close(h.dst(),
                batch_norm_reference(h.src(), 3, in, h.param(0).value(), h.param(1).value(), 1e-3),
                1e-5, 1.0, "bn dst");
    check_layer_gradients(h, true, {});
  }
}

TEST_CASE("nn: batch norm: training forward and gradients, 2-D input (per feature)") {
  const Shape in{6, 1, 1, true};
  LayerHarness h = make_harness(batch_norm_spec(), in, 5);
  Rng rng(3, RngStream::init);
  fill_uniform(h.param(0).value(), 6, rng, 0.5f, 1.5f);  // gamma
  fill_uniform(h.param(1).value(), 6, rng);              // beta
  h.forward(true);
  check_close(h.dst(),
              batch_norm_reference(h.src(), 5, in, h.param(0).value(), h.param(1).value(), 1e-3),
              1e-5, 1.0, "bn dst (2-D)");
  GradCheck opt;
  opt.eps = 3e-3;
  check_layer_gradients(h, true, opt);
}

TEST_CASE("nn: batch norm: moving statistics after one training forward") {
  for (const Shape in : {Shape{3, 5, 5}, Shape{4, 1, 1, true}})
    for (const Tag layout : layouts_for(in)) {
      CAPTURE(in.flat);
      CAPTURE(layout_name(layout));
      const double momentum = 0.9;
      LayerHarness h = make_harness(batch_norm_spec(momentum), in, 4, layout);
      float* moving_mean = h.param(2).value();
      float* moving_var = h.param(3).value();
      for (int c = 0; c < in.c; ++c) {
        CHECK(moving_mean[c] == 0.0f);  // Keras initial values
        CHECK(moving_var[c] == 1.0f);
        moving_mean[c] = 0.25f * float(c + 1);
        moving_var[c] = 2.0f + float(c);
      }
      const std::vector<float> mean0(moving_mean, moving_mean + in.c),
          var0(moving_var, moving_var + in.c);
      std::vector<double> batch_mean, batch_var;
      batch_norm_reference(h.src(), 4, in, h.param(0).value(), h.param(1).value(), 1e-3, nullptr,
                           nullptr, &batch_mean, &batch_var);
      h.forward(true);
      // The moving variance takes the unbiased batch variance (Ioffe & Szegedy 2015, Alg. 2).
      const double k = 4.0 * in.h * in.w;
      for (int c = 0; c < in.c; ++c) {
        CHECK(moving_mean[c] ==
              doctest::Approx(momentum * mean0[c] + (1 - momentum) * batch_mean[c]).epsilon(1e-5));
        CHECK(moving_var[c] ==
              doctest::Approx(momentum * var0[c] + (1 - momentum) * batch_var[c] * k / (k - 1))
                  .epsilon(1e-5));
      }
      // Inference does not touch them.
      const std::vector<float> mean1(moving_mean, moving_mean + in.c);
      h.forward(false);
      CHECK(std::vector<float>(moving_mean, moving_mean + in.c) == mean1);
    }
}

TEST_CASE("nn: batch norm: inference uses the given running statistics") {
  for (const Shape in : {Shape{3, 5, 5}, Shape{4, 1, 1, true}})
    for (const Tag layout : layouts_for(in)) {
      CAPTURE(in.flat);
      CAPTURE(layout_name(layout));
      LayerHarness h = make_harness(batch_norm_spec(0.99, 1e-2), in, 3, layout);
      Rng rng(8, RngStream::init);
      fill_uniform(h.param(0).value(), in.c, rng, 0.5f, 1.5f);
      fill_uniform(h.param(1).value(), in.c, rng);
      fill_uniform(h.param(2).value(), in.c, rng);
      fill_uniform(h.param(3).value(), in.c, rng, 0.2f, 3.0f);
      h.forward(false);
      check_close(h.dst(),
                  batch_norm_reference(h.src(), 3, in, h.param(0).value(), h.param(1).value(), 1e-2,
                                       h.param(2).value(), h.param(3).value()),
                  1e-5, 1.0, "bn inference dst");
    }
}

TEST_CASE("nn: batch norm: argument errors") {
  Context ctx;
  Rng rng(1, RngStream::init);
  auto build = [&](const LayerSpec& spec) {
    return make_layer(ctx, spec, "batch_norm1", 0, {2, 4, 4}, InitKind::glorot_uniform, rng, 1);
  };
  CHECK_THROWS_AS(build(batch_norm_spec(1.0)), RunError);
  CHECK_THROWS_AS(build(batch_norm_spec(-0.1)), RunError);
  CHECK_THROWS_AS(build(batch_norm_spec(0.99, 0.0)), RunError);
  CHECK_NOTHROW(build(batch_norm_spec(0.0)));
}

// ===== dropout ===================================================================================

TEST_CASE("nn: dropout: training mask, drop fraction, inference identity and backward") {
  for (const double rate : {0.3, 0.5}) {
    CAPTURE(rate);
    const Shape in{1000, 1, 1, true};
    const int n = 100;  // 100,000 units
    LayerHarness h(dropout_spec(rate), in, n);
    Rng rng(9, RngStream::split);
    fill_uniform(h.src(), h.src_size(), rng, 0.5f, 1.5f);  // no zeros in the input
    const float scale = 1.0f / (1.0f - static_cast<float>(rate));

    h.forward(true);
    int64_t dropped = 0, bad = 0;
    const std::vector<float> first = h.dst();
    for (int64_t i = 0; i < h.src_size(); ++i) {
      const float y = first[size_t(i)];
      if (y == 0.0f)
        ++dropped;
      else if (y != h.src()[i] * scale)
        ++bad;
    }
    CHECK(bad == 0);  // each unit is either 0 or x / (1 - rate)
    const double fraction = double(dropped) / double(h.src_size());
    CHECK(std::abs(fraction - rate) < 0.01);  // binomial sd is 0.0016 here

    // Backward multiplies by the same mask.
    Rng rr(10, RngStream::shuffle);
    const std::vector<float> r = uniform_vector(h.dst_size(), rr);
    h.set_diff_dst(r);
    h.backward();
    int64_t grad_bad = 0;
    for (int64_t i = 0; i < h.src_size(); ++i) {
      const float expected = first[size_t(i)] == 0.0f ? 0.0f : r[size_t(i)] * scale;
      grad_bad += h.diff_src()[i] != expected;
    }
    CHECK(grad_bad == 0);

    // A second training pass draws a new mask.
    h.forward(true);
    CHECK(h.dst() != first);

    // Inference is the identity, bit for bit.
    h.forward(false);
    CHECK(h.dst() == std::vector<float>(h.src(), h.src() + h.src_size()));
  }
}

TEST_CASE("nn: dropout: 4-D input in any layout, training and inference") {
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    const double rate = 0.25;
    const float scale = 1.0f / (1.0f - static_cast<float>(rate));
    LayerHarness h = make_harness(dropout_spec(rate), {3, 6, 6}, 3, layout);
    CHECK(h.out().c == 3);
    CHECK(h.out().h == 6);
    CHECK_FALSE(h.out().flat);
    const std::vector<float> x(h.src(), h.src() + h.src_size());
    Rng rr(11, RngStream::shuffle);
    const std::vector<float> r = uniform_vector(h.dst_size(), rr);
    h.forward_backward(r, true);
    const std::vector<float> y = h.dst();
    int64_t dropped = 0, bad = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const bool kept = y[i] != 0.0f;
      dropped += !kept;
      bad +=
          kept ? y[i] != x[i] * scale || h.diff_src()[i] != r[i] * scale : h.diff_src()[i] != 0.0f;
    }
    CHECK(bad == 0);
    CHECK(dropped > 0);
    CHECK(dropped < int64_t(y.size()) / 2);
    h.forward(false);
    CHECK(h.dst() == x);
  }
}

TEST_CASE("nn: dropout: a rate outside 0 <= rate < 1 is an error") {
  Context ctx;
  Rng rng(1, RngStream::init);
  for (const double rate : {1.0, 1.5, -0.1, std::nan("")}) {
    CAPTURE(rate);
    CHECK_THROWS_AS(make_layer(ctx, dropout_spec(rate), "dropout1", 0, {8, 1, 1, true},
                               InitKind::glorot_uniform, rng, 1),
                    RunError);
  }
  CHECK_NOTHROW(make_layer(ctx, dropout_spec(0.0), "dropout1", 0, {8, 1, 1, true},
                           InitKind::glorot_uniform, rng, 1));
}

// ===== flatten ===================================================================================

TEST_CASE("nn: flatten: (N, C, H, W) -> (N, C*H*W) in NCHW order, forward and backward") {
  for (const Tag layout : kLayouts) {
    CAPTURE(layout_name(layout));
    LayerHarness h = make_harness(flatten_spec(), {3, 4, 5}, 3, layout);
    CHECK(h.out().flat);
    CHECK(h.out().c == 60);
    CHECK(h.layer().params().empty());
    for (bool training : {true, false}) {
      h.forward(training);
      CHECK(h.dst() == std::vector<float>(h.src(), h.src() + h.src_size()));
    }
    Rng rng(3, RngStream::shuffle);
    const std::vector<float> r = uniform_vector(h.dst_size(), rng);
    h.forward_backward(r, true);
    CHECK(std::vector<float>(h.diff_src(), h.diff_src() + h.src_size()) == r);
  }
}

// ===== dense =====================================================================================

TEST_CASE("nn: dense: forward and gradients") {
  const Shape in{12, 1, 1, true};
  LayerHarness h = make_harness(dense_spec(7), in, 3);
  CHECK(h.out().flat);
  CHECK(h.out().c == 7);
  CHECK(h.param(0).size == 7 * 12);
  CHECK(h.param(1).size == 7);
  CHECK(h.layer().macs() == 7 * 12);
  randomize_params(h, 16);
  for (bool training : {true, false}) {
    h.forward(training);
    check_close(h.dst(), dense_reference(h.src(), 3, 12, h.param(0).value(), h.param(1).value(), 7),
                1e-5, 1.0, "dense dst");
  }
  check_layer_gradients(h, true, {});
}

TEST_CASE("nn: dense: shape errors") {
  Context ctx;
  Rng rng(1, RngStream::init);
  auto build = [&](const LayerSpec& spec, Shape in) {
    return make_layer(ctx, spec, "dense1", 0, in, InitKind::glorot_uniform, rng, 1);
  };
  CHECK_THROWS_AS(build(dense_spec(10), {3, 4, 4}), RunError);  // 4-D input
  CHECK_THROWS_AS(build(dense_spec(0), {48, 1, 1, true}), RunError);
  CHECK_NOTHROW(build(dense_spec(10), {48, 1, 1, true}));
}

// ===== log-softmax ===============================================================================

TEST_CASE("nn: log-softmax: forward is x - logsumexp(x)") {
  const Shape in{10, 1, 1, true};
  LayerHarness h(softmax_spec(), in, 4);
  Rng rng(17, RngStream::split);
  fill_uniform(h.src(), h.src_size(), rng, -8.0f, 8.0f);
  h.src()[3] = 60.0f;  // large logits must not overflow
  std::vector<double> expected(static_cast<size_t>(h.src_size()));
  for (int i = 0; i < 4; ++i) {
    const float* x = h.src() + i * 10;
    const double m = *std::max_element(x, x + 10);
    double s = 0;
    for (int j = 0; j < 10; ++j) s += std::exp(x[j] - m);
    for (int j = 0; j < 10; ++j) expected[size_t(i) * 10 + j] = x[j] - m - std::log(s);
  }
  h.forward(false);
  const std::vector<float> y = h.dst();
  check_close(y, expected, 1e-5, 1.0, "log-softmax dst");
  for (int i = 0; i < 4; ++i) {
    double p = 0;
    for (int j = 0; j < 10; ++j) p += std::exp(double(y[size_t(i) * 10 + j]));
    CHECK(p == doctest::Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("nn: log-softmax: backward passes the fused cross-entropy gradient through") {
  // The loss writes d(mean CE)/d(logits) into diff_dst (nn/network.hpp); the layer copies it.
  LayerHarness h = make_harness(softmax_spec(), {5, 1, 1, true}, 3);
  Rng rng(18, RngStream::shuffle);
  const std::vector<float> r = uniform_vector(h.dst_size(), rng);
  h.forward_backward(r, true);
  CHECK(std::vector<float>(h.diff_src(), h.diff_src() + h.src_size()) == r);
}

TEST_CASE("nn: log-softmax: needs flat logits") {
  Context ctx;
  Rng rng(1, RngStream::init);
  CHECK_THROWS_AS(
      make_layer(ctx, softmax_spec(), "softmax1", 0, {10, 2, 2}, InitKind::glorot_uniform, rng, 1),
      RunError);
}

// ===== C3 connection mask under training =========================================================

TEST_CASE("nn: conv with a connection map: masked weights stay exactly 0 under every optimizer") {
  ArchSpec arch;
  arch.name = "c3-mask";
  arch.input_height = arch.input_width = 12;
  LayerSpec c3 = conv_spec(16, 3);
  c3.connection_map = lenet5_c3_map();
  arch.layers = {conv_spec(6, 3),         activation_spec("relu"), c3,
                 activation_spec("tanh"), pool_spec(true, 2),      flatten_spec(),
                 dense_spec(10),          softmax_spec()};

  struct Variant {
    const char* label;
    OptimizerConfig config;
  };
  std::vector<Variant> variants;
  auto add = [&](const char* label, const char* name, double lr, double momentum, bool nesterov,
                 double weight_decay) {
    OptimizerConfig c;
    c.kind = value_of(kOptimizerKinds, name).value();
    c.learning_rate = lr;
    c.momentum = momentum;
    c.nesterov = nesterov;
    c.weight_decay = weight_decay;
    variants.push_back({label, c});
  };
  add("sgd", "sgd", 0.1, 0.0, false, 0.0);
  add("sgd momentum", "sgd", 0.05, 0.9, false, 0.0);
  add("sgd nesterov + weight decay", "sgd", 0.05, 0.9, true, 1e-2);
  add("adam", "adam", 1e-2, 0.0, false, 0.0);
  add("adam + weight decay", "adam", 1e-2, 0.0, false, 5e-2);
  add("rmsprop", "rmsprop", 1e-2, 0.0, false, 0.0);
  add("rmsprop momentum + weight decay", "rmsprop", 1e-2, 0.9, false, 1e-2);
  add("sgd + weight decay", "sgd", 0.1, 0.0, false, 1e-1);

  const int n = 8;
  for (const Variant& v : variants) {
    CAPTURE(v.label);
    Network net(arch, 3);
    net.prepare(n);
    std::vector<ParamView> views;
    for (Param* p : net.params())
      if (p->trainable) views.push_back({p->value(), p->gradient(), p->size});
    auto optimizer = make_optimizer(v.config, views);
    Param* masked = nullptr;
    for (Param* p : net.params())
      if (!p->mask.empty()) masked = p;
    REQUIRE(masked != nullptr);
    CHECK(masked->count() == 60 * 9);
    const std::vector<float> before(masked->value(), masked->value() + masked->size);

    Rng rng(4, RngStream::shuffle);
    std::vector<uint8_t> labels(n);
    for (int step = 0; step < 5; ++step) {
      fill_uniform(net.input(n), int64_t{n} * 144, rng, 0.0f, 1.0f);
      for (auto& l : labels) l = static_cast<uint8_t>(rng.below(10));
      net.forward(n, true);
      net.loss(n, labels.data(), true);
      net.backward(n);
      optimizer->step();
    }
    int64_t nonzero_masked = 0, moved = 0;
    for (int64_t i = 0; i < masked->size; ++i) {
      if (masked->mask[size_t(i)] == 0.0f) {
        nonzero_masked += masked->value()[i] != 0.0f;
        nonzero_masked += masked->gradient()[i] != 0.0f;
      } else {
        moved += masked->value()[i] != before[size_t(i)];
      }
    }
    CHECK(nonzero_masked == 0);
    CHECK(moved > 60 * 9 / 2);  // the connected weights did train
  }
}

}  // namespace lenetlab::test
