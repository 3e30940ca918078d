#include "query/query.hpp"

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/records.hpp"

namespace lenetlab {

namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

bool is_readonly_error(int code) { return (code & 0xff) == SQLITE_READONLY; }

/// StoreError for a failed SQLite call on `store`'s connection while running `what`.
[[noreturn]] void fail(Store& store, const std::string& what, int code) {
  sqlite3* db = store.database().getHandle();
  const std::string message = sqlite3_errmsg(db);
  if (is_readonly_error(code))
    throw StoreError(
        fmt::format("results database {} is opened read-only: {} cannot change it (SQLite: {})",
                    store.path().string(), what, message));
  throw StoreError(
      fmt::format("results database {}: {} failed: {}", store.path().string(), what, message));
}

Value column_value(sqlite3_stmt* statement, int i) {
  switch (sqlite3_column_type(statement, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(statement, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, i);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
      return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, i)));
    }
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(statement, i));
      const int size = sqlite3_column_bytes(statement, i);
      std::string hex = "X'";
      for (int b = 0; b < size; ++b) hex += fmt::format("{:02X}", bytes[b]);
      return hex + "'";
    }
    default:
      return std::monostate{};
  }
}

void bind_value(Store& store, const std::string& what, sqlite3_stmt* statement, int index,
                const Value& value) {
  int rc = SQLITE_OK;
  if (std::holds_alternative<std::monostate>(value)) {
    rc = sqlite3_bind_null(statement, index);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    rc = sqlite3_bind_int64(statement, index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(statement, index, *d);
  } else {
    const auto& text = std::get<std::string>(value);
    rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()),
                           SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK) fail(store, what, rc);
}

/// Steps a prepared statement to the end and collects its rows.
ResultTable collect(Store& store, const std::string& what, sqlite3_stmt* statement) {
  ResultTable table;
  const int count = sqlite3_column_count(statement);
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_column_name(statement, i);
    table.columns.emplace_back(name ? name : "");
  }
  for (;;) {
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(store, what, rc);
    std::vector<Value> row;
    row.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) row.push_back(column_value(statement, i));
    table.rows.push_back(std::move(row));
  }
  return table;
}

StatementPtr prepare(Store& store, const std::string& what, const std::string& sql,
                     const char** tail = nullptr) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(store.database().getHandle(), sql.c_str(), -1, &raw, tail);
  StatementPtr statement(raw);
  if (rc != SQLITE_OK) fail(store, what, rc);
  return statement;
}

/// Runs one of the named queries below: positional parameters ?1, ?2, ... take `params`.
ResultTable run_query(Store& store, const std::string& what, const std::string& sql,
                      const std::vector<Value>& params = {}) {
  StatementPtr statement = prepare(store, what, sql);
  for (size_t i = 0; i < params.size(); ++i)
    bind_value(store, what, statement.get(), static_cast<int>(i) + 1, params[i]);
  return collect(store, what, statement.get());
}

Value text_or_null(const std::string& text) {
  if (text.empty()) return std::monostate{};
  return text;
}

/// Parameters ?1..?4 of kFilterSql, from a validated filter.
std::vector<Value> filter_params(const RunFilter& filter) {
  if (!filter.status.empty()) run_status_from_string(filter.status);  // throws on unknown names
  return {text_or_null(filter.sweep), text_or_null(filter.status),
          text_or_null(filter.architecture), text_or_null(filter.optimizer)};
}

constexpr const char* kFilterSql =
    "(?1 IS NULL OR s.name = ?1) AND (?2 IS NULL OR r.status = ?2) AND "
    "(?3 IS NULL OR r.architecture = ?3) AND (?4 IS NULL OR r.optimizer = ?4)";

bool is_decimal(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Display width of UTF-8 text: the number of code points (continuation bytes are not counted).
size_t display_width(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string escape_control(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out;
}

std::string real_for_table(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return "0";
  const double magnitude = std::fabs(x);
  if (magnitude < 1e-3 || magnitude >= 1e7) return fmt::format("{:.4g}", x);
  std::string text = fmt::format("{:.4f}", x);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string cell_for_table(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "-";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return real_for_table(*d);
  return escape_control(std::get<std::string>(value));
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string cell_for_csv(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return csv_field(std::get<std::string>(value));
}

}  // namespace

size_t ResultTable::column(const std::string& name) const {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) throw Error("result has no column '" + name + "'");
  return static_cast<size_t>(it - columns.begin());
}

const char* to_string(RankMetric metric) {
  switch (metric) {
    case RankMetric::test_accuracy:
      return "test_accuracy";
    case RankMetric::best_val_accuracy:
      return "best_val_accuracy";
    case RankMetric::test_loss:
      return "test_loss";
    case RankMetric::seconds:
      return "seconds";
  }
  return "unknown";
}

RankMetric rank_metric_from_string(const std::string& name) {
  for (RankMetric metric : {RankMetric::test_accuracy, RankMetric::best_val_accuracy,
                            RankMetric::test_loss, RankMetric::seconds})
    if (name == to_string(metric)) return metric;
  throw Error("unknown metric '" + name +
              "'; expected test_accuracy, best_val_accuracy, test_loss or seconds");
}

bool lower_is_better(RankMetric metric) {
  return metric == RankMetric::test_loss || metric == RankMetric::seconds;
}

const char* to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::table:
      return "table";
    case OutputFormat::csv:
      return "csv";
    case OutputFormat::json:
      return "json";
  }
  return "unknown";
}

