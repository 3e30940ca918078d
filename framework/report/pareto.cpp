#include "report/pareto.hpp"

#include <cmath>

namespace lenetlab::report {

namespace {

bool valid(const CostPoint& p) { return !std::isnan(p.cost) && !std::isnan(p.value); }

bool dominates(const CostPoint& a, const CostPoint& b) {
  return a.cost <= b.cost && a.value >= b.value && (a.cost < b.cost || a.value > b.value);
}

}  // namespace

std::vector<bool> pareto_optimal(std::span<const CostPoint> points) {
  std::vector<bool> optimal(points.size(), false);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!valid(points[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j)
      dominated = j != i && valid(points[j]) && dominates(points[j], points[i]);
    optimal[i] = !dominated;
  }
  return optimal;
}

namespace {

std::optional<double> training_seconds(const ReportModel& model, std::size_t run) {
  if (model.epochs[run].empty()) return std::nullopt;
  double seconds = 0;
  for (const EpochRecord& e : model.epochs[run]) seconds += e.seconds;
  return seconds;
}

std::optional<double> as_double(const std::optional<int64_t>& n) {
  return n ? std::optional(static_cast<double>(*n)) : std::nullopt;
}

}  // namespace

const std::array<CostAxis, 3> kCostAxes = {{
    {"training seconds", training_seconds},
    {"parameters",
     [](const ReportModel& m, std::size_t run) { return as_double(m.runs[run].parameters); }},
    {"MACs per image",
     [](const ReportModel& m, std::size_t run) { return as_double(m.runs[run].macs_per_image); }},
}};

std::optional<double> group_cost(const ReportModel& model, const ConfigGroup& group,
                                 const CostAxis& axis) {
  double sum = 0;
  int n = 0;
  for (const std::size_t run : group.runs)
    if (const auto cost = axis.of_run(model, run)) sum += *cost, ++n;
  return n > 0 ? std::optional(sum / n) : std::nullopt;
}

std::vector<CostFront> cost_fronts(const ReportModel& model) {
  std::vector<CostFront> fronts;
  for (const CostAxis& axis : kCostAxes) {
    CostFront front;
    std::vector<CostPoint> points;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
      const ConfigGroup& group = model.groups[g];
      const auto cost = group_cost(model, group, axis);
      if (group.test.n == 0 || !cost || !(*cost > 0)) continue;  // the chart's axis is log
      front.groups.push_back(g);
      front.costs.push_back(*cost);
      points.push_back({*cost, group.test.mean});
    }
    front.optimal = pareto_optimal(points);
    fronts.push_back(std::move(front));
  }
  return fronts;
}

}  // namespace lenetlab::report
