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

const std::array<CostAxis, 3> kCostAxes = {{
    {"training seconds", [](const ConfigGroup& g) { return g.seconds_mean; },
     [](const RunRow& r) { return r.seconds; }},
    {"parameters",
     [](const ConfigGroup& g) {
       return g.parameters ? std::optional(static_cast<double>(*g.parameters)) : std::nullopt;
     },
     [](const RunRow& r) {
       return r.parameters ? std::optional(static_cast<double>(*r.parameters)) : std::nullopt;
     }},
    {"MACs per image",
     [](const ConfigGroup& g) {
       return g.macs_per_image ? std::optional(static_cast<double>(*g.macs_per_image))
                               : std::nullopt;
     },
     [](const RunRow& r) {
       return r.macs_per_image ? std::optional(static_cast<double>(*r.macs_per_image))
                               : std::nullopt;
     }},
}};

std::vector<CostFront> cost_fronts(const std::vector<ConfigGroup>& groups) {
  std::vector<CostFront> fronts;
  for (const CostAxis& axis : kCostAxes) {
    CostFront front;
    std::vector<CostPoint> points;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto cost = axis.of_group(groups[g]);
      if (groups[g].test.n == 0 || !cost) continue;
      front.groups.push_back(g);
      points.push_back({*cost, groups[g].test.mean});
    }
    front.optimal = pareto_optimal(points);
    fronts.push_back(std::move(front));
  }
  return fronts;
}

}  // namespace lenetlab::report
