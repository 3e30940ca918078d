// `lenetlab bench [MATRIX]`: training and inference throughput over a bench matrix, or a per-layer
// profile of one training step (--profile ARCH). Results go to the bench tables of the results
// database (framework/bench/schema.sql) and to a table on stdout; progress goes to stderr.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "bench/fma_peak.hpp"
#include "cli/commands.hpp"
#include "config/yaml_loader.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "store/store.hpp"

namespace lenetlab {

namespace {

struct BenchArgs {
  std::string matrix;  ///< empty: default_bench_matrix()
  std::vector<std::string> architectures;
  std::vector<int> batch_sizes;
  std::vector<int> threads;
  int warmup_steps = -1;  ///< -1: from the matrix
  int steps = 0;          ///< 0: from the matrix
  int repetitions = 0;    ///< 0: from the matrix
  std::string profile;    ///< architecture to profile; empty: run the matrix
  bool fma_peak = false;  ///< measure the fp32 FMA peak instead of the matrix
  int engine = 0;         ///< 0: from the matrix
  int micro_batch = 0;    ///< 0: from the matrix
};

/// The matrix file with the command-line overrides applied.
BenchMatrix effective_matrix(const BenchArgs& args) {
  BenchMatrix m = load_bench_matrix(args.matrix.empty() ? default_bench_matrix()
                                                        : std::filesystem::path(args.matrix));
  const SourceMark command_line{"command line", 0, 0};
  if (!args.architectures.empty()) {
    m.architectures.clear();
    for (const std::string& name : args.architectures)
      m.architectures.push_back(load_architecture(find_architecture(name, command_line)));
  }
  if (!args.batch_sizes.empty()) m.batch_sizes = args.batch_sizes;
  if (!args.threads.empty()) m.threads = args.threads;
  if (args.warmup_steps >= 0) m.warmup_steps = args.warmup_steps;
  if (args.steps > 0) m.steps = args.steps;
  if (args.repetitions > 0) m.repetitions = args.repetitions;
  if (args.engine > 0) m.engine = args.engine;
  if (args.micro_batch > 0) m.micro_batch = args.micro_batch;
  return m;
}

std::string load_text(double load) { return load >= 0 ? fmt::format("{:.2f}", load) : "unknown"; }

/// Prints the context of a bench run to stdout and each case's start to stderr.
class PrintingObserver final : public BenchObserver {
 public:
  PrintingObserver(const BenchMatrix& m, bool profile) : m_(m), profile_(profile) {}
  void on_started(const BenchRunInfo& info, int64_t) override {
    const Environment& e = info.environment;
    fmt::print("bench: {} on {} ({} cores, load average {}), {} / oneDNN {}, {} {}\n", m_.file,
               e.cpu_model, info.cores, load_text(info.load_average), e.isa, e.onednn_version,
               e.compiler, info.build_flags);
    fmt::print(
        "dataset {}; engine {}; {} warm-up steps, then {} repetitions of {} steps per case\n\n",
        info.dataset, m_.engine == 2 ? fmt::format("2 (micro-batches of {})", m_.micro_batch) : "1",
        m_.warmup_steps, m_.repetitions, m_.steps);
    std::fflush(stdout);
  }
  void on_case(size_t index, size_t count, const BenchCase& c) override {
    if (profile_) {
      fmt::print(stderr, "profiling {} (batch {}, {} thread(s)) ...\n", c.architecture->name,
                 c.batch_size, c.threads);
      return;
    }
    fmt::print(stderr, "[{}/{}] {} batch {} threads {} ...\n", index + 1, count,
               c.architecture->name, c.batch_size, c.threads);
  }

