// Store: the tables of `lenetlab bench` (bench_runs, bench_results, bench_profile).
#include <fmt/format.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/database.hpp"
#include "store/store.hpp"

namespace lenetlab {

using detail::bind_optional;
using detail::Session;

int64_t Store::begin_bench_run(const BenchRunRow& run) {
  int64_t id = 0;
  write("begin_bench_run", [&](Session& s) {
    SQLite::Statement insert = s.prepare(
        "INSERT INTO bench_runs (kind, started_at, matrix_file, matrix_yaml, dataset, "
        "dataset_sha256, host, cpu_model, cores, load_average, isa, onednn_version, tbb_version, "
        "compiler, build_type, build_flags, git_commit, engine, micro_batch) VALUES (:kind, "
        ":started_at, :matrix_file, :matrix_yaml, :dataset, :dataset_sha256, :host, :cpu_model, "
        ":cores, :load_average, :isa, :onednn_version, :tbb_version, :compiler, :build_type, "
        ":build_flags, :git_commit, :engine, :micro_batch)");
    insert.bind(":kind", run.kind);
    insert.bind(":started_at", iso_utc_now());
    insert.bind(":matrix_file", run.matrix_file);
    insert.bind(":matrix_yaml", run.matrix_yaml);
    insert.bind(":dataset", run.dataset);
    insert.bind(":dataset_sha256", run.dataset_sha256);
    insert.bind(":host", run.host);
    insert.bind(":cpu_model", run.cpu_model);
    insert.bind(":cores", run.cores);
    bind_optional(insert, ":load_average", run.load_average);
    insert.bind(":isa", run.isa);
    insert.bind(":onednn_version", run.onednn_version);
    insert.bind(":tbb_version", run.tbb_version);
    insert.bind(":compiler", run.compiler);
    insert.bind(":build_type", run.build_type);
    insert.bind(":build_flags", run.build_flags);
    insert.bind(":git_commit", run.git_commit);
    insert.bind(":engine", run.engine);
    bind_optional(insert, ":micro_batch", run.micro_batch);
    insert.exec();
    id = s.db().getLastInsertRowid();
  });
  return id;
}

void Store::record_bench_results(int64_t bench_run_id, const std::vector<BenchResultRow>& rows) {
  write("record_bench_results", [&](Session& s) {
    SQLite::Statement insert = s.prepare(
        "INSERT INTO bench_results (bench_run_id, architecture, batch_size, threads, mode, "
        "images_per_second_min, images_per_second_median, images_per_second_max, samples, "
        "macs_per_image, warmup_steps, steps, repetitions) VALUES (:id, :architecture, "
        ":batch_size, :threads, :mode, :min, :median, :max, :samples, :macs, :warmup_steps, "
        ":steps, :repetitions)");
    for (const BenchResultRow& r : rows) {
      insert.reset();
      insert.bind(":id", bench_run_id);
      insert.bind(":architecture", r.architecture);
      insert.bind(":batch_size", r.batch_size);
      insert.bind(":threads", r.threads);
      insert.bind(":mode", r.mode);
      insert.bind(":min", r.images_per_second_min);
      insert.bind(":median", r.images_per_second_median);
      insert.bind(":max", r.images_per_second_max);
      insert.bind(":samples", r.samples);
      insert.bind(":macs", r.macs_per_image);
      insert.bind(":warmup_steps", r.warmup_steps);
      insert.bind(":steps", r.steps);
      insert.bind(":repetitions", r.repetitions);
      insert.exec();
    }
  });
}

void Store::record_bench_profile(int64_t bench_run_id, const std::vector<BenchProfileRow>& rows) {
  write("record_bench_profile", [&](Session& s) {
    SQLite::Statement insert = s.prepare(
        "INSERT INTO bench_profile (bench_run_id, position, architecture, batch_size, threads, "
        "part, direction, ms_per_step, percent_of_step, in_sum, steps, repetitions) VALUES (:id, "
        ":position, :architecture, :batch_size, :threads, :part, :direction, :ms, :percent, "
        ":in_sum, :steps, :repetitions)");
    int64_t position = 0;
    for (const BenchProfileRow& row : rows) {
      insert.reset();
      insert.bind(":id", bench_run_id);
      insert.bind(":position", position++);
      insert.bind(":architecture", row.architecture);
      insert.bind(":batch_size", row.batch_size);
      insert.bind(":threads", row.threads);
      insert.bind(":part", row.part);
      insert.bind(":direction", row.direction);
      insert.bind(":ms", row.ms_per_step);
      insert.bind(":percent", row.percent_of_step);
      insert.bind(":in_sum", row.in_sum ? 1 : 0);
      insert.bind(":steps", row.steps);
      insert.bind(":repetitions", row.repetitions);
      insert.exec();
    }
  });
}

void Store::finish_bench_run(int64_t bench_run_id) {
  write("finish_bench_run", [&](Session& s) {
    SQLite::Statement update = s.prepare("UPDATE bench_runs SET finished_at = :now WHERE id = :id");
    update.bind(":now", iso_utc_now());
    update.bind(":id", bench_run_id);
    update.exec();
    if (update.getChanges() != 1)
      throw StoreError(fmt::format("results database {}: finish_bench_run: no bench run with id {}",
                                   path_.string(), bench_run_id));
  });
}

}  // namespace lenetlab
