// Networks built from hand-written ArchSpecs that mirror experiments/architectures/*.yaml
// (shipped_architectures.hpp): parameter counts, MACs, shapes, the fused softmax cross-entropy
// gradient, and the fusions that must keep the bits. The training loop is tested in tests/train/.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/layers.hpp"
#include "nn/network.hpp"
#include "nn_test_util.hpp"
#include "shipped_architectures.hpp"

namespace lenetlab::test {

// ===== architectures =============================================================================

TEST_CASE("nn: network: parameter counts of the shipped architectures") {
  struct Case {
    ArchSpec arch;
    int64_t total, trainable;
  };
  const Case cases[] = {
      {lenet_relu(), 1'256'080, 1'256'080},
      {lenet5_relu(), 44'426, 44'426},
      {lenet5_bn(), 45'418, 44'922},  // BN moving mean/variance are not trainable (as Keras)
      {lenet5_1998(), 60'850, 60'850},
      // 156 + 24 + 2,416 + 64 + 48,120 + 10,164 + 850; 2 x (6 + 16) moving statistics
      {lenet5_bn_dropout(), 61'794, 61'750},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arch.name);
    Network net(c.arch, 1);
    CHECK(net.parameter_count() == c.total);
    CHECK(net.trainable_parameter_count() == c.trainable);
  }
}

