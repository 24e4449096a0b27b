#include "query/parser/numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "model/strutil.h"

namespace hearth::promql {
namespace {

// Go's underscoreOK (strconv): underscores only between digits or after a base prefix.
bool UnderscoreOK(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  bool hex = false;
  auto lower = [](char c) { return static_cast<char>(c | 0x20); };
  if (s.size() >= 2 && s[0] == '0' && (lower(s[1]) == 'b' || lower(s[1]) == 'o' ||
                                       lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

}  // namespace

std::optional<int64_t> ParseIntBase0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const std::string_view orig = s;
  int base = 10;
  if (s.size() >= 3 && s[0] == '0' && (s[1] | 0x20) == 'x') {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 3 && s[0] == '0' && ((s[1] | 0x20) == 'o' || (s[1] | 0x20) == 'b')) {
    base = (s[1] | 0x20) == 'o' ? 8 : 2;
    s.remove_prefix(2);
  } else if (s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  uint64_t v = 0;
  bool underscores = false;
  bool any = base == 8;  // a lone "0" is valid
  for (char c : s) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      d = (c | 0x20) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                static_cast<uint64_t>(base)) {
      return std::nullopt;  // out of range: the caller falls back to a float
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    any = true;
  }
  if (!any || (underscores && !UnderscoreOK(orig))) return std::nullopt;
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> ParseFloatGo(std::string_view s, bool* range_error) {
  *range_error = false;
  std::string lower = ToLowerAscii(s);
  if (lower == "inf" || lower == "infinity") return std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  std::string buf;
  buf.reserve(s.size());
  bool underscores = false;
  bool digits = false;
  for (char c : s) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c >= '0' && c <= '9') digits = true;
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
    buf.push_back(c);
  }
  if (!digits || (underscores && !UnderscoreOK(s))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size()) return std::nullopt;
  if (errno == ERANGE && std::isinf(v)) *range_error = true;
  return v;
}

}  // namespace hearth::promql
