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
  /// The cost of model.runs[run]; absent when not recorded.
  std::optional<double> (*of_run)(const ReportModel& model, std::size_t run);
};
/// Training seconds of a run (the sum of its epochs' EpochRecord::seconds: the training part of
/// each epoch, validation excluded), parameters (RunRow::parameters), forward multiply-accumulates
/// per image (RunRow::macs_per_image).
extern const std::array<CostAxis, 3> kCostAxes;

/// Mean of axis.of_run over the runs of `group` that have it; absent when none has.
std::optional<double> group_cost(const ReportModel& model, const ConfigGroup& group,
                                 const CostAxis& axis);

/// The configurations placed on one cost axis and which of them are Pareto-optimal.
struct CostFront {
  std::vector<std::size_t> groups;  ///< indices into ReportModel::groups with a test accuracy
                                    ///< and this cost > 0, in leaderboard order.
  std::vector<double> costs;        ///< group_cost of each.
  std::vector<bool> optimal;        ///< pareto_optimal over (cost, mean test accuracy).
};

/// One front per kCostAxes entry, in that order.
std::vector<CostFront> cost_fronts(const ReportModel& model);

}  // namespace lenetlab::report