OutputFormat output_format_from_string(const std::string& name) {
  for (OutputFormat format : {OutputFormat::table, OutputFormat::csv, OutputFormat::json})
    if (name == to_string(format)) return format;
  throw Error("unknown output format '" + name + "'; expected table, csv or json");
}

std::unique_ptr<Store> open_results(const std::filesystem::path& db) {
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    throw StoreError(
        fmt::format("no results database at {}; run `lenetlab run SWEEP` first", db.string()));
  return std::make_unique<Store>(db, /*read_only=*/true);
}

ResultTable query_runs(Store& store, const RunFilter& filter) {
  return run_query(store, "query runs",
                   fmt::format("SELECT r.id, r.key, s.name AS sweep, r.name, r.architecture, "
                               "r.optimizer, r.learning_rate, r.batch_size, r.seed, r.status, "
                               "r.epochs_completed, r.best_val_accuracy, r.test_accuracy, "
                               "r.seconds "
                               "FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
                               "WHERE {} ORDER BY r.id",
                               kFilterSql),
                   filter_params(filter));
}

ResultTable query_best(Store& store, const RunFilter& filter, RankMetric metric, int limit) {
  if (limit <= 0)
    throw Error(fmt::format("--limit must be a positive number of runs, got {}", limit));
  std::vector<Value> params = filter_params(filter);
  params.emplace_back(static_cast<int64_t>(limit));
  // The metric's column name comes from the enum, never from user text.
  const std::string order =
      fmt::format("r.{} {}, r.id", to_string(metric), lower_is_better(metric) ? "ASC" : "DESC");
  return run_query(
      store, fmt::format("query best --metric {}", to_string(metric)),
      fmt::format("SELECT row_number() OVER (ORDER BY {0}) AS rank, r.id, r.key, s.name AS sweep, "
                  "r.name, r.architecture, r.optimizer, r.learning_rate, r.batch_size, r.seed, "
                  "r.status, r.epochs_completed, r.best_val_accuracy, r.test_loss, "
                  "r.test_accuracy, r.seconds "
                  "FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
                  "WHERE {1} AND r.{2} IS NOT NULL "
                  "AND (?2 IS NOT NULL OR r.status IN ('finished', 'stopped_early')) "
                  "ORDER BY {0} LIMIT ?5",
                  order, kFilterSql, to_string(metric)),
      params);
}

int64_t resolve_run(Store& store, const std::string& run) {
  if (run.empty()) throw Error("no run given; expected a run id, a run key or a key prefix");
  const std::string what = "query curve " + run;
  ResultTable exact = run_query(store, what, "SELECT id FROM runs WHERE key = ?1", {run});
  if (!exact.rows.empty()) return std::get<int64_t>(exact.rows[0][0]);
  if (is_decimal(run)) {
    ResultTable by_id = run_query(store, what, "SELECT id FROM runs WHERE id = ?1",
                                  {static_cast<int64_t>(std::stoll(run))});
    if (!by_id.rows.empty()) return std::get<int64_t>(by_id.rows[0][0]);
  }
  ResultTable by_prefix = run_query(
      store, what,
      "SELECT id, key FROM runs WHERE substr(key, 1, length(?1)) = ?1 ORDER BY id LIMIT 6", {run});
  if (by_prefix.rows.size() == 1) return std::get<int64_t>(by_prefix.rows[0][0]);
  if (by_prefix.rows.empty())
    throw Error(
        fmt::format("no run matches '{}'; give a run id, a run key or a unique key prefix "
                    "(see `lenetlab query runs`)",
                    run));
  std::string candidates;
  for (size_t i = 0; i < std::min<size_t>(by_prefix.rows.size(), 5); ++i) {
    if (i) candidates += ", ";
    candidates += std::get<std::string>(by_prefix.rows[i][1]);
  }
  if (by_prefix.rows.size() > 5) candidates += ", ...";
  throw Error(fmt::format("run key prefix '{}' is ambiguous: it matches {}", run, candidates));
}

