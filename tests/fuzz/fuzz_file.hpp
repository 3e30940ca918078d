// Helpers shared by the fuzz targets whose readers take file paths (fuzz_idx, fuzz_csv).
#pragma once

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace lenetlab::fuzz {

/// A private directory under the system temp directory for this process's scratch files, created on
/// first use and removed (with its files) at normal exit. One per process, so parallel fuzzing jobs
/// (-jobs/-workers) never share files.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "lenetlab-fuzz-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) __builtin_trap();
      path = pattern;
    }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

/// Replaces the content of `file` with `size` bytes at `data`.
inline void write_file(const std::filesystem::path& file, const uint8_t* data, size_t size) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) __builtin_trap();
}

}  // namespace lenetlab::fuzz
