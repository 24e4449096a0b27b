#include "tests/query/promqltest/script.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/duration.h"
#include "model/sample.h"
#include "model/strutil.h"

namespace hearth::promqltest {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A quoted string at the start of s (", ' or `, Go escapes); the value and bytes consumed.
Result<std::pair<std::string, size_t>> Unquote(std::string_view s) {
  if (s.empty()) return InvalidArgument("expected a quoted string");
  char q = s[0];
  if (q != '"' && q != '\'' && q != '`') return InvalidArgument("expected a quoted string");
  std::string out;
  size_t i = 1;
  if (q == '`') {
    size_t end = s.find('`', 1);
    if (end == std::string_view::npos) return InvalidArgument("unterminated raw string");
    return std::make_pair(std::string(s.substr(1, end - 1)), end + 1);
  }
  while (i < s.size()) {
    char c = s[i];
    if (c == q) return std::make_pair(out, i + 1);
    if (c == '\n') break;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (++i >= s.size()) break;
    char e = s[i++];
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x': {
        if (i + 2 > s.size() || HexVal(s[i]) < 0 || HexVal(s[i + 1]) < 0) {
          return InvalidArgument("invalid \\x escape");
        }
        out += static_cast<char>(HexVal(s[i]) * 16 + HexVal(s[i + 1]));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n > s.size()) return InvalidArgument("invalid unicode escape");
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          int h = HexVal(s[i + k]);
          if (h < 0) return InvalidArgument("invalid unicode escape");
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        AppendUtf8(&out, cp);
        i += n;
        break;
      }
      default:
        if (e >= '0' && e <= '7' && i + 1 < s.size()) {
          int v = (e - '0') * 64 + (s[i] - '0') * 8 + (s[i + 1] - '0');
          out += static_cast<char>(v);
          i += 2;
          break;
        }
        return InvalidArgument("unknown escape sequence \\{}", e);
    }
  }
  return InvalidArgument("unterminated quoted string");
}

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// A float at the start of s: optional sign, then Inf/NaN (any case) or decimal digits with an
// optional fraction and exponent. Returns the bytes consumed (0 if none).
size_t ScanFloat(std::string_view s, double* out) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t body = i;
  if (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) {
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])) && s[i] != 'x') ++i;
    std::string word = ToLowerAscii(s.substr(body, i - body));
    if (word != "inf" && word != "nan" && word != "infinity") return 0;
  } else {
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        ++i;
        digits = true;
      }
    }
    if (!digits) return 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      size_t j = i + 1;
      if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
      size_t k = j;
      while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
      if (k > j) i = k;
    }
  }
  auto v = ParseGoFloat(s.substr(0, i));
  if (!v) return 0;
  *out = *v;
  return i;
}

Result<uint64_t> ParseTimes(std::string_view s) {
  auto n = ParseUint64(s);
  if (!n) return InvalidArgument("invalid repetition count {}", QuoteGo(s));
  return *n;
}

// Length of a histogram literal `{{...}}` at the start of s (0 if none).
size_t ScanHistogram(std::string_view s) {
  if (s.substr(0, 2) != "{{") return 0;
  size_t end = s.find("}}", 2);
  return end == std::string_view::npos ? 0 : end + 2;
}

}  // namespace

Result<std::pair<Labels, size_t>> ParseMetricPrefix(std::string_view s) {
  size_t i = 0;
  std::vector<std::pair<std::string, std::string>> pairs;
  if (i < s.size() && (IsNameStart(s[i]) || s[i] == ':')) {
    size_t j = i;
    while (j < s.size() && (IsNameChar(s[j]) || s[j] == ':')) ++j;
    pairs.emplace_back("__name__", std::string(s.substr(i, j - i)));
    i = j;
  }
  if (i < s.size() && s[i] == '{') {
    ++i;
    for (;;) {
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i >= s.size()) return InvalidArgument("unterminated label set");
      if (s[i] == '}') {
        ++i;
        break;
      }
      std::string name;
      if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
        HEARTH_ASSIGN_OR_RETURN(auto q, Unquote(s.substr(i)));
        name = q.first;
        i += q.second;
      } else if (IsNameStart(s[i])) {
        size_t j = i;
        while (j < s.size() && IsNameChar(s[j])) ++j;
        name = std::string(s.substr(i, j - i));
        i = j;
      } else {
        return InvalidArgument("unexpected character {} in label set", QuoteGo(s.substr(i, 1)));
      }
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i < s.size() && (s[i] == ',' || s[i] == '}')) {
        // A quoted name alone is the metric name ({"my.metric"}).
        pairs.emplace_back("__name__", name);
      } else {
        if (i >= s.size() || s[i] != '=') return InvalidArgument("expected = after label name");
        ++i;
        while (i < s.size() && IsSpace(s[i])) ++i;
        HEARTH_ASSIGN_OR_RETURN(auto q, Unquote(s.substr(i)));
        i += q.second;
        pairs.emplace_back(std::move(name), std::move(q.first));
      }
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i < s.size() && s[i] == ',') ++i;
    }
  }
  if (i == 0) return InvalidArgument("expected a metric name or label set");
  return std::make_pair(Labels::FromPairs(pairs), i);
}

