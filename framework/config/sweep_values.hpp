// Internal to the sweep loader: the values a setting stands for after list expansion, counted
// before they are built (sweeps/README.md "How a sweep expands").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.hpp"

namespace lenetlab::sweep_detail {

/// One value of a setting after list expansion: a scalar (node), or a mapping whose fields are
/// themselves expanded values. `node` keeps the source position for error messages.
struct Field;
struct ExpandedValue {
  YAML::Node node;
  std::vector<Field> fields;  // when node is a mapping
};
struct Field {
  std::string name;
  YAML::Node key;
  ExpandedValue value;
};

int64_t add_saturated(int64_t a, int64_t b);
int64_t mul_saturated(int64_t a, int64_t b);

/// Number of concrete values `node` stands for: a list is the sum of its items, a mapping the
/// product of its values (a sub-grid), a scalar 1. Saturates at INT64_MAX. Refuses empty lists
/// and lists inside lists (ConfigError at the list).
int64_t count_values(const yaml::YamlReader& r, const YAML::Node& node, std::string_view what,
                     bool in_list);

/// The concrete values of `node`, in count_values' order: list items in order; for a mapping the
/// cartesian product of its values with the first key varying slowest.
std::vector<ExpandedValue> expand_values(const YAML::Node& node);

/// The value of `node` taken literally (base: lists are refused by refuse_lists first).
ExpandedValue literal_value(const YAML::Node& node);

/// Refuses lists anywhere in base (choices belong in grid or recipes).
void refuse_lists(const yaml::YamlReader& r, const YAML::Node& node, std::string_view what);

}  // namespace lenetlab::sweep_detail
