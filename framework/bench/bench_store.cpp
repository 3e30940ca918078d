// Bench results into the results database: BenchRunInfo, BenchResult and ProfileResult as the
// store's typed rows (store/rows.hpp), written by Store (tables bench_runs, bench_results,
// bench_profile of the versioned schema); and the build/host context of a bench.
#include <fmt/format.h>

#include <cstdlib>

#include "bench/bench.hpp"
#include "store/store.hpp"

#ifndef LENETLAB_CXX_FLAGS
#define LENETLAB_CXX_FLAGS "unknown"
#endif

namespace lenetlab {

namespace {

/// bench_results.samples: a JSON array, 6 significant digits per sample.
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

int64_t record_bench_run(Store& store, const BenchRunInfo& info) {
  const Environment& e = info.environment;
  BenchRunRow row;
  row.kind = to_string(info.kind);
  row.matrix_file = info.matrix_file;
  row.matrix_yaml = info.matrix_yaml;
  row.dataset = info.dataset;
  row.dataset_sha256 = info.dataset_sha256;
  row.host = e.host;
  row.cpu_model = e.cpu_model;
  row.cores = info.cores;
  if (info.load_average >= 0) row.load_average = info.load_average;
  row.isa = e.isa;
  row.onednn_version = e.onednn_version;
  row.tbb_version = e.tbb_version;
  row.compiler = e.compiler;
  row.build_type = e.build_type;
  row.build_flags = info.build_flags;
  row.git_commit = e.git_commit;
  row.engine = info.engine;
  if (info.micro_batch > 0) row.micro_batch = info.micro_batch;
  return store.begin_bench_run(row);
}

void record_bench_results(Store& store, int64_t bench_run_id,
                          const std::vector<BenchResult>& results) {
  std::vector<BenchResultRow> rows;
  for (const BenchResult& r : results) {
    BenchResultRow row;
    row.architecture = r.architecture;
    row.batch_size = r.batch_size;
    row.threads = r.threads;
    row.mode = to_string(r.mode);
    row.images_per_second_min = r.images_per_second_min;
    row.images_per_second_median = r.images_per_second_median;
    row.images_per_second_max = r.images_per_second_max;
    row.samples = json_array(r.samples);
    row.macs_per_image = r.macs_per_image;
    row.warmup_steps = r.warmup_steps;
    row.steps = r.steps;
    row.repetitions = r.repetitions;
    rows.push_back(std::move(row));
  }
  store.record_bench_results(bench_run_id, rows);
}

void record_profile(Store& store, int64_t bench_run_id, const ProfileResult& profile) {
  std::vector<BenchProfileRow> rows;
  for (const ProfileRow& r : profile.rows) {
    BenchProfileRow row;
    row.architecture = profile.architecture;
    row.batch_size = profile.batch_size;
    row.threads = profile.threads;
    row.part = r.part;
    row.direction = to_string(r.direction);
    row.ms_per_step = r.ms_per_step;
    row.percent_of_step = r.percent_of_step;
    row.in_sum = r.in_sum;
    row.steps = profile.steps;
    row.repetitions = profile.repetitions;
    rows.push_back(std::move(row));
  }
  store.record_bench_profile(bench_run_id, rows);
}

void finish_bench_run(Store& store, int64_t bench_run_id) { store.finish_bench_run(bench_run_id); }

}  // namespace lenetlab
