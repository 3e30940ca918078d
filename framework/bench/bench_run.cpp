// A whole `lenetlab bench` as plan (the matrix's cases), execute (bench_case, profile_training)
// and record (the bench tables), so that the CLI only parses options and prints.
#include <thread>

#include "bench/bench.hpp"
#include "core/environment.hpp"
#include "core/error.hpp"

namespace lenetlab {

namespace {

BenchSettings settings_of(const BenchMatrix& m) {
  return BenchSettings{m.warmup_steps, m.steps, m.repetitions, m.seed, m.engine, m.micro_batch};
}

}  // namespace

std::vector<BenchCase> bench_cases(const BenchMatrix& m) {
  std::vector<BenchCase> cases;
  cases.reserve(m.architectures.size() * m.batch_sizes.size() * m.threads.size());
  for (const ArchSpec& arch : m.architectures)
    for (const int batch : m.batch_sizes)
      for (const int threads : m.threads) cases.push_back({&arch, batch, threads});
  return cases;
}

BenchRunInfo make_bench_run_info(BenchKind kind, const BenchMatrix& m, const Dataset& data) {
  BenchRunInfo info;
  info.kind = kind;
  info.matrix_file = m.file;
  info.matrix_yaml = m.yaml;
  info.dataset = data.name;
  info.dataset_sha256 = data.sha256;
  info.environment = capture_environment(m.threads.front());
  info.build_flags = bench_build_flags();
  info.load_average = load_average_1min();
  info.cores = static_cast<int>(std::thread::hardware_concurrency());
  info.engine = m.engine;
  info.micro_batch = m.engine == 2 ? m.micro_batch : 0;
  return info;
}

BenchMatrixRun run_bench_matrix(const BenchMatrix& m, const Dataset& data, Store& store,
                                BenchObserver& observer) {
  const std::vector<BenchCase> cases = bench_cases(m);
  const BenchRunInfo info = make_bench_run_info(BenchKind::matrix, m, data);
  BenchMatrixRun run;
  run.bench_run_id = record_bench_run(store, info);
  observer.on_started(info, run.bench_run_id);
  for (size_t i = 0; i < cases.size(); ++i) {
    const BenchCase& c = cases[i];
    observer.on_case(i, cases.size(), c);
    const std::vector<BenchResult> results =
        bench_case(*c.architecture, c.batch_size, c.threads, settings_of(m), data);
    record_bench_results(store, run.bench_run_id, results);
    run.results.insert(run.results.end(), results.begin(), results.end());
  }
  finish_bench_run(store, run.bench_run_id);
  return run;
}

BenchProfileRun run_bench_profile(const BenchMatrix& m, const ArchSpec& arch, const Dataset& data,
                                  Store& store, BenchObserver& observer) {
  if (m.engine != 1) throw Error(kProfileEngine1Only);  // before anything is recorded
  const BenchRunInfo info = make_bench_run_info(BenchKind::profile, m, data);
  BenchProfileRun run;
  run.bench_run_id = record_bench_run(store, info);
  observer.on_started(info, run.bench_run_id);
  const BenchCase c{&arch, m.batch_sizes.front(), m.threads.front()};
  observer.on_case(0, 1, c);
  run.profile = profile_training(arch, c.batch_size, c.threads, settings_of(m), data);
  record_profile(store, run.bench_run_id, run.profile);
  finish_bench_run(store, run.bench_run_id);
  return run;
}

}  // namespace lenetlab