Result<std::vector<SeriesValue>> ParseValueSequence(std::string_view s) {
  std::vector<SeriesValue> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) break;
    std::string_view rest = s.substr(i);
    if (size_t h = ScanHistogram(rest)) {
      // {{h}}, {{h}}xN, {{h}}+{{h}}xN, {{h}}-{{h}}xN
      size_t j = h;
      uint64_t times = 0;
      bool has_times = false;
      if (j < rest.size() && (rest[j] == '+' || rest[j] == '-')) {
        size_t h2 = ScanHistogram(rest.substr(j + 1));
        if (h2 == 0) return InvalidArgument("invalid histogram sequence");
        j += 1 + h2;
      }
      if (j < rest.size() && rest[j] == 'x') {
        size_t k = j + 1;
        while (k < rest.size() && !IsSpace(rest[k])) ++k;
        HEARTH_ASSIGN_OR_RETURN(times, ParseTimes(rest.substr(j + 1, k - j - 1)));
        has_times = true;
        j = k;
      }
      uint64_t n = has_times ? times + 1 : 1;
      for (uint64_t k = 0; k < n; ++k) out.push_back({SeriesValue::Kind::kHistogram, 0});
      i += j;
      continue;
    }
    size_t end = 0;
    while (end < rest.size() && !IsSpace(rest[end])) ++end;
    std::string_view tok = rest.substr(0, end);
    i += end;
    if (tok == "_") {
      out.push_back({SeriesValue::Kind::kOmitted, 0});
      continue;
    }
    if (tok.substr(0, 2) == "_x") {
      HEARTH_ASSIGN_OR_RETURN(uint64_t n, ParseTimes(tok.substr(2)));
      for (uint64_t k = 0; k < n; ++k) out.push_back({SeriesValue::Kind::kOmitted, 0});
      continue;
    }
    if (tok == "stale") {
      out.push_back({SeriesValue::Kind::kFloat, StaleNaN()});
      continue;
    }
    double base = 0;
    size_t n = ScanFloat(tok, &base);
    if (n == 0) return InvalidArgument("invalid value {}", QuoteGo(tok));
    std::string_view tail = tok.substr(n);
    if (tail.empty()) {
      out.push_back({SeriesValue::Kind::kFloat, base});
      continue;
    }
    if (tail[0] == 'x') {
      HEARTH_ASSIGN_OR_RETURN(uint64_t times, ParseTimes(tail.substr(1)));
      for (uint64_t k = 0; k <= times; ++k) out.push_back({SeriesValue::Kind::kFloat, base});
      continue;
    }
    if (tail[0] == '+' || tail[0] == '-') {
      double delta = 0;
      size_t m = ScanFloat(tail, &delta);
      if (m == 0 || m >= tail.size() || tail[m] != 'x') {
        return InvalidArgument("invalid value {}", QuoteGo(tok));
      }
      HEARTH_ASSIGN_OR_RETURN(uint64_t times, ParseTimes(tail.substr(m + 1)));
      double v = base;
      out.push_back({SeriesValue::Kind::kFloat, v});
      for (uint64_t k = 1; k <= times; ++k) {
        v += delta;
        out.push_back({SeriesValue::Kind::kFloat, v});
      }
      continue;
    }
    return InvalidArgument("invalid value {}", QuoteGo(tok));
  }
  return out;
}

Result<SeriesDesc> ParseSeriesDesc(std::string_view line) {
  line = Trim(line);
  HEARTH_ASSIGN_OR_RETURN(auto metric, ParseMetricPrefix(line));
  SeriesDesc d;
  d.labels = std::move(metric.first);
  HEARTH_ASSIGN_OR_RETURN(d.values, ParseValueSequence(line.substr(metric.second)));
  return d;
}

std::optional<double> ParseScalarLine(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  // strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary, with sign.
  {
    std::string_view t = s;
    bool neg = false;
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
      neg = t[0] == '-';
      t.remove_prefix(1);
    }
    int base = 10;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
      base = 16;
      t.remove_prefix(2);
    }
    if (!t.empty() && std::all_of(t.begin(), t.end(), [&](char c) {
          return base == 16 ? HexVal(c) >= 0 : (c >= '0' && c <= '9');
        })) {
      if (base == 10) {
        if (auto v = ParseInt64(s)) return static_cast<double>(*v);
      } else {
        uint64_t v = 0;
        for (char c : t) v = v * 16 + static_cast<uint64_t>(HexVal(c));
        return neg ? -static_cast<double>(v) : static_cast<double>(v);
      }
    }
  }
  return ParseGoFloat(s);
}

