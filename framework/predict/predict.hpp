// `lenetlab predict`: a recorded run's saved weights applied to a dataset's test images (labelled,
// or a prediction set without labels such as Kaggle's test.csv), written as a Kaggle submission
// (ImageId,Label), CSV or JSON. Inference only: the network is built from the run's architecture
// and seed, its final (or best) checkpoint is loaded (train/run_weights.hpp), and the images are
// classified in batches of the run's batch size with the run's thread count, as the run's own
// test evaluation was (train/metrics.hpp evaluate; an engine-2 run's in its micro-batches,
// nn/micro_batch.hpp, whatever the thread count): on the run's labelled test set the predictions
// give its recorded test accuracy exactly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "data/dataset.hpp"
#include "train/checkpoint.hpp"

namespace lenetlab {

/// Output formats of predict.
enum class PredictFormat {
  kaggle,  ///< "ImageId,Label" rows, ImageId counted from 1 (Kaggle Digit Recognizer submission).
  csv,     ///< "index,predicted[,label][,prob0..probK-1]", index counted from 0.
  json,    ///< an array of {"index", "predicted"[, "label"][, "probabilities"]} objects.
};
const char* to_string(PredictFormat format);
/// Throws Error naming the valid choices on an unknown name.
PredictFormat predict_format_from_string(const std::string& name);

/// The run whose weights predict, as the results database records it.
struct PredictRun {
  std::filesystem::path db;  ///< results database; checkpoints are beside it (checkpoint_dir).
  int64_t id = 0;
  std::string key;
  RunConfig config;
  int threads = 1;  ///< OpenMP threads the run was trained and evaluated with.
};

/// One prediction per test image, in the dataset's order.
struct Predictions {
  int64_t images = 0;
  int num_classes = 0;
  /// Arg-max class of the network's output per image (the lowest class on ties, as evaluate).
  std::vector<uint8_t> predicted;
  /// True labels (empty for a prediction set).
  std::vector<uint8_t> labels;
  /// images x num_classes softmax outputs, exp of the network's log-probabilities (double).
  std::vector<double> probabilities;
  int checkpoint_epoch = 0;  ///< epoch of the checkpoint's weights
  std::string weights_hash;  ///< of the loaded weights (XXH3-64 hex)

  /// Fraction of images whose prediction is their label; absent for a prediction set.
  std::optional<double> accuracy() const;
};

/// Classifies the first `limit` (0 = all) test images of `data` with checkpoint `kind` (final or
/// best) of `run`. Sets the calling thread's OpenMP thread count to run.threads (an engine-2 run:
/// its micro-batches on run.threads threads, the same results for any count).
/// Throws Error when the images do not fit the architecture's input (larger, or not one channel)
/// or the dataset's class count does not fit its output (as training refuses it: different, or,
/// for a class count taken from the labels, larger), naming both shapes; and as
/// load_run_weights does (missing or damaged checkpoint).
Predictions predict(const PredictRun& run, const Dataset& data, CheckpointKind kind,
                    int64_t limit = 0);

/// Throws Error when `probabilities` is asked of the kaggle format (which has none).
void check_format(PredictFormat format, bool probabilities);

/// The file content of `p` in `format`; `probabilities` adds the softmax outputs (csv and json;
/// Error for kaggle, whose format has none). Numbers are written with the shortest text that
/// reads back to the same double ({fmt} "{}"), so the same predictions give the same bytes.
std::string format_predictions(const Predictions& p, PredictFormat format, bool probabilities);

}  // namespace lenetlab
