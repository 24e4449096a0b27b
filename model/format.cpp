#include "model/format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "model/strutil.h"

namespace hearth {
namespace {

void AppendChars(std::string* out, double v, std::chars_format f) {
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, f);
  out->append(buf, r.ptr);
}

bool AppendSpecial(std::string* out, double v) {
  if (std::isnan(v)) {
    *out += "NaN";
    return true;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return true;
  }
  return false;
}

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::string FormatUtcDateTime(int64_t ms, char sep, bool fixed_millis) {
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  std::string out = fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", y, mo, d, sep,
                                rem / 3600, (rem / 60) % 60, rem % 60);
  if (fixed_millis) {
    out += fmt::format(".{:03}", frac);
  } else if (frac != 0) {
    std::string f = fmt::format("{:03}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
  return out;
}

namespace {

std::string FormatRFC3339(int64_t ms, bool fixed_millis) {
  return FormatUtcDateTime(ms, 'T', fixed_millis) + 'Z';
}

bool ParseFixedInt(std::string_view s, size_t pos, size_t n, int* v) {
  if (pos + n > s.size()) return false;
  int r = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    r = r * 10 + (s[i] - '0');
  }
  *v = r;
  return true;
}

}  // namespace

void AppendGoFloat(std::string* out, double v, char fmt) {
  if (AppendSpecial(out, v)) return;
  switch (fmt) {
    case 'f':
      AppendChars(out, v, std::chars_format::fixed);
      return;
    case 'e':
      AppendChars(out, v, std::chars_format::scientific);
      return;
    default: {
      // 'g' shortest: %e when the decimal exponent is < -4 or >= 6 (Go uses precision 6 for
      // this decision when the precision is "shortest"), %f otherwise.
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
      std::string_view sci(buf, r.ptr - buf);
      size_t epos = sci.find('e');
      int exp = std::atoi(std::string(sci.substr(epos + 1)).c_str());
      if (exp < -4 || exp >= 6) {
        out->append(sci);
      } else {
        AppendChars(out, v, std::chars_format::fixed);
      }
      return;
    }
  }
}

std::string FormatGoFloat(double v, char fmt) {
  std::string out;
  AppendGoFloat(&out, v, fmt);
  return out;
}

void AppendJsonSampleValue(std::string* out, double v) {
  double a = std::fabs(v);
  char f = 'f';
  if (a != 0 && (a < 1e-6 || a >= 1e21)) f = 'e';
  AppendGoFloat(out, v, f);
}

std::string FormatJsonSampleValue(double v) {
  std::string out;
  AppendJsonSampleValue(&out, v);
  return out;
}

void AppendJsonTimestamp(std::string* out, int64_t ms) {
  // Prometheus' MarshalTimestamp: sign, integer seconds, then ".ddd" when ms != 0.
  uint64_t u = ms < 0 ? static_cast<uint64_t>(-(ms + 1)) + 1 : static_cast<uint64_t>(ms);
  if (ms < 0) out->push_back('-');
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), u / 1000);
  out->append(buf, r.ptr);
  unsigned frac = static_cast<unsigned>(u % 1000);
  if (frac != 0) {
    out->push_back('.');
    out->push_back(static_cast<char>('0' + frac / 100));
    out->push_back(static_cast<char>('0' + (frac / 10) % 10));
    out->push_back(static_cast<char>('0' + frac % 10));
  }
}

std::string FormatJsonTimestamp(int64_t ms) {
  std::string out;
  AppendJsonTimestamp(&out, ms);
  return out;
}

std::string FormatJsonNumber(double v) {
  // encoding/json: 'f' unless the exponent is < -6 or >= 21, then 'e' with a two-digit
  // minimum exponent cleaned to at least one digit ("1e-07" -> "1e-07", Go keeps two).
  double a = std::fabs(v);
  std::string out;
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    AppendGoFloat(&out, v, 'e');
    // Go's encoding/json turns "e-07" into "e-7".
    size_t n = out.size();
    if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
      out.erase(n - 2, 1);
    }
  } else {
    AppendGoFloat(&out, v, 'f');
  }
  return out;
}

std::string FormatExpositionValue(double v) { return FormatGoFloat(v, 'g'); }

std::string FormatRFC3339Nano(int64_t ms) { return FormatRFC3339(ms, false); }
std::string FormatRFC3339Millis(int64_t ms) { return FormatRFC3339(ms, true); }

Result<int64_t> ParseRFC3339(std::string_view s) {
  auto bad = [&] { return InvalidArgument("cannot parse {} as RFC 3339 time", QuoteGo(s)); };
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !ParseFixedInt(s, 0, 4, &y) || s[4] != '-' ||
      !ParseFixedInt(s, 5, 2, &mo) || s[7] != '-' || !ParseFixedInt(s, 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't') || !ParseFixedInt(s, 11, 2, &h) || s[13] != ':' ||
      !ParseFixedInt(s, 14, 2, &mi) || s[16] != ':' || !ParseFixedInt(s, 17, 2, &sec)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return bad();
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  if (pos >= s.size()) return bad();
  int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!ParseFixedInt(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseFixedInt(s, pos + 4, 2, &om)) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000 + frac_ms;
}

Result<int64_t> ParseApiTime(std::string_view s) {
  if (auto f = ParseGoFloat(s); f && !std::isnan(*f)) {
    // Prometheus: seconds as float, converted with nanosecond rounding; clamp to the int64
    // range of milliseconds so huge values (ms sent as seconds) stay usable.
    double ms = std::round(*f * 1000.0);
    if (ms >= 9.2233720368547e18) return std::numeric_limits<int64_t>::max();
    if (ms <= -9.2233720368547e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(ms);
  }
  if (auto t = ParseRFC3339(s); t.ok()) return t;
  return InvalidArgument("cannot parse {} to a valid timestamp", QuoteGo(s));
}

}  // namespace hearth
