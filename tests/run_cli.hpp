// Running programs from a test: the exit status and merged output of a child process
// (data/process.hpp run_process), and the lenetlab under test (LENETLAB_EXECUTABLE, defined by the
// test's CMakeLists.txt) with its arguments. Shared by every test that runs a program.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/process.hpp"

namespace lenetlab::test {

struct CliResult {
  int status = 0;      ///< exit status; 128 + N when killed by signal N.
  std::string output;  ///< stdout and stderr, interleaved as written.
};

/// Runs `argv` (argv[0] searched in PATH) in `cwd`. Throws DataError as run_process when the
/// program cannot be started.
inline CliResult run_command(const std::vector<std::string>& argv,
                             const std::filesystem::path& cwd) {
  CliResult r;
  r.status = run_process(argv, cwd, &r.output);
  return r;
}

#ifdef LENETLAB_EXECUTABLE
/// `lenetlab ARGS...` run in `cwd`.
inline CliResult run_lenetlab(const std::vector<std::string>& args,
                              const std::filesystem::path& cwd) {
  std::vector<std::string> argv{LENETLAB_EXECUTABLE};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, cwd);
}

/// `lenetlab --db DB ARGS...` run in `cwd` (default: the source tree, where shipped architecture
/// and sweep names resolve).
inline CliResult run_cli(const std::filesystem::path& db, const std::vector<std::string>& args,
                         const std::filesystem::path& cwd = LENETLAB_SOURCE_DIR) {
  std::vector<std::string> all{"--db", db.string()};
  all.insert(all.end(), args.begin(), args.end());
  return run_lenetlab(all, cwd);
}
#endif

}  // namespace lenetlab::test
