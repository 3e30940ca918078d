// `lenetlab query runs|best|curve|same-data|sweeps|sql`: read the results database (query/query.hpp) and
// print one result table as text, CSV or JSON on stdout. The database is never created or changed.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/records.hpp"
#include "query/query.hpp"

namespace lenetlab {

namespace {

/// Values of the options of every `query` sub-command (shared: CLI11 binds them by reference).
struct QueryOptions {
  RunFilter filter;    ///< without its status, which CLI11 reads into `status`.
  std::string status;  ///< --status; empty for every status.
  std::string metric = "test_accuracy";
  int limit = 10;
  std::string format = "table";
  std::string run;
  std::string other_run;
  std::filesystem::path other_db;  ///< same-data --other-db; empty: --db
  std::string sql;
};

/// The filter of --sweep, --status, --arch and --optimizer.
RunFilter run_filter(const QueryOptions& options) {
  RunFilter filter = options.filter;
  if (!options.status.empty()) filter.status = run_status_from_string(options.status);
  return filter;
}

void print(const ResultTable& table, const std::string& format) {
  std::cout << format_result(table, output_format_from_string(format)) << std::flush;
}

void add_format_option(CLI::App* command, QueryOptions& options) {
  command->add_option("--format", options.format, "output format: table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

void add_filter_options(CLI::App* command, QueryOptions& options) {
  command->add_option("--sweep", options.filter.sweep, "only runs of this sweep (its name)");
  command
      ->add_option("--status", options.status,
                   "only runs with this status: queued, running, finished, failed, diverged, "
                   "stopped_early or interrupted")
      ->check(CLI::IsMember(run_status_names()));
  command->add_option("--arch", options.filter.architecture,
                      "only runs of this architecture, e.g. lenet-relu");
  command->add_option("--optimizer", options.filter.optimizer,
                      "only runs with this optimizer: sgd, adam or rmsprop");
}

}  // namespace

void add_query_command(CLI::App& app, GlobalOptions& global) {
  CLI::App* query = app.add_subcommand(
      "query", "Query the results database: runs, best, curve, same-data, sweeps or read-only SQL");
  query->require_subcommand(1);
  auto options = std::make_shared<QueryOptions>();
  GlobalOptions* g = &global;

  CLI::App* runs = query->add_subcommand("runs", "List runs (filtered), ordered by id");
  add_filter_options(runs, *options);
  add_format_option(runs, *options);
  runs->callback([options, g] {
    print(query_runs(ResultsReader(g->db), run_filter(*options)), options->format);
  });

  CLI::App* best = query->add_subcommand(
      "best", "Rank finished runs by a metric (best first); failed runs are left out");
  add_filter_options(best, *options);
  best->add_option("--metric", options->metric,
                   "test_accuracy, best_val_accuracy (higher is better), test_loss or seconds "
                   "(lower is better)")
      ->check(CLI::IsMember({"test_accuracy", "best_val_accuracy", "test_loss", "seconds"}))
      ->capture_default_str();
  best->add_option("--limit", options->limit, "number of runs to show")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_format_option(best, *options);
  best->callback([options, g] {
    print(query_best(ResultsReader(g->db), run_filter(*options),
                     rank_metric_from_string(options->metric), options->limit),
          options->format);
  });

  CLI::App* curve =
      query->add_subcommand("curve", "Per-epoch learning curve of one run (losses, accuracies)");
  curve->add_option("run", options->run, "run id, run key or a unique prefix of a key")->required();
  add_format_option(curve, *options);
  curve->callback(
      [options, g] { print(query_curve(ResultsReader(g->db), options->run), options->format); });

  CLI::App* same = query->add_subcommand(
      "same-data",
      "Whether two runs trained on the same data: each epoch's data hash (image order and "
      "distortions) side by side; exit status 4 unless every compared epoch is equal");
  same->add_option("run_a", options->run, "run id, run key or a unique prefix of a key")
      ->required();
  same->add_option("run_b", options->other_run, "the other run (id, key or key prefix)")
      ->required();
  same->add_option("--other-db", options->other_db,
                   "results database of run_b (default: --db), e.g. a replay's");
  add_format_option(same, *options);
  same->callback([options, g] {
    const ResultsReader a(g->db);
    std::optional<ResultsReader> other;
    if (!options->other_db.empty()) other.emplace(options->other_db);
    const SameData r = query_same_data(a, options->run, other ? *other : a, options->other_run);
    print(r.table, options->format);
    if (!r.matched()) throw ExitStatus(4, r.table.notes.back());
  });

  CLI::App* sweeps = query->add_subcommand("sweeps", "List sweeps with their run counts");
  add_format_option(sweeps, *options);
  sweeps->callback([options, g] { print(query_sweeps(ResultsReader(g->db)), options->format); });

  CLI::App* sql = query->add_subcommand(
      "sql",
      "Run one SQL statement on a read-only connection (tables: sweeps, runs, epochs, "
      "class_metrics, confusion, verifications, published_results, bench_runs, bench_results, "
      "bench_profile; see framework/store/README.md)");
  sql->add_option("statement", options->sql, "one SQL statement, e.g. \"SELECT * FROM runs\"")
      ->required();
  add_format_option(sql, *options);
  sql->callback(
      [options, g] { print(ResultsReader(g->db).execute_sql(options->sql), options->format); });
}

}  // namespace lenetlab
