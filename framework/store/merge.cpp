#include "store/merge.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <set>
#include <system_error>

#include "core/error.hpp"
#include "store/database.hpp"
#include "store/rows.hpp"

namespace lenetlab {

namespace fs = std::filesystem;
using detail::Session;

namespace {

constexpr std::chrono::milliseconds kMergeBusyTimeout{10000};

/// Statuses that end a run (core/records.hpp is_final), as an SQL list.
constexpr const char* kFinal = "('finished', 'stopped_early', 'diverged')";

/// A table whose rows are matched across databases by a natural key; `match` joins a target row
/// {t} with an input row {s}.
struct Parent {
  const char* table;
  const char* match;
  const char* label;  ///< SQL naming the input row {s} in a conflict
};
constexpr Parent kSweeps{"sweeps", "{t}.name = {s}.name", "'sweep ' || {s}.name"};
constexpr Parent kRuns{"runs", "{t}.key = {s}.key", "{s}.key"};
constexpr Parent kBenchRuns{
    "bench_runs", "{t}.kind = {s}.kind AND {t}.started_at = {s}.started_at AND {t}.host = {s}.host",
    "'bench run ' || {s}.started_at || ' ' || {s}.host"};

/// Rows that belong to a parent row through the foreign key `fk`, identified within it by `keys`
/// (globally when !within_parent: a run's key). `compared` must agree when both hold the row.
struct Child {
  const char* table;
  const Parent* parent;
  const char* fk;
  std::vector<std::string> keys;
  std::vector<std::string> compared;
  bool within_parent = true;
  /// Compared only when both databases know them (not NULL); a NULL in the target is filled in.
  std::vector<std::string> compared_when_known = {};
};

const Child kRunsOfSweeps{"runs", &kSweeps, "sweep_id", {"key"}, {}, false};
const Child kPublished{"published_results", &kSweeps, "sweep_id", {"architecture"}, {}};
const Child kEpochs{"epochs",
                    &kRuns,
                    "run_id",
                    {"epoch"},
                    {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate"},
                    true,
                    {"data_hash"}};
const Child kClassMetrics{
    "class_metrics", &kRuns, "run_id", {"label"}, {"precision", "recall", "f1", "support"}};
const Child kConfusion{"confusion", &kRuns, "run_id", {"true_label", "predicted_label"}, {"count"}};
const Child kVerifications{"verifications", &kRuns, "run_id", {"verified_at", "host"}, {}};
const Child kBenchResults{"bench_results",
                          &kBenchRuns,
                          "bench_run_id",
                          {"architecture", "batch_size", "threads", "mode"},
                          {"images_per_second_median", "samples"}};
const Child kBenchProfile{"bench_profile",
                          &kBenchRuns,
                          "bench_run_id",
                          {"position"},
                          {"part", "direction", "ms_per_step"}};

/// Columns of a run that must agree when the run is final in both databases.
const std::vector<std::string> kFinalRunColumns = {
    "status",        "epochs_completed",     "diverged_epoch",
    "best_epoch",    "best_val_accuracy",    "test_loss",
    "test_accuracy", "test_images",          "weights_hash",
    "parameters",    "trainable_parameters", "macs_per_image"};

/// `pattern` with {t} and {s} replaced by the two aliases.
std::string aliased(const char* pattern, const char* t, const char* s) {
  return fmt::format(fmt::runtime(pattern), fmt::arg("t", t), fmt::arg("s", s));
}

std::string quoted(const std::string& column) { return "\"" + column + "\""; }

/// "prefix.c1, prefix.c2" (prefix empty: "c1, c2").
std::string column_list(const std::vector<std::string>& columns, const std::string& prefix) {
  std::string out;
  for (const std::string& c : columns) {
    if (!out.empty()) out += ", ";
    out += prefix.empty() ? quoted(c) : prefix + "." + quoted(c);
  }
  return out;
}

/// Columns of `table` in both databases (target order), without `excluded`.
std::vector<std::string> common_columns(Session& s, const std::string& table,
                                        const std::set<std::string>& excluded) {
  std::set<std::string> input;
  SQLite::Statement in = s.prepare("SELECT name FROM pragma_table_info(:t, 'src')");
  in.bind(":t", table);
  while (in.executeStep()) input.insert(in.getColumn(0).getString());
  std::vector<std::string> columns;
  SQLite::Statement target = s.prepare("SELECT name FROM pragma_table_info(:t, 'main')");
  target.bind(":t", table);
  while (target.executeStep()) {
    std::string name = target.getColumn(0).getString();
    if (input.count(name) && !excluded.count(name)) columns.push_back(std::move(name));
  }
  return columns;
}

/// A value as the conflict report shows it: REALs in shortest round-trip form.
std::string value_text(const SQLite::Column& c) {
  if (c.isNull()) return "NULL";
  if (c.isFloat()) return fmt::format("{}", c.getDouble());
  if (c.isInteger()) return std::to_string(c.getInt64());
  std::string text = c.getString();
  if (text.size() > 200) text = text.substr(0, 197) + "...";
  return text;
}

/// Reads rows of `query` laid out as: label, `keys.size()` key values, then per compared column
/// (target value, input value, differs); appends one conflict per differing column.
void collect_conflicts(SQLite::Statement& query, const std::string& table,
                       const std::vector<std::string>& keys,
                       const std::vector<std::string>& compared, std::vector<MergeConflict>& out) {
  while (query.executeStep()) {
    std::string row = table;
    for (size_t k = 0; k < keys.size(); ++k)
      row += fmt::format(" {}={}", keys[k], value_text(query.getColumn(static_cast<int>(1 + k))));
    for (size_t c = 0; c < compared.size(); ++c) {
      const int at = static_cast<int>(1 + keys.size() + 3 * c);
      if (query.getColumn(at + 2).getInt() == 0) continue;
      out.push_back({query.getColumn(0).getString(), row, compared[c],
                     value_text(query.getColumn(at)), value_text(query.getColumn(at + 1))});
    }
  }
}

/// ", t.c, s.c, DIFFERS" for each column, and "DIFFERS OR ..." where DIFFERS is
/// "(guard) AND t.c IS NOT s.c" (without a guard: "t.c IS NOT s.c").
std::pair<std::string, std::string> comparison(const std::vector<std::string>& compared,
                                               const std::string& guard = "") {
  std::string select, differs;
  for (const std::string& c : compared) {
    const std::string differ = fmt::format("{0}t.{1} IS NOT s.{1}",
                                           guard.empty() ? "" : "(" + guard + ") AND ", quoted(c));
    select += fmt::format(", t.{0}, s.{0}, {1}", quoted(c), differ);
    differs += fmt::format("{}({})", differs.empty() ? "" : " OR ", differ);
  }
  return {select, differs};
}

/// A table whose rows belong to a sweep and name a run (search_rungs, protocol_selections): its
/// input rows are read with sweep_id and run_id mapped to the target's (the sweep of the same name,
/// the run of the same key) and matched by `match` on the target row t.
struct SweepRunTable {
  const char* table;
  const char* match;
  std::vector<std::string> keys;      ///< shown in a conflict, after the sweep's name
  std::vector<std::string> compared;  ///< run_id: the target's id of the run with the input's key
};
const SweepRunTable kRungs{
    "search_rungs",
    "t.sweep_id = s.sweep_id AND t.run_id = s.run_id AND t.rung = s.rung",
    {"rung"},
    {"bracket", "epochs", "metric", "metric_value", "rank", "candidates", "promoted"}};
const SweepRunTable kSelections{"protocol_selections",
                                "t.sweep_id = s.sweep_id AND t.group_name = s.group_name",
                                {"group_name"},
                                {"run_id", "metric", "metric_value", "tuning_runs", "settings"}};

/// The input rows of `c` whose sweep and run the target holds, ids mapped, as a FROM clause `s`
/// (with m_sweep_name and m_key: the sweep's name and the run's key).
std::string mapped_rows(Session& s, const SweepRunTable& c) {
  const std::vector<std::string> columns = common_columns(s, c.table, {"sweep_id", "run_id"});
  return fmt::format(
      "(SELECT {1}, ts.id AS sweep_id, tr.id AS run_id, ss.name AS m_sweep_name, sr.key AS m_key "
      "FROM src.{0} x JOIN src.sweeps ss ON ss.id = x.sweep_id JOIN src.runs sr ON sr.id = "
      "x.run_id JOIN main.sweeps ts ON ts.name = ss.name JOIN main.runs tr ON tr.key = sr.key) s",
      c.table, column_list(columns, "x"));
}

/// Rows both databases hold whose values differ (a sweep of that name decided otherwise).
void sweep_run_conflicts(Session& s, const SweepRunTable& c, std::vector<MergeConflict>& out) {
  const auto [select, differs] = comparison(c.compared);
  SQLite::Statement query = s.prepare(
      fmt::format("SELECT s.m_key, s.m_sweep_name, {}{} FROM {} JOIN main.{} t ON {} WHERE {}",
                  column_list(c.keys, "s"), select, mapped_rows(s, c), c.table, c.match, differs)
          .c_str());
  std::vector<std::string> keys = {"sweep"};
  keys.insert(keys.end(), c.keys.begin(), c.keys.end());
  collect_conflicts(query, c.table, keys, c.compared, out);
}

/// Inserts the input's rows of `c` the target lacks, ids mapped; returns their count.
int64_t insert_sweep_run_rows(Session& s, const SweepRunTable& c) {
  const std::vector<std::string> columns = common_columns(s, c.table, {});
  const std::string sql = fmt::format(
      "INSERT INTO main.{0} ({1}) SELECT {2} FROM {3} "
      "WHERE NOT EXISTS (SELECT 1 FROM main.{0} t WHERE {4})",
      c.table, column_list(columns, ""), column_list(columns, "s"), mapped_rows(s, c), c.match);
  s.note(sql.c_str());
  return s.db().exec(sql);
}

/// The input's sweep memberships (table sweep_runs) the target lacks, ids mapped by sweep name
/// and run key; returns their count. Memberships never conflict: the union is kept.
int64_t insert_memberships(Session& s) {
  const char* sql =
      "INSERT OR IGNORE INTO main.sweep_runs (sweep_id, run_id) SELECT ts.id, tr.id FROM "
      "src.sweep_runs x JOIN src.sweeps ss ON ss.id = x.sweep_id JOIN src.runs sr ON sr.id = "
      "x.run_id JOIN main.sweeps ts ON ts.name = ss.name JOIN main.runs tr ON tr.key = sr.key";
  s.note(sql);
  return s.db().exec(sql);
}

/// Rows of a run both databases hold (config_json always; the results when final in both).
void run_conflicts(Session& s, std::vector<MergeConflict>& out) {
  const auto [always_select, always_differs] = comparison({"config_json"});
  const auto [final_select, final_differs] =
      comparison(kFinalRunColumns, fmt::format("t.status IN {0} AND s.status IN {0}", kFinal));
  SQLite::Statement query =
      s.prepare(fmt::format("SELECT s.key{}{} FROM src.runs s JOIN main.runs t ON t.key = s.key "
                            "WHERE {} OR {}",
                            always_select, final_select, always_differs, final_differs)
                    .c_str());
  std::vector<std::string> columns = {"config_json"};
  columns.insert(columns.end(), kFinalRunColumns.begin(), kFinalRunColumns.end());
  collect_conflicts(query, "runs", {}, columns, out);
}

/// The join of an input child row s (with its parent sp) to the target's parent tp.
std::string child_join(const Child& c) {
  return fmt::format("FROM src.{0} s JOIN src.{1} sp ON sp.id = s.{2} JOIN main.{1} tp ON {3}",
                     c.table, c.parent->table, c.fk, aliased(c.parent->match, "tp", "sp"));
}

/// "t.k1 IS s.k1 AND ..." (and t.fk = tp.id within the parent).
std::string key_match(const Child& c) {
  std::string out = c.within_parent ? fmt::format("t.{} = tp.id", c.fk) : "";
  for (const std::string& k : c.keys)
    out += fmt::format("{0}t.{1} IS s.{1}", out.empty() ? "" : " AND ", quoted(k));
  return out;
}

void child_conflicts(Session& s, const Child& c, std::vector<MergeConflict>& out) {
  if (c.compared.empty()) return;
  auto [select, differs] = comparison(c.compared);
  std::vector<std::string> columns = c.compared;
  for (const std::string& k : c.compared_when_known) {
    const auto [k_select, k_differs] =
        comparison({k}, fmt::format("t.{0} IS NOT NULL AND s.{0} IS NOT NULL", quoted(k)));
    select += k_select;
    differs += " OR " + k_differs;
    columns.push_back(k);
  }
  SQLite::Statement query =
      s.prepare(fmt::format("SELECT {}, {}{} {} JOIN main.{} t ON {} WHERE {}",
                            aliased(c.parent->label, "tp", "sp"), column_list(c.keys, "s"), select,
                            child_join(c), c.table, key_match(c), differs)
                    .c_str());
  collect_conflicts(query, c.table, c.keys, columns, out);
}

/// Fills the target's NULLs of `c.compared_when_known` from the input's rows; returns the count.
int64_t fill_unknown(Session& s, const Child& c) {
  int64_t changed = 0;
  for (const std::string& k : c.compared_when_known) {
    const std::string sql = fmt::format(
        "UPDATE main.{0} AS t SET {1} = s.{1} {2} WHERE {3} AND t.{1} IS NULL AND s.{1} IS NOT "
        "NULL",
        c.table, quoted(k), child_join(c), key_match(c));
    s.note(sql.c_str());
    changed += s.db().exec(sql);
  }
  return changed;
}

/// Inserts the input's rows of `c` the target lacks, the foreign key mapped; returns their count.
int64_t insert_missing(Session& s, const Child& c) {
  const std::vector<std::string> columns = common_columns(s, c.table, {"id", c.fk});
  const std::string sql = fmt::format(
      "INSERT INTO main.{0} ({1}, {2}) SELECT tp.id, {3} {4} "
      "WHERE NOT EXISTS (SELECT 1 FROM main.{0} t WHERE {5})",
      c.table, quoted(c.fk), column_list(columns, ""), column_list(columns, "s"), child_join(c),
      key_match(c));
  s.note(sql.c_str());
  return s.db().exec(sql);
}

/// Inserts the input's rows of a parent table the target lacks; returns their count.
int64_t insert_missing(Session& s, const Parent& p) {
  const std::vector<std::string> columns = common_columns(s, p.table, {"id"});
  const std::string sql = fmt::format(
      "INSERT INTO main.{0} ({1}) SELECT {2} FROM src.{0} s "
      "WHERE NOT EXISTS (SELECT 1 FROM main.{0} t WHERE {3})",
      p.table, column_list(columns, ""), column_list(columns, "s"), aliased(p.match, "t", "s"));
  s.note(sql.c_str());
  return s.db().exec(sql);
}

/// "c1 = s.c1, c2 = s.c2".
std::string assignments(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns)
    out += fmt::format("{0}{1} = s.{1}", out.empty() ? "" : ", ", quoted(c));
  return out;
}

/// Sweeps: missing ones added; a sweep whose input row is newer (updated_at) takes the input's
/// columns and published results; created_at becomes the earlier one.
int64_t merge_sweeps(Session& s) {
  int64_t changed = 0;
  s.exec(
      "DELETE FROM main.published_results WHERE sweep_id IN (SELECT t.id FROM main.sweeps t "
      "JOIN src.sweeps s ON s.name = t.name WHERE s.updated_at > t.updated_at)");
  const std::vector<std::string> newer = common_columns(s, "sweeps", {"id", "name", "created_at"});
  std::string sql = fmt::format(
      "UPDATE main.sweeps AS t SET {} FROM src.sweeps s "
      "WHERE s.name = t.name AND s.updated_at > t.updated_at",
      assignments(newer));
  s.note(sql.c_str());
  changed += s.db().exec(sql);
  sql =
      "UPDATE main.sweeps AS t SET created_at = s.created_at FROM src.sweeps s "
      "WHERE s.name = t.name AND s.created_at < t.created_at";
  s.note(sql.c_str());
  changed += s.db().exec(sql);
  changed += insert_missing(s, kSweeps);
  insert_missing(s, kPublished);
  return changed;
}

/// Moves forward the runs the target has not finished and the input has further along: final;
/// more epochs; as many epochs and a later sign of life (started, heartbeat or ended). At as many
/// epochs, pruned is ahead of paused whatever the times (successive halving prunes a paused run at
/// the epoch it reached), so a pruned run never moves back to paused.
int64_t advance_runs(Session& s) {
  const std::vector<std::string> columns = common_columns(s, "runs", {"id", "key", "sweep_id"});
  constexpr const char* activity =
      "max(coalesce({0}.started_at, ''), coalesce({0}.heartbeat_at, ''), "
      "coalesce({0}.finished_at, ''))";
  const std::string sql = fmt::format(
      "UPDATE main.runs AS t SET sweep_id = tp.id, {0} FROM src.runs s "
      "JOIN src.sweeps sp ON sp.id = s.sweep_id JOIN main.sweeps tp ON tp.name = sp.name "
      "WHERE t.key = s.key AND t.status NOT IN {1} AND (s.status IN {1} "
      "OR s.epochs_completed > t.epochs_completed "
      "OR (s.epochs_completed = t.epochs_completed AND NOT (t.status = 'pruned' AND "
      "s.status = 'paused') AND ({2} > {3} OR (t.status = 'paused' AND s.status = 'pruned'))))",
      assignments(columns), kFinal, fmt::format(fmt::runtime(activity), "s"),
      fmt::format(fmt::runtime(activity), "t"));
  s.note(sql.c_str());
  return s.db().exec(sql);
}

/// Bench runs: missing ones added, a bench run the target has unfinished takes the input's end.
int64_t merge_bench(Session& s) {
  int64_t changed = insert_missing(s, kBenchRuns);
  const std::string sql = fmt::format(
      "UPDATE main.bench_runs AS t SET finished_at = s.finished_at FROM src.bench_runs s "
      "WHERE {} AND t.finished_at IS NULL AND s.finished_at IS NOT NULL",
      aliased(kBenchRuns.match, "t", "s"));
  s.note(sql.c_str());
  changed += s.db().exec(sql);
  changed += insert_missing(s, kBenchResults);
  changed += insert_missing(s, kBenchProfile);
  return changed;
}

int64_t count_rows(Session& s, const char* sql) {
  SQLite::Statement q = s.prepare(sql);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

/// A consistent copy of an input database in a temporary file, removed on destruction.
class Snapshot {
 public:
  explicit Snapshot(const fs::path& input);
  ~Snapshot() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      fs::remove(fs::path(path_.string() + suffix), ec);
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Snapshot::Snapshot(const fs::path& input) {
  std::error_code ec;
  if (!fs::is_regular_file(input, ec))
    throw StoreError(fmt::format("no results database at {}", input.string()));
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          fmt::format("lenetlab-merge-{}-{}.db", static_cast<long>(getpid()), counter++);
  try {
    SQLite::Database db(input.string(), SQLite::OPEN_READONLY);
    db.setBusyTimeout(static_cast<int>(kMergeBusyTimeout.count()));
    const int v = db.execAndGet("PRAGMA user_version").getInt();
    if (v == 0)
      throw StoreError(fmt::format("{} is not a lenetlab results database (no lenetlab schema)",
                                   input.string()));
    if (v > kSchemaVersion)
      throw StoreError(fmt::format(
          "results database {}: schema version {} is newer than this lenetlab (supports {}); "
          "upgrade lenetlab",
          input.string(), v, kSchemaVersion));
    // One statement, one read transaction: the copy is the input as of one commit.
    SQLite::Statement vacuum(db, "VACUUM INTO :file");
    vacuum.bind(":file", path_.string());
    vacuum.exec();
  } catch (const SQLite::Exception& e) {
    if ((e.getErrorCode() & 0xff) == SQLITE_NOTADB)
      throw StoreError(fmt::format("{} is not a lenetlab results database (SQLite): {}",
                                   input.string(), e.what()));
    throw StoreError(fmt::format("cannot read {}: {}", input.string(), e.what()));
  }
  // Upgrades an older schema in the copy only.
  detail::open_database(path_, detail::OpenMode::write, kMergeBusyTimeout);
}

/// The input snapshot attached to the target connection as schema `src` while it lives.
class Attached {
 public:
  Attached(SQLite::Database& db, const fs::path& file, const fs::path& into) : db_(db) {
    try {
      SQLite::Statement attach(db, "ATTACH DATABASE :file AS src");
      attach.bind(":file", file.string());
      attach.exec();
    } catch (const SQLite::Exception& e) {
      throw StoreError(fmt::format("results database {}: cannot attach the snapshot {}: {}",
                                   into.string(), file.string(), e.what()));
    }
  }
  ~Attached() {
    try {
      db_.exec("DETACH DATABASE src");
    } catch (const SQLite::Exception&) {  // the connection closes with it attached: harmless
    }
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  SQLite::Database& db_;
};

}  // namespace

ResultsMerger::ResultsMerger(const fs::path& into)
    : into_(into), db_(detail::open_database(into, detail::OpenMode::write, kMergeBusyTimeout)) {}

ResultsMerger::~ResultsMerger() = default;

MergeResult ResultsMerger::merge(const fs::path& input) {
  std::error_code ec;
  if (fs::equivalent(input, into_, ec))
    throw StoreError(
        fmt::format("{} is the database merged into; give it once, after --into", input.string()));
  const Snapshot snapshot(input);
  const Attached attached(*db_, snapshot.path(), into_);
  MergeResult result;
  result.input = input;
  detail::in_transaction(*db_, into_, fmt::format("merging {}", input.string()),
                         SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
                           MergeCounts& n = result.counts;
                           n.runs_in_input = count_rows(s, "SELECT count(*) FROM src.runs");
                           run_conflicts(s, result.conflicts);
                           for (const Child* c : {&kEpochs, &kClassMetrics, &kConfusion,
                                                  &kBenchResults, &kBenchProfile})
                             child_conflicts(s, *c, result.conflicts);
                           for (const SweepRunTable* c : {&kRungs, &kSelections})
                             sweep_run_conflicts(s, *c, result.conflicts);
                           if (!result.conflicts.empty())
                             return;  // nothing written: the commit is empty
                           n.sweeps = merge_sweeps(s);
                           n.runs_added = insert_missing(s, kRunsOfSweeps);
                           n.memberships = insert_memberships(s);
                           n.runs_advanced = advance_runs(s);
                           n.epochs = insert_missing(s, kEpochs) + fill_unknown(s, kEpochs);
                           n.test_rows =
                               insert_missing(s, kClassMetrics) + insert_missing(s, kConfusion);
                           n.verifications = insert_missing(s, kVerifications);
                           n.rungs = insert_sweep_run_rows(s, kRungs);
                           n.selections = insert_sweep_run_rows(s, kSelections);
                           n.bench_rows = merge_bench(s);
                         });
  return result;
}

}  // namespace lenetlab
