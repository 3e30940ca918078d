// Small text formats shared by the CLI, the store and the report: digit grouping and time stamps.
#pragma once

#include <cstdint>
#include <string>

namespace lenetlab {

/// Decimal digits grouped by three with commas (English convention, independent of the locale):
/// 61706 -> "61,706", -1256080 -> "-1,256,080", 999 -> "999". Exact for every int64_t, including
/// INT64_MIN.
std::string thousands(int64_t value);

/// The current UTC time minus `ago_seconds`, as ISO 8601 with milliseconds:
/// "2026-11-21T15:30:00.123Z" (always 24 characters). The format of every time column of the
/// results database; such strings sort like the times they name.
std::string iso_utc_now(int ago_seconds = 0);

/// The current UTC time for people, to the second: "2026-11-21 15:30:00 UTC" (the report's
/// "generated" line).
std::string display_utc_now();

}  // namespace lenetlab
