#pragma once

// Request parameters of the API as Prometheus (Go's net/http) reads them, and the parsers of
// its parameter types with Prometheus' error messages.
//
// Thread-safety: all functions are pure; a Form is immutable after Parse.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/status.h"
#include "web/http.h"

namespace hearth::web {

// Go's r.Form: for POST, PUT and PATCH with Content-Type application/x-www-form-urlencoded
// (parameters such as `; charset=UTF-8` are allowed), the body's parameters first, then the
// URL's; otherwise the URL's alone. Value() returns the first value, so the body wins over the
// URL, and Values() returns both (repeated `match[]`).
class Form {
 public:
  // Fails with "invalid URL escape ..." on bad percent-encoding.
  static Result<Form> Parse(const HttpRequest& req);
  static Result<Form> FromQueryString(std::string_view query);

  // The first value of `name`, or "" when absent.
  std::string_view Value(std::string_view name) const;
  std::vector<std::string_view> Values(std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// The bounds Prometheus uses for open time ranges (its MinTime/MaxTime), in ms.
inline constexpr int64_t kApiMinTime = -9223309901257974000LL;
inline constexpr int64_t kApiMaxTime = 9223309901257974999LL;

// Prometheus' parseTime: float seconds, RFC 3339, or the formatted min/max times.
// Error: `cannot parse "x" to a valid timestamp`.
Result<int64_t> ParseTime(std::string_view s);
// Prometheus' parseTimeParam: the default when empty; errors read
// `Invalid time value for 'time': cannot parse "x" to a valid timestamp`.
Result<int64_t> ParseTimeParam(const Form& form, std::string_view name, int64_t default_ms);
// Prometheus' parseDuration: float seconds or a duration; in ms.
Result<int64_t> ParseDurationParam(std::string_view s);
// Prometheus 3.x parseLimitParam: "" -> 0 (no limit); a non-negative int.
Result<int64_t> ParseLimitParam(std::string_view s);
// Go's strconv.Atoi error wording: `strconv.Atoi: parsing "x": invalid syntax`.
Result<int64_t> ParseGoInt(std::string_view s);
// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
Result<bool> ParseGoBool(std::string_view s);

// Prometheus' model.UnescapeName with the value-encoding scheme: "U__" names decode `__` to
// `_` and `_1F600_` to the code point; anything malformed returns the name unchanged.
std::string UnescapeLabelName(std::string_view name);

}  // namespace hearth::web
