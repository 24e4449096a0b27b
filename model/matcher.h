#pragma once

// Label matchers: =, !=, =~, !~. Regular expressions are RE2 in Go's dialect, fully anchored,
// with `.` matching newlines (Prometheus 3.x). Literal and alternation-of-literals regexes take
// a fast path that never runs RE2.
//
// Thread-safety: a Matcher is immutable after construction and safe to share across threads.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "model/status.h"

namespace re2 {
class RE2;
}

namespace hearth {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

std::string_view MatchTypeString(MatchType t);  // "=", "!=", "=~", "!~"

class Matcher {
 public:
  // Fails with Prometheus' message for an invalid regular expression.
  static Result<Matcher> Make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether `v` (a label value; "" for an absent label) satisfies the matcher.
  bool Matches(std::string_view v) const;
  // Whether the matcher accepts the empty string, i.e. also matches series without the label.
  bool MatchesEmpty() const { return matches_empty_; }

  // For `=~`: when the regex is a plain literal or an alternation of literals, the set of
  // values it can match (sorted, unique); empty otherwise. Lets storage look postings up
  // directly instead of scanning all values.
  const std::vector<std::string>& SetMatches() const { return set_; }
  // The literal prefix every match starts with ("" if none). For regex matchers only.
  const std::string& Prefix() const { return prefix_; }

  // `name="value"` as PromQL prints it.
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }

 private:
  Matcher() = default;
  enum class Fast { kNone, kAny, kNonEmpty, kSet, kPrefixAny };
  bool RegexMatches(std::string_view v) const;

  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  bool matches_empty_ = false;
  Fast fast_ = Fast::kNone;
  std::vector<std::string> set_;
  std::string prefix_;
  std::shared_ptr<const re2::RE2> re_;
};

using Matchers = std::vector<Matcher>;

// True when every matcher accepts the corresponding label value of `labels`.
bool MatchesAll(std::span<const Matcher> matchers, const Labels& labels);

}  // namespace hearth
