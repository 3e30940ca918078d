#include "report/report.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"
#include "report/assets.hpp"
#include "report/html_view.hpp"
#include "report/model.hpp"
#include "store/store.hpp"

namespace lenetlab {

namespace fs = std::filesystem;
using namespace report;

namespace {

/// Opens the database read-only and checks it is a lenetlab database this code understands.
SQLite::Database open_readonly(const fs::path& db) {
  std::error_code ec;
  if (!fs::is_regular_file(db, ec))
    throw StoreError(
        fmt::format("results database {} does not exist (run `lenetlab run SWEEP.yaml` "
                    "first, or pass --db)",
                    db.string()));
  try {
    SQLite::Database database(db.string(), SQLite::OPEN_READONLY, 10000);
    const int version = database.execAndGet("PRAGMA user_version").getInt();
    if (version > kSchemaVersion)
      throw StoreError(fmt::format(
          "results database {} has schema version {}, newer than this lenetlab understands ({})",
          db.string(), version, kSchemaVersion));
    if (!database.tableExists("runs") || !database.tableExists("sweeps"))
      throw StoreError(fmt::format("{} is not a lenetlab results database (no runs/sweeps tables)",
                                   db.string()));
    return database;
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot read results database {}: {}", db.string(), e.what()));
  }
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
std::optional<double> opt_real(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

std::vector<SweepRow> read_sweeps(SQLite::Database& database) {
  std::vector<SweepRow> sweeps;
  SQLite::Statement q(database, "SELECT name, file, yaml, updated_at FROM sweeps ORDER BY name");
  while (q.executeStep())
    sweeps.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                      q.getColumn(2).getString(), q.getColumn(3).getString()});
  return sweeps;
}

std::vector<RunRow> read_runs(SQLite::Database& database, const std::string& sweep) {
  SQLite::Statement q(database, R"sql(
    SELECT r.id, r.key, s.name, r.name, r.architecture, r.optimizer, r.learning_rate, r.batch_size,
           r.epochs, r.seed, r.dataset, r.config_json, r.status, r.error, r.diverged_epoch,
           r.parameters, r.threads, r.host, r.cpu_model, r.isa, r.onednn_version, r.compiler,
           r.git_commit, r.dataset_sha256, r.seconds, r.epochs_completed, r.best_val_accuracy,
           r.test_accuracy
    FROM runs r JOIN sweeps s ON s.id = r.sweep_id
    WHERE ?1 = '' OR s.name = ?1
    ORDER BY r.id)sql");
  q.bind(1, sweep);
  std::vector<RunRow> runs;
  while (q.executeStep()) {
    RunRow r;
    int c = 0;
    r.id = q.getColumn(c++).getInt64();
    r.key = q.getColumn(c++).getString();
    r.sweep = q.getColumn(c++).getString();
    r.name = q.getColumn(c++).getString();
    r.architecture = q.getColumn(c++).getString();
    r.optimizer = q.getColumn(c++).getString();
    r.learning_rate = q.getColumn(c++).getDouble();
    r.batch_size = q.getColumn(c++).getInt64();
    r.epochs = q.getColumn(c++).getInt64();
    r.seed = q.getColumn(c++).getInt64();
    r.dataset = q.getColumn(c++).getString();
    r.config_json = q.getColumn(c++).getString();
    r.status = q.getColumn(c++).getString();
    r.error = opt_text(q.getColumn(c++));
    r.diverged_epoch = opt_int(q.getColumn(c++));
    r.parameters = opt_int(q.getColumn(c++));
    r.threads = opt_int(q.getColumn(c++));
    r.host = opt_text(q.getColumn(c++));
    r.cpu_model = opt_text(q.getColumn(c++));
    r.isa = opt_text(q.getColumn(c++));
    r.onednn_version = opt_text(q.getColumn(c++));
    r.compiler = opt_text(q.getColumn(c++));
    r.git_commit = opt_text(q.getColumn(c++));
    r.dataset_sha256 = opt_text(q.getColumn(c++));
    r.seconds = opt_real(q.getColumn(c++));
    r.epochs_completed = q.getColumn(c++).getInt64();
    r.best_val_accuracy = opt_real(q.getColumn(c++));
    r.test_accuracy = opt_real(q.getColumn(c++));
    runs.push_back(std::move(r));
  }
  return runs;
}

std::vector<EpochRow> read_epochs(SQLite::Database& database, int64_t run_id) {
  SQLite::Statement q(
      database,
      "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy FROM epochs "
      "WHERE run_id = ? ORDER BY epoch");
  q.bind(1, run_id);
  std::vector<EpochRow> epochs;
  while (q.executeStep())
    epochs.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getDouble(),
                      q.getColumn(2).getDouble(), opt_real(q.getColumn(3)),
                      opt_real(q.getColumn(4))});
  return epochs;
}

