#include <cstring>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "nn/layers.hpp"

namespace lenetlab {

namespace {

struct DropoutPlan : Layer::Plan {
  std::vector<float> mask;  ///< 0 or 1/(1-rate) per element of the last training forward.
};

/// The seed of a dropout layer's stream: splitmix64 of the run's seed plus the layer's index.
uint64_t dropout_seed(const LayerArgs& a) {
  uint64_t state = a.seed + static_cast<uint64_t>(a.index);
  return splitmix64(state);
}

}  // namespace

DropoutLayer::DropoutLayer(const LayerArgs& a)
    : Layer(a), rng_(dropout_seed(a), RngStream::dropout), seed_(dropout_seed(a)) {
  if (!(spec_.rate >= 0.0 && spec_.rate < 1.0))
    throw RunError(spec_.mark.str() + ": " + name_ + ": dropout rate must be in [0, 1)");
  out_ = in_;
}

std::unique_ptr<Layer::Plan> DropoutLayer::make_plan(Context& ctx, int, const dnnl::memory& src,
                                                     const dnnl::memory&) {
  auto p = std::make_unique<DropoutPlan>();
  // Element-wise in the incoming layout (padding of blocked layouts included, where values are 0).
  p->dst = make_memory(ctx, src.get_desc());
  p->diff_dst = make_memory(ctx, src.get_desc());
  p->mask.resize(src.get_desc().get_size() / sizeof(float));
  return p;
}

void DropoutLayer::forward(Context&, int n, bool training) {
  auto& p = plan<DropoutPlan>(n);
  const int64_t count = static_cast<int64_t>(p.mask.size());
  const float* x = static_cast<const float*>(p.src.get_data_handle());
  float* y = static_cast<float*>(p.dst.get_data_handle());
  if (!training) {
    std::memcpy(y, x, count * sizeof(float));
    return;
  }
  const float rate = static_cast<float>(spec_.rate);
  const float scale = 1.0f / (1.0f - rate);
  if (keys_ != nullptr) {  // per-image mode: image i's mask from its own stream
    const int64_t per_image = count / n;
    for (int i = 0; i < n; ++i) {
      uint64_t state = seed_ + static_cast<uint64_t>(epoch_);
      state = splitmix64(state) + static_cast<uint64_t>(keys_[i]);
      Rng rng(splitmix64(state), RngStream::dropout);
      for (int64_t e = int64_t{i} * per_image; e < (int64_t{i} + 1) * per_image; ++e) {
        p.mask[e] = rng.uniform_float() >= rate ? scale : 0.0f;
        y[e] = x[e] * p.mask[e];
      }
    }
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    p.mask[i] = rng_.uniform_float() >= rate ? scale : 0.0f;
    y[i] = x[i] * p.mask[i];
  }
}

void DropoutLayer::backward(Context&, int n) {
  auto& p = plan<DropoutPlan>(n);
  if (!p.diff_src) return;
  const int64_t count = static_cast<int64_t>(p.mask.size());
  const float* dy = static_cast<const float*>(p.diff_dst.get_data_handle());
  float* dx = static_cast<float*>(p.diff_src.get_data_handle());
  const float* mask = p.mask.data();
#pragma omp parallel for schedule(static) if (count >= kParallelElements)
  for (int64_t i = 0; i < count; ++i) dx[i] = dy[i] * mask[i];
}

}  // namespace lenetlab
