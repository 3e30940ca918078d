// One {enum, name} table per vocabulary type, read in both directions (the pattern of RunStatus in
// core/records.cpp). A table lists every enumerator once, in declaration order; its names are the
// spellings of the YAML files and of RunConfig::to_json.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace lenetlab {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

/// The name of `value` in `table` ("unknown" when absent, which a complete table never is).
template <typename E, std::size_t N>
constexpr std::string_view name_of(const std::array<EnumName<E>, N>& table, E value) {
  for (const EnumName<E>& entry : table)
    if (entry.value == value) return entry.name;
  return "unknown";
}

/// The enumerator called `name`, or nullopt.
template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const std::array<EnumName<E>, N>& table,
                                    std::string_view name) {
  for (const EnumName<E>& entry : table)
    if (entry.name == name) return entry.value;
  return std::nullopt;
}

/// Every name of `table`, in order (the valid choices of error messages).
template <typename E, std::size_t N>
std::vector<std::string_view> names_of(const std::array<EnumName<E>, N>& table) {
  std::vector<std::string_view> names;
  for (const EnumName<E>& entry : table) names.push_back(entry.name);
  return names;
}

}  // namespace lenetlab
