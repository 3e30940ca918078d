// Helpers shared by the engine tests: hand-built layer specs, a harness that drives one layer on
// its own (with its user scratchpad bound, as nn::Network does), random fills, and a
// central-difference gradient checker in double precision.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/architecture.hpp"
#include "nn/layer.hpp"
#include "nn/rng.hpp"

namespace lenetlab::test {

// ---- layer specs, as the YAML loader would produce them -----------------------------------------

inline LayerSpec conv_spec(int filters, int kernel, int stride = 1, int padding = 0) {
  LayerSpec s;
  s.kind = LayerKind::conv;
  s.filters = filters;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  return s;
}

/// Pooling; stride 0 means "= kernel" (the loader's default for pools).
inline LayerSpec pool_spec(bool max, int kernel, int stride = 0, bool trainable = false) {
  LayerSpec s;
  s.kind = LayerKind::pool;
  s.pool_max = max;
  s.kernel = kernel;
  s.stride = stride > 0 ? stride : kernel;
  s.pool_trainable = trainable;
  return s;
}

inline LayerSpec activation_spec(const std::string& name) {
  LayerSpec s;
  s.kind = LayerKind::activation;
  s.activation = value_of(kActivationKinds, name).value();
  return s;
}

inline LayerSpec batch_norm_spec(double momentum = 0.99, double epsilon = 1e-3) {
  LayerSpec s;
  s.kind = LayerKind::batch_norm;
  s.bn_momentum = momentum;
  s.bn_epsilon = epsilon;
  return s;
}

inline LayerSpec dropout_spec(double rate) {
  LayerSpec s;
  s.kind = LayerKind::dropout;
  s.rate = rate;
  return s;
}

inline LayerSpec flatten_spec() {
  LayerSpec s;
  s.kind = LayerKind::flatten;
  return s;
}

inline LayerSpec dense_spec(int units) {
  LayerSpec s;
  s.kind = LayerKind::dense;
  s.units = units;
  return s;
}

inline LayerSpec softmax_spec() {
  LayerSpec s;
  s.kind = LayerKind::softmax;
  return s;
}

/// The C3 connection table of LeNet-5 (LeCun et al. 1998, Table I): output map -> input maps.
inline std::vector<std::vector<int>> lenet5_c3_map() {
  return {{0, 1, 2},    {1, 2, 3},    {2, 3, 4},    {3, 4, 5},         {0, 4, 5},    {0, 1, 5},
          {0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {0, 3, 4, 5},      {0, 1, 4, 5}, {0, 1, 2, 5},
          {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5}, {0, 1, 2, 3, 4, 5}};
}

// ---- random fills -------------------------------------------------------------------------------

/// Fills v[0..n) with U(lo, hi) from rng.
inline void fill_uniform(float* v, int64_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rng.uniform_float();
}

inline std::vector<float> uniform_vector(int64_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v.data(), n, rng, lo, hi);
  return v;
}

// ---- one layer on its own -----------------------------------------------------------------------

/// Builds one layer with make_layer() on input shape `in`, prepares it for batch size n with its
/// own src and (optionally) diff_src buffers, and binds a user scratchpad of the largest size any
/// of its primitives needs (the layer's primitives use scratchpad_mode::user).
///
/// src and diff_src have layout `src_tag` (plain NCHW / NC by default; a blocked tag such as
/// nChw16c reproduces what a layer sees after a convolution inside a network). The test reads and
/// writes them in plain order through src() / diff_src(): forward() first copies the plain src
/// values into the layer's src, backward() afterwards copies diff_src back to plain order.
class LayerHarness {
 public:
  using Tag = dnnl::memory::format_tag;

  /// `before_prepare` (if any) is called with the layer and n right before prepare(n). `isa`:
  /// the context's instructions for the hand-written poolings.
  LayerHarness(const LayerSpec& spec, Shape in, int n, bool with_diff_src = true, uint64_t seed = 1,
               InitKind init = InitKind::glorot_uniform, Tag src_tag = Tag::undef,
               const std::function<void(Layer&, int)>& before_prepare = nullptr,
               WindowIsa isa = best_window_isa())
      : ctx_(isa), n_(n), in_(in), init_rng_(seed, RngStream::init) {
    layer_ = make_layer(ctx_, spec, "layer", 0, in, init, init_rng_, seed);
    if (before_prepare) before_prepare(*layer_, n);
    const dnnl::memory::desc md(in.dims(n), dnnl::memory::data_type::f32,
                                src_tag == Tag::undef ? in.tag() : src_tag);
    src_ = zeroed(md);
    src_plain_.assign(static_cast<size_t>(src_size()), 0.0f);
    if (with_diff_src) {
      diff_src_ = zeroed(md);
      diff_src_plain_.assign(static_cast<size_t>(src_size()), 0.0f);
    }
    layer_->prepare(ctx_, n, src_, diff_src_);
    size_t size = 0;
    for (const Step* step : ctx_.steps) size = std::max(size, step->scratchpad.get_size());
    scratchpad_.assign(std::max<size_t>(size, 1), 0);
    for (Step* step : ctx_.steps)
      step->args[DNNL_ARG_SCRATCHPAD] =
          dnnl::memory(step->scratchpad, ctx_.engine, scratchpad_.data());
  }

