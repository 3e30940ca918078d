// Sampled searches of a sweep file: the `search:` key (method, number of points, seed, successive
// halving's budgets) and the `space:` key (settings drawn from distributions). The user document
// is sweeps/README.md "Sampled search" and "Successive halving"; the points come from
// config/sobol.hpp.
//
// How a space is sampled (a pure function of the file):
//  - Every distribution in `space` gets one dimension of the unit cube, in file order, depth first,
//    alternatives of a `choice` included (so adding an alternative's inner distribution never
//    shifts the dimensions before it).
//  - Point i (random: std::mt19937_64 draws; sobol: scrambled Sobol' point i) gives each
//    distribution u in [0, 1): uniform {low, high} -> low + u (high - low); log_uniform
//    {low, high} -> exp(ln low + u (ln high - ln low)); int_uniform {low, high} -> low +
//    floor(u (high - low + 1)) (both ends included); choice [a, b, ...] -> item floor(u k).
//  - Real values are rounded to kSampleDigits significant digits and written as text (fmt "{:.4g}"),
//    which is what the run's settings are parsed from: the run key depends on the rounded value
//    only, and a last-bit difference of exp/log between C libraries almost never reaches it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/search_spec.hpp"
#include "config/sweep_values.hpp"

namespace lenetlab {

namespace sweep_detail {

/// Parses `search:`; ConfigError at the offending value.
SearchSpec parse_search(const yaml::YamlReader& r, const YAML::Node& node);
/// Parses `protocol:` ({tune: {metric, seeds, per}, replicate: {seeds}}); ConfigError at the
/// offending value.
ProtocolSpec parse_protocol(const yaml::YamlReader& r, const YAML::Node& node);

/// One point of a space: the settings it gives (like one combination of a grid; their values
/// point into nodes made for the sampled scalars) and "key=value" of every sampled leaf.
struct SpacePoint {
  std::vector<Field> fields;
  std::string description;
};

/// Checks the shape of `space` (keys from `setting_keys`, distributions well formed, no lists
/// outside `choice`) and returns its number of dimensions. ConfigError at the offending node.
int check_space(const yaml::YamlReader& r, const YAML::Node& space,
                const yaml::Names& setting_keys);

/// The spec.runs points of `space` (check_space first), in order.
std::vector<SpacePoint> sample_space(const YAML::Node& space, const SearchSpec& spec);

}  // namespace sweep_detail
}  // namespace lenetlab