TEST_CASE("nn: network: LeNet-5 (1998) layer shapes and per-layer parameter counts") {
  Network net(lenet5_1998(), 1);
  const auto& layers = net.layers();
  REQUIRE(layers.size() == 15);
  auto count = [](Layer& l) {
    int64_t n = 0;
    for (const Param& p : l.params()) n += p.count();
    return n;
  };
  struct Expect {
    int index, c, h, w;
    int64_t params;
  };
  // C1, S2, C3, S4, C5 (dense), F6, output: LeCun et al. 1998, sec. II.B.
  const Expect expect[] = {{0, 6, 28, 28, 156}, {2, 6, 14, 14, 12},     {4, 16, 10, 10, 1'516},
                           {6, 16, 5, 5, 32},   {9, 120, 1, 1, 48'120}, {11, 84, 1, 1, 10'164},
                           {13, 10, 1, 1, 850}};
  for (const Expect& e : expect) {
    CAPTURE(e.index);
    Layer& l = *layers[size_t(e.index)];
    CHECK(l.out_shape().c == e.c);
    CHECK(l.out_shape().h == e.h);
    CHECK(l.out_shape().w == e.w);
    CHECK(count(l) == e.params);
  }
  CHECK(layers[8]->out_shape().flat);
  CHECK(layers[8]->out_shape().c == 400);
  // C3 has 60 connections of 5x5: one MAC per connected weight per output position.
  CHECK(layers[4]->macs() == 60 * 25 * 10 * 10);
}

TEST_CASE("nn: network: MACs per image of lenet-relu") {
  Network net(lenet_relu(), 1);
  const int64_t conv1 = int64_t{20} * 25 * 28 * 28;
  const int64_t conv2 = int64_t{50} * 20 * 25 * 14 * 14;
  const int64_t dense1 = int64_t{2450} * 500;
  const int64_t dense2 = int64_t{500} * 10;
  CHECK(net.macs_per_image() > 0);
  CHECK(net.macs_per_image() == conv1 + conv2 + dense1 + dense2);
  CHECK(net.macs_per_image() == 6'522'000);
}

TEST_CASE("nn: network: architecture errors") {
  SUBCASE("must end with softmax") {
    ArchSpec a = lenet5_relu();
    a.layers.pop_back();
    CHECK_THROWS_AS(Network(a, 1), RunError);
  }
  SUBCASE("output size must equal the class count") {
    ArchSpec a = lenet5_relu();
    a.num_classes = 7;
    CHECK_THROWS_AS(Network(a, 1), RunError);
  }
  SUBCASE("a shape error inside propagates") {
    ArchSpec a = lenet5_relu();
    a.input_height = a.input_width = 12;  // conv 5 -> 8, pool -> 4, conv 5 does not fit
    CHECK_THROWS_AS(Network(a, 1), RunError);
  }
  SUBCASE("dense before flatten") {
    ArchSpec a = lenet5_relu();
    a.layers.erase(a.layers.begin() + 6);  // the flatten
    CHECK_THROWS_AS(Network(a, 1), RunError);
  }
}

// ===== network mechanics =========================================================================

TEST_CASE("nn: network: forward gives log-probabilities, batch sizes agree, weights are seeded") {
  const ArchSpec arch = lenet5_bn();
  Network net(arch, 5);
  const int big = 5, small = 2;
  net.prepare(big);
  net.prepare(small);
  net.prepare(big);  // a no-op
  Rng rng(6, RngStream::split);
  fill_uniform(net.input(big), int64_t{big} * 784, rng, 0.0f, 1.0f);
  std::copy(net.input(big) + 3 * 784, net.input(big) + 5 * 784, net.input(small));

  // Inference mode: probabilities sum to 1.
  const float* out_big = net.forward(big, false);
  std::vector<float> rows(out_big, out_big + big * 10);
  for (int i = 0; i < big; ++i) {
    double p = 0;
    for (int j = 0; j < 10; ++j) p += std::exp(double(rows[size_t(i * 10 + j)]));
    CHECK(p == doctest::Approx(1.0).epsilon(1e-5));
  }
  // The loss matches -log p[label]; accuracy counts arg-max hits.
  const uint8_t labels[big] = {0, 1, 2, 3, 4};
  const BatchLoss b = net.loss(big, labels, false);
  double expected = 0;
  int64_t correct = 0;
  for (int i = 0; i < big; ++i) {
    expected -= rows[size_t(i * 10 + labels[i])];
    const auto row = rows.begin() + i * 10;
    correct += std::max_element(row, row + 10) - row == labels[i];
  }
  CHECK(b.loss_sum == doctest::Approx(expected).epsilon(1e-6));
  CHECK(b.correct == correct);
  // Images 3 and 4 give the same log-probabilities in either batch size (the two plans share
  // their buffers: the small batch overwrites the start of the big one's output).
  const float* out_small = net.forward(small, false);
  for (int i = 0; i < small * 10; ++i)
    CHECK(out_small[i] == doctest::Approx(rows[size_t(3 * 10 + i)]).epsilon(1e-5));
  const float* again = net.forward(big, false);
  CHECK(std::equal(rows.begin(), rows.end(), again));

  // Same seed, same weights; another seed, other weights; snapshot/restore round trip.
  Network same(arch, 5), other(arch, 6);
  CHECK(same.weights_hash() == net.weights_hash());
  CHECK(other.weights_hash() != net.weights_hash());
  CHECK(net.weights_hash().size() == 16);
  const auto saved = other.snapshot();
  other.restore(same.snapshot());
  CHECK(other.weights_hash() == net.weights_hash());
  other.restore(saved);
  CHECK(other.weights_hash() != net.weights_hash());
}

TEST_CASE("nn: network: the fused softmax cross-entropy gradient matches central differences") {
  // Every parameter of a small network (conv, batch norm, trainable pooling, three activations, a
  // masked conv, dense) against central differences of the mean cross-entropy, in training mode
  // (batch norm uses batch statistics). Activations between layers are in whatever layouts the
  // primitives choose.
  LayerSpec mapped = conv_spec(4, 3);
  mapped.connection_map = {{0, 7}, {1, 2, 3}, {4, 5, 6}, {0, 2, 4, 6}};
  ArchSpec arch =
      make_arch("tiny", 8, InitKind::he_uniform,
                {conv_spec(8, 3, 1, 1), batch_norm_spec(), activation_spec("tanh"),
                 pool_spec(false, 2, 2, true), activation_spec("scaled_tanh"), mapped,
                 activation_spec("sigmoid"), flatten_spec(), dense_spec(5), softmax_spec()});
  arch.num_classes = 5;
  Network net(arch, 3);
  const int n = 4;
  net.prepare(n);
  Rng rng(8, RngStream::split);
  fill_uniform(net.input(n), int64_t{n} * 64, rng);
  // Non-trivial subsampling coefficients and biases.
  for (Param* p : net.params())
    if (p->name.find("pool") != std::string::npos)
      fill_uniform(p->value(), p->size, rng, 0.5f, 1.5f);
  const uint8_t labels[n] = {0, 3, 1, 4};
  const auto loss = [&] {
    net.forward(n, true);
    return net.loss(n, labels, false).loss_sum / n;
  };
  net.forward(n, true);
  net.loss(n, labels, true);
  net.backward(n);
  GradCheck opt;
  opt.eps = 1e-2;
  opt.atol = 2e-4;
  int params = 0;
  for (Param* p : net.params()) {
    if (!p->trainable) continue;
    CAPTURE(p->name);
    ++params;
    const std::vector<float> grad(p->gradient(), p->gradient() + p->size);
    const std::vector<float> mask = p->mask;
    CHECK(check_gradient(p->name.c_str(), p->value(), grad, loss, opt, [&mask](int64_t i) {
            return !mask.empty() && mask[size_t(i)] == 0.0f;
          }) > 0);
  }
  CHECK(params == 10);  // conv, bn, pool, conv, dense: weights/gamma/coefficient + bias/beta
}

/// Trains `fused` and `reference` (the same architecture but for identities that keep layers apart,
/// same seed) side by side for two plain SGD steps on batch size n with `pixels` inputs per image,
/// uniform in [-input_scale, input_scale):
/// outputs in training and inference, the gradient each convolution and dense layer receives (byte
/// for byte: the same layouts in both networks, and the sign of zeros counts), every parameter
/// and gradient must be equal bit for bit.
void check_same_bits(Network& fused, Network& reference, int n, int64_t pixels,
                     float input_scale = 1.0f) {
  fused.prepare(n);
  reference.prepare(n);
  Rng rng(9, RngStream::split);
  fill_uniform(fused.input(n), n * pixels, rng);
  for (int64_t i = 0; i < n * pixels; ++i) fused.input(n)[i] *= input_scale;
  std::memcpy(reference.input(n), fused.input(n), sizeof(float) * size_t(n * pixels));
  std::vector<uint8_t> labels(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) labels[size_t(i)] = uint8_t(i % 10);
  const auto bits_equal = [](const float* a, const float* b, int64_t count) {
    return std::memcmp(a, b, sizeof(float) * static_cast<size_t>(count)) == 0;
  };
  for (int step = 0; step < 2; ++step) {
    CAPTURE(step);
    CHECK(bits_equal(fused.forward(n, false), reference.forward(n, false), n * 10));
    CHECK(bits_equal(fused.forward(n, true), reference.forward(n, true), n * 10));
    fused.loss(n, labels.data(), true);
    reference.loss(n, labels.data(), true);
    fused.backward(n);
    reference.backward(n);
    for (const auto& layer : fused.layers()) {
      if (layer->spec().kind != LayerKind::conv && layer->spec().kind != LayerKind::dense) continue;
      CAPTURE(layer->name());
      const Layer* twin = nullptr;
      for (const auto& other : reference.layers())
        if (other->name() == layer->name()) twin = other.get();
      REQUIRE(twin != nullptr);
      const dnnl::memory &x = layer->diff_dst(n), &y = twin->diff_dst(n);
      REQUIRE(x.get_desc() == y.get_desc());
      CHECK(std::memcmp(x.get_data_handle(), y.get_data_handle(), x.get_desc().get_size()) == 0);
    }
    const auto a = fused.params(), b = reference.params();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(a[i]->name);
      // Batch norm's moving statistics: no gradient, their values are what training changes.
      CHECK(bits_equal(a[i]->value(), b[i]->value(), a[i]->size));
      if (!a[i]->trainable) continue;
      CHECK(bits_equal(a[i]->gradient(), b[i]->gradient(), a[i]->size));
      // One plain SGD step on both, so the second round runs on new weights.
      for (Network* net : {&fused, &reference}) {
        Param* p = net->params()[i];
        for (int64_t j = 0; j < p->size; ++j) p->value()[j] -= 0.1f * p->gradient()[j];
      }
    }
  }
}

