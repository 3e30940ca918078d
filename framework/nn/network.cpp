#include "nn/network.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/layers.hpp"
#include "nn/rng.hpp"

namespace lenetlab {

std::unique_ptr<Layer> make_layer(Context& ctx, const LayerSpec& spec, const std::string& name,
                                  int index, Shape in, InitKind default_init, Rng& init_rng,
                                  uint64_t seed) {
  const LayerArgs a{ctx, spec, name, index, in, default_init, init_rng, seed};
  // One case per layer kind; the compiler warns here (-Wswitch) when a kind has none.
  switch (spec.kind) {
    case LayerKind::conv:
      return std::make_unique<ConvLayer>(a);
    case LayerKind::pool:
      return std::make_unique<PoolLayer>(a);
    case LayerKind::activation:
      return std::make_unique<ActivationLayer>(a);
    case LayerKind::batch_norm:
      return std::make_unique<BatchNormLayer>(a);
    case LayerKind::dropout:
      return std::make_unique<DropoutLayer>(a);
    case LayerKind::flatten:
      return std::make_unique<FlattenLayer>(a);
    case LayerKind::dense:
      return std::make_unique<DenseLayer>(a);
    case LayerKind::softmax:
      return std::make_unique<SoftmaxLayer>(a);
  }
  throw RunError(spec.mark.str() + ": unknown layer kind");
}

Network::Network(const ArchSpec& arch, uint64_t seed, WindowIsa window_isa)
    : ctx_(std::make_unique<Context>(window_isa)) {
  input_shape_ = Shape{arch.input_channels, arch.input_height, arch.input_width, false};
  num_classes_ = arch.num_classes;
  Rng init_rng(seed, RngStream::init);
  Shape shape = input_shape_;
  std::map<LayerKind, int> counts;
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& spec = arch.layers[i];
    const std::string name = fmt::format("{}{}", to_string(spec.kind), ++counts[spec.kind]);
    layers_.push_back(
        make_layer(*ctx_, spec, name, static_cast<int>(i), shape, arch.init, init_rng, seed));
    shape = layers_.back()->out_shape();
  }
  // A ReLU right after a convolution, dense or batch-norm layer is applied by that layer's
  // primitives: one pass over dst instead of two (a write, then a read and a write), the same
  // values bit for bit; so are the first two of a scaled tanh's three passes after a convolution
  // or dense layer (ActivationLayer).
  for (size_t i = 1; i < layers_.size(); ++i) {
    auto* activation = dynamic_cast<ActivationLayer*>(layers_[i].get());
    if (activation == nullptr || !activation->fusable()) continue;
    const Layer::Fusion fusion = layers_[i - 1]->fuse(activation->post_ops());
    if (fusion != Layer::Fusion::none) activation->set_fused(fusion);
  }
  if (layers_.empty() || layers_.back()->spec().kind != LayerKind::softmax)
    throw RunError(arch.file + ": architecture '" + arch.name + "' must end with a softmax layer");
  if (!shape.flat || shape.c != num_classes_)
    throw RunError(fmt::format("{}: architecture '{}' produces {} outputs, expected {} classes",
                               arch.file, arch.name, shape.str(), num_classes_));
}

Network::~Network() = default;

void Network::prefer_layouts(PoolLayer& pool, size_t i, int n) {
  // The layer that reads the pooling's dst: the next one but element-wise activations, which
  // keep the layout they get (and whose backward wants diff_dst in the same layout as dst).
  size_t j = i + 1;
  while (j < layers_.size() && dynamic_cast<ActivationLayer*>(layers_[j].get()) != nullptr) ++j;
  if (j == layers_.size()) return;
  Layer::SrcLayouts wanted = layers_[j]->src_layouts(*ctx_, n);
  if (j > i + 1) wanted.diff_src = wanted.src;
  pool.prefer_dst_layouts(n, wanted);
}

void Network::prepare(int n) {
  if (inputs_.count(n)) return;
  dnnl::memory in({input_shape_.dims(n), dnnl::memory::data_type::f32, input_shape_.tag()},
                  ctx_->engine);
  std::memset(in.get_data_handle(), 0, in.get_desc().get_size());
  inputs_[n] = in;
  dnnl::memory src = in, diff_src;  // the input has no gradient
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto& layer = layers_[i];
    if (auto* pool = dynamic_cast<PoolLayer*>(layer.get())) prefer_layouts(*pool, i, n);
    layer->prepare(*ctx_, n, src, diff_src);
    src = layer->dst(n);
    diff_src = layer->diff_dst(n);
  }
  // The hand-written poolings apply the derivative of the activation next to them in their own
  // backward, one pass over the activation's tensor less: a fused relu before a max pooling (only
  // the window maxima get a gradient, so one test per output), LeNet's scaled tanh on either side
  // of an average pooling (no separate read and write of the gradient between them; and the last
  // forward pass of one fused before it, the first of one after it).
  const auto droppable = [n](Layer* layer) -> ActivationLayer* {
    auto* a = dynamic_cast<ActivationLayer*>(layer);
    return a != nullptr && a->can_drop_backward(n) ? a : nullptr;
  };
  for (size_t i = 1; i < layers_.size(); ++i) {
    auto* pool = dynamic_cast<PoolLayer*>(layers_[i].get());
    if (pool == nullptr) continue;
    ActivationLayer* before = droppable(layers_[i - 1].get());
    ActivationLayer* after = i + 1 < layers_.size() ? droppable(layers_[i + 1].get()) : nullptr;
    const PoolLayer::Absorbed taken = pool->absorb_activations(n, before, after);
    if (taken.before) before->drop_backward(n);
    if (taken.before_forward) before->drop_forward(n);
    if (taken.after_forward) after->drop_first_pass(n);
    if (taken.after) after->drop_backward(n);
  }
  bind_scratchpad();
}

