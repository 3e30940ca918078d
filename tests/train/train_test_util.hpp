// Helpers shared by the training and runner tests (tests/train, tests/sweep): a synthetic,
// separable dataset, a run configuration on it, and an observer that records what a run reports.
#pragma once

#include <omp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "nn/rng.hpp"
#include "train/trainer.hpp"

namespace lenetlab::test {

// ---- synthetic data -----------------------------------------------------------------------------

/// 28x28 images of noise (0..63) with a bright 5x5 square (180..255) at a class-specific position:
/// two rows of five positions. Labels uniform in [0, 10).
inline ImageSet make_squares(int64_t n, uint64_t seed) {
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

inline Dataset make_dataset(int64_t n_train, int64_t n_test) {
  Dataset d;
  d.name = "squares";
  d.num_classes = 10;
  d.train = make_squares(n_train, 1);
  d.test = make_squares(n_test, 2);
  return d;
}

inline RunConfig make_run(const ArchSpec& arch, const std::string& optimizer, double lr, int epochs,
                          uint64_t seed = 7) {
  RunConfig c;
  c.architecture = arch.name;
  c.arch = arch;
  c.dataset = "squares";
  c.optimizer.kind = value_of(kOptimizerKinds, optimizer).value();
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
  std::vector<RunStart> starts;
  std::vector<EpochRecord> epochs;
  void on_started(const RunStart& s) override {
    stats = s.stats;
    train_images = s.train_images;
    val_images = s.val_images;
    starts.push_back(s);
  }
  void on_epoch(const EpochRecord& e) override { epochs.push_back(e); }
};

/// Sets the calling thread's OpenMP thread count for the scope (what --threads-per-run sets).
class OmpThreads {
 public:
  explicit OmpThreads(int n) : before_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreads() { omp_set_num_threads(before_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int before_;
};

}  // namespace lenetlab::test