/// Activations of `net` for which `left` holds: what batch size n left to a neighbouring layer.
int count_left(const Network& net, bool (ActivationLayer::*left)(int) const, int n) {
  int count = 0;
  for (const auto& layer : net.layers())
    if (const auto* a = dynamic_cast<const ActivationLayer*>(layer.get())) count += (a->*left)(n);
  return count;
}
int dropped_backwards(const Network& net, int n) {
  return count_left(net, &ActivationLayer::backward_dropped, n);
}

TEST_CASE("nn: network: a relu fused into the conv, dense or batch norm before it: same bits") {
  // Fused: conv -> relu and dense -> relu, the relu a post-op of the primitive before it, and
  // batch norm -> relu, the relu inside batch norm's forward and backward (fuse_norm_relu); the
  // max pooling after a fused relu applies the relu's derivative in its own backward. Unfused
  // reference: the same network with an identity (dropout rate 0: y = x * 1, dx = dy * 1, exact)
  // between them, so nothing fuses.
  const auto arch = [](bool separated) {
    std::vector<LayerSpec> layers;
    const auto add = [&](LayerSpec layer, bool then_relu) {
      layers.push_back(std::move(layer));
      if (!then_relu) return;
      if (separated) layers.push_back(dropout_spec(0.0));
      layers.push_back(activation_spec("relu"));
    };
    add(conv_spec(6, 5, 1, 2), true);
    add(pool_spec(true, 2), false);
    add(conv_spec(20, 5, 1, 2), false);
    add(batch_norm_spec(), true);
    add(pool_spec(true, 2), false);
    add(flatten_spec(), false);
    add(dense_spec(30), true);
    add(dense_spec(10), false);
    add(softmax_spec(), false);
    return make_arch("fuse", 16, InitKind::he_uniform, layers);
  };
  Network fused(arch(false), 4), reference(arch(true), 4);
  int fused_count = 0;
  for (const auto& layer : fused.layers())
    if (const auto* a = dynamic_cast<const ActivationLayer*>(layer.get()); a && a->fused())
      ++fused_count;
  CHECK(fused_count == 3);
  for (const auto& layer : reference.layers())
    if (const auto* a = dynamic_cast<const ActivationLayer*>(layer.get())) CHECK(!a->fused());
  check_same_bits(fused, reference, 8, 256);
  CHECK(dropped_backwards(fused, 8) == 1);  // the conv relu before the first max pooling
  CHECK(dropped_backwards(reference, 8) == 0);
}

