// The Kaggle Digit Recognizer walk-through of README.md on a subset of real MNIST: export-csv
// --kaggle, the shipped sweep (fewer rows and epochs), predict, score-submission. Skipped when
// MNIST is not in the dataset cache (`lenetlab data fetch mnist`).
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "predict_test_util.hpp"
#include "skip.hpp"
#include "data/loaders.hpp"

namespace fs = std::filesystem;

namespace lenetlab::test {
namespace {

/// The first `rows` data rows of `text` (after its header line), header included.
std::string head(const std::string& text, int rows) {
  size_t end = 0;
  for (int r = 0; r <= rows; ++r) end = text.find('\n', end) + 1;
  return text.substr(0, end);
}

bool mnist_missing() {
  try {
    load_dataset("mnist", dataset_cache_dir());
    return false;
  } catch (const std::exception& e) {
    MESSAGE("real MNIST is missing: " << e.what());
    return true;
  }
}

TEST_CASE("kaggle walk-through: export, the shipped sweep on 2000 rows, predict, score") {
  if (mnist_missing())
    LENETLAB_SKIP_TEST("real MNIST is not in the cache: lenetlab data fetch mnist");
  TempDir dir;
  const CliResult exported =
      lenetlab_cli(dir, {"data", "export-csv", "mnist", "kaggle", "--kaggle"});
  INFO(exported.output);
  REQUIRE(exported.status == 0);
  const std::string train = slurp(dir / "kaggle" / "train.csv");
  const std::string test = slurp(dir / "kaggle" / "test.csv");
  const std::string labels = slurp(dir / "kaggle" / "test_labels.csv");
  CHECK(lines_of(train).size() == 42001);
  CHECK(lines_of(test).size() == 28001);
  CHECK(lines_of(labels).size() == 28001);
  CHECK(train.starts_with("label,pixel0,pixel1,"));
  CHECK(test.starts_with("pixel0,pixel1,"));
  const std::string first_test_row = lines_of(test)[1];
  CHECK(std::count(first_test_row.begin(), first_test_row.end(), ',') == 783);  // 784 pixels
  CHECK(labels.starts_with("ImageId,Label\n1,"));

  // The shipped sweep on the first 2,000 training and 500 test rows, 2 epochs.
  fs::create_directories(dir / "small");
  spit(dir / "small" / "train.csv", head(train, 2000));
  spit(dir / "small" / "test.csv", head(test, 500));
  spit(dir / "small" / "labels.csv", head(labels, 500));
  std::string sweep =
      slurp(fs::path(LENETLAB_SOURCE_DIR) / "sweeps" / "kaggle-digit-recognizer.yaml");
  const std::string dataset = "csv:kaggle/train.csv,kaggle/test.csv";
  REQUIRE(sweep.find(dataset) != std::string::npos);
  sweep.replace(sweep.find(dataset), dataset.size(), "csv:small/train.csv,small/test.csv");
  REQUIRE(sweep.find("epochs: 50") != std::string::npos);
  sweep.replace(sweep.find("epochs: 50"), 10, "epochs: 2");
  spit(dir / "kaggle.yaml", sweep);
  const CliResult run = lenetlab_cli(dir, {"run", "kaggle.yaml", "--jobs", "1", "-q"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  SQLite::Database db((dir / "results.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM runs WHERE test_accuracy IS NULL").getInt() == 1);

  const CliResult predicted = lenetlab_cli(
      dir, {"predict", "1", "--dataset", "csv:small/train.csv,small/test.csv", "-o", "sub.csv"});
  INFO(predicted.output);
  REQUIRE(predicted.status == 0);
  const std::vector<std::string> sub = lines_of(slurp(dir / "sub.csv"));
  REQUIRE(sub.size() == 501);
  CHECK(sub[0] == "ImageId,Label");
  CHECK(sub[1].starts_with("1,"));
  CHECK(sub[500].starts_with("500,"));

  const CliResult score =
      lenetlab_cli(dir, {"data", "score-submission", "sub.csv", "small/labels.csv"});
  INFO(score.output);
  REQUIRE(score.status == 0);
  double accuracy = 0;
  REQUIRE(std::sscanf(score.output.c_str(), "accuracy %lf", &accuracy) == 1);
  // 2 epochs on 1,600 images: well above chance (0.1); the full recipe reaches about 0.99.
  CHECK(accuracy > 0.5);
}

}  // namespace
}  // namespace lenetlab::test
