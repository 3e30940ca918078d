// The bench tables of the results database (framework/bench/schema.sql) and build/host context.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include "bench/bench.hpp"
#include "bench/bench_schema_sql.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

#ifndef LENETLAB_CXX_FLAGS
#define LENETLAB_CXX_FLAGS "unknown"
#endif

namespace lenetlab {

namespace {

/// Runs body(db) in one IMMEDIATE transaction; SQLite errors become StoreError naming the
/// operation.
template <typename Body>
auto write(Store& store, const char* operation, Body&& body) {
  SQLite::Database& db = store.database();
  try {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    auto result = body(db);
    transaction.commit();
    return result;
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("results database {}: {} failed: {}", store.path().string(),
                                 operation, e.what()));
  }
}

std::string json_array(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    out += fmt::format("{}{:.6g}", i ? ", " : "", values[i]);
  return out + "]";
}

}  // namespace

std::string bench_build_flags() { return LENETLAB_CXX_FLAGS; }

double load_average_1min() {
  double load[1];
  return getloadavg(load, 1) == 1 ? load[0] : -1.0;
}

void ensure_bench_schema(Store& store) {
  write(store, "creating the bench tables", [](SQLite::Database& db) {
    db.exec(detail::kBenchSchemaSql);
    return 0;
  });
}

int64_t record_bench_run(Store& store, const BenchRunInfo& info) {
  ensure_bench_schema(store);
  return write(store, "recording the bench run", [&](SQLite::Database& db) {
    SQLite::Statement insert(
        db,
        "INSERT INTO bench_runs (kind, started_at, matrix_file, matrix_yaml, dataset, "
        "dataset_sha256, "
        "host, cpu_model, cores, load_average, isa, onednn_version, tbb_version, compiler, "
        "build_type, "
        "build_flags, git_commit) VALUES (:kind, :started_at, :matrix_file, :matrix_yaml, "
        ":dataset, "
        ":dataset_sha256, :host, :cpu_model, :cores, :load_average, :isa, :onednn_version, "
        ":tbb_version, :compiler, :build_type, :build_flags, :git_commit)");
    const Environment& e = info.environment;
    insert.bind(":kind", to_string(info.kind));
    insert.bind(":started_at", utc_now());
    insert.bind(":matrix_file", info.matrix_file);
    insert.bind(":matrix_yaml", info.matrix_yaml);
    insert.bind(":dataset", info.dataset);
    insert.bind(":dataset_sha256", info.dataset_sha256);
    insert.bind(":host", e.host);
    insert.bind(":cpu_model", e.cpu_model);
    insert.bind(":cores", info.cores);
    if (info.load_average >= 0)
      insert.bind(":load_average", info.load_average);
    else
      insert.bind(":load_average");
    insert.bind(":isa", e.isa);
    insert.bind(":onednn_version", e.onednn_version);
    insert.bind(":tbb_version", e.tbb_version);
    insert.bind(":compiler", e.compiler);
    insert.bind(":build_type", e.build_type);
    insert.bind(":build_flags", info.build_flags);
    insert.bind(":git_commit", e.git_commit);
    insert.exec();
    return db.getLastInsertRowid();
  });
}

void record_bench_results(Store& store, int64_t bench_run_id,
                          const std::vector<BenchResult>& results) {
  write(store, "recording bench results", [&](SQLite::Database& db) {
    SQLite::Statement insert(
        db,
        "INSERT INTO bench_results (bench_run_id, architecture, batch_size, threads, mode, "
        "images_per_second_min, images_per_second_median, images_per_second_max, samples, "
        "macs_per_image, warmup_steps, steps, repetitions) VALUES (:id, :architecture, "
        ":batch_size, "
        ":threads, :mode, :min, :median, :max, :samples, :macs, :warmup_steps, :steps, "
        ":repetitions)");
    for (const BenchResult& r : results) {
      insert.reset();
      insert.bind(":id", bench_run_id);
      insert.bind(":architecture", r.architecture);
      insert.bind(":batch_size", r.batch_size);
      insert.bind(":threads", r.threads);
      insert.bind(":mode", to_string(r.mode));
      insert.bind(":min", r.images_per_second_min);
      insert.bind(":median", r.images_per_second_median);
      insert.bind(":max", r.images_per_second_max);
      insert.bind(":samples", json_array(r.samples));
      insert.bind(":macs", r.macs_per_image);
      insert.bind(":warmup_steps", r.warmup_steps);
      insert.bind(":steps", r.steps);
      insert.bind(":repetitions", r.repetitions);
      insert.exec();
    }
    return 0;
  });
}

void record_profile(Store& store, int64_t bench_run_id, const ProfileResult& profile) {
  write(store, "recording the profile", [&](SQLite::Database& db) {
    SQLite::Statement insert(
        db,
        "INSERT INTO bench_profile (bench_run_id, position, architecture, batch_size, threads, "
        "part, "
        "direction, ms_per_step, percent_of_step, in_sum, steps, repetitions) VALUES (:id, "
        ":position, "
        ":architecture, :batch_size, :threads, :part, :direction, :ms, :percent, :in_sum, :steps, "
        ":repetitions)");
    int position = 0;
    for (const ProfileRow& row : profile.rows) {
      insert.reset();
      insert.bind(":id", bench_run_id);
      insert.bind(":position", position++);
      insert.bind(":architecture", profile.architecture);
      insert.bind(":batch_size", profile.batch_size);
      insert.bind(":threads", profile.threads);
      insert.bind(":part", row.part);
      insert.bind(":direction", to_string(row.direction));
      insert.bind(":ms", row.ms_per_step);
      insert.bind(":percent", row.percent_of_step);
      insert.bind(":in_sum", row.in_sum ? 1 : 0);
      insert.bind(":steps", profile.steps);
      insert.bind(":repetitions", profile.repetitions);
      insert.exec();
    }
    return 0;
  });
}

void finish_bench_run(Store& store, int64_t bench_run_id) {
  write(store, "finishing the bench run", [&](SQLite::Database& db) {
    SQLite::Statement update(db, "UPDATE bench_runs SET finished_at = :now WHERE id = :id");
    update.bind(":now", utc_now());
    update.bind(":id", bench_run_id);
    update.exec();
    return 0;
  });
}

}  // namespace lenetlab
