// lenetlab: reproducible experiments and benchmarks on LeNet-family CNNs. See README.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"lenetlab: train, compare and report LeNet-family CNNs on oneDNN", "lenetlab"};
  app.require_subcommand(1);
  lenetlab::GlobalOptions global;
  app.add_option("--db", global.db, "results database (SQLite)")->capture_default_str();
  app.add_option(
      "--data-dir", global.data_dir,
      "dataset cache (default $LENETLAB_DATA_DIR, else $XDG_CACHE_HOME/lenetlab/datasets)");
  lenetlab::add_run_command(app, global);
  lenetlab::add_describe_command(app, global);
  lenetlab::add_data_command(app, global);
  lenetlab::add_query_command(app, global);
  lenetlab::add_report_command(app, global);
  lenetlab::add_compare_command(app, global);
  lenetlab::add_bench_command(app, global);
  lenetlab::add_merge_command(app, global);
  lenetlab::add_replay_commands(app, global);
  lenetlab::add_predict_command(app, global);
  lenetlab::add_slurm_command(app, global);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lenetlab::ExitStatus& e) {
    std::fprintf(stderr, "lenetlab: %s\n", e.what());
    return e.code();
  } catch (const lenetlab::Error& e) {
    std::fprintf(stderr, "lenetlab: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lenetlab: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
