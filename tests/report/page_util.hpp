// Helpers of the report's page tests: counting and cutting markup, stand-in JS libraries.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

#include "report/assets.hpp"

namespace lenetlab::test {

/// Occurrences of `what` in `text`.
inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// From the first `start` up to the next `end`; fails the test when either is missing.
inline std::string between(const std::string& text, const std::string& start,
                           const std::string& end) {
  const std::size_t from = text.find(start);
  REQUIRE(from != std::string::npos);
  const std::size_t to = text.find(end, from);
  REQUIRE(to != std::string::npos);
  return text.substr(from, to - from);
}

/// Stand-ins for the three libraries (the page tests look at markup, not drawing).
inline const ReportAssets kStandIns{"var vega = 1;", "var vegaLite = 1;", "var vegaEmbed = 1;"};

}  // namespace lenetlab::test
