// `lenetlab query same-data A B`: whether two runs trained on the same data, epoch by epoch, from
// the data hash each epoch row records (epochs.data_hash).
#include <fmt/format.h>

#include <map>
#include <utility>

#include "query/query.hpp"

namespace lenetlab {

namespace {

/// "run 3 (lenet5/sgd lr=0.01 bs=64 seed=1)".
std::string label(const RunRow& run) { return fmt::format("run {} ({})", run.id, run.name); }

/// Epoch number -> data hash ("" when not known) of a run's recorded epochs.
std::map<int, std::string> hashes(const ResultsReader& reader, int64_t run) {
  std::map<int, std::string> out;
  for (const EpochRecord& e : reader.epochs(run)) out[e.epoch] = e.data_hash;
  return out;
}

}  // namespace

SameData query_same_data(const ResultsReader& reader_a, const std::string& run_a,
                         const ResultsReader& reader_b, const std::string& run_b) {
  const RunRow a = reader_a.run(reader_a.resolve_run(run_a));
  const RunRow b = reader_b.run(reader_b.resolve_run(run_b));
  std::map<int, std::pair<std::string, std::string>> epochs;
  for (const auto& [epoch, hash] : hashes(reader_a, a.id)) epochs[epoch].first = hash;
  for (const auto& [epoch, hash] : hashes(reader_b, b.id)) epochs[epoch].second = hash;

  SameData r;
  r.table.columns = {"epoch", "data_hash_a", "data_hash_b", "same"};
  int first_different = 0;
  for (const auto& [epoch, pair] : epochs) {
    const auto& [ha, hb] = pair;
    std::vector<Value>& row = r.table.rows.emplace_back();
    row.push_back(static_cast<int64_t>(epoch));
    row.push_back(ha.empty() ? Value{} : Value{ha});
    row.push_back(hb.empty() ? Value{} : Value{hb});
    if (ha.empty() || hb.empty()) {
      ++r.unknown;
      row.push_back(Value{});
    } else if (ha == hb) {
      ++r.same;
      row.push_back(Value{std::string("yes")});
    } else {
      if (r.different++ == 0) first_different = epoch;
      row.push_back(Value{std::string("no")});
    }
  }
  r.datasets_differ =
      a.dataset_sha256 && b.dataset_sha256 && *a.dataset_sha256 != *b.dataset_sha256;

  std::vector<std::string>& notes = r.table.notes;
  notes.push_back(fmt::format("a = {}, b = {}", label(a), label(b)));
  if (r.datasets_differ)
    notes.push_back(fmt::format(
        "the runs' datasets differ (SHA-256 {} and {}): equal hashes do not mean equal images",
        *a.dataset_sha256, *b.dataset_sha256));
  if (r.unknown > 0)
    notes.push_back(fmt::format(
        "{} epoch(s) not compared: recorded by one run only, or without a data hash (rows written "
        "before schema version 6)",
        r.unknown));
  if (r.different > 0)
    notes.push_back(fmt::format("different data in {} of {} compared epoch(s), from epoch {}",
                                r.different, r.different + r.same, first_different));
  else if (r.same > 0 && !r.datasets_differ)
    notes.push_back(fmt::format(
        "the same data in all {} compared epoch(s): the same images, in the same order, with the "
        "same distortions",
        r.same));
  else if (r.same == 0)
    notes.push_back("no epoch could be compared");
  return r;
}

}  // namespace lenetlab