TEST_CASE("nn: network: the scaled tanh fused and inside the average poolings: same bits") {
  // LeNet-5's stages: conv -> scaled tanh -> trainable 2x2 average pooling -> scaled tanh, and
  // dense -> scaled tanh. Fused: the tanh's S x and tanh are the conv's / dense layer's post-ops,
  // each pooling applies the A y of the tanh before it where it reads its src and the S x of the
  // tanh after it where it writes, and each pooling's backward applies both activations'
  // derivatives. The reference keeps every
  // layer apart with an identity (dropout rate 0). A 13x13 map leaves a row and a column outside
  // the windows (their gradient is the tanh's derivative of zero: -0 where the tanh saturates, y =
  // +-A exactly, as inputs up to 50 make it); a plain average pooling is covered too. With each
  // instruction set of the hand-written poolings.
  const auto arch = [](bool separated) {
    std::vector<LayerSpec> layers;
    const auto add = [&](LayerSpec layer) {
      if (separated && !layers.empty()) layers.push_back(dropout_spec(0.0));
      layers.push_back(std::move(layer));
    };
    add(conv_spec(6, 4, 1, 0));  // 16x16 -> 13x13
    add(activation_spec("scaled_tanh"));
    add(pool_spec(false, 2, 0, true));
    add(activation_spec("scaled_tanh"));
    add(conv_spec(20, 3, 1, 1));
    add(activation_spec("scaled_tanh"));
    add(pool_spec(false, 2));
    add(activation_spec("scaled_tanh"));
    add(flatten_spec());
    add(dense_spec(12));
    add(activation_spec("scaled_tanh"));
    add(dense_spec(10));
    add(softmax_spec());
    return make_arch("tanh-pool", 16, InitKind::lecun_uniform_1998, layers);
  };
  for (const WindowIsa isa : window_isas()) {
    CAPTURE(isa == WindowIsa::avx512);
    Network fused(arch(false), 5, isa), reference(arch(true), 5, isa);
    const auto fused_count = [](const Network& net) {
      int count = 0;
      for (const auto& layer : net.layers())
        if (const auto* a = dynamic_cast<const ActivationLayer*>(layer.get()); a && a->fused())
          ++count;
      return count;
    };
    CHECK(fused_count(fused) == 3);  // after both convolutions and the dense layer
    CHECK(fused_count(reference) == 0);
    check_same_bits(fused, reference, 8, 256, 50.0f);
    CHECK(dropped_backwards(fused, 8) == 4);
    CHECK(dropped_backwards(reference, 8) == 0);
    // The poolings write dst in the plain layout the convolution of 6 input channels and the
    // flatten after them read (PoolLayer::prefer_dst_layouts), where the reference's, followed by
    // an identity, keep the convolutions' channel blocks.
    const auto plain_dst_pools = [](const Network& net) {
      int count = 0;
      for (const auto& layer : net.layers())
        if (dynamic_cast<const PoolLayer*>(layer.get()) != nullptr &&
            layer->dst(8).get_desc() == dnnl::memory::desc(layer->out_shape().dims(8),
                                                           dnnl::memory::data_type::f32,
                                                           dnnl::memory::format_tag::nchw))
          ++count;
      return count;
    };
    CHECK(plain_dst_pools(fused) == 2);
    CHECK(plain_dst_pools(reference) == 0);
    // The poolings also apply the last pass (A y) of the fused tanh before each of them, and the
    // first (S x) of the tanh after each of them.
    for (const auto left :
         {&ActivationLayer::forward_dropped, &ActivationLayer::first_pass_dropped}) {
      CHECK(count_left(fused, left, 8) == 2);
      CHECK(count_left(reference, left, 8) == 0);
    }
  }
}

}  // namespace lenetlab::test
