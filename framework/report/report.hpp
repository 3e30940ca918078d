// `lenetlab report`: a self-contained, offline HTML report of one sweep (or all sweeps) read from
// the results database (schema: store/schema.sql). The page inlines Vega, Vega-Lite and vega-embed
// (report/assets.hpp) and contains no external URL.
//
// Reading the rows, then report/model.hpp (configurations = runs equal but for the seed, test
// accuracy mean ± sample sd and Student-t 95 % CI over seeds, best run, environments, published
// results, bench runs), then report/html_view.hpp (the sections it lists).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lenetlab {

namespace report {
struct ReportModel;
struct ComparisonOptions;
}  // namespace report

struct ReportOptions {
  /// Sweep to report (sweeps.name). Empty: every sweep in the database (which is the only one for a
  /// database holding a single sweep).
  std::string sweep;
  /// HTML file to write; its parent directory must exist. Written atomically (temp name + rename).
  std::filesystem::path output;
  /// Page title. Empty: "lenetlab report: <sweep names>".
  std::string title;
  /// Directory with the pinned JS libraries. Empty: report_assets_dir() (report/assets.hpp).
  std::filesystem::path assets_dir;
  /// Check the libraries' SHA-256 against the pins. Only tests turn this off (stand-in files).
  bool verify_assets = true;
};

/// What write_report produced.
struct ReportSummary {
  std::filesystem::path output;
  int64_t runs = 0;          ///< runs included in the report.
  std::uintmax_t bytes = 0;  ///< size of the written file.
};

/// Renders the report of `db`, read through store/reader.hpp ResultsReader (read-only; a database
/// of an older schema version is first upgraded in place, as every reader does), to a string.
/// Throws StoreError as ResultsReader (missing, unreadable, newer schema); Error when it holds no
/// runs, or options.sweep names no sweep (the message lists the sweeps present), or the assets are
/// missing or fail verification.
std::string render_report(const std::filesystem::path& db, const ReportOptions& options);

/// render_report, then writes options.output with core/files.hpp write_file_atomic (temporary
/// name, fsync, rename, fsync of the directory: a power loss leaves the old or the new report).
/// Throws as render_report, and FileError when the file cannot be written.
ReportSummary write_report(const std::filesystem::path& db, const ReportOptions& options);

/// Names of the sweeps in `db`, sorted. Throws StoreError as render_report.
std::vector<std::string> list_sweeps(const std::filesystem::path& db);

/// The report model (report/model.hpp) of `sweep` in `db` (empty: every sweep) with its
/// comparisons computed by `comparison`: what `lenetlab compare` prints. An empty
/// comparison.targets takes the sweeps' `targets` keys, as the report does (merged over the
/// sweeps; report::kDefaultTargets for a sweep without the key). Throws as render_report (no
/// assets needed), and ConfigError for a stored `targets` value the sweep loader refuses.
report::ReportModel read_report_model(const std::filesystem::path& db, const std::string& sweep,
                                      const report::ComparisonOptions& comparison);

}  // namespace lenetlab
