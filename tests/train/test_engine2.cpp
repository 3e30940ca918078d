// Engine 2 (nn/micro_batch.hpp): every shipped architecture trained for 2 epochs under 1, 2, 3
// and 16 OpenMP threads gives the same bits in every stored value (epoch metrics, test metrics,
// confusion, weights); its gradients are those of the whole batch (against engine 1, which
// computes the whole batch at once, to float rounding); its runs resume under another thread
// count; engine 1's run key and config_json do not change.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nn/micro_batch.hpp"
#include "nn/shipped_architectures.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lenetlab::test {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(std::optional<double> a, std::optional<double> b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

struct Outcome {
  RunResult result;
  std::vector<EpochRecord> epochs;
};

Outcome train(const RunConfig& config, const Dataset& data, int threads) {
  const OmpThreads scope(threads);
  Recorder rec;
  Outcome o;
  o.result = train_run(config, data, rec);
  o.epochs = rec.epochs;
  return o;
}

/// Every stored value of `a` and `b` is bit-identical.
void check_same(const Outcome& a, const Outcome& b) {
  REQUIRE(a.epochs.size() == b.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    CAPTURE(e);
    CHECK(same_bits(a.epochs[e].train_loss, b.epochs[e].train_loss));
    CHECK(same_bits(a.epochs[e].train_accuracy, b.epochs[e].train_accuracy));
    CHECK(same_bits(a.epochs[e].val_loss, b.epochs[e].val_loss));
    CHECK(same_bits(a.epochs[e].val_accuracy, b.epochs[e].val_accuracy));
    CHECK(a.epochs[e].data_hash == b.epochs[e].data_hash);
  }
  REQUIRE(a.result.test.has_value());
  REQUIRE(b.result.test.has_value());
  CHECK(same_bits(a.result.test->loss, b.result.test->loss));
  CHECK(same_bits(a.result.test->accuracy, b.result.test->accuracy));
  CHECK(a.result.test->confusion == b.result.test->confusion);
  CHECK(a.result.weights_hash == b.result.weights_hash);
}

RunConfig engine2_run(const ArchSpec& arch, const std::string& optimizer, double lr) {
  RunConfig c = make_run(arch, optimizer, lr, 2);
  c.engine = 2;
  c.micro_batch = 8;
  c.batch_size = 32;  // 4 micro-batches; the tail batch of 3 images is 1
  return c;
}

}  // namespace

TEST_CASE("engine 2: every shipped architecture gives the same bits on 1, 2, 3 and 16 threads") {
  const Dataset data = make_dataset(150, 60);  // 135 training images: 4 batches and a tail of 7
  const std::vector<std::pair<ArchSpec, std::string>> archs = {
      {lenet_relu(), "sgd"},         {lenet5_relu(), "adam"}, {lenet5_bn(), "sgd"},
      {lenet5_bn_dropout(), "adam"}, {lenet5_1998(), "sgd"},
  };
  for (const auto& [arch, optimizer] : archs) {
    CAPTURE(arch.name);
    const RunConfig config = engine2_run(arch, optimizer, optimizer == "sgd" ? 0.05 : 0.002);
    const Outcome one = train(config, data, 1);
    REQUIRE(one.result.status == RunStatus::finished);
    if (arch.name != "lenet5") CHECK(one.result.test->accuracy > 0.15);  // chance: 0.1
    for (int threads : {2, 3, 16}) {
      CAPTURE(threads);
      check_same(one, train(config, data, threads));
    }
  }
}

