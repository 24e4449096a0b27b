#pragma once

// Prometheus durations: "1h30m", "1d", "1w", "1y", "500ms", "0", and Go-style compound values
// such as "1m0s" and "1h0m0s" that Grafana sends. Units go from largest to smallest, each at
// most once; no fractions, no sign. Values are int64 milliseconds.

#include <cstdint>
#include <string>
#include <string_view>

#include "model/status.h"

namespace hearth {

inline constexpr int64_t kMillisPerSecond = 1000;
inline constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
inline constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
inline constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;
inline constexpr int64_t kMillisPerWeek = 7 * kMillisPerDay;
inline constexpr int64_t kMillisPerYear = 365 * kMillisPerDay;

// Errors use Prometheus' wording: `not a valid duration string: "1.5h"`,
// `unknown unit "x" in duration "5x"`, `duration out of range`, `empty duration string`.
Result<int64_t> ParseDuration(std::string_view s);

// Prometheus' model.Duration.String(): "0s", "1h30m", "2w", "1y", "90d", "1m0s" never appears
// (zero parts are omitted); y and w only when they divide exactly.
std::string FormatDuration(int64_t ms);

// A duration parameter of the HTTP API: float seconds ("15", "0.5") or a Prometheus duration.
Result<int64_t> ParseDurationOrSeconds(std::string_view s);

}  // namespace hearth
