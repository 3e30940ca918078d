// Pins of run keys and canonical JSON (RunConfig::to_json, RunConfig::key): computed by the code of
// efcfb97, before config/ was split, for configs that set every setting at least once and for
// every run of the shipped sweeps. A changed pin means databases and checkpoints written before
// would no longer resume or verify: the serialisation must not change.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "temp_dir.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;

struct ShippedPin {
  const char* sweep;
  std::vector<std::string> keys;
};

const char* const kPinNet =
    "name: pin-net\ninput: {channels: 1, height: 8, width: 8}\nlayers:\n  - conv: {filters: 2, "
    "kernel: 3}\n  - activation: relu\n  - flatten\n  - dense: {units: 10}\n  - softmax\n";

const char* const kSweeps[] = {
    "name: a\nbase: {architecture: pin-net.yaml}\n",
    "name: b\ndataset: fashion-mnist\nbase: {architecture: pin-net.yaml, epochs: 3, batch_size: "
    "128, seed: 18446744073709551615, validation_split: 0.1, shuffle: false, drop_last: true, "
    "normalize: {mean: 0.1307, std: 0.3081}, train_limit: 1000, test_limit: 500}\n",
    "name: c\ndataset: csv:train.csv,test.csv\nbase: {architecture: pin-net.yaml, "
    "validation_split: 0.2, learning_rate_schedule: {3: 0.4, 6: 0.2, 9: 0.1, 13: 0.02}}\ngrid:\n  "
    "optimizer:\n    - {name: sgd, learning_rate: 0.05, momentum: 0.9, nesterov: true, "
    "weight_decay: 0.0005}\n    - {name: adam, beta_1: 0.8, beta_2: 0.99, epsilon: 1e-8}\n    - "
    "{name: rmsprop, rho: 0.95, momentum: 0.5}\n  early_stopping:\n    - {monitor: val_accuracy, "
    "patience: 2, min_delta: 0.001, mode: max, restore_best_weights: true}\n    - false\n    - "
    "true\n",
    "name: d\nbase: {architecture: pin-net.yaml, learning_rate: 0.003, optimizer: adam, seed: 7, "
    "early_stopping: {monitor: train_loss}}\n",
};

const std::vector<std::string> kInlineKeys = {
    "6cfe2a85b02dc208", "b96f90fb2975a265", "c94714bfe8cb26da", "d5bdb42c010b9099",
    "056fa4fbdb0b6fcf", "7590d4221207a6c1", "c277ba8e561aff22", "db24c3eb213b19cf",
    "36c2fbea2f33ffe6", "802f39f1fa06002f", "5100ea55d3ada755", "6cefb7022aceb65b",
};
const std::vector<ShippedPin> kShippedKeys = {
    {"quickstart", {"5d49e68985c60930", "9a1ea535acdb5921", "9d9fe89c42ca92e3", "c001d168815e84b2",
                    "bbfc8552c3c19761", "65556f82a896bdda", "451404b341cd48cb", "1e77d47e0471ed34",
                    "7590fc26d3bce486", "dbc9290cab8e500c", "808c92bb8b8dc485", "081f721a8ded3f4b",
                    "338a5b03f14898e6", "f14fc3cf87f65246", "fc425b07bc76d8a1", "00cfd38a266cead2",
                    "9161233bc36346ef", "48cc78e72c60e6e4", "4ee3a1a8d0035059", "d22ee21028996b70",
                    "86a969b1c9d8cc59", "43182b14b05a2ef2", "19fb885e62350977", "e3ed18771d8ab9e8",
                    "f58ef772ccaee47f", "7d0e833465e906eb", "06730db48a2f3d5e", "d15b3d5c593c159f",
                    "5860aaca964ec545", "594ce8fa504c8d74"}},
    {"seed-recipes",
     {"1f5066a1a8619bbb", "2298b2aad0b61d55", "1e1ab0649f841d5c", "15256761b5c9017c",
      "4f72628276e43a3e", "ceee42e3f6e3a5bc", "21d9c9ff7f8998f0", "75f085c4700f1cf6",
      "e27972580a544c3b", "3940539ae7477668", "5c1ab94c7ca4ca0c", "b4b82752d0a4d5b1",
      "2375a8a4ecf6a851", "10435c7ca3b13734", "49ae2868d914f7d2"}},
    {"lenet5-validation",
     {"46c40c61a9b84b3d", "e627a7e48203b29c", "f11da5e975da826d", "4f575f7d6546efc3"}},
    {"lenet5-bn-seeds",
     {"df260072fc84d92f", "a04fc659f9637b9d", "1d3873edd597975f", "2c37ff61b24e6458",
      "9ffd038e90405863", "290abfabd45fef46", "c8e020339c68e70b"}},
};
// to_json().dump() of inline runs 1 and 2, without architecture_yaml.
const char* kJson1 =
    R"json({"architecture":"pin-net.yaml","batch_size":128,"dataset":"fashion-mnist","drop_last":true,"early_stopping":{"enabled":false,"min_delta":0.0,"mode":"auto","monitor":"val_loss","patience":0,"restore_best_weights":false},"epochs":3,"normalize":{"mean":0.1307,"std":0.3081},"optimizer":{"beta_1":0.9,"beta_2":0.999,"epsilon":1e-07,"learning_rate":0.01,"momentum":0.0,"name":"sgd","nesterov":false,"rho":0.9,"weight_decay":0.0},"seed":18446744073709551615,"shuffle":false,"test_limit":500,"train_limit":1000,"validation_split":0.1})json";
