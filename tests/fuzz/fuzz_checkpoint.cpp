// libFuzzer target: lenetlab::load_checkpoint on the input as a checkpoint file (ci/fuzz.sh runs
// it). A lenetlab::Error is the expected answer to bad input; anything else escaping, a crash, a
// sanitizer report, a hang or an allocation beyond the input's size is a bug.
//
// The checksum makes almost every mutation fail at the first check, so the input's last 8 bytes
// are replaced by the XXH3-64 of the rest before reading: the fuzzer then reaches the header and
// array parsing behind it. Seeds (tests/fuzz/corpus/fuzz_checkpoint/): last checkpoints in formats
// 1 and 2, best and final ones, and an array count of 2^60, in the layout of
// framework/train/checkpoint.hpp.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "fuzz_file.hpp"
#include "train/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 8) {
    const uint64_t sum = XXH3_64bits(bytes.data(), size - 8);
    std::memcpy(bytes.data() + size - 8, &sum, 8);
  }
  const auto file = lenetlab::fuzz::scratch_dir() / "last.ckpt";
  lenetlab::fuzz::write_file(file, bytes.data(), bytes.size());
  try {
    const lenetlab::TrainState s = lenetlab::load_checkpoint(file);
    // What a successful read promises: nothing larger than the file it came from.
    size_t floats = 0;
    for (const auto& p : s.params) floats += p.size();
    for (const auto& p : s.optimizer_state) floats += p.size();
    if (floats * 4 + (s.train_order.size() + s.val_indices.size()) * 8 > size) __builtin_trap();
    if (s.kind != lenetlab::CheckpointKind::last && !s.optimizer_state.empty()) __builtin_trap();
  } catch (const lenetlab::Error&) {
  }
  return 0;
}
