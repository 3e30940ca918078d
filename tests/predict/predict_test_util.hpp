// Helpers of the predict tests: the lenetlab executable on a temporary results database, and
// reading and writing the files it works with.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_cli.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {

/// `lenetlab --db DIR/results.db ARGS...`, run in `dir`.
inline CliResult lenetlab_cli(const TempDir& dir, const std::vector<std::string>& args) {
  return run_cli(dir / "results.db", args, dir.path());
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline void spit(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << text;
}

/// The lines of `text` (without line breaks; no empty last line).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

}  // namespace lenetlab::test
