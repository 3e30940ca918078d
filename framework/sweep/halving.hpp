// Successive halving over the runs of a sweep (`search: {method: successive_halving, ...}`,
// config/search_spec.hpp HalvingSpec; user document: sweeps/README.md "Successive halving").
//
// Every run is planned with max_epochs (its key does not depend on any budget). Rung k trains the
// runs still in the search to budgets()[k] epochs (RunnerOptions::epoch_budget: they stop there
// as `paused`, their checkpoint kept), then decides, once every one of them has reported: the
// runs are ranked by the metric of their epoch-budget row (diverged runs last, ties by run key)
// and the best max(1, floor(n / reduction)) go on to the next rung, continuing from their
// checkpoint; the others end `pruned`. The decision reads only the database's epoch rows, so it is
// the same whatever --jobs, the order the runs finished in, or an interruption (a rerun decides
// each rung again, identically, and trains only what is missing). The last rung trains to
// max_epochs and evaluates the test set as any run. Each decision is recorded in table
// search_rungs (store/README.md).
//
// Each run is a candidate of its own: with several seeds in the grid, every seed is ranked
// separately.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sweep/runner.hpp"

namespace lenetlab {

/// One candidate of a rung: its run key and its metric at the rung's budget (absent: diverged).
struct RungCandidate {
  std::string key;
  std::optional<double> metric;
};

/// A rung's decision: rank[i] (1 = best) and promoted[i] of candidate i.
struct RungDecision {
  std::vector<int> rank;
  std::vector<bool> promoted;
};

/// Ranks `candidates` (by metric, larger first when `maximize`; candidates without a metric
/// last; ties by run key) and promotes the first `promote`.
RungDecision decide_rung(const std::vector<RungCandidate>& candidates, bool maximize, int promote);

/// The group of `run` by the settings `per` (`architecture`, `optimizer`: its name), e.g.
/// "architecture=lenet5 optimizer=adam"; "" when `per` is empty (one group).
std::string group_of(const RunConfig& run, const std::vector<std::string>& per);

/// Runs promoted out of n by a reduction factor eta: max(1, floor(n / eta)).
int promoted_count(int candidates, int reduction);

/// Runs the successive-halving search of `sweep` (sweep.search->halving must be set) rung by rung,
/// each rung through run_sweep with `options`. Returns the summed summary; `pruned` counts the
/// runs pruned by the rungs decided. A rung whose runs did not all reach its budget (failed,
/// interrupted) is left undecided: the summary counts them, and a rerun continues.
SweepSummary run_halving(const Sweep& sweep, const Dataset& data, Store& store,
                         const RunnerOptions& options);

}  // namespace lenetlab
