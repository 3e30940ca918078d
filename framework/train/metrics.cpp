#include "train/metrics.hpp"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/micro_batch.hpp"
#include "nn/network.hpp"
#include "train/distortion.hpp"

namespace lenetlab {

InputPipeline::InputPipeline(const ImageSet& images, int channels, int height, int width,
                             double mean, double std)
    : images_(images), height_(height), width_(width), mean_(mean), std_(std) {
  if (channels != 1 || images.rows > height || images.cols > width)
    throw RunError(
        fmt::format("dataset images are 1x{}x{}, which do not fit the network input {}x{}x{}",
                    images.rows, images.cols, channels, height, width));
  top_ = (height - images.rows) / 2;
  left_ = (width - images.cols) / 2;
  for (int v = 0; v < 256; ++v) lut_[v] = static_cast<float>((v / 255.0 - mean) / std);
  pad_value_ = lut_[0];
}

void InputPipeline::fill(float* dst, const int64_t* idx, int n, uint8_t* labels) const {
  const int rows = images_.rows, cols = images_.cols;
  const int64_t plane = int64_t{height_} * width_;
  const bool padded = rows != height_ || cols != width_;
  // Images across the run's OpenMP threads (each written by one thread: the same values).
#pragma omp parallel for schedule(static) if (n * plane >= kParallelElements)
  for (int i = 0; i < n; ++i) {
    float* out = dst + i * plane;
    if (padded) std::fill_n(out, plane, pad_value_);
    const uint8_t* img = images_.image(idx[i]);
    for (int r = 0; r < rows; ++r) {
      float* row = out + int64_t{r + top_} * width_ + left_;
      for (int c = 0; c < cols; ++c) row[c] = lut_[img[r * cols + c]];
    }
    labels[i] = images_.labelled ? images_.labels[idx[i]] : 0;
  }
}

void InputPipeline::fill(float* dst, const int64_t* idx, int n, uint8_t* labels,
                         const Distorter& distorter, int epoch) const {
  const int rows = images_.rows, cols = images_.cols;
  if (distorter.rows() != rows || distorter.cols() != cols)
    throw RunError(fmt::format("distortions of {}x{} images given {}x{} images", distorter.rows(),
                               distorter.cols(), rows, cols));
  const int64_t plane = int64_t{height_} * width_;
  const bool padded = rows != height_ || cols != width_;
  // Each image is distorted from its own keyed stream: the same on any thread.
#pragma omp parallel for schedule(static) if (n * plane >= kParallelElements)
  for (int i = 0; i < n; ++i) {
    std::vector<float> distorted(size_t(rows) * cols);
    distorter.distort(epoch, idx[i], images_.image(idx[i]), distorted.data());
    float* out = dst + i * plane;
    if (padded) std::fill_n(out, plane, pad_value_);
    for (int r = 0; r < rows; ++r) {
      float* row = out + int64_t{r + top_} * width_ + left_;
      for (int c = 0; c < cols; ++c) {
        const double v = distorted[size_t(r) * cols + c];
        row[c] = static_cast<float>((v / 255.0 - mean_) / std_);
      }
    }
    labels[i] = images_.labels[idx[i]];
  }
}

std::vector<ClassMetrics> class_metrics(const std::vector<int64_t>& confusion, int k) {
  std::vector<ClassMetrics> out(k);
  for (int c = 0; c < k; ++c) {
    int64_t tp = confusion[c * k + c], predicted = 0, actual = 0;
    for (int j = 0; j < k; ++j) {
      predicted += confusion[j * k + c];
      actual += confusion[c * k + j];
    }
    auto& m = out[c];
    m.label = c;
    m.support = actual;
    m.precision = predicted ? double(tp) / predicted : 0.0;
    m.recall = actual ? double(tp) / actual : 0.0;
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  }
  return out;
}

EvalMetrics evaluate(Network& net, const InputPipeline& input, const std::vector<int64_t>& idx,
                     int batch_size) {
  const int k = net.num_classes();
  EvalMetrics m;
  m.num_classes = k;
  m.confusion.assign(int64_t{k} * k, 0);
  std::vector<uint8_t> labels(batch_size);
  double loss_sum = 0;
  int64_t correct = 0;
  for (size_t start = 0; start < idx.size(); start += batch_size) {
    const int n = static_cast<int>(std::min<size_t>(batch_size, idx.size() - start));
    net.prepare(n);
    input.fill(net.input(n), idx.data() + start, n, labels.data());
    const float* log_p = net.forward(n, false);
    const BatchLoss b = net.loss(n, labels.data(), false);
    loss_sum += b.loss_sum;
    correct += b.correct;
    for (int i = 0; i < n; ++i) {
      const float* row = log_p + int64_t{i} * k;
      const int predicted = static_cast<int>(std::max_element(row, row + k) - row);
      ++m.confusion[labels[i] * k + predicted];
    }
  }
  m.images = static_cast<int64_t>(idx.size());
  m.loss = m.images ? loss_sum / m.images : 0.0;
  m.accuracy = m.images ? double(correct) / m.images : 0.0;
  m.per_class = class_metrics(m.confusion, k);
  return m;
}

EvalMetrics evaluate(MicroBatchNetwork& net, int num_classes, const InputPipeline& input,
                     const std::vector<int64_t>& idx, int batch_size) {
  const int k = num_classes;
  const int m = net.micro_batch();
  EvalMetrics metrics;
  metrics.num_classes = k;
  metrics.confusion.assign(int64_t{k} * k, 0);
  std::vector<BatchLoss> parts;
  std::vector<int64_t> confusion_parts;
  double loss_sum = 0;
  int64_t correct = 0;
  for (size_t start = 0; start < idx.size(); start += batch_size) {
    const int n = static_cast<int>(std::min<size_t>(batch_size, idx.size() - start));
    const int count = (n + m - 1) / m;
    parts.assign(size_t(count), BatchLoss{});
    const auto fill = [&](int first, int images, float* in, uint8_t* labels) {
      input.fill(in, idx.data() + start + first, images, labels);
    };
    const auto output = [&](int first, int images, const float* log_p, const uint8_t* labels) {
      BatchLoss& part = parts[size_t(first / m)];
      for (int i = 0; i < images; ++i) {
        const float* row = log_p + int64_t{i} * k;
        const int predicted = static_cast<int>(std::max_element(row, row + k) - row);
        part.loss_sum -= row[labels[i]];
        part.correct += predicted == labels[i];
        // Counts: the order of the increments does not matter.
        std::atomic_ref<int64_t>(metrics.confusion[labels[i] * k + predicted])++;
      }
    };
    net.infer(n, fill, output);
    for (const BatchLoss& part : parts) {
      loss_sum += part.loss_sum;
      correct += part.correct;
    }
  }
  metrics.images = static_cast<int64_t>(idx.size());
  metrics.loss = metrics.images ? loss_sum / metrics.images : 0.0;
  metrics.accuracy = metrics.images ? double(correct) / metrics.images : 0.0;
  metrics.per_class = class_metrics(metrics.confusion, k);
  return metrics;
}

}  // namespace lenetlab
