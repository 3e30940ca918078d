// `lenetlab slurm submit|status|collect SWEEP`: a sweep trained as a Slurm job array, one shard per
// array task, collected into the sweep's database (slurm/jobs.hpp; README "Running on a Slurm
// cluster").
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "config/yaml_loader.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "slurm/jobs.hpp"

namespace lenetlab {

namespace {

struct SlurmArgs {
  std::string sweep;
  SubmitOptions submit;
};

Sweep load(const std::string& file) { return load_sweep(file, SweepOptions{}); }

void submit(const SlurmArgs& args, const GlobalOptions& global) {
  const Sweep sweep = load(args.sweep);
  TaskInputs inputs;
  inputs.binary = std::filesystem::read_symlink("/proc/self/exe");
  inputs.data_dir = dataset_cache_dir(global.data_dir);
  const SubmitOutcome out = submit_sweep(sweep, global.db, inputs, args.submit);
  for (const std::string& note : out.notes) fmt::print(stderr, "lenetlab slurm: {}\n", note);
  if (args.submit.dry_run) {
    fmt::print("{}", out.script_text);
    return;
  }
  if (!out.job) {
    fmt::print(
        "sweep {}: nothing to resubmit: every task's runs are final, or its task is still "
        "pending or running (lenetlab slurm status {}; lenetlab slurm collect {})\n",
        sweep.name, args.sweep, args.sweep);
    return;
  }
  fmt::print("sweep {}: submitted job {} (array {} of {} tasks), script {}\n", sweep.name,
             out.job->job_id, out.job->array, out.job->tasks, out.job->script);
  fmt::print(
      "shards: {}\nnext: lenetlab{} slurm status {}; when done: lenetlab{} slurm collect {}\n",
      out.job->shard_dir, global.db == GlobalOptions{}.db ? "" : " --db " + global.db.string(),
      args.sweep, global.db == GlobalOptions{}.db ? "" : " --db " + global.db.string(), args.sweep);
}

void status(const SlurmArgs& args, const GlobalOptions& global) {
  const Sweep sweep = load(args.sweep);
  const std::vector<TaskProgress> tasks = sweep_status(sweep, global.db);
  fmt::print("{:>4}  {:<12}  {:<11}  {:>9}  {}\n", "task", "job", "slurm", "runs", "progress");
  int runs = 0, done = 0;
  for (const TaskProgress& t : tasks) {
    std::string state = t.slurm ? t.slurm->state : "unknown";
    std::string progress;
    for (const std::string& c : t.current) progress += (progress.empty() ? "" : "; ") + c;
    if (t.problem_runs > 0)
      progress +=
          fmt::format("{}{} failed or interrupted", progress.empty() ? "" : "; ", t.problem_runs);
    if (!t.log_tail.empty()) progress += (progress.empty() ? "log: " : "; log: ") + t.log_tail;
    fmt::print("{:>4}  {:<12}  {:<11}  {:>9}  {}\n", t.task, t.job, state,
               fmt::format("{}/{}", t.final_runs, t.runs), progress.empty() ? "-" : progress);
    runs += t.runs;
    done += t.final_runs;
  }
  fmt::print("{} of {} runs final in the shards; collect them with `lenetlab slurm collect {}`\n",
             done, runs, args.sweep);
}

void collect(const SlurmArgs& args, const GlobalOptions& global) {
  const Sweep sweep = load(args.sweep);
  const CollectOutcome out = collect_sweep(sweep, global.db, stderr);
  fmt::print("sweep {}: {} of {} runs final in {}{}\n", sweep.name, out.final_runs, out.runs,
             global.db.string(),
             out.final_runs < out.runs
                 ? fmt::format(" (the others: lenetlab slurm status {}; lenetlab slurm submit {} "
                               "--resume)",
                               args.sweep, args.sweep)
                 : "");
  if (out.conflicts > 0)
    throw ExitStatus(3, fmt::format("{} shard(s) conflict with {} and were not merged (above)",
                                    out.conflicts, global.db.string()));
}

}  // namespace

void add_slurm_command(CLI::App& app, GlobalOptions& global) {
  CLI::App* slurm = app.add_subcommand(
      "slurm", "Train a sweep as a Slurm job array: submit, status, collect (README: Slurm)");
  slurm->require_subcommand(1);
  auto args = std::make_shared<SlurmArgs>();
  GlobalOptions* g = &global;

  CLI::App* sub = slurm->add_subcommand(
      "submit",
      "Submit the sweep as a job array: task I trains shard I of N into its own database");
  sub->add_option("sweep", args->sweep, "sweep YAML file")->required();
  sub->add_option("--tasks", args->submit.tasks,
                  "N: array tasks (shards); required unless --resume")
      ->check(CLI::Range(1, 100000));
  sub->add_option("--partition", args->submit.partition,
                  "Slurm partition (default: the cluster's)");
  sub->add_option("--time", args->submit.time,
                  "time limit per task, Slurm syntax (e.g. 2:00:00); SIGTERM 60 s before it ends "
                  "the runs as interrupted, --resume continues them");
  sub->add_option("--cpus-per-task", args->submit.cpus_per_task,
                  "CPUs per task; it trains cpus / threads-per-run runs at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--threads-per-run", args->submit.threads_per_run,
                  "OpenMP threads per run in every task (changes results bitwise; recorded)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--mem", args->submit.mem, "memory per task, Slurm syntax (e.g. 4G)");
  sub->add_option("--sbatch-arg", args->submit.sbatch_args,
                  "an extra #SBATCH line, verbatim (repeatable), e.g. --sbatch-arg=--account=lab");
  sub->add_flag("--dry-run", args->submit.dry_run, "print the sbatch script; submit nothing");
  sub->add_flag("--resume", args->submit.resume,
                "resubmit the tasks whose runs are not final (and not pending or running)");
  sub->callback([args, g] { submit(*args, *g); });

  CLI::App* st =
      slurm->add_subcommand("status", "Each task's Slurm state beside its shard's progress");
  st->add_option("sweep", args->sweep, "sweep YAML file")->required();
  st->callback([args, g] { status(*args, *g); });

  CLI::App* co = slurm->add_subcommand(
      "collect", "Merge the shard databases into the sweep's database (--db); safe to repeat");
  co->add_option("sweep", args->sweep, "sweep YAML file")->required();
  co->callback([args, g] { collect(*args, *g); });
}

}  // namespace lenetlab
