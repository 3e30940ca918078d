// The JavaScript libraries the HTML report inlines so that it renders offline: Vega, Vega-Lite and
// vega-embed, pinned to exact npm versions and SHA-256 sums of their UMD builds, fetched with the
// shared pinned-package fetcher (data/pinned_package.hpp).
//
// Location: $LENETLAB_ASSETS_DIR if set, else the sibling "assets" of the dataset cache
// (<XDG cache>/lenetlab/assets, see data/loaders.hpp dataset_cache_dir). The files are named as in
// their packages: vega.min.js, vega-lite.min.js, vega-embed.min.js.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "data/pinned_package.hpp"

namespace lenetlab {

/// The three libraries, in the order they must be loaded (vega-embed needs vega and vega-lite):
/// package/build/<file> of each package, installed as <file>.
/// Sums computed from `npm pack vega@6.4.0 vega-lite@6.5.0 vega-embed@7.3.0`.
inline constexpr std::array<PinnedFile, 3> kReportAssetPins = {{
    {"vega", "6.4.0", "build/vega.min.js",
     "8f6a3587cf8d4f42c7e08120e3eb05d067e746d554e39d2dcf52acc0bd5ba28f", "vega.min.js"},
    {"vega-lite", "6.5.0", "build/vega-lite.min.js",
     "83e215e84e308ee8688fa6503ba0f1cf8a3c05c0d61df2841a0b92bf86809e00", "vega-lite.min.js"},
    {"vega-embed", "7.3.0", "build/vega-embed.min.js",
     "b1455caba2fb1a72fb46025ba0ba1316e2dbc7f0dd40a3f6040172bf9c08ba91", "vega-embed.min.js"},
}};

/// Default assets directory: $LENETLAB_ASSETS_DIR when set and not empty, else
/// dataset_cache_dir(data_dir_override).parent_path() / "assets".
std::filesystem::path default_assets_dir(const std::filesystem::path& data_dir_override = {});

/// Where a report reads the libraries from: $LENETLAB_ASSETS_DIR when set and not empty; else
/// default_assets_dir(data_dir_override) when it holds vega.min.js; else <installed data
/// dir>/assets (config/search_path.hpp installed_data_dir: `cmake --install` copies the fetched
/// libraries there) when it holds it; else default_assets_dir (load_report_assets then names
/// `lenetlab report --fetch-assets`).
std::filesystem::path report_assets_dir(const std::filesystem::path& data_dir_override = {});

/// Text of the three libraries, in kReportAssetPins order.
struct ReportAssets {
  std::string vega;
  std::string vega_lite;
  std::string vega_embed;
};

/// Reads the three files from `dir` (at most 16 MiB each). With `verify` (the default) each file's
/// SHA-256 must equal its pin; tests pass false to use small stand-in files.
/// Throws lenetlab::Error when a file is missing (naming `lenetlab report --fetch-assets`), its
/// checksum differs from the pin, or it cannot be read (FileError).
ReportAssets load_report_assets(const std::filesystem::path& dir, bool verify = true);

/// Installs the pinned files into `dir` with fetch_pinned_files (data/pinned_package.hpp: npm pack,
/// tar, SHA-256 check, atomic install; files already present and verified are kept). Prints one
/// line per file to stderr. Throws DataError as fetch_pinned_files.
void fetch_report_assets(const std::filesystem::path& dir);

}  // namespace lenetlab
