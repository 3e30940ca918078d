// framework/bench: the matrix loader (values, defaults, errors with line and column), the bench
// tables, and a tiny bench and profile on a synthetic dataset. No assertion on speed.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>

#include "bench/bench.hpp"
#include "config/yaml_loader.hpp"
#include "core/environment.hpp"
#include "core/error.hpp"
#include "nn/network.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"

namespace lenetlab {

namespace {

/// The ConfigError message of parsing `text` as "m.yaml" ("" when it parses).
std::string error_of(const std::string& text) {
  try {
    parse_bench_matrix(text, "m.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

ArchSpec architecture(const std::string& name) {
  return load_architecture(find_architecture(name, SourceMark{"test", 0, 0}));
}

}  // namespace

TEST_CASE(
    "bench: the shipped default matrix has every architecture, 2 batch sizes, 2 thread counts") {
  const BenchMatrix m = load_bench_matrix(std::filesystem::path(LENETLAB_SOURCE_DIR) /
                                          "experiments/bench/default.yaml");
  CHECK(m.architectures.size() == 5);
  CHECK(m.batch_sizes == std::vector<int>{64, 128});
  CHECK(m.threads == std::vector<int>{1, 2});
  CHECK(m.steps >= 1);
  CHECK(m.repetitions >= 1);
  CHECK(m.dataset == "mnist");
  std::set<std::string> names;
  for (const ArchSpec& a : m.architectures) names.insert(a.name);
  CHECK(names == std::set<std::string>{"lenet5", "lenet-relu", "lenet5-bn", "lenet5-bn-dropout",
                                       "lenet5-relu"});
}

TEST_CASE("bench: matrix values, single values as lists, defaults") {
  const BenchMatrix m = parse_bench_matrix(
      "architectures: lenet5-relu\nbatch_sizes: 8\nthreads: [1, 2, 3]\nsteps: 7\nrepetitions: 2\n"
      "warmup_steps: 0\nseed: 42\n",
      "m.yaml");
  REQUIRE(m.architectures.size() == 1);
  CHECK(m.architectures[0].name == "lenet5-relu");
  CHECK(m.batch_sizes == std::vector<int>{8});
  CHECK(m.threads == std::vector<int>{1, 2, 3});
  CHECK(m.steps == 7);
  CHECK(m.repetitions == 2);
  CHECK(m.warmup_steps == 0);
  CHECK(m.seed == 42);
  CHECK(m.file == "m.yaml");
  CHECK(m.engine == 1);
  CHECK(m.micro_batch == 32);
  const BenchMatrix e = parse_bench_matrix("engine: 2\nmicro_batch: 16\n", "e.yaml");
  CHECK(e.engine == 2);
  CHECK(e.micro_batch == 16);

  const BenchMatrix d = parse_bench_matrix("", "empty.yaml");
  CHECK(d.architectures.size() == available_architectures().size());
  CHECK(d.batch_sizes == std::vector<int>{64, 128});
  CHECK(d.threads == std::vector<int>{1});
}

TEST_CASE("bench: matrix errors name file, line and column") {
  CHECK(error_of("steps: 5\nbatch_size: [64]\n")
            .rfind("m.yaml:2:1: unknown key 'batch_size' in bench matrix; valid keys:", 0) == 0);
  CHECK(error_of("batch_sizes: [64, abc]\n")
            .rfind("m.yaml:1:19: expected a positive integer for 'batch_sizes', found 'abc'", 0) ==
        0);
  CHECK(error_of("batch_sizes: [64, 1.5]\n").rfind("m.yaml:1:19:", 0) == 0);
  CHECK(error_of("threads: [0]\n")
            .rfind("m.yaml:1:11: expected a positive integer for 'threads', found '0'", 0) == 0);
  CHECK(error_of("steps: 0\n")
            .rfind("m.yaml:1:8: expected a positive integer for 'steps', found '0'", 0) == 0);
  CHECK(error_of("repetitions: [3]\n")
            .rfind("m.yaml:1:14: expected a positive integer for 'repetitions', found a list", 0) ==
        0);
  CHECK(error_of("threads: []\n").rfind("m.yaml:1:10: empty list for 'threads'", 0) == 0);
  const std::string engine = error_of("engine: 3\n");
  CHECK(engine.rfind("m.yaml:1:9:", 0) == 0);
  CHECK(engine.find("'engine'") != std::string::npos);
  CHECK(error_of("micro_batch: 0\n").rfind("m.yaml:1:14:", 0) == 0);
  CHECK(error_of("batch_sizes: [64, 64]\n")
            .rfind("m.yaml:1:19: '64' is listed twice in 'batch_sizes'", 0) == 0);
  CHECK(error_of("steps: 5\nsteps: 6\n")
            .rfind("m.yaml:2:1: duplicate key 'steps' (first given at line 1)", 0) == 0);
  CHECK(
      error_of("- 1\n- 2\n").rfind("m.yaml:1:1: expected a mapping of keys at the top level", 0) ==
      0);
  CHECK(error_of("threads: [1, 2\n").rfind("m.yaml:", 0) == 0);  // YAML syntax error, with position
  const std::string unknown = error_of("architectures: [lenet5, lenet9]\n");
  CHECK(unknown.rfind("m.yaml:1:25:", 0) == 0);
  CHECK(unknown.find("lenet-relu") != std::string::npos);  // lists the available names

  test::TempDir dir;
  CHECK_THROWS_AS(load_bench_matrix(dir / "missing.yaml"), ConfigError);
}

TEST_CASE(
    "bench: a tiny bench on a synthetic dataset writes one row per mode with positive rates") {
  const Dataset data = synthetic_dataset(64, 0, 3);
  const BenchSettings settings{1, 2, 1, 1};
  const auto results = bench_case(architecture("lenet5-relu"), 8, 1, settings, data);
  REQUIRE(results.size() == 2);
  CHECK(results[0].mode == BenchMode::training);
  CHECK(results[1].mode == BenchMode::inference);
  for (const BenchResult& r : results) {
    CHECK(r.architecture == "lenet5-relu");
    CHECK(r.batch_size == 8);
    CHECK(r.threads == 1);
    CHECK(r.samples.size() == 1);
    CHECK(r.images_per_second_min > 0);
    CHECK(r.images_per_second_min <= r.images_per_second_median);
    CHECK(r.images_per_second_median <= r.images_per_second_max);
    CHECK(r.macs_per_image > 0);
    CHECK(r.gflops() > 0);
  }

  test::TempDir dir;
  Store store(dir / "r.db");
  BenchRunInfo info;
  info.matrix_file = "m.yaml";
  info.matrix_yaml = "steps: 2\n";
  info.dataset = data.name;
  info.dataset_sha256 = data.sha256;
  info.environment = capture_environment(1);
  info.build_flags = bench_build_flags();
  info.load_average = load_average_1min();
  info.cores = 2;
  const int64_t id = record_bench_run(store, info);
  record_bench_results(store, id, results);
  finish_bench_run(store, id);

  const ResultsReader reader(store.path());
  const std::vector<BenchResultRow> rows = reader.bench_results(id);
  REQUIRE(rows.size() == 2);
  for (size_t i = 0; i < rows.size(); ++i) {
    const BenchResultRow& r = rows[i];
    CHECK(r.mode == (i == 0 ? "training" : "inference"));
    CHECK(r.images_per_second_min > 0);
    CHECK(r.images_per_second_median >= r.images_per_second_min);
    CHECK(r.images_per_second_max >= r.images_per_second_median);
    CHECK(r.steps == 2);
    CHECK(r.repetitions == 1);
    CHECK(r.threads == 1);
    CHECK(r.batch_size == 8);
    CHECK(r.samples.front() == '[');
  }
  const std::vector<BenchRunRow> runs = reader.bench_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].id == id);
  CHECK(runs[0].kind == "matrix");
  CHECK(runs[0].finished_at.has_value());
  for (const std::string* text :
       {&runs[0].isa, &runs[0].onednn_version, &runs[0].compiler, &runs[0].build_flags})
    CHECK_FALSE(text->empty());
}

TEST_CASE("bench: run_bench_matrix measures every case in order and records each one") {
  const Dataset data = synthetic_dataset(64, 0, 3);
  BenchMatrix m;
  m.file = "tiny.yaml";
  m.architectures = {architecture("lenet5-relu"), architecture("lenet-relu")};
  m.batch_sizes = {8};
  m.threads = {1, 2};
  m.warmup_steps = 0;
  m.steps = 1;
  m.repetitions = 1;
  const std::vector<BenchCase> cases = bench_cases(m);
  REQUIRE(cases.size() == 4);
  CHECK(cases[1].architecture->name == "lenet5-relu");
  CHECK(cases[1].threads == 2);
  CHECK(cases[2].architecture->name == "lenet-relu");

  struct Recorder : BenchObserver {
    std::vector<std::string> events;
    void on_started(const BenchRunInfo& info, int64_t id) override {
      events.push_back(std::string("started ") + to_string(info.kind) + " " + std::to_string(id));
    }
    void on_case(size_t index, size_t count, const BenchCase& c) override {
      events.push_back(std::to_string(index) + "/" + std::to_string(count) + " " +
                       c.architecture->name + " t" + std::to_string(c.threads));
    }
  } recorder;
  test::TempDir dir;
  BenchMatrixRun run;
  {
    Store store(dir / "r.db");
    run = run_bench_matrix(m, data, store, recorder);
  }
  CHECK(recorder.events ==
        std::vector<std::string>{"started matrix " + std::to_string(run.bench_run_id),
                                 "0/4 lenet5-relu t1", "1/4 lenet5-relu t2", "2/4 lenet-relu t1",
                                 "3/4 lenet-relu t2"});
  REQUIRE(run.results.size() == 8);
  CHECK(run.results[2].architecture == "lenet5-relu");
  CHECK(run.results[2].threads == 2);
  CHECK(run.results[3].mode == BenchMode::inference);

  const ResultsReader reader(dir / "r.db");
  CHECK(reader.bench_results(run.bench_run_id).size() == 8);
  const std::vector<BenchRunRow> runs = reader.bench_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].kind == "matrix");
  CHECK(runs[0].dataset == "synthetic");
  CHECK(runs[0].finished_at.has_value());
}

