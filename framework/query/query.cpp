#include "query/query.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/records.hpp"

namespace lenetlab {

namespace {

Value cell(const std::string& text) { return text; }
Value cell(int64_t value) { return value; }
Value cell(double value) { return value; }
template <typename T>
Value cell(const std::optional<T>& value) {
  if (!value) return std::monostate{};
  return cell(*value);
}

/// The columns query_runs and query_best share, from `id` to `best_val_accuracy`.
void append_run_identity(std::vector<Value>& row, const RunRow& run) {
  row.push_back(cell(run.id));
  for (const std::string* text :
       {&run.key, &run.sweep, &run.name, &run.architecture, &run.optimizer})
    row.push_back(cell(*text));
  row.push_back(cell(run.learning_rate));
  row.push_back(cell(run.batch_size));
  row.push_back(cell(run.seed));
  row.push_back(cell(std::string(to_string(run.status))));
  row.push_back(cell(run.epochs_completed));
  row.push_back(cell(run.best_val_accuracy));
}

const std::vector<std::string> kRunIdentityColumns = {"id",
                                                      "key",
                                                      "sweep",
                                                      "name",
                                                      "architecture",
                                                      "optimizer",
                                                      "learning_rate",
                                                      "batch_size",
                                                      "seed",
                                                      "status",
                                                      "epochs_completed",
                                                      "best_val_accuracy"};

/// The value of `metric` of a run; empty when not recorded.
std::optional<double> metric_value(const RunRow& run, RankMetric metric) {
  switch (metric) {
    case RankMetric::test_accuracy:
      return run.test_accuracy;
    case RankMetric::best_val_accuracy:
      return run.best_val_accuracy;
    case RankMetric::test_loss:
      return run.test_loss;
    case RankMetric::seconds:
      return run.seconds;
  }
  return std::nullopt;
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

ResultTable query_runs(const ResultsReader& reader, const RunFilter& filter) {
  ResultTable table;
  table.columns = kRunIdentityColumns;
  table.columns.insert(table.columns.end(), {"test_accuracy", "seconds"});
  std::vector<int64_t> unlabelled, tuning;  // completed runs without test metrics
  for (const RunRow& run : reader.runs(filter)) {
    std::vector<Value>& row = table.rows.emplace_back();
    append_run_identity(row, run);
    row.push_back(cell(run.test_accuracy));
    row.push_back(cell(run.seconds));
    if (is_completed(run.status) && !run.test_accuracy)
      (run.tuning() ? tuning : unlabelled).push_back(run.id);
  }
  if (!tuning.empty())
    table.notes.push_back(fmt::format(
        "run{} {}: no test accuracy because a protocol's tuning runs never evaluate the test set "
        "(sweeps/README.md \"Protocol\")",
        tuning.size() > 1 ? "s" : "", fmt::join(tuning, ", ")));
  if (!unlabelled.empty())
    table.notes.push_back(fmt::format(
        "run{} {}: no test accuracy because the test set has no labels (a prediction set); "
        "`lenetlab predict RUN` writes its predictions",
        unlabelled.size() > 1 ? "s" : "", fmt::join(unlabelled, ", ")));
  return table;
}

ResultTable query_best(const ResultsReader& reader, const RunFilter& filter, RankMetric metric,
                       int limit) {
  if (limit <= 0)
    throw Error(fmt::format("--limit must be a positive number of runs, got {}", limit));
  std::vector<RunRow> runs = reader.runs(filter);  // by id: the tie-break of the stable sort
  std::erase_if(runs, [&](const RunRow& run) {
    return !metric_value(run, metric) || (!filter.status && !is_completed(run.status));
  });
  const bool ascending = lower_is_better(metric);
  std::stable_sort(runs.begin(), runs.end(), [&](const RunRow& a, const RunRow& b) {
    const double x = *metric_value(a, metric), y = *metric_value(b, metric);
    return ascending ? x < y : x > y;
  });
  if (runs.size() > static_cast<size_t>(limit)) runs.resize(static_cast<size_t>(limit));

  ResultTable table;
  table.columns = {"rank"};
  table.columns.insert(table.columns.end(), kRunIdentityColumns.begin(), kRunIdentityColumns.end());
  table.columns.insert(table.columns.end(), {"test_loss", "test_accuracy", "seconds"});
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<Value>& row = table.rows.emplace_back();
    row.push_back(static_cast<int64_t>(i + 1));
    append_run_identity(row, runs[i]);
    for (const auto& value : {runs[i].test_loss, runs[i].test_accuracy, runs[i].seconds})
      row.push_back(cell(value));
  }
  return table;
}

ResultTable query_curve(const ResultsReader& reader, const std::string& run) {
  ResultTable table;
  table.columns = {"epoch",         "train_loss", "train_accuracy",    "val_loss", "val_accuracy",
                   "learning_rate", "seconds",    "images_per_second", "data_hash"};
  for (const EpochRecord& e : reader.epochs(reader.resolve_run(run))) {
    std::vector<Value>& row = table.rows.emplace_back();
    row.push_back(cell(static_cast<int64_t>(e.epoch)));
    for (double value : {e.train_loss, e.train_accuracy}) row.push_back(cell(value));
    for (const auto& value : {e.val_loss, e.val_accuracy}) row.push_back(cell(value));
    for (double value : {e.learning_rate, e.seconds, e.images_per_second})
      row.push_back(cell(value));
    row.push_back(e.data_hash.empty() ? Value{} : cell(e.data_hash));
  }
  return table;
}

ResultTable query_sweeps(const ResultsReader& reader) {
  ResultTable table;
  table.columns = {"name", "runs", "finished", "created_at"};
  for (const SweepRow& sweep : reader.sweeps()) {
    RunFilter filter;
    filter.sweep = sweep.name;
    const std::vector<RunRow> runs = reader.runs(filter);
    const auto count = runs.size();
    const auto finished = std::count_if(
        runs.begin(), runs.end(), [&](const RunRow& r) { return r.status == RunStatus::finished; });
    std::vector<Value>& row = table.rows.emplace_back();
    row.push_back(cell(sweep.name));
    row.push_back(cell(static_cast<int64_t>(count)));
    row.push_back(cell(static_cast<int64_t>(finished)));
    row.push_back(cell(sweep.created_at));
  }
  return table;
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
  for (const std::string& note : table.notes) out += "note: " + escape_control(note) + '\n';
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
