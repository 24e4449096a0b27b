#pragma once

// Number and time formatting exactly as Prometheus (Go) writes them. Clients parse these
// strings strictly (client_golang rejects exponents in timestamps), so every byte matters.

#include <cstdint>
#include <string>
#include <string_view>

#include "model/status.h"

namespace hearth {

// Go's strconv.FormatFloat(v, fmt, -1, 64) for fmt in 'f', 'e', 'g' (shortest round-trip
// digits), except that infinities are "+Inf" / "-Inf" and NaN is "NaN" as Prometheus writes.
std::string FormatGoFloat(double v, char fmt);
// Appends instead of returning; for hot writers.
void AppendGoFloat(std::string* out, double v, char fmt);

// A sample value in the API's JSON (unquoted): 'f' format, switching to 'e' when
// 0 < |v| < 1e-6 or |v| >= 1e21; "NaN", "+Inf", "-Inf".
void AppendJsonSampleValue(std::string* out, double v);
std::string FormatJsonSampleValue(double v);

// A timestamp in the API's JSON for vectors and matrices: seconds, then "." and exactly three
// digits when the milliseconds are not zero: 1435781451, 1435781451.005, -1.500.
void AppendJsonTimestamp(std::string* out, int64_t ms);
std::string FormatJsonTimestamp(int64_t ms);

// Go's encoding/json for a float64 (scalar result times, durations in seconds): shortest form,
// exponent only below 1e-6 or from 1e21 on.
std::string FormatJsonNumber(double v);

// A value in the text exposition format: Go's 'g' shortest ("1e+06", "0.5"), "+Inf", "-Inf",
// "NaN".
std::string FormatExpositionValue(double v);

// RFC 3339 in UTC. Nano form trims trailing zeros as Go's time.RFC3339Nano does
// ("2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05Z"); Millis always has three digits
// ("2024-01-02T03:04:05.100Z", Alertmanager's format).
std::string FormatRFC3339Nano(int64_t ms);
std::string FormatRFC3339Millis(int64_t ms);
// "2024-01-02<sep>03:04:05.1" in UTC without a zone: the fraction trimmed of trailing zeros
// (and left out when zero) unless `fixed_millis`. The base of the formats above and of Go's
// time.String() ("2024-01-02 03:04:05.1 +0000 UTC").
std::string FormatUtcDateTime(int64_t ms, char sep, bool fixed_millis);

// Parses RFC 3339 ("2024-01-02T03:04:05Z", with fractional seconds and a numeric zone offset)
// to milliseconds since the epoch (fractions below a millisecond are truncated).
Result<int64_t> ParseRFC3339(std::string_view s);

// The API's time parameter: float Unix seconds of any precision and size (rounded to the
// millisecond), or RFC 3339. Errors read `cannot parse "x" to a valid timestamp`.
Result<int64_t> ParseApiTime(std::string_view s);

}  // namespace hearth