TEST_CASE(
    "bench: engine 2 trains micro-batches (the same weights on 1 and 3 threads) and is recorded") {
  const Dataset data = synthetic_dataset(64, 0, 3);
  const ArchSpec arch = architecture("lenet5-bn");
  // Three engine-2 steps of 8 images in micro-batches of 3 (3 + 3 + 2): the weights do not depend
  // on the thread count, as a training run's do not.
  const auto weights = [&](int engine, int threads) {
    BenchSession session(arch, data, 8, 1, engine, 3, threads);
    for (int i = 0; i < 3; ++i) session.train_step();
    session.infer_step();
    return session.network().weights_hash();
  };
  const std::string one = weights(2, 1);
  CHECK(weights(2, 3) == one);
  CHECK(weights(1, 1) != one);  // engine 1: the whole batch at once, other rounding

  BenchMatrix m;
  m.file = "tiny.yaml";
  m.architectures = {arch};
  m.batch_sizes = {8};
  m.threads = {2};
  m.warmup_steps = 0;
  m.steps = 1;
  m.repetitions = 1;
  m.engine = 2;
  m.micro_batch = 3;
  struct Quiet : BenchObserver {
  } quiet;
  test::TempDir dir;
  BenchMatrixRun run;
  {
    Store store(dir / "r.db");
    run = run_bench_matrix(m, data, store, quiet);
  }
  REQUIRE(run.results.size() == 2);
  for (const BenchResult& r : run.results) {
    CHECK(r.engine == 2);
    CHECK(r.micro_batch == 3);
    CHECK(r.images_per_second_median > 0);
  }
  const std::vector<BenchRunRow> runs = ResultsReader(dir / "r.db").bench_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].engine == 2);
  CHECK(runs[0].micro_batch == 3);

  BenchSettings two{0, 1, 1, 1};
  two.engine = 2;
  CHECK_THROWS_WITH_AS(profile_training(arch, 8, 1, two, data),
                       doctest::Contains("engine 2 runs them per micro-batch"), Error);
  two.engine = 3;
  CHECK_THROWS_WITH_AS(bench_case(arch, 8, 1, two, data),
                       doctest::Contains("engine must be 1 or 2 (found 3)"), Error);
}