std::vector<ClassRow> read_class_metrics(SQLite::Database& database, int64_t run_id) {
  SQLite::Statement q(database,
                      "SELECT label, precision, recall, f1, support FROM class_metrics "
                      "WHERE run_id = ? ORDER BY label");
  q.bind(1, run_id);
  std::vector<ClassRow> rows;
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getDouble(),
                    q.getColumn(2).getDouble(), q.getColumn(3).getDouble(),
                    q.getColumn(4).getInt64()});
  return rows;
}

std::vector<ConfusionRow> read_confusion(SQLite::Database& database, int64_t run_id) {
  SQLite::Statement q(database,
                      "SELECT true_label, predicted_label, count FROM confusion WHERE run_id = ?");
  q.bind(1, run_id);
  std::vector<ConfusionRow> cells;
  while (q.executeStep())
    cells.push_back(
        {q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64()});
  return cells;
}

std::vector<PublishedRow> read_published(SQLite::Database& database, const std::string& sweep) {
  std::vector<PublishedRow> rows;
  if (!database.tableExists("published_results")) return rows;
  SQLite::Statement q(database, R"sql(
    SELECT s.name, p.architecture, p.test_accuracy, p.required_test_accuracy, p.source
    FROM published_results p JOIN sweeps s ON s.id = p.sweep_id
    WHERE ?1 = '' OR s.name = ?1 ORDER BY s.name, p.architecture)sql");
  q.bind(1, sweep);
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                    q.getColumn(2).getDouble(), q.getColumn(3).getDouble(),
                    q.getColumn(4).getString()});
  return rows;
}

std::string joined_names(const std::vector<SweepRow>& sweeps) {
  std::string names;
  for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
  return names.empty() ? "none" : names;
}

/// The rows of options.sweep (every sweep when empty). Throws Error when the sweep does not exist
/// or has no runs, naming the sweeps present.
ReportRows read_rows(SQLite::Database& database, const fs::path& db, const std::string& sweep) {
  ReportRows rows;
  rows.sweeps = read_sweeps(database);
  const std::string present = joined_names(rows.sweeps);
  if (!sweep.empty()) {
    const auto it = std::find_if(rows.sweeps.begin(), rows.sweeps.end(),
                                 [&](const SweepRow& s) { return s.name == sweep; });
    if (it == rows.sweeps.end())
      throw Error(fmt::format("sweep '{}' not found in {}; sweeps present: {}", sweep, db.string(),
                              present));
    rows.sweeps = {*it};
  }
  rows.runs = read_runs(database, sweep);
  if (rows.runs.empty())
    throw Error(sweep.empty() ? fmt::format("{} holds no runs (sweeps present: {}); run `lenetlab "
                                            "run SWEEP.yaml` first",
                                            db.string(), present)
                              : fmt::format("sweep '{}' has no runs in {}; sweeps present: {}",
                                            sweep, db.string(), present));
  // Only sweeps that contribute runs (a database may hold sweeps whose runs were never queued).
  std::set<std::string> used;
  for (const auto& r : rows.runs) used.insert(r.sweep);
  std::erase_if(rows.sweeps, [&](const SweepRow& s) { return !used.count(s.name); });
  for (const RunRow& r : rows.runs) rows.epochs.push_back(read_epochs(database, r.id));
  rows.published = read_published(database, sweep);
  return rows;
}

struct Rendered {
  std::string html;
  int64_t runs = 0;
};

Rendered render(const fs::path& db, const ReportOptions& options) {
  SQLite::Database database = open_readonly(db);
  try {
    ReportRows rows = read_rows(database, db, options.sweep);
    const ReportAssets assets =
        load_report_assets(options.assets_dir.empty() ? default_assets_dir() : options.assets_dir,
                           options.verify_assets);
    ReportModel model = build_report_model(std::move(rows), options.title);
    if (model.best) {
      const int64_t id = model.runs[model.best->run].id;
      set_best_run_details(model, read_class_metrics(database, id), read_confusion(database, id));
    }
    return Rendered{render_html(model, assets), static_cast<int64_t>(model.runs.size())};
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot read results database {}: {}", db.string(), e.what()));
  }
}

}  // namespace

std::vector<std::string> list_sweeps(const fs::path& db) {
  SQLite::Database database = open_readonly(db);
  try {
    std::vector<std::string> names;
    for (auto& s : read_sweeps(database)) names.push_back(std::move(s.name));
    return names;
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot read results database {}: {}", db.string(), e.what()));
  }
}

std::string render_report(const fs::path& db, const ReportOptions& options) {
  return render(db, options).html;
}

ReportSummary write_report(const fs::path& db, const ReportOptions& options) {
  if (options.output.empty()) throw Error("report: no output file given");
  const Rendered rendered = render(db, options);
  write_file_atomic(options.output, rendered.html, Durability::kSurvivePowerLoss);
  return ReportSummary{options.output, rendered.runs, rendered.html.size()};
}

}  // namespace lenetlab
