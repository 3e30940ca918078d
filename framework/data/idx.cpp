// IDX reader (the format of the MNIST distribution: http://yann.lecun.com/exdb/mnist/, section
// "FILE FORMATS FOR THE MNIST DATABASE"). Every size is checked against the header before use.
#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "data/loaders.hpp"

namespace lenetlab {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr int64_t kImagesHeaderBytes = 16;     // magic, count, rows, cols
constexpr int64_t kLabelsHeaderBytes = 8;      // magic, count
constexpr uint32_t kMaxSide = 4096;            // anything larger is not an image file we read

bool is_gzip_path(const std::filesystem::path& path) { return path.extension() == ".gz"; }

/// Owns a gzFile; closes it on destruction.
struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

/// Largest IDX content read (compressed or not): far above MNIST's 47 MB, far below memory.
constexpr std::uintmax_t kMaxIdxBytes = std::uintmax_t{1} << 31;  // 2 GiB

/// Decompressed content of the gzip file `path`, at most kMaxIdxBytes.
std::vector<uint8_t> read_gzip(const std::filesystem::path& path) {
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  gzbuffer(file.get(), 1 << 20);
  constexpr size_t kChunk = 1 << 20;
  std::vector<uint8_t> bytes;
  for (;;) {
    size_t old_size = bytes.size();
    if (old_size > kMaxIdxBytes) {
      throw DataError(fmt::format("{}: decompressed data larger than the limit of {} bytes",
                                  path.string(), kMaxIdxBytes));
    }
    bytes.resize(old_size + kChunk);
    int got = gzread(file.get(), bytes.data() + old_size, kChunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw DataError(fmt::format("{}: corrupt gzip data: {}", path.string(), message));
    }
    bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // gzclose_r reports a truncated stream (Z_BUF_ERROR) that gzread may have let pass.
  if (int rc = gzclose_r(file.release()); rc != Z_OK) {
    throw DataError(
        fmt::format("{}: corrupt or truncated gzip data (zlib error {})", path.string(), rc));
  }
  return bytes;
}

/// Whole content of `path`; a ".gz" path is decompressed. `check` (when set) sees it first.
/// Throws DataError if unreadable, corrupt or larger than kMaxIdxBytes.
std::vector<uint8_t> read_bytes(const std::filesystem::path& path, const IdxContentCheck& check) {
  std::vector<uint8_t> bytes;
  if (is_gzip_path(path)) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw DataError(fmt::format("{}: file not found (or not a regular file)", path.string()));
    }
    bytes = read_gzip(path);
  } else {
    try {
      std::string text = read_file(path, kMaxIdxBytes);
      bytes.assign(text.begin(), text.end());
    } catch (const FileError& e) {
      throw DataError(e.what());
    }
  }
  if (check) check(path, bytes);
  return bytes;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

/// Human hint for a wrong magic number: what the file probably is instead.
std::string magic_hint(uint32_t found) {
  if (found == kImagesMagic) return " (this is an IDX3 image file)";
  if (found == kLabelsMagic) return " (this is an IDX1 label file)";
  if ((found >> 16) == 0x1f8b)
    return " (gzip-compressed data; decompress it or use a .gz file name)";
  return "";
}

/// Checks that `bytes` holds at least an IDX header of `header_bytes` with the given magic.
void check_header(const std::filesystem::path& path, const std::vector<uint8_t>& bytes,
                  int64_t header_bytes, uint32_t magic, const char* kind) {
  const std::string size_note = is_gzip_path(path) ? " (decompressed)" : "";
  if (bytes.empty()) {
    throw DataError(fmt::format("{}: empty file: expected an {} file (magic 0x{:08x})",
                                path.string(), kind, magic));
  }
  if (static_cast<int64_t>(bytes.size()) < header_bytes) {
    throw DataError(
        fmt::format("{}: truncated: expected at least the {}-byte {} header, found {} "
                    "bytes{}",
                    path.string(), header_bytes, kind, bytes.size(), size_note));
  }
  uint32_t found = big_endian_u32(bytes.data());
  if (found != magic) {
    throw DataError(fmt::format("{}: wrong magic number: expected 0x{:08x} ({}), found 0x{:08x}{}",
                                path.string(), magic, kind, found, magic_hint(found)));
  }
}

/// Checks that the file is exactly header + payload bytes long.
void check_length(const std::filesystem::path& path, size_t actual, int64_t expected,
                  const std::string& what) {
  const std::string size_note = is_gzip_path(path) ? " (decompressed)" : "";
  auto found = static_cast<int64_t>(actual);
  if (found < expected) {
    throw DataError(fmt::format("{}: truncated: expected {} bytes ({}), found {}{}", path.string(),
                                expected, what, found, size_note));
  }
  if (found > expected) {
    throw DataError(fmt::format("{}: trailing data: expected {} bytes ({}), found {}{} ({} extra)",
                                path.string(), expected, what, found, size_note, found - expected));
  }
}

}  // namespace

ImageSet read_idx_images(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int num_classes, const IdxContentCheck& check) {
  if (num_classes < 1 || num_classes > 256) {
    throw DataError(fmt::format("{}: num_classes must be in 1..256 (labels are bytes), got {}",
                                labels.string(), num_classes));
  }

  std::vector<uint8_t> image_bytes = read_bytes(images, check);
  check_header(images, image_bytes, kImagesHeaderBytes, kImagesMagic, "IDX3 unsigned-byte images");
  const uint32_t count = big_endian_u32(image_bytes.data() + 4);
  const uint32_t rows = big_endian_u32(image_bytes.data() + 8);
  const uint32_t cols = big_endian_u32(image_bytes.data() + 12);
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    throw DataError(
        fmt::format("{}: invalid image size: expected rows and cols in 1..{}, found {}x{}",
                    images.string(), kMaxSide, rows, cols));
  }
  if (count == 0) {
    throw DataError(
        fmt::format("{}: no images: expected a count of at least 1, found 0", images.string()));
  }
  const int64_t pixels = int64_t{rows} * cols;
  check_length(images, image_bytes.size(), kImagesHeaderBytes + int64_t{count} * pixels,
               fmt::format("{} images of {}x{}", count, rows, cols));

  std::vector<uint8_t> label_bytes = read_bytes(labels, check);
  check_header(labels, label_bytes, kLabelsHeaderBytes, kLabelsMagic, "IDX1 unsigned-byte labels");
  const uint32_t label_count = big_endian_u32(label_bytes.data() + 4);
  if (label_count != count) {
    throw DataError(fmt::format("{}: label count does not match {}: expected {} labels, found {}",
                                labels.string(), images.string(), count, label_count));
  }
  check_length(labels, label_bytes.size(), kLabelsHeaderBytes + int64_t{label_count},
               fmt::format("{} labels", label_count));

  for (size_t i = kLabelsHeaderBytes; i < label_bytes.size(); ++i) {
    if (label_bytes[i] >= num_classes) {
      throw DataError(fmt::format("{}: label {} at index {} is out of range: expected 0..{}",
                                  labels.string(), label_bytes[i], i - kLabelsHeaderBytes,
                                  num_classes - 1));
    }
  }

  ImageSet set;
  set.n = count;
  set.rows = static_cast<int>(rows);
  set.cols = static_cast<int>(cols);
  // Drop the headers in place instead of copying the payload.
  image_bytes.erase(image_bytes.begin(), image_bytes.begin() + kImagesHeaderBytes);
  label_bytes.erase(label_bytes.begin(), label_bytes.begin() + kLabelsHeaderBytes);
  set.images = std::move(image_bytes);
  set.labels = std::move(label_bytes);
  return set;
}

}  // namespace lenetlab
