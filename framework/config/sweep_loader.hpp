// Loading sweep files into the runs they stand for. The file format, the settings, how a sweep
// expands and its error messages are documented for users in sweeps/README.md (the one document
// of the format); each setting is described once in config/run_settings.cpp.
//
// Thread-safety: no state is kept between calls; the functions read the environment
// (LENETLAB_ARCH_PATH) and the file system.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "config/search_spec.hpp"
#include "core/records.hpp"

namespace lenetlab {

struct SweepOptions {
  /// Refuse sweeps expanding to more runs than this (ConfigError with the count) unless force.
  int64_t max_runs = 10000;
  bool force = false;
};

struct Sweep {
  std::string name;
  std::string dataset;
  std::string file;
  /// Verbatim text.
  std::string yaml;
  /// Expanded, validated, architectures resolved; in expansion order.
  std::vector<RunConfig> runs;
  std::vector<PublishedResult> references;
  /// `targets:` the validation accuracies time to target is measured at (the report and
  /// `lenetlab compare`), increasing, in (0, 1]; empty when the file has none (the report's
  /// defaults). Not a run setting: no run key or configuration depends on it.
  std::vector<double> targets;
  /// `search:` (absent: a grid sweep).
  std::optional<SearchSpec> search;
  /// `protocol:` (tune, then replicate). With it, `runs` are stage 1's: every run once per tuning
  /// seed (the innermost loop), evaluate_test false.
  std::optional<ProtocolSpec> protocol;
  /// Per run (parallel to runs): "key=value ..." of the values drawn from `space` for it; empty
  /// for a run not sampled.
  std::vector<std::string> sampled;
  /// Per run (parallel to runs) for method hyperband: the index of its bracket in
  /// HalvingSpec::brackets() (its sampled point's: the first n_0 points form bracket 0, the next
  /// n_1 bracket 1, ...); empty for any other sweep.
  std::vector<int> bracket;
};

/// Loads and expands a sweep file. Relative architecture paths are resolved against the sweep
/// file's directory (parse_sweep: the directory of `file_name`); each distinct architecture is
/// loaded once. Every error (syntax, unknown key with the valid keys, unknown
/// architecture/optimizer with the valid names, out-of-range values, empty grid lists, more runs
/// than SweepOptions::max_runs, two identical runs) is a ConfigError "file:line:column: ..."
/// raised before any run starts. The run count is computed before expansion (64-bit, saturating).
Sweep load_sweep(const std::filesystem::path& file, const SweepOptions& options = {});
Sweep parse_sweep(const std::string& text, const std::string& file_name,
                  const SweepOptions& options = {});

/// The `targets` of a sweep's text (as stored with its runs) without expanding the sweep: empty
/// when the file has none. Throws ConfigError "file:line:column: ..." as load_sweep for a text
/// that does not parse or a `targets` value it would refuse.
std::vector<double> parse_sweep_targets(const std::string& text, const std::string& file_name);

}  // namespace lenetlab
