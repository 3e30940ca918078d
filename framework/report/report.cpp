#include "report/report.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "core/error.hpp"
#include "report/assets.hpp"
#include "report/stats.hpp"
#include "store/store.hpp"

namespace lenetlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Records read from the database (one struct per table, only the columns the report shows).

struct SweepRow {
  std::string name;
  std::string file;
  std::string yaml;
  std::string updated_at;
};

struct RunRow {
  int64_t id = 0;
  std::string key;
  std::string sweep;
  std::string name;
  std::string architecture;
  std::string optimizer;
  double learning_rate = 0;
  int64_t batch_size = 0;
  int64_t epochs = 0;  // requested
  int64_t seed = 0;
  std::string dataset;
  std::string config_json;
  std::string status;
  std::optional<std::string> error;
  std::optional<int64_t> diverged_epoch;
  std::optional<int64_t> parameters;
  std::optional<int64_t> threads;
  std::optional<std::string> host, cpu_model, isa, onednn_version, compiler, git_commit,
      dataset_sha256;
  std::optional<double> seconds;
  int64_t epochs_completed = 0;
  std::optional<double> best_val_accuracy;
  std::optional<double> test_accuracy;
};

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
};

struct ClassRow {
  int64_t label = 0;
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

/// Runs sharing every setting but the seed, with the leaderboard figures over those runs.
struct ConfigGroup {
  std::string id;     // "C1", "C2", ... in leaderboard order
  std::string label;  // "C1 lenet5/sgd lr=0.01 bs=64"
  json config;        // config_json without "seed" (null if it did not parse)
  std::vector<const RunRow*> runs;
  std::vector<double> test_accuracies;
  stats::Summary test;
  std::optional<double> best_val_mean;
  double epochs_mean = 0;
  std::optional<double> seconds_mean;
  std::optional<int64_t> parameters;
  std::string other_settings;  // "path=value" of settings that differ from the most common value
};

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

/// confusion cells as (true, predicted) -> count.
std::map<std::pair<int64_t, int64_t>, int64_t> read_confusion(SQLite::Database& database,
                                                              int64_t run_id) {
  SQLite::Statement q(database,
                      "SELECT true_label, predicted_label, count FROM confusion WHERE run_id = ?");
  q.bind(1, run_id);
  std::map<std::pair<int64_t, int64_t>, int64_t> cells;
  while (q.executeStep())
    cells[{q.getColumn(0).getInt64(), q.getColumn(1).getInt64()}] = q.getColumn(2).getInt64();
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers.

constexpr std::string_view kDash = "\u2014";

std::string pct(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }
std::string pct(const std::optional<double>& fraction) {
  return fraction ? pct(*fraction) : std::string(kDash);
}

/// 61706 -> "61,706".
std::string thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string seconds_text(const std::optional<double>& s) {
  return s ? fmt::format("{:.1f}", *s) : std::string(kDash);
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

/// Display order of statuses: results first, then problems, then unfinished.
constexpr std::string_view kStatusOrder[] = {"finished",    "stopped_early", "diverged", "failed",
                                             "interrupted", "running",       "queued"};

int status_rank(const std::string& status) {
  for (size_t i = 0; i < std::size(kStatusOrder); ++i)
    if (kStatusOrder[i] == status) return static_cast<int>(i);
  return static_cast<int>(std::size(kStatusOrder));
}

bool is_problem(const std::string& status) {
  return status == "failed" || status == "diverged" || status == "interrupted";
}

/// "3 finished, 1 failed" over the given runs.
std::string status_summary(const std::vector<const RunRow*>& runs) {
  std::map<int, std::pair<std::string, int>> counts;
  for (const RunRow* r : runs) {
    auto& entry = counts[status_rank(r->status)];
    entry.first = r->status;
    ++entry.second;
  }
  std::string out;
  for (const auto& [rank, entry] : counts)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", entry.second, entry.first);
  return out;
}

std::string status_badge(const std::string& status) {
  return fmt::format(R"(<span class="status status-{0}">{0}</span>)", html_escape(status));
}

/// Pretty configuration: the JSON without the (long) architecture YAML, then the YAML itself.
std::string config_block(const std::string& config_json) {
  json config = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return fmt::format("<pre>{}</pre>", html_escape(config_json));
  std::string yaml;
  if (auto it = config.find("architecture_yaml"); it != config.end() && it->is_string()) {
    yaml = it->get<std::string>();
    config.erase(it);
  }
  std::string out = fmt::format("<pre>{}</pre>", html_escape(config.dump(2)));
  if (!yaml.empty())
    out += fmt::format("<p class=\"note\">architecture YAML:</p><pre>{}</pre>", html_escape(yaml));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grouping runs into configurations.

/// Leaves of a JSON object as "a.b" -> value.
void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}

std::vector<ConfigGroup> group_runs(const std::vector<RunRow>& runs) {
  std::map<std::string, ConfigGroup> by_key;
  std::vector<std::string> order;  // first appearance, for a stable tie-break
  for (const RunRow& run : runs) {
    json config = json::parse(run.config_json, nullptr, /*allow_exceptions=*/false);
    std::string key;
    if (config.is_object()) {
      config.erase("seed");
      key = config.dump();
    } else {
      config = nullptr;
      key = run.config_json;  // unparsable: group by the raw text
    }
    auto [it, inserted] = by_key.try_emplace(key);
    if (inserted) {
      it->second.config = std::move(config);
      order.push_back(key);
    }
    it->second.runs.push_back(&run);
  }

  std::vector<ConfigGroup> groups;
  for (const auto& key : order) groups.push_back(std::move(by_key[key]));

  for (ConfigGroup& g : groups) {
    std::vector<double> best_vals, seconds;
    double epochs = 0;
    for (const RunRow* r : g.runs) {
      if (r->test_accuracy) g.test_accuracies.push_back(*r->test_accuracy);
      if (r->best_val_accuracy) best_vals.push_back(*r->best_val_accuracy);
      if (r->seconds) seconds.push_back(*r->seconds);
      if (!g.parameters && r->parameters) g.parameters = r->parameters;
      epochs += static_cast<double>(r->epochs_completed);
    }
    g.test = stats::summarize(g.test_accuracies);
    if (!best_vals.empty()) g.best_val_mean = stats::mean(best_vals);
    if (!seconds.empty()) g.seconds_mean = stats::mean(seconds);
    g.epochs_mean = epochs / static_cast<double>(g.runs.size());
  }

  // Best mean test accuracy first; configurations without any test accuracy last.
  std::stable_sort(groups.begin(), groups.end(), [](const ConfigGroup& a, const ConfigGroup& b) {
    const bool ha = a.test.n > 0, hb = b.test.n > 0;
    if (ha != hb) return ha;
    return ha && a.test.mean > b.test.mean;
  });

  // Settings that differ between configurations besides the leaderboard's own columns.
  static const std::set<std::string> kShown = {"architecture",   "architecture_yaml",
                                               "optimizer.name", "optimizer.learning_rate",
                                               "batch_size",     "seed"};
  std::vector<std::map<std::string, json>> leaves(groups.size());
  std::set<std::string> paths;
  for (size_t i = 0; i < groups.size(); ++i) {
    flatten(groups[i].config, "", leaves[i]);
    for (const auto& [path, value] : leaves[i]) paths.insert(path);
  }
  // A group lists a setting when its value differs from the most common one among the groups.
  const auto value_text = [](const std::map<std::string, json>& l, const std::string& path) {
    const auto it = l.find(path);
    return it == l.end()            ? std::string("(absent)")
           : it->second.is_string() ? it->second.get<std::string>()
                                    : it->second.dump();
  };
  std::map<std::string, std::string> usual;  // path -> most common value, for varying paths only
  for (const auto& path : paths) {
    if (kShown.count(path) || path.empty()) continue;
    std::map<std::string, size_t> counts;
    for (const auto& l : leaves) ++counts[value_text(l, path)];
    if (counts.size() < 2) continue;
    usual[path] = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
                    return a.second < b.second;
                  })->first;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    ConfigGroup& g = groups[i];
    g.id = fmt::format("C{}", i + 1);
    for (const auto& [path, common] : usual) {
      const std::string value = value_text(leaves[i], path);
      if (value != common)
        g.other_settings +=
            fmt::format("{}{}={}", g.other_settings.empty() ? "" : ", ", path, value);
    }
    const RunRow& r = *g.runs.front();
    g.label = fmt::format("{} {}/{} lr={:g} bs={}", g.id, r.architecture, r.optimizer,
                          r.learning_rate, r.batch_size);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Page sections. Each appends HTML to `out`; every string from the database goes through
// html_escape, every JSON placed in the page through script_safe_json.

void append(std::string& out, std::string_view text) { out.append(text); }

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

constexpr std::string_view kStyle = R"css(
:root { --fg: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --head: #f3f5f8; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: #fff;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 8px; }
p.meta, p.note { color: var(--muted); margin: 4px 0 10px; }
nav { margin: 12px 0 0; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; }
span.ok { color: #1a7f37; font-weight: 600; } span.bad { color: #cf222e; font-weight: 600; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px 10px; margin: 4px 0;
      max-height: 420px; overflow: auto; white-space: pre-wrap; word-break: break-word; }
.nowrap { white-space: nowrap; }
details summary { cursor: pointer; color: var(--accent); }
.scroll { overflow-x: auto; }
.warning { border: 2px solid #d97706; background: #fff7e6; border-radius: 6px; padding: 10px 14px;
           margin: 14px 0; }
.warning strong { color: #9a4a00; }
.warning ul { margin: 6px 0 0; padding-left: 20px; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px;
          background: #e7eaee; white-space: nowrap; }
.status-finished { background: #dcf3e3; color: #17612f; }
.status-stopped_early { background: #e2eefb; color: #1f4f86; }
.status-failed, .status-diverged { background: #fde2e1; color: #9b1c1c; }
.status-interrupted { background: #fff0d6; color: #8a4b00; }
.chart { margin: 8px 0 20px; min-height: 40px; max-width: 100%; overflow-x: auto; }
.chart-error { color: #9b1c1c; }
.cards { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
)css";

void append_header(std::string& out, const std::string& title, const std::vector<SweepRow>& sweeps,
                   const std::vector<RunRow>& runs) {
  append(out, "<header>\n<h1>{}</h1>\n", html_escape(title));
  std::string names;
  for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
  append(out,
         "<p class=\"meta\">Sweep{}: <strong>{}</strong> &middot; generated {} &middot; {} runs",
         sweeps.size() == 1 ? "" : "s", html_escape(names), utc_now(), runs.size());
  std::vector<const RunRow*> all;
  for (const auto& r : runs) all.push_back(&r);
  append(out, " ({})</p>\n", html_escape(status_summary(all)));
  append(out,
         "<nav><a href=\"#environment\">Environment</a><a href=\"#published\">Published</a>"
         "<a href=\"#leaderboard\">Leaderboard</a>"
         "<a href=\"#curves\">Learning curves</a><a href=\"#best\">Best run</a>"
         "<a href=\"#runs\">All runs</a><a href=\"#failures\">Failures</a></nav>\n</header>\n");
}

void append_environment(std::string& out, const std::vector<SweepRow>& sweeps,
                        const std::vector<RunRow>& runs) {
  append(out, "<section id=\"environment\">\n<h2>Environment</h2>\n");

  // Conditions that make results not bit-comparable when they differ between runs.
  struct Field {
    std::string_view name;
    std::optional<std::string> (*get)(const RunRow&);
  };
  static const Field kFields[] = {
      {"isa", [](const RunRow& r) { return r.isa; }},
      {"threads",
       [](const RunRow& r) {
         return r.threads ? std::optional<std::string>(std::to_string(*r.threads)) : std::nullopt;
       }},
      {"onednn_version", [](const RunRow& r) { return r.onednn_version; }},
      {"compiler", [](const RunRow& r) { return r.compiler; }},
      {"git_commit", [](const RunRow& r) { return r.git_commit; }},
  };
  std::vector<std::string> differences;
  for (const auto& field : kFields) {
    std::map<std::string, int> values;
    for (const auto& r : runs)
      if (auto v = field.get(r)) ++values[*v];
    if (values.size() < 2) continue;
    std::string list;
    for (const auto& [v, n] : values)
      list += fmt::format("{}<code>{}</code> ({} run{})", list.empty() ? "" : ", ", html_escape(v),
                          n, n == 1 ? "" : "s");
    differences.push_back(fmt::format("<strong>{}</strong>: {}", field.name, list));
  }
  // The same dataset read from files with different contents.
  std::map<std::string, std::map<std::string, int>> dataset_sums;
  for (const auto& r : runs)
    if (r.dataset_sha256) ++dataset_sums[r.dataset][*r.dataset_sha256];
  for (const auto& [dataset, sums] : dataset_sums) {
    if (sums.size() < 2) continue;
    std::string list;
    for (const auto& [sum, n] : sums)
      list += fmt::format("{}<code>{}</code> ({} run{})", list.empty() ? "" : ", ",
                          html_escape(sum.substr(0, 16)), n, n == 1 ? "" : "s");
    differences.push_back(
        fmt::format("<strong>dataset_sha256</strong> of {}: {}", html_escape(dataset), list));
  }
  if (!differences.empty()) {
    append(out,
           "<div class=\"warning\" id=\"conditions-warning\"><strong>&#9888; Runs were recorded "
           "under different conditions.</strong> Their results are not bit-comparable; differences "
           "between configurations may partly come from these:\n<ul>\n");
    for (const auto& d : differences) append(out, "<li>{}</li>\n", d);
    append(out, "</ul></div>\n");
  }

  // Distinct environments.
  using EnvKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                            std::string, std::string>;
  std::map<EnvKey, int> envs;
  int unrecorded = 0;
  for (const auto& r : runs) {
    if (!r.host) {
      ++unrecorded;
      continue;
    }
    ++envs[EnvKey{r.host.value_or(""), r.cpu_model.value_or(""), r.isa.value_or(""),
                  r.onednn_version.value_or(""),
                  r.threads ? std::to_string(*r.threads) : std::string(kDash),
                  r.compiler.value_or(""), r.git_commit.value_or("")}];
  }
  if (envs.empty()) {
    append(out, "<p class=\"note\">No run has started yet, so no environment was recorded.</p>\n");
  } else {
    append(out,
           "<div class=\"scroll\"><table><thead><tr><th>host</th><th>CPU</th><th>ISA</th>"
           "<th>oneDNN</th><th class=\"num\">threads</th><th>compiler</th><th>git commit</th>"
           "<th class=\"num\">runs</th></tr></thead><tbody>\n");
    for (const auto& [e, n] : envs)
      append(out,
             "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}"
             "</td><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>\n",
             html_escape(std::get<0>(e)), html_escape(std::get<1>(e)), html_escape(std::get<2>(e)),
             html_escape(std::get<3>(e)), html_escape(std::get<4>(e)), html_escape(std::get<5>(e)),
             html_escape(std::get<6>(e)), n);
    append(out, "</tbody></table></div>\n");
    if (unrecorded > 0)
      append(out, "<p class=\"note\">{} run{} never started (no environment recorded).</p>\n",
             unrecorded, unrecorded == 1 ? "" : "s");
  }

  for (const auto& s : sweeps)
    append(out,
           "<details><summary>Sweep file of <strong>{}</strong> ({}, updated {})</summary>"
           "<pre>{}</pre></details>\n",
           html_escape(s.name), html_escape(s.file), html_escape(s.updated_at),
           html_escape(s.yaml));
  append(out, "</section>\n");
}

void append_leaderboard(std::string& out, const std::vector<ConfigGroup>& groups, json& charts) {
  const bool other = std::any_of(groups.begin(), groups.end(),
                                 [](const ConfigGroup& g) { return !g.other_settings.empty(); });
  append(out,
         "<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n<p class=\"note\">One row per "
         "configuration (runs identical except for the seed), by mean test accuracy. &plusmn; is "
         "the sample standard deviation over seeds; the 95% confidence interval of the mean uses "
         "Student's t with n&minus;1 degrees of freedom.</p>\n"
         "<div class=\"scroll\"><table id=\"leaderboard-table\"><thead><tr><th>config</th>"
         "<th>architecture</th><th>optimizer</th><th class=\"num\" title=\"learning rate\">lr</th>"
         "<th class=\"num\" title=\"batch size\">batch</th>{}<th class=\"num\">seeds</th>"
         "<th class=\"num\" title=\"mean &plusmn; sample sd over seeds\">test accuracy</th>"
         "<th class=\"num\">95% CI</th>"
         "<th class=\"num\" title=\"best validation accuracy, mean over seeds\">best val.</th>"
         "<th class=\"num\" title=\"epochs completed, mean over seeds\">epochs</th>"
         "<th class=\"num\" title=\"wall time of a run in seconds, mean over seeds\">seconds</th>"
         "<th class=\"num\">parameters</th><th>status</th></tr></thead><tbody>\n",
         other ? "<th title=\"settings whose value differs from the one most configurations use\">"
                 "other settings</th>"
               : "");

  json summary_rows = json::array(), seed_rows = json::array();
  for (const ConfigGroup& g : groups) {
    const RunRow& r = *g.runs.front();
    std::string accuracy(kDash), ci(kDash), ci_title;
    if (g.test.n > 0) {
      accuracy = pct(g.test.mean);
      if (g.test.sd) accuracy += fmt::format(" &plusmn; {:.2f}", 100.0 * *g.test.sd);
    }
    if (g.test.ci_half_width) {
      const double h = *g.test.ci_half_width;
      ci = fmt::format("[{}, {}]", pct(g.test.mean - h), pct(g.test.mean + h));
      ci_title = fmt::format(
          " title=\"mean &plusmn; {:.2f} percentage points, t(0.975, {}) = {:.3f}\"", 100.0 * h,
          g.test.n - 1, stats::student_t_quantile(0.975, static_cast<double>(g.test.n - 1)));
    }
    const std::string seeds = g.test.n == g.runs.size()
                                  ? std::to_string(g.runs.size())
                                  : fmt::format("{} ({} tested)", g.runs.size(), g.test.n);
    append(out,
           "<tr data-config=\"{}\"><td><strong>{}</strong></td><td>{}</td><td>{}</td>"
           "<td class=\"num\">{:g}</td><td class=\"num\">{}</td>",
           g.id, g.id, html_escape(r.architecture), html_escape(r.optimizer), r.learning_rate,
           r.batch_size);
    if (other) append(out, "<td class=\"mono\">{}</td>", html_escape(g.other_settings));
    append(out,
           "<td class=\"num\">{}</td><td class=\"num test-accuracy\">{}</td><td class=\"num\"{}>{}"
           "</td><td class=\"num\">{}</td><td class=\"num\">{:.1f}</td><td class=\"num\">{}</td>"
           "<td class=\"num\">{}</td><td class=\"nowrap\">{}</td></tr>\n",
           seeds, accuracy, ci_title, ci, pct(g.best_val_mean), g.epochs_mean,
           seconds_text(g.seconds_mean),
           g.parameters ? thousands(*g.parameters) : std::string(kDash),
           html_escape(status_summary(g.runs)));

    if (g.test.n > 0) {
      json row = {{"config", g.label}, {"mean", g.test.mean}, {"n", g.test.n}};
      const double h = g.test.ci_half_width.value_or(0.0);
      row["lo"] = g.test.mean - h;
      row["hi"] = g.test.mean + h;
      summary_rows.push_back(row);
      for (const RunRow* run : g.runs)
        if (run->test_accuracy)
          seed_rows.push_back(
              {{"config", g.label}, {"seed", run->seed}, {"accuracy", *run->test_accuracy}});
    }
  }
  append(out, "</tbody></table></div>\n");

  if (summary_rows.empty()) {
    append(out, "</section>\n");
    return;
  }
  json order = json::array();
  bool clipped = false;  // with few seeds the t interval can pass 100 %; the axis stops there
  for (const auto& row : summary_rows) {
    order.push_back(row["config"]);
    clipped = clipped || row["hi"].get<double>() > 1.0;
  }
  json x_scale = {{"zero", false}};
  if (clipped) x_scale["domainMax"] = 1.0;
  const json y = {{"field", "config"},
                  {"type", "nominal"},
                  {"sort", order},
                  {"title", nullptr},
                  {"axis", {{"labelLimit", 360}}}};
  const json x_axis = {{"format", ".1%"}, {"grid", true}};
  charts["chart-accuracy"] = {
      {"width", 640},
      {"title", clipped ? "Test accuracy: seeds (circles), mean (bar) and 95% CI (clipped at 100%)"
                        : "Test accuracy: seeds (circles), mean (bar) and 95% CI"},
      {"layer",
       json::array(
           {{{"data", {{"values", summary_rows}}},
             {"mark", {{"type", "rule"}, {"strokeWidth", 2}, {"color", "#2b6cb0"}, {"clip", true}}},
             {"encoding",
              {{"y", y},
               {"x",
                {{"field", "lo"},
                 {"type", "quantitative"},
                 {"scale", x_scale},
                 {"title", "test accuracy"},
                 {"axis", x_axis}}},
               {"x2", {{"field", "hi"}}}}}},
            {{"data", {{"values", summary_rows}}},
             {"mark", {{"type", "tick"}, {"thickness", 3}, {"color", "#1d2330"}}},
             {"encoding",
              {{"y", y},
               {"x", {{"field", "mean"}, {"type", "quantitative"}}},
               {"tooltip", json::array({{{"field", "config"}},
                                        {{"field", "mean"}, {"format", ".2%"}},
                                        {{"field", "lo"}, {"format", ".2%"}, {"title", "CI low"}},
                                        {{"field", "hi"}, {"format", ".2%"}, {"title", "CI high"}},
                                        {{"field", "n"}, {"title", "seeds"}}})}}}},
            {{"data", {{"values", seed_rows}}},
             {"mark", {{"type", "point"}, {"opacity", 0.7}, {"color", "#d97706"}}},
             {"encoding",
              {{"y", y},
               {"x", {{"field", "accuracy"}, {"type", "quantitative"}}},
               {"tooltip", json::array({{{"field", "config"}},
                                        {{"field", "seed"}},
                                        {{"field", "accuracy"}, {"format", ".2%"}}})}}}}})}};
  append(out, "<div class=\"chart\" id=\"chart-accuracy\"></div>\n</section>\n");
}

/// Faceted line chart of one metric ("loss" or "accuracy"): one panel per configuration, train and
/// validation as colours, one line per seed.
json curve_chart(const json& rows, const json& order, const std::string& metric) {
  json y = {
      {"field", metric}, {"type", "quantitative"}, {"title", metric}, {"scale", {{"zero", false}}}};
  if (metric == "accuracy") y["axis"] = {{"format", ".1%"}};
  json tooltip =
      json::array({{{"field", "config"}},
                   {{"field", "seed"}},
                   {{"field", "split"}},
                   {{"field", "epoch"}},
                   {{"field", metric}, {"format", metric == "accuracy" ? ".2%" : ".4f"}}});
  return {
      {"data", {{"values", rows}}},
      {"transform",
       json::array(
           {{{"filter", fmt::format("isValid(datum.{0}) && isFinite(datum.{0})", metric)}}})},
      {"columns", 3},
      {"facet",
       {{"field", "config"},
        {"type", "nominal"},
        {"sort", order},
        {"title", nullptr},
        {"header", {{"labelLimit", 380}, {"labelFontSize", 12}, {"labelFontWeight", "bold"}}}}},
      {"spec",
       {{"width", 330},
        {"height", 160},
        {"mark", {{"type", "line"}, {"strokeWidth", 1.5}, {"opacity", 0.85}}},
        {"encoding",
         {{"x",
           {{"field", "epoch"},
            {"type", "quantitative"},
            {"title", "epoch"},
            {"axis", {{"tickMinStep", 1}, {"format", "d"}}}}},
          {"y", y},
          {"color",
           {{"field", "split"},
            {"type", "nominal"},
            {"title", nullptr},
            {"legend", {{"orient", "top"}}},
            {"scale", {{"domain", {"train", "validation"}}, {"range", {"#2b6cb0", "#d97706"}}}}}},
          {"detail", {{"field", "seed"}, {"type", "nominal"}}},
          {"tooltip", tooltip}}}}},
      {"resolve", {{"scale", {{"y", "independent"}}}}}};
}

void append_curves(std::string& out, SQLite::Database& database,
                   const std::vector<ConfigGroup>& groups, json& charts) {
  append(
      out,
      "<section id=\"curves\">\n<h2>Learning curves</h2>\n<p class=\"note\">Per configuration: "
      "train (blue) and validation (orange) per epoch, one line per seed. Training figures are "
      "averaged over each epoch in training mode; validation figures are measured after it.</p>\n");
  json rows = json::array(), order = json::array();
  for (const ConfigGroup& g : groups) {
    bool any = false;
    for (const RunRow* r : g.runs) {
      for (const EpochRow& e : read_epochs(database, r->id)) {
        any = true;
        rows.push_back({{"config", g.label},
                        {"seed", r->seed},
                        {"epoch", e.epoch},
                        {"split", "train"},
                        {"loss", e.train_loss},
                        {"accuracy", e.train_accuracy}});
        if (e.val_loss || e.val_accuracy) {
          json v = {
              {"config", g.label}, {"seed", r->seed}, {"epoch", e.epoch}, {"split", "validation"}};
          v["loss"] = e.val_loss ? json(*e.val_loss) : json(nullptr);
          v["accuracy"] = e.val_accuracy ? json(*e.val_accuracy) : json(nullptr);
          rows.push_back(std::move(v));
        }
      }
    }
    if (any) order.push_back(g.label);
  }
  if (rows.empty()) {
    append(out, "<p class=\"note\">No epoch has been recorded yet.</p>\n</section>\n");
    return;
  }
  charts["chart-loss"] = curve_chart(rows, order, "loss");
  charts["chart-curve-accuracy"] = curve_chart(rows, order, "accuracy");
  append(
      out,
      "<h3>Loss (cross-entropy, nats)</h3>\n<div class=\"chart\" id=\"chart-loss\"></div>\n"
      "<h3>Accuracy</h3>\n<div class=\"chart\" id=\"chart-curve-accuracy\"></div>\n</section>\n");
}

void append_best_run(std::string& out, SQLite::Database& database, const std::vector<RunRow>& runs,
                     const std::vector<ConfigGroup>& groups, json& charts) {
  append(out, "<section id=\"best\">\n<h2>Best run</h2>\n");
  const RunRow* best = nullptr;
  for (const auto& r : runs)
    if (r.test_accuracy && (!best || *r.test_accuracy > *best->test_accuracy)) best = &r;
  if (!best) {
    append(out, "<p class=\"note\">No run has a test accuracy yet.</p>\n</section>\n");
    return;
  }
  std::string config_id;
  for (const auto& g : groups)
    for (const RunRow* r : g.runs)
      if (r == best) config_id = g.id;
  append(out,
         "<p><strong>{}</strong> (run {}, key <code>{}</code>, configuration {}): test accuracy "
         "<strong>{}</strong> after {} epoch{}, {} s.</p>\n",
         html_escape(best->name), best->id, html_escape(best->key), config_id,
         pct(best->test_accuracy), best->epochs_completed, best->epochs_completed == 1 ? "" : "s",
         seconds_text(best->seconds));

  append(out, "<div class=\"cards\">\n");
  const auto cells = read_confusion(database, best->id);
  const auto classes = read_class_metrics(database, best->id);
  if (!cells.empty()) {
    int64_t labels = 0, max_count = 0;
    for (const auto& [tp, n] : cells) {
      labels = std::max({labels, tp.first + 1, tp.second + 1});
      max_count = std::max(max_count, n);
    }
    for (const auto& c : classes) labels = std::max(labels, c.label + 1);
    json values = json::array();
    for (int64_t t = 0; t < labels; ++t)
      for (int64_t p = 0; p < labels; ++p) {
        const auto it = cells.find({t, p});
        values.push_back(
            {{"true", t}, {"predicted", p}, {"count", it == cells.end() ? 0 : it->second}});
      }
    // The colour scale is symlog, so a cell is dark once its log-count passes ~55% of the maximum.
    const double dark = std::expm1(0.55 * std::log1p(static_cast<double>(max_count)));
    const int size = static_cast<int>(std::clamp<int64_t>(labels * 36, 200, 520));
    charts["chart-confusion"] = {
        {"data", {{"values", values}}},
        {"width", size},
        {"height", size},
        {"title", "Confusion matrix (test set)"},
        {"encoding",
         {{"x",
           {{"field", "predicted"},
            {"type", "ordinal"},
            {"title", "predicted label"},
            {"axis", {{"labelAngle", 0}}}}},
          {"y", {{"field", "true"}, {"type", "ordinal"}, {"title", "true label"}}}}},
        {"layer",
         json::array(
             {{{"mark", "rect"},
               {"encoding",
                {{"color",
                  {{"field", "count"},
                   {"type", "quantitative"},
                   {"scale", {{"type", "symlog"}, {"scheme", "blues"}}},
                   {"legend", {{"title", "images"}}}}},
                 {"tooltip", json::array({{{"field", "true"}, {"title", "true"}},
                                          {{"field", "predicted"}, {"title", "predicted"}},
                                          {{"field", "count"}, {"title", "images"}}})}}}},
              {{"transform", json::array({{{"filter", "datum.count > 0"}}})},
               {"mark", {{"type", "text"}, {"fontSize", labels > 12 ? 8 : 11}}},
               {"encoding",
                {{"text", {{"field", "count"}, {"type", "quantitative"}}},
                 {"color",
                  {{"condition",
                    {{"test", fmt::format("datum.count > {:.3f}", dark)}, {"value", "white"}}},
                   {"value", "#1d2330"}}}}}}})}};
    append(out, "<div class=\"chart\" id=\"chart-confusion\"></div>\n");
  } else {
    append(out, "<p class=\"note\">No confusion matrix recorded for this run.</p>\n");
  }

  if (!classes.empty()) {
    append(out,
           "<div><h3>Per-class metrics (test set)</h3><table id=\"class-metrics\"><thead><tr>"
           "<th class=\"num\">label</th><th class=\"num\">precision</th><th class=\"num\">recall"
           "</th><th class=\"num\">F1</th><th class=\"num\">support</th></tr></thead><tbody>\n");
    double p = 0, r = 0, f = 0;
    int64_t support = 0;
    for (const auto& c : classes) {
      append(out,
             "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
             "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
             c.label, pct(c.precision), pct(c.recall), pct(c.f1), thousands(c.support));
      p += c.precision;
      r += c.recall;
      f += c.f1;
      support += c.support;
    }
    const double k = static_cast<double>(classes.size());
    append(out,
           "</tbody><tfoot><tr><th>macro avg.</th><th class=\"num\">{}</th><th class=\"num\">{}"
           "</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></tfoot></table></div>\n",
           pct(p / k), pct(r / k), pct(f / k), thousands(support));
  }
  append(out, "</div>\n<h3>Configuration</h3>\n{}\n</section>\n", config_block(best->config_json));
}

void append_all_runs(std::string& out, const std::vector<RunRow>& runs,
                     const std::vector<ConfigGroup>& groups, bool several_sweeps) {
  std::map<const RunRow*, std::string> config_of;
  for (const auto& g : groups)
    for (const RunRow* r : g.runs) config_of[r] = g.id;
  append(out,
         "<section id=\"runs\">\n<h2>All runs</h2>\n<div class=\"scroll\"><table id=\"runs-table\">"
         "<thead><tr><th class=\"num\">id</th><th>key</th>{}<th>config</th><th>name</th>"
         "<th>status</th><th>error</th><th class=\"num\">epochs</th>"
         "<th class=\"num\">test accuracy</th><th class=\"num\">seconds</th><th>configuration</th>"
         "</tr></thead><tbody>\n",
         several_sweeps ? "<th>sweep</th>" : "");
  for (const auto& r : runs) {
    append(out, "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td>", r.id,
           html_escape(r.key));
    if (several_sweeps) append(out, "<td>{}</td>", html_escape(r.sweep));
    append(out,
           "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}/{}</td>"
           "<td class=\"num\">{}</td><td class=\"num\">{}</td>"
           "<td><details><summary>show</summary>{}</details></td></tr>\n",
           config_of[&r], html_escape(r.name), status_badge(r.status),
           r.error ? html_escape(*r.error) : std::string(), r.epochs_completed, r.epochs,
           pct(r.test_accuracy), seconds_text(r.seconds), config_block(r.config_json));
  }
  append(out, "</tbody></table></div>\n</section>\n");
}

/// Published results of the sweeps (table published_results) next to the measured test accuracy:
/// mean over the runs of that architecture in the sweep (one per seed), sample sd, Student-t 95%
/// interval, the per-seed values and whether the mean reaches the required bar.
void append_published(std::string& out, SQLite::Database& database, const std::vector<RunRow>& runs,
                      const std::string& sweep) {
  if (!database.tableExists("published_results")) return;
  SQLite::Statement q(database, R"sql(
    SELECT s.name, p.architecture, p.test_accuracy, p.required_test_accuracy, p.source
    FROM published_results p JOIN sweeps s ON s.id = p.sweep_id
    WHERE ?1 = '' OR s.name = ?1 ORDER BY s.name, p.architecture)sql");
  q.bind(1, sweep);
  std::string rows;
  while (q.executeStep()) {
    const std::string sweep_name = q.getColumn(0).getString();
    const std::string arch = q.getColumn(1).getString();
    const double published = q.getColumn(2).getDouble();
    const double required = q.getColumn(3).getDouble();
    std::vector<double> values;
    std::string seeds;
    for (const RunRow& r : runs)
      if (r.sweep == sweep_name && r.architecture == arch && r.test_accuracy) {
        values.push_back(*r.test_accuracy);
        seeds +=
            fmt::format("{}seed {}: {}", seeds.empty() ? "" : ", ", r.seed, pct(*r.test_accuracy));
      }
    std::string measured = "no finished run yet", interval = "&mdash;", verdict = "&mdash;";
    if (!values.empty()) {
      const stats::Summary m = stats::summarize(values);
      measured = fmt::format("{} (n={}{})", pct(m.mean), m.n,
                             m.sd ? fmt::format(", sd {:.2f} pts", 100 * *m.sd) : "");
      if (m.ci_half_width)
        interval = fmt::format("[{}, {}]", pct(m.mean - *m.ci_half_width),
                               pct(std::min(1.0, m.mean + *m.ci_half_width)));
      if (required > 0)
        verdict = m.mean >= required ? "<span class=\"ok\">reached</span>"
                                     : "<span class=\"bad\">missed</span>";
    }
    append(rows,
           "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
           "<td>{}</td></tr>\n",
           html_escape(arch), published > 0 ? pct(published) : "&mdash;",
           required > 0 ? "&ge; " + pct(required) : "&mdash;", measured, interval, verdict,
           html_escape(seeds), html_escape(q.getColumn(4).getString()));
  }
  if (rows.empty()) return;
  append(out,
         "<section id=\"published\">\n<h2>Published results</h2>\n<p class=\"note\">Test accuracy "
         "on the full test set: the published figure, the bar a reproduction must reach, and the "
         "measured mean over seeds with its Student-t 95% confidence interval.</p>\n"
         "<div class=\"scroll\"><table><thead><tr><th>architecture</th><th>published</th>"
         "<th>required</th><th>measured mean</th><th>95% CI</th><th>verdict</th><th>per seed</th>"
         "<th>source</th></tr></thead>\n<tbody>\n{}</tbody></table></div>\n</section>\n",
         rows);
}

void append_failures(std::string& out, const std::vector<RunRow>& runs) {
  append(out, "<section id=\"failures\">\n<h2>Failed, diverged and interrupted runs</h2>\n");
  std::vector<const RunRow*> problems;
  for (const auto& r : runs)
    if (is_problem(r.status)) problems.push_back(&r);
  if (problems.empty()) {
    append(out, "<p class=\"note\">None.</p>\n</section>\n");
    return;
  }
  append(out,
         "<table id=\"failures-table\"><thead><tr><th class=\"num\">id</th><th>name</th>"
         "<th>status</th><th class=\"num\">epochs</th><th>error</th></tr></thead><tbody>\n");
  for (const RunRow* r : problems) {
    std::string epochs = std::to_string(r->epochs_completed);
    if (r->diverged_epoch) epochs += fmt::format(" (diverged at {})", *r->diverged_epoch);
    append(out,
           "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
           "<td><pre>{}</pre></td></tr>\n",
           r->id, html_escape(r->name), status_badge(r->status), epochs,
           html_escape(r->error.value_or("(no message recorded)")));
  }
  append(out, "</tbody></table>\n</section>\n");
}

/// The inline script that renders every chart with vega-embed.
constexpr std::string_view kEmbedScript = R"js(
(function () {
  var specs = JSON.parse(document.getElementById('lenetlab-charts').textContent);
  Object.keys(specs).forEach(function (id) {
    var target = document.getElementById(id);
    if (typeof vegaEmbed !== 'function') {
      target.textContent = 'Charts unavailable: the Vega-Lite libraries did not load.';
      target.className += ' chart-error';
      return;
    }
    vegaEmbed(target, specs[id], {actions: false, renderer: 'svg', mode: 'vega-lite'})
      .catch(function (error) {
        target.textContent = 'Chart failed to render: ' + error;
        target.className += ' chart-error';
      });
  });
})();
)js";

struct Rendered {
  std::string html;
  int64_t runs = 0;
};

Rendered render(SQLite::Database& database, const fs::path& db, const ReportOptions& options) {
  std::vector<SweepRow> sweeps = read_sweeps(database);
  std::string present;
  for (const auto& s : sweeps) present += (present.empty() ? "" : ", ") + s.name;
  if (!options.sweep.empty()) {
    const auto it = std::find_if(sweeps.begin(), sweeps.end(),
                                 [&](const SweepRow& s) { return s.name == options.sweep; });
    if (it == sweeps.end())
      throw Error(fmt::format("sweep '{}' not found in {}; sweeps present: {}", options.sweep,
                              db.string(), present.empty() ? "none" : present));
    sweeps = {*it};
  }
  const std::vector<RunRow> runs = read_runs(database, options.sweep);
  if (runs.empty())
    throw Error(options.sweep.empty()
                    ? fmt::format("{} holds no runs (sweeps present: {}); run `lenetlab run "
                                  "SWEEP.yaml` first",
                                  db.string(), present.empty() ? "none" : present)
                    : fmt::format("sweep '{}' has no runs in {}; sweeps present: {}", options.sweep,
                                  db.string(), present));
  // Only sweeps that contribute runs (a database may hold sweeps whose runs were never queued).
  std::set<std::string> used;
  for (const auto& r : runs) used.insert(r.sweep);
  std::erase_if(sweeps, [&](const SweepRow& s) { return !used.count(s.name); });

  const ReportAssets assets =
      load_report_assets(options.assets_dir.empty() ? default_assets_dir() : options.assets_dir,
                         options.verify_assets);

  std::string names;
  for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
  const std::string title = options.title.empty() ? "lenetlab report: " + names : options.title;

  const std::vector<ConfigGroup> groups = group_runs(runs);
  json charts = json::object();
  std::string body;
  append_header(body, title, sweeps, runs);
  append_environment(body, sweeps, runs);
  append_published(body, database, runs, options.sweep);
  append_leaderboard(body, groups, charts);
  append_curves(body, database, groups, charts);
  append_best_run(body, database, runs, groups, charts);
  append_all_runs(body, runs, groups, sweeps.size() > 1);
  append_failures(body, runs);

  std::string page;
  page.reserve(body.size() + assets.vega.size() + assets.vega_lite.size() +
               assets.vega_embed.size() + 8192);
  append(page,
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"generator\" content=\"lenetlab report\">\n<title>{}</title>\n<style>{}"
         "</style>\n</head>\n<body>\n<main>\n",
         html_escape(title), kStyle);
  page += body;
  append(page, "</main>\n");
  for (const auto& [pin, text] : {std::pair{&kReportAssetPins[0], &assets.vega},
                                  std::pair{&kReportAssetPins[1], &assets.vega_lite},
                                  std::pair{&kReportAssetPins[2], &assets.vega_embed}}) {
    append(page, "<!-- {}@{} -->\n<script>\n", pin->package, pin->version);
    page += escape_inline_script(*text);
    page += "\n</script>\n";
  }
  append(page, "<script id=\"lenetlab-charts\" type=\"application/json\">{}</script>\n",
         // Names come from the database, which anyone can edit with sqlite3: bytes that are not
         // UTF-8 are shown as U+FFFD rather than failing the report (json::dump would throw).
         script_safe_json(charts.dump(-1, ' ', false, json::error_handler_t::replace)));
  append(page, "<script>{}</script>\n</body>\n</html>\n", kEmbedScript);
  return Rendered{std::move(page), static_cast<int64_t>(runs.size())};
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_safe_json(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (char c : json_text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

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

namespace {

Rendered render_checked(const fs::path& db, const ReportOptions& options) {
  SQLite::Database database = open_readonly(db);
  try {
    return render(database, db, options);
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot read results database {}: {}", db.string(), e.what()));
  }
}

}  // namespace

std::string render_report(const fs::path& db, const ReportOptions& options) {
  return render_checked(db, options).html;
}

ReportSummary write_report(const fs::path& db, const ReportOptions& options) {
  if (options.output.empty()) throw Error("report: no output file given");
  const Rendered rendered = render_checked(db, options);
  const std::string& html = rendered.html;

  const fs::path partial =
      options.output.parent_path() /
      fmt::format(".{}.partial-{}", options.output.filename().string(), ::getpid());
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("cannot write report {}", partial.string()));
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(partial, ignored);
      throw Error(fmt::format("cannot write report {}", partial.string()));
    }
  }
  std::error_code ec;
  fs::rename(partial, options.output, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw Error(fmt::format("cannot write report {}: {}", options.output.string(), ec.message()));
  }

  return ReportSummary{options.output, rendered.runs, html.size()};
}

}  // namespace lenetlab
