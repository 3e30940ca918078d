#include "config/sweep_values.hpp"

#include <fmt/format.h>

#include <iterator>
#include <limits>

namespace lenetlab::sweep_detail {

using yaml::YamlReader;

int64_t add_saturated(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

int64_t mul_saturated(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > std::numeric_limits<int64_t>::max() / b ? std::numeric_limits<int64_t>::max() : a * b;
}

int64_t count_values(const YamlReader& r, const YAML::Node& node, std::string_view what,
                     bool in_list) {
  if (node.IsSequence()) {
    if (in_list) {
      r.fail(node,
             fmt::format("a list inside a list of choices for '{}'; write one flat list", what));
    }
    if (node.size() == 0) {
      r.fail(node, fmt::format("empty list of choices for '{}'; give at least one value", what));
    }
    int64_t total = 0;
    for (const YAML::Node& item : node) {
      total = add_saturated(total, count_values(r, item, what, true));
    }
    return total;
  }
  if (node.IsMap()) {
    int64_t product = 1;
    for (const auto& kv : node) {
      product = mul_saturated(product, count_values(r, kv.second, r.key(kv.first), false));
    }
    return product;
  }
  return 1;
}

std::vector<ExpandedValue> expand_values(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::vector<ExpandedValue> out;
    for (const YAML::Node& item : node) {
      std::vector<ExpandedValue> part = expand_values(item);
      std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
  }
  if (!node.IsMap()) return {ExpandedValue{node, {}}};
  std::vector<ExpandedValue> out = {ExpandedValue{node, {}}};
  for (const auto& kv : node) {
    const std::vector<ExpandedValue> choices = expand_values(kv.second);
    std::vector<ExpandedValue> next;
    next.reserve(out.size() * choices.size());
    for (const ExpandedValue& partial : out) {
      for (const ExpandedValue& choice : choices) {
        ExpandedValue v = partial;
        v.fields.push_back(Field{kv.first.Scalar(), kv.first, choice});
        next.push_back(std::move(v));
      }
    }
    out = std::move(next);
  }
  return out;
}

ExpandedValue literal_value(const YAML::Node& node) {
  ExpandedValue v{node, {}};
  if (node.IsMap()) {
    for (const auto& kv : node) {
      v.fields.push_back(Field{kv.first.Scalar(), kv.first, literal_value(kv.second)});
    }
  }
  return v;
}

void refuse_lists(const YamlReader& r, const YAML::Node& node, std::string_view what) {
  if (node.IsSequence()) {
    r.fail(node, fmt::format("a list for '{}' in base; base holds one value per setting, lists of "
                             "choices belong in 'grid' or 'recipes'",
                             what));
  }
  if (node.IsMap()) {
    for (const auto& kv : node) refuse_lists(r, kv.second, r.key(kv.first));
  }
}

}  // namespace lenetlab::sweep_detail
