// Tune on validation, then replicate: a sweep with `protocol:` (config/search_spec.hpp
// ProtocolSpec; user document: sweeps/README.md "Protocol"; the procedure of DeepOBS, Schneider,
// Balles and Hennig 2019, ICLR, sec. 3).
//
// Stage 1 is the sweep's own runs (every point of its grid, sampled space or successive halving,
// once per tuning seed) recorded as sweep NAME.tune, with a validation split and evaluate_test
// false: the test set is never evaluated for them, so no test metric of theirs exists anywhere.
// When every stage-1 run is done (final or pruned), the selection is made from the database's
// epoch rows only (read_tuning builds TuneRun, a type without any test field): per group of
// `per`, the setting whose runs have the best mean metric at their last epoch (ties by run key),
// recorded in table protocol_selections. Stage 2 trains each selected setting once per
// replication seed, without the validation split and with the test set evaluated, as sweep NAME.
//
// Every decision is a pure function of stored rows, so the protocol resumes like any sweep: run it
// again after an interruption at any point and it continues (stage 1's final runs are skipped, the
// selection is made again identically, stage 2 trains what is missing).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/reader.hpp"
#include "sweep/runner.hpp"

namespace lenetlab {

/// What the selection sees of one stage-1 run: its group, its setting and its validation metric.
struct TuneRun {
  std::string key;
  std::string group;    ///< group_of(run, per) (sweep/halving.hpp)
  std::string setting;  ///< the key of its configuration with seed 0: its tuning seeds share it
  /// ProtocolSpec::metric at the run's last epoch; absent when the run cannot be chosen
  /// (diverged, pruned by successive halving, or NaN).
  std::optional<double> metric;
};

/// The setting selected for one group.
struct ProtocolChoice {
  std::string group;
  std::string key;      ///< the setting's first run (by the sweep's order: its first tuning seed)
  double metric = 0;    ///< mean over the setting's runs
  int tuning_runs = 0;  ///< runs averaged
  int settings = 0;     ///< settings compared in the group (eligible or not)
};

/// Per group (in name order): among the settings all of whose runs have a metric, the one with the
/// best mean (larger first when `maximize`), ties broken by the smaller key of its first run. A
/// group without such a setting has no choice.
std::vector<ProtocolChoice> select_settings(const std::vector<TuneRun>& runs, bool maximize);

/// Stage 1: the sweep's runs, as sweep NAME.tune.
Sweep tuning_sweep(const Sweep& sweep);
/// Stage 2: each choice's configuration once per replication seed (choices in order, seeds
/// inner), validation_split 0 and evaluate_test true, as sweep NAME.
Sweep replication_sweep(const Sweep& sweep, const std::vector<ProtocolChoice>& choices);

/// The stage-1 runs as the selection sees them, read from run statuses and epoch rows only;
/// nullopt while any of them is not done (absent, queued, running, paused, failed, interrupted).
std::optional<std::vector<TuneRun>> read_tuning(const ResultsReader& reader, const Sweep& sweep);

/// select_settings over read_tuning: nullopt while stage 1 is not done.
std::optional<std::vector<ProtocolChoice>> stored_selection(const ResultsReader& reader,
                                                            const Sweep& sweep);

/// Runs the protocol of `sweep` (sweep.protocol must be set): stage 1 (run_halving when its
/// search is successive halving, else run_sweep), the selection (recorded), then stage 2. Stops
/// after stage 1 when it is not done (the summary says why) or when cancelled. Returns the two
/// stages' summaries added.
SweepSummary run_protocol(const Sweep& sweep, const Dataset& data, Store& store,
                          const RunnerOptions& options);

}  // namespace lenetlab
