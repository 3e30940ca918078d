// Tests of query/query.hpp (named queries and the table/CSV/JSON sinks) and of the read-only raw SQL
// they print (ResultsReader::execute_sql).
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "query/query.hpp"
#include "query/query_test_db.hpp"

namespace lenetlab {
namespace {

using test::contains;
using test::error_of;
using test::QueryTestDb;

std::unique_ptr<ResultsReader> open_results(const std::filesystem::path& path) {
  return std::make_unique<ResultsReader>(path);
}

/// `lenetlab query sql`: a reader of its own, one statement.
ResultTable query_sql(const std::filesystem::path& path, const std::string& sql) {
  return ResultsReader(path).execute_sql(sql);
}

/// Values of one column, as the text the table sink shows.
std::vector<std::string> column_text(const ResultTable& table, const std::string& name) {
  std::vector<std::string> out;
  const size_t c = table.column(name);
  for (const auto& row : table.rows) {
    if (const auto* s = std::get_if<std::string>(&row[c]))
      out.push_back(*s);
    else if (const auto* i = std::get_if<int64_t>(&row[c]))
      out.push_back(std::to_string(*i));
    else
      out.push_back("?");
  }
  return out;
}

std::vector<int64_t> ids(const ResultTable& table) {
  std::vector<int64_t> out;
  const size_t c = table.column("id");
  for (const auto& row : table.rows) out.push_back(std::get<int64_t>(row[c]));
  return out;
}

TEST_CASE(
    "query: runs: all runs with the documented columns filtered by sweep status arch optimizer") {
  QueryTestDb db;
  auto store = open_results(db.path);
  const ResultTable all = query_runs(*store, {});
  CHECK(all.columns == std::vector<std::string>{"id", "key", "sweep", "name", "architecture",
                                                "optimizer", "learning_rate", "batch_size", "seed",
                                                "status", "epochs_completed", "best_val_accuracy",
                                                "test_accuracy", "seconds"});
  CHECK(ids(all) ==
        std::vector<int64_t>{db.ids['A'], db.ids['B'], db.ids['C'], db.ids['D'], db.ids['E']});
  CHECK(column_text(all, "key")[0] == db.configs['A'].key());
  CHECK(column_text(all, "name")[0] == db.configs['A'].display_name());

  RunFilter finished;
  finished.status = RunStatus::finished;
  CHECK(ids(query_runs(*store, finished)) ==
        std::vector<int64_t>{db.ids['A'], db.ids['B'], db.ids['D']});

  RunFilter lenet5;
  lenet5.architecture = "lenet5";
  CHECK(ids(query_runs(*store, lenet5)) == std::vector<int64_t>{db.ids['C'], db.ids['D']});

  RunFilter relu_sgd;
  relu_sgd.architecture = "lenet-relu";
  relu_sgd.optimizer = "sgd";
  CHECK(ids(query_runs(*store, relu_sgd)) == std::vector<int64_t>{db.ids['A'], db.ids['E']});

  RunFilter beta;
  beta.sweep = "beta";
  const ResultTable in_beta = query_runs(*store, beta);
  CHECK(ids(in_beta) == std::vector<int64_t>{db.ids['E']});
  CHECK(column_text(in_beta, "status") == std::vector<std::string>{"running"});

  CHECK(contains(error_of<Error>([&] { run_status_from_string("done"); }), "unknown run status"));
}

TEST_CASE("query: best: ranked by the metric in its direction unfinished runs left out") {
  QueryTestDb db;
  auto store = open_results(db.path);
  const ResultTable by_accuracy = query_best(*store, {});
  CHECK(by_accuracy.columns.front() == "rank");
  CHECK(ids(by_accuracy) == std::vector<int64_t>{db.ids['B'], db.ids['A'], db.ids['D']});
  CHECK(column_text(by_accuracy, "rank") == std::vector<std::string>{"1", "2", "3"});

  CHECK(ids(query_best(*store, {}, RankMetric::test_loss)) ==
        std::vector<int64_t>{db.ids['D'], db.ids['A'], db.ids['B']});
  CHECK(ids(query_best(*store, {}, RankMetric::seconds)) ==
        std::vector<int64_t>{db.ids['D'], db.ids['A'], db.ids['B']});
  CHECK(ids(query_best(*store, {}, RankMetric::best_val_accuracy, 2)) ==
        std::vector<int64_t>{db.ids['B'], db.ids['A']});

  RunFilter failed;
  failed.status = RunStatus::failed;
  CHECK(ids(query_best(*store, failed, RankMetric::seconds)) == std::vector<int64_t>{db.ids['C']});

  RunFilter adam;
  adam.optimizer = "adam";
  CHECK(ids(query_best(*store, adam, RankMetric::test_loss)) ==
        std::vector<int64_t>{db.ids['D'], db.ids['B']});

  CHECK(contains(error_of<Error>([&] { query_best(*store, {}, RankMetric::seconds, 0); }),
                 "--limit"));
  CHECK(rank_metric_from_string("test_loss") == RankMetric::test_loss);
  CHECK(lower_is_better(RankMetric::seconds));
  CHECK_FALSE(lower_is_better(RankMetric::best_val_accuracy));
  CHECK(contains(error_of<Error>([] { rank_metric_from_string("accuracy"); }),
                 "test_accuracy, best_val_accuracy, test_loss or seconds"));
}

TEST_CASE("query: curve: by key id or unique key prefix - one row per epoch") {
  QueryTestDb db;
  auto store = open_results(db.path);
  const std::string key = db.configs['A'].key();

  // The shortest prefix of A's key that no other key shares.
  std::string prefix;
  for (size_t n = 1; n <= key.size() && prefix.empty(); ++n) {
    int matches = 0;
    for (const auto& [run, config] : db.configs)
      matches += config.key().compare(0, n, key, 0, n) == 0;
    if (matches == 1) prefix = key.substr(0, n);
  }
  REQUIRE_FALSE(prefix.empty());

  for (const std::string& name : {key, std::to_string(db.ids['A']), prefix}) {
    CAPTURE(name);
    CHECK(store->resolve_run(name) == db.ids['A']);
    const ResultTable curve = query_curve(*store, name);
    CHECK(curve.columns == std::vector<std::string>{"epoch", "train_loss", "train_accuracy",
                                                    "val_loss", "val_accuracy", "learning_rate",
                                                    "seconds", "images_per_second", "data_hash"});
    CHECK(column_text(curve, "epoch") == std::vector<std::string>{"1", "2", "3"});
    CHECK(column_text(curve, "data_hash")[1] == test::make_epoch(2).data_hash);
    CHECK(std::get<double>(curve.rows[1][curve.column("train_loss")]) == doctest::Approx(0.5));
  }

  const ResultTable no_validation = query_curve(*store, db.configs['D'].key());
  REQUIRE(no_validation.rows.size() == 2);
  CHECK(std::holds_alternative<std::monostate>(
      no_validation.rows[0][no_validation.column("val_loss")]));

  CHECK(contains(error_of<Error>([&] { query_curve(*store, "zzzz"); }), "no run matches 'zzzz'"));
  CHECK(contains(error_of<Error>([&] { query_curve(*store, ""); }), "no run given"));
  // An ambiguous prefix, when two keys share their first digit.
  std::set<char> first_digits;
  for (const auto& [run, config] : db.configs) {
    const char first = config.key()[0];
    if (!first_digits.insert(first).second) {
      CHECK(contains(error_of<Error>([&] { query_curve(*store, std::string(1, first)); }),
                     "ambiguous"));
      break;
    }
  }
}

TEST_CASE("query: sweeps: run and finished counts per sweep") {
  QueryTestDb db;
  auto store = open_results(db.path);
  const ResultTable sweeps = query_sweeps(*store);
  CHECK(sweeps.columns == std::vector<std::string>{"name", "runs", "finished", "created_at"});
  CHECK(column_text(sweeps, "name") == std::vector<std::string>{"alpha", "beta"});
  CHECK(column_text(sweeps, "runs") == std::vector<std::string>{"4", "1"});
  CHECK(column_text(sweeps, "finished") == std::vector<std::string>{"3", "0"});
}

TEST_CASE("query: sql: one read-only statement - SQLite refuses writes") {
  QueryTestDb db;
  const ResultTable count = query_sql(db.path, "SELECT count(*) AS n FROM runs");
  CHECK(count.columns == std::vector<std::string>{"n"});
  CHECK(std::get<int64_t>(count.rows.at(0).at(0)) == 5);
  CHECK(query_sql(db.path, "SELECT 1;  -- a trailing comment\n").rows.size() == 1);

  for (const char* write : {"INSERT INTO sweeps (name, file, yaml, created_at, updated_at) "
                            "VALUES ('x', 'x', 'x', 'now', 'now')",
                            "DELETE FROM runs", "UPDATE runs SET status = 'failed'",
                            "DROP TABLE epochs", "CREATE TABLE t (x)"}) {
    CAPTURE(write);
    const std::string message = error_of<StoreError>([&] { query_sql(db.path, write); });
    CHECK(contains(message, "is opened read-only"));
    CHECK(contains(message, db.path.string()));
  }
  CHECK(std::get<int64_t>(query_sql(db.path, "SELECT count(*) FROM runs").rows[0][0]) == 5);
  CHECK(std::get<int64_t>(query_sql(db.path, "SELECT count(*) FROM epochs").rows[0][0]) == 6);

  for (const char* several : {"SELECT 1; SELECT 2", "SELECT 1; DROP TABLE runs",
                              "PRAGMA query_only = 0; DELETE FROM runs"}) {
    CAPTURE(several);
    CHECK(contains(error_of<Error>([&] { query_sql(db.path, several); }),
                   "only one SQL statement is allowed"));
  }
  CHECK(std::get<int64_t>(query_sql(db.path, "SELECT count(*) FROM runs").rows[0][0]) == 5);

  CHECK(
      contains(error_of<Error>([&] { query_sql(db.path, "  -- nothing\n"); }), "no SQL statement"));
  CHECK(contains(error_of<StoreError>([&] { query_sql(db.path, "SELEC 1"); }), "syntax error"));
  CHECK(contains(error_of<StoreError>([&] { query_sql(db.path, "SELECT nope FROM runs"); }),
                 "no such column"));
}

TEST_CASE("query: a missing database is reported not created") {
  test::TempDir dir;
  const auto path = dir / "none/results.db";
  const std::string expected =
      "no results database at " + path.string() + "; run `lenetlab run SWEEP` first";
  CHECK(error_of<StoreError>([&] { open_results(path); }) == expected);
  CHECK(error_of<StoreError>([&] { query_sql(path, "SELECT 1"); }) == expected);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path.parent_path()));
}

