#include "model/matcher.h"

#include <algorithm>

#include <re2/re2.h>

#include "model/strutil.h"

namespace hearth {
namespace {

bool IsRegexMeta(char c) {
  switch (c) {
    case '\\': case '.': case '+': case '*': case '?': case '(': case ')': case '|':
    case '[': case ']': case '{': case '}': case '^': case '$':
      return true;
    default:
      return false;
  }
}

// Splits "a|b|c" into literals when no alternative contains regex syntax.
bool LiteralAlternatives(std::string_view re, std::vector<std::string>* out) {
  out->clear();
  for (std::string_view alt : SplitString(re, '|')) {
    for (char c : alt) {
      if (IsRegexMeta(c)) return false;
    }
    out->emplace_back(alt);
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return true;
}

}  // namespace

std::string_view MatchTypeString(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

Result<Matcher> Matcher::Make(MatchType type, std::string name, std::string value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);
    auto re = std::make_shared<RE2>("^(?:" + m.value_ + ")$", opts);
    if (!re->ok()) {
      return InvalidArgument("error parsing regexp: {}", re->error());
    }
    m.re_ = std::move(re);
    std::string_view v = m.value_;
    if (v == ".*") {
      m.fast_ = Fast::kAny;
    } else if (v == ".+") {
      m.fast_ = Fast::kNonEmpty;
    } else if (LiteralAlternatives(v, &m.set_)) {
      m.fast_ = Fast::kSet;
    } else if (v.size() > 2 && v.substr(v.size() - 2) == ".*" &&
               std::none_of(v.begin(), v.end() - 2, IsRegexMeta)) {
      m.fast_ = Fast::kPrefixAny;
      m.prefix_ = std::string(v.substr(0, v.size() - 2));
    } else {
      // A literal prefix lets most non-matching values be refused without RE2. Conservative:
      // none when the regex has an alternation anywhere; a quantified last literal is dropped.
      size_t i = 0;
      if (v.find('|') == std::string_view::npos) {
        while (i < v.size() && !IsRegexMeta(v[i])) ++i;
        if (i > 0 && i < v.size() && (v[i] == '*' || v[i] == '?' || v[i] == '{')) --i;
      }
      m.prefix_ = std::string(v.substr(0, i));
    }
    if (m.fast_ != Fast::kSet) m.set_.clear();
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool Matcher::RegexMatches(std::string_view v) const {
  switch (fast_) {
    case Fast::kAny:
      return true;
    case Fast::kNonEmpty:
      return !v.empty();
    case Fast::kSet:
      return std::binary_search(set_.begin(), set_.end(), v);
    case Fast::kPrefixAny:
      return v.substr(0, prefix_.size()) == prefix_;
    case Fast::kNone:
      break;
  }
  if (!prefix_.empty() && v.substr(0, prefix_.size()) != prefix_) return false;
  return RE2::FullMatch(v, *re_);
}

bool Matcher::Matches(std::string_view v) const {
  switch (type_) {
    case MatchType::kEqual:
      return v == value_;
    case MatchType::kNotEqual:
      return v != value_;
    case MatchType::kRegexMatch:
      return RegexMatches(v);
    case MatchType::kRegexNoMatch:
      return !RegexMatches(v);
  }
  return false;
}

std::string Matcher::ToString() const {
  std::string out = IsLegacyLabelName(name_) ? name_ : QuoteGo(name_);
  out += MatchTypeString(type_);
  out += QuoteGo(value_);
  return out;
}

bool MatchesAll(std::span<const Matcher> matchers, const Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return true;
}

}  // namespace hearth