 private:
  const BenchMatrix& m_;
  bool profile_;
};

void print_results(const std::vector<BenchResult>& results) {
  fmt::print("{:<18} {:>5} {:>7}  {:<9} {:>10} {:>10} {:>10} {:>8}\n", "architecture", "batch",
             "threads", "mode", "img/s min", "median", "max", "GFLOP/s");
  for (const BenchResult& r : results)
    fmt::print("{:<18} {:>5} {:>7}  {:<9} {:>10.0f} {:>10.0f} {:>10.0f} {:>8.1f}\n", r.architecture,
               r.batch_size, r.threads, to_string(r.mode), r.images_per_second_min,
               r.images_per_second_median, r.images_per_second_max, r.gflops());
  fmt::print(
      "GFLOP/s = 2 x forward MACs x median images/s / 1e9; a training step counts as 3x the "
      "forward (backward-data + backward-weights = 2x forward). Both modes include the input "
      "fill.\n");
}

void print_profile(const ProfileResult& p) {
  fmt::print(
      "profile of one training step: {}, batch {}, {} thread(s), median of {} repetitions x {} "
      "steps\n\n",
      p.architecture, p.batch_size, p.threads, p.repetitions, p.steps);
  fmt::print("{:<14} {:<18} {:>10} {:>10}\n", "part", "direction", "ms/step", "% of step");
  for (const ProfileRow& row : p.rows) {
    const bool whole = row.direction == ProfileDirection::whole;
    const bool detail = !row.in_sum && !whole;
    if (whole) fmt::print("{}\n", std::string(55, '-'));
    const std::string direction = to_string(row.direction);
    fmt::print("{:<14} {:<18} {:>10.3f} {:>9.1f}%\n", detail ? "  " + row.part : row.part,
               detail ? "  " + direction : direction, row.ms_per_step, row.percent_of_step);
  }
  fmt::print("sum of parts {:.3f} ms; whole step / sum of parts = {:.3f}\n", p.sum_of_parts_ms,
             p.ratio());
  fmt::print(
      "Indented rows split a backward: its backward-data and backward-weights primitives timed on "
      "their own after the step, and the rest (reorders, masks); they are not in the sum.\n");
}

/// Prints the FMA peak for each of the matrix's thread counts (nothing is stored).
void print_fma_peaks(const std::vector<int>& threads) {
  fmt::print("{:>7}  {:>10}  {:>16}  kernel\n", "threads", "GFLOP/s", "GFLOP/s / thread");
  for (const FmaPeak& p : measure_fma_peaks(threads))
    fmt::print("{:>7}  {:>10.1f}  {:>16.1f}  {}\n", p.threads, p.gflops, p.gflops_per_thread,
               p.kernel);
  fmt::print(
      "fp32 peak: 16 independent FMA chains per thread, 2 flops per lane, best of 5 groups of "
      "0.2 s; the ceiling for the GFLOP/s column of the matrix (load average now {}).\n",
      load_text(load_average_1min()));
}

void bench(const BenchArgs& args, const GlobalOptions& global) {
  const BenchMatrix m = effective_matrix(args);  // every config error before any measurement
  if (args.fma_peak) return print_fma_peaks(m.threads);
  std::optional<ArchSpec> profiled;
  if (!args.profile.empty())
    profiled = load_architecture(find_architecture(args.profile, SourceMark{"--profile", 0, 0}));
  const auto data = load_dataset(m.dataset, dataset_cache_dir(global.data_dir));
  Store store(global.db);
  PrintingObserver observer(m, profiled.has_value());
  int64_t run_id = 0;
  if (profiled) {
    const BenchProfileRun run = run_bench_profile(m, *profiled, *data, store, observer);
    run_id = run.bench_run_id;
    print_profile(run.profile);
  } else {
    const BenchMatrixRun run = run_bench_matrix(m, *data, store, observer);
    run_id = run.bench_run_id;
    print_results(run.results);
  }
  fmt::print("load average at the end: {}; stored as bench run {} in {}\n",
             load_text(load_average_1min()), run_id, global.db.string());
}

}  // namespace

void add_bench_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "measure training and inference images/s over a bench matrix, or profile a training step");
  cmd->add_option("matrix", args->matrix,
                  "bench matrix YAML (default: experiments/bench/default.yaml)");
  cmd->add_option("--arch", args->architectures,
                  "architecture name or YAML file, instead of the matrix's (repeatable)");
  cmd->add_option("--batch-size", args->batch_sizes,
                  "batch size instead of the matrix's (repeatable)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--threads", args->threads,
                  "OpenMP threads inside oneDNN instead of the matrix's (repeatable)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--warmup-steps", args->warmup_steps, "untimed steps before timing")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--steps", args->steps, "steps per timed repetition")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--repetitions", args->repetitions,
                  "timed repetitions (min/median/max over these)")
      ->check(CLI::Range(1, 10000));
  cmd->add_option(
      "--profile", args->profile,
      "profile one training step of this architecture per layer and direction, at the first "
      "batch size and thread count");
  cmd->add_option("--engine", args->engine,
                  "training engine to measure instead of the matrix's: 1, or 2 (micro-batches on "
                  "one-thread primitives, run setting engine)")
      ->check(CLI::Range(1, 2));
  cmd->add_option("--micro-batch", args->micro_batch,
                  "engine 2: images per micro-batch instead of the matrix's (default 32)")
      ->check(CLI::Range(1, 65536));
  cmd->add_flag("--fma-peak", args->fma_peak,
                "measure the machine's fp32 fused multiply-add peak (GFLOP/s) at each thread count "
                "instead of the matrix")
      ->excludes("--profile");
  cmd->callback([args, &global] { bench(*args, global); });
}

}  // namespace lenetlab