void Network::bind_scratchpad() {
  size_t size = 0;
  for (const Step* step : ctx_->steps) size = std::max(size, step->scratchpad.get_size());
  if (size > scratchpad_.size()) scratchpad_.assign(size, 0);
  for (Step* step : ctx_->steps)
    step->args[DNNL_ARG_SCRATCHPAD] =
        dnnl::memory(step->scratchpad, ctx_->engine, scratchpad_.data());
}

float* Network::input(int n) { return static_cast<float*>(inputs_.at(n).get_data_handle()); }

const float* Network::forward(int n, bool training) {
  forward(n, training, 0, layers_.size());
  return static_cast<const float*>(layers_.back()->dst(n).get_data_handle());
}

void Network::forward(int n, bool training, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) layers_[i]->forward(*ctx_, n, training);
}

void Network::backward(int n, size_t begin, size_t end) {
  for (size_t i = end; i > begin; --i) layers_[i - 1]->backward(*ctx_, n);
}

void Network::share_values(Network& master) {
  auto mine = params(), theirs = master.params();
  for (size_t i = 0; i < mine.size(); ++i)
    mine[i]->data = dnnl::memory(mine[i]->data.get_desc(), ctx_->engine, theirs[i]->value());
}

void Network::set_whole_batch() {
  for (auto& layer : layers_)
    if (auto* bn = dynamic_cast<BatchNormLayer*>(layer.get())) bn->set_whole_batch();
}

void Network::set_image_keys(int epoch, const int64_t* keys) {
  for (auto& layer : layers_)
    if (auto* dropout = dynamic_cast<DropoutLayer*>(layer.get()))
      dropout->set_image_keys(epoch, keys);
}

BatchLoss Network::loss(int n, const uint8_t* labels, bool gradient, int mean_over) {
  const int k = num_classes_;
  const float* log_p = static_cast<const float*>(layers_.back()->dst(n).get_data_handle());
  float* diff = static_cast<float*>(layers_.back()->diff_dst(n).get_data_handle());
  BatchLoss result;
  const float inv_n = 1.0f / static_cast<float>(mean_over > 0 ? mean_over : n);
  for (int i = 0; i < n; ++i) {
    const float* row = log_p + int64_t{i} * k;
    const int label = labels[i];
    result.loss_sum -= row[label];
    result.correct += std::max_element(row, row + k) - row == label;
    if (gradient) {
      float* d = diff + int64_t{i} * k;
      for (int j = 0; j < k; ++j) d[j] = (std::exp(row[j]) - (j == label ? 1.0f : 0.0f)) * inv_n;
    }
  }
  return result;
}

void Network::backward(int n) { backward(n, 0, layers_.size()); }

std::vector<Param*> Network::params() {
  std::vector<Param*> all;
  for (auto& layer : layers_)
    for (auto& p : layer->params()) all.push_back(&p);
  return all;
}

int64_t Network::parameter_count() const {
  int64_t n = 0;
  for (auto& layer : layers_)
    for (auto& p : layer->params()) n += p.count();
  return n;
}

int64_t Network::trainable_parameter_count() const {
  int64_t n = 0;
  for (auto& layer : layers_)
    for (auto& p : layer->params())
      if (p.trainable) n += p.count();
  return n;
}

int64_t Network::macs_per_image() const {
  int64_t n = 0;
  for (auto& layer : layers_) n += layer->macs();
  return n;
}

std::vector<std::vector<float>> Network::snapshot() {
  std::vector<std::vector<float>> values;
  for (Param* p : params()) values.emplace_back(p->value(), p->value() + p->size);
  return values;
}

void Network::restore(const std::vector<std::vector<float>>& values) {
  auto ps = params();
  for (size_t i = 0; i < ps.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), ps[i]->value());
}

std::string Network::weights_hash() {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (Param* p : params()) XXH3_64bits_update(state, p->value(), p->size * sizeof(float));
  const auto h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}", static_cast<unsigned long long>(h));
}

}  // namespace lenetlab
