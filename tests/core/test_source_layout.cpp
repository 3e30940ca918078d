// Rules on the source tree itself, checked on every framework/ header and .cpp file:
//  - include layering: a module includes only itself and modules below it, in the order
//      core -> config, data, stats -> nn, optim -> train -> store
//           -> sweep, query, report, bench, predict -> slurm -> cli
//    (modules on one level are peers and do not include each other);
//  - no file over 600 lines.
// Known exceptions are listed below, each with a reason, so that they show; one that is no longer
// needed is reported (a message, not a failure: the owners shrinking those files land on their own).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kFramework = fs::path(LENETLAB_SOURCE_DIR) / "framework";

/// Each module's level: a file may include modules of a lower level, and its own module.
const std::map<std::string, int> kLevels = {
    {"core", 0},   {"config", 1}, {"data", 1},    {"stats", 1}, {"nn", 2},
    {"optim", 2},  {"train", 3},  {"store", 4},   {"sweep", 5}, {"query", 5},
    {"report", 5}, {"bench", 5},  {"predict", 5}, {"slurm", 6}, {"cli", 7},
};

/// Includes that break the layering: "file -> included header", each with its reason (none today).
const std::set<std::string> kKnownLayeringExceptions = {};

/// Files over the 600-line limit, each with its reason (none today).
const std::set<std::string> kKnownLongFiles = {};
constexpr int kMaxLines = 600;

struct Source {
  std::string relative;  ///< e.g. "nn/pool.cpp"
  std::string module;    ///< e.g. "nn"
  fs::path path;
};

std::vector<Source> framework_sources() {
  std::vector<Source> sources;
  for (const auto& entry : fs::recursive_directory_iterator(kFramework)) {
    const fs::path& path = entry.path();
    if (!entry.is_regular_file() || (path.extension() != ".cpp" && path.extension() != ".hpp"))
      continue;
    const fs::path relative = fs::relative(path, kFramework);
    sources.push_back({relative.generic_string(), relative.begin()->string(), path});
  }
  return sources;
}

/// The project headers a file includes ("nn/layer.hpp"), from its `#include "..."` lines.
std::vector<std::string> project_includes(const fs::path& path) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> found;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, include)) found.push_back(m[1]);
  }
  return found;
}

int count_lines(const fs::path& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

}  // namespace

TEST_CASE("source layout: every framework/ module has a level") {
  const std::vector<Source> sources = framework_sources();
  REQUIRE(sources.size() > 50);  // the tree was found
  std::set<std::string> unknown;
  for (const Source& s : sources)
    if (!kLevels.count(s.module)) unknown.insert(s.module);
  CHECK_MESSAGE(unknown.empty(),
                "modules without a level in kLevels: ", doctest::toString(unknown.size()),
                " (first: ", unknown.empty() ? "" : *unknown.begin(), ")");
}

TEST_CASE(
    "source layout: includes follow core -> config, data -> nn, optim -> train -> store -> "
    "sweep, query, report, bench -> cli") {
  std::set<std::string> violations;
  for (const Source& s : framework_sources()) {
    const auto level = kLevels.find(s.module);
    if (level == kLevels.end()) continue;
    for (const std::string& header : project_includes(s.path)) {
      const std::string target = header.substr(0, header.find('/'));
      if (header.find('/') == std::string::npos || target == s.module) continue;
      const auto target_level = kLevels.find(target);
      if (target_level == kLevels.end()) continue;  // not a framework module (a generated file)
      if (target_level->second < level->second) continue;
      violations.insert(s.relative + " -> " + header);
    }
  }
  for (const std::string& v : violations) {
    CAPTURE(v);
    CHECK_MESSAGE(kKnownLayeringExceptions.count(v) == 1,
                  "include against the layering (move the shared part down, or list it with a "
                  "reason in kKnownLayeringExceptions)");
  }
  for (const std::string& known : kKnownLayeringExceptions)
    if (violations.count(known) == 0)
      MESSAGE("fixed, remove from kKnownLayeringExceptions: ", known);
}

TEST_CASE("source layout: no framework/ file over 600 lines") {
  std::set<std::string> long_files;
  for (const Source& s : framework_sources()) {
    const int lines = count_lines(s.path);
    if (lines <= kMaxLines) continue;
    long_files.insert(s.relative);
    CAPTURE(s.relative);
    CAPTURE(lines);
    CHECK_MESSAGE(
        kKnownLongFiles.count(s.relative) == 1,
        "over 600 lines: split it by concern (or list it with a reason in kKnownLongFiles)");
  }
  for (const std::string& known : kKnownLongFiles)
    if (long_files.count(known) == 0)
      MESSAGE("within 600 lines now, remove from kKnownLongFiles: ", known);
}
