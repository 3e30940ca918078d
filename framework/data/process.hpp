// Running an external program without a shell (npm and tar for data/pinned_package.hpp; the
// end-to-end tests run the CLI with it).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lenetlab {

/// Runs argv[0] (looked up in $PATH, like execvp) with arguments argv[1..] in directory `cwd` and
/// waits for it. No shell is involved, so arguments are passed verbatim (no quoting or globbing).
///
/// stdin is /dev/null. If `output` is not null, the child's stdout and stderr are captured together
/// (interleaved as written) into *output, replacing its contents; otherwise they are inherited.
///
/// Returns the exit status (0..255), or 128 + signal number if the child was killed by a signal.
/// Throws DataError if argv is empty or the program cannot be started (not found, not executable,
/// `cwd` missing); the message names the program and the system error.
/// Thread-safety: safe to call from several threads (no global state is changed in the parent).
int run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                std::string* output);

/// run_process with the output captured; returns that output when the exit status is 0.
/// Otherwise throws DataError "`ARGV...` failed with exit status N: TAIL", TAIL being the last
/// 8 non-empty lines of the output joined with " | " (at most 600 characters), "(no output)"
/// when there is none. Also throws as run_process does.
std::string run_checked(const std::vector<std::string>& argv, const std::filesystem::path& cwd);

}  // namespace lenetlab
