#include "web/api_params.h"

#include <cmath>

#include "model/duration.h"
#include "model/format.h"
#include "model/strutil.h"

namespace hearth::web {
namespace {

// Go's mime.ParseMediaType, reduced to what matters: the lower-cased type before any ';'.
std::string MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  return ToLowerAscii(TrimSpace(content_type.substr(0, semi)));
}

}  // namespace

Result<Form> Form::Parse(const HttpRequest& req) {
  Form form;
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    if (MediaType(req.Header("Content-Type")) == "application/x-www-form-urlencoded") {
      HEARTH_ASSIGN_OR_RETURN(form.params_, ParseUrlEncoded(req.body));
    }
  }
  HEARTH_ASSIGN_OR_RETURN(auto url_params, ParseUrlEncoded(req.query));
  for (auto& p : url_params) form.params_.push_back(std::move(p));
  return form;
}

Result<Form> Form::FromQueryString(std::string_view query) {
  Form form;
  HEARTH_ASSIGN_OR_RETURN(form.params_, ParseUrlEncoded(query));
  return form;
}

std::string_view Form::Value(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string_view> Form::Values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : params_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool Form::Has(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return true;
  }
  return false;
}

Result<int64_t> ParseTime(std::string_view s) {
  // Go's time.Format of Prometheus' MinTime and MaxTime (years beyond 9999 that
  // time.Parse cannot read back); client_golang sends them for open ranges.
  if (s == "-292273086-05-16T16:47:06Z") return kApiMinTime;
  if (s == "292277025-08-18T07:12:54.999999999Z") return kApiMaxTime;
  if (auto f = ParseGoFloat(s); f && std::isinf(*f)) {
    // Go's ParseFloat fails on out-of-range numbers ("1e400"); only "Inf" spelled out parses,
    // and time.Unix cannot represent it either.
    return InvalidArgument("cannot parse {} to a valid timestamp", QuoteGo(s));
  }
  return ParseApiTime(s);
}

Result<int64_t> ParseTimeParam(const Form& form, std::string_view name, int64_t default_ms) {
  std::string_view v = form.Value(name);
  if (v.empty()) return default_ms;
  auto t = ParseTime(v);
  if (!t.ok()) {
    return InvalidArgument("Invalid time value for '{}': {}", name, t.status().message());
  }
  return t;
}

Result<int64_t> ParseDurationParam(std::string_view s) { return ParseDurationOrSeconds(s); }

Result<int64_t> ParseGoInt(std::string_view s) {
  auto v = ParseInt64(s);
  if (v) return *v;
  // Distinguish a syntax error from an overflow as Go does.
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  bool all_digits = !digits.empty();
  for (char c : digits) all_digits = all_digits && c >= '0' && c <= '9';
  return InvalidArgument("strconv.Atoi: parsing {}: {}", QuoteGo(s),
                         all_digits ? "value out of range" : "invalid syntax");
}

Result<int64_t> ParseLimitParam(std::string_view s) {
  if (s.empty()) return int64_t{0};
  HEARTH_ASSIGN_OR_RETURN(int64_t limit, ParseGoInt(s));
  if (limit < 0) return InvalidArgument("limit must be non-negative");
  return limit;
}

Result<bool> ParseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return InvalidArgument("strconv.ParseBool: parsing {}: invalid syntax", QuoteGo(s));
}

std::string UnescapeLabelName(std::string_view name) {
  constexpr std::string_view kPrefix = "U__";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::string(name);
  std::string_view e = name.substr(kPrefix.size());
  std::string out;
  for (size_t i = 0; i < e.size(); ++i) {
    if (e[i] != '_') {
      out.push_back(e[i]);
      continue;
    }
    ++i;
    if (i >= e.size()) return std::string(name);
    if (e[i] == '_') {
      out.push_back('_');
      continue;
    }
    // `_<hex>_`: a code point. Like Go, at most five digits are read before the closing
    // underscore must appear.
    uint32_t cp = 0;
    for (size_t digits = 0;; ++i, ++digits) {
      if (i >= e.size() || digits >= 6) return std::string(name);
      char c = e[i];
      if (c == '_') break;
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (c >= '0' && c <= '9') {
        cp = cp * 16 + static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        cp = cp * 16 + static_cast<uint32_t>(c - 'a' + 10);
      } else {
        return std::string(name);
      }
    }
    // Go's utf8.ValidRune: no surrogates, at most U+10FFFF.
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::string(name);
    AppendUtf8(&out, cp);
  }
  return out;
}

}  // namespace hearth::web
