// `lenetlab report [--sweep NAME] [-o PATH] [--title T] [--fetch-assets]`: writes the offline HTML
// report (report/report.hpp) of one sweep, or of every sweep in the database.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/assets.hpp"
#include "report/report.hpp"

namespace lenetlab {

namespace {

struct ReportCommandOptions {
  std::string sweep;
  std::filesystem::path output;
  std::string title;
  bool fetch_assets = false;
};

void run_report(const GlobalOptions& global, const ReportCommandOptions& cmd) {
  if (cmd.fetch_assets) {  // set-up step: fetch and verify, write no report
    const std::filesystem::path assets_dir = default_assets_dir(global.data_dir);
    fetch_report_assets(assets_dir);
    std::printf("report: assets ready in %s\n", assets_dir.string().c_str());
    return;
  }

  ReportOptions options;
  options.sweep = cmd.sweep;
  options.title = cmd.title;
  options.assets_dir = report_assets_dir(global.data_dir);
  options.output = cmd.output;
  if (options.output.empty()) {
    // Name the file after the sweep; a database holding a single sweep gets that sweep's name.
    std::string stem = cmd.sweep;
    if (stem.empty()) {
      const auto sweeps = list_sweeps(global.db);
      stem = sweeps.size() == 1 ? sweeps.front() : "all";
    }
    options.output = std::filesystem::path("reports") / (stem + ".html");
  }
  if (const auto parent = options.output.parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw Error(fmt::format("cannot create directory {}: {}", parent.string(), ec.message()));
  }

  const ReportSummary summary = write_report(global.db, options);
  std::printf("report: wrote %s (%lld runs, %.0f KiB)\n", summary.output.string().c_str(),
              static_cast<long long>(summary.runs), static_cast<double>(summary.bytes) / 1024.0);
}

}  // namespace

void add_report_command(CLI::App& app, GlobalOptions& global) {
  auto cmd = std::make_shared<ReportCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "report", "write a self-contained offline HTML report of a sweep (leaderboard, curves, ...)");
  sub->add_option("--sweep", cmd->sweep, "sweep name (default: every sweep in the database)");
  sub->add_option("-o,--output", cmd->output,
                  "HTML file to write (default reports/<sweep>.html, or reports/all.html)");
  sub->add_option("--title", cmd->title, "page title (default \"lenetlab report: <sweep>\")");
  sub->add_flag("--fetch-assets", cmd->fetch_assets,
                "download the pinned Vega-Lite libraries with npm into the assets directory "
                "($LENETLAB_ASSETS_DIR, else <cache>/lenetlab/assets) and verify them; writes no "
                "report");
  sub->callback([&global, cmd] { run_report(global, *cmd); });
}

}  // namespace lenetlab
