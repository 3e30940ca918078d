// Image datasets (MNIST, Fashion-MNIST, Kaggle-style CSV, any IDX directory), loaded once per
// process and shared read-only by every run of a sweep. The training split is always labelled; the
// test split may be a prediction set without labels (a Kaggle test.csv).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lenetlab {

/// A set of grey-scale images, with integer labels unless it is a prediction set.
/// images: n * rows * cols bytes, image-major, row-major (the IDX layout), 0 = background.
struct ImageSet {
  int64_t n = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> images;
  std::vector<uint8_t> labels;  ///< n labels, each in [0, num_classes); empty when !labelled.
  /// False for a prediction set (a CSV whose header has no label column): runs record no test
  /// metrics on it, and `lenetlab predict` writes its predictions.
  bool labelled = true;
  const uint8_t* image(int64_t i) const { return images.data() + i * rows * cols; }
};

/// Train and test split of one dataset plus its identity.
struct Dataset {
  std::string name;    ///< "mnist", "fashion-mnist", "csv" or "idx".
  std::string sha256;  ///< SHA-256 (hex) over the SHA-256 hex digests of its files, in load order.
  std::vector<std::string> files;  ///< paths read.
  int num_classes = 10;
  /// num_classes was taken from the labels (largest label + 1, idx:DIR): an architecture may
  /// declare more classes (num_classes in its file), never fewer.
  bool num_classes_from_labels = false;
  ImageSet train;
  ImageSet test;
};

}  // namespace lenetlab
