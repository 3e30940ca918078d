// Datasets by name: where the cache is, the CSV pair, and the dispatch of load_dataset and
// fetch_dataset (names parsed by core/dataset_ref; the MNIST family: data/mnist.cpp).
#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/dataset_ref.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "data/mnist.hpp"
#include "data/sha256.hpp"

namespace lenetlab {
namespace fs = std::filesystem;
namespace {

std::shared_ptr<const Dataset> load_csv_pair(const DatasetRef& ref) {
  const fs::path& train = ref.train_csv;
  const fs::path& test = ref.test_csv;
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "csv";
  dataset->train = read_csv(train);
  if (!dataset->train.labelled) {
    throw DataError(fmt::format(
        "{}: no label column (its header starts with 'pixel0'): the training file of "
        "csv:TRAIN.csv,TEST.csv needs labels ('label,pixel0,...'); a file without labels can only "
        "be the test file (a prediction set)",
        train.string()));
  }
  dataset->test = read_csv(test);
  dataset->files = {train.string(), test.string()};
  const std::string digests[] = {sha256_file(train), sha256_file(test)};
  dataset->sha256 = combined_sha256(digests);
  return dataset;
}

/// The dataset `name` stands for; DataError when it is none (core/dataset_ref.hpp).
DatasetRef dataset_ref(const std::string& name) {
  try {
    return parse_dataset_ref(name);
  } catch (const DatasetRefError& e) {
    throw DataError(e.what());
  }
}

}  // namespace

fs::path dataset_cache_dir(const fs::path& override_dir) {
  if (!override_dir.empty()) return override_dir;
  auto env = [](const char* name) -> std::optional<fs::path> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return fs::path(value);
  };
  if (auto dir = env("LENETLAB_DATA_DIR")) return *dir;
  // XDG Base Directory Specification: a relative $XDG_CACHE_HOME is invalid and ignored.
  if (auto xdg = env("XDG_CACHE_HOME"); xdg && xdg->is_absolute()) {
    return *xdg / "lenetlab" / "datasets";
  }
  if (auto home = env("HOME")) return *home / ".cache" / "lenetlab" / "datasets";
  throw DataError(
      "cannot locate the dataset cache: none of LENETLAB_DATA_DIR, XDG_CACHE_HOME and HOME is set; "
      "set one of them or pass --data-dir");
}

std::shared_ptr<const Dataset> load_dataset(const std::string& name, const fs::path& cache_dir) {
  const DatasetRef ref = dataset_ref(name);
  switch (ref.kind) {
    case DatasetKind::mnist:
      return load_mnist(cache_dir);
    case DatasetKind::fashion_mnist:
      return load_fashion_mnist(cache_dir);
    case DatasetKind::idx:
      return load_idx_dir(ref.idx_dir);
    case DatasetKind::csv:
      break;
  }
  return load_csv_pair(ref);
}

void fetch_dataset(const std::string& name, const fs::path& cache_dir) {
  const DatasetRef ref = dataset_ref(name);
  if (ref.kind == DatasetKind::mnist) return fetch_mnist(cache_dir);
  if (ref.kind == DatasetKind::fashion_mnist) return fetch_fashion_mnist(cache_dir);
  throw DataError(fmt::format("dataset '{}' is read from local {} files; there is nothing to fetch",
                              name, ref.kind == DatasetKind::idx ? "IDX" : "CSV"));
}

}  // namespace lenetlab
