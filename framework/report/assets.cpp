#include "report/assets.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <system_error>

#include "core/error.hpp"
#include "config/search_path.hpp"
#include "core/files.hpp"
#include "data/loaders.hpp"
#include "data/sha256.hpp"

namespace lenetlab {

namespace fs = std::filesystem;

namespace {

/// Largest library read (vega.min.js 6.4.0 is about 0.5 MB).
constexpr std::uintmax_t kMaxAssetBytes = std::uintmax_t{16} << 20;

std::string missing_message(const fs::path& dir) {
  return fmt::format(
      "report assets (Vega-Lite) not found in {}; run `lenetlab report --fetch-assets` (needs npm) "
      "or ci/setup.sh",
      dir.string());
}

}  // namespace

fs::path default_assets_dir(const fs::path& data_dir_override) {
  if (const char* env = std::getenv("LENETLAB_ASSETS_DIR"); env != nullptr && *env != '\0')
    return fs::path(env);
  return dataset_cache_dir(data_dir_override).parent_path() / "assets";
}

fs::path report_assets_dir(const fs::path& data_dir_override) {
  if (const char* env = std::getenv("LENETLAB_ASSETS_DIR"); env != nullptr && *env != '\0')
    return fs::path(env);
  const std::string probe(kReportAssetPins[0].install_as);
  const fs::path installed = installed_data_dir();
  std::error_code ec;
  const bool installed_has =
      !installed.empty() && fs::is_regular_file(installed / "assets" / probe, ec);
  fs::path dir;
  try {
    dir = default_assets_dir(data_dir_override);
  } catch (const DataError&) {  // no cache directory: HOME unset (a batch job), say
    if (installed_has) return installed / "assets";
    throw;
  }
  if (fs::is_regular_file(dir / probe, ec) || !installed_has) return dir;
  return installed / "assets";
}

ReportAssets load_report_assets(const fs::path& dir, bool verify) {
  std::array<std::string, kReportAssetPins.size()> texts;
  for (size_t i = 0; i < kReportAssetPins.size(); ++i) {
    const PinnedFile& pin = kReportAssetPins[i];
    const fs::path file = dir / pin.install_as;
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
    texts[i] = read_file(file, kMaxAssetBytes);
  }
  return ReportAssets{std::move(texts[0]), std::move(texts[1]), std::move(texts[2])};
}

void fetch_report_assets(const fs::path& dir) {
  fetch_pinned_files(kReportAssetPins, dir, "assets");
}

}  // namespace lenetlab
