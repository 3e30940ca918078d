// Tests of config/yaml_reader: the characters YAML 1.2 sec. 5.1 forbids, UTF-8, and their
// positions, through the sweep and architecture loaders that use it.
#include <doctest/doctest.h>

#include <string>

#include "config/architecture_loader.hpp"
#include "config/sweep_loader.hpp"
#include "config/yaml_reader.hpp"

namespace lenetlab {
namespace {

using namespace std::string_literals;

struct Caught {
  std::string detail = "<no error>";
  int line = 0;
  int column = 0;
};

Caught sweep_error(const std::string& text) {
  try {
    parse_sweep(text, "test.yaml");
  } catch (const ConfigError& e) {
    return Caught{e.detail(), e.mark().line, e.mark().column};
  }
  return Caught{};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kHead = "name: chars\n";

TEST_CASE("yaml reader: a NUL byte inside a quoted description is refused at its line:column") {
  const Caught c = sweep_error(kHead + "description: \"before\0after\"\n"s);
  CHECK(c.line == 2);
  CHECK(c.column == 21);
  CHECK(has(c.detail, "control character U+0000 is not allowed in YAML"));
}

TEST_CASE("yaml reader: C0 controls, DEL, C1 controls, surrogates and non-characters refused") {
  struct Case {
    std::string bytes;
    std::string expected;
  };
  const Case cases[] = {
      {"\x01", "control character U+0001"},
      {"\x1b", "control character U+001B"},
      {"\x0c", "control character U+000C"},
      {"\x7f", "control character U+007F"},
      {"\xc2\x80", "C1 control character U+0080"},
      {"\xc2\x9f", "C1 control character U+009F"},
      {"\xed\xa0\x80", "surrogate code point U+D800"},
      {"\xef\xbf\xbe", "non-character U+FFFE"},
      {"\xef\xbf\xbf", "non-character U+FFFF"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.expected);
    const Caught c = sweep_error(kHead + "description: 'ab" + k.bytes + "'\n");
    CHECK(c.line == 2);
    CHECK(c.column == 17);
    CHECK(has(c.detail, k.expected));
  }
}

TEST_CASE("yaml reader: tab, CR LF, NEL and printable Unicode are accepted") {
  const std::string text =
      "name: chars\r\ndescription: \"tab\there, NEL \xc2\x85, \xc3\xa9t\xc3\xa9 "
      "\xf0\x9f\x99\x82\"\r\n"
      "base: {architecture: lenet5}\r\n";
  const Sweep sweep = parse_sweep(text, "test.yaml");
  CHECK(sweep.runs.size() == 1);
}

TEST_CASE("yaml reader: the line and column count lines (LF, CR LF, CR) and characters") {
  const Caught lf = sweep_error("name: x\n# \xc3\xa9\xc3\xa9 comment \x02\n");
  CHECK(lf.line == 2);
  CHECK(lf.column == 14);
  const Caught crlf = sweep_error("name: x\r\n\r\n  \x03\r\n");
  CHECK(crlf.line == 3);
  CHECK(crlf.column == 3);
}

TEST_CASE("yaml reader: bytes that are not UTF-8 are refused at their position, comments too") {
  const Caught value = sweep_error(kHead + "description: 'caf\xe9'\n");
  CHECK(value.line == 2);
  CHECK(value.column == 18);
  CHECK(has(value.detail, "not UTF-8 text: byte 0xE9"));
  const Caught comment = sweep_error(kHead + "# \xff\n");
  CHECK(comment.line == 2);
  CHECK(comment.column == 3);
  const Caught truncated = sweep_error(kHead + "description: '\xe2\x82'\n");
  CHECK(truncated.line == 2);
  CHECK(has(truncated.detail, "not UTF-8 text: byte 0xE2"));
}

TEST_CASE("yaml reader: an escape that decodes to a forbidden character is refused at its value") {
  const Caught nul = sweep_error(kHead + "description: \"a\\0b\"\n");
  CHECK(nul.line == 2);
  CHECK(nul.column == 14);
  CHECK(has(nul.detail, "control character U+0000"));
  const Caught bell = sweep_error(kHead + "description: \"\\x07\"\n");
  CHECK(has(bell.detail, "control character U+0007"));
  // Escapes of allowed characters stay allowed.
  CHECK(
      sweep_error(kHead + "description: \"a\\tb\\u00e9\"\nbase: {architecture: lenet5}\n").detail ==
      "<no error>");
}

TEST_CASE("yaml reader: architectures are checked the same way") {
  try {
    parse_architecture("name: a\ndescription: \"x\x01\"\nlayers: [softmax]\n", "arch.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.mark().line == 2);
    CHECK(e.mark().column == 16);
    CHECK(has(e.detail(), "control character U+0001"));
  }
}

TEST_CASE("yaml reader: find_bad_character reports nothing for clean text") {
  CHECK_FALSE(yaml::find_bad_character("a: b\n\tc: 'd'\r\n").has_value());
  CHECK_FALSE(yaml::find_bad_character("").has_value());
  const auto bad = yaml::find_bad_character("ok\n\x7f");
  REQUIRE(bad.has_value());
  CHECK(bad->line == 2);
  CHECK(bad->column == 1);
}

}  // namespace
}  // namespace lenetlab