  Layer& layer() { return *layer_; }
  int n() const { return n_; }
  Shape in() const { return in_; }
  Shape out() const { return layer_->out_shape(); }
  int64_t src_size() const { return int64_t{n_} * in_.size(); }
  int64_t dst_size() const { return int64_t{n_} * layer_->out_shape().size(); }
  /// src values in plain NCHW / NC order (copied into the layer's src by forward()).
  float* src() { return src_plain_.data(); }
  /// diff_src in plain NCHW / NC order, as of the last backward().
  float* diff_src() { return diff_src_plain_.data(); }
  /// dst in plain NCHW / NC order (the layer may keep it in a blocked layout).
  std::vector<float> dst() { return Layer::to_plain(ctx_, layer_->dst(n_), n_, out()); }
  /// Writes plain NCHW / NC values into diff_dst (whatever its layout).
  void set_diff_dst(const std::vector<float>& values) {
    Layer::from_plain(ctx_, values, layer_->diff_dst(n_), n_, out());
  }
  Param& param(size_t i) { return layer_->params().at(i); }

  void forward(bool training) {
    Layer::from_plain(ctx_, src_plain_, src_, n_, in_);
    layer_->forward(ctx_, n_, training);
  }
  void backward() {
    layer_->backward(ctx_, n_);
    if (diff_src_) diff_src_plain_ = Layer::to_plain(ctx_, diff_src_, n_, in_);
  }

  /// L = sum(dst * r) in double after a forward pass.
  double objective(const std::vector<float>& r, bool training) {
    forward(training);
    const std::vector<float> y = dst();
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += double(y[i]) * double(r[i]);
    return sum;
  }

  /// Forward at the current point, then backward with diff_dst = r.
  void forward_backward(const std::vector<float>& r, bool training) {
    forward(training);
    set_diff_dst(r);
    backward();
  }

 private:
  dnnl::memory zeroed(const dnnl::memory::desc& md) {
    dnnl::memory m(md, ctx_.engine);
    std::memset(m.get_data_handle(), 0, md.get_size());
    return m;
  }

  Context ctx_;
  int n_;
  Shape in_;
  Rng init_rng_;
  std::unique_ptr<Layer> layer_;
  dnnl::memory src_, diff_src_;
  std::vector<float> src_plain_, diff_src_plain_;
  std::vector<uint8_t> scratchpad_;
};

/// The instruction sets of the hand-written poolings this CPU can run (SSE2 always).
inline std::vector<WindowIsa> window_isas() {
  std::vector<WindowIsa> isas{WindowIsa::sse2};
  if (window_isa_supported(WindowIsa::avx512)) isas.push_back(WindowIsa::avx512);
  return isas;
}

// ---- comparisons --------------------------------------------------------------------------------

/// |actual - expected| <= rtol * max(|expected|, scale) element-wise; reports the first mismatches.
inline void check_close(const std::vector<float>& actual, const std::vector<double>& expected,
                        double rtol, double scale = 1.0, const char* what = "value") {
  REQUIRE(actual.size() == expected.size());
  int failures = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double tol = rtol * std::max(std::abs(expected[i]), scale);
    if (!(std::abs(double(actual[i]) - expected[i]) <= tol)) {
      if (++failures <= 5)
        FAIL_CHECK(what << "[" << i << "]: got " << actual[i] << ", expected " << expected[i]);
    }
  }
  CHECK_MESSAGE(failures == 0, what << ": " << failures << " of " << expected.size()
                                    << " elements outside tolerance");
}

/// Options of a central-difference gradient check.
struct GradCheck {
  double eps = 1e-2;     ///< step (of the f32 value; the actual f32 step is used in the quotient).
  double rtol = 2e-2;    ///< relative tolerance, of max(|analytic|, |numeric|).
  double atol = 1e-3;    ///< absolute tolerance, for values near zero.
  int max_checks = 400;  ///< larger tensors are checked on an evenly spread subset.
};

/// Central difference of f with respect to *v, using the f32 step actually representable.
inline double central_difference(float* v, const std::function<double()>& f, double eps) {
  const float x0 = *v;
  const float xp = static_cast<float>(double(x0) + eps);
  const float xm = static_cast<float>(double(x0) - eps);
  *v = xp;
  const double fp = f();
  *v = xm;
  const double fm = f();
  *v = x0;
  return (fp - fm) / (double(xp) - double(xm));
}

/// Compares analytic[0..n) with central differences of f over values[0..n), skipping elements
/// for which skip(i) is true (kinks). Returns how many elements were compared.
inline int check_gradient(const char* what, float* values, const std::vector<float>& analytic,
                          const std::function<double()>& f, const GradCheck& opt,
                          const std::function<bool(int64_t)>& skip = nullptr) {
  const int64_t n = static_cast<int64_t>(analytic.size());
  const int64_t stride = std::max<int64_t>(1, n / opt.max_checks);
  int checked = 0, failures = 0;
  double worst = 0;
  for (int64_t i = 0; i < n; i += stride) {
    if (skip && skip(i)) continue;
    const double numeric = central_difference(values + i, f, opt.eps);
    const double a = analytic[static_cast<size_t>(i)];
    const double err = std::abs(a - numeric);
    const double tol = opt.atol + opt.rtol * std::max(std::abs(a), std::abs(numeric));
    worst = std::max(worst, err / tol);
    ++checked;
    if (!(err <= tol) && ++failures <= 5)
      FAIL_CHECK(what << "[" << i << "]: analytic " << a << ", numeric " << numeric);
  }
  CHECK_MESSAGE(failures == 0, what << ": " << failures << " of " << checked
                                    << " elements outside tolerance (worst error/tol " << worst
                                    << ")");
  return checked;
}

}  // namespace lenetlab::test
