// Checkpoints of a run: its parameters and, for resuming, the whole training state together with
// the conditions its bits depend on.
//
// File format (little-endian), version 2:
//   offset 0   8 bytes   magic "LNLCKPT1"
//   offset 8   u64       header length H
//   offset 16  H bytes   header, JSON (UTF-8): {"format": 2, "run_key", "kind", "epoch",
//                        "weights_hash", "conditions": {"threads", "isa", "onednn_version",
//                        "engine_version", "engine_commit"}, "params": <count>,
//                        "arrays": [{"name", "type": "f32"|"i64"|"u64", "count"}...], plus
//                        kind-specific scalars (optimizer steps, early-stopping state, the epoch's
//                        record)}
//   then       the arrays listed in the header, in order, raw (f32: 4 bytes, i64/u64: 8 bytes each)
//   last 8     u64       XXH3-64 of every byte before it
// Version 1 (lenetlab 0.1.0 up to commit efcfb97) is the same without "conditions"; it is still
// read (TrainState::conditions is then absent).
//
// Files are replaced atomically and durably (core/files.hpp, Durability::kSurvivePowerLoss: a
// temporary name, fsync, rename, fsync of the directory), so a crash or power loss never leaves a
// torn file under the final name. Readers check the size (kMaxCheckpointBytes), magic, checksum,
// format version and every count against the file's length before using anything: a damaged or
// hostile file is an Error, never a crash or an allocation beyond the file's size.
//
// Location: <directory of the results database>/checkpoints/<run key>/{last,best,final}.ckpt
//   last   full training state after the last completed epoch (removed once the run's final
//          result is recorded)
//   best   parameters of the best epoch (early stopping with restore_best_weights)
//   final  parameters the test metrics were computed with (what `lenetlab evaluate` reloads)
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/records.hpp"
#include "train/early_stopping.hpp"
#include "train/run_conditions.hpp"

namespace lenetlab {

/// Newest format written; load_checkpoint reads 1 and 2.
inline constexpr int kCheckpointFormat = 2;
/// The engine version of every format-1 file: engine 1 wrote them (lenetlab up to efcfb97).
inline constexpr const char* kFormat1EngineVersion = "1";
/// Largest checkpoint file read (1 GiB; lenet-relu's last.ckpt with Adam and best weights is
/// about 20 MB). A larger file is refused before it is read.
inline constexpr std::uintmax_t kMaxCheckpointBytes = std::uintmax_t{1} << 30;

/// Which checkpoint of a run a file holds (see the file comment above).
enum class CheckpointKind { last, best, final };
/// "last", "best", "final".
const char* to_string(CheckpointKind kind);
/// Inverse of to_string; nullopt for any other name.
std::optional<CheckpointKind> checkpoint_kind_from_string(std::string_view name);
/// <run's checkpoint directory>/<kind>.ckpt
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, CheckpointKind kind);

/// Everything the training loop needs to continue after `epoch` exactly as if never stopped.
struct TrainState {
  std::string run_key;
  CheckpointKind kind = CheckpointKind::last;
  int epoch = 0;             ///< completed epochs
  std::string weights_hash;  ///< of `params` (Network::weights_hash)
  /// Under which conditions the parameters were computed; absent in format-1 files.
  std::optional<RunConditions> conditions;
  /// Every parameter incl. batch-norm running statistics, in layer order.
  std::vector<std::vector<float>> params;
  // The rest is present only in `last` checkpoints.
  int64_t optimizer_steps = 0;
  std::vector<std::vector<float>> optimizer_state;  ///< Optimizer::state()
  std::array<uint64_t, 4> shuffle_rng{};
  std::vector<std::array<uint64_t, 4>> layer_rngs;  ///< dropout streams, layer order
  std::vector<int64_t> train_order;                 ///< current (shuffled) training indices
  std::vector<int64_t> val_indices;
  EarlyStoppingState stopper;
  std::optional<double> best_val_accuracy;
  std::optional<int> best_epoch;
  std::optional<std::vector<std::vector<float>>> best_params;  ///< restore_best_weights snapshot
  /// The epoch's row as recorded. The checkpoint is written before the row is committed, so a run
  /// killed between the two restores the row from here on resume (and a committed row always has
  /// its checkpoint: resuming never drops a row). Absent in checkpoints written before it existed.
  std::optional<EpochRecord> record;
};

/// Writes `state` to `path` in format kCheckpointFormat (format 1 when it has no conditions),
/// atomically and durably; creates the directory. Throws Error (FileError) naming the path on I/O
/// failure.
void save_checkpoint(const std::filesystem::path& path, const TrainState& state);
/// Reads and verifies a format 1 or 2 file. Throws Error naming the path and the problem (missing,
/// too large, bad magic, truncated, checksum mismatch, newer format, malformed header, counts
/// beyond the file).
TrainState load_checkpoint(const std::filesystem::path& path);

/// Removes the temporary files a process killed while writing a checkpoint left in `run_dir`
/// (core/files.hpp AtomicFile: ".<name>.ckpt.partial-<pid>-<n>"). Call only while no other thread
/// or process writes this run's checkpoints (the run is claimed). Errors are ignored.
void remove_partial_checkpoints(const std::filesystem::path& run_dir);

/// <db directory>/checkpoints/<key>
std::filesystem::path checkpoint_dir(const std::filesystem::path& db, const std::string& run_key);

}  // namespace lenetlab
