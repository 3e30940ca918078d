// Tests of `lenetlab query ...` (cli/query_command.cpp) driven through CLI11 as main() does.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "query/query_test_db.hpp"

namespace lenetlab {
namespace {

/// Parses `lenetlab --db <db> <args...>` and returns what the command printed on stdout.
std::string run_cli(const std::filesystem::path& db, std::vector<std::string> args) {
  CLI::App app{"lenetlab", "lenetlab"};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--db", global.db);
  add_query_command(app, global);

  args.insert(args.begin(), {"lenetlab", "--db", db.string()});
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());

  std::ostringstream captured;
  std::streambuf* previous = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(previous);
    throw;
  }
  std::cout.rdbuf(previous);
  return captured.str();
}

TEST_CASE("query command: sub-commands filters and formats") {
  test::QueryTestDb db;

  const std::string runs = run_cli(db.path, {"query", "runs", "--status", "finished"});
  CHECK(runs.rfind("id  key", 0) == 0);
  CHECK(std::count(runs.begin(), runs.end(), '\n') == 2 + 3);

  const std::string best = run_cli(
      db.path, {"query", "best", "--metric", "test_loss", "--limit", "2", "--format", "csv"});
  std::istringstream lines(best);
  std::string header, first, second, extra;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(header.rfind("rank,id,key,", 0) == 0);
  CHECK(first.rfind("1," + std::to_string(db.ids['D']) + "," + db.configs['D'].key(), 0) == 0);
  CHECK(second.rfind("2," + std::to_string(db.ids['A']) + ",", 0) == 0);
  CHECK_FALSE(std::getline(lines, extra));

  const auto curve = nlohmann::json::parse(
      run_cli(db.path, {"query", "curve", db.configs['A'].key(), "--format", "json"}));
  CHECK(curve.size() == 3);
  CHECK(curve[2]["epoch"] == 3);

  const auto sweeps =
      nlohmann::json::parse(run_cli(db.path, {"query", "sweeps", "--format", "json"}));
  CHECK(sweeps[0]["name"] == "alpha");
  CHECK(sweeps[0]["runs"] == 4);

  CHECK(run_cli(db.path, {"query", "sql", "SELECT count(*) AS n FROM runs", "--format", "csv"}) ==
        "n\n5\n");
  CHECK_THROWS_AS(run_cli(db.path, {"query", "sql", "DELETE FROM runs"}), StoreError);
  CHECK(run_cli(db.path, {"query", "sql", "SELECT count(*) AS n FROM runs", "--format", "csv"}) ==
        "n\n5\n");
}

TEST_CASE("query command: invalid arguments and a missing database") {
  test::QueryTestDb db;
  CHECK_THROWS_AS(run_cli(db.path, {"query", "best", "--metric", "accuracy"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query", "runs", "--status", "done"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query", "runs", "--format", "xml"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query", "best", "--limit", "0"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query", "curve"}), CLI::ParseError);
  CHECK_THROWS_AS(run_cli(db.path, {"query", "curve", "zzzz"}), Error);

  const auto missing = db.dir / "missing.db";
  CHECK_THROWS_WITH_AS(
      run_cli(missing, {"query", "runs"}),
      ("no results database at " + missing.string() + "; run `lenetlab run SWEEP` first").c_str(),
      StoreError);
  CHECK_FALSE(std::filesystem::exists(missing));
}

}  // namespace
}  // namespace lenetlab
