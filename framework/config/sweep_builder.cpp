#include "config/sweep_builder.hpp"

#include "config/architecture_loader.hpp"
#include "config/search_path.hpp"

namespace lenetlab::sweep_detail {

namespace fs = std::filesystem;

const ArchSpec& RunBuilder::architecture(const YAML::Node& v) {
  const std::string& name = v.Scalar();
  const auto cached = cache_.find(name);
  if (cached != cache_.end()) return cached->second;
  if (name.empty()) r_.fail(v, "empty architecture name");
  std::string target = name;
  if (yaml::looks_like_path(name)) {
    const fs::path path(name);
    if (path.is_relative()) target = (sweep_dir_ / path).string();
  }
  ArchSpec arch = load_architecture(find_architecture(target, r_.at(v)));
  return cache_.emplace(name, std::move(arch)).first->second;
}

}  // namespace lenetlab::sweep_detail