TEST_CASE("query: csv: RFC 4180 quoting NULL as an empty field exact reals") {
  ResultTable table;
  table.columns = {"id", "name", "accuracy", "note"};
  table.rows = {{int64_t{1}, std::string("lenet \"big\", v2"), 0.1, std::monostate{}},
                {int64_t{2}, std::string("two\nlines"), 1e-5, std::string("plain")}};
  CHECK(format_csv(table) ==
        "id,name,accuracy,note\n"
        "1,\"lenet \"\"big\"\", v2\",0.1,\n"
        "2,\"two\nlines\",1e-05,plain\n");
  CHECK(format_result(table, OutputFormat::csv) == format_csv(table));

  // The same through SQL: a name with a comma and a quote.
  QueryTestDb db;
  CHECK(format_csv(query_sql(db.path, "SELECT 'a, \"b\"' AS name, 3 AS n")) ==
        "name,n\n\"a, \"\"b\"\"\",3\n");
}

TEST_CASE("query: json: numbers are numbers NULL is null keys in column order") {
  QueryTestDb db;
  const ResultTable table =
      query_sql(db.path, "SELECT 7 AS i, 0.25 AS r, 'x' AS t, NULL AS n, X'0aff' AS b");
  const nlohmann::ordered_json json = to_json(table);
  REQUIRE(json.is_array());
  REQUIRE(json.size() == 1);
  CHECK(json[0]["i"].is_number_integer());
  CHECK(json[0]["i"] == 7);
  CHECK(json[0]["r"].is_number_float());
  CHECK(json[0]["r"] == 0.25);
  CHECK(json[0]["t"] == "x");
  CHECK(json[0]["n"].is_null());
  CHECK(json[0]["b"] == "X'0AFF'");
  CHECK(json.dump() == R"([{"i":7,"r":0.25,"t":"x","n":null,"b":"X'0AFF'"}])");

  const auto parsed = nlohmann::json::parse(format_json(query_runs(*open_results(db.path), {})));
  REQUIRE(parsed.size() == 5);
  CHECK(parsed[0]["id"].is_number_integer());
  CHECK(parsed[0]["test_accuracy"].is_number_float());
  CHECK(parsed[4]["test_accuracy"].is_null());
  CHECK(parsed[0]["status"] == "finished");
  CHECK(format_json(ResultTable{{"a"}, {}, {}}) == "[]\n");
}

