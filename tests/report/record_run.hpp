// Writing runs into a results database through Store for the report tests: a run started,
// trained for some epochs and finished (or failed), with the rows the report reads.
#pragma once

#include <cstdint>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "store/store.hpp"

namespace lenetlab::test {

/// The epochs of a recorded run: validation accuracy 0.89 + 0.02 epoch + val_shift, each epoch
/// `epoch_seconds` of training at `images_per_second` (0: not recorded).
struct RunShape {
  int epochs = 3;
  double val_shift = 0;
  double epoch_seconds = 0;
  double images_per_second = 0;
};

/// Records a run of `config` through Store: started, its epochs, then finished with
/// `test_accuracy` (10 classes, 100 images each) or failed when it is negative.
inline void record_run(Store& store, int64_t sweep, const RunConfig& config, double test_accuracy,
                       const RunShape& shape = {}) {
  const int64_t id = store.prepare_run(sweep, config);
  Environment env;
  env.host = "testhost";
  env.isa = "avx2";
  env.threads = 2;
  store.start_run(id, env, ModelStats{61706, 61706, 416520}, "deadbeef");
  for (int e = 1; e <= shape.epochs; ++e) {
    EpochRecord record;
    record.epoch = e;
    record.train_loss = 0.5 / e;
    record.train_accuracy = 0.9 + 0.02 * e;
    record.val_loss = 0.6 / e;
    record.val_accuracy = 0.89 + 0.02 * e + shape.val_shift;
    record.seconds = shape.epoch_seconds;
    record.images_per_second = shape.images_per_second;
    store.record_epoch(id, record);
  }
  RunResult result;
  result.epochs_completed = shape.epochs;
  result.seconds = 10;
  if (test_accuracy < 0) {
    result.status = RunStatus::failed;
    result.error = "shape mismatch";
  } else {
    EvalMetrics test;
    test.accuracy = test_accuracy;
    test.images = 1000;
    test.confusion.assign(100, 0);
    for (int label = 0; label < 10; ++label) {
      test.confusion[label * 10 + label] = 96;
      test.confusion[label * 10 + (label + 1) % 10] = 4;
      test.per_class.push_back({label, 0.96, 0.96, 0.96, 100});
    }
    result.test = test;
    result.best_val_accuracy = test_accuracy - 0.001;
  }
  store.finish_run(id, result);
}

}  // namespace lenetlab::test