TEST_CASE("engine 2: a batch's gradients are the whole batch's (engine 1 to float rounding)") {
  for (const ArchSpec& arch : {lenet5_bn(), lenet5_relu(), lenet5_1998(), lenet_relu()}) {
    CAPTURE(arch.name);
    const int n = 24;
    const Dataset data = make_dataset(n, 1);
    const InputPipeline input(data.train, 1, arch.input_height, arch.input_width, 0.0, 1.0);
    std::vector<int64_t> idx(n);
    for (int i = 0; i < n; ++i) idx[size_t(i)] = i;
    const OmpThreads scope(2);
    Network whole(arch, 3);
    whole.prepare(n);
    std::vector<uint8_t> labels(n);
    input.fill(whole.input(n), idx.data(), n, labels.data());
    whole.forward(n, true);
    const BatchLoss expected = whole.loss(n, labels.data(), true);
    whole.backward(n);

    Network master(arch, 3);
    MicroBatchNetwork micro(arch, 3, master, 5, 2);  // micro-batches of 5, 5, 5, 5, 4
    const BatchLoss got = micro.forward_loss(
        n,
        [&](int first, int count, float* in, uint8_t* l) {
          input.fill(in, idx.data() + first, count, l);
        },
        1, idx.data());
    micro.backward(n);
    CHECK(got.correct == expected.correct);
    CHECK(got.loss_sum == doctest::Approx(expected.loss_sum).epsilon(1e-5));
    const auto a = whole.params(), b = master.params();
    // Relative to the largest gradient of the network: some are 0 up to rounding (a bias before
    // a batch norm, whose mean subtraction removes it).
    double largest = 0;
    for (const Param* p : a)
      for (int64_t e = 0; p->trainable && e < p->size; ++e)
        largest = std::max(largest, double(std::fabs(p->gradient()[e])));
    for (size_t p = 0; p < a.size(); ++p) {
      CAPTURE(a[p]->name);
      const float* x = a[p]->trainable ? a[p]->gradient() : a[p]->value();
      const float* y = b[p]->trainable ? b[p]->gradient() : b[p]->value();
      double scale = 0, other = 0, worst = 0;
      for (int64_t e = 0; e < a[p]->size; ++e) {
        scale = std::max(scale, double(std::fabs(x[e])));
        other = std::max(other, double(std::fabs(y[e])));
      }
      if (scale < 1e-3 * largest) {  // 0 up to rounding in both
        CHECK(other < 1e-3 * largest);
        continue;
      }
      for (int64_t e = 0; e < a[p]->size; ++e)
        worst = std::max(worst, std::fabs(double(x[e]) - double(y[e])) / scale);
      CHECK(worst < 2e-4);
    }
  }
}

TEST_CASE(
    "engine 2: a run stopped under 1 thread resumes under 2 and equals an uninterrupted one") {
  const Dataset data = make_dataset(150, 60);
  RunConfig config = engine2_run(lenet5_bn_dropout(), "sgd", 0.05);
  config.epochs = 3;
  const Outcome uninterrupted = train(config, data, 2);
  TempDir dir;
  {
    const OmpThreads scope(1);
    struct StopAfter2 : Recorder {
      void on_epoch(const EpochRecord& e) override {
        if (e.epoch == 2) throw RunError("stop here");
        Recorder::on_epoch(e);
      }
    } first;
    TrainOptions options;
    options.checkpoint_dir = dir.path();
    CHECK_THROWS_AS(train_run(config, data, first, options), RunError);
  }
  const OmpThreads scope(2);
  TrainOptions options;
  options.checkpoint_dir = dir.path();
  Recorder second;
  const RunResult resumed = train_run(config, data, second, options);
  CHECK(resumed.resumed_from_epoch == 2);
  CHECK(resumed.weights_hash == uninterrupted.result.weights_hash);
  REQUIRE(resumed.test.has_value());
  CHECK(same_bits(resumed.test->loss, uninterrupted.result.test->loss));
}

TEST_CASE("engine 2: the setting changes the key, engine 1 keeps its key and config_json") {
  RunConfig c = make_run(lenet5_relu(), "sgd", 0.01, 1);
  std::ifstream yaml(std::string(LENETLAB_SOURCE_DIR) +
                     "/experiments/architectures/lenet5-relu.yaml");
  c.arch.yaml.assign(std::istreambuf_iterator<char>(yaml), std::istreambuf_iterator<char>());
  const std::string key = c.key();
  CHECK_FALSE(c.to_json().contains("engine"));
  CHECK_FALSE(c.to_json().contains("micro_batch"));
  c.micro_batch = 32;  // ignored by engine 1
  CHECK(c.key() == key);
  c.engine = 2;
  CHECK(c.key() != key);
  CHECK(c.to_json().at("engine") == 2);
  CHECK(c.to_json().at("micro_batch") == 32);
  const RunConfig back = RunConfig::from_json(c.to_json(), "test");
  CHECK(back.engine == 2);
  CHECK(back.micro_batch == 32);
  CHECK(back.key() == c.key());
}

}  // namespace lenetlab::test
