// libFuzzer target: lenetlab::read_idx_images on an image file and a label file cut from the input
// (ci/fuzz.sh runs it). A DataError is the expected answer to bad input; anything else escaping, a
// crash, a sanitizer report or a hang is a bug.
//
// Input layout (seeds: tests/fuzz/corpus/fuzz_idx/, made by tests/fuzz/make_seeds.sh):
//   byte 0      num_classes - 1 (so 1..256)
//   byte 1      bit 0 set: the files are named *.gz (the reader then inflates them with zlib)
//   bytes 2-3   big-endian length of the image file (cut to what is left)
//   then        the image file's bytes, then the label file's bytes (the rest).
// The files are written to a private scratch directory per process (fuzz_file.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "data/loaders.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int num_classes = data[0] + 1;
  const bool gzip = (data[1] & 1) != 0;
  const size_t image_size = std::min<size_t>((size_t{data[2]} << 8) | data[3], size - 4);
  const uint8_t* images = data + 4;
  const uint8_t* labels = images + image_size;
  const size_t label_size = size - 4 - image_size;

  const auto& dir = lenetlab::fuzz::scratch_dir();
  const auto image_file = dir / (gzip ? "images.idx3.gz" : "images.idx3");
  const auto label_file = dir / (gzip ? "labels.idx1.gz" : "labels.idx1");
  lenetlab::fuzz::write_file(image_file, images, image_size);
  lenetlab::fuzz::write_file(label_file, labels, label_size);
  try {
    const lenetlab::ImageSet set = lenetlab::read_idx_images(image_file, label_file, num_classes);
    // What a successful read promises.
    if (set.n < 1 || set.rows < 1 || set.cols < 1 ||
        set.images.size() != static_cast<size_t>(set.n * set.rows * set.cols) ||
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
