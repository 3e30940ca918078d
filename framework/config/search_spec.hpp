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

  /// Hyperband (method hyperband): the candidates are split into brackets(), each halved
  /// separately from its own first budget.
  bool hyperband = false;

  /// The epoch budgets of the rungs: min_epochs x reduction^k while below max_epochs, then
  /// max_epochs.
  std::vector<int> budgets() const;
  bool maximizes() const { return metric == "val_accuracy"; }

  /// One Hyperband bracket: `candidates` runs start at budgets.front() epochs and are halved
  /// through `budgets` (the last is max_epochs).
  struct Bracket {
    int candidates = 0;
    std::vector<int> budgets;
  };
  /// Hyperband's brackets (Li et al. 2018, JMLR 18(185), Algorithm 1, with R = max_epochs /
  /// min_epochs and eta = reduction): s_max = floor(log_eta(R)); bracket s = s_max, ..., 0 starts
  /// n_s = ceil((s_max + 1) / (s + 1) x eta^s) candidates and has the s + 1 budgets
  /// max(min_epochs, floor(max_epochs / eta^(s - i))), i = 0..s. Returned in that order (the
  /// most aggressive bracket first). R = 81, eta = 3 gives the paper's table 1: n = 81, 34, 15,
  /// 8, 5 starting at 1, 3, 9, 27, 81.
  std::vector<Bracket> brackets() const;
};

/// The `search:` key of a sweep.
struct SearchSpec {
  Sampler sampler = Sampler::grid;
  /// Points drawn (random, sobol).
  int runs = 0;
  uint64_t seed = 0;
  /// Set for methods successive_halving and hyperband (HalvingSpec::hyperband).
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
