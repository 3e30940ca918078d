#include "sweep/shard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <numeric>

#include "core/error.hpp"

namespace lenetlab {

namespace {

constexpr int kMaxShards = 100000;

/// Parses a whole decimal integer of `text`, or returns false.
bool parse_int(std::string_view text, int& value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

ShardSpec parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  ShardSpec spec;
  const bool ok = slash != std::string::npos &&
                  parse_int(std::string_view(text).substr(0, slash), spec.index) &&
                  parse_int(std::string_view(text).substr(slash + 1), spec.count) &&
                  spec.count >= 1 && spec.count <= kMaxShards && spec.index >= 0 &&
                  spec.index < spec.count;
  if (!ok)
    throw Error(fmt::format(
        "--shard '{}': expected I/N with 0 <= I < N <= {} (shard I of N, 0-based), e.g. 0/4", text,
        kMaxShards));
  return spec;
}

ShardPlan assign_shards(const Sweep& sweep, int count) {
  if (count < 1 || count > kMaxShards)
    throw Error(fmt::format("shard count {} outside 1..{}", count, kMaxShards));
  ShardPlan plan;
  plan.runs = plan_sweep(sweep, kShardTrainImages);
  plan.shard.assign(plan.runs.size(), 0);
  plan.loads.assign(static_cast<size_t>(count), 0.0);
  std::vector<size_t> order(plan.runs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const PlannedRun& x = plan.runs[a];
    const PlannedRun& y = plan.runs[b];
    if (x.cost != y.cost) return x.cost > y.cost;
    return x.key < y.key;
  });
  for (size_t i : order) {
    // min_element returns the first of equal loads: the lowest index.
    const auto least = std::min_element(plan.loads.begin(), plan.loads.end());
    *least += plan.runs[i].cost;
    plan.shard[i] = static_cast<int>(least - plan.loads.begin());
  }
  return plan;
}

std::vector<std::string> shard_keys(const Sweep& sweep, const ShardSpec& spec) {
  const ShardPlan plan = assign_shards(sweep, spec.count);
  std::vector<std::string> keys;
  for (size_t i = 0; i < plan.runs.size(); ++i)
    if (plan.shard[i] == spec.index) keys.push_back(plan.runs[i].key);
  return keys;
}

std::string shard_database_name(const std::string& sweep_name, const ShardSpec& spec) {
  return fmt::format("results/{}.shard-{}-of-{}.db", sweep_name, spec.index, spec.count);
}

}  // namespace lenetlab
