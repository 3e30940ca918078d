#include "core/text.hpp"

#include <fmt/format.h>
#include <time.h>

#include <chrono>
#include <ctime>

namespace lenetlab {

namespace {

/// Broken-down UTC time of a system_clock time point.
std::tm utc_tm(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string thousands(int64_t value) {
  // The magnitude as unsigned, so that INT64_MIN (whose negation overflows) is exact.
  const uint64_t magnitude =
      value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const std::string digits = std::to_string(magnitude);
  std::string out = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string iso_utc_now(int ago_seconds) {
  const auto now = std::chrono::system_clock::now() - std::chrono::seconds(ago_seconds);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::tm tm = utc_tm(now);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
}

std::string display_utc_now() {
  const std::tm tm = utc_tm(std::chrono::system_clock::now());
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace lenetlab
