// Where lenetlab finds the files it ships (architectures, sweeps, the default bench matrix, the
// report's chart libraries): the one place that reads LENETLAB_ARCH_PATH, the installed data
// directory (<prefix>/share/lenetlab, found from the executable's own path, so an installed
// lenetlab needs no source tree) and the source directory baked in at build time.
//
// Thread-safety: the functions keep no state; they read the environment and the file system.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lenetlab {

/// The data directory of an installed lenetlab: <prefix>/share/lenetlab for the executable
/// <prefix>/bin/lenetlab (its path read from /proc/self/exe; `cmake --install`, the .deb), when
/// that directory exists; empty otherwise (e.g. a binary in the build tree).
std::filesystem::path installed_data_dir();

/// Directories searched for architecture names, in order: each entry of $LENETLAB_ARCH_PATH
/// (colon-separated), ./experiments/architectures, <installed data dir>/experiments/architectures
/// (when installed), <lenetlab source dir>/experiments/architectures.
std::vector<std::filesystem::path> architecture_search_path();

/// Resolves "lenet-relu" to <dir>/lenet-relu.yaml on the search path, or accepts a path to a file
/// (a value with a '/' or a .yaml/.yml extension). Throws ConfigError at `where` listing the
/// available architecture names (with a "did you mean" hint) and the search path when not found.
std::filesystem::path find_architecture(const std::string& name_or_path, const SourceMark& where);

/// Names of every architecture file on the search path (sorted, unique).
std::vector<std::string> available_architectures();

/// A file shipped with lenetlab, e.g. "experiments/bench/default.yaml": under the working
/// directory when it exists there, else under the installed data directory when it exists there,
/// else under the lenetlab source directory (which may not exist either: the caller reports that
/// when it opens the file).
std::filesystem::path shipped_file(const std::filesystem::path& relative);

/// The sweep file of a `lenetlab run` argument: an existing file as given; else a name such as
/// "quickstart" (no '/', no .yaml/.yml extension) as shipped_file("sweeps/quickstart.yaml") when
/// that file exists; else the argument unchanged (load_sweep reports the missing file).
std::filesystem::path find_sweep(const std::string& name_or_path);

}  // namespace lenetlab
