// Re-executing stored runs: `lenetlab verify` (bit-for-bit reproduction of every recorded epoch)
// and `lenetlab evaluate` (reloading a run's final checkpoint and evaluating it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/records.hpp"
#include "data/dataset.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"

namespace lenetlab {

/// A run as recorded in the results database.
struct StoredRun {
  int64_t id = 0;
  std::string key, name;
  RunStatus status = RunStatus::queued;
  RunConfig config;
  int threads = 1;
  std::string isa, onednn_version, dataset_sha256, weights_hash;
  std::vector<EpochRecord> epochs;
  std::optional<double> test_loss, test_accuracy;
};

/// Loads run RUN (id, key or unique key prefix; ResultsReader::resolve_run) with its epochs. Throws
/// Error when it does not exist or the prefix is ambiguous, and when its config_json does not parse.
StoredRun load_stored_run(const ResultsReader& reader, const std::string& run);

/// Differences between the recorded conditions of `run` and this process (ISA, oneDNN version,
/// dataset checksum); empty when a bit-for-bit reproduction is possible here.
std::vector<std::string> condition_differences(const StoredRun& run, const Dataset& data);

struct VerifyResult {
  bool matched = false;
  int epochs_compared = 0;
  int mismatches = 0;
  std::string details_json;  ///< [{epoch, metric, stored, reproduced}] of the differences
};

/// The engine version that computed `run`: "2" for a run of the engine 2 setting, else "1"
/// (every run of engine 1 was computed by engine version 1: the database keeps no version column).
std::string recorded_engine_version(const StoredRun& run);

/// Re-trains `run` from its stored configuration (in a temporary checkpoint directory) with
/// `threads` OpenMP threads (0: its recorded thread count) and compares every stored epoch metric
/// (train/val loss and accuracy, learning rate), each epoch's data hash when recorded (rows written
/// before schema version 6 have none), the test loss/accuracy and the weights hash with ==. Prints
/// a per-epoch table to `out` and records the verification in the database. Throws Error before
/// training when the recorded conditions cannot be met here, unless `force`; and, whatever
/// `force`, when this build would compute the run with another engine version than the recorded
/// one, or when `threads` differs from the recorded count of a run whose engine version depends on
/// it (engine 1).
VerifyResult verify_run(Store& store, const StoredRun& run, const Dataset& data, bool force,
                        std::FILE* out, int threads = 0);

/// Reloads the run's final (or best) checkpoint, evaluates it on `data`'s test images (the run's
/// test_limit applies when `data` is the run's dataset) with the recorded thread count, prints the
/// metrics and whether they equal the stored ones exactly. Returns the metrics.
EvalMetrics evaluate_run(const ResultsReader& reader, const StoredRun& run, const Dataset& data,
                         const std::string& checkpoint, std::FILE* out);

}  // namespace lenetlab
