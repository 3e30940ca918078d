#include "train/run_weights.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "nn/network.hpp"

namespace lenetlab {

TrainState load_run_weights(const std::filesystem::path& run_dir, const std::string& run_key,
                            const std::string& run_name, CheckpointKind kind, Network& net) {
  const std::filesystem::path file = checkpoint_path(run_dir, kind);
  if (!std::filesystem::exists(file))
    throw Error(
        fmt::format("{} has no {} checkpoint ({} is missing; checkpoints are written "
                    "when a run ends{})",
                    run_name, to_string(kind), file.string(),
                    kind == CheckpointKind::best ? " with restore_best_weights" : ""));
  TrainState state = load_checkpoint(file);
  if (state.run_key != run_key)
    throw Error(fmt::format("checkpoint {} belongs to run {}, not {}", file.string(), state.run_key,
                            run_key));
  auto params = net.params();
  if (state.params.size() != params.size())
    throw Error(fmt::format("checkpoint {} has {} tensors, the architecture {}", file.string(),
                            state.params.size(), params.size()));
  for (size_t i = 0; i < params.size(); ++i)
    if (int64_t(state.params[i].size()) != params[i]->size)
      throw Error(fmt::format("checkpoint {}: tensor {} has {} values, {} expects {}",
                              file.string(), i, state.params[i].size(), params[i]->name,
                              params[i]->size));
  net.restore(state.params);
  if (net.weights_hash() != state.weights_hash)
    throw Error(fmt::format("checkpoint {}: weights hash {} does not match its header {}",
                            file.string(), net.weights_hash(), state.weights_hash));
  return state;
}

}  // namespace lenetlab
