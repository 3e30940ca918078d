// core/text: thousands() and the two time formats.
#include "core/text.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <regex>
#include <string>

using lenetlab::display_utc_now;
using lenetlab::iso_utc_now;
using lenetlab::thousands;

TEST_CASE("thousands groups digits by three") {
  CHECK(thousands(0) == "0");
  CHECK(thousands(7) == "7");
  CHECK(thousands(999) == "999");
  CHECK(thousands(1000) == "1,000");
  CHECK(thousands(61706) == "61,706");
  CHECK(thousands(1256080) == "1,256,080");
  CHECK(thousands(-1000) == "-1,000");
  CHECK(thousands(-999) == "-999");
  CHECK(thousands(std::numeric_limits<int64_t>::max()) == "9,223,372,036,854,775,807");
  CHECK(thousands(std::numeric_limits<int64_t>::min()) == "-9,223,372,036,854,775,808");
}

TEST_CASE("iso_utc_now: ISO 8601 UTC with milliseconds, earlier times sort first") {
  const std::string now = iso_utc_now();
  CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  const std::string earlier = iso_utc_now(3600);
  CHECK(earlier < now);
  CHECK(earlier.substr(0, 4) >= "2024");
}

TEST_CASE("display_utc_now: 'YYYY-MM-DD HH:MM:SS UTC'") {
  const std::string now = display_utc_now();
  CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)")));
}
