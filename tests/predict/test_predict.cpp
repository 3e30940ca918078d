// `lenetlab predict` against the run's own test evaluation, its formats, prediction sets (test
// files without labels) in a sweep, idx:DIR with 3 classes, and datasets that do not fit: the
// real executable on small synthetic datasets (no download needed).
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/data_test_util.hpp"
#include "predict_test_util.hpp"

namespace fs = std::filesystem;

namespace lenetlab::test {
namespace {

/// Pixel k (row-major, side x side) of synthetic image i of class c: a bright bar whose row
/// depends on the class, over a faint pattern that varies with the image.
int pixel(int64_t i, int c, int k, int side = 28) {
  const int row = k / side, col = k % side;
  const bool bar = row >= 2 + 2 * c && row < 5 + 2 * c && col >= 4 && col < side - 4;
  return bar ? 200 + static_cast<int>((i * 13 + k) % 50) : static_cast<int>((i * 7 + k * 3) % 30);
}

/// A Kaggle-style CSV of n 28x28 images of `classes` classes (image i has class i % classes),
/// numbered from `first`; without the label column when !labelled.
std::string synthetic_csv(int64_t first, int64_t n, bool labelled, int classes = 10) {
  std::string text = labelled ? "label" : "";
  for (int k = 0; k < 784; ++k) text += (text.empty() ? "pixel" : ",pixel") + std::to_string(k);
  text += "\n";
  for (int64_t i = first; i < first + n; ++i) {
    const int c = static_cast<int>(i % classes);
    std::string line = labelled ? std::to_string(c) : "";
    for (int k = 0; k < 784; ++k) {
      if (!line.empty()) line += ',';
      line += std::to_string(pixel(i, c, k));
    }
    text += line + "\n";
  }
  return text;
}

/// A one-run sweep on `dataset` (lenet5-relu, Adam, 2 epochs, 10% validation).
std::string sweep(const std::string& name, const std::string& dataset,
                  const std::string& architecture = "lenet5-relu") {
  return "name: " + name + "\ndataset: " + dataset + "\nbase:\n  architecture: " + architecture +
         "\n  optimizer: {name: adam, learning_rate: 0.002}\n  epochs: 2\n  batch_size: 32\n"
         "  validation_split: 0.1\n  seed: 3\n";
}

/// Trains the sweep `text` in `dir`; requires success.
void run_sweep(const TempDir& dir, const std::string& text) {
  spit(dir / "sweep.yaml", text);
  const CliResult r = lenetlab_cli(dir, {"run", "sweep.yaml", "--jobs", "1", "-q"});
  INFO(r.output);
  REQUIRE(r.status == 0);
}

TEST_CASE("predict: on the run's labelled test set the predictions give its recorded accuracy") {
  TempDir dir;
  spit(dir / "train.csv", synthetic_csv(0, 600, true));
  spit(dir / "test.csv", synthetic_csv(600, 203, true));  // 203: a tail batch of 11
  run_sweep(dir, sweep("labelled", "csv:train.csv,test.csv"));
  SQLite::Database db((dir / "results.db").string(), SQLite::OPEN_READONLY);
  const double recorded = db.execAndGet("SELECT test_accuracy FROM runs WHERE id = 1").getDouble();

  const CliResult csv = lenetlab_cli(dir, {"predict", "1", "--dataset", "csv:train.csv,test.csv",
                                           "-o", "p.csv", "--format", "csv", "--probabilities"});
  INFO(csv.output);
  REQUIRE(csv.status == 0);
  const std::vector<std::string> rows = lines_of(slurp(dir / "p.csv"));
  REQUIRE(rows.size() == 204);
  CHECK(rows[0].starts_with("index,predicted,label,prob0,prob1,"));
  CHECK(rows[0].ends_with(",prob9"));
  int64_t correct = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    int index = -1, predicted = -1, label = -1;
    REQUIRE(std::sscanf(rows[r].c_str(), "%d,%d,%d", &index, &predicted, &label) == 3);
    CHECK(index == static_cast<int>(r) - 1);
    CHECK(label == (600 + index) % 10);
    correct += predicted == label ? 1 : 0;
  }
  // Exactly, not approximately: the same weights, batches and threads as the run's evaluation.
  CHECK(double(correct) / 203.0 == recorded);
  CHECK(recorded > 0.5);  // the bars are easy; chance is 0.1
  CHECK(csv.output.find("the same") != std::string::npos);

