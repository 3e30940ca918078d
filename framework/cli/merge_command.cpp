// `lenetlab merge --into RESULTS.db SHARD.db...`: merges results databases (the shards of a sweep,
// `lenetlab run SWEEP --shard I/N`) into one (store/merge.hpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "store/merge.hpp"

namespace lenetlab {

namespace {

struct MergeArgs {
  std::filesystem::path into;
  std::vector<std::filesystem::path> inputs;
  /// Conflicts listed per refused input (all are counted).
  size_t show_conflicts = 20;
};

std::string describe(const MergeCounts& n) {
  if (n.unchanged()) return fmt::format("{} runs, nothing new", n.runs_in_input);
  return fmt::format(
      "{} runs: {} added, {} moved forward; {} epoch rows, {} test-metric rows, {} verifications, "
      "{} rung decisions and protocol selections, {} bench rows, {} sweeps added or updated",
      n.runs_in_input, n.runs_added, n.runs_advanced, n.epochs, n.test_rows, n.verifications,
      n.rungs + n.selections, n.bench_rows, n.sweeps);
}

/// Merges one input and prints its outcome; returns false when it was refused or failed.
bool merge_one(ResultsMerger& merger, const std::filesystem::path& input, size_t position,
               size_t total, size_t show_conflicts) {
  fmt::print(stderr, "lenetlab merge: [{}/{}] {} ...\n", position, total, input.string());
  const auto t0 = std::chrono::steady_clock::now();
  MergeResult result;
  try {
    result = merger.merge(input);
  } catch (const Error& e) {
    fmt::print(stderr, "lenetlab merge: [{}/{}] {}: not merged: {}\n", position, total,
               input.string(), e.what());
    return false;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (result.conflicts.empty()) {
    fmt::print("{}: merged: {} ({:.1f} s)\n", input.string(), describe(result.counts), seconds);
    return true;
  }
  fmt::print(stderr,
             "lenetlab merge: [{}/{}] {}: refused, nothing merged: {} value(s) differ from {} "
             "for the same run key:\n",
             position, total, input.string(), result.conflicts.size(), merger.path().string());
  for (size_t i = 0; i < result.conflicts.size() && i < show_conflicts; ++i) {
    const MergeConflict& c = result.conflicts[i];
    fmt::print(stderr, "  run {} {} {}: {} has {}, {} has {}\n", c.run, c.row, c.column,
               merger.path().string(), c.into, input.string(), c.input);
  }
  if (result.conflicts.size() > show_conflicts)
    fmt::print(stderr, "  ... and {} more\n", result.conflicts.size() - show_conflicts);
  return false;
}

void run_merge(const MergeArgs& args) {
  ResultsMerger merger(args.into);
  size_t failed = 0;
  for (size_t i = 0; i < args.inputs.size(); ++i)
    if (!merge_one(merger, args.inputs[i], i + 1, args.inputs.size(), args.show_conflicts))
      ++failed;
  fmt::print("{}: {} of {} inputs merged\n", args.into.string(), args.inputs.size() - failed,
             args.inputs.size());
  if (failed > 0)
    throw ExitStatus(1, fmt::format("{} of {} inputs not merged (see above); the others are in {}",
                                    failed, args.inputs.size(), args.into.string()));
}

}  // namespace

void add_merge_command(CLI::App& app, GlobalOptions&) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "merge results databases (e.g. the shards of `run --shard I/N`) into one: idempotent, "
      "incremental, refuses an input whose values differ for the same run");
  cmd->add_option("--into", args->into, "the database to merge into (created when absent)")
      ->required();
  cmd->add_option("inputs", args->inputs,
                  "databases to merge, each in one transaction (may still be written to)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--show-conflicts", args->show_conflicts,
                  "conflicting values listed per refused input")
      ->capture_default_str();
  cmd->callback([args] { run_merge(*args); });
}

}  // namespace lenetlab