TEST_CASE("bench: mode, kind and profile direction names round-trip, and others are refused") {
  for (const BenchMode m : {BenchMode::training, BenchMode::inference})
    CHECK(bench_mode_from_string(to_string(m)) == m);
  for (const BenchKind k : {BenchKind::matrix, BenchKind::profile})
    CHECK(bench_kind_from_string(to_string(k)) == k);
  using D = ProfileDirection;
  for (const D d : {D::forward, D::backward, D::backward_data, D::backward_weights,
                    D::backward_other, D::step, D::whole})
    CHECK(profile_direction_from_string(to_string(d)) == d);
  CHECK(std::string(to_string(D::backward_weights)) == "backward_weights");
  CHECK_THROWS_WITH_AS(profile_direction_from_string("sideways"),
                       "unknown profile direction 'sideways'; expected one of forward, backward, "
                       "backward_data, backward_weights, backward_other, step, whole",
                       Error);
  CHECK_THROWS_AS(bench_kind_from_string("Matrix"), Error);
}

TEST_CASE("bench: a profile has every layer's forward and backward, the step parts and the split") {
  const Dataset data = synthetic_dataset(64, 0, 3);
  const ArchSpec arch = architecture("lenet5-relu");
  const ProfileResult p = profile_training(arch, 8, 1, BenchSettings{1, 2, 1, 1}, data);
  CHECK(p.whole_step_ms > 0);
  CHECK(p.sum_of_parts_ms > 0);
  CHECK(p.ratio() > 0);
  std::set<std::pair<std::string, std::string>> seen;
  for (const ProfileRow& row : p.rows) seen.insert({row.part, to_string(row.direction)});
  for (const char* layer :
       {"conv1", "activation1", "pool1", "conv2", "flatten1", "dense1", "dense3", "softmax1"}) {
    CHECK(seen.count({layer, "forward"}) == 1);
    CHECK(seen.count({layer, "backward"}) == 1);
  }
  for (const char* part : {"data", "loss", "optimizer"}) CHECK(seen.count({part, "step"}) == 1);
  CHECK(seen.count({"step", "whole"}) == 1);
  // conv2 and the dense layers compute both backward-data and backward-weights; conv1 (first) does
  // not.
  for (const char* layer : {"conv2", "dense1", "dense2", "dense3"}) {
    CHECK(seen.count({layer, "backward_data"}) == 1);
    CHECK(seen.count({layer, "backward_weights"}) == 1);
  }
  CHECK(seen.count({"conv1", "backward_data"}) == 0);
  double sum = 0;
  for (const ProfileRow& row : p.rows)
    if (row.in_sum) sum += row.ms_per_step;
  CHECK(sum == doctest::Approx(p.sum_of_parts_ms));

  test::TempDir dir;
  Store store(dir / "r.db");
  BenchRunInfo info;
  info.kind = BenchKind::profile;
  info.environment = capture_environment(1);
  const int64_t id = record_bench_run(store, info);
  record_profile(store, id, p);
  const std::vector<BenchProfileRow> rows = ResultsReader(store.path()).bench_profile(id);
  REQUIRE(rows.size() == p.rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].position == static_cast<int64_t>(i));
    CHECK(rows[i].part == p.rows[i].part);
    CHECK(rows[i].ms_per_step == p.rows[i].ms_per_step);
  }
}

}  // namespace lenetlab