TEST_CASE("query: table: header rule numbers right-aligned NULL as '-'") {
  ResultTable table;
  table.columns = {"id", "name", "accuracy"};
  table.rows = {{int64_t{1}, std::string("a"), 0.98765},
                {int64_t{12}, std::string("long name"), std::monostate{}},
                {int64_t{3}, std::string("tab\there"), 1e-5}};
  CHECK(format_table(table) ==
        "id  name       accuracy\n"
        "--  ---------  --------\n"
        " 1  a            0.9877\n"
        "12  long name         -\n"
        " 3  tab\\there     1e-05\n");

  ResultTable reals;
  reals.columns = {"x"};
  for (double x : {0.0, 2.0, 123.456789, -0.5, 12345678.0, 0.00123}) reals.rows.push_back({x});
  CHECK(format_table(reals) ==
        "        x\n"
        "---------\n"
        "        0\n"
        "        2\n"
        " 123.4568\n"
        "     -0.5\n"
        "1.235e+07\n"
        "   0.0012\n");

  QueryTestDb db;
  const std::string runs = format_table(query_runs(*open_results(db.path), {}));
  std::istringstream lines(runs);
  std::string header, rule;
  std::getline(lines, header);
  std::getline(lines, rule);
  CHECK(header.rfind("id  key", 0) == 0);
  CHECK(contains(header, "test_accuracy"));
  CHECK(rule.find_first_not_of("- ") == std::string::npos);
  CHECK(format_result(table, OutputFormat::table) == format_table(table));
}

TEST_CASE("query: output format names") {
  CHECK(output_format_from_string("json") == OutputFormat::json);
  CHECK(std::string(to_string(OutputFormat::csv)) == "csv");
  CHECK(contains(error_of<Error>([] { output_format_from_string("xml"); }),
                 "expected table, csv or json"));
}

}  // namespace
}  // namespace lenetlab
