#include "config/sobol.hpp"

#include <fmt/format.h>

#include <boost/random/sobol.hpp>
#include <random>

#include "core/error.hpp"

namespace lenetlab {
namespace {

/// The top 53 bits of `x` as a double in [0, 1).
double unit(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

/// The integer points of the sequence, coordinate by coordinate (Boost's engine yields them so).
std::vector<std::vector<uint64_t>> sobol_words(int dimensions, int count) {
  if (dimensions < 1 || dimensions > kMaxSobolDimensions)
    throw Error(fmt::format("a Sobol' point has 1 to {} dimensions, not {}", kMaxSobolDimensions,
                            dimensions));
  boost::random::sobol engine(static_cast<std::size_t>(dimensions));
  std::vector<std::vector<uint64_t>> points(static_cast<size_t>(count));
  for (auto& point : points) {
    point.resize(static_cast<size_t>(dimensions));
    for (uint64_t& x : point) x = engine();
  }
  return points;
}

}  // namespace

std::vector<std::vector<double>> sobol_points(int dimensions, int count) {
  std::vector<std::vector<double>> out;
  for (const auto& words : sobol_words(dimensions, count)) {
    std::vector<double>& point = out.emplace_back();
    for (uint64_t x : words) point.push_back(unit(x));
  }
  return out;
}

std::vector<std::vector<double>> scrambled_sobol_points(int dimensions, int count, uint64_t seed) {
  const std::vector<std::vector<uint64_t>> words = sobol_words(dimensions, count);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> shift(static_cast<size_t>(dimensions));
  for (uint64_t& s : shift) s = rng();
  std::vector<std::vector<double>> out;
  for (const auto& point_words : words) {
    std::vector<double>& point = out.emplace_back();
    for (size_t d = 0; d < point_words.size(); ++d)
      point.push_back(unit(point_words[d] ^ shift[d]));
  }
  return out;
}

std::vector<std::vector<double>> random_points(int dimensions, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<double>> out(static_cast<size_t>(count));
  for (auto& point : out) {
    point.resize(static_cast<size_t>(std::max(dimensions, 0)));
    for (double& x : point) x = unit(rng());
  }
  return out;
}

}  // namespace lenetlab
