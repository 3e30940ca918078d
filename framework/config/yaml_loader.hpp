// The only code that touches YAML nodes. Turns architecture files and sweep files into plain config
// structs, and reports every problem as ConfigError("file:line:column: what was wrong; expected
// ...").
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
//     optimizer:                # a mapping choice may hold lists: they expand inside that choice
//     only
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
//
// Expansion rules (the details users see are in sweeps/README.md):
//  - Runs are ordered recipe by recipe (in file order), then over the grid with its first key
//  varying
//    slowest. Inside a recipe or a mapping choice, lists expand the same way (first key slowest).
//  - base holds single values; a list there is an error. A setting given in a later layer replaces
//  the
//    earlier value wholesale, mappings included (an optimizer mapping from the grid does not
//    inherit the base's momentum; normalize and early_stopping are replaced whole too).
//  - learning_rate applies to whichever optimizer is chosen; an optimizer mapping that sets its own
//    learning_rate wins over a learning_rate of a lower layer, and loses to one of a higher layer;
//    both in the same layer is an error. Without either, the Keras default of the optimizer is
//    used.
//  - No optimizer at all means sgd (learning rate 0.01). Every run needs an architecture.
//  - early_stopping may also be `true` (defaults) or `false` (off, e.g. to override the base).
//  - The run count is computed before expansion (64-bit, saturating); more than
//    SweepOptions::max_runs is refused unless SweepOptions::force. Two identical runs (same
//    RunConfig::key()) are an error.
//
// Both file kinds: at most 1 MiB, one YAML document, no aliases (`*name`), no duplicate keys.
// Errors are ConfigError with the 1-based line and column of the offending node, the valid choices,
// and a "did you mean" hint for near-miss names (edit distance <= 2).
//
// Thread-safety: the functions keep no state between calls and may run concurrently; they read the
// environment (LENETLAB_ARCH_PATH) and the file system.
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

/// Parses an architecture file (format: experiments/architectures/README.md). Validates kinds,
/// keys, value ranges and the output (softmax last and exactly once, right after a dense layer with
/// num_classes units); does not check that shapes fit (the engine does, with the layer's mark).
/// parse_architecture takes the text itself; `file_name` is used for marks and ArchSpec::file.
ArchSpec load_architecture(const std::filesystem::path& file);
ArchSpec parse_architecture(const std::string& text, const std::string& file_name);

struct SweepOptions {
  /// Refuse sweeps expanding to more runs than this (ConfigError with the count) unless force.
  int64_t max_runs = 10000;
  bool force = false;
};

/// A published result a sweep is compared against (sweep key `references`, a list of
///   {architecture, test_accuracy | test_error, required_test_accuracy, source}).
/// It documents the claim; it does not change any run (nor its key).
struct PublishedResult {
  std::string architecture;
  double test_accuracy = 0;  ///< published figure, as accuracy in [0, 1]
  double required_test_accuracy =
      0;               ///< the bar a reproduction must reach (mean over seeds); 0 = none
  std::string source;  ///< citation
};

struct Sweep {
  std::string name;
  std::string dataset;
  std::string file;
  std::string yaml;  ///< verbatim text.
  std::vector<RunConfig>
      runs;  ///< expanded, validated, architectures resolved; in expansion order.
  std::vector<PublishedResult> references;
};

/// Loads and expands a sweep file. Relative architecture paths are resolved against the sweep
/// file's directory (parse_sweep: the directory of `file_name`); each distinct architecture is
/// loaded once. Every error (syntax, unknown key with the valid keys, unknown
/// architecture/optimizer with the valid names, out-of-range values, empty grid lists) is a
/// ConfigError raised before any run starts.
Sweep load_sweep(const std::filesystem::path& file, const SweepOptions& options = {});
Sweep parse_sweep(const std::string& text, const std::string& file_name,
                  const SweepOptions& options = {});

}  // namespace lenetlab
