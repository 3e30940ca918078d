// `lenetlab run SWEEP` and `lenetlab describe ARCH`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <numeric>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "config/search_path.hpp"
#include "config/yaml_loader.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "nn/network.hpp"
#include "store/reader.hpp"
#include "sweep/runner.hpp"
#include "sweep/halving.hpp"
#include "sweep/protocol.hpp"
#include "sweep/shard.hpp"

namespace lenetlab {

namespace {

std::atomic<bool> g_cancel{false};

/// 1256080 -> "1,256,080".
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

extern "C" void on_signal(int) {
  if (g_cancel.exchange(true))
    std::_Exit(130);  // second Ctrl-C: leave at once (SQLite WAL stays valid)
  constexpr char msg[] =
      "\nlenetlab: stopping: active runs end as 'interrupted' (Ctrl-C again to quit at once)\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, msg, sizeof msg - 1);
}

struct RunArgs {
  std::string sweep;
  int jobs = 0;
  int threads_per_run = 1;
  bool dry_run = false;
  bool force = false;
  bool quiet = false;
  bool retry_failed = false;
  bool restart_mismatched = false;
  double time_limit = 0;
  std::string shard;  ///< "I/N", empty: the whole sweep
  int shards = 0;     ///< --dry-run --shards N: the balance of N shards
};

/// Estimated cost in units of 10^9 forward MACs (sweep/shard.hpp kShardTrainImages).
double giga(double macs) { return macs / 1e9; }

/// A shard's estimated cost (10^9 MACs) and its share of the sweep's, in percent.
struct ShardCost {
  double giga_macs = 0, percent = 0;
};
ShardCost shard_cost(const ShardPlan& plan, int index) {
  const double total = std::accumulate(plan.loads.begin(), plan.loads.end(), 0.0);
  const double load = plan.loads[static_cast<size_t>(index)];
  return {giga(load), total > 0 ? 100 * load / total : 0.0};
}

/// `--dry-run --shards N`: runs and estimated cost of each shard, and the imbalance.
void print_shard_balance(const Sweep& sweep, int count) {
  const ShardPlan plan = assign_shards(sweep, count);
  std::vector<int> runs(static_cast<size_t>(count), 0);
  for (int shard : plan.shard) ++runs[static_cast<size_t>(shard)];
  const double total = std::accumulate(plan.loads.begin(), plan.loads.end(), 0.0);
  const double largest = *std::max_element(plan.loads.begin(), plan.loads.end());
  fmt::print("sweep {} ({}): {} runs in {} shards, balanced by estimated cost (10^9 MACs)\n",
             sweep.name, sweep.file, sweep.runs.size(), count);
  fmt::print("{:>5}  {:>5}  {:>10}  {:>7}  {}\n", "shard", "runs", "cost", "share", "database");
  for (int i = 0; i < count; ++i) {
    const ShardCost cost = shard_cost(plan, i);
    fmt::print("{:>5}  {:>5}  {:>10.4g}  {:>6.1f}%  {}\n", i, runs[static_cast<size_t>(i)],
               cost.giga_macs, cost.percent, shard_database_name(sweep.name, {i, count}));
  }
  const double mean = total / count;
  fmt::print(
      "largest shard {:.4g} = {:.2f} x the mean {:.4g}\nshard I: `lenetlab --db "
      "results/{}.shard-I-of-{}.db run {} --shard I/{}`; then `lenetlab merge --into "
      "results/{}.db results/{}.shard-*-of-{}.db`\n",
      giga(largest), mean > 0 ? largest / mean : 1.0, giga(mean), sweep.name, count, sweep.file,
      count, sweep.name, sweep.name, count);
}

/// The runs of the sweep, or of one shard (with each run's estimated cost).
void print_dry_run(const Sweep& sweep, const ResultsReader* store,
                   const std::optional<ShardSpec>& shard) {
  std::optional<ShardPlan> plan;
  if (shard) plan = assign_shards(sweep, shard->count);
  if (shard)
    fmt::print("sweep {} ({}), shard {}/{}: the runs below of {} on {}\n", sweep.name, sweep.file,
               shard->index, shard->count, sweep.runs.size(), sweep.dataset);
  else
    fmt::print("sweep {} ({}): {} runs on {}\n", sweep.name, sweep.file, sweep.runs.size(),
               sweep.dataset);
  fmt::print("{:>4}  {:<16}  {:<18}  {:<8}  {:>9}  {:>5}  {:>6}  {:>5}  {:>9}  {:<13}{}\n", "#",
             "key", "architecture", "optim", "lr", "batch", "epochs", "seed", "val_split", "status",
             shard ? "  cost" : "");
  size_t listed = 0;
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    if (plan && plan->shard[i] != shard->index) continue;
    const RunConfig& r = sweep.runs[i];
    std::string status = "new";
    if (store)
      if (auto s = store->run_status(r.key())) status = to_string(*s);
    const std::string cost = plan ? fmt::format("  {:.4g}", giga(plan->runs[i].cost)) : "";
    // Hyperband's bracket and the values drawn from `space` (sampled searches), last.
    std::string sampled = i < sweep.sampled.size() ? sweep.sampled[i] : "";
    if (i < sweep.bracket.size())
      sampled = fmt::format("bracket {}  {}", sweep.bracket[i] + 1, sampled);
    fmt::print(
        "{:>4}  {:<16}  {:<18}  {:<8}  {:>9.3g}  {:>5}  {:>6}  {:>5}  {:>9.3g}  {:<13}{}{}{}\n",
        i + 1, r.key(), r.architecture, to_string(r.optimizer.kind), r.optimizer.learning_rate,
        r.batch_size, r.epochs, r.seed, r.validation_split, status, cost,
        sampled.empty() ? "" : "  ", sampled);
    ++listed;
  }
  if (plan) {
    const ShardCost cost = shard_cost(*plan, shard->index);
    fmt::print("{} runs, estimated cost {:.4g} x 10^9 MACs ({:.1f}% of the sweep)\n", listed,
               cost.giga_macs, cost.percent);
  } else
    fmt::print("{} runs\n", listed);
}

/// `--dry-run` of a protocol: stage 1's runs, then stage 2's: listed once the stored stage 1 is
/// done (the selection is made from it), else described.
void print_protocol_dry_run(const Sweep& sweep, const ResultsReader* store) {
  const Sweep tune = tuning_sweep(sweep);
  fmt::print("protocol: stage 1 (tune, {} on the validation split, no test evaluation)\n",
             sweep.protocol->metric);
  print_dry_run(tune, store, std::nullopt);
  const auto choices = store ? stored_selection(*store, tune) : std::nullopt;
  if (choices) {
    fmt::print("protocol: stage 2 (replicate) of the stored selection:\n");
    print_dry_run(replication_sweep(sweep, *choices), store, std::nullopt);
    return;
  }
  std::set<std::string> groups;
  for (const RunConfig& run : tune.runs) groups.insert(group_of(run, sweep.protocol->per));
  fmt::print(
      "protocol: stage 2 (replicate) depends on stage 1's selection: the best setting of each of "
      "{} group(s) by {} x {} seeds = up to {} runs as sweep {}, without the validation split, "
      "evaluated on the test set\n",
      groups.size(), sweep.protocol->metric, sweep.protocol->replicate_seeds.size(),
      groups.size() * sweep.protocol->replicate_seeds.size(), sweep.name);
}

void run(const RunArgs& args, const GlobalOptions& global) {
  SweepOptions sweep_options;
  sweep_options.force = args.force;
  const Sweep sweep =
      load_sweep(find_sweep(args.sweep), sweep_options);  // every config error before any run
  if (args.threads_per_run < 1) throw Error("--threads-per-run must be at least 1");
  std::optional<ShardSpec> shard;
  if (!args.shard.empty()) shard = parse_shard(args.shard);
  const bool halving = sweep.search && sweep.search->halving;
  if (halving && shard)
    throw Error(
        "successive halving decides each rung from one database (sweep/halving.hpp); run "
        "it without --shard");
  if (sweep.protocol && (shard || args.shards > 0))
    throw Error(
        "a protocol selects stage 2 from stage 1 in one database (sweep/protocol.hpp); run it "
        "without --shard/--shards");
  if (args.shards > 0 && !args.dry_run)
    throw Error(
        "--shards N shows the balance of N shards with --dry-run; to train one shard "
        "use --shard I/N");
  if (args.dry_run) {
    if (args.shards > 0) return print_shard_balance(sweep, args.shards);
    std::unique_ptr<ResultsReader> store;
    if (std::filesystem::exists(global.db)) store = std::make_unique<ResultsReader>(global.db);
    if (sweep.protocol) return print_protocol_dry_run(sweep, store.get());
    print_dry_run(sweep, store.get(), shard);
    return;
  }
  const auto data = load_dataset(sweep.dataset, dataset_cache_dir(global.data_dir));
  Store store(global.db);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  RunnerOptions options;
  options.jobs = args.jobs;
  options.threads_per_run = args.threads_per_run;
  options.progress = stderr;
  options.live = !args.quiet && isatty(STDERR_FILENO);
  options.cancel = &g_cancel;
  options.retry_failed = args.retry_failed;
  options.restart_mismatched = args.restart_mismatched;
  options.time_limit_seconds = args.time_limit;
  if (shard) {
    const std::vector<std::string> keys = shard_keys(sweep, *shard);
    options.select = [keys = std::set<std::string>(keys.begin(), keys.end())](
                         const PlannedRun& run) { return keys.count(run.key) > 0; };
    fmt::print(stderr, "lenetlab run: shard {}/{}: {} of the sweep's {} runs\n", shard->index,
               shard->count, keys.size(), sweep.runs.size());
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  fmt::print(stderr,
             "lenetlab run: sweep '{}', {} runs, dataset {} ({} train / {} test images), "
             "{} concurrent run(s) x {} thread(s) [{} cores], database {}\n",
             sweep.name, sweep.runs.size(), data->name, data->train.n, data->test.n,
             concurrent_jobs(options, sweep.runs.size()), args.threads_per_run, cores,
             global.db.string());
  const SweepSummary s = sweep.protocol ? run_protocol(sweep, *data, store, options)
                         : halving      ? run_halving(sweep, *data, store, options)
                                        : run_sweep(sweep, *data, store, options);
  if (halving)
    fmt::print("{}: {} runs pruned, {} paused at an undecided rung\n",
               sweep.search->halving->hyperband ? "hyperband" : "successive halving", s.pruned,
               s.paused);
  fmt::print(
      "sweep {}: {} runs: {} finished, {} stopped early, {} skipped (already final, or running in "
      "another process), "
      "{} diverged, {} failed, {} interrupted; {:.1f} s\n",
      sweep.name, s.total, s.finished, s.stopped_early, s.skipped, s.diverged, s.failed,
      s.interrupted, s.seconds);
  fmt::print("results: {}  (lenetlab query runs --sweep {}; lenetlab report --sweep {})\n",
             global.db.string(), sweep.name, sweep.name);
  if (s.not_finished() > 0) {
    // Point at the status that applies: the errors of failed/diverged runs, or how to continue.
    const std::string status = s.failed > 0     ? "failed"
                               : s.diverged > 0 ? "diverged"
                                                : "interrupted";
    const std::string next =
        s.refused == s.not_finished()
            ? fmt::format(
                  "{} refused to resume under other conditions: see the messages above; rerun "
                  "with the recorded --threads-per-run, or add --restart-mismatched",
                  s.refused == 1 ? "one was" : "they were")
        : s.failed + s.diverged > 0
            ? fmt::format(
                  "see `lenetlab query runs --sweep {} --status {}` and the error column; "
                  "`lenetlab run {} --retry-failed` reruns them",
                  sweep.name, status, sweep.file)
            : fmt::format("run `lenetlab run {}` again to resume them from their last epoch",
                          sweep.file);
    throw ExitStatus(
        3, fmt::format("{} of {} runs did not finish ({})", s.not_finished(), s.total, next));
  }
}

void describe(const std::string& name) {
  const ArchSpec arch =
      load_architecture(find_architecture(name, SourceMark{"command line", 0, 0}));
  Network net(arch, 0);
  fmt::print("{}: {}\n", arch.name, arch.description);
  fmt::print("source: {}\nfile: {}\ninput: ({}, {}, {})  init: {}\n\n", arch.source, arch.file,
             arch.input_channels, arch.input_height, arch.input_width, to_string(arch.init));
  fmt::print("{:<14} {:<12} {:<16} {:>12} {:>14}\n", "layer", "kind", "output", "parameters",
             "MACs/image");
  for (const auto& layer : net.layers()) {
    int64_t params = 0;
    for (const auto& p : layer->params()) params += p.count();
    std::string kind = to_string(layer->spec().kind);
    if (layer->spec().kind == LayerKind::activation) kind = to_string(layer->spec().activation);
    if (layer->spec().kind == LayerKind::pool)
      kind = layer->spec().pool_max ? "max_pool" : "avg_pool";
    fmt::print("{:<14} {:<12} {:<16} {:>12} {:>14}\n", layer->name(), kind,
               layer->out_shape().str(), grouped(params), grouped(layer->macs()));
  }
  fmt::print("\nparameters: {} ({} trainable, {} non-trainable)\nforward MACs per image: {}\n",
             grouped(net.parameter_count()), grouped(net.trainable_parameter_count()),
             grouped(net.parameter_count() - net.trainable_parameter_count()),
             grouped(net.macs_per_image()));
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      app.add_subcommand("run", "train every run of a sweep file, recording each epoch");
  cmd->add_option("sweep", args->sweep,
                  "sweep YAML file (see sweeps/README.md), or the name of a shipped sweep, e.g. "
                  "quickstart")
      ->required();
  cmd->add_option("-j,--jobs", args->jobs, "concurrent runs (default: cores / threads-per-run)");
  cmd->add_option("--threads-per-run", args->threads_per_run,
                  "OpenMP threads inside oneDNN per run (changes results bitwise; recorded)")
      ->capture_default_str();
  cmd->add_flag("--dry-run", args->dry_run,
                "list the expanded runs and their count, train nothing");
  cmd->add_flag("--force", args->force, "allow sweeps larger than 10,000 runs");
  cmd->add_flag("-q,--quiet", args->quiet, "plain log lines even on a terminal");
  cmd->add_flag("--retry-failed", args->retry_failed,
                "rerun only the runs recorded as failed, diverged or interrupted");
  cmd->add_flag("--restart-mismatched", args->restart_mismatched,
                "start over from epoch 1 the runs whose checkpoint was written under other "
                "conditions (threads per run, CPU ISA, oneDNN or engine version) instead of "
                "refusing them");
  cmd->add_option("--time-limit", args->time_limit,
                  "per-run wall-time limit in seconds; a run past it ends as failed (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shard", args->shard,
                  "train only shard I of N (0-based, e.g. $SLURM_ARRAY_TASK_ID/4): runs split by "
                  "estimated cost, the same split on every machine; give each shard its own --db, "
                  "e.g. results/NAME.shard-I-of-N.db, and `lenetlab merge` them");
  cmd->add_option("--shards", args->shards,
                  "with --dry-run: show how the runs split into N shards and each one's cost")
      ->check(CLI::Range(1, 100000));
  cmd->callback([args, &global] { run(*args, global); });
}

void add_describe_command(CLI::App& app, GlobalOptions&) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("describe", "print an architecture's layers, parameter count and MACs");
  cmd->add_option("architecture", *name, "architecture name or YAML file")->required();
  cmd->callback([name] { describe(*name); });
}

}  // namespace lenetlab
