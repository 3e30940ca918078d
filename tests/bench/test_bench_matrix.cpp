// framework/bench: the matrix loader (values, defaults, errors with line and column), the bench
// tables, and a tiny bench and profile on a synthetic dataset. No assertion on speed.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>

#include "bench/bench.hpp"
#include "config/yaml_loader.hpp"
#include "core/environment.hpp"
#include "core/error.hpp"
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

std::set<std::string> table_names(SQLite::Database& db) {
  std::set<std::string> names;
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  while (q.executeStep()) names.insert(q.getColumn(0).getString());
  return names;
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

TEST_CASE("bench: the bench tables are created beside the runs schema, which is unchanged") {
  test::TempDir dir;
  Store store(dir / "r.db");
  const auto before = table_names(store.database());
  ensure_bench_schema(store);
  ensure_bench_schema(store);  // idempotent
  const auto after = table_names(store.database());
  for (const char* t : {"bench_runs", "bench_results", "bench_profile"}) CHECK(after.count(t) == 1);
  for (const std::string& t : before) CHECK(after.count(t) == 1);
  CHECK(after.size() == before.size() + 3);
  CHECK(store.database().execAndGet("PRAGMA user_version").getInt() == kSchemaVersion);
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

  SQLite::Database& db = store.database();
  SQLite::Statement q(
      db,
      "SELECT mode, images_per_second_min, images_per_second_median, images_per_second_max, "
      "steps, repetitions, threads, batch_size, samples FROM bench_results "
      "WHERE bench_run_id = ? ORDER BY mode DESC");
  q.bind(1, id);
  int rows = 0;
  while (q.executeStep()) {
    ++rows;
    CHECK(q.getColumn(0).getString() == (rows == 1 ? "training" : "inference"));
    CHECK(q.getColumn(1).getDouble() > 0);
    CHECK(q.getColumn(2).getDouble() >= q.getColumn(1).getDouble());
    CHECK(q.getColumn(3).getDouble() >= q.getColumn(2).getDouble());
    CHECK(q.getColumn(4).getInt() == 2);
    CHECK(q.getColumn(5).getInt() == 1);
    CHECK(q.getColumn(6).getInt() == 1);
    CHECK(q.getColumn(7).getInt() == 8);
    CHECK(q.getColumn(8).getString().front() == '[');
  }
  CHECK(rows == 2);
  SQLite::Statement run(
      db,
      "SELECT kind, finished_at IS NOT NULL, isa, onednn_version, compiler, build_flags "
      "FROM bench_runs WHERE id = ?");
  run.bind(1, id);
  REQUIRE(run.executeStep());
  CHECK(run.getColumn(0).getString() == "matrix");
  CHECK(run.getColumn(1).getInt() == 1);
  for (int c = 2; c < 6; ++c) CHECK_FALSE(run.getColumn(c).getString().empty());
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

  SQLite::Database db((dir / "r.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM bench_results").getInt() == 8);
  CHECK(db.execAndGet("SELECT kind || ' ' || dataset || ' ' || (finished_at IS NOT NULL) FROM "
                      "bench_runs")
            .getString() == "matrix synthetic 1");
}

TEST_CASE("bench: mode, kind and profile direction names round-trip; others are refused") {
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
  CHECK(store.database().execAndGet("SELECT count(*) FROM bench_profile").getInt() ==
        static_cast<int>(p.rows.size()));
}

}  // namespace lenetlab
