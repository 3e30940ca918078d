// `lenetlab verify RUN` and `lenetlab evaluate RUN`.
#include <CLI/CLI.hpp>
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "sweep/replay.hpp"

namespace lenetlab {

namespace {

struct ReplayArgs {
  std::string run;
  std::string dataset;
  std::string checkpoint = "final";
  bool force = false;
  int threads = 0;
};

void verify(const ReplayArgs& args, const GlobalOptions& global) {
  Store store(global.db);
  const StoredRun run = load_stored_run(ResultsReader(global.db), args.run);
  const auto data = load_dataset(run.config.dataset, dataset_cache_dir(global.data_dir));
  const VerifyResult v = verify_run(store, run, *data, args.force, stdout, args.threads);
  if (!v.matched)
    throw ExitStatus(4, fmt::format("run {} was not reproduced bit for bit ({} differing values)",
                                    run.id, v.mismatches));
}

void evaluate(const ReplayArgs& args, const GlobalOptions& global) {
  const ResultsReader reader(global.db);
  const StoredRun run = load_stored_run(reader, args.run);
  const std::string dataset = args.dataset.empty() ? run.config.dataset : args.dataset;
  const auto data = load_dataset(dataset, dataset_cache_dir(global.data_dir));
  evaluate_run(reader, run, *data, args.checkpoint, stdout);
}

}  // namespace

void add_replay_commands(CLI::App& app, GlobalOptions& global) {
  auto v = std::make_shared<ReplayArgs>();
  CLI::App* verify_cmd = app.add_subcommand(
      "verify",
      "re-execute a stored run under its recorded conditions and compare every epoch bit for bit");
  verify_cmd->add_option("run", v->run, "run id, key or unique key prefix")->required();
  verify_cmd->add_flag("--force", v->force,
                       "run even when the recorded ISA/oneDNN/dataset differ from this machine's");
  verify_cmd
      ->add_option("--threads", v->threads,
                   "OpenMP threads to execute with (default: the recorded count; another "
                   "count only for runs of engine 2, whose results do not depend on it)")
      ->check(CLI::PositiveNumber);
  verify_cmd->callback([v, &global] { verify(*v, global); });

  auto e = std::make_shared<ReplayArgs>();
  CLI::App* eval_cmd = app.add_subcommand(
      "evaluate", "reload a run's saved weights and evaluate them on a test set");
  eval_cmd->add_option("run", e->run, "run id, key or unique key prefix")->required();
  eval_cmd->add_option("--dataset", e->dataset, "dataset (default: the run's own)");
  eval_cmd->add_option("--checkpoint", e->checkpoint, "final | best")
      ->check(CLI::IsMember({"final", "best"}))
      ->capture_default_str();
  eval_cmd->callback([e, &global] { evaluate(*e, global); });
}

}  // namespace lenetlab
