#pragma once

// Parsing of Prometheus' PromQL test scripts (promql/promqltest, format in FORMAT.md beside the
// files): load / load_with_nhcb / clear / eval instant / eval range with their expect lines,
// series descriptions (`metric{a="b"} 1+2x3 _ stale {{...}}`) and expected values.
//
// Native histogram samples (`{{...}}`) are recognized and counted but not decoded: the engine
// stores floats only, so evals that depend on them are reported as unsupported.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/labels.h"
#include "model/status.h"

namespace hearth::promqltest {

// One element of a value sequence.
struct SeriesValue {
  enum class Kind { kFloat, kOmitted, kHistogram };
  Kind kind = Kind::kFloat;
  double v = 0;  // kFloat (may be the stale marker)
};

struct SeriesDesc {
  Labels labels;
  std::vector<SeriesValue> values;
};

// `metric{l="v", ...}` at the start of s: the labels and the bytes consumed. Names may be
// quoted (UTF-8); values take ", ' or ` quotes with Go's escapes.
Result<std::pair<Labels, size_t>> ParseMetricPrefix(std::string_view s);
// A whole series description line: metric, then the value sequence.
Result<SeriesDesc> ParseSeriesDesc(std::string_view line);
// Just the value sequence (`1+2x3 _x2 stale -Inf {{schema:0 sum:1 count:1}}x5`).
Result<std::vector<SeriesValue>> ParseValueSequence(std::string_view s);
// A line that is only a number (a scalar expectation), as Go's strconv.ParseInt(s, 0, 64) or
// ParseFloat.
std::optional<double> ParseScalarLine(std::string_view s);

struct LoadCmd {
  int line = 0;
  int64_t gap = 0;
  bool with_nhcb = false;
  std::vector<SeriesDesc> series;
  // Series given start timestamps (`metric{...}@st <offsets>` lines; a bare `@st` line gives
  // them to every series of the load). Parsed, not loaded: the storage has no start timestamps.
  std::vector<Labels> start_timestamp_series;
  bool default_start_timestamps = false;
};

struct ClearCmd {
  int line = 0;
};

struct Expectation {
  enum class Type { kOrdered, kFail, kWarn, kNoWarn, kInfo, kNoInfo };
  Type type = Type::kFail;
  // Exactly one of: an exact message, or a regular expression (Go syntax, unanchored).
  std::optional<std::string> message;
  std::optional<std::string> regex;
};

struct ExpectedSeries {
  int pos = 0;  // 1-based position among the expected series (for `expect ordered`)
  Labels labels;
  std::vector<SeriesValue> values;
};

struct EvalCmd {
  int line = 0;  // 1-based line of the eval command
  std::string expr;
  bool is_range = false;
  int64_t start = 0, end = 0, step = 0;  // range queries; `expect range vector` for instant
  int64_t eval_time = 0;                 // instant queries
  // Deprecated eval_fail/eval_warn/eval_info/eval_ordered and expected_fail_* forms.
  bool fail = false, warn = false, info = false, ordered = false;
  std::optional<std::string> expected_fail_message;
  std::optional<std::string> expected_fail_regexp;
  std::vector<Expectation> expects;
  bool expect_scalar = false;
  double scalar = 0;
  std::vector<ExpectedSeries> series;
  std::optional<std::string> expected_string;
  bool range_vector = false;       // `expect range vector from .. to .. step ..`
  bool exclude_from_range = false;  // no re-check as a range query
  bool expects_histogram = false;   // an expected value is a native histogram

  bool IsFail() const;
  bool IsOrdered() const;
  bool Has(Expectation::Type t) const;
};

using Command = std::variant<LoadCmd, ClearCmd, EvalCmd>;

// Parses a whole script. Errors name the line ("line 12: ...").
Result<std::vector<Command>> ParseScript(std::string_view text);

}  // namespace hearth::promqltest
