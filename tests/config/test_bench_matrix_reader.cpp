// The bench matrix reader (bench/matrix.cpp) on config's YAML reader: duplicate keys at every
// level, aliases, UTF-8 and control characters, the size limit, in the sweeps' message style.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "bench/bench.hpp"
#include "config/yaml_reader.hpp"
#include "temp_dir.hpp"

namespace lenetlab {
namespace {

using namespace std::string_literals;

std::string error_of(const std::string& text) {
  try {
    parse_bench_matrix(text, "m.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

bool starts(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

TEST_CASE("bench matrix reader: duplicate keys are refused at every level, with both lines") {
  CHECK(starts(error_of("steps: 5\nsteps: 6\n"),
               "m.yaml:2:1: duplicate key 'steps' (first given at line 1)"));
  // Nested (a mapping where a list is expected): the duplicate is found before the type error.
  CHECK(starts(error_of("threads: {a: 1, a: 2}\n"),
               "m.yaml:1:17: duplicate key 'a' (first given at line 1)"));
}

TEST_CASE("bench matrix reader: aliases are refused") {
  CHECK(starts(error_of("steps: &s 5\nrepetitions: *s\n"),
               "m.yaml:2:14: YAML aliases ('*name') are not supported"));
}

TEST_CASE("bench matrix reader: not UTF-8, control characters") {
  CHECK(starts(error_of("dataset: 'caf\xe9'\n"), "m.yaml:1:14: not UTF-8 text: byte 0xE9"));
  CHECK(starts(error_of("dataset: \"mn\0ist\"\n"s),
               "m.yaml:1:13: control character U+0000 is not allowed in YAML"));
  CHECK(starts(error_of("# \x1b[31m\nsteps: 1\n"), "m.yaml:1:3: control character U+001B"));
}

TEST_CASE("bench matrix reader: unknown keys and bad values in the sweeps' wording") {
  CHECK(starts(error_of("step: 5\n"),
               "m.yaml:1:1: unknown key 'step' in bench matrix; valid keys: architectures, "
               "batch_sizes, threads, warmup_steps, steps, repetitions, dataset, seed, engine, "
               "micro_batch; did you "
               "mean 'steps'?"));
  CHECK(starts(error_of("threads: [1, [2]]\n"),
               "m.yaml:1:14: expected a single value in the list 'threads', found a list"));
  CHECK(starts(error_of("steps: 1000001\n"),
               "m.yaml:1:8: expected a positive integer no larger than 1000000 for 'steps'"));
  CHECK(starts(error_of("dataset: ''\n"),
               "m.yaml:1:10: expected a non-empty string for 'dataset', found ''"));
  CHECK(starts(error_of("---\nsteps: 1\n---\nsteps: 2\n"),
               "m.yaml:3:1: a second YAML document ('---')"));
}

TEST_CASE("bench matrix reader: an empty file or one of comments is the default matrix") {
  for (const std::string text : {"", "# nothing here\n"}) {
    const BenchMatrix m = parse_bench_matrix(text, "m.yaml");
    CHECK(m.batch_sizes == std::vector<int>{64, 128});
    CHECK_FALSE(m.architectures.empty());
  }
}

TEST_CASE("bench matrix reader: files above 1 MiB are refused before parsing") {
  test::TempDir dir;
  const auto path = dir.path() / "big.yaml";
  std::ofstream(path) << "# " << std::string(yaml::kMaxYamlBytes, 'x') << "\n";
  try {
    load_bench_matrix(path);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("file too large") != std::string::npos);
  }
  CHECK(starts(error_of("# "s + std::string(yaml::kMaxYamlBytes, 'x')), "m.yaml: file too large"));
}

}  // namespace
}  // namespace lenetlab
