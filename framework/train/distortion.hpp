// The seeded distortions of a run's training images (the `augment` setting): parameters drawn
// per image from a stream keyed by (run seed, epoch, image index), applied by data/augment.hpp;
// and the hash of an epoch's data (image order and distortion stream) each epoch's record carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "data/augment.hpp"

namespace lenetlab {

/// Distorts training images as `config` says. The parameters of image `index` in epoch `epoch`
/// come from Rng(stream_key(seed, epoch, index), RngStream::augment), a generator of its own
/// (counter-based use: no state is shared between images), so a distorted image is the same
/// whatever thread, order or batch computes it, on replay and on resume. Draw order: when affine
/// is on, tx, ty, scale, squeeze, shear (each range * (2u - 1), u = uniform_double()); then when
/// elastic is on, the 2 * rows * cols field values (2u - 1, all dx then all dy, row-major).
/// Thread-safe (const).
class Distorter {
 public:
  Distorter(AugmentConfig config, uint64_t seed, int rows, int cols);

  /// XXH3-64 over the little-endian 64-bit words (seed, epoch, index).
  static uint64_t stream_key(uint64_t seed, int epoch, int64_t index);
  /// The affine distortion drawn for (epoch, index); the identity when affine is off.
  AffineDistortion affine(int epoch, int64_t index) const;
  /// Writes image `index` (rows x cols uint8 at src) distorted for `epoch` into dst (rows x cols
  /// floats in [0, 255]).
  void distort(int epoch, int64_t index, const uint8_t* src, float* dst) const;

  int rows() const { return rows_; }
  int cols() const { return cols_; }

 private:
  AugmentConfig config_;
  uint64_t seed_;
  int rows_, cols_;
};

/// The data of epoch `epoch`: 16 hex digits of XXH3-64 over the training order (the dataset
/// indices in the order they are trained, little-endian int64), followed when `config.augment`
/// is on by its canonical JSON (RunConfig::to_json's "augment"), the seed and the epoch
/// (little-endian uint64): equal hashes (on the same dataset, whose SHA-256 each run records) mean
/// the same images in the same order with the same distortions.
std::string epoch_data_hash(const std::vector<int64_t>& order, const RunConfig& config, int epoch);

}  // namespace lenetlab
