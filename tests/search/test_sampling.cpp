// Sampled searches (config/sobol.hpp, config/search_space.hpp): the Sobol' sequence against its
// published first points, the scrambling's stratification, the distributions' ranges and log
// spacing, and that a sampled sweep is a pure function of its file.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../config/config_test_util.hpp"
#include "config/sobol.hpp"

namespace lenetlab {
namespace {

using namespace config_test;

// Reference: the first points of the Sobol' sequence with the Joe and Kuo (2008) direction numbers
// (file new-joe-kuo-6.21201: dimension 2 is x + 1 with m = 1; dimension 3 is x^2 + x + 1 with
// m = 1, 3), in gray-code order, as listed in Joe and Kuo, "Notes on generating Sobol' sequences"
// (2008) and reproduced by scipy.stats.qmc.Sobol(scramble=False): points 1..7 after the all-zero
// point 0, which Boost skips.
TEST_CASE("search: unscrambled Sobol points match the published first points") {
  const std::vector<std::vector<double>> expected = {
      {0.5, 0.5, 0.5},       {0.75, 0.25, 0.25},    {0.25, 0.75, 0.75},   {0.375, 0.375, 0.625},
      {0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375}};
  const auto points = sobol_points(3, 7);
  REQUIRE(points.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    for (size_t d = 0; d < 3; ++d) CHECK(points[i][d] == expected[i][d]);
}

TEST_CASE("search: scrambled Sobol points keep one point per dyadic interval") {
  // 2^k consecutive points of a digitally shifted Sobol' sequence (from the sequence start, with
  // the zero point) put exactly one point in each [j / 2^k, (j + 1) / 2^k) of every coordinate.
  // Boost starts at point 1, so points 1..2^k - 1 miss exactly one interval: the shifted zero's.
  constexpr int kPoints = 63;
  const auto points = scrambled_sobol_points(5, kPoints, 42);
  for (size_t d = 0; d < 5; ++d) {
    std::set<int> cells;
    for (const auto& p : points) {
      CHECK(p[d] >= 0.0);
      CHECK(p[d] < 1.0);
      cells.insert(static_cast<int>(p[d] * 64));
    }
    CHECK(cells.size() == kPoints);
  }
  CHECK(scrambled_sobol_points(5, kPoints, 42) == points);
  CHECK(scrambled_sobol_points(5, kPoints, 43) != points);
  CHECK(random_points(3, 10, 7) == random_points(3, 10, 7));
  CHECK(random_points(3, 10, 7) != random_points(3, 10, 8));
  CHECK_THROWS_AS(sobol_points(kMaxSobolDimensions + 1, 1), Error);
}

std::string sampled(const std::string& method, int runs, const std::string& space,
                    const std::string& grid = "") {
  return "name: s\nbase: {architecture: lenet-relu, epochs: 1}\nsearch: {method: " + method +
         ", runs: " + std::to_string(runs) + ", seed: 5}\nspace:\n" + space + grid;
}

TEST_CASE("search: log_uniform is in range, rounded to 4 digits, and log-spaced") {
  const std::string text =
      sampled("sobol", 64, "  learning_rate: {log_uniform: {low: 1.0e-4, high: 1}}\n");
  const Sweep sweep = parse_sweep(text, "s.yaml");
  REQUIRE(sweep.runs.size() == 64);
  std::map<int, int> per_decade;
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    const double lr = sweep.runs[i].optimizer.learning_rate;
    CHECK(lr >= 1e-4);
    CHECK(lr <= 1.0);
    // Stored exactly as its 4-significant-digit text.
    CHECK(fmt::format("{:.4g}", lr) == sweep.sampled[i].substr(sweep.sampled[i].find('=') + 1));
    ++per_decade[static_cast<int>(std::floor(std::log10(lr)))];
  }
  // Four decades, a quarter of the unit interval each: the stratified points give 16 per decade.
  CHECK(per_decade == std::map<int, int>{{-4, 16}, {-3, 16}, {-2, 16}, {-1, 16}});
  // A pure function of the file: the same runs, in the same order, every time.
  const Sweep again = parse_sweep(text, "s.yaml");
  for (size_t i = 0; i < sweep.runs.size(); ++i) CHECK(again.runs[i].key() == sweep.runs[i].key());
  CHECK(
      parse_sweep(sampled("random", 64, "  learning_rate: {log_uniform: {low: 1.0e-4, high: 1}}\n"),
                  "s.yaml")
          .runs[0]
          .key() != sweep.runs[0].key());
}

TEST_CASE("search: uniform, int_uniform and choice cover their ranges") {
  const Sweep sweep = parse_sweep(sampled("random", 200,
                                          "  validation_split: {uniform: {low: 0.1, high: 0.3}}\n"
                                          "  batch_size: {int_uniform: {low: 30, high: 33}}\n"
                                          "  architecture: {choice: [lenet-relu, lenet5]}\n"),
                                  "s.yaml");
  std::set<int> batches;
  std::set<std::string> archs;
  for (const RunConfig& run : sweep.runs) {
    CHECK(run.validation_split >= 0.1);
    CHECK(run.validation_split <= 0.3);
    batches.insert(run.batch_size);
    archs.insert(run.architecture);
  }
  CHECK(batches == std::set<int>{30, 31, 32, 33});
  CHECK(archs == std::set<std::string>{"lenet-relu", "lenet5"});
  // Points equal after rounding are dropped (two choices: at most two distinct runs).
  CHECK(parse_sweep(sampled("random", 10, "  architecture: {choice: [lenet-relu, lenet5]}\n"),
                    "s.yaml")
            .runs.size() == 2);
}

TEST_CASE("search: per-optimizer spaces and seeds replicating every point") {
  const Sweep sweep = parse_sweep(
      sampled(
          "sobol", 8,
          "  optimizer:\n"
          "    choice:\n"
          "      - {name: sgd, momentum: 0.9, learning_rate: {log_uniform: {low: 0.01, high: 1}}}\n"
          "      - {name: adam, learning_rate: {log_uniform: {low: 1.0e-5, high: 1.0e-3}}}\n",
          "grid: {seed: [1, 2, 3]}\n"),
      "s.yaml");
  REQUIRE(sweep.runs.size() == 24);
  std::set<OptimizerKind> kinds;
  for (size_t i = 0; i < sweep.runs.size(); ++i) {
    const RunConfig& run = sweep.runs[i];
    CHECK(run.seed == i % 3 + 1);  // seeds vary fastest: every point replicated
    CHECK(run.optimizer.learning_rate == sweep.runs[i - i % 3].optimizer.learning_rate);
    kinds.insert(run.optimizer.kind);
    if (run.optimizer.kind == OptimizerKind::sgd) {
      CHECK(run.optimizer.momentum == 0.9);
      CHECK(run.optimizer.learning_rate >= 0.01);
    } else {
      CHECK(run.optimizer.learning_rate <= 1e-3);
    }
  }
  CHECK(kinds.size() == 2);
}

TEST_CASE("search: mistakes in search and space are errors at their place") {
  const auto lr = [](const std::string& dist) { return "  learning_rate: " + dist + "\n"; };
  CHECK(sweep_error(sampled("sobol", 4, lr("{log_uniform: {low: 0, high: 1}}"))).detail ==
        "'log_uniform' needs low > 0; found 0");
  CHECK(sweep_error(sampled("sobol", 4, lr("{uniform: {low: 1, high: 1}}"))).detail ==
        "'uniform' needs low < high; found low 1, high 1");
  CHECK(sweep_error(sampled("sobol", 4, lr("[0.1, 0.2]"))).detail ==
        "a list for 'learning_rate' in space; write the choices as {choice: [...]}");
  CHECK(sweep_error(sampled("sobol", 4, lr("{choice: []}"))).detail ==
        "expected a non-empty list of choices for 'learning_rate', found an empty list");
  CHECK(sweep_error(sampled("sobol", 4, lr("{uniform: {low: 0.1, high: 0.2}}"),
                            "grid: {learning_rate: [0.1]}\n"))
            .detail == "'learning_rate' is in both grid and space; keep one");
  const Caught sampled_bad = sweep_error(sampled("sobol", 4, "  momentum_x: 1\n"));
  CHECK(sampled_bad.line == 5);
  CHECK(sweep_error("name: s\nbase: {architecture: lenet5}\nspace: {batch_size: 3}\n").detail ==
        "'space' needs 'search' with method random or sobol (or successive_halving or hyperband "
        "with sampler random or sobol)");
  CHECK(sweep_error("name: s\nbase: {architecture: lenet5}\nsearch: {method: sobol, runs: 3}\n")
            .detail ==
        "sampler sobol draws points of 'space'; add a 'space' of distributions "
        "(sweeps/README.md)");
  CHECK(sweep_error("name: s\nbase: {architecture: lenet5}\nsearch: {method: sobol}\n"
                    "space: {batch_size: 3}\n")
            .detail == "sampler sobol needs 'runs' (the number of points)");
  // A sampled value the setting refuses is reported at `space` with the point.
  const Caught refused =
      sweep_error(sampled("sobol", 4, "  validation_split: {uniform: {low: 0.5, high: 2}}\n"));
  CHECK(refused.line == 5);
  CHECK(refused.detail.find("sampled point (validation_split=") == 0);
}

}  // namespace
}  // namespace lenetlab
