// Labelled image datasets (MNIST, Fashion-MNIST, Kaggle-style CSV), loaded once per process and
// shared read-only by every run of a sweep.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lenetlab {

/// A set of grey-scale images with integer labels.
/// images: n * rows * cols bytes, image-major, row-major (the IDX layout), 0 = background.
struct ImageSet {
  int64_t n = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> images;
  std::vector<uint8_t> labels;  ///< n labels, each in [0, num_classes).
  const uint8_t* image(int64_t i) const { return images.data() + i * rows * cols; }
};

/// Train and test split of one dataset plus its identity.
struct Dataset {
  std::string name;    ///< "mnist", "fashion-mnist" or "csv".
  std::string sha256;  ///< SHA-256 (hex) over the SHA-256 hex digests of its files, in load order.
  std::vector<std::string> files;  ///< paths read.
  int num_classes = 10;
  ImageSet train;
  ImageSet test;
};

}  // namespace lenetlab
