// core/dataset_ref: the one grammar of dataset names, and the sweep check that uses it (a name the
// loader would refuse is refused at the sweep's file:line:column).
#include <doctest/doctest.h>

#include <string>

#include "config/sweep_loader.hpp"
#include "core/dataset_ref.hpp"

namespace lenetlab {
namespace {

std::string ref_error(const std::string& text) {
  try {
    parse_dataset_ref(text);
  } catch (const DatasetRefError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST_CASE("dataset ref: the four forms") {
  CHECK(parse_dataset_ref("mnist").kind == DatasetKind::mnist);
  CHECK(parse_dataset_ref("fashion-mnist").kind == DatasetKind::fashion_mnist);
  const DatasetRef csv = parse_dataset_ref("csv:data/train.csv,data/test.csv");
  CHECK(csv.kind == DatasetKind::csv);
  CHECK(csv.train_csv == "data/train.csv");
  CHECK(csv.test_csv == "data/test.csv");
  const DatasetRef idx = parse_dataset_ref("idx:data/kmnist");
  CHECK(idx.kind == DatasetKind::idx);
  CHECK(idx.idx_dir == "data/kmnist");
}

TEST_CASE("dataset ref: malformed csv references and unknown names") {
  for (const char* bad : {"csv:a,b,c", "csv:a", "csv:,b", "csv:a,", "csv:", "csv:a,,b"}) {
    CAPTURE(bad);
    CHECK(ref_error(bad) == std::string("dataset '") + bad +
                                "': expected 'csv:TRAIN.csv,TEST.csv' (two file names separated "
                                "by a comma)");
  }
  CHECK(ref_error("MNIST") ==
        "unknown dataset 'MNIST'; valid choices: mnist, fashion-mnist, csv:TRAIN.csv,TEST.csv, "
        "idx:DIR");
  CHECK(ref_error("") ==
        "unknown dataset ''; valid choices: mnist, fashion-mnist, csv:TRAIN.csv,TEST.csv, idx:DIR");
  CHECK(ref_error("idx:") ==
        "dataset 'idx:': expected 'idx:DIR' (a directory holding the four IDX files)");
}

TEST_CASE("dataset ref: a sweep with csv:a,b,c fails at check time with file:line:column") {
  try {
    parse_sweep("name: s\ndataset: csv:a.csv,b.csv,c.csv\nbase: {architecture: lenet5}\n",
                "sweeps/s.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          "sweeps/s.yaml:2:10: dataset 'csv:a.csv,b.csv,c.csv': expected "
          "'csv:TRAIN.csv,TEST.csv' (two file names separated by a comma)");
  }
}

}  // namespace
}  // namespace lenetlab
