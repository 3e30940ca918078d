// Tests of issue 13's data parts: CSV prediction sets (no label column), `idx:DIR` datasets, the
// Kaggle-style export (export_csv, kaggle_split) and scoring a submission (score_submission).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "data_test_util.hpp"
#include "temp_dir.hpp"
#include "data/export.hpp"
#include "data/loaders.hpp"
#include "data/sha256.hpp"

namespace fs = std::filesystem;

namespace lenetlab {
namespace {

using test::Bytes;
using test::check_contains;
using test::data_error;
using test::TempDir;
using test::write_text;

/// A 2x2 prediction set: the header without "label", then the given data lines.
std::string unlabelled_2x2(const std::string& data_lines) {
  return "pixel0,pixel1,pixel2,pixel3\n" + data_lines;
}

/// "label,pixel0,...,pixelN-1" or "pixel0,..." for n pixels.
std::string header(int pixels, bool labelled) {
  std::string text = labelled ? "label" : "";
  for (int k = 0; k < pixels; ++k) text += (text.empty() ? "pixel" : ",pixel") + std::to_string(k);
  return text + "\n";
}

/// A 28x28 CSV row whose pixels all equal `value` (with the label first when label >= 0).
std::string row(int label, int value) {
  std::string line = label >= 0 ? std::to_string(label) : "";
  for (int k = 0; k < 784; ++k) {
    if (!line.empty()) line += ',';
    line += std::to_string(value);
  }
  return line + "\n";
}

TEST_CASE("prediction set: a CSV without the label column is read with labelled = false") {
  TempDir dir;
  write_text(dir / "p.csv", unlabelled_2x2("0,1,2,255\r\n10,20,30,40\r\n\r\n"));
  const ImageSet set = read_csv(dir / "p.csv", 2, 2);
  CHECK_FALSE(set.labelled);
  CHECK(set.n == 2);
  CHECK(set.labels.empty());
  CHECK(set.images == Bytes{0, 1, 2, 255, 10, 20, 30, 40});
  write_text(dir / "l.csv", "label,pixel0,pixel1,pixel2,pixel3\n3,0,1,2,255\n");
  const ImageSet labelled = read_csv(dir / "l.csv", 2, 2);
  CHECK(labelled.labelled);
  CHECK(labelled.labels == Bytes{3});
}

TEST_CASE("prediction set: the labelled reader's checks, with file:line and pixel columns") {
  TempDir dir;
  const fs::path path = dir / "bad.csv";
  const std::string file = path.string();
  auto error = [&](const std::string& text) {
    write_text(path, text);
    return data_error([&] { read_csv(path, 2, 2); });
  };
  check_contains(error(unlabelled_2x2("0,0,0,0\n0,0,0\n")),
                 {file + ":3:", "expected 4 columns (2x2 pixels)", "found 3"});
  check_contains(error(unlabelled_2x2("0,0,0,0,0\n")), {file + ":2:", "expected 4 columns"});
  check_contains(error(unlabelled_2x2("0,x1,0,0\n")),
                 {file + ":2:", "column 2 (pixel1)", "non-numeric", "'x1'"});
  check_contains(error(unlabelled_2x2("256,0,0,0\n")),
                 {file + ":2:", "column 1 (pixel0)", "256", "0..255"});
  check_contains(error(unlabelled_2x2("0,0,,0\n")), {file + ":2:", "column 3 (pixel2)", "empty"});
  check_contains(error(unlabelled_2x2("0,0,0,0\n\n0,0,0,0\n")), {file + ":3:", "empty line"});
  check_contains(error("pixel0,pixel1,pixel2\n0,0,0,0\n"),
                 {file + ":1:", "header has 3 columns", "expected 4 (2x2 pixels)"});
  check_contains(error("pixel0,pixel1,pixel2,pixel3\n"), {file, "no data rows"});
  check_contains(error("id,pixel0,pixel1,pixel2\n0,0,0,0\n"),
                 {file + ":1:", "bad header", "'label'", "'pixel0'", "'id'"});
  check_contains(error("0,0,0,0\n"), {file + ":1:", "missing header", "pixel0,...,pixel3"});
}

TEST_CASE("prediction set: accepted as the test file of csv:, refused as the training file") {
  TempDir dir;
  write_text(dir / "train.csv", header(784, true) + row(1, 7) + row(2, 8));
  write_text(dir / "test.csv", header(784, false) + row(-1, 5) + row(-1, 6) + row(-1, 9));
  const std::string pair =
      "csv:" + (dir / "train.csv").string() + "," + (dir / "test.csv").string();
  const auto data = load_dataset(pair, {});
  CHECK(data->train.labelled);
  CHECK_FALSE(data->test.labelled);
  CHECK(data->test.n == 3);
  CHECK(data->test.image(2)[783] == 9);
  const std::string swapped =
      "csv:" + (dir / "test.csv").string() + "," + (dir / "train.csv").string();
  check_contains(data_error([&] { load_dataset(swapped, {}); }),
                 {(dir / "test.csv").string(), "no label column", "training file"});
}

/// The four IDX files of a 3-class dataset of 3x2 images in `dir` (train: 7 images, test: 4).
void write_three_class_idx(const fs::path& dir, bool gz) {
  fs::create_directories(dir);
  const Bytes train_labels{0, 1, 2, 0, 1, 2, 2}, test_labels{2, 1, 0, 1};
  auto put = [&](const std::string& name, const Bytes& bytes) {
    if (gz) {
      test::write_gz(dir / (name + ".gz"), bytes);
    } else {
      test::write_file(dir / name, bytes);
    }
  };
  put("train-images-idx3-ubyte", test::idx_images(7, 3, 2));
  put("train-labels-idx1-ubyte", test::idx_labels(train_labels));
  put("t10k-images-idx3-ubyte", test::idx_images(4, 3, 2));
  put("t10k-labels-idx1-ubyte", test::idx_labels(test_labels));
}

TEST_CASE("idx:DIR: a generated 3-class dataset, plain or gzip, with one identity") {
  TempDir dir;
  write_three_class_idx(dir / "plain", false);
  write_three_class_idx(dir / "gz", true);
  const auto plain = load_dataset("idx:" + (dir / "plain").string(), {});
  const auto gz = load_dataset("idx:" + (dir / "gz").string(), {});
  for (const auto& data : {plain, gz}) {
    CHECK(data->name == "idx");
    CHECK(data->num_classes == 3);
    CHECK(data->num_classes_from_labels);
    CHECK(data->train.n == 7);
    CHECK(data->test.n == 4);
    CHECK(data->train.rows == 3);
    CHECK(data->train.cols == 2);
    CHECK(data->test.labels == Bytes{2, 1, 0, 1});
    CHECK(data->files.size() == 4);
  }
  // The identity is over the decompressed content: the digests of the four plain files.
  std::string digests;
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    digests += sha256_file(dir / "plain" / name);
  CHECK(plain->sha256 == test::reference_sha256(digests));
  CHECK(gz->sha256 == plain->sha256);
}

TEST_CASE("idx:DIR: missing files and the IDX reader's errors") {
  TempDir dir;
  check_contains(data_error([&] { load_dataset("idx:" + (dir / "none").string(), {}); }),
                 {"idx:", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", ".gz"});
  write_three_class_idx(dir / "d", false);
  test::write_file(dir / "d" / "t10k-labels-idx1-ubyte", test::idx_labels({0, 1, 2}));
  check_contains(data_error([&] { load_dataset("idx:" + (dir / "d").string(), {}); }),
                 {"t10k-labels-idx1-ubyte", "label count does not match", "expected 4", "found 3"});
  test::write_file(dir / "d" / "t10k-labels-idx1-ubyte", test::idx_images(1, 2, 2));
  check_contains(data_error([&] { load_dataset("idx:" + (dir / "d").string(), {}); }),
                 {"wrong magic number", "0x00000801"});
  check_contains(data_error([&] { fetch_dataset("idx:" + (dir / "d").string(), {}); }),
                 {"nothing to fetch"});
}

TEST_CASE("kaggle split: 3/5 and 2/5 of all images, disjoint, seeded, ordered by SHA-256") {
  const KaggleSplit mnist = kaggle_split(60000, 10000, 1);
  CHECK(mnist.train.size() == 42000);  // Kaggle Digit Recognizer: 42,000 train, 28,000 test
  CHECK(mnist.test.size() == 28000);
  std::vector<int64_t> all = mnist.train;
  all.insert(all.end(), mnist.test.begin(), mnist.test.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.front() == 0);
  CHECK(all.back() == 69999);
  // Images from both MNIST splits end up in each part.
  CHECK(std::count_if(mnist.test.begin(), mnist.test.end(), [](int64_t i) { return i >= 60000; }) >
        0);
  CHECK(std::count_if(mnist.test.begin(), mnist.test.end(), [](int64_t i) { return i < 60000; }) >
        0);

  // The documented order, recomputed with OpenSSL's one-shot digest.
  const KaggleSplit small = kaggle_split(3, 2, 7);
  std::vector<std::pair<std::string, int64_t>> keyed;
  for (int64_t i = 0; i < 5; ++i)
    keyed.emplace_back(test::reference_sha256("lenetlab-kaggle-split 7 " + std::to_string(i)), i);
  std::sort(keyed.begin(), keyed.end());
  REQUIRE(small.train.size() == 3);
  REQUIRE(small.test.size() == 2);
  for (size_t r = 0; r < 3; ++r) CHECK(small.train[r] == keyed[r].second);
  for (size_t r = 0; r < 2; ++r) CHECK(small.test[r] == keyed[3 + r].second);

  CHECK(kaggle_split(60000, 10000, 1).test == mnist.test);
  CHECK(kaggle_split(60000, 10000, 2).test != mnist.test);
}

/// A dataset of 2x2 images: 6 training, 4 test; image i has every pixel = 10 * i, label i % 3.
Dataset small_dataset() {
  Dataset data;
  data.name = "small";
  data.num_classes = 3;
  for (auto [set, first, n] : {std::tuple{&data.train, 0, 6}, {&data.test, 6, 4}}) {
    set->n = n;
    set->rows = set->cols = 2;
    for (int i = first; i < first + n; ++i) {
      set->images.insert(set->images.end(), 4, static_cast<uint8_t>(10 * i));
      set->labels.push_back(static_cast<uint8_t>(i % 3));
    }
  }
  return data;
}

TEST_CASE("export-csv: plain and Kaggle layouts round-trip through the reader") {
  TempDir dir;
  const Dataset data = small_dataset();
  SUBCASE("plain: both files labelled, in the dataset's order") {
    const auto files = export_csv(data, dir / "out", false, 1);
    REQUIRE(files.size() == 2);
    const ImageSet train = read_csv(dir / "out" / "train.csv", 2, 2, 3);
    const ImageSet test = read_csv(dir / "out" / "test.csv", 2, 2, 3);
    CHECK(train.images == data.train.images);
    CHECK(train.labels == data.train.labels);
    CHECK(test.images == data.test.images);
    CHECK(test.labels == data.test.labels);
  }
  SUBCASE("kaggle: labelled train, test without a label column, held-back labels") {
    const auto files = export_csv(data, dir / "k", true, 5);
    REQUIRE(files.size() == 3);
    CHECK(files[0].rows == 6);  // 3/5 of 10
    CHECK(files[1].rows == 4);
    CHECK(files[2].rows == 4);
    const KaggleSplit split = kaggle_split(6, 4, 5);
    const ImageSet train = read_csv(dir / "k" / "train.csv", 2, 2, 3);
    const ImageSet test = read_csv(dir / "k" / "test.csv", 2, 2, 3);
    CHECK_FALSE(test.labelled);
    REQUIRE(train.n == 6);
    REQUIRE(test.n == 4);
    for (size_t r = 0; r < 6; ++r) {
      CHECK(train.image(static_cast<int64_t>(r))[0] == 10 * split.train[r]);
      CHECK(train.labels[r] == split.train[r] % 3);
    }
    std::string labels = "ImageId,Label\n";
    for (size_t r = 0; r < 4; ++r) {
      CHECK(test.image(static_cast<int64_t>(r))[3] == 10 * split.test[r]);
      labels += std::to_string(r + 1) + "," + std::to_string(split.test[r] % 3) + "\n";
    }
    std::ifstream in(dir / "k" / "test_labels.csv");
    const std::string written((std::istreambuf_iterator<char>(in)), {});
    CHECK(written == labels);
    const std::string first_line = written.substr(0, written.find('\n'));
    CHECK(first_line == "ImageId,Label");
    const SubmissionScore s =
        score_submission(dir / "k" / "test_labels.csv", dir / "k" / "test_labels.csv");
    CHECK(s.images == 4);
    CHECK(s.correct == 4);
  }
}

TEST_CASE("score-submission: accuracy, and errors at file:line") {
  TempDir dir;
  write_text(dir / "labels.csv", "ImageId,Label\n1,3\n2,5\n3,0\n4,9\n");
  auto score = [&](const std::string& text) {
    write_text(dir / "sub.csv", text);
    return score_submission(dir / "sub.csv", dir / "labels.csv");
  };
  auto error = [&](const std::string& text) { return data_error([&] { score(text); }); };
  // Rows in any order: ImageId decides. 3 of 4 correct.
  const SubmissionScore s = score("ImageId,Label\r\n4,9\r\n1,3\r\n3,1\r\n2,5\r\n\r\n");
  CHECK(s.images == 4);
  CHECK(s.correct == 3);
  CHECK(s.accuracy() == 0.75);
  const std::string sub = (dir / "sub.csv").string();
  check_contains(error("Id,Label\n1,3\n"), {sub + ":1:", "ImageId,Label"});
  check_contains(error("ImageId,Label\n1,3\n1,5\n3,0\n4,9\n"), {sub + ":3:", "repeated"});
  check_contains(error("ImageId,Label\n0,3\n"), {sub + ":2:", "out of range", "1..4"});
  check_contains(error("ImageId,Label\n1,x\n"), {sub + ":2:", "Label", "not an integer"});
  check_contains(error("ImageId,Label\n1,3,4\n"), {sub + ":2:", "two columns"});
  check_contains(error("ImageId,Label\n1,3\n2,5\n4,9\n"), {sub, "ImageId 3 is missing"});
}

}  // namespace
}  // namespace lenetlab
