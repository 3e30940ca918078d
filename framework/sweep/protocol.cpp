#include "sweep/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "sweep/halving.hpp"

namespace lenetlab {

namespace {

const ProtocolSpec& spec_of(const Sweep& sweep) {
  if (!sweep.protocol) throw Error(fmt::format("sweep {} has no protocol", sweep.name));
  return *sweep.protocol;
}

/// A run of stage 1 that the protocol waits for no longer.
bool done(RunStatus status) { return is_final(status) || status == RunStatus::pruned; }

/// A setting's runs: their metrics and whether every one has one.
struct Setting {
  std::string first_key;
  double sum = 0;
  int runs = 0;
  bool eligible = true;
};

}  // namespace

std::vector<ProtocolChoice> select_settings(const std::vector<TuneRun>& runs, bool maximize) {
  // group -> setting -> its runs, settings in the order of their first run.
  std::map<std::string, std::vector<std::pair<std::string, Setting>>> groups;
  for (const TuneRun& run : runs) {
    auto& settings = groups[run.group];
    auto it = std::find_if(settings.begin(), settings.end(),
                           [&](const auto& s) { return s.first == run.setting; });
    if (it == settings.end()) {
      settings.push_back({run.setting, Setting{run.key, 0, 0, true}});
      it = std::prev(settings.end());
    }
    Setting& s = it->second;
    ++s.runs;
    if (run.metric && std::isfinite(*run.metric))
      s.sum += *run.metric;
    else
      s.eligible = false;
  }
  std::vector<ProtocolChoice> choices;
  for (const auto& [group, settings] : groups) {
    std::optional<ProtocolChoice> best;
    for (const auto& [id, s] : settings) {
      if (!s.eligible) continue;
      const double mean = s.sum / s.runs;
      const bool better =
          !best || (mean != best->metric ? (maximize ? mean > best->metric : mean < best->metric)
                                         : s.first_key < best->key);
      if (better) best = ProtocolChoice{group, s.first_key, mean, s.runs, 0};
    }
    if (!best) continue;
    best->settings = static_cast<int>(settings.size());
    choices.push_back(*best);
  }
  return choices;
}

Sweep tuning_sweep(const Sweep& sweep) {
  Sweep tune = sweep;
  tune.name = sweep.name + ".tune";
  tune.references.clear();  // published figures are test results: they belong to stage 2
  return tune;
}

Sweep replication_sweep(const Sweep& sweep, const std::vector<ProtocolChoice>& choices) {
  const ProtocolSpec& spec = spec_of(sweep);
  Sweep rep = sweep;
  rep.runs.clear();
  rep.sampled.clear();
  rep.bracket.clear();
  rep.search.reset();
  for (const ProtocolChoice& choice : choices) {
    for (size_t i = 0; i < sweep.runs.size(); ++i) {
      if (sweep.runs[i].key() != choice.key) continue;
      for (const uint64_t seed : spec.replicate_seeds) {
        RunConfig run = sweep.runs[i];
        run.seed = seed;
        run.validation_split = 0;
        run.evaluate_test = true;
        rep.runs.push_back(std::move(run));
        rep.sampled.push_back(sweep.sampled[i]);
      }
    }
  }
  return rep;
}

std::optional<std::vector<TuneRun>> read_tuning(const ResultsReader& reader, const Sweep& sweep) {
  const ProtocolSpec& spec = spec_of(sweep);
  std::vector<TuneRun> runs;
  for (const RunConfig& config : sweep.runs) {
    const std::string key = config.key();
    const std::optional<RunStatus> status = reader.run_status(key);
    if (!status || !done(*status)) return std::nullopt;
    RunConfig setting = config;
    setting.seed = 0;
    TuneRun run{key, group_of(config, spec.per), setting.key(), std::nullopt};
    if (is_completed(*status)) {
      // The last epoch's row: its validation metric (the selection sees nothing else).
      int last = 0;
      for (const EpochRecord& e : reader.epochs(reader.resolve_run(key))) {
        if (e.epoch < last) continue;
        last = e.epoch;
        run.metric = spec.maximizes() ? e.val_accuracy : e.val_loss;
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

std::optional<std::vector<ProtocolChoice>> stored_selection(const ResultsReader& reader,
                                                            const Sweep& sweep) {
  const auto runs = read_tuning(reader, sweep);
  if (!runs) return std::nullopt;
  return select_settings(*runs, spec_of(sweep).maximizes());
}

SweepSummary run_protocol(const Sweep& sweep, const Dataset& data, Store& store,
                          const RunnerOptions& options) {
  const ProtocolSpec& spec = spec_of(sweep);
  const Sweep tune = tuning_sweep(sweep);
  fmt::print(options.progress,
             "protocol: stage 1 (tune): {} runs as sweep {}, judged by {} on the validation "
             "split, the test set not evaluated\n",
             tune.runs.size(), tune.name, spec.metric);
  const bool halving = tune.search && tune.search->halving;
  SweepSummary total =
      halving ? run_halving(tune, data, store, options) : run_sweep(tune, data, store, options);
  if (options.cancel && options.cancel->load()) return total;
  std::optional<std::vector<ProtocolChoice>> choices;
  std::vector<SelectionRow> rows;
  {
    const ResultsReader reader(store.path());
    choices = stored_selection(reader, tune);
    if (choices)
      for (const ProtocolChoice& c : *choices)
        for (const RunConfig& run : tune.runs)
          if (run.key() == c.key)
            rows.push_back({c.group, reader.resolve_run(c.key), c.key, run.display_name(),
                            spec.metric, c.metric, c.tuning_runs, c.settings});
  }
  if (!choices) {
    fmt::print(options.progress,
               "protocol: stage 1 is not done (runs not final: see `lenetlab query runs --sweep "
               "{}`); stage 2 waits for its selection; run the sweep again to continue\n",
               tune.name);
    return total;
  }
  store.record_selection(store.upsert_sweep(sweep.name, sweep.file, sweep.yaml), rows);
  for (const SelectionRow& r : rows)
    fmt::print(options.progress,
               "protocol: selected for {}: {} ({} {:.4f}, mean of {}; {} settings)\n",
               r.group.empty() ? "all runs" : r.group, r.run_name, r.metric, r.metric_value,
               r.tuning_runs, r.settings);
  const Sweep rep = replication_sweep(sweep, *choices);
  fmt::print(options.progress,
             "protocol: stage 2 (replicate): {} runs as sweep {}, without the validation split, "
             "evaluated on the test set\n",
             rep.runs.size(), rep.name);
  const SweepSummary s2 = run_sweep(rep, data, store, options);
  total.add_counts(s2);
  total.total += s2.total;
  total.seconds += s2.seconds;
  return total;
}

}  // namespace lenetlab
