#include "model/strutil.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hearth {

std::string QuoteGo(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = u[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool valid = n != 0 && i + n <= s.size();
    for (size_t k = 1; valid && k < n; ++k) valid = (u[i + k] & 0xc0) == 0x80;
    if (!valid) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
  return out;
}

namespace {
bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}
}  // namespace

std::optional<double> ParseGoFloat(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return std::nullopt;
  if (EqualFoldAscii(body, "inf") || EqualFoldAscii(body, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (EqualFoldAscii(body, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double v = 0;
  std::from_chars_result r;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    std::string_view hex = body.substr(2);
    // Go requires a 'p' exponent for hex floats with a fraction; accept integers too.
    r = std::from_chars(hex.data(), hex.data() + hex.size(), v, std::chars_format::hex);
    if (r.ec == std::errc::invalid_argument || r.ptr != hex.data() + hex.size()) return std::nullopt;
  } else {
    // from_chars itself would accept "inf"/"nan" spellings we handled above, and nothing else
    // unusual; it rejects a leading '+', which we stripped.
    if (!(body[0] >= '0' && body[0] <= '9') && body[0] != '.') return std::nullopt;
    r = std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
    if (r.ec == std::errc::invalid_argument || r.ptr != body.data() + body.size()) {
      return std::nullopt;
    }
  }
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow gives ±Inf in Go; underflow gives 0.
    bool big = false;
    auto epos = body.find_first_of("eEpP");
    if (epos == std::string_view::npos || body[epos + 1] != '-') big = true;
    v = big ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return neg ? -v : v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint64(std::string_view s) {
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitString(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view TrimSpace(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ToUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

void AppendUtf8(std::string* out, int64_t r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  const auto byte = [&](int64_t b) { out->push_back(static_cast<char>(b)); };
  if (r < 0x80) {
    byte(r);
  } else if (r < 0x800) {
    byte(0xC0 | (r >> 6));
    byte(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    byte(0xE0 | (r >> 12));
    byte(0x80 | ((r >> 6) & 0x3F));
    byte(0x80 | (r & 0x3F));
  } else {
    byte(0xF0 | (r >> 18));
    byte(0x80 | ((r >> 12) & 0x3F));
    byte(0x80 | ((r >> 6) & 0x3F));
    byte(0x80 | (r & 0x3F));
  }
}

}  // namespace hearth