const char* kJson2 =
    R"json({"architecture":"pin-net.yaml","batch_size":64,"dataset":"csv:train.csv,test.csv","drop_last":false,"early_stopping":{"enabled":true,"min_delta":0.001,"mode":"max","monitor":"val_accuracy","patience":2,"restore_best_weights":true},"epochs":10,"learning_rate_schedule":[[3,0.4],[6,0.2],[9,0.1],[13,0.02]],"normalize":{"mean":0.0,"std":1.0},"optimizer":{"beta_1":0.9,"beta_2":0.999,"epsilon":1e-07,"learning_rate":0.05,"momentum":0.9,"name":"sgd","nesterov":true,"rho":0.9,"weight_decay":0.0005},"seed":0,"shuffle":true,"test_limit":0,"train_limit":0,"validation_split":0.2})json";

/// Every run of the inline sweeps, in order; the sweeps refer to pin-net.yaml beside them.
std::vector<RunConfig> inline_runs(const fs::path& dir) {
  std::ofstream(dir / "pin-net.yaml") << kPinNet;
  std::vector<RunConfig> runs;
  const char* const names[] = {"a.yaml", "b.yaml", "c.yaml", "d.yaml"};
  int i = 0;
  for (const char* text : kSweeps) {
    const Sweep sweep = parse_sweep(text, (dir / names[i++]).string());
    runs.insert(runs.end(), sweep.runs.begin(), sweep.runs.end());
  }
  return runs;
}

std::string dump_without_yaml(const RunConfig& run) {
  nlohmann::json j = run.to_json();
  j.erase("architecture_yaml");
  return j.dump();
}

TEST_CASE("run keys: configs setting every setting keep the keys of efcfb97") {
  test::TempDir dir;
  const std::vector<RunConfig> runs = inline_runs(dir.path());
  REQUIRE(runs.size() == kInlineKeys.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    CAPTURE(i);
    CHECK(runs[i].key() == kInlineKeys[i]);
  }
  CHECK(dump_without_yaml(runs[1]) == kJson1);
  CHECK(dump_without_yaml(runs[2]) == kJson2);
}

TEST_CASE("run keys: from_json(to_json()) gives the same canonical JSON and key") {
  test::TempDir dir;
  for (const RunConfig& run : inline_runs(dir.path())) {
    const RunConfig back = RunConfig::from_json(run.to_json(), "pin");
    CHECK(back.to_json().dump() == run.to_json().dump());
    CHECK(back.key() == run.key());
  }
}

TEST_CASE("run keys: every run of the shipped sweeps keeps its key of efcfb97") {
  const fs::path sweeps = fs::path(LENETLAB_SOURCE_DIR) / "sweeps";
  for (const ShippedPin& pin : kShippedKeys) {
    CAPTURE(pin.sweep);
    const Sweep sweep = load_sweep(sweeps / (std::string(pin.sweep) + ".yaml"));
    REQUIRE(sweep.runs.size() == pin.keys.size());
    for (std::size_t i = 0; i < pin.keys.size(); ++i) {
      CAPTURE(i);
      CHECK(sweep.runs[i].key() == pin.keys[i]);
    }
  }
}

}  // namespace
}  // namespace lenetlab
