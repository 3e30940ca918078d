// Checkpoints of a run: its parameters and, for resuming, the whole training state.
//
// File format (little-endian), version 1:
//   offset 0   8 bytes   magic "LNLCKPT1"
//   offset 8   u64       header length H
//   offset 16  H bytes   header, JSON (UTF-8): {"format": 1, "run_key", "kind", "epoch",
//                        "weights_hash", "arrays": [{"name", "type": "f32"|"i64"|"u64",
//                        "count"}...], plus kind-specific scalars (optimizer steps, early-stopping
//                        state)}
//   then       the arrays listed in the header, in order, raw (f32: 4 bytes, i64/u64: 8 bytes each)
//   last 8     u64       XXH3-64 of every byte before it
// Files are written to "<name>.tmp", flushed and renamed, so a crash never leaves a torn file under
// the final name. Readers check magic, sizes and the checksum before using anything.
//
// Location: <directory of the results database>/checkpoints/<run key>/{last,best,final}.ckpt
//   last   full training state after the last completed epoch (deleted when the run ends)
//   best   parameters of the best epoch (early stopping with restore_best_weights)
//   final  parameters the test metrics were computed with (what `lenetlab evaluate` reloads)
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/records.hpp"

namespace lenetlab {

/// Everything the training loop needs to continue after `epoch` exactly as if never stopped.
struct TrainState {
  std::string run_key;
  std::string kind = "last";  ///< last | best | final
  int epoch = 0;              ///< completed epochs
  std::string weights_hash;   ///< of `params` (Network::weights_hash)
  std::vector<std::vector<float>>
      params;  ///< every parameter incl. BN running statistics, layer order
  // The rest is present only in "last" checkpoints.
  int64_t optimizer_steps = 0;
  std::vector<std::vector<float>> optimizer_state;  ///< Optimizer::state()
  std::array<uint64_t, 4> shuffle_rng{};
  std::vector<std::array<uint64_t, 4>> layer_rngs;  ///< dropout streams, layer order
  std::vector<int64_t> train_order;                 ///< current (shuffled) training indices
  std::vector<int64_t> val_indices;
  std::optional<double> stopper_best;
  int stopper_best_epoch = 0;
  int stopper_wait = 0;
  std::optional<double> best_val_accuracy;
  std::optional<int> best_epoch;
  std::optional<std::vector<std::vector<float>>> best_params;  ///< restore_best_weights snapshot
  /// The epoch's row as recorded. The checkpoint is written before the row is committed, so a run
  /// killed between the two restores the row from here on resume (and a committed row always has
  /// its checkpoint: resuming never drops a row). Absent in checkpoints written before it existed.
  std::optional<EpochRecord> record;
};

/// Writes atomically (tmp + rename). Throws Error naming the path on I/O failure.
void save_checkpoint(const std::filesystem::path& path, const TrainState& state);
/// Reads and verifies. Throws Error naming the path and the problem (bad magic, truncated, checksum
/// mismatch, malformed header).
TrainState load_checkpoint(const std::filesystem::path& path);
/// Only the header fields (run_key, kind, epoch, weights_hash), after verifying the checksum.
TrainState read_checkpoint_header(const std::filesystem::path& path);

/// <db directory>/checkpoints/<key>
std::filesystem::path checkpoint_dir(const std::filesystem::path& db, const std::string& run_key);

}  // namespace lenetlab
