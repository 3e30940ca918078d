// libFuzzer target: lenetlab::read_csv on a file made from the input (ci/fuzz.sh runs it). A
// DataError is the expected answer to bad input; anything else escaping, a crash, a sanitizer
// report or a hang is a bug.
//
// Input layout (seeds: tests/fuzz/corpus/fuzz_csv/): byte 0 chooses the image size (255: the real
// 28x28; else rows 1 + (b & 7), cols 1 + ((b >> 3) & 7), small so that the fuzzer can write whole
// rows), byte 1 is num_classes - 1 (1..256), the rest is the CSV text. The file is written to a
// private scratch directory per process (fuzz_file.hpp).
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "data/loaders.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool mnist = data[0] == 255;
  const int rows = mnist ? 28 : 1 + (data[0] & 7);
  const int cols = mnist ? 28 : 1 + ((data[0] >> 3) & 7);
  const int num_classes = data[1] + 1;

  const auto file = lenetlab::fuzz::scratch_dir() / "data.csv";
  lenetlab::fuzz::write_file(file, data + 2, size - 2);
  try {
    const lenetlab::ImageSet set = lenetlab::read_csv(file, rows, cols, num_classes);
    // What a successful read promises.
    if (set.n < 1 || set.rows != rows || set.cols != cols ||
        set.images.size() != static_cast<size_t>(set.n * rows * cols) ||
        set.labels.size() != static_cast<size_t>(set.n)) {
      __builtin_trap();
    }
    for (const uint8_t label : set.labels) {
      if (label >= num_classes) __builtin_trap();
    }
  } catch (const lenetlab::DataError&) {
  }
  return 0;
}
