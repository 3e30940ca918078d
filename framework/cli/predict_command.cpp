// `lenetlab predict RUN --dataset DATASET -o FILE [--checkpoint final|best] [--format
// kaggle|csv|json] [--probabilities]`: a run's saved weights applied to a dataset's test images
// (predict/predict.hpp).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/files.hpp"
#include "data/loaders.hpp"
#include "predict/predict.hpp"
#include "sweep/replay.hpp"

namespace lenetlab {

namespace {

struct PredictArgs {
  std::string run;
  std::string dataset;
  std::string output;
  std::string checkpoint = "final";
  std::string format = "kaggle";
  bool probabilities = false;
};

void run_predict(const PredictArgs& args, const GlobalOptions& global) {
  const PredictFormat format = predict_format_from_string(args.format);
  check_format(format, args.probabilities);
  const StoredRun stored = load_stored_run(ResultsReader(global.db), args.run);
  const bool own_dataset = args.dataset.empty() || args.dataset == stored.config.dataset;
  const std::string dataset = args.dataset.empty() ? stored.config.dataset : args.dataset;
  const auto data = load_dataset(dataset, dataset_cache_dir(global.data_dir));
  const PredictRun run{global.db, stored.id, stored.key, stored.config, stored.threads};
  // On the run's own dataset its test_limit applies, as it did to its test metrics.
  const int64_t limit = own_dataset ? stored.config.test_limit : 0;
  const Predictions p = predict(run, *data, *checkpoint_kind_from_string(args.checkpoint), limit);
  write_file_atomic(args.output, format_predictions(p, format, args.probabilities),
                    Durability::kAtomicOnly);
  fmt::print(stderr,
             "run {} ({}), {} checkpoint (epoch {}, weights {}): {} test images of {} -> {} ({})\n",
             stored.id, stored.name, args.checkpoint, p.checkpoint_epoch, p.weights_hash, p.images,
             dataset, args.output, to_string(format));
  if (const auto accuracy = p.accuracy()) {
    fmt::print(stderr, "accuracy against the dataset's labels: {:.4f}", *accuracy);
    if (own_dataset && args.checkpoint == "final" && stored.test_accuracy)
      fmt::print(stderr, " (recorded test accuracy {:.4f}: {})", *stored.test_accuracy,
                 *stored.test_accuracy == *accuracy ? "the same" : "DIFFERENT");
    fmt::print(stderr, "\n");
  } else {
    fmt::print(stderr, "the test images have no labels (a prediction set): no accuracy\n");
  }
}

}  // namespace

void add_predict_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "classify a dataset's test images with a run's saved weights and write them");
  cmd->add_option("run", a->run, "run id, key or unique key prefix")->required();
  cmd->add_option("--dataset", a->dataset,
                  "dataset whose test images are classified, e.g. csv:train.csv,test.csv (its "
                  "test file may have no labels); default: the run's own");
  cmd->add_option("-o,--output", a->output, "file to write")->required();
  cmd->add_option("--checkpoint", a->checkpoint, "final | best")
      ->check(CLI::IsMember({"final", "best"}))
      ->capture_default_str();
  cmd->add_option("--format", a->format,
                  "kaggle (ImageId,Label from 1), csv (index,predicted[,label]) or json")
      ->check(CLI::IsMember({"kaggle", "csv", "json"}))
      ->capture_default_str();
  cmd->add_flag("--probabilities", a->probabilities,
                "add the softmax output of every class (csv and json)");
  cmd->callback([a, &global] { run_predict(*a, global); });
}

}  // namespace lenetlab
