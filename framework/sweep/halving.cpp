#include "sweep/halving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_set>

#include "store/reader.hpp"

namespace lenetlab {

namespace {

/// "1 epoch", "3 epochs".
std::string epochs_text(int n) { return fmt::format("{} epoch{}", n, n == 1 ? "" : "s"); }

/// What the database says about one candidate at one budget.
struct Reached {
  int64_t id = 0;
  bool reached = false;  ///< has the budget's epoch row, or diverged before it
  /// Its status says so too: paused there, or final. A run killed after the row's commit but
  /// before its status was recorded is still `running`: it is trained again (the trainer resumes
  /// from the budget's checkpoint and stops at once, paused), so that it can be pruned or promoted.
  bool settled = false;
  std::optional<double> metric;
};

/// The candidate `key` at epoch `budget` (the sweep's metric of that row).
Reached reached(const ResultsReader& reader, const std::string& key, int budget,
                const HalvingSpec& halving) {
  Reached out;
  if (!reader.run_status(key)) return out;
  out.id = reader.resolve_run(key);
  const RunRow run = reader.run(out.id);
  for (const EpochRecord& e : reader.epochs(out.id)) {
    if (e.epoch != budget) continue;
    out.reached = true;
    out.metric = halving.maximizes() ? e.val_accuracy : e.val_loss;
    if (out.metric && std::isnan(*out.metric)) out.metric.reset();
  }
  if (!out.reached && run.status == RunStatus::diverged) out.reached = true;
  out.settled = run.status == RunStatus::paused || is_final(run.status);
  return out;
}

/// One invocation of the search: rung after rung until the last or an undecided one.
class Halving {
 public:
  Halving(const Sweep& sweep, const Dataset& data, Store& store, const RunnerOptions& options)
      : sweep_(sweep),
        data_(data),
        store_(store),
        options_(options),
        spec_(*sweep.search->halving) {}

  SweepSummary run() {
    const auto t0 = std::chrono::steady_clock::now();
    summary_.total = static_cast<int>(sweep_.runs.size());
    int paused = 0;
    if (!spec_.hyperband) {
      std::vector<std::string> alive;
      for (const RunConfig& run : sweep_.runs) alive.push_back(run.key());
      paused = run_bracket(alive, spec_.budgets());
    } else {
      // The brackets are independent: one left undecided (a failed run) does not hold the others.
      const std::vector<HalvingSpec::Bracket> brackets = spec_.brackets();
      for (size_t b = 0; b < brackets.size() && !cancelled(); ++b) {
        std::vector<std::string> alive;
        for (size_t i = 0; i < sweep_.runs.size(); ++i)
          if (sweep_.bracket.at(i) == static_cast<int>(b)) alive.push_back(sweep_.runs[i].key());
        bracket_ = static_cast<int>(b);
        fmt::print(options_.progress, "hyperband: bracket {} of {}: {} runs from {}\n", b + 1,
                   brackets.size(), alive.size(), epochs_text(brackets[b].budgets.front()));
        if (!alive.empty()) paused += run_bracket(alive, brackets[b].budgets);
      }
    }
    summary_.paused = paused;
    summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary_;
  }

 private:
  bool cancelled() const { return options_.cancel && options_.cancel->load(); }
  /// Halves `alive` through `budgets` (the rungs of one bracket); returns the runs left paused at
  /// an undecided rung.
  int run_bracket(std::vector<std::string> alive, const std::vector<int>& budgets) {
    for (size_t k = 0; k < budgets.size(); ++k) {
      const bool last = k + 1 == budgets.size();
      const int paused = train(alive, budgets[k], last);
      if (cancelled() || !decide(static_cast<int>(k), budgets[k], last, alive)) return paused;
      if (last) break;
    }
    return 0;
  }
  int train(const std::vector<std::string>& alive, int budget, bool last);
  bool decide(int rung, int budget, bool last, std::vector<std::string>& alive);
  /// "successive halving" or "hyperband bracket B".
  std::string label() const {
    return spec_.hyperband ? fmt::format("hyperband bracket {}", bracket_ + 1)
                           : "successive halving";
  }
  /// The group of run `key` (HalvingSpec::per).
  std::string group_of_key(const std::string& key) const {
    for (const RunConfig& run : sweep_.runs)
      if (run.key() == key) return group_of(run, spec_.per);
    return "";
  }

