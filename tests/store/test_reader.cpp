// Tests of store/reader.hpp: every typed row reads back what Store wrote, resolve_run, filters, and
// the errors of a missing or foreign database.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"

namespace lenetlab {
namespace {

using test::contains;
using test::error_of;
using test::make_config;
using test::make_epoch;
using test::make_result;
using test::TempDir;

Environment environment() {
  Environment env;
  env.host = "host-1";
  env.cpu_model = "Test CPU";
  env.isa = "avx2";
  env.onednn_version = "2.6.3";
  env.tbb_version = "2021.8";
  env.compiler = "GCC 12";
  env.build_type = "Release";
  env.git_commit = "abc123";
  env.threads = 2;
  return env;
}

/// Sweep "s": run 1 finished with 3 epochs, run 2 queued, run 3 failed.
struct ReaderDb {
  TempDir dir;
  std::filesystem::path path = dir / "results.db";
  std::vector<int64_t> ids;
  std::vector<RunConfig> configs;

  ReaderDb() {
    Store store(path);
    const int64_t sweep = store.upsert_sweep("s", "s.yaml", "name: s\n");
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      configs.push_back(make_config("lenet5", "adam", 0.001, 32, seed));
      ids.push_back(store.prepare_run(sweep, configs.back()));
    }
    store.start_run(ids[0], environment(), ModelStats{61706, 61470, 416520}, "sha-1");
    for (int e = 1; e <= 3; ++e) store.record_epoch(ids[0], make_epoch(e, e != 2));
    store.finish_run(ids[0], make_result(0.98, 0.07, 12.5));
    store.start_run(ids[2], environment(), ModelStats{}, "sha-1");
    RunResult failed;
    failed.status = RunStatus::failed;
    failed.error = "time limit";
    failed.seconds = 1;
    store.finish_run(ids[2], failed);
    store.record_verification(ids[0], true, 3, 0, "[]", environment());
    store.set_published_results(sweep, {{"lenet5", 0.991, 0.985, "LeCun et al. 1998"}});
  }
};

TEST_CASE("reader: runs are typed rows with their status, environment and results") {
  ReaderDb db;
  const ResultsReader reader(db.path);
  const std::vector<RunRow> runs = reader.runs();
  REQUIRE(runs.size() == 3);
  const RunRow& done = runs[0];
  CHECK(done.id == db.ids[0]);
  CHECK(done.key == db.configs[0].key());
  CHECK(done.sweep == "s");
  CHECK(done.name == db.configs[0].display_name());
  CHECK(done.architecture == "lenet5");
  CHECK(done.optimizer == "adam");
  CHECK(done.learning_rate == 0.001);
  CHECK(done.batch_size == 32);
  CHECK(done.seed == 1);
  CHECK(done.config_json == db.configs[0].to_json().dump());
  CHECK(done.status == RunStatus::finished);
  CHECK_FALSE(done.error);
  CHECK(done.parameters == 61706);
  CHECK(done.trainable_parameters == 61470);
  CHECK(done.macs_per_image == 416520);
  CHECK(done.threads == 2);
  CHECK(done.isa == "avx2");
  CHECK(done.build_type == "Release");
  CHECK(done.dataset_sha256 == "sha-1");
  CHECK(done.seconds == 12.5);
  CHECK(done.epochs_completed == 3);
  CHECK(done.best_epoch == 3);
  CHECK(done.test_loss == 0.07);
  CHECK(done.test_accuracy == 0.98);
  CHECK(done.test_images == 1000);
  CHECK(done.weights_hash == "0123456789abcdef");
  CHECK(done.started_at);
  CHECK(done.finished_at);

  const RunRow& queued = runs[1];
  CHECK(queued.status == RunStatus::queued);
  for (const auto* absent : {&queued.host, &queued.isa, &queued.started_at, &queued.weights_hash})
    CHECK_FALSE(absent->has_value());
  CHECK_FALSE(queued.threads);
  CHECK_FALSE(queued.test_accuracy);
  CHECK(runs[2].status == RunStatus::failed);
  CHECK(runs[2].error == "time limit");

  CHECK(reader.run(db.ids[2]).error == "time limit");
  CHECK(error_of<Error>([&] { reader.run(999); }) == "no run with id 999");
  CHECK(reader.run_status(db.configs[1].key()) == RunStatus::queued);
  CHECK_FALSE(reader.run_status("0000000000000000"));
}

TEST_CASE("reader: run filters by sweep, status, architecture and optimizer") {
  ReaderDb db;
  const ResultsReader reader(db.path);
  RunFilter filter;
  filter.status = RunStatus::failed;
  REQUIRE(reader.runs(filter).size() == 1);
  CHECK(reader.runs(filter)[0].id == db.ids[2]);
  filter = {};
  filter.sweep = "other";
  CHECK(reader.runs(filter).empty());
  filter = {};
  filter.architecture = "lenet5";
  filter.optimizer = "adam";
  CHECK(reader.runs(filter).size() == 3);
  filter.optimizer = "sgd";
  CHECK(reader.runs(filter).empty());
}

TEST_CASE("reader: epochs, class metrics, confusion, verifications, sweeps, published results") {
  ReaderDb db;
  const ResultsReader reader(db.path);
  const std::vector<EpochRecord> epochs = reader.epochs(db.ids[0]);
  REQUIRE(epochs.size() == 3);
  for (int e = 1; e <= 3; ++e) {
    const EpochRecord expected = make_epoch(e, e != 2);
    const EpochRecord& got = epochs[e - 1];
    CHECK(got.epoch == e);
    CHECK(got.train_loss == expected.train_loss);
    CHECK(got.train_accuracy == expected.train_accuracy);
    CHECK(got.val_loss == expected.val_loss);  // NULL for epoch 2
    CHECK(got.val_accuracy == expected.val_accuracy);
    CHECK(got.learning_rate == expected.learning_rate);
    CHECK(got.seconds == expected.seconds);
    CHECK(got.images_per_second == expected.images_per_second);
  }
  CHECK(reader.epochs(db.ids[1]).empty());

  const EvalMetrics test = *make_result(0.98).test;
  const std::vector<ClassMetrics> classes = reader.class_metrics(db.ids[0]);
  REQUIRE(classes.size() == 10);
  CHECK(classes[3].label == 3);
  CHECK(classes[3].precision == test.per_class[3].precision);
  CHECK(classes[3].support == 100);
  const std::vector<ConfusionCell> cells = reader.confusion(db.ids[0]);
  REQUIRE(cells.size() == 100);
  for (size_t i = 0; i < cells.size(); ++i) {
    CHECK(cells[i].true_label == static_cast<int64_t>(i / 10));
    CHECK(cells[i].predicted_label == static_cast<int64_t>(i % 10));
    CHECK(cells[i].count == test.confusion[i]);
  }
  CHECK(reader.confusion(db.ids[2]).empty());

  const std::vector<VerificationRow> verifications = reader.verifications(db.ids[0]);
  REQUIRE(verifications.size() == 1);
  CHECK(verifications[0].matched);
  CHECK(verifications[0].epochs_compared == 3);
  CHECK(verifications[0].details == "[]");
  CHECK(verifications[0].isa == "avx2");
  CHECK(reader.verifications().size() == 1);
  CHECK(reader.verifications(db.ids[1]).empty());

  const std::vector<SweepRow> sweeps = reader.sweeps();
  REQUIRE(sweeps.size() == 1);
  CHECK(sweeps[0].name == "s");
  CHECK(sweeps[0].yaml == "name: s\n");
  const std::vector<PublishedRow> published = reader.published_results("s");
  REQUIRE(published.size() == 1);
  CHECK(published[0].architecture == "lenet5");
  CHECK(published[0].test_accuracy == 0.991);
  CHECK(published[0].required_test_accuracy == 0.985);
  CHECK(published[0].source == "LeCun et al. 1998");
  CHECK(reader.published_results("other").empty());
}

TEST_CASE("reader: resolve_run by key, id and unique key prefix, ambiguous and unknown names") {
  TempDir dir;
  const auto path = dir / "results.db";
  std::vector<RunConfig> configs;
  std::vector<int64_t> ids;
  {
    Store store(path);
    const int64_t sweep = store.upsert_sweep("s", "s.yaml", "");
    // Enough runs that several first hex digits are shared.
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      configs.push_back(make_config("lenet5", "sgd", 0.01, 64, seed));
      ids.push_back(store.prepare_run(sweep, configs.back()));
    }
  }
  const ResultsReader reader(path);
  const std::string key = configs[0].key();
  CHECK(reader.resolve_run(key) == ids[0]);
  CHECK(reader.resolve_run(std::to_string(ids[4])) == ids[4]);
  // A decimal name is a run id before it is a key prefix: prefixes below are not ids.
  auto is_id = [&](const std::string& text) {
    return text.find_first_not_of("0123456789") == std::string::npos && text[0] != '0' &&
           text.size() <= 2 && std::stoi(text) <= static_cast<int>(ids.size());
  };
  std::string prefix;  // the shortest prefix of key that no other key shares
  for (size_t n = 1; n <= key.size() && prefix.empty(); ++n) {
    int matches = 0;
    for (const auto& config : configs) matches += config.key().compare(0, n, key, 0, n) == 0;
    if (matches == 1 && !is_id(key.substr(0, n))) prefix = key.substr(0, n);
  }
  REQUIRE_FALSE(prefix.empty());
  CHECK(reader.resolve_run(prefix) == ids[0]);

