#include "model/duration.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "model/strutil.h"

namespace hearth {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Unit {
  std::string_view name;
  int pos;          // units must appear in increasing pos order
  uint64_t nanos;   // Go measures the range in time.Duration (nanoseconds)
};

constexpr Unit kUnits[] = {
    {"y", 1, 365ULL * 24 * 3600 * 1000000000ULL}, {"w", 2, 7ULL * 24 * 3600 * 1000000000ULL},
    {"d", 3, 24ULL * 3600 * 1000000000ULL},       {"h", 4, 3600ULL * 1000000000ULL},
    {"m", 5, 60ULL * 1000000000ULL},              {"s", 6, 1000000000ULL},
    {"ms", 7, 1000000ULL},
};

}  // namespace

Result<int64_t> ParseDuration(std::string_view s) {
  if (s == "0") return int64_t{0};
  if (s.empty()) return InvalidArgument("empty duration string");
  const std::string_view orig = s;
  auto invalid = [&] { return InvalidArgument("not a valid duration string: {}", QuoteGo(orig)); };
  uint64_t total_ns = 0;
  int last_pos = 0;
  constexpr uint64_t kMaxNs = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  while (!s.empty()) {
    if (!IsDigit(s[0])) return invalid();
    size_t i = 0;
    while (i < s.size() && IsDigit(s[i])) ++i;
    auto v = ParseUint64(s.substr(0, i));
    if (!v) return invalid();
    s.remove_prefix(i);
    i = 0;
    while (i < s.size() && !IsDigit(s[i])) ++i;
    if (i == 0) return invalid();
    std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& k : kUnits) {
      if (k.name == u) unit = &k;
    }
    if (unit == nullptr) {
      return InvalidArgument("unknown unit {} in duration {}", QuoteGo(u), QuoteGo(orig));
    }
    if (unit->pos <= last_pos) return invalid();
    last_pos = unit->pos;
    if (*v > (uint64_t{1} << 63) / unit->nanos) return InvalidArgument("duration out of range");
    total_ns += *v * unit->nanos;
    if (total_ns > kMaxNs) return InvalidArgument("duration out of range");
  }
  return static_cast<int64_t>(total_ns / 1000000);
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  auto part = [&](std::string_view unit, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (int64_t v = ms / mult; v > 0) {
      out += fmt::format("{}{}", v, unit);
      ms -= v * mult;
    }
  };
  part("y", kMillisPerYear, true);
  part("w", kMillisPerWeek, true);
  part("d", kMillisPerDay, false);
  part("h", kMillisPerHour, false);
  part("m", kMillisPerMinute, false);
  part("s", kMillisPerSecond, false);
  part("ms", 1, false);
  return out;
}

Result<int64_t> ParseDurationOrSeconds(std::string_view s) {
  if (auto f = ParseGoFloat(s)) {
    double ms = *f * 1000.0;
    if (std::isnan(ms) || ms >= 9.2e18 || ms <= -9.2e18) {
      return InvalidArgument("cannot parse {} to a valid duration. It overflows int64", QuoteGo(s));
    }
    return static_cast<int64_t>(std::llround(ms));
  }
  auto d = ParseDuration(s);
  if (!d.ok()) return InvalidArgument("cannot parse {} to a valid duration", QuoteGo(s));
  return d;
}

}  // namespace hearth