  const Sweep& sweep_;
  const Dataset& data_;
  Store& store_;
  const RunnerOptions& options_;
  const HalvingSpec& spec_;
  int bracket_ = 0;  ///< the bracket being halved (0 without hyperband)
  SweepSummary summary_;
};

/// Trains the runs of `alive` that have not reached `budget` yet (the last rung: to their end);
/// returns the runs left paused.
int Halving::train(const std::vector<std::string>& alive, int budget, bool last) {
  std::unordered_set<std::string> todo;
  {
    const ResultsReader reader(store_.path());
    for (const std::string& key : alive) {
      const Reached r = reached(reader, key, budget, spec_);
      if (last || !r.reached || !r.settled) todo.insert(key);
    }
  }
  fmt::print(options_.progress, "{}: {} runs to {}{}\n", label(), alive.size(), epochs_text(budget),
             todo.size() < alive.size()
                 ? fmt::format(" ({} already there)", alive.size() - todo.size())
                 : "");
  if (todo.empty()) return 0;
  RunnerOptions options = options_;
  options.epoch_budget = last ? 0 : budget;
  options.select = [&](const PlannedRun& run) {
    return todo.count(run.key) != 0 && (!options_.select || options_.select(run));
  };
  const SweepSummary s = run_sweep(sweep_, data_, store_, options);
  summary_.add_counts(s);
  return last ? 0 : s.paused;
}

/// Decides rung `rung` when every run of `alive` reached `budget`; keeps the promoted in `alive`.
/// The last rung promotes nothing and prunes nothing: it records the selection (each group's
/// best, marked promoted).
bool Halving::decide(int rung, int budget, bool last, std::vector<std::string>& alive) {
  std::vector<RungCandidate> candidates;
  std::vector<int64_t> ids;
  int missing = 0;
  {
    const ResultsReader reader(store_.path());
    for (const std::string& key : alive) {
      const Reached r = reached(reader, key, budget, spec_);
      missing += r.reached && r.settled ? 0 : 1;
      candidates.push_back({key, r.metric});
      ids.push_back(r.id);
    }
  }
  if (missing > 0) {
    fmt::print(options_.progress,
               "{}: rung {} ({}) undecided: {} of {} runs have not "
               "reached it (see their status); run the sweep again to continue\n",
               label(), rung, epochs_text(budget), missing, alive.size());
    return false;
  }
  // Groups (HalvingSpec::per) are ranked and halved separately; rank and counts are per group.
  RungDecision decision{std::vector<int>(candidates.size()),
                        std::vector<bool>(candidates.size(), false)};
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < candidates.size(); ++i) groups[group_of_key(alive[i])].push_back(i);
  std::vector<int> group_size(candidates.size()), promote(candidates.size());
  for (const auto& [group, members] : groups) {
    std::vector<RungCandidate> part;
    for (size_t i : members) part.push_back(candidates[i]);
    const int n = last ? 1 : promoted_count(static_cast<int>(part.size()), spec_.reduction);
    const RungDecision d = decide_rung(part, spec_.maximizes(), n);
    for (size_t j = 0; j < members.size(); ++j) {
      decision.rank[members[j]] = d.rank[j];
      decision.promoted[members[j]] = d.promoted[j];
      group_size[members[j]] = static_cast<int>(part.size());
      promote[members[j]] = n;
    }
  }
  std::vector<RungRow> rows;
  std::vector<std::string> next;
  const int64_t sweep_id = store_.upsert_sweep(sweep_.name, sweep_.file, sweep_.yaml);
  for (size_t i = 0; i < candidates.size(); ++i) {
    RungRow row;
    row.run_id = ids[i];
    row.bracket = bracket_;
    row.rung = rung;
    row.epochs = budget;
    row.metric = spec_.metric;
    row.metric_value = candidates[i].metric;
    row.rank = decision.rank[i];
    row.candidates = group_size[i];
    row.promoted = decision.promoted[i];
    rows.push_back(row);
    if (decision.promoted[i]) next.push_back(candidates[i].key);
    if (decision.promoted[i] || last) continue;
    store_.prune_run(
        ids[i], fmt::format("pruned at {}rung {} (epoch {} of {}): {} {}, rank {} of {}; "
                            "{} promoted",
                            spec_.hyperband ? fmt::format("bracket {} ", bracket_ + 1) : "", rung,
                            budget, spec_.max_epochs, spec_.metric,
                            candidates[i].metric ? fmt::format("{:.4f}", *candidates[i].metric)
                                                 : "none (diverged)",
                            decision.rank[i], group_size[i], promote[i]));
    ++summary_.pruned;
  }
  store_.record_rung(sweep_id, rung, rows, bracket_);
  fmt::print(options_.progress, "{}: rung {} ({}) decided: {} of {} {}\n", label(), rung,
             epochs_text(budget), next.size(), alive.size(), last ? "selected" : "promoted");
  alive = std::move(next);
  return true;
}

}  // namespace

RungDecision decide_rung(const std::vector<RungCandidate>& candidates, bool maximize, int promote) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const RungCandidate& x = candidates[a];
    const RungCandidate& y = candidates[b];
    if (x.metric.has_value() != y.metric.has_value()) return x.metric.has_value();
    if (x.metric && *x.metric != *y.metric)
      return maximize ? *x.metric > *y.metric : *x.metric < *y.metric;
    return x.key < y.key;
  });
  RungDecision decision{std::vector<int>(candidates.size()),
                        std::vector<bool>(candidates.size(), false)};
  for (size_t r = 0; r < order.size(); ++r) {
    decision.rank[order[r]] = static_cast<int>(r) + 1;
    decision.promoted[order[r]] = static_cast<int>(r) < promote;
  }
  return decision;
}

std::string group_of(const RunConfig& run, const std::vector<std::string>& per) {
  std::string group;
  for (const std::string& setting : per)
    group += fmt::format(
        "{}{}={}", group.empty() ? "" : " ", setting,
        setting == "architecture" ? run.architecture : std::string(to_string(run.optimizer.kind)));
  return group;
}

int promoted_count(int candidates, int reduction) {
  return std::max(1, candidates / std::max(1, reduction));
}

SweepSummary run_halving(const Sweep& sweep, const Dataset& data, Store& store,
                         const RunnerOptions& options) {
  return Halving(sweep, data, store, options).run();
}

}  // namespace lenetlab