  SUBCASE("kaggle: ImageId from 1, Label; the same weights give the same bytes") {
    REQUIRE(lenetlab_cli(dir, {"predict", "1", "-o", "a.csv"}).status == 0);
    REQUIRE(lenetlab_cli(dir, {"predict", "1", "-o", "b.csv"}).status == 0);
    const std::string a = slurp(dir / "a.csv");
    CHECK(a == slurp(dir / "b.csv"));
    const std::vector<std::string> k = lines_of(a);
    REQUIRE(k.size() == 204);
    CHECK(k[0] == "ImageId,Label");
    for (size_t r = 1; r < k.size(); ++r) {
      CHECK(k[r].starts_with(std::to_string(r) + ","));
      CHECK(k[r].substr(k[r].find(',') + 1) == rows[r].substr(rows[r].find(',') + 1, 1));
    }
  }
  SUBCASE("json: index, predicted, label and 10 probabilities summing to 1") {
    REQUIRE(
        lenetlab_cli(dir, {"predict", "1", "-o", "p.json", "--format", "json", "--probabilities"})
            .status == 0);
    const auto json = nlohmann::json::parse(slurp(dir / "p.json"));
    REQUIRE(json.size() == 203);
    for (const auto& item : json) {
      const auto& p = item["probabilities"];
      REQUIRE(p.size() == 10);
      double sum = 0;
      for (const auto& v : p) sum += v.get<double>();
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
      const auto best = std::max_element(p.begin(), p.end()) - p.begin();
      CHECK(item["predicted"].get<int>() == best);
      CHECK(item["label"].get<int>() == (600 + item["index"].get<int>()) % 10);
    }
  }
  SUBCASE("--probabilities with the kaggle format is refused") {
    const CliResult r = lenetlab_cli(dir, {"predict", "1", "-o", "x.csv", "--probabilities"});
    CHECK(r.status == 1);
    CHECK(r.output.find("--probabilities needs --format csv or json") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.csv"));
  }
}

TEST_CASE(
    "predict: an engine-2 run predicts in its micro-batches and gives its recorded accuracy") {
  TempDir dir;
  spit(dir / "train.csv", synthetic_csv(0, 300, true));
  spit(dir / "test.csv", synthetic_csv(300, 203, true));  // batches of 32 in micro-batches of 6
  spit(dir / "sweep.yaml", sweep("engine2", "csv:train.csv,test.csv", "lenet5-bn-dropout") +
                               "  engine: 2\n  micro_batch: 6\n");
  const CliResult trained =
      lenetlab_cli(dir, {"run", "sweep.yaml", "--jobs", "1", "--threads-per-run", "2", "-q"});
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  SQLite::Database db((dir / "results.db").string(), SQLite::OPEN_READONLY);
  const double recorded = db.execAndGet("SELECT test_accuracy FROM runs WHERE id = 1").getDouble();
  const double loss = db.execAndGet("SELECT test_loss FROM runs WHERE id = 1").getDouble();
  const CliResult r =
      lenetlab_cli(dir, {"predict", "1", "-o", "p.csv", "--format", "csv", "--probabilities"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::vector<std::string> rows = lines_of(slurp(dir / "p.csv"));
  REQUIRE(rows.size() == 204);
  int64_t correct = 0;
  std::vector<float> log_p;  // of each image's label: the float the network gave, exactly
  for (size_t row = 1; row < rows.size(); ++row) {
    std::vector<double> fields;
    for (size_t at = 0; at != std::string::npos;) {
      const size_t comma = rows[row].find(',', at);
      fields.push_back(std::stod(rows[row].substr(at, comma - at)));
      at = comma == std::string::npos ? comma : comma + 1;
    }
    REQUIRE(fields.size() == 13);  // index, predicted, label, 10 probabilities
    correct += fields[1] == fields[2] ? 1 : 0;
    log_p.push_back(static_cast<float>(std::log(fields[3 + static_cast<size_t>(fields[2])])));
  }
  CHECK(double(correct) / 203.0 == recorded);
  // The recorded test loss summed the same floats per micro-batch of 6, in batches of 32
  // (train/metrics.hpp evaluate): the same double, bit for bit, only if predict computed them as
  // the run's evaluation did (engine-1 inference rounds differently).
  double loss_sum = 0;
  for (size_t batch = 0; batch < log_p.size(); batch += 32)
    for (size_t micro = batch; micro < std::min(batch + 32, log_p.size()); micro += 6) {
      double part = 0;
      for (size_t i = micro; i < std::min({micro + 6, batch + 32, log_p.size()}); ++i)
        part -= double(log_p[i]);
      loss_sum += part;
    }
  CHECK(loss_sum / 203.0 == loss);
}

TEST_CASE("predict: a prediction set as the sweep's test file: no test metrics, weights kept") {
  TempDir dir;
  spit(dir / "train.csv", synthetic_csv(0, 400, true));
  spit(dir / "test.csv", synthetic_csv(400, 50, false));
  run_sweep(dir, sweep("unlabelled", "csv:train.csv,test.csv"));
  {
    SQLite::Database db((dir / "results.db").string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT status FROM runs").getString() == "finished");
    CHECK(db.execAndGet("SELECT COUNT(*) FROM runs WHERE test_accuracy IS NULL AND test_loss IS "
                        "NULL AND test_images IS NULL AND weights_hash IS NOT NULL")
              .getInt() == 1);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM class_metrics").getInt() == 0);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM confusion").getInt() == 0);
  }
  const CliResult q = lenetlab_cli(dir, {"query", "runs"});
  CHECK(q.output.find("run 1: no test accuracy because the test set has no labels") !=
        std::string::npos);
  const CliResult e = lenetlab_cli(dir, {"evaluate", "1"});
  CHECK(e.status == 1);
  CHECK(e.output.find("have no labels") != std::string::npos);

  const CliResult p = lenetlab_cli(dir, {"predict", "1", "-o", "sub.csv", "--format", "csv"});
  INFO(p.output);
  REQUIRE(p.status == 0);
  const std::vector<std::string> rows = lines_of(slurp(dir / "sub.csv"));
  REQUIRE(rows.size() == 51);
  CHECK(rows[0] == "index,predicted");
  CHECK(p.output.find("no labels") != std::string::npos);
}

/// Writes the four IDX files of `classes`-class images of side x side (train: n_train, test: 60).
void write_idx(const fs::path& dir, int classes, int side, int n_train) {
  fs::create_directories(dir);
  auto images = [&](int first, int n) {
    Bytes out;
    for (uint32_t v : {0x803u, uint32_t(n), uint32_t(side), uint32_t(side)}) put_be32(out, v);
    for (int i = first; i < first + n; ++i)
      for (int k = 0; k < side * side; ++k)
        out.push_back(static_cast<uint8_t>(pixel(i, i % classes, k, side)));
    return out;
  };
  auto labels = [&](int first, int n) {
    Bytes out;
    for (int i = first; i < first + n; ++i) out.push_back(static_cast<uint8_t>(i % classes));
    return idx_labels(out);
  };
  write_file(dir / "train-images-idx3-ubyte", images(0, n_train));
  write_file(dir / "train-labels-idx1-ubyte", labels(0, n_train));
  write_file(dir / "t10k-images-idx3-ubyte", images(n_train, 60));
  write_file(dir / "t10k-labels-idx1-ubyte", labels(n_train, 60));
}

/// lenet5-relu with `classes` outputs, as an architecture file.
std::string three_class_architecture() {
  std::string text =
      slurp(fs::path(LENETLAB_SOURCE_DIR) / "experiments" / "architectures" / "lenet5-relu.yaml");
  text.replace(text.find("name: lenet5-relu"), 17, "name: lenet5-relu-3\nnum_classes: 3");
  text.replace(text.find("dense: {units: 10}"), 18, "dense: {units: 3}");
  return text;
}

TEST_CASE("idx:DIR: a generated 3-class dataset trains with num_classes 3, sha256 recorded") {
  TempDir dir;
  write_idx(dir / "three", 3, 28, 300);
  spit(dir / "lenet5-relu-3.yaml", three_class_architecture());
  run_sweep(dir, sweep("three", "idx:three", "lenet5-relu-3.yaml"));
  SQLite::Database db((dir / "results.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT test_images FROM runs").getInt() == 60);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM confusion").getInt() == 9);
  CHECK(db.execAndGet("SELECT test_accuracy FROM runs").getDouble() > 0.5);
  CHECK(db.execAndGet("SELECT length(dataset_sha256) FROM runs").getInt() == 64);

  SUBCASE("an architecture may declare more classes than the labels show, never fewer") {
    TempDir other;
    write_idx(other / "three", 3, 28, 300);
    run_sweep(other, sweep("ten", "idx:three"));
    SQLite::Database db10((other / "results.db").string(), SQLite::OPEN_READONLY);
    CHECK(db10.execAndGet("SELECT COUNT(*) FROM confusion").getInt() == 100);
    std::string two = three_class_architecture();
    two.replace(two.find("num_classes: 3"), 14, "num_classes: 2");
    two.replace(two.find("dense: {units: 3}"), 17, "dense: {units: 2}");
    spit(other / "two.yaml", two);
    spit(other / "sweep.yaml", sweep("two", "idx:three", "two.yaml"));
    const CliResult r = lenetlab_cli(other, {"run", "sweep.yaml", "--jobs", "1", "-q"});
    CHECK(r.output.find("has 2 classes, dataset 'idx' has 3 (from its labels; an architecture may "
                        "declare more") != std::string::npos);
  }
  SUBCASE("predict refuses datasets whose classes or images do not fit") {
    write_idx(dir / "ten", 10, 28, 20);
    write_idx(dir / "big", 3, 36, 20);
    auto refusal = [&](const std::string& dataset) {
      const CliResult r = lenetlab_cli(dir, {"predict", "1", "--dataset", dataset, "-o", "p.csv"});
      CHECK(r.status == 1);
      return r.output;
    };
    CHECK(refusal("idx:ten").find("has 10 classes (from its labels), which do not fit the output "
                                  "of run 1's architecture 'lenet5-relu-3', 3 classes") !=
          std::string::npos);
    CHECK(refusal("idx:big").find("test images of 1x36x36 (channels x height x width), which do "
                                  "not fit the input of run 1's architecture 'lenet5-relu-3', "
                                  "1x28x28") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "p.csv"));
  }
}

}  // namespace
}  // namespace lenetlab::test
