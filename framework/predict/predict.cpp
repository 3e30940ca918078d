#include "predict/predict.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/micro_batch.hpp"
#include "nn/network.hpp"
#include "train/metrics.hpp"
#include "train/run_weights.hpp"

namespace lenetlab {

namespace {

constexpr PredictFormat kFormats[] = {PredictFormat::kaggle, PredictFormat::csv,
                                      PredictFormat::json};

/// Refuses a dataset whose images or classes do not fit `run`'s architecture, naming both.
void check_fits(const PredictRun& run, const Dataset& data) {
  const ArchSpec& arch = run.config.arch;
  const ImageSet& test = data.test;
  if (arch.input_channels != 1 || test.rows > arch.input_height || test.cols > arch.input_width)
    throw Error(fmt::format(
        "dataset '{}' has test images of 1x{}x{} (channels x height x width), which do not fit "
        "the input of run {}'s architecture '{}', {}x{}x{}",
        data.name, test.rows, test.cols, run.id, arch.name, arch.input_channels, arch.input_height,
        arch.input_width));
  if (!test.labelled) return;
  const bool fits = data.num_classes == arch.num_classes ||
                    (data.num_classes_from_labels && data.num_classes < arch.num_classes);
  if (!fits)
    throw Error(fmt::format(
        "dataset '{}' has {} classes{}, which do not fit the output of run {}'s architecture "
        "'{}', {} classes",
        data.name, data.num_classes, data.num_classes_from_labels ? " (from its labels)" : "",
        run.id, arch.name, arch.num_classes));
}

}  // namespace

const char* to_string(PredictFormat format) {
  switch (format) {
    case PredictFormat::kaggle:
      return "kaggle";
    case PredictFormat::csv:
      return "csv";
    case PredictFormat::json:
      return "json";
  }
  return "unknown";
}

PredictFormat predict_format_from_string(const std::string& name) {
  for (PredictFormat format : kFormats)
    if (name == to_string(format)) return format;
  throw Error(fmt::format("unknown prediction format '{}'; expected kaggle, csv or json", name));
}

std::optional<double> Predictions::accuracy() const {
  if (labels.empty() || images == 0) return std::nullopt;
  int64_t correct = 0;
  for (int64_t i = 0; i < images; ++i) correct += predicted[i] == labels[i] ? 1 : 0;
  return double(correct) / double(images);
}

Predictions predict(const PredictRun& run, const Dataset& data, CheckpointKind kind,
                    int64_t limit) {
  check_fits(run, data);
  omp_set_num_threads(run.threads);
  const ArchSpec& arch = run.config.arch;
  Network net(arch, run.config.seed);
  const TrainState state = load_run_weights(checkpoint_dir(run.db, run.key), run.key,
                                            fmt::format("run {}", run.id), kind, net);
  const int64_t n = limit > 0 ? std::min(limit, data.test.n) : data.test.n;
  const int k = net.num_classes();
  Predictions p;
  p.images = n;
  p.num_classes = k;
  p.checkpoint_epoch = state.epoch;
  p.weights_hash = state.weights_hash;
  p.predicted.resize(static_cast<size_t>(n));
  p.probabilities.resize(static_cast<size_t>(n * k));
  if (data.test.labelled) p.labels.resize(static_cast<size_t>(n));

  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  const InputPipeline input(data.test, arch.input_channels, arch.input_height, arch.input_width,
                            run.config.normalize_mean, run.config.normalize_std);
  // Images [image, image + count) of the output log-probabilities `log_p` with their labels.
  const auto record = [&](int64_t image, int count, const float* log_p, const uint8_t* labels) {
    for (int i = 0; i < count; ++i, ++image) {
      const float* row = log_p + int64_t{i} * k;
      p.predicted[image] = static_cast<uint8_t>(std::max_element(row, row + k) - row);
      if (data.test.labelled) p.labels[image] = labels[i];
      for (int c = 0; c < k; ++c) p.probabilities[image * k + c] = std::exp(double(row[c]));
    }
  };
  const int batch = run.config.batch_size;
  std::unique_ptr<MicroBatchNetwork> micro;  // engine 2: its evaluation (train/metrics.hpp)
  if (run.config.engine == 2)
    micro = std::make_unique<MicroBatchNetwork>(arch, run.config.seed, net, run.config.micro_batch,
                                                run.threads);
  std::vector<uint8_t> labels(static_cast<size_t>(batch));
  for (int64_t start = 0; start < n; start += batch) {
    const int b = static_cast<int>(std::min<int64_t>(batch, n - start));
    if (micro) {
      micro->infer(
          b,
          [&](int first, int count, float* in, uint8_t* l) {
            input.fill(in, idx.data() + start + first, count, l);
          },
          [&](int first, int count, const float* log_p, const uint8_t* l) {
            record(start + first, count, log_p, l);
          });
      continue;
    }
    net.prepare(b);
    input.fill(net.input(b), idx.data() + start, b, labels.data());
    record(start, b, net.forward(b, false), labels.data());
  }
  return p;
}

void check_format(PredictFormat format, bool probabilities) {
  if (probabilities && format == PredictFormat::kaggle)
    throw Error(
        "--probabilities needs --format csv or json (a Kaggle submission is ImageId,Label)");
}

std::string format_predictions(const Predictions& p, PredictFormat format, bool probabilities) {
  check_format(format, probabilities);
  const bool labelled = !p.labels.empty();
  const int k = p.num_classes;
  fmt::memory_buffer out;
  auto out_it = std::back_inserter(out);
  if (format == PredictFormat::kaggle) {
    fmt::format_to(out_it, "ImageId,Label\n");
    for (int64_t i = 0; i < p.images; ++i)
      fmt::format_to(out_it, "{},{}\n", i + 1, int{p.predicted[i]});
    return fmt::to_string(out);
  }
  if (format == PredictFormat::csv) {
    fmt::format_to(out_it, "index,predicted{}", labelled ? ",label" : "");
    if (probabilities)
      for (int c = 0; c < k; ++c) fmt::format_to(out_it, ",prob{}", c);
    fmt::format_to(out_it, "\n");
    for (int64_t i = 0; i < p.images; ++i) {
      fmt::format_to(out_it, "{},{}", i, int{p.predicted[i]});
      if (labelled) fmt::format_to(out_it, ",{}", int{p.labels[i]});
      if (probabilities)
        for (int c = 0; c < k; ++c) fmt::format_to(out_it, ",{}", p.probabilities[i * k + c]);
      fmt::format_to(out_it, "\n");
    }
    return fmt::to_string(out);
  }
  fmt::format_to(out_it, "[");
  for (int64_t i = 0; i < p.images; ++i) {
    fmt::format_to(out_it, "{}\n  {{\"index\": {}, \"predicted\": {}", i == 0 ? "" : ",", i,
                   int{p.predicted[i]});
    if (labelled) fmt::format_to(out_it, ", \"label\": {}", int{p.labels[i]});
    if (probabilities) {
      fmt::format_to(out_it, ", \"probabilities\": [");
      for (int c = 0; c < k; ++c)
        fmt::format_to(out_it, "{}{}", c == 0 ? "" : ", ", p.probabilities[i * k + c]);
      fmt::format_to(out_it, "]");
    }
    fmt::format_to(out_it, "}}");
  }
  fmt::format_to(out_it, "\n]\n");
  return fmt::to_string(out);
}

}  // namespace lenetlab
