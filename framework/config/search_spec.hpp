// What a sweep file's `search:` key asks for: how the candidates are chosen (grid, random or
// Sobol' points of `space`) and successive halving's budgets. Parsed by config/search_space.cpp;
// the user document is sweeps/README.md "Sampled search" and "Successive halving".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lenetlab {

/// Significant digits of a sampled real value.
inline constexpr int kSampleDigits = 4;

/// How the candidates of a sweep are chosen: grid (base/grid/recipes only), or `runs` points of
/// `space` drawn at random or from a scrambled Sobol' sequence.
enum class Sampler { grid, random, sobol };

/// Successive halving (Jamieson and Talwalkar 2016, "Non-stochastic best arm identification and
/// hyperparameter optimization"; the inner loop of Hyperband, Li et al. 2018, JMLR 18(185),
/// Algorithm 1): every candidate trains min_epochs; the best floor(n / reduction) by `metric` at
/// that epoch continue to min_epochs x reduction epochs, and so on; the last rung is max_epochs.
struct HalvingSpec {
  int min_epochs = 1;
  int reduction = 3;
  int max_epochs = 9;
  /// val_accuracy (larger is better) or val_loss (smaller is better).
  std::string metric = "val_accuracy";
  /// Settings whose values split the candidates into groups halved separately (`architecture`,
  /// `optimizer`: the optimizer's name); empty = one group. Each group keeps its best run.
  std::vector<std::string> per;

  /// The epoch budgets of the rungs: min_epochs x reduction^k while below max_epochs, then
  /// max_epochs.
  std::vector<int> budgets() const;
  bool maximizes() const { return metric == "val_accuracy"; }
};

/// The `search:` key of a sweep.
struct SearchSpec {
  Sampler sampler = Sampler::grid;
  /// Points drawn (random, sobol).
  int runs = 0;
  uint64_t seed = 0;
  /// Set for method successive_halving.
  std::optional<HalvingSpec> halving;
};

/// The `protocol:` key of a sweep: tune on a validation split, then replicate (DeepOBS, Schneider,
/// Balles and Hennig 2019, "DeepOBS: A Deep Learning Optimizer Benchmark Suite", ICLR, sec. 3: tune
/// the hyper-parameters on validation performance, then rerun the best setting with more seeds).
/// Stage 1 trains the sweep's runs with each tuning seed and evaluate_test false; stage 2 trains
/// each group's best setting (by `metric` at its last epoch, averaged over the tuning seeds) with
/// each replication seed, without a validation split, and evaluates the test set. User document:
/// sweeps/README.md "Protocol"; the stages run in sweep/protocol.hpp.
struct ProtocolSpec {
  /// val_accuracy (larger is better) or val_loss (smaller is better); default: successive
  /// halving's metric when the search is one, else val_accuracy.
  std::string metric = "val_accuracy";
  std::vector<uint64_t> tune_seeds;
  /// `architecture` and/or `optimizer` (its name): one selection per group; empty = one overall.
  std::vector<std::string> per;
  std::vector<uint64_t> replicate_seeds;
  bool maximizes() const { return metric == "val_accuracy"; }
};

const char* to_string(Sampler sampler);

}  // namespace lenetlab
