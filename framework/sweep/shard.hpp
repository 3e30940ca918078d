// Splitting a sweep into N shards that separate processes (e.g. the tasks of a Slurm job array)
// train independently, each into its own database (merged afterwards: store/merge.hpp).
//
// The assignment depends on the sweep file alone: not on the machine, the dataset a machine holds
// or any database's contents, so every task computes the same split.
#pragma once

#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "sweep/runner.hpp"

namespace lenetlab {

/// Shard `index` of `count`, 0-based like Slurm's SLURM_ARRAY_TASK_ID.
struct ShardSpec {
  int index = 0;
  int count = 1;
};

/// Parses "I/N" (0 <= I < N, 1 <= N <= 100000). Throws Error "--shard 'TEXT': expected I/N
/// with 0 <= I < N, e.g. 0/4" otherwise.
ShardSpec parse_shard(const std::string& text);

/// Training images assumed for every run's cost when shards are assigned: 60,000, the training
/// set of MNIST (LeCun, Cortes, Burges, "The MNIST database of handwritten digits") and of
/// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017), capped by a run's train_limit. A constant keeps the
/// assignment independent of the data a machine has.
inline constexpr int64_t kShardTrainImages = 60000;

/// The sweep's runs (plan_sweep with kShardTrainImages) and the shard of each, in sweep order.
struct ShardPlan {
  std::vector<PlannedRun> runs;
  std::vector<int> shard;     ///< shard[i] is the shard of runs[i], in [0, count)
  std::vector<double> loads;  ///< sum of the estimated costs of each shard's runs (MACs)
};

/// Longest processing time first (Graham, "Bounds on multiprocessing timing anomalies", SIAM J.
/// Appl. Math. 17(2), 1969: within 4/3 of the optimal makespan): runs by decreasing estimated cost,
/// equal costs by run key, each onto the shard with the smallest load so far (equal loads: the
/// lowest index). Deterministic. Throws Error when count < 1.
ShardPlan assign_shards(const Sweep& sweep, int count);

/// Keys of the runs of shard spec.index (sweep order).
std::vector<std::string> shard_keys(const Sweep& sweep, const ShardSpec& spec);

/// Suggested database of a shard: "results/NAME.shard-I-of-N.db".
std::string shard_database_name(const std::string& sweep_name, const ShardSpec& spec);

}  // namespace lenetlab
