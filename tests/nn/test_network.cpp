// Networks built from hand-written ArchSpecs that mirror experiments/architectures/*.yaml:
// parameter counts, MACs, shapes, the fused softmax cross-entropy gradient, and the training loop
// (train_run) end to end on a synthetic, separable dataset: accuracy, determinism, divergence,
// early stopping.
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
#include "temp_dir.hpp"
#include "train/trainer.hpp"

namespace lenetlab::test {
namespace {

ArchSpec make_arch(const std::string& name, int height, InitKind init,
                   std::vector<LayerSpec> layers) {
  ArchSpec a;
  a.name = name;
  a.file = "experiments/architectures/" + name + ".yaml";
  a.input_channels = 1;
  a.input_height = a.input_width = height;
  a.num_classes = 10;
  a.init = init;
  a.layers = std::move(layers);
  return a;
}

/// experiments/architectures/lenet-relu.yaml
ArchSpec lenet_relu() {
  return make_arch(
      "lenet-relu", 28, InitKind::glorot_uniform,
      {conv_spec(20, 5, 1, 2), activation_spec("relu"), pool_spec(true, 2), conv_spec(50, 5, 1, 2),
       activation_spec("relu"), pool_spec(true, 2), flatten_spec(), dense_spec(500),
       activation_spec("relu"), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-relu.yaml
ArchSpec lenet5_relu() {
  return make_arch("lenet5-relu", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5), activation_spec("relu"), pool_spec(true, 2), conv_spec(16, 5),
                    activation_spec("relu"), pool_spec(true, 2), flatten_spec(), dense_spec(120),
                    activation_spec("relu"), dense_spec(84), activation_spec("relu"),
                    dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-bn.yaml
ArchSpec lenet5_bn() {
  return make_arch("lenet5-bn", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5), batch_norm_spec(), activation_spec("relu"),
                    pool_spec(false, 2), batch_norm_spec(), conv_spec(16, 5), batch_norm_spec(),
                    activation_spec("relu"), pool_spec(false, 2), batch_norm_spec(), flatten_spec(),
                    dense_spec(120), activation_spec("relu"), batch_norm_spec(), dense_spec(84),
                    activation_spec("relu"), batch_norm_spec(), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-bn-dropout.yaml
ArchSpec lenet5_bn_dropout() {
  return make_arch("lenet5-bn-dropout", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5, 1, 2), activation_spec("relu"), pool_spec(true, 2),
                    batch_norm_spec(), dropout_spec(0.1), conv_spec(16, 5), activation_spec("relu"),
                    pool_spec(true, 2), batch_norm_spec(), dropout_spec(0.3), flatten_spec(),
                    dense_spec(120), activation_spec("relu"), dense_spec(84),
                    activation_spec("relu"), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5.yaml: LeNet-5 of LeCun et al. 1998 (32x32 input, scaled tanh,
/// trainable subsampling, C3 connection table, LeCun's uniform initialisation).
ArchSpec lenet5_1998() {
  LayerSpec c3 = conv_spec(16, 5);
  c3.connection_map = lenet5_c3_map();
  const auto act = [] { return activation_spec("scaled_tanh"); };
  return make_arch("lenet5", 32, InitKind::lecun_uniform_1998,
                   {conv_spec(6, 5), act(), pool_spec(false, 2, 2, true), act(), c3, act(),
                    pool_spec(false, 2, 2, true), act(), flatten_spec(), dense_spec(120), act(),
                    dense_spec(84), act(), dense_spec(10), softmax_spec()});
}

// ---- synthetic data -----------------------------------------------------------------------------

/// 28x28 images of noise (0..63) with a bright 5x5 square (180..255) at a class-specific position:
/// two rows of five positions. Labels uniform in [0, 10).
ImageSet make_squares(int64_t n, uint64_t seed) {
  Rng rng(seed, RngStream::split);
  ImageSet s;
  s.n = n;
  s.rows = s.cols = 28;
  s.images.resize(static_cast<size_t>(n) * 28 * 28);
  s.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.below(10));
    s.labels[size_t(i)] = static_cast<uint8_t>(label);
    uint8_t* img = s.images.data() + i * 28 * 28;
    for (int p = 0; p < 28 * 28; ++p) img[p] = static_cast<uint8_t>(rng.below(64));
    const int r0 = 4 + (label / 5) * 12, c0 = 2 + (label % 5) * 5;
    for (int r = r0; r < r0 + 5; ++r)
      for (int c = c0; c < c0 + 5; ++c) img[r * 28 + c] = static_cast<uint8_t>(180 + rng.below(76));
  }
  return s;
}

Dataset make_dataset(int64_t n_train, int64_t n_test) {
  Dataset d;
  d.name = "squares";
  d.num_classes = 10;
  d.train = make_squares(n_train, 1);
  d.test = make_squares(n_test, 2);
  return d;
}

RunConfig make_run(const ArchSpec& arch, const std::string& optimizer, double lr, int epochs,
                   uint64_t seed = 7) {
  RunConfig c;
  c.architecture = arch.name;
  c.arch = arch;
  c.dataset = "squares";
  c.optimizer.name = optimizer;
  c.optimizer.learning_rate = lr;
  c.epochs = epochs;
  c.batch_size = 32;
  c.seed = seed;
  c.validation_split = 0.1;
  return c;
}

/// Records what train_run reports.
struct Recorder : TrainObserver {
  NetworkStats stats;
  int64_t train_images = -1, val_images = -1;
  std::vector<EpochRecord> epochs;
  void on_built(const NetworkStats& s, int64_t train, int64_t val) override {
    stats = s;
    train_images = train;
    val_images = val;
  }
  void on_epoch(const EpochRecord& e) override { epochs.push_back(e); }
};

}  // namespace

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
    const WindowIsaScope scope(isa);
    Network fused(arch(false), 5), reference(arch(true), 5);
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

// ===== the training loop =========================================================================

TEST_CASE("nn: train_run: lenet5-relu learns a separable synthetic task") {
  const Dataset data = make_dataset(2100, 300);
  RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 3);
  Recorder rec;
  const RunResult r = train_run(config, data, rec);
  CHECK(r.status == RunStatus::finished);
  CHECK(r.epochs_completed == 3);
  CHECK(rec.stats.parameters == 44'426);
  CHECK(rec.stats.trainable_parameters == 44'426);
  CHECK(rec.stats.macs_per_image > 0);
  CHECK(rec.val_images == 210);
  CHECK(rec.train_images == 1890);  // 59 batches of 32 and a tail batch of 2
  CHECK(rec.train_images % config.batch_size != 0);
  REQUIRE(rec.epochs.size() == 3);
  for (int e = 0; e < 3; ++e) {
    CHECK(rec.epochs[size_t(e)].epoch == e + 1);
    CHECK(std::isfinite(rec.epochs[size_t(e)].train_loss));
    CHECK(rec.epochs[size_t(e)].val_loss.has_value());
    CHECK(rec.epochs[size_t(e)].learning_rate == doctest::Approx(1e-3));
  }
  CHECK(rec.epochs.back().train_loss < rec.epochs.front().train_loss);
  REQUIRE(r.test.has_value());
  const EvalMetrics& t = *r.test;
  CHECK(t.images == 300);
  CHECK(t.accuracy > 0.9);
  CHECK(*rec.epochs.back().val_accuracy > 0.9);
  REQUIRE(t.confusion.size() == 100);
  CHECK(std::accumulate(t.confusion.begin(), t.confusion.end(), int64_t{0}) == 300);
  int64_t diagonal = 0, support = 0;
  for (int c = 0; c < 10; ++c) diagonal += t.confusion[size_t(c * 10 + c)];
  CHECK(double(diagonal) / 300 == doctest::Approx(t.accuracy));
  REQUIRE(t.per_class.size() == 10);
  for (const ClassMetrics& m : t.per_class) support += m.support;
  CHECK(support == 300);
  CHECK(r.weights_hash.size() == 16);
  CHECK(r.best_val_accuracy.has_value());
}

TEST_CASE(
    "nn: train_run: a learning-rate schedule sets each epoch's rate and changes the updates") {
  const Dataset data = make_dataset(400, 100);
  RunConfig config = make_run(lenet5_relu(), "sgd", 0.05, 4);
  Recorder constant;
  const RunResult plain = train_run(config, data, constant);
  config.learning_rate_schedule.steps = {{2, 0.5}, {4, 0.1}};
  Recorder scheduled;
  const RunResult annealed = train_run(config, data, scheduled);
  REQUIRE(scheduled.epochs.size() == 4);
  const double expected[] = {0.05, 0.025, 0.025, 0.005};
  for (int e = 0; e < 4; ++e) {
    CAPTURE(e);
    CHECK(scheduled.epochs[size_t(e)].learning_rate == doctest::Approx(expected[e]));
    CHECK(constant.epochs[size_t(e)].learning_rate == doctest::Approx(0.05));
  }
  // Epoch 1 is trained at the same rate in both; from epoch 2 on the updates differ.
  CHECK(scheduled.epochs[0].train_loss == constant.epochs[0].train_loss);
  CHECK(scheduled.epochs[1].train_loss != constant.epochs[1].train_loss);
  CHECK(annealed.weights_hash != plain.weights_hash);
}

TEST_CASE("nn: train_run: LeNet-5 (1998) learns on 28x28 images centred in its 32x32 input") {
  const Dataset data = make_dataset(1000, 200);
  RunConfig config = make_run(lenet5_1998(), "adam", 2e-3, 2);
  Recorder rec;
  const RunResult r = train_run(config, data, rec);
  CHECK(r.status == RunStatus::finished);
  CHECK(rec.stats.parameters == 60'850);
  REQUIRE(r.test.has_value());
  CHECK(r.test->images == 200);
  CHECK(r.test->accuracy > 0.8);
}

TEST_CASE("nn: train_run: identical configs give identical runs, another seed another one") {
  // lenet5-relu with dropout after the first stage and after flatten: initialisation, split,
  // shuffling and dropout masks all come from the seed.
  ArchSpec arch = lenet5_relu();
  arch.layers.insert(arch.layers.begin() + 3, dropout_spec(0.2));
  arch.layers.insert(arch.layers.begin() + 8, dropout_spec(0.3));
  const Dataset data = make_dataset(400, 100);
  RunConfig config = make_run(arch, "adam", 1e-3, 2);
  config.validation_split = 0.25;  // 300 training images: a tail batch of 12
  Recorder a, b, c;
  const RunResult ra = train_run(config, data, a);
  const RunResult rb = train_run(config, data, b);
  REQUIRE(a.epochs.size() == 2);
  REQUIRE(b.epochs.size() == 2);
  CHECK(ra.weights_hash == rb.weights_hash);
  for (size_t e = 0; e < 2; ++e) {
    CHECK(a.epochs[e].train_loss == b.epochs[e].train_loss);  // bit for bit
    CHECK(a.epochs[e].train_accuracy == b.epochs[e].train_accuracy);
    CHECK(a.epochs[e].val_loss == b.epochs[e].val_loss);
  }
  REQUIRE(ra.test.has_value());
  REQUIRE(rb.test.has_value());
  CHECK(ra.test->loss == rb.test->loss);
  CHECK(ra.test->confusion == rb.test->confusion);

  config.seed = 8;
  const RunResult rc = train_run(config, data, c);
  CHECK(rc.weights_hash != ra.weights_hash);
  CHECK(c.epochs[0].train_loss != a.epochs[0].train_loss);
}

TEST_CASE("nn: train_run: networks with batch normalisation train, repeatably") {
  const Dataset data = make_dataset(300, 50);
  for (const ArchSpec& arch : {lenet5_bn(), lenet5_bn_dropout()}) {
    CAPTURE(arch.name);
    RunConfig config = make_run(arch, "adam", 1e-3, 1);
    config.validation_split = 0.2;  // 240 training images: a tail batch of 16
    Recorder a, b;
    const RunResult ra = train_run(config, data, a);
    const RunResult rb = train_run(config, data, b);
    CHECK(ra.status == RunStatus::finished);
    CHECK(ra.weights_hash == rb.weights_hash);
    REQUIRE(a.epochs.size() == 1);
    REQUIRE(b.epochs.size() == 1);
    CHECK(std::isfinite(a.epochs[0].train_loss));
    CHECK(a.epochs[0].train_loss == b.epochs[0].train_loss);
    CHECK(a.epochs[0].val_loss == b.epochs[0].val_loss);
  }
}

TEST_CASE("nn: train_run: dropping the tail batch changes the run") {
  const Dataset data = make_dataset(300, 50);
  RunConfig config = make_run(lenet5_relu(), "sgd", 0.05, 1);
  config.validation_split = 0.0;  // 300 images: 9 batches of 32 and a tail of 12
  Recorder keep, drop;
  const RunResult r_keep = train_run(config, data, keep);
  config.drop_last = true;
  const RunResult r_drop = train_run(config, data, drop);
  CHECK(keep.val_images == 0);
  CHECK_FALSE(keep.epochs.at(0).val_loss.has_value());
  CHECK(r_keep.weights_hash != r_drop.weights_hash);
  REQUIRE(r_keep.test.has_value());
  CHECK(r_keep.test->images == 50);
}

TEST_CASE("nn: train_run: a huge learning rate diverges") {
  const Dataset data = make_dataset(400, 50);
  RunConfig config = make_run(lenet5_relu(), "sgd", 1e6, 2);
  Recorder rec;
  const RunResult r = train_run(config, data, rec);
  CHECK(r.status == RunStatus::diverged);
  REQUIRE(r.diverged_epoch.has_value());
  CHECK(*r.diverged_epoch >= 1);
  CHECK(*r.diverged_epoch <= 2);
  CHECK(r.epochs_completed == *r.diverged_epoch - 1);
  CHECK(rec.epochs.size() == size_t(r.epochs_completed));
  CHECK_FALSE(r.test.has_value());
  CHECK_FALSE(r.error.empty());
}

/// Fails the run when epoch `fail_at` is delivered: its checkpoint is already written, its row is
/// not (what a kill between the two leaves behind).
struct FailingRecorder : Recorder {
  int fail_at = 0;
  std::vector<std::optional<EpochRecord>> resumed;
  void on_epoch(const EpochRecord& e) override {
    if (e.epoch == fail_at) throw RunError("stop here");
    Recorder::on_epoch(e);
  }
  void on_resumed(int, const std::optional<EpochRecord>& record) override {
    resumed.push_back(record);
  }
};

TEST_CASE(
    "nn: train_run: a run stopped between a checkpoint and its record resumes bit-identical") {
  const Dataset data = make_dataset(300, 60);
  TempDir dir;
  struct Case {
    const char* name;
    int epochs, fail_at;
    bool early_stopping;
  };
  // Mid-run; after the last epoch's checkpoint; after the checkpoint of the epoch where early
  // stopping stops (patience 1, only epoch 1 improves: stops after epoch 2).
  for (const Case c : {Case{"mid-run", 3, 2, false}, Case{"last epoch", 3, 3, false},
                       Case{"early stop", 5, 2, true}}) {
    CAPTURE(std::string(c.name));
    RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, c.epochs);
    config.early_stopping.enabled = c.early_stopping;
    config.early_stopping.monitor = "val_loss";
    config.early_stopping.patience = 1;
    config.early_stopping.min_delta = 1e9;
    Recorder reference;
    const RunResult expected = train_run(config, data, reference);

    TrainOptions options;
    options.checkpoint_dir = dir / c.name;
    FailingRecorder first;
    first.fail_at = c.fail_at;
    CHECK_THROWS_AS(train_run(config, data, first, options), RunError);
    FailingRecorder second;
    const RunResult resumed = train_run(config, data, second, options);
    // The record of the interrupted epoch comes back from the checkpoint, bit for bit.
    REQUIRE(second.resumed.size() == 1);
    REQUIRE(second.resumed[0].has_value());
    const EpochRecord& back = *second.resumed[0];
    const EpochRecord& want = reference.epochs.at(size_t(c.fail_at - 1));
    CHECK(back.epoch == c.fail_at);
    CHECK(back.train_loss == want.train_loss);
    CHECK(back.val_loss == want.val_loss);
    CHECK(resumed.resumed_from_epoch == c.fail_at);
    CHECK(second.epochs.size() == reference.epochs.size() - size_t(c.fail_at));
    CHECK(resumed.status == expected.status);
    CHECK(resumed.epochs_completed == expected.epochs_completed);
    CHECK(resumed.weights_hash == expected.weights_hash);
    REQUIRE(resumed.test.has_value());
    CHECK(resumed.test->loss == expected.test->loss);
  }
}

TEST_CASE("nn: train_run: early stopping") {
  const Dataset data = make_dataset(200, 50);
  SUBCASE("val_loss, patience 1: stops after patience + 1 epochs") {
    RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 6);
    config.validation_split = 0.25;
    config.early_stopping.enabled = true;
    config.early_stopping.monitor = "val_loss";
    config.early_stopping.patience = 1;
    config.early_stopping.min_delta = 1e9;  // only the first epoch counts as an improvement
    Recorder rec;
    const RunResult r = train_run(config, data, rec);
    CHECK(r.status == RunStatus::stopped_early);
    CHECK(r.epochs_completed == 2);
    CHECK(rec.epochs.size() == 2);
    CHECK(r.best_epoch == 1);
    CHECK(r.test.has_value());
  }
  SUBCASE("train_loss, patience 2: stops after patience + 1 epochs") {
    RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 6);
    config.early_stopping.enabled = true;
    config.early_stopping.monitor = "train_loss";
    config.early_stopping.patience = 2;
    config.early_stopping.min_delta = 1e9;
    Recorder rec;
    const RunResult r = train_run(config, data, rec);
    CHECK(r.status == RunStatus::stopped_early);
    CHECK(r.epochs_completed == 3);
    CHECK(r.best_epoch == 1);
  }
  SUBCASE("restore_best_weights evaluates the best epoch's weights") {
    RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 6);
    config.early_stopping.enabled = true;
    config.early_stopping.monitor = "val_accuracy";
    config.early_stopping.patience = 2;
    config.early_stopping.min_delta = 1e9;  // best = epoch 1
    config.early_stopping.restore_best_weights = true;
    Recorder rec;
    const RunResult stopped = train_run(config, data, rec);
    CHECK(stopped.status == RunStatus::stopped_early);
    CHECK(stopped.epochs_completed == 3);
    // The same run trained for one epoch only ends with exactly those weights.
    RunConfig one = config;
    one.early_stopping = {};
    one.epochs = 1;
    Recorder rec1;
    const RunResult first = train_run(one, data, rec1);
    CHECK(stopped.weights_hash == first.weights_hash);
    REQUIRE(stopped.test.has_value());
    REQUIRE(first.test.has_value());
    CHECK(stopped.test->loss == first.test->loss);
  }
}

TEST_CASE(
    "nn: train_run: early stopping with patience 0 never stops on an improving epoch (Keras)") {
  // keras.callbacks.EarlyStopping.on_epoch_end returns right after an improvement and checks
  // `wait >= patience` only on epochs that did not improve (and never after the first epoch).
  // Epoch 1 is always an improvement, so with min_delta huge Keras stops after epoch 2.
  const Dataset data = make_dataset(200, 50);
  RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 5);
  config.validation_split = 0.25;
  config.early_stopping.enabled = true;
  config.early_stopping.monitor = "val_loss";
  config.early_stopping.patience = 0;
  config.early_stopping.min_delta = 1e9;
  Recorder rec;
  const RunResult r = train_run(config, data, rec);
  CHECK(r.status == RunStatus::stopped_early);
  CHECK(r.epochs_completed == 2);
  CHECK(r.best_epoch == 1);
}

}  // namespace lenetlab::test
