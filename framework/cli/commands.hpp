// Sub-commands of the `lenetlab` executable. Each add_*_command registers a CLI11 sub-command whose
// callback does the work and throws lenetlab::Error on failure; main() catches it once, prints one
// line "lenetlab: error: <what()>" to stderr and exits with status 1.
#pragma once

#include <filesystem>
#include <string>

namespace CLI {
class App;
}

#include "core/error.hpp"

namespace lenetlab {

/// Thrown by a command to end the process with a specific status after printing `what()`.
class ExitStatus : public Error {
 public:
  ExitStatus(int code, const std::string& message) : Error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

/// Options shared by every sub-command (set on the top-level app).
struct GlobalOptions {
  /// --db, the results database.
  std::filesystem::path db = "results/lenetlab.db";
  /// --data-dir, the dataset cache; empty: $LENETLAB_DATA_DIR, else XDG (data/loaders.hpp).
  std::filesystem::path data_dir;
};

void add_run_command(CLI::App& app, GlobalOptions& global);       // cli/run_command.cpp
void add_describe_command(CLI::App& app, GlobalOptions& global);  // cli/run_command.cpp
void add_data_command(CLI::App& app, GlobalOptions& global);      // cli/data_command.cpp
void add_query_command(CLI::App& app, GlobalOptions& global);     // cli/query_command.cpp
void add_report_command(CLI::App& app, GlobalOptions& global);    // cli/report_command.cpp
void add_compare_command(CLI::App& app, GlobalOptions& global);   // cli/compare_command.cpp
void add_bench_command(CLI::App& app, GlobalOptions& global);     // cli/bench_command.cpp
void add_merge_command(CLI::App& app, GlobalOptions& global);     // cli/merge_command.cpp
void add_slurm_command(CLI::App& app, GlobalOptions& global);     // cli/slurm_command.cpp
// cli/replay_command.cpp: verify, evaluate
void add_replay_commands(CLI::App& app, GlobalOptions& global);
void add_predict_command(CLI::App& app, GlobalOptions& global);  // cli/predict_command.cpp

}  // namespace lenetlab
