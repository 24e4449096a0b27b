#include "scraper/textparse/parser.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "model/strutil.h"

namespace hearth::textparse {

namespace {

// Character classes, as lookup tables: the scanners below are the parser's hot loops.
struct CharTables {
  std::array<bool, 256> metric_start{};  // [a-zA-Z_:]
  std::array<bool, 256> metric{};        // [a-zA-Z0-9_:]
  std::array<bool, 256> label_start{};   // [a-zA-Z_]
  std::array<bool, 256> label{};         // [a-zA-Z0-9_]
  // Bytes that stop a quoted string scan: '"', '\\', '\n', and non-ASCII (noted for the UTF-8
  // check, which ASCII-only values skip).
  std::array<bool, 256> quote_stop{};
  // Bytes that end a text-format value token: '{', ' ', '\t', '\n'.
  std::array<bool, 256> value_stop{};
  constexpr CharTables() {
    for (int c = 0; c < 256; ++c) {
      bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      bool digit = c >= '0' && c <= '9';
      metric_start[c] = alpha || c == ':';
      metric[c] = alpha || digit || c == ':';
      label_start[c] = alpha;
      label[c] = alpha || digit;
      quote_stop[c] = c == '"' || c == '\\' || c == '\n' || c >= 0x80;
      value_stop[c] = c == '{' || c == ' ' || c == '\t' || c == '\n';
    }
  }
};
constexpr CharTables kChars;

inline unsigned char U(char c) { return static_cast<unsigned char>(c); }

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

enum class FloatResult { kOk, kSyntax, kRange };

// Go's strconv.ParseFloat(s, 64) for what the exposition formats allow (Prometheus rejects
// 'p', 'P' and '_' before calling it): decimal with optional sign and exponent, "Inf",
// "+Inf", "-Inf", "Infinity", "NaN" in any case.
FloatResult ParseFloatGo(std::string_view s, double* out) {
  const char* p = s.data();
  const char* e = p + s.size();
  if (p == e) return FloatResult::kSyntax;
  // Fast path: a plain non-negative integer of at most 15 digits converts exactly.
  if (s.size() <= 15) {
    uint64_t v = 0;
    const char* q = p;
    while (q < e && *q >= '0' && *q <= '9') v = v * 10 + static_cast<uint64_t>(*q++ - '0');
    if (q == e) {
      *out = static_cast<double>(v);
      return FloatResult::kOk;
    }
  }
  bool neg = false;
  if (*p == '+' || *p == '-') {
    neg = *p == '-';
    ++p;
    if (p == e) return FloatResult::kSyntax;
  }
  if ((*p >= '0' && *p <= '9') || *p == '.') {
    double v = 0;
    auto r = std::from_chars(p, e, v, std::chars_format::general);
    if (r.ptr != e) return FloatResult::kSyntax;
    if (r.ec == std::errc::invalid_argument) return FloatResult::kSyntax;
    if (r.ec == std::errc::result_out_of_range) {
      // Go: overflow is an error (±Inf with ErrRange); underflow rounds to zero.
      const char* ex = std::find_if(p, e, [](char c) { return c == 'e' || c == 'E'; });
      if (ex != e && ex + 1 < e && ex[1] == '-') {
        *out = neg ? -0.0 : 0.0;
        return FloatResult::kOk;
      }
      return FloatResult::kRange;
    }
    *out = neg ? -v : v;
    return FloatResult::kOk;
  }
  std::string_view rest(p, static_cast<size_t>(e - p));
  if (EqualFold(rest, "inf") || EqualFold(rest, "infinity")) {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return FloatResult::kOk;
  }
  if (EqualFold(rest, "nan") && p == s.data()) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return FloatResult::kOk;
  }
  return FloatResult::kSyntax;
}

// Go's %f for the special values in "invalid timestamp %f".
std::string GoFormatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:f}", v);
}