  std::set<char> first_digits;
  std::string shared;
  for (const auto& config : configs)
    if (!first_digits.insert(config.key()[0]).second && !is_id(config.key().substr(0, 1)))
      shared = config.key().substr(0, 1);
  REQUIRE_FALSE(shared.empty());
  const std::string ambiguous = error_of<Error>([&] { reader.resolve_run(shared); });
  CHECK(contains(ambiguous, "run key prefix '" + shared + "' is ambiguous: it matches "));
  CHECK_FALSE(contains(ambiguous, "query"));

  const std::string unknown = error_of<Error>([&] { reader.resolve_run("zzzz"); });
  CHECK(unknown ==
        "no run matches 'zzzz'; give a run id, a run key or a unique key prefix (see `lenetlab "
        "query runs`)");
  CHECK(reader.resolve_run(std::to_string(ids[3])) == ids[3]);
  CHECK(contains(error_of<Error>([&] { reader.resolve_run(""); }), "no run given"));
}

TEST_CASE("reader: bench rows read back what Store wrote") {
  TempDir dir;
  const auto path = dir / "results.db";
  int64_t id = 0;
  {
    Store store(path);
    BenchRunRow run;
    run.kind = "matrix";
    run.matrix_file = "bench.yaml";
    run.matrix_yaml = "steps: 2\n";
    run.dataset = "synthetic";
    run.dataset_sha256 = "sha";
    run.host = "h";
    run.cpu_model = "cpu";
    run.cores = 8;
    run.isa = "avx2";
    run.onednn_version = run.tbb_version = run.compiler = run.build_type = "x";
    run.build_flags = "-O3";
    run.git_commit = "abc";
    id = store.begin_bench_run(run);
    BenchResultRow result;
    result.architecture = "lenet5";
    result.batch_size = 64;
    result.threads = 2;
    result.mode = "training";
    result.images_per_second_min = 1000;
    result.images_per_second_median = 1100;
    result.images_per_second_max = 1200;
    result.samples = "[1000, 1100, 1200]";
    result.macs_per_image = 416520;
    result.warmup_steps = 1;
    result.steps = 2;
    result.repetitions = 3;
    store.record_bench_results(id, {result});
    BenchProfileRow part;
    part.architecture = "lenet5";
    part.part = "conv1";
    part.direction = "forward";
    part.ms_per_step = 0.25;
    part.in_sum = true;
    BenchProfileRow whole = part;
    whole.part = "step";
    whole.direction = "whole";
    whole.in_sum = false;
    store.record_bench_profile(id, {part, whole});
    store.finish_bench_run(id);
    CHECK(contains(error_of<StoreError>([&] { store.finish_bench_run(id + 1); }),
                   "no bench run with id"));
  }
  const ResultsReader reader(path);
  const std::vector<BenchRunRow> runs = reader.bench_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].id == id);
  CHECK(runs[0].cores == 8);
  CHECK_FALSE(runs[0].load_average);
  CHECK(runs[0].finished_at);
  CHECK(runs[0].build_flags == "-O3");
  const std::vector<BenchResultRow> results = reader.bench_results(id);
  REQUIRE(results.size() == 1);
  CHECK(results[0].bench_run_id == id);
  CHECK(results[0].images_per_second_median == 1100);
  CHECK(results[0].samples == "[1000, 1100, 1200]");
  const std::vector<BenchProfileRow> profile = reader.bench_profile(id);
  REQUIRE(profile.size() == 2);
  CHECK(profile[0].position == 0);
  CHECK(profile[0].in_sum);
  CHECK(profile[1].position == 1);
  CHECK(profile[1].direction == "whole");
}

}  // namespace
}  // namespace lenetlab
