// A recorded run's saved weights loaded into a network, for inference after training: `lenetlab
// evaluate` (sweep/replay) and `lenetlab predict` (predict/).
#pragma once

#include <filesystem>
#include <string>

#include "train/checkpoint.hpp"

namespace lenetlab {

class Network;

/// Loads checkpoint `kind` (final or best) of run `run_key` from `run_dir` (checkpoint_dir) into
/// `net`, which must be built from the run's architecture. `run_name` (e.g. "run 3") names the run
/// in messages. Returns the checkpoint (its epoch and weights hash; params as loaded).
/// Throws Error when the file is missing (saying when each kind is written), unreadable
/// (load_checkpoint), of another run, holds tensors of other counts or sizes than `net` (naming
/// both), or its weights do not hash to the value in its header.
TrainState load_run_weights(const std::filesystem::path& run_dir, const std::string& run_key,
                            const std::string& run_name, CheckpointKind kind, Network& net);

}  // namespace lenetlab