ResultTable query_curve(Store& store, const std::string& run) {
  const int64_t id = resolve_run(store, run);
  return run_query(store, "query curve " + run,
                   "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy, "
                   "learning_rate, seconds, images_per_second "
                   "FROM epochs WHERE run_id = ?1 ORDER BY epoch",
                   {id});
}

ResultTable query_sweeps(Store& store) {
  return run_query(store, "query sweeps",
                   "SELECT s.name, count(r.id) AS runs, "
                   "count(CASE WHEN r.status = 'finished' THEN 1 END) AS finished, s.created_at "
                   "FROM sweeps s LEFT JOIN runs r ON r.sweep_id = s.id "
                   "GROUP BY s.id ORDER BY s.id");
}

ResultTable query_sql(const std::filesystem::path& db, const std::string& sql) {
  std::unique_ptr<Store> store = open_results(db);
  const std::string what = "`lenetlab query sql`";
  const char* tail = nullptr;
  StatementPtr statement = prepare(*store, what, sql, &tail);
  if (!statement) throw Error("query sql: no SQL statement given (only whitespace or comments)");
  // Anything but whitespace and comments after the first statement is a second statement.
  if (tail && *tail) {
    sqlite3_stmt* next = nullptr;
    const char* rest = nullptr;
    const int rc = sqlite3_prepare_v2(store->database().getHandle(), tail, -1, &next, &rest);
    StatementPtr second(next);
    if (rc != SQLITE_OK || second)
      throw Error(fmt::format(
          "query sql: only one SQL statement is allowed; found more after the first ';': `{}`",
          std::string(tail).substr(0, 60)));
  }
  // The connection is read-only, so SQLite refuses writes to the database when stepping; but a
  // statement such as `VACUUM INTO 'file'` writes elsewhere. SQLite's own classification of the
  // prepared statement (sqlite3_stmt_readonly) refuses those before they run.
  if (!sqlite3_stmt_readonly(statement.get()))
    throw StoreError(fmt::format(
        "results database {} is opened read-only: {} cannot change it (SQLite classifies `{}` "
        "as a statement that writes)",
        store->path().string(), what, sql.substr(0, 60)));
  return collect(*store, what, statement.get());
}

std::string format_table(const ResultTable& table) {
  if (table.columns.empty()) return "";
  const size_t n = table.columns.size();
  // A column is numeric (right-aligned) when it holds numbers and no text.
  std::vector<bool> numeric(n, false);
  std::vector<bool> has_text(n, false);
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      if (std::holds_alternative<std::string>(row[c]))
        has_text[c] = true;
      else if (!std::holds_alternative<std::monostate>(row[c]))
        numeric[c] = true;
    }
  }
  for (size_t c = 0; c < n; ++c) numeric[c] = numeric[c] && !has_text[c];

  std::vector<std::vector<std::string>> cells;
  cells.reserve(table.rows.size() + 2);
  cells.emplace_back();
  for (const auto& name : table.columns) cells.back().push_back(escape_control(name));
  cells.emplace_back(n);  // the rule, filled once the widths are known
  for (const auto& row : table.rows) {
    cells.emplace_back();
    for (size_t c = 0; c < n; ++c)
      cells.back().push_back(c < row.size() ? cell_for_table(row[c]) : "-");
  }
  std::vector<size_t> width(n, 0);
  for (const auto& line : cells)
    for (size_t c = 0; c < n; ++c) width[c] = std::max(width[c], display_width(line[c]));
  for (size_t c = 0; c < n; ++c) cells[1][c] = std::string(width[c], '-');

  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      if (c) text += "  ";
      const std::string pad(width[c] - display_width(line[c]), ' ');
      text += numeric[c] ? pad + line[c] : line[c] + pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text + '\n';
  }
  return out;
}

std::string format_csv(const ResultTable& table) {
  std::string out;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c) out += ',';
    out += csv_field(table.columns[c]);
  }
  out += '\n';
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      out += cell_for_csv(row[c]);
    }
    out += '\n';
  }
  return out;
}

nlohmann::ordered_json to_json(const ResultTable& table) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& row : table.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      nlohmann::ordered_json& cell = object[table.columns[c]];
      if (const auto* i = std::get_if<int64_t>(&row[c]))
        cell = *i;
      else if (const auto* d = std::get_if<double>(&row[c]))
        cell = std::isfinite(*d) ? nlohmann::ordered_json(*d) : nlohmann::ordered_json(nullptr);
      else if (const auto* s = std::get_if<std::string>(&row[c]))
        cell = *s;
      else
        cell = nullptr;
    }
    array.push_back(std::move(object));
  }
  return array;
}

std::string format_json(const ResultTable& table) {
  return to_json(table).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         '\n';
}

std::string format_result(const ResultTable& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::csv:
      return format_csv(table);
    case OutputFormat::json:
      return format_json(table);
    case OutputFormat::table:
      break;
  }
  return format_table(table);
}

}  // namespace lenetlab