// float seconds -> int64 ms as Go's int64(ts * 1000), saturated instead of undefined.
int64_t SecondsToMs(double s) {
  double ms = s * 1000;
  if (ms >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (ms <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(ms);
}

double CanonicalNaN(double v) {
  return std::isnan(v) ? std::bit_cast<double>(kNormalNaNBits) : v;
}

}  // namespace

Parser::Parser(std::string_view body, Format format, ParserOptions options)
    : b_(body), format_(format), options_(options) {
  // The text format ends every line with '\n'; Prometheus appends one to the body. We do the
  // same, copying only when the body lacks it (almost never).
  if (format_ == Format::kText && (b_.empty() || b_.back() != '\n')) {
    owned_.reserve(b_.size() + 1);
    owned_.assign(b_);
    owned_ += '\n';
    b_ = owned_;
  }
}

std::string_view Parser::TokName(Tok t) {
  switch (t) {
    case Tok::kInvalid: return "INVALID";
    case Tok::kEOF: return "EOF";
    case Tok::kLinebreak: return "LINEBREAK";
    case Tok::kWhitespace: return "WHITESPACE";
    case Tok::kHelp: return "HELP";
    case Tok::kType: return "TYPE";
    case Tok::kUnit: return "UNIT";
    case Tok::kEOFWord: return "EOFWORD";
    case Tok::kText: return "TEXT";
    case Tok::kComment: return "COMMENT";
    case Tok::kMName: return "MNAME";
    case Tok::kQString: return "QSTRING";
    case Tok::kBraceOpen: return "BOPEN";
    case Tok::kBraceClose: return "BCLOSE";
    case Tok::kLName: return "LNAME";
    case Tok::kLValue: return "LVALUE";
    case Tok::kComma: return "COMMA";
    case Tok::kEqual: return "EQUAL";
    case Tok::kTimestamp: return "TIMESTAMP";
    case Tok::kValue: return "VALUE";
  }
  return "INVALID";
}

Status Parser::WithPosition(std::string message, size_t pos) const {
  size_t col = pos >= line_start_ ? pos - line_start_ + 1 : 1;
  message += fmt::format(" (line {}, column {})", line_, col);
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

Entry Parser::Fail(Status st) {
  failed_ = true;
  status_ = std::move(st);
  return Entry::kInvalid;
}

Status Parser::ParseErrorStatus(std::string_view expected, size_t tok_start, size_t tok_end,
                                Tok tok) {
  size_t e = std::min(b_.size(), tok_end + 1);
  tok_start = std::min(tok_start, e);
  size_t ls = std::min(line_start_, e);
  return WithPosition(fmt::format("{}, got {} ({}) while parsing: {}", expected,
                                  QuoteGo(b_.substr(tok_start, e - tok_start)),
                                  QuoteGo(TokName(tok)), QuoteGo(b_.substr(ls, e - ls))),
                      tok_end);
}

Entry Parser::ParseError(std::string_view expected, size_t tok_start, size_t tok_end, Tok tok) {
  return Fail(ParseErrorStatus(expected, tok_start, tok_end, tok));
}

size_t Parser::SkipBlanks(size_t i) const {
  while (i < b_.size() && (b_[i] == ' ' || b_[i] == '\t')) ++i;
  return i;
}

size_t Parser::ScanMetricName(size_t i) const {
  const size_t n = b_.size();
  while (i < n && kChars.metric[U(b_[i])]) ++i;
  return i;
}

size_t Parser::ScanLabelName(size_t i) const {
  const size_t n = b_.size();
  while (i < n && kChars.label[U(b_[i])]) ++i;
  return i;
}

bool Parser::ScanQuoted(size_t i, bool newline_ok, size_t* end, size_t* fail,
                        bool* escaped) const {
  const size_t n = b_.size();
  const char* d = b_.data();
  size_t j = i + 1;
  *escaped = false;
  non_ascii_ = false;
  while (true) {
    while (j < n && !kChars.quote_stop[U(d[j])]) ++j;
    if (j >= n) {
      *fail = n;
      return false;
    }
    char c = d[j];
    if (U(c) >= 0x80) {
      non_ascii_ = true;
      ++j;
      continue;
    }
    if (c == '"') {
      *end = j + 1;
      return true;
    }
    if (c == '\\') {
      // `\\.`: any byte but a newline may follow.
      if (j + 1 >= n) {
        *fail = n;
        return false;
      }
      if (d[j + 1] == '\n') {
        *fail = j + 1;
        return false;
      }
      *escaped = true;
      j += 2;
      continue;
    }
    // c == '\n'
    if (!newline_ok) {
      *fail = j;
      return false;
    }
    ++j;
  }
}

Parser::Tok Parser::LabelsToken(size_t i, size_t* end, bool exemplar) const {
  const size_t n = b_.size();
  if (i >= n) {
    *end = n;
    return Tok::kEOF;
  }
  char c = b_[i];
  if (kChars.label_start[U(c)]) {
    *end = ScanLabelName(i + 1);
    return Tok::kLName;
  }
  switch (c) {
    case '}': *end = i + 1; return Tok::kBraceClose;
    case ',': *end = i + 1; return Tok::kComma;
    case '=': *end = i + 1; return Tok::kEqual;
    case '"': {
      size_t e = 0, fail = 0;
      bool esc = false;
      bool newline_ok = format_ == Format::kText || !exemplar;
      if (ScanQuoted(i, newline_ok, &e, &fail, &esc)) {
        *end = e;
        return Tok::kQString;
      }
      *end = fail;
      return Tok::kInvalid;
    }
    default: *end = i; return Tok::kInvalid;
  }
}

Entry Parser::Next() {
  if (failed_) return Entry::kInvalid;
  if (done_) return Entry::kEOF;
  has_exemplar_ = false;
  return format_ == Format::kText ? NextText() : NextOpenMetrics();
}

// ---------------------------------------------------------------------------------------------
// Text format 0.0.4.

Entry Parser::NextText() {
  const size_t n = b_.size();
  while (true) {
    line_start_ = pos_;
    size_t i = SkipBlanks(pos_);
    if (i >= n) {
      done_ = true;
      return Entry::kEOF;
    }
    char c = b_[i];
    if (c == '\n') {
      pos_ = i + 1;
      ++line_;
      continue;
    }
    if (c == '#') {
      Entry e;
      ParseMetaText(i, &e);
      return e;
    }
    labels_.clear();
    if (c == '{') {
      has_name_ = false;
      pos_ = i + 1;
      if (Status st = ParseLabelsText(); !st.ok()) return Fail(std::move(st));
      series_ = b_.substr(i, pos_ - i);
      return ParseSuffixText(pos_);
    }
    if (kChars.metric_start[U(c)]) {
      size_t e = ScanMetricName(i + 1);
      has_name_ = true;
      name_ = Span{static_cast<uint32_t>(i), static_cast<uint32_t>(e), false};
      series_ = b_.substr(i, e - i);
      size_t j = SkipBlanks(e);
      if (j < n && b_[j] == '{') {
        pos_ = j + 1;
        if (Status st = ParseLabelsText(); !st.ok()) return Fail(std::move(st));
        series_ = b_.substr(i, pos_ - i);
        return ParseSuffixText(pos_);
      }
      return ParseSuffixText(e);
    }
    return ParseError("expected a valid start token", i, i, Tok::kInvalid);
  }
}

bool Parser::ParseMetaText(size_t i, Entry* out) {
  const size_t n = b_.size();
  size_t j = SkipBlanks(i + 1);
  if (j > i + 1 && j + 4 < n) {
    std::string_view word = b_.substr(j, 4);
    Tok kind = word == "HELP" ? Tok::kHelp : word == "TYPE" ? Tok::kType : Tok::kInvalid;
    char after = b_[j + 4];
    if (kind != Tok::kInvalid && (after == ' ' || after == '\t')) {
      size_t m = SkipBlanks(j + 4);
      std::string expected = fmt::format("expected metric name after {}", TokName(kind));
      size_t name_end = 0;
      bool esc = false;
      if (m < n && b_[m] == '"') {
        size_t fail = 0;
        if (!ScanQuoted(m, true, &name_end, &fail, &esc)) {
          *out = ParseError(expected, m, fail, Tok::kInvalid);
          return true;
        }
        name_ = Span{static_cast<uint32_t>(m + 1), static_cast<uint32_t>(name_end - 1), esc};
      } else if (m < n && kChars.metric_start[U(b_[m])]) {
        name_end = ScanMetricName(m + 1);
        name_ = Span{static_cast<uint32_t>(m), static_cast<uint32_t>(name_end), false};
      } else {
        *out = ParseError(expected, m, m, Tok::kInvalid);
        return true;
      }
      size_t eol = b_.find('\n', name_end);
      if (eol == std::string_view::npos) eol = n;  // unreachable: the body ends with '\n'
      std::string_view rest = b_.substr(name_end, eol - name_end);
      std::string_view text = rest.size() > 1 ? rest.substr(1) : std::string_view();
      if (kind == Tok::kType) {
        if (Status st = SetTypeText(text, false); !st.ok()) {
          *out = Fail(std::move(st));
          return true;
        }
        text_ = text;
      } else {
        if (!IsValidUtf8(text)) {
          *out = Fail(WithPosition(
              fmt::format("help text {} is not a valid utf8 string", QuoteGo(text)), name_end));
          return true;
        }
        text_ = Unescape(Span{static_cast<uint32_t>(eol - text.size()),
                              static_cast<uint32_t>(eol),
                              text.find('\\') != std::string_view::npos},
                         &text_scratch_, true);
      }
      pos_ = eol + 1;
      ++line_;
      *out = kind == Tok::kHelp ? Entry::kHelp : Entry::kType;
      return true;
    }
  }
  // Any other line starting with '#' is a comment.
  size_t eol = b_.find('\n', i);
  if (eol == std::string_view::npos) eol = n;
  text_ = b_.substr(i, eol - i);
  pos_ = eol + 1;
  ++line_;
  *out = Entry::kComment;
  return true;
}

Status Parser::SetTypeText(std::string_view s, bool openmetrics) {
  MetricType t;
  if (s == "counter") {
    t = MetricType::kCounter;
  } else if (s == "gauge") {
    t = MetricType::kGauge;
  } else if (s == "histogram") {
    t = MetricType::kHistogram;
  } else if (s == "summary") {
    t = MetricType::kSummary;
  } else if (!openmetrics && s == "untyped") {
    t = MetricType::kUnknown;
  } else if (openmetrics && s == "gaugehistogram") {
    t = MetricType::kGaugeHistogram;
  } else if (openmetrics && s == "info") {
    t = MetricType::kInfo;
  } else if (openmetrics && s == "stateset") {
    t = MetricType::kStateset;
  } else if (openmetrics && s == "unknown") {
    t = MetricType::kUnknown;
  } else {
    return WithPosition(fmt::format("invalid metric type {}", QuoteGo(s)),
                        static_cast<size_t>(s.data() - b_.data()));
  }
  type_ = t;
  return Status::Ok();
}

Status Parser::ParseLabelsText() {
  size_t p = SkipBlanks(pos_);
  size_t end = 0;
  Tok t = LabelsToken(p, &end, false);
  while (true) {
    if (t == Tok::kBraceClose) {
      pos_ = end;
      return Status::Ok();
    }
    if (t != Tok::kLName && t != Tok::kQString) {
      return ParseErrorStatus("expected label name", p, end, t);
    }
    bool quoted = t == Tok::kQString;
    size_t name_b = p, name_e = end;
    p = SkipBlanks(end);
    t = LabelsToken(p, &end, false);
    if (quoted && (t == Tok::kComma || t == Tok::kBraceClose)) {
      if (has_name_) {
        size_t e = std::min(end, b_.size());
        return WithPosition(fmt::format("metric name already set while parsing: {}",
                                        QuoteGo(b_.substr(line_start_, e - line_start_))),
                            name_b);
      }
      has_name_ = true;
      name_ = Span{static_cast<uint32_t>(name_b + 1), static_cast<uint32_t>(name_e - 1),
                   b_.substr(name_b, name_e - name_b).find('\\') != std::string_view::npos};
      if (t == Tok::kBraceClose) {
        pos_ = end;
        return Status::Ok();
      }
      p = SkipBlanks(end);
      t = LabelsToken(p, &end, false);
      continue;
    }
    LabelSpan ls;
    if (quoted) {
      ls.name = Span{static_cast<uint32_t>(name_b + 1), static_cast<uint32_t>(name_e - 1),
                     b_.substr(name_b, name_e - name_b).find('\\') != std::string_view::npos};
    } else {
      ls.name = Span{static_cast<uint32_t>(name_b), static_cast<uint32_t>(name_e), false};
    }
    if (t != Tok::kEqual) return ParseErrorStatus("expected equal", p, end, t);
    p = SkipBlanks(end);
    size_t fail = 0;
    bool esc = false;
    if (p >= b_.size() || b_[p] != '"') {
      return ParseErrorStatus("expected label value", p, p, Tok::kInvalid);
    }
    if (!ScanQuoted(p, true, &end, &fail, &esc)) {
      return ParseErrorStatus("expected label value", p, fail, Tok::kInvalid);
    }
    std::string_view raw = b_.substr(p, end - p);
    if (non_ascii_ && !IsValidUtf8(raw)) {
      return WithPosition(fmt::format("invalid UTF-8 label value: {}", QuoteGo(raw)), p);
    }
    ls.value = Span{static_cast<uint32_t>(p + 1), static_cast<uint32_t>(end - 1), esc};
    labels_.push_back(ls);
    p = SkipBlanks(end);
    t = LabelsToken(p, &end, false);
    if (t == Tok::kComma) {
      p = SkipBlanks(end);
      t = LabelsToken(p, &end, false);
    }
  }
}

Status Parser::ParseValue(size_t begin, size_t end, double* out) {
  std::string_view s = b_.substr(begin, end - begin);
  std::string_view so_far = b_.substr(line_start_, end - line_start_);
  for (char c : s) {
    if (c == 'p' || c == 'P' || c == '_') {
      return WithPosition(
          fmt::format("unsupported character in float while parsing: {}", QuoteGo(so_far)),
          begin);
    }
  }
  switch (ParseFloatGo(s, out)) {
    case FloatResult::kOk: *out = CanonicalNaN(*out); return Status::Ok();
    case FloatResult::kSyntax:
      return WithPosition(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax while "
                                      "parsing: {}", QuoteGo(s), QuoteGo(so_far)), begin);
    case FloatResult::kRange:
      return WithPosition(fmt::format("strconv.ParseFloat: parsing {}: value out of range while "
                                      "parsing: {}", QuoteGo(s), QuoteGo(so_far)), begin);
  }
  return Status::Ok();
}

Entry Parser::ParseSuffixText(size_t p) {
  const size_t n = b_.size();
  const char* d = b_.data();
  p = SkipBlanks(p);
  if (!has_name_) {
    size_t e = p;
    while (e < n && !kChars.value_stop[U(d[e])]) ++e;
    return Fail(WithPosition(fmt::format("metric name not set while parsing: {}",
                                         QuoteGo(b_.substr(line_start_, e - line_start_))),
                             p));
  }
  if (p >= n || kChars.value_stop[U(d[p])]) {
    Tok t = p < n && d[p] == '{' ? Tok::kBraceOpen : Tok::kInvalid;
    return ParseError("expected value after metric", p, t == Tok::kBraceOpen ? p + 1 : p, t);
  }
  size_t ve = p + 1;
  while (ve < n && !kChars.value_stop[U(d[ve])]) ++ve;
  if (Status st = ParseValue(p, ve, &value_); !st.ok()) return Fail(std::move(st));
  p = SkipBlanks(ve);
  has_ts_ = false;
  if (p < n && d[p] == '\n') {
    pos_ = p + 1;
    ++line_;
    return Entry::kSeries;
  }
  if (p < n && d[p] >= '0' && d[p] <= '9') {
    size_t te = p + 1;
    while (te < n && d[te] >= '0' && d[te] <= '9') ++te;
    auto ts = ParseInt64(b_.substr(p, te - p));
    if (!ts) {
      return Fail(WithPosition(
          fmt::format("strconv.ParseInt: parsing {}: value out of range while parsing: {}",
                      QuoteGo(b_.substr(p, te - p)),
                      QuoteGo(b_.substr(line_start_, te - line_start_))),
          p));
    }
    has_ts_ = true;
    ts_ = *ts;
    size_t q = SkipBlanks(te);
    if (q < n && d[q] == '\n') {
      pos_ = q + 1;
      ++line_;
      return Entry::kSeries;
    }
    if (q < n && d[q] >= '0' && d[q] <= '9') {
      size_t e2 = q + 1;
      while (e2 < n && d[e2] >= '0' && d[e2] <= '9') ++e2;
      return ParseError("expected next entry after timestamp", q, e2, Tok::kTimestamp);
    }
    return ParseError("expected next entry after timestamp", q, q, Tok::kInvalid);
  }
  return ParseError("expected timestamp or new record", p, p, Tok::kInvalid);
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics 1.0.

Entry Parser::NextOpenMetrics() {
  const size_t n = b_.size();
  const char* d = b_.data();
  while (true) {
    size_t i = pos_;
    line_start_ = i;
    if (i >= n) return Fail(WithPosition("data does not end with # EOF", i));
    char c = d[i];
    if (c == '#') {
      if (i + 1 < n && d[i + 1] == ' ') {
        size_t j = i + 2;
        std::string_view rest = b_.substr(j);
        if (rest.starts_with("HELP ")) return ParseMetaOM(j + 5, Tok::kHelp);
        if (rest.starts_with("TYPE ")) return ParseMetaOM(j + 5, Tok::kType);
        if (rest.starts_with("UNIT ")) return ParseMetaOM(j + 5, Tok::kUnit);
        if (rest.starts_with("EOF")) {
          size_t k = j + 3;
          if (k < n && d[k] == '\n') ++k;
          if (k != n) return Fail(WithPosition("unexpected data after # EOF", k));
          done_ = true;
          return Entry::kEOF;
        }
        // Where the lexer gives up: the longest prefix of a keyword that matches.
        size_t best = 0;
        for (std::string_view kw : {"HELP ", "TYPE ", "UNIT ", "EOF"}) {
          size_t k = 0;
          while (k < kw.size() && k < rest.size() && rest[k] == kw[k]) ++k;
          best = std::max(best, k);
        }
        return ParseError("expected a valid start token", i, j + best, Tok::kInvalid);
      }
      return ParseError("expected a valid start token", i, i + 1, Tok::kInvalid);
    }
    labels_.clear();
    if (c == '{') {
      has_name_ = false;
      pos_ = i + 1;
      if (Status st = ParseLabelsOM(false); !st.ok()) return Fail(std::move(st));
      series_ = b_.substr(i, pos_ - i);
      last_tok_start_ = pos_ - 1;
      Entry e = ParseSuffixOM(pos_);
      if (e == Entry::kSeries && SkipCreated()) continue;
      return e;
    }
    if (kChars.metric_start[U(c)]) {
      size_t e = ScanMetricName(i + 1);
      has_name_ = true;
      name_ = Span{static_cast<uint32_t>(i), static_cast<uint32_t>(e), false};
      series_ = b_.substr(i, e - i);
      last_tok_start_ = i;
      size_t p = e;
      if (p < n && d[p] == '{') {
        pos_ = p + 1;
        if (Status st = ParseLabelsOM(false); !st.ok()) return Fail(std::move(st));
        series_ = b_.substr(i, pos_ - i);
        p = pos_;
        last_tok_start_ = p - 1;
      }
      Entry en = ParseSuffixOM(p);
      if (en == Entry::kSeries && SkipCreated()) continue;
      return en;
    }
    return ParseError("expected a valid start token", i, i, Tok::kInvalid);
  }
}

bool Parser::SkipCreated() {
  if (!options_.skip_created_series) return false;
  if (om_family_type_ != MetricType::kCounter && om_family_type_ != MetricType::kSummary &&
      om_family_type_ != MetricType::kHistogram &&
      om_family_type_ != MetricType::kGaugeHistogram) {
    return false;
  }
  std::string_view name = MetricName();
  return name.size() == om_family_.size() + 8 && name.starts_with(om_family_) &&
         name.ends_with("_created");
}

Entry Parser::ParseMetaOM(size_t m, Tok kind) {
  const size_t n = b_.size();
  const char* d = b_.data();
  std::string expected = fmt::format("expected metric name after {}", TokName(kind));
  size_t name_end = 0;
  if (m < n && d[m] == '"') {
    size_t fail = 0;
    bool esc = false;
    if (!ScanQuoted(m, true, &name_end, &fail, &esc)) {
      return ParseError(expected, m, fail, Tok::kInvalid);
    }
    name_ = Span{static_cast<uint32_t>(m + 1), static_cast<uint32_t>(name_end - 1), esc};
  } else if (m < n && kChars.metric_start[U(d[m])]) {
    name_end = ScanMetricName(m + 1);
    name_ = Span{static_cast<uint32_t>(m), static_cast<uint32_t>(name_end), false};
  } else {
    return ParseError(expected, m, m, Tok::kInvalid);
  }
  size_t eol = b_.find('\n', name_end);
  if (name_end >= n || d[name_end] != ' ' || eol == std::string_view::npos) {
    return Fail(WithPosition(fmt::format("expected text in {}", TokName(kind)), name_end));
  }
  std::string_view text = b_.substr(name_end + 1, eol - name_end - 1);
  pos_ = eol + 1;
  switch (kind) {
    case Tok::kType: {
      if (Status st = SetTypeText(text, true); !st.ok()) return Fail(std::move(st));
      text_ = text;
      om_family_.assign(MetricFamily());
      om_family_type_ = type_;
      ++line_;
      return Entry::kType;
    }
    case Tok::kHelp: {
      if (!IsValidUtf8(text)) {
        return Fail(WithPosition(
            fmt::format("help text {} is not a valid utf8 string", QuoteGo(text)), name_end));
      }
      text_ = Unescape(Span{static_cast<uint32_t>(name_end + 1), static_cast<uint32_t>(eol),
                            text.find('\\') != std::string_view::npos},
                       &text_scratch_, false);
      ++line_;
      return Entry::kHelp;
    }
    default: {
      std::string_view metric = MetricFamily();
      if (!text.empty()) {
        if (metric.size() < text.size() + 1 || !metric.ends_with(text) ||
            metric[metric.size() - text.size() - 1] != '_') {
          return Fail(WithPosition(fmt::format("unit {} not a suffix of metric {}",
                                               QuoteGo(text), QuoteGo(metric)),
                                   name_end + 1));
        }
      }
      text_ = text;
      ++line_;
      return Entry::kUnit;
    }
  }
}

Status Parser::ParseLabelsOM(bool exemplar) {
  std::vector<LabelSpan>& out = exemplar ? exemplar_labels_ : labels_;
  out.clear();
  size_t p = pos_;
  size_t end = 0;
  Tok t = LabelsToken(p, &end, exemplar);
  while (true) {
    if (t == Tok::kBraceClose) {
      pos_ = end;
      return Status::Ok();
    }
    if (t != Tok::kLName && t != Tok::kQString) {
      return ParseErrorStatus("expected label name", p, end, t);
    }
    bool quoted = t == Tok::kQString;
    size_t name_b = p, name_e = end;
    p = end;
    t = LabelsToken(p, &end, exemplar);
    if (t == Tok::kComma || t == Tok::kBraceClose) {
      if (exemplar) return ParseErrorStatus("expected label name", p, end, t);
      if (!quoted) return ParseErrorStatus("expected equal", p, end, t);
      if (has_name_) {
        size_t e = std::min(end, b_.size());
        return WithPosition(fmt::format("metric name already set while parsing: {}",
                                        QuoteGo(b_.substr(line_start_, e - line_start_))),
                            name_b);
      }
      has_name_ = true;
      name_ = Span{static_cast<uint32_t>(name_b + 1), static_cast<uint32_t>(name_e - 1),
                   b_.substr(name_b, name_e - name_b).find('\\') != std::string_view::npos};
      if (t == Tok::kBraceClose) {
        pos_ = end;
        return Status::Ok();
      }
      p = end;
      t = LabelsToken(p, &end, exemplar);
      continue;
    }
    LabelSpan ls;
    if (quoted) {
      ls.name = Span{static_cast<uint32_t>(name_b + 1), static_cast<uint32_t>(name_e - 1),
                     b_.substr(name_b, name_e - name_b).find('\\') != std::string_view::npos};
    } else {
      ls.name = Span{static_cast<uint32_t>(name_b), static_cast<uint32_t>(name_e), false};
    }
    if (t != Tok::kEqual) return ParseErrorStatus("expected equal", p, end, t);
    p = end;
    size_t fail = 0;
    bool esc = false;
    if (p >= b_.size() || b_[p] != '"') {
      return ParseErrorStatus("expected label value", p, p, Tok::kInvalid);
    }
    if (!ScanQuoted(p, false, &end, &fail, &esc)) {
      return ParseErrorStatus("expected label value", p, fail, Tok::kInvalid);
    }
    std::string_view raw = b_.substr(p, end - p);
    if (non_ascii_ && !IsValidUtf8(raw)) {
      return WithPosition(fmt::format("invalid UTF-8 label value: {}", QuoteGo(raw)), p);
    }
    ls.value = Span{static_cast<uint32_t>(p + 1), static_cast<uint32_t>(end - 1), esc};
    out.push_back(ls);
    p = end;
    t = LabelsToken(p, &end, exemplar);
    if (t == Tok::kComma) {
      p = end;
      t = LabelsToken(p, &end, exemplar);
    } else if (t != Tok::kBraceClose) {
      return ParseErrorStatus("expected comma or brace close", p, end, t);
    }
  }
}

namespace {
// `{S}[^ \n]+` at p: returns the end of the token, or 0 when there is none (then *fail is where
// the lexer gave up).
size_t ScanSpaceToken(std::string_view b, size_t p, size_t* fail) {
  const size_t n = b.size();
  if (p >= n || b[p] != ' ') {
    *fail = p;
    return 0;
  }
  if (p + 1 >= n || b[p + 1] == ' ' || b[p + 1] == '\n') {
    *fail = p + 1;
    return 0;
  }
  size_t e = p + 2;
  while (e < n && b[e] != ' ' && b[e] != '\n') ++e;
  return e;
}

bool IsExemplarStart(std::string_view b, size_t p) {
  return p + 3 < b.size() && b[p] == ' ' && b[p + 1] == '#' && b[p + 2] == ' ' &&
         b[p + 3] == '{';
}
}  // namespace

Entry Parser::ParseSuffixOM(size_t p) {
  const size_t n = b_.size();
  size_t fail = 0;
  size_t ve = ScanSpaceToken(b_, p, &fail);
  if (!has_name_) {
    size_t e = ve ? ve : p;
    return Fail(WithPosition(fmt::format("metric name not set while parsing: {}",
                                         QuoteGo(b_.substr(line_start_, e - line_start_))),
                             p));
  }
  if (ve == 0) {
    if (p >= n) return ParseError("expected value after metric", last_tok_start_, n, Tok::kEOF);
    if (b_[p] == '{') return ParseError("expected value after metric", p, p + 1, Tok::kBraceOpen);
    return ParseError("expected value after metric", p, fail, Tok::kInvalid);
  }
  if (Status st = ParseValue(p + 1, ve, &value_); !st.ok()) return Fail(std::move(st));
  p = ve;
  has_ts_ = false;
  if (p >= n) return Fail(WithPosition("data does not end with # EOF", p));
  if (b_[p] == '\n') {
    pos_ = p + 1;
    ++line_;
    return Entry::kSeries;
  }
  if (IsExemplarStart(b_, p)) {
    size_t next = 0;
    if (Status st = ParseExemplarOM(p + 4, &next); !st.ok()) return Fail(std::move(st));
    pos_ = next;
    ++line_;
    return Entry::kSeries;
  }
  size_t te = ScanSpaceToken(b_, p, &fail);
  if (te == 0) return ParseError("expected timestamp or new record", p, fail, Tok::kInvalid);
  double ts = 0;
  std::string_view tss = b_.substr(p + 1, te - p - 1);
  if (Status st = ParseValue(p + 1, te, &ts); !st.ok()) return Fail(std::move(st));
  if (std::isnan(ts) || std::isinf(ts)) {
    (void)tss;
    return Fail(WithPosition(fmt::format("invalid timestamp {}", GoFormatF(ts)), p + 1));
  }
  has_ts_ = true;
  ts_ = SecondsToMs(ts);
  size_t ts_start = p;
  p = te;
  if (p >= n) {
    return ParseError("expected next entry after timestamp", ts_start, n, Tok::kEOF);
  }
  if (b_[p] == '\n') {
    pos_ = p + 1;
    ++line_;
    return Entry::kSeries;
  }
  if (IsExemplarStart(b_, p)) {
    size_t next = 0;
    if (Status st = ParseExemplarOM(p + 4, &next); !st.ok()) return Fail(std::move(st));
    pos_ = next;
    ++line_;
    return Entry::kSeries;
  }
  size_t e2 = ScanSpaceToken(b_, p, &fail);
  if (e2 != 0) return ParseError("expected next entry after timestamp", p, e2, Tok::kTimestamp);
  return ParseError("expected next entry after timestamp", p, fail, Tok::kInvalid);
}

Status Parser::ParseExemplarOM(size_t p, size_t* next) {
  const size_t n = b_.size();
  pos_ = p;
  HEARTH_RETURN_IF_ERROR(ParseLabelsOM(true));
  p = pos_;
  size_t fail = 0;
  size_t ve = ScanSpaceToken(b_, p, &fail);
  if (ve == 0) {
    if (p >= n) return ParseErrorStatus("expected value after exemplar labels", p - 1, n, Tok::kEOF);
    return ParseErrorStatus("expected value after exemplar labels", p, fail, Tok::kInvalid);
  }
  HEARTH_RETURN_IF_ERROR(ParseValue(p + 1, ve, &exemplar_value_));
  p = ve;
  exemplar_has_ts_ = false;
  if (p >= n) return WithPosition("data does not end with # EOF", p);
  if (b_[p] != '\n') {
    size_t te = ScanSpaceToken(b_, p, &fail);
    if (te == 0) return ParseErrorStatus("expected timestamp or comment", p, fail, Tok::kInvalid);
    double ts = 0;
    HEARTH_RETURN_IF_ERROR(ParseValue(p + 1, te, &ts));
    if (std::isnan(ts) || std::isinf(ts)) {
      return WithPosition(fmt::format("invalid exemplar timestamp {}", GoFormatF(ts)), p + 1);
    }
    exemplar_has_ts_ = true;
    exemplar_ts_ = SecondsToMs(ts);
    size_t ts_start = p;
    p = te;
    if (p >= n) {
      return ParseErrorStatus("expected next entry after exemplar timestamp", ts_start, n,
                              Tok::kEOF);
    }
    if (b_[p] != '\n') {
      size_t e2 = ScanSpaceToken(b_, p, &fail);
      if (e2 != 0) {
        return ParseErrorStatus("expected next entry after exemplar timestamp", p, e2,
                                Tok::kTimestamp);
      }
      return ParseErrorStatus("expected next entry after exemplar timestamp", p, fail,
                              Tok::kInvalid);
    }
  }
  has_exemplar_ = true;
  *next = p + 1;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Accessors.

std::string_view Parser::Unescape(Span s, std::string* scratch, bool help_only) const {
  std::string_view raw = SpanView(s);
  if (!s.escaped) return raw;
  scratch->clear();
  scratch->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char e = raw[i + 1];
      if (e == '\\') {
        *scratch += '\\';
        ++i;
        continue;
      }
      if (e == 'n') {
        *scratch += '\n';
        ++i;
        continue;
      }
      if (e == '"' && !help_only) {
        *scratch += '"';
        ++i;
        continue;
      }
    }
    *scratch += c;
  }
  return *scratch;
}

std::string_view Parser::MetricName() { return Unescape(name_, &name_scratch_, false); }

std::string_view Parser::MetricFamily() { return Unescape(name_, &name_scratch_, false); }

Result<hearth::Labels> Parser::BuildLabels() {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(labels_.size() + 1);
  if (label_scratch_.size() < labels_.size() * 2) label_scratch_.resize(labels_.size() * 2);
  pairs.emplace_back(kMetricName, MetricName());
  for (size_t i = 0; i < labels_.size(); ++i) {
    pairs.emplace_back(Unescape(labels_[i].name, &label_scratch_[2 * i], false),
                       Unescape(labels_[i].value, &label_scratch_[2 * i + 1], false));
  }
  // Duplicate names are an error, not "last one wins".
  if (pairs.size() > 1) {
    std::vector<std::string_view> names;
    names.reserve(pairs.size());
    for (const auto& p : pairs) names.push_back(p.first);
    std::sort(names.begin(), names.end());
    for (size_t i = 1; i < names.size(); ++i) {
      if (names[i] == names[i - 1]) {
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("label name {} is not unique: invalid sample",
                                  QuoteGo(names[i])));
      }
    }
  }
  return hearth::Labels::FromPairs(pairs);
}

