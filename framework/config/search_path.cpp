#include "config/search_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "config/yaml_reader.hpp"

namespace lenetlab {

namespace fs = std::filesystem;

namespace {

/// The lenetlab source tree, baked in by framework/config/CMakeLists.txt.
fs::path source_dir() {
#ifdef LENETLAB_SOURCE_DIR
  return LENETLAB_SOURCE_DIR;
#else
  return ".";
#endif
}

}  // namespace

fs::path installed_data_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path().filename() != "bin") return {};
  fs::path dir = exe.parent_path().parent_path() / "share" / "lenetlab";
  return fs::is_directory(dir, ec) ? dir : fs::path();
}

std::vector<fs::path> architecture_search_path() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("LENETLAB_ARCH_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(std::string(entry));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  const fs::path shipped = fs::path("experiments") / "architectures";
  dirs.push_back(shipped);
  if (const fs::path installed = installed_data_dir(); !installed.empty())
    dirs.push_back(installed / shipped);
  dirs.push_back(source_dir() / shipped);
  return dirs;
}

std::vector<std::string> available_architectures() {
  std::vector<std::string> names;
  for (const fs::path& dir : architecture_search_path()) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) {
        names.push_back(it->path().stem().string());
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

fs::path find_architecture(const std::string& name_or_path, const SourceMark& where) {
  std::error_code ec;
  if (yaml::looks_like_path(name_or_path)) {
    if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
    throw ConfigError(where, fmt::format("architecture file '{}' not found", name_or_path));
  }
  const std::vector<fs::path> dirs = architecture_search_path();
  for (const fs::path& dir : dirs) {
    fs::path candidate = dir / (name_or_path + ".yaml");
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  const std::vector<std::string> names = available_architectures();
  const yaml::Names views(names.begin(), names.end());
  std::string searched;
  for (const fs::path& dir : dirs) {
    if (!searched.empty()) searched += ':';
    searched += dir.string();
  }
  throw ConfigError(where, fmt::format("unknown architecture '{}'; available: {}{} (search path: "
                                       "{})",
                                       name_or_path, names.empty() ? "none" : yaml::join(views),
                                       yaml::suggestion(name_or_path, views), searched));
}

fs::path shipped_file(const fs::path& relative) {
  std::error_code ec;
  if (fs::exists(relative, ec)) return relative;
  if (const fs::path installed = installed_data_dir();
      !installed.empty() && fs::exists(installed / relative, ec))
    return installed / relative;
  return source_dir() / relative;
}

fs::path find_sweep(const std::string& name_or_path) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec) || yaml::looks_like_path(name_or_path))
    return name_or_path;
  const fs::path shipped = shipped_file(fs::path("sweeps") / (name_or_path + ".yaml"));
  return fs::is_regular_file(shipped, ec) ? shipped : fs::path(name_or_path);
}

}  // namespace lenetlab
