// The settings tables (config/run_settings.hpp) against their user document, sweeps/README.md:
// every key of base/recipes/grid has a row of the Settings table with its default, every
// optimizer and early_stopping key is documented, and the README documents no key that does not
// exist.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/run_settings.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;

std::string readme() {
  const fs::path path = fs::path(LENETLAB_SOURCE_DIR) / "sweeps" / "README.md";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The lines of `text` between the line starting with `from` and the next heading.
std::vector<std::string> section(const std::string& text, const std::string& from) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(from, 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && line.rfind("#", 0) == 0) break;
    if (inside) lines.push_back(line);
  }
  return lines;
}

/// The table rows of `lines` whose first cell is a `key`, by key.
std::map<std::string, std::string> rows_by_key(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> rows;
  for (const std::string& line : lines) {
    if (line.rfind("| `", 0) != 0) continue;
    const std::size_t end = line.find('`', 3);
    rows[line.substr(3, end - 3)] = line;
  }
  return rows;
}

TEST_CASE("run settings: sweeps/README.md has a row with the default of every setting") {
  const std::vector<std::string> lines = section(readme(), "### Settings");
  REQUIRE_FALSE(lines.empty());
  const auto rows = rows_by_key(lines);
  std::set<std::string> known;
  for (const SettingDoc& doc : run_setting_docs()) {
    CAPTURE(doc.name);
    known.insert(std::string(doc.name));
    const auto row = rows.find(std::string(doc.name));
    REQUIRE_MESSAGE(row != rows.end(), "no row for `" << doc.name << "` in sweeps/README.md");
    // The last cell is the default.
    const std::string& text = row->second;
    const std::size_t last = text.rfind('|', text.size() - 2);
    CHECK_MESSAGE(text.find(std::string(doc.default_value), last) != std::string::npos,
                  "default '" << doc.default_value << "' not in: " << text);
  }
  for (const auto& [key, line] : rows)
    CHECK_MESSAGE(known.count(key) == 1, "unknown key: " << line);
}

TEST_CASE("run settings: sweeps/README.md documents every optimizer key") {
  const std::vector<std::string> lines = section(readme(), "#### Optimizer hyper-parameters");
  REQUIRE_FALSE(lines.empty());
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  for (const SettingDoc& doc : optimizer_setting_docs()) {
    CAPTURE(doc.name);
    std::string quoted = "`";
    quoted += doc.name;
    quoted += '`';
    CHECK(text.find(quoted) != std::string::npos);
  }
}

TEST_CASE("run settings: sweeps/README.md has a row with the default of every early_stopping key") {
  const auto rows = rows_by_key(section(readme(), "#### Early stopping"));
  REQUIRE_FALSE(rows.empty());
  std::set<std::string> known;
  for (const SettingDoc& doc : early_stopping_setting_docs()) {
    CAPTURE(doc.name);
    known.insert(std::string(doc.name));
    const auto row = rows.find(std::string(doc.name));
    REQUIRE(row != rows.end());
    CHECK(row->second.find(std::string(doc.default_value)) != std::string::npos);
  }
  for (const auto& [key, line] : rows)
    CHECK_MESSAGE(known.count(key) == 1, "unknown key: " << line);
}

TEST_CASE("run settings: every key has a value description, a default and a doc line") {
  for (const auto& docs :
       {run_setting_docs(), optimizer_setting_docs(), early_stopping_setting_docs()}) {
    for (const SettingDoc& doc : docs) {
      CAPTURE(doc.name);
      CHECK_FALSE(doc.value.empty());
      CHECK_FALSE(doc.default_value.empty());
      CHECK_FALSE(doc.doc.empty());
    }
  }
}

}  // namespace
}  // namespace lenetlab
