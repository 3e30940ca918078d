// Seeded distortions in training (train/distortion.hpp, the `augment` setting): a distorted image
// is a pure function of (seed, epoch, image index) whatever the order or thread count; zero
// magnitude trains bit for bit as no augmentation; a run with distortions interrupted after
// epoch 2 and resumed equals an uninterrupted one; each epoch row carries the hash of its data;
// the setting's YAML, JSON and errors.
#include <doctest/doctest.h>
#include <omp.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "core/error.hpp"
#include "nn/shipped_architectures.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"
#include "train/distortion.hpp"
#include "train/metrics.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lenetlab::test {
namespace {

AugmentConfig both() {
  AugmentConfig a;
  a.affine = AffineAugment{};
  a.elastic = ElasticAugment{};
  return a;
}

std::vector<float> distorted(const Distorter& d, const ImageSet& set, int epoch, int64_t index) {
  std::vector<float> out(size_t(set.rows) * set.cols);
  d.distort(epoch, index, set.image(index), out.data());
  return out;
}

TEST_CASE("augment: a distorted image depends on (seed, epoch, index) only") {
  const ImageSet set = make_squares(8, 3);
  const Distorter d(both(), 11, 28, 28);
  const std::vector<float> first = distorted(d, set, 2, 5);
  // Other images and epochs drawn in between change nothing: no shared generator.
  (void)distorted(d, set, 2, 3);
  (void)distorted(d, set, 1, 5);
  CHECK(distorted(d, set, 2, 5) == first);
  CHECK(distorted(Distorter(both(), 11, 28, 28), set, 2, 5) == first);
  CHECK(distorted(d, set, 3, 5) != first);
  CHECK(distorted(Distorter(both(), 12, 28, 28), set, 2, 5) != first);
  CHECK(Distorter::stream_key(11, 2, 5) != Distorter::stream_key(11, 5, 2));
  // The affine parameters stay within their ranges.
  for (int64_t i = 0; i < 50; ++i) {
    const AffineDistortion a = d.affine(1, i);
    CHECK(std::abs(a.tx) <= 2.0);
    CHECK(std::abs(a.ty) <= 2.0);
    CHECK(std::abs(a.shear) <= 0.1);
    CHECK(a.sx * a.sy >= 0.9 * 0.9);
    CHECK(a.sx * a.sy <= 1.1 * 1.1);
  }
}

TEST_CASE("augment: a distorted batch is the same on 1 and 3 threads and in any batch") {
  const ImageSet set = make_squares(64, 4);
  const InputPipeline input(set, 1, 32, 32, 0.1307, 0.3081);
  const Distorter d(both(), 5, 28, 28);
  std::vector<int64_t> idx(64);
  for (int i = 0; i < 64; ++i) idx[size_t(i)] = (i * 37) % 64;
  const int64_t plane = 32 * 32;
  std::vector<float> one(64 * plane), three(64 * plane), single(plane);
  std::vector<uint8_t> labels(64);
  omp_set_num_threads(1);
  input.fill(one.data(), idx.data(), 64, labels.data(), d, 4);
  omp_set_num_threads(3);
  input.fill(three.data(), idx.data(), 64, labels.data(), d, 4);
  omp_set_num_threads(1);
  CHECK(one == three);
  input.fill(single.data(), idx.data() + 9, 1, labels.data(), d, 4);
  CHECK(std::vector<float>(one.begin() + 9 * plane, one.begin() + 10 * plane) == single);
  CHECK(labels[0] == set.labels[size_t(idx[9])]);
}

TEST_CASE("augment: zero magnitude trains bit for bit as no augmentation") {
  const Dataset data = make_dataset(200, 50);
  const RunConfig plain = make_run(lenet5_bn(), "adam", 1e-3, 2);
  RunConfig zero = plain;
  zero.augment.affine = AffineAugment{0, 0, 0, 0};
  zero.augment.elastic = ElasticAugment{0, 4};
  Recorder a, b;
  const RunResult ra = train_run(plain, data, a);
  const RunResult rb = train_run(zero, data, b);
  CHECK(ra.weights_hash == rb.weights_hash);
  REQUIRE(a.epochs.size() == b.epochs.size());
  for (size_t i = 0; i < a.epochs.size(); ++i) {
    CHECK(a.epochs[i].train_loss == b.epochs[i].train_loss);
    CHECK(a.epochs[i].val_loss == b.epochs[i].val_loss);
    // The same order, but the hash names the (empty) distortion stream too.
    CHECK(a.epochs[i].data_hash != b.epochs[i].data_hash);
  }
  // A real distortion changes training.
  RunConfig distorted_run = plain;
  distorted_run.augment = both();
  Recorder c;
  CHECK(train_run(distorted_run, data, c).weights_hash != ra.weights_hash);
}

TEST_CASE("augment: every epoch records the hash of its data order, equal for equal runs") {
  const Dataset data = make_dataset(200, 50);
  RunConfig config = make_run(lenet5_bn(), "adam", 1e-3, 3);
  Recorder a, b;
  train_run(config, data, a);
  train_run(config, data, b);
  REQUIRE(a.epochs.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(a.epochs[i].data_hash.size() == 16);
    CHECK(a.epochs[i].data_hash == b.epochs[i].data_hash);
  }
  CHECK(a.epochs[0].data_hash != a.epochs[1].data_hash);  // reshuffled
  config.seed = 8;
  Recorder c;
  train_run(config, data, c);
  CHECK(c.epochs[0].data_hash != a.epochs[0].data_hash);
  // Without shuffling every epoch has the same order and hash; with distortions they differ.
  config.shuffle = false;
  Recorder d;
  train_run(config, data, d);
  CHECK(d.epochs[0].data_hash == d.epochs[2].data_hash);
  config.augment = both();
  Recorder e;
  train_run(config, data, e);
  CHECK(e.epochs[0].data_hash != e.epochs[2].data_hash);
  CHECK(epoch_data_hash({0, 1, 2}, RunConfig{}, 1) == epoch_data_hash({0, 1, 2}, RunConfig{}, 2));
  CHECK(epoch_data_hash({0, 1, 2}, RunConfig{}, 1) != epoch_data_hash({0, 2, 1}, RunConfig{}, 1));
}

/// Fails the run when epoch `fail_at` is delivered, after its checkpoint is written.
struct StopAfter : Recorder {
  int fail_at = 0;
  void on_epoch(const EpochRecord& e) override {
    if (e.epoch == fail_at) throw RunError("stop here");
    Recorder::on_epoch(e);
  }
};

TEST_CASE("augment: a run with distortions resumed after epoch 2 equals an uninterrupted one") {
  const Dataset data = make_dataset(200, 50);
  RunConfig config = make_run(lenet5_bn_dropout(), "adam", 1e-3, 4);
  config.augment = both();
  Recorder whole;
  const RunResult uninterrupted = train_run(config, data, whole);

  TempDir dir;
  TrainOptions options;
  options.checkpoint_dir = dir / "run";
  StopAfter first;
  first.fail_at = 3;
  CHECK_THROWS_AS(train_run(config, data, first, options), RunError);
  REQUIRE(load_checkpoint(checkpoint_path(dir / "run", CheckpointKind::last)).epoch == 3);
  Recorder rest;
  const RunResult resumed = train_run(config, data, rest, options);
  CHECK(resumed.resumed_from_epoch == 3);
  REQUIRE(rest.starts.size() == 1);
  REQUIRE(rest.starts[0].resumed_record.has_value());
  CHECK(rest.starts[0].resumed_record->data_hash == whole.epochs[2].data_hash);
  CHECK(resumed.weights_hash == uninterrupted.weights_hash);
  REQUIRE(rest.epochs.size() == 1);
  CHECK(rest.epochs[0].train_loss == whole.epochs[3].train_loss);
  CHECK(rest.epochs[0].val_accuracy == whole.epochs[3].val_accuracy);
  CHECK(rest.epochs[0].data_hash == whole.epochs[3].data_hash);
  REQUIRE(resumed.test.has_value());
  CHECK(resumed.test->loss == uninterrupted.test->loss);
}

// ---- the setting ---------------------------------------------------------------------------------

std::string sweep_with(const std::string& augment) {
  return "name: s\nbase:\n  architecture: lenet5\n  augment: " + augment + "\n";
}

RunConfig one_run(const std::string& augment) {
  const Sweep sweep = parse_sweep(sweep_with(augment), "test.yaml");
  REQUIRE(sweep.runs.size() == 1);
  return sweep.runs[0];
}

std::string error_of(const std::string& augment) {
  try {
    parse_sweep(sweep_with(augment), "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST_CASE("augment: YAML, canonical JSON and the run key") {
  const RunConfig none = one_run("false");
  CHECK_FALSE(none.augment.enabled());
  CHECK_FALSE(none.to_json().contains("augment"));
  CHECK(none.key() ==
        parse_sweep("name: s\nbase: {architecture: lenet5}\n", "t.yaml").runs[0].key());

  const RunConfig defaults = one_run("{affine: true, elastic: true}");
  REQUIRE(defaults.augment.affine.has_value());
  REQUIRE(defaults.augment.elastic.has_value());
  CHECK(defaults.augment.affine->translate == 2.0);
  CHECK(defaults.augment.elastic->alpha == 34.0);
  CHECK(defaults.augment.elastic->sigma == 4.0);
  CHECK(defaults.key() != none.key());

  const RunConfig some = one_run("{affine: {translate: 1.5, shear: 0.3}}");
  REQUIRE(some.augment.affine.has_value());
  CHECK_FALSE(some.augment.elastic.has_value());
  CHECK(some.augment.affine->translate == 1.5);
  CHECK(some.augment.affine->scale == 0.1);
  CHECK(some.augment.affine->shear == 0.3);
  CHECK(some.to_json().at("augment").dump() ==
        R"({"affine":{"scale":0.1,"shear":0.3,"squeeze":0.1,"translate":1.5}})");
  const RunConfig back = RunConfig::from_json(some.to_json(), "stored");
  CHECK(back.to_json() == some.to_json());
  CHECK(back.key() == some.key());

  const Sweep grid = parse_sweep(
      "name: s\nbase: {architecture: lenet5}\ngrid:\n  augment: [false, {elastic: {alpha: [8, "
      "34]}}]\n",
      "test.yaml");
  CHECK(grid.runs.size() == 3);
}

TEST_CASE("augment: bad values are refused at their position") {
  CHECK(error_of("{affine: {scale: 1}}") ==
        "test.yaml:4:29: expected a number in [0, 1) for 'scale', found '1'");
  CHECK(error_of("{elastic: {sigma: 0}}").find("test.yaml:4:30: ") == 0);
  CHECK(error_of("{afine: true}")
            .find("unknown key 'afine' in augment; valid keys: affine, "
                  "elastic") != std::string::npos);
  CHECK(error_of("{affine: {rotate: 5}}")
            .find("test.yaml:4:22: unknown key 'rotate' in "
                  "augment.affine") == 0);
  CHECK(error_of("true").find("test.yaml:4:12: expected a mapping (affine, elastic) or false") ==
        0);
  CHECK(error_of("{elastic: 3}")
            .find("expected a mapping (alpha, sigma) or true/false for "
                  "'augment.elastic'") != std::string::npos);
}

}  // namespace
}  // namespace lenetlab::test
