// The Pareto front of configurations that trade a cost (seconds, parameters, multiply-accumulates)
// against a value (test accuracy): the ones no other configuration beats on both at once.
// Internal to report/.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "report/model.hpp"

namespace lenetlab::report {

/// One configuration: lower cost is better, higher value is better.
struct CostPoint {
  double cost = 0;
  double value = 0;
};

/// optimal[i]: no other point dominates points[i], i.e. has cost <= and value >= with at least one
/// of the two strict (the definition of Pareto optimality for minimising cost and maximising value,
/// e.g. Deb, "Multi-Objective Optimization using Evolutionary Algorithms", Wiley 2001, ch. 2).
/// Equal points are both optimal. A point with a NaN coordinate is never optimal and dominates
/// nothing. O(n^2) comparisons; thread-safe.
std::vector<bool> pareto_optimal(std::span<const CostPoint> points);

/// A cost the report weighs test accuracy against.
struct CostAxis {
  std::string_view label;  ///< "training seconds", "parameters", "MACs per image".
  std::optional<double> (*of_group)(const ConfigGroup&);  ///< mean over the seeds.
  std::optional<double> (*of_run)(const RunRow&);
};
/// Wall time of a run (RunRow::seconds), parameters (RunRow::parameters), forward
/// multiply-accumulates per image (RunRow::macs_per_image).
extern const std::array<CostAxis, 3> kCostAxes;

/// The configurations placed on one cost axis and which of them are Pareto-optimal.
struct CostFront {
  std::vector<std::size_t> groups;  ///< indices into ReportModel::groups with a test accuracy
                                    ///< and this cost, in leaderboard order.
  std::vector<bool> optimal;        ///< pareto_optimal over (cost, mean test accuracy).
};

/// One front per kCostAxes entry, in that order.
std::vector<CostFront> cost_fronts(const std::vector<ConfigGroup>& groups);

}  // namespace lenetlab::report