bool EvalCmd::Has(Expectation::Type t) const {
  return std::any_of(expects.begin(), expects.end(), [&](const auto& e) { return e.type == t; });
}
bool EvalCmd::IsFail() const { return fail || Has(Expectation::Type::kFail); }
bool EvalCmd::IsOrdered() const { return ordered || Has(Expectation::Type::kOrdered); }

namespace {

Result<int64_t> ParseTime(std::string_view s) {
  auto d = ParseDuration(Trim(s));
  if (!d.ok()) return InvalidArgument("invalid time {}: {}", QuoteGo(s), d.status().message());
  return *d;
}

Status ParseExpectLine(std::string_view line, EvalCmd* cmd) {
  static const RE2 kExpect(
      R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)");
  std::string mode, kind, rest;
  if (!RE2::FullMatch(std::string(Trim(line)), kExpect, &mode, &kind, &rest)) {
    return InvalidArgument(
        "invalid expect statement, must match `expect <type> <match_type>: <string>` format");
  }
  Expectation e;
  if (mode == "ordered") e.type = Expectation::Type::kOrdered;
  if (mode == "fail") e.type = Expectation::Type::kFail;
  if (mode == "warn") e.type = Expectation::Type::kWarn;
  if (mode == "no_warn") e.type = Expectation::Type::kNoWarn;
  if (mode == "info") e.type = Expectation::Type::kInfo;
  if (mode == "no_info") e.type = Expectation::Type::kNoInfo;
  if (kind == "msg") {
    e.message = std::string(Trim(rest));
  } else if (kind == "regex") {
    e.regex = std::string(Trim(rest));
    RE2 check(*e.regex, RE2::Quiet);
    if (!check.ok()) return InvalidArgument("invalid regex {} for {}", *e.regex, mode);
  } else {
    e.regex = "^.*$";
  }
  cmd->expects.push_back(std::move(e));
  auto count = [&](Expectation::Type t) {
    return std::count_if(cmd->expects.begin(), cmd->expects.end(),
                         [&](const auto& x) { return x.type == t; });
  };
  using T = Expectation::Type;
  if (count(T::kInfo) > 0 && count(T::kNoInfo) > 0) {
    return InvalidArgument("invalid expect lines, info and no_info cannot be used together");
  }
  if (count(T::kWarn) > 0 && count(T::kNoWarn) > 0) {
    return InvalidArgument("invalid expect lines, warn and no_warn cannot be used together");
  }
  if (count(T::kFail) > 1) {
    return InvalidArgument("invalid expect lines, multiple expect fail lines are not allowed");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Command>> ParseScript(std::string_view text) {
  // Trimmed lines; comments become blank lines (which end a command's block).
  std::vector<std::string> lines;
  for (std::string_view l : SplitString(text, '\n')) {
    l = Trim(l);
    if (!l.empty() && l[0] == '#') l = {};
    lines.emplace_back(l);
  }
  static const RE2 kLoad(R"(^load(?:_(with_nhcb))?\s+(.+?)$)");
  static const RE2 kInstant(
      R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
  static const RE2 kRange(
      R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
  static const RE2 kRangeVector(R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)");

  std::vector<Command> cmds;
  auto err = [](size_t i, const Status& st) {
    return Status(st.code(), fmt::format("line {}: {}", i + 1, st.message()));
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    std::string word = ToLowerAscii(l.substr(0, l.find_first_of(" \t")));
    if (word == "clear") {
      cmds.emplace_back(ClearCmd{static_cast<int>(i + 1)});
      continue;
    }
    if (word.rfind("load", 0) == 0) {
      std::string nhcb, step;
      if (!RE2::FullMatch(l, kLoad, &nhcb, &step)) {
        return err(i, InvalidArgument("invalid load command. (load[_with_nhcb] <step:duration>)"));
      }
      LoadCmd load;
      load.line = static_cast<int>(i + 1);
      load.with_nhcb = nhcb == "with_nhcb";
      auto gap = ParseDuration(step);
      if (!gap.ok()) return err(i, InvalidArgument("invalid step definition {}", QuoteGo(step)));
      load.gap = *gap;
      while (i + 1 < lines.size() && !lines[i + 1].empty()) {
        ++i;
        std::string_view first = lines[i];
        first = first.substr(0, first.find_first_of(" \t"));
        if (first.size() >= 3 && first.substr(first.size() - 3) == "@st") {
          std::string_view metric = first.substr(0, first.size() - 3);
          if (metric.empty()) {
            load.default_start_timestamps = true;
          } else {
            auto m = ParseMetricPrefix(metric);
            if (!m.ok()) return err(i, m.status());
            load.start_timestamp_series.push_back(std::move(m->first));
          }
          continue;
        }
        auto d = ParseSeriesDesc(lines[i]);
        if (!d.ok()) return err(i, d.status());
        load.series.push_back(std::move(*d));
      }
      cmds.emplace_back(std::move(load));
      continue;
    }
    if (word.rfind("eval", 0) != 0) {
      return err(i, InvalidArgument("invalid command {}", QuoteGo(l)));
    }
    EvalCmd cmd;
    cmd.line = static_cast<int>(i + 1);
    std::string mod, at, from, to, step;
    if (RE2::FullMatch(l, kInstant, &mod, &at, &cmd.expr)) {
      auto t = ParseTime(at);
      if (!t.ok()) return err(i, t.status());
      cmd.eval_time = cmd.start = *t;
    } else if (RE2::FullMatch(l, kRange, &mod, &from, &to, &step, &cmd.expr)) {
      cmd.is_range = true;
      auto s = ParseTime(from);
      auto e = ParseTime(to);
      auto st = ParseTime(step);
      if (!s.ok()) return err(i, s.status());
      if (!e.ok()) return err(i, e.status());
      if (!st.ok()) return err(i, st.status());
      if (*e < *s) return err(i, InvalidArgument("end timestamp is before start timestamp"));
      cmd.start = *s;
      cmd.end = *e;
      cmd.step = *st;
    } else {
      return err(i, InvalidArgument("invalid evaluation command"));
    }
    cmd.fail = mod == "fail";
    cmd.warn = mod == "warn";
    cmd.info = mod == "info";
    cmd.ordered = mod == "ordered";

    int j = 1;
    for (; i + 1 < lines.size(); ++j) {
      ++i;
      const std::string& def = lines[i];
      if (def.empty()) {
        --i;
        break;
      }
      if (cmd.fail && def.rfind("expected_fail_message", 0) == 0) {
        cmd.expected_fail_message = std::string(Trim(def.substr(21)));
        break;
      }
      if (cmd.fail && def.rfind("expected_fail_regexp", 0) == 0) {
        cmd.expected_fail_regexp = std::string(Trim(def.substr(20)));
        break;
      }
      if (def.rfind("expect range vector", 0) == 0) {
        std::string f, t2, s2;
        if (!RE2::FullMatch(def, kRangeVector, &f, &t2, &s2)) {
          return err(i, InvalidArgument("invalid range vector definition {}", QuoteGo(def)));
        }
        auto fs = ParseTime(f);
        auto ts = ParseTime(t2);
        auto ss = ParseTime(s2);
        if (!fs.ok() || !ts.ok() || !ss.ok()) {
          return err(i, InvalidArgument("invalid range vector definition {}", QuoteGo(def)));
        }
        cmd.range_vector = true;
        cmd.start = *fs;
        cmd.end = *ts;
        cmd.step = *ss;
        cmd.eval_time = *ts;
        cmd.exclude_from_range = true;
        continue;
      }
      if (def.rfind("expect string", 0) == 0) {
        std::string_view rest = def;
        rest.remove_prefix(13);
        if (rest.empty() || rest[0] != ' ') {
          return err(i, InvalidArgument("expected string literal not valid - a quoted string "
                                        "literal is required"));
        }
        rest.remove_prefix(1);
        auto q = Unquote(rest);
        if (!q.ok() || q->second != rest.size()) {
          return err(i, InvalidArgument("expected string literal not valid - check that the "
                                        "string is correctly quoted"));
        }
        cmd.expected_string = q->first;
        cmd.exclude_from_range = true;
        continue;
      }
      if (def.substr(0, def.find(' ')) == "expect") {
        Status st = ParseExpectLine(def, &cmd);
        if (!st.ok()) return err(i, st);
        --j;
        continue;
      }
      if (auto f = ParseScalarLine(def)) {
        cmd.expect_scalar = true;
        cmd.scalar = *f;
        cmd.series.clear();
        break;
      }
      auto d = ParseSeriesDesc(def);
      if (!d.ok()) return err(i, d.status());
      if (d->values.size() > 1 && !cmd.is_range && !cmd.range_vector) {
        return err(i, InvalidArgument("expecting multiple values in instant evaluation not "
                                      "allowed"));
      }
      for (const auto& v : d->values) {
        if (v.kind == SeriesValue::Kind::kHistogram) cmd.expects_histogram = true;
      }
      cmd.expect_scalar = false;
      // A repeated label set replaces the earlier expectation (as Go's map does).
      std::erase_if(cmd.series, [&](const ExpectedSeries& x) { return x.labels == d->labels; });
      cmd.series.push_back({j, std::move(d->labels), std::move(d->values)});
    }
    cmds.emplace_back(std::move(cmd));
  }
  return cmds;
}

}  // namespace hearth::promqltest
