// The training loop (train_run / Trainer) end to end on a synthetic, separable dataset: accuracy,
// determinism, learning-rate schedules, tail batches, divergence, early stopping, and resuming from
// a checkpoint bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/shipped_architectures.hpp"
#include "temp_dir.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lenetlab::test {
namespace {

TEST_CASE("train: train_run: lenet5-relu learns a separable synthetic task") {
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
    "train: train_run: a learning-rate schedule sets each epoch's rate and changes the updates") {
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

TEST_CASE("train: train_run: LeNet-5 (1998) learns on 28x28 images centred in its 32x32 input") {
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

TEST_CASE("train: train_run: identical configs give identical runs, another seed another one") {
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

TEST_CASE("train: train_run: networks with batch normalisation train, repeatably") {
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

TEST_CASE("train: train_run: dropping the tail batch changes the run") {
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

TEST_CASE("train: train_run: a huge learning rate diverges") {
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
  void on_epoch(const EpochRecord& e) override {
    if (e.epoch == fail_at) throw RunError("stop here");
    Recorder::on_epoch(e);
  }
};

TEST_CASE(
    "train: train_run: a run stopped between a checkpoint and its record resumes bit-identical") {
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
    config.early_stopping.monitor = EarlyStoppingMonitor::val_loss;
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
    REQUIRE(second.starts.size() == 1);
    CHECK(second.starts[0].resumed_from_epoch == c.fail_at);
    REQUIRE(second.starts[0].resumed_record.has_value());
    const EpochRecord& back = *second.starts[0].resumed_record;
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

TEST_CASE("train: train_run: early stopping") {
  const Dataset data = make_dataset(200, 50);
  SUBCASE("val_loss, patience 1: stops after patience + 1 epochs") {
    RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 6);
    config.validation_split = 0.25;
    config.early_stopping.enabled = true;
    config.early_stopping.monitor = EarlyStoppingMonitor::val_loss;
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
    config.early_stopping.monitor = EarlyStoppingMonitor::train_loss;
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
    config.early_stopping.monitor = EarlyStoppingMonitor::val_accuracy;
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
    "train: train_run: early stopping with patience 0 never stops on an improving epoch (Keras)") {
  // keras.callbacks.EarlyStopping.on_epoch_end returns right after an improvement and checks
  // `wait >= patience` only on epochs that did not improve (and never after the first epoch).
  // Epoch 1 is always an improvement, so with min_delta huge Keras stops after epoch 2.
  const Dataset data = make_dataset(200, 50);
  RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 5);
  config.validation_split = 0.25;
  config.early_stopping.enabled = true;
  config.early_stopping.monitor = EarlyStoppingMonitor::val_loss;
  config.early_stopping.patience = 0;
  config.early_stopping.min_delta = 1e9;
  Recorder rec;
  const RunResult r = train_run(config, data, rec);
  CHECK(r.status == RunStatus::stopped_early);
  CHECK(r.epochs_completed == 2);
  CHECK(r.best_epoch == 1);
}

}  // namespace
}  // namespace lenetlab::test
