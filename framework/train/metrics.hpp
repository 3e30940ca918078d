// Evaluation of a network on labelled images (inference mode) and classification metrics.
#pragma once

#include <cstdint>
#include <vector>

#include "core/records.hpp"
#include "data/dataset.hpp"

namespace lenetlab {

class MicroBatchNetwork;
class Network;
class Distorter;

/// Converts dataset images (uint8, rows x cols) into the network's input (n, C, H, W) f32:
/// x = (pixel / 255 - mean) / std, the image centred in the input with zero-valued (pixel 0)
/// padding.
class InputPipeline {
 public:
  /// Throws RunError when the image does not fit the input (bigger, or channels != 1).
  InputPipeline(const ImageSet& images, int channels, int height, int width, double mean,
                double std);
  /// Writes images idx[0..n) into dst (n * C * H * W floats, NCHW) and their labels into
  /// labels[0..n) (0 for a set without labels), images across the calling thread's OpenMP
  /// threads.
  void fill(float* dst, const int64_t* idx, int n, uint8_t* labels) const;
  /// As fill, each image distorted first by `distorter` for `epoch` (keyed by its index idx[i]):
  /// x = (v / 255 - mean) / std of the distorted value v, which is fill's value where v is a
  /// pixel value. Throws RunError when the distorter's image size is not the dataset's.
  void fill(float* dst, const int64_t* idx, int n, uint8_t* labels, const Distorter& distorter,
            int epoch) const;

 private:
  const ImageSet& images_;
  int height_, width_, top_, left_;
  double mean_, std_;
  float lut_[256];
  float pad_value_;
};

/// Per-class precision/recall/F1/support from a confusion matrix (true-major, k x k); conventions
/// in core/records.hpp ClassMetrics (0 when a denominator is 0, as scikit-learn's zero_division=0).
std::vector<ClassMetrics> class_metrics(const std::vector<int64_t>& confusion, int k);

/// Mean loss, accuracy and confusion matrix of `net` over images idx (inference mode), in batches
/// of batch_size plus one tail batch.
EvalMetrics evaluate(Network& net, const InputPipeline& input, const std::vector<int64_t>& idx,
                     int batch_size);

/// As evaluate, on engine 2: each batch's micro-batches across the engine's threads, the loss
/// summed per micro-batch and the sums added in micro-batch order (the same bits on any thread
/// count).
EvalMetrics evaluate(MicroBatchNetwork& net, int num_classes, const InputPipeline& input,
                     const std::vector<int64_t>& idx, int batch_size);

}  // namespace lenetlab
