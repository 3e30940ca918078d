// The only code that touches YAML nodes. Turns architecture files and sweep files into plain config
// structs, and reports every problem as ConfigError("file:line:column: what was wrong; expected ...").
//
// Sweep file format (documented for users in README.md "Sweeps"):
//
//   name: quickstart            # required, [A-Za-z0-9_.-]+
//   dataset: mnist              # mnist | fashion-mnist | csv:TRAIN.csv,TEST.csv   (default mnist)
//   base:                       # settings shared by every run (all optional)
//     epochs: 3
//     batch_size: 64
//     optimizer: {name: sgd, learning_rate: 0.01, momentum: 0.9}
//   grid:                       # cartesian product over the listed choices, in file order
//     architecture: [lenet5, lenet-relu]
//     optimizer:                # a mapping choice may hold lists: they expand inside that choice only
//       - {name: sgd, learning_rate: [0.1, 0.01], momentum: 0.9}
//       - {name: adam, learning_rate: 1e-3}
//     seed: [1, 2, 3]           # replicates
//   # or, for hand-picked combinations, a list of recipes (each a settings mapping, lists expand):
//   recipes:
//     - {architecture: lenet-relu, optimizer: {name: sgd, learning_rate: 0.01}, batch_size: 128}
//
// Settings (keys of base, of a recipe, and of grid):
//   architecture (name from the search path, or a path to a .yaml file), epochs, batch_size, seed,
//   validation_split, shuffle, drop_last, normalize {mean, std}, optimizer (name or mapping with
//   name, learning_rate, momentum, nesterov, beta_1, beta_2, epsilon, rho, weight_decay),
//   learning_rate (shorthand for optimizer.learning_rate), early_stopping {monitor, patience,
//   min_delta, mode, restore_best_weights}, train_limit, test_limit.
// Precedence: base < recipe < grid choice. grid and recipes may be combined (recipes x grid).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/architecture.hpp"
#include "config/run_config.hpp"

namespace lenetlab {

/// Directories searched for architecture names, in order: each entry of $LENETLAB_ARCH_PATH
/// (colon-separated), ./experiments/architectures, <lenetlab source dir>/experiments/architectures.
std::vector<std::filesystem::path> architecture_search_path();

/// Resolves "lenet-relu" to <dir>/lenet-relu.yaml on the search path, or accepts a path to a file.
/// Throws ConfigError at `where` listing the available architecture names when not found.
std::filesystem::path find_architecture(const std::string& name_or_path, const SourceMark& where);

/// Names of every architecture file on the search path (sorted, unique).
std::vector<std::string> available_architectures();

/// Parses an architecture file (format: experiments/architectures/README.md). Validates kinds, keys,
/// value ranges; does not check that shapes fit (the engine does, with the layer's mark).
ArchSpec load_architecture(const std::filesystem::path& file);
ArchSpec parse_architecture(const std::string& text, const std::string& file_name);

struct SweepOptions {
  /// Refuse sweeps expanding to more runs than this (ConfigError with the count) unless force.
  int64_t max_runs = 10000;
  bool force = false;
};

struct Sweep {
  std::string name;
  std::string dataset;
  std::string file;
  std::string yaml;             ///< verbatim text.
  std::vector<RunConfig> runs;  ///< expanded, validated, architectures resolved; in expansion order.
};

/// Loads and expands a sweep file. Every error (syntax, unknown key with the valid keys, unknown
/// architecture/optimizer with the valid names, out-of-range values, empty grid lists) is a ConfigError
/// raised before any run starts.
Sweep load_sweep(const std::filesystem::path& file, const SweepOptions& options = {});
Sweep parse_sweep(const std::string& text, const std::string& file_name,
                  const SweepOptions& options = {});

}  // namespace lenetlab