Status Parser::Labels(LabelsBuilder& builder) {
  HEARTH_ASSIGN_OR_RETURN(hearth::Labels l, BuildLabels());
  builder.Reset(l);
  return Status::Ok();
}

bool Parser::GetExemplar(Exemplar* out) {
  if (!has_exemplar_) return false;
  out->labels.clear();
  std::string a, b;
  for (const auto& l : exemplar_labels_) {
    out->labels.emplace_back(std::string(Unescape(l.name, &a, false)),
                             std::string(Unescape(l.value, &b, false)));
  }
  out->value = exemplar_value_;
  out->has_timestamp = exemplar_has_ts_;
  out->timestamp = exemplar_ts_;
  return true;
}

// ---------------------------------------------------------------------------------------------

namespace {
std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<Format> FallbackFormat(std::string_view fallback) {
  if (fallback == "PrometheusText0.0.4" || fallback == "PrometheusText1.0.0") return Format::kText;
  if (fallback == "OpenMetricsText0.0.1" || fallback == "OpenMetricsText1.0.0") {
    return Format::kOpenMetrics;
  }
  return Status(StatusCode::kInvalidArgument,
                fmt::format("unsupported fallback_scrape_protocol {}", QuoteGo(fallback)));
}
}  // namespace

Result<Format> FormatForContentType(std::string_view content_type, std::string_view fallback) {
  if (TrimAscii(content_type).empty()) {
    if (fallback.empty()) {
      return Status(StatusCode::kInvalidArgument,
                    "non-compliant scrape target sending blank Content-Type and no "
                    "fallback_scrape_protocol specified for target");
    }
    return FallbackFormat(fallback);
  }
  std::string media = ToLowerAscii(TrimAscii(content_type.substr(0, content_type.find(';'))));
  if (media == "application/openmetrics-text") return Format::kOpenMetrics;
  if (media == "text/plain") return Format::kText;
  if (fallback.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("received unsupported Content-Type {} and no "
                              "fallback_scrape_protocol specified for target",
                              QuoteGo(content_type)));
  }
  return FallbackFormat(fallback);
}

std::string_view MetricFamilyName(std::string_view name, MetricType type) {
  auto strip = [&](std::initializer_list<std::string_view> suffixes) {
    for (std::string_view s : suffixes) {
      if (name.size() > s.size() && name.ends_with(s)) return name.substr(0, name.size() - s.size());
    }
    return name;
  };
  switch (type) {
    case MetricType::kCounter: return strip({"_total", "_created"});
    case MetricType::kHistogram:
      return strip({"_bucket", "_sum", "_count", "_created"});
    case MetricType::kGaugeHistogram:
      return strip({"_bucket", "_gsum", "_gcount", "_created"});
    case MetricType::kSummary: return strip({"_sum", "_count", "_created"});
    case MetricType::kInfo: return strip({"_info"});
    default: return name;
  }
}

}  // namespace hearth::textparse
