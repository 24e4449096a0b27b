#include "query/parser/lexer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "model/strutil.h"

namespace hearth::promql {
namespace {

bool IsSpace(int32_t r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int32_t r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }

constexpr int32_t kRuneError = 0xFFFD;
constexpr int32_t kMaxRune = 0x10FFFF;

// Decodes one UTF-8 rune at s[i] like Go's utf8.DecodeRuneInString: invalid sequences
// (overlong forms, surrogates, truncation) decode to U+FFFD with width 1.
int32_t DecodeRune(std::string_view s, size_t i, int* width) {
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char c0 = u[i];
  if (c0 < 0x80) {
    *width = 1;
    return c0;
  }
  size_t left = s.size() - i;
  auto cont = [&](size_t k) { return k < left && (u[i + k] & 0xC0) == 0x80; };
  *width = 1;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(1)) return kRuneError;
    *width = 2;
    return ((c0 & 0x1F) << 6) | (u[i + 1] & 0x3F);
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return kRuneError;
    int32_t r = ((c0 & 0x0F) << 12) | ((u[i + 1] & 0x3F) << 6) | (u[i + 2] & 0x3F);
    if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
    *width = 3;
    return r;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return kRuneError;
    int32_t r = ((c0 & 0x07) << 18) | ((u[i + 1] & 0x3F) << 12) | ((u[i + 2] & 0x3F) << 6) |
                (u[i + 3] & 0x3F);
    if (r < 0x10000 || r > kMaxRune) return kRuneError;
    *width = 4;
    return r;
  }
  return kRuneError;
}

// An approximation of Go's strconv.IsPrint, enough for error messages.
bool IsPrintRune(int32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD) return false;
  if (r >= 0xD800 && r <= 0xDFFF) return false;
  if (r > kMaxRune) return false;
  if ((r >= 0x2028 && r <= 0x202E) || (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF) return false;
  return true;
}

// Go's %#U: U+0063 'c'.
std::string FormatRuneU(int32_t r) {
  std::string out = fmt::format("U+{:04X}", static_cast<uint32_t>(r));
  if (IsPrintRune(r)) {
    out += " '";
    AppendUtf8(&out, r);
    out += '\'';
  }
  return out;
}

int DigitVal(int32_t ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return 16;
}

struct Keyword {
  std::string_view name;
  Tok tok;
};

// Sorted by name; looked up with the lower-cased word. "inf" and "nan" are numbers.
constexpr std::array<Keyword, 37> kKeywords = {{
    {"anchored", Tok::kAnchored},
    {"and", Tok::kLand},
    {"atan2", Tok::kAtan2},
    {"avg", Tok::kAvg},
    {"bool", Tok::kBool},
    {"bottomk", Tok::kBottomk},
    {"by", Tok::kBy},
    {"count", Tok::kCount},
    {"count_values", Tok::kCountValues},
    {"end", Tok::kEnd},
    {"fill", Tok::kFill},
    {"fill_left", Tok::kFillLeft},
    {"fill_right", Tok::kFillRight},
    {"group", Tok::kGroup},
    {"group_left", Tok::kGroupLeft},
    {"group_right", Tok::kGroupRight},
    {"ignoring", Tok::kIgnoring},
    {"inf", Tok::kNumber},
    {"limit_ratio", Tok::kLimitRatio},
    {"limitk", Tok::kLimitK},
    {"max", Tok::kMax},
    {"min", Tok::kMin},
    {"nan", Tok::kNumber},
    {"offset", Tok::kOffset},
    {"on", Tok::kOn},
    {"or", Tok::kLor},
    {"quantile", Tok::kQuantile},
    {"range", Tok::kRange},
    {"smoothed", Tok::kSmoothed},
    {"start", Tok::kStart},
    {"stddev", Tok::kStddev},
    {"stdvar", Tok::kStdvar},
    {"step", Tok::kStep},
    {"sum", Tok::kSum},
    {"topk", Tok::kTopk},
    {"unless", Tok::kLunless},
    {"without", Tok::kWithout},
}};

// The keyword token for `word` (any case), or kEOF when it is not a keyword.
Tok LookupKeyword(std::string_view word) {
  constexpr size_t kMaxLen = 12;  // "count_values"
  if (word.size() > kMaxLen) return Tok::kEOF;
  char buf[kMaxLen];
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view lower(buf, word.size());
  auto it = std::lower_bound(kKeywords.begin(), kKeywords.end(), lower,
                             [](const Keyword& k, std::string_view w) { return k.name < w; });
  if (it != kKeywords.end() && it->name == lower) return it->tok;
  return Tok::kEOF;
}

// Fixed spellings of tokens whose text does not vary (Prometheus' ItemTypeStr), used to decide
// how a token is described in errors.
bool HasFixedSpelling(Tok t) {
  switch (t) {
    case Tok::kEOF:
    case Tok::kError:
    case Tok::kComment:
    case Tok::kIdentifier:
    case Tok::kMetricIdentifier:
    case Tok::kString:
    case Tok::kNumber:
    case Tok::kDuration:
      return false;
    default:
      return true;
  }
}

// Go's fmt %.10q: at most 10 runes of s, quoted.
std::string QuoteTruncated(std::string_view s, size_t runes) {
  size_t i = 0;
  size_t n = 0;
  while (i < s.size() && n < runes) {
    int w = 1;
    DecodeRune(s, i, &w);
    i += static_cast<size_t>(w);
    ++n;
  }
  return QuoteGo(s.substr(0, i));
}

}  // namespace

std::string QuoteRune(int32_t r) {
  if (r < 0 || r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  switch (r) {
    case '\a': return "'\\a'";
    case '\b': return "'\\b'";
    case '\f': return "'\\f'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\v': return "'\\v'";
    case '\\': return "'\\\\'";
    case '\'': return "'\\''";
    default: break;
  }
  if (IsPrintRune(r)) {
    std::string out = "'";
    AppendUtf8(&out, r);
    out += '\'';
    return out;
  }
  if (r < 0x80) return fmt::format("'\\x{:02x}'", r);
  if (r < 0x10000) return fmt::format("'\\u{:04x}'", r);
  return fmt::format("'\\U{:08x}'", r);
}

std::string TokenDesc(const Token& t) {
  if (t.type == Tok::kEOF) return "end of input";
  if (HasFixedSpelling(t.type)) {
    if (IsKeywordTok(t.type)) return fmt::format("<{}>", t.val);
    if (IsOperatorTok(t.type)) return fmt::format("<op:{}>", t.val);
    if (IsAggregatorTok(t.type)) return fmt::format("<aggr:{}>", t.val);
    if (t.val.size() > 10) return QuoteTruncated(t.val, 10) + "...";
    return QuoteGo(t.val);
  }
  switch (t.type) {
    case Tok::kError: return std::string(t.val);
    case Tok::kIdentifier: return "identifier " + QuoteGo(t.val);
    case Tok::kMetricIdentifier: return "metric identifier " + QuoteGo(t.val);
    default: break;
  }
  std::string_view kind = t.type == Tok::kString   ? "string"
                          : t.type == Tok::kNumber ? "number"
                          : t.type == Tok::kDuration ? "duration"
                                                     : "comment";
  std::string v = t.val.size() > 10 ? QuoteTruncated(t.val, 10) + "..." : QuoteGo(t.val);
  return fmt::format("{} {}", kind, v);
}

int32_t Lexer::NextRune() {
  if (static_cast<size_t>(pos_) >= input_.size()) {
    width_ = 0;
    return kEof;
  }
  int w = 1;
  int32_t r = DecodeRune(input_, static_cast<size_t>(pos_), &w);
  width_ = w;
  pos_ += w;
  return r;
}

bool Lexer::InSet(std::string_view set, int32_t r) {
  return r >= 0 && r < 0x80 && set.find(static_cast<char>(r)) != std::string_view::npos;
}

bool Lexer::Accept(std::string_view valid) {
  if (InSet(valid, NextRune())) return true;
  Backup();
  return false;
}

void Lexer::AcceptRun(std::string_view valid) {
  while (InSet(valid, NextRune())) {
  }
  Backup();
}

Token Lexer::Emit(Tok t) {
  Token tok{t, start_, input_.substr(start_, pos_ - start_)};
  start_ = pos_;
  return tok;
}

Token Lexer::Error(std::string msg) {
  error_ = std::move(msg);
  state_ = State::kDone;
  return Token{Tok::kError, start_, error_};
}

void Lexer::SkipSpaces() {
  while (IsSpace(Peek())) NextRune();
  start_ = pos_;
}

Token Lexer::Next() {
  Token t;
  for (;;) {
    switch (state_) {
      case State::kDone:
        start_ = pos_;
        return Token{Tok::kEOF, pos_, {}};
      case State::kStatements:
        if (LexStatements(&t)) return t;
        break;
      case State::kInsideBraces:
        if (LexInsideBraces(&t)) return t;
        break;
      case State::kDurationExpr:
        if (LexDurationExpr(&t)) return t;
        break;
    }
  }
}

Token Lexer::LexLineComment() {
  pos_ += 1;  // '#'
  for (int32_t r = NextRune(); r != '\r' && r != '\n' && r != kEof;) r = NextRune();
  Backup();
  return Emit(Tok::kComment);
}

bool Lexer::LexStatements(Token* out) {
  if (brace_open_) {
    state_ = State::kInsideBraces;
    return false;
  }
  if (static_cast<size_t>(pos_) < input_.size() && input_[pos_] == '#') {
    *out = LexLineComment();
    return true;
  }
  int32_t r = NextRune();
  switch (r) {
    case kEof:
      if (paren_depth_ != 0) {
        *out = Error("unclosed left parenthesis");
      } else if (bracket_open_) {
        *out = Error("unclosed left bracket");
      } else {
        *out = Emit(Tok::kEOF);
        state_ = State::kDone;
      }
      return true;
    case ',': *out = Emit(Tok::kComma); return true;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
      SkipSpaces();
      return false;
    case '*': *out = Emit(Tok::kMul); return true;
    case '/': *out = Emit(Tok::kDiv); return true;
    case '%': *out = Emit(Tok::kMod); return true;
    case '+': *out = Emit(Tok::kAdd); return true;
    case '-': *out = Emit(Tok::kSub); return true;
    case '^': *out = Emit(Tok::kPow); return true;
    case '=': {
      int32_t t = Peek();
      if (t == '=') {
        NextRune();
        *out = Emit(Tok::kEqlc);
      } else if (t == '~') {
        *out = Error(fmt::format("unexpected character after '=': {}", QuoteRune(t)));
      } else {
        *out = Emit(Tok::kAssign);
      }
      return true;
    }
    case '!': {
      int32_t t = NextRune();
      if (t != '=') {
        *out = Error(fmt::format("unexpected character after '!': {}", QuoteRune(t)));
      } else {
        *out = Emit(Tok::kNeq);
      }
      return true;
    }
    case '<':
      if (Peek() == '=') {
        NextRune();
        *out = Emit(Tok::kLte);
      } else {
        *out = Emit(Tok::kLss);
      }
      return true;
    case '>':
      if (Peek() == '=') {
        NextRune();
        *out = Emit(Tok::kGte);
      } else {
        *out = Emit(Tok::kGtr);
      }
      return true;
    case '"':
    case '\'':
      string_open_ = r;
      *out = LexString();
      return true;
    case '`':
      string_open_ = r;
      *out = LexRawString();
      return true;
    case '(':
      *out = Emit(Tok::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *out = Emit(Tok::kRightParen);
      if (--paren_depth_ < 0) *out = Error("unexpected right parenthesis ')'");
      return true;
    case '{':
      *out = Emit(Tok::kLeftBrace);
      brace_open_ = true;
      state_ = State::kInsideBraces;
      return true;
    case '[':
      if (bracket_open_) {
        *out = Error("unexpected left bracket '['");
        return true;
      }
      got_colon_ = false;
      *out = Emit(Tok::kLeftBracket);
      SkipSpaces();
      bracket_open_ = true;
      state_ = State::kDurationExpr;
      return true;
    case ']':
      if (!bracket_open_) {
        *out = Error("unexpected right bracket ']'");
        return true;
      }
      *out = Emit(Tok::kRightBracket);
      bracket_open_ = false;
      return true;
    case '@': *out = Emit(Tok::kAt); return true;
    default: break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    Backup();
    *out = LexNumberOrDuration();
    return true;
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      *out = LexKeywordOrIdentifier();
      return true;
    }
    if (r == ':') {
      if (got_colon_) {
        *out = Error("unexpected colon ':'");
        return true;
      }
      if (Peek() == ':') {
        NextRune();
        *out = Emit(Tok::kDoubleColon);
      } else {
        *out = Emit(Tok::kColon);
      }
      got_colon_ = true;
      return true;
    }
    if ((r == 's' || r == 'S' || r == 'm' || r == 'M') && ScanDurationKeyword(out)) return true;
    *out = Error(fmt::format("unexpected character: {}, expected ':'", QuoteRune(r)));
    return true;
  }
  *out = Error(fmt::format("unexpected character: {}", QuoteRune(r)));
  return true;
}

bool Lexer::LexInsideBraces(Token* out) {
  if (static_cast<size_t>(pos_) < input_.size() && input_[pos_] == '#') {
    *out = LexLineComment();
    return true;
  }
  int32_t r = NextRune();
  if (r == kEof) {
    *out = Error("unexpected end of input inside braces");
    return true;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsAlpha(r)) {
    Backup();
    *out = LexIdentifier();
    return true;
  }
  switch (r) {
    case ',': *out = Emit(Tok::kComma); return true;
    case '"':
    case '\'':
      string_open_ = r;
      *out = LexString();
      return true;
    case '`':
      string_open_ = r;
      *out = LexRawString();
      return true;
    case '=':
      if (NextRune() == '~') {
        *out = Emit(Tok::kEqlRegex);
      } else {
        Backup();
        *out = Emit(Tok::kAssign);
      }
      return true;
    case '!': {
      int32_t nr = NextRune();
      if (nr == '~') {
        *out = Emit(Tok::kNeqRegex);
      } else if (nr == '=') {
        *out = Emit(Tok::kNeq);
      } else {
        *out = Error(
            fmt::format("unexpected character after '!' inside braces: {}", QuoteRune(nr)));
      }
      return true;
    }
    case '{': *out = Error("unexpected left brace '{'"); return true;
    case '}':
      *out = Emit(Tok::kRightBrace);
      brace_open_ = false;
      state_ = State::kStatements;
      return true;
    default:
      *out = Error(fmt::format("unexpected character inside braces: {}", QuoteRune(r)));
      return true;
  }
}

bool Lexer::LexDurationExpr(Token* out) {
  int32_t r = NextRune();
  switch (r) {
    case kEof: *out = Error("unexpected end of input in duration expression"); return true;
    case ']':
      *out = Emit(Tok::kRightBracket);
      bracket_open_ = false;
      got_colon_ = false;
      state_ = State::kStatements;
      return true;
    case ':':
      *out = Emit(Tok::kColon);
      if (!got_duration_) {
        *out = Error("unexpected colon before duration in duration expression");
      } else if (got_colon_) {
        *out = Error("unexpected repeated colon in duration expression");
      }
      got_colon_ = true;
      return true;
    case '(':
      *out = Emit(Tok::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *out = Emit(Tok::kRightParen);
      if (--paren_depth_ < 0) *out = Error("unexpected right parenthesis ')'");
      return true;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
      SkipSpaces();
      return false;
    case '+': *out = Emit(Tok::kAdd); return true;
    case '-': *out = Emit(Tok::kSub); return true;
    case '*': *out = Emit(Tok::kMul); return true;
    case '/': *out = Emit(Tok::kDiv); return true;
    case '%': *out = Emit(Tok::kMod); return true;
    case '^': *out = Emit(Tok::kPow); return true;
    case ',': *out = Emit(Tok::kComma); return true;
    case 's':
    case 'S':
    case 'm':
    case 'M':
    case 'r':
    case 'R':
      if (ScanDurationKeyword(out)) return true;
      *out = Error(fmt::format("unexpected character in duration expression: {}", QuoteRune(r)));
      return true;
    default: break;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
    Backup();
    got_duration_ = true;
    *out = LexNumberOrDuration();
    if (out->type != Tok::kError) state_ = State::kStatements;
    return true;
  }
  *out = Error(fmt::format("unexpected character in duration expression: {}", QuoteRune(r)));
  return true;
}

bool Lexer::ScanDurationKeyword(Token* out) {
  while (IsAlpha(NextRune())) {
  }
  Backup();
  std::string word = ToLowerAscii(input_.substr(start_, pos_ - start_));
  Tok kw = word == "step"     ? Tok::kStep
           : word == "range"  ? Tok::kRange
           : word == "min_of" ? Tok::kMinOf
           : word == "max_of" ? Tok::kMaxOf
                              : Tok::kEOF;
  if (kw == Tok::kEOF) return false;
  *out = Emit(kw);
  return true;
}

Token Lexer::LexString() {
  for (;;) {
    int32_t r = NextRune();
    if (r == '\\') {
      Token err;
      if (!LexEscape(&err)) return err;
      continue;
    }
    if (r == kRuneError) return Error("invalid UTF-8 rune");
    if (r == kEof || r == '\n') return Error("unterminated quoted string");
    if (r == string_open_) break;
  }
  Token t = Emit(Tok::kString);
  state_ = brace_open_ ? State::kInsideBraces : State::kStatements;
  return t;
}

Token Lexer::LexRawString() {
  for (;;) {
    int32_t r = NextRune();
    if (r == kRuneError) return Error("invalid UTF-8 rune");
    if (r == kEof) return Error("unterminated raw string");
    if (r == string_open_) break;
  }
  Token t = Emit(Tok::kString);
  state_ = brace_open_ ? State::kInsideBraces : State::kStatements;
  return t;
}

bool Lexer::LexEscape(Token* err) {
  int n = 0;
  uint32_t base = 0;
  uint32_t max_val = 0;
  int32_t ch = NextRune();
  switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
      return true;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
      n = 3, base = 8, max_val = 255;
      break;
    case 'x':
      ch = NextRune();
      n = 2, base = 16, max_val = 255;
      break;
    case 'u':
      ch = NextRune();
      n = 4, base = 16, max_val = kMaxRune;
      break;
    case 'U':
      ch = NextRune();
      n = 8, base = 16, max_val = kMaxRune;
      break;
    case kEof:
      *err = Error("escape sequence not terminated");
      return false;
    default:
      if (ch == string_open_) return true;
      *err = Error(fmt::format("unknown escape sequence {}", FormatRuneU(ch)));
      return false;
  }
  uint32_t x = 0;
  while (n > 0) {
    auto d = static_cast<uint32_t>(DigitVal(ch));
    if (d >= base) {
      if (ch == kEof) {
        *err = Error("escape sequence not terminated");
      } else {
        *err = Error(fmt::format("illegal character {} in escape sequence", FormatRuneU(ch)));
      }
      return false;
    }
    x = x * base + d;
    if (--n > 0) ch = NextRune();
  }
  if (x > max_val || (x >= 0xD800 && x < 0xE000)) {
    *err = Error("escape sequence is an invalid Unicode code point");
    return false;
  }
  return true;
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(Tok::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(Tok::kDuration);
  }
  return Error(fmt::format("bad number or duration syntax: {}",
                           QuoteGo(input_.substr(start_, pos_ - start_))));
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");  // ms; bad units such as "hs" fail later, when the duration is parsed
  while (Accept("0123456789")) {
    while (Accept("0123456789")) {
    }
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

// Mirrors Prometheus' scanNumber: the scanned text is not necessarily a valid number; the
// parser's conversion catches that.
bool Lexer::ScanNumber() {
  const int initial = pos_;
  std::string_view digits = "0123456789";
  bool hex = false;
  if (Accept("0") && Accept("xX")) {
    Accept("_");
    digits = "0123456789abcdefABCDEF";
    hex = true;
  }
  // The loop condition's set: digits, '.', '_', 'e', 'E'.
  char set_buf[32];
  std::memcpy(set_buf, digits.data(), digits.size());
  std::memcpy(set_buf + digits.size(), "._eE", 4);
  std::string_view loop_set(set_buf, digits.size() + 4);

  Accept(".");
  Accept(digits);
  bool dot = false;
  bool exponent = false;
  while (Is(loop_set)) {
    if (Is(".") && dot) {
      Accept(".");
      return false;
    }
    if (Is("eE") && exponent) {
      Accept("eE");
      return false;
    }
    if (Accept(".")) {
      dot = true;
      if (Accept("_.")) return false;
      if (hex) return false;  // no fractional hexadecimal literals
      continue;
    }
    if (Accept("eE")) {
      exponent = true;
      Accept("+-");
      if (Accept("._eE") || Peek() == kEof) return false;
      continue;
    }
    if (Accept("_")) {
      if (Accept("._eE") || Peek() == kEof) return false;
      continue;
    }
    AcceptRun(digits);
  }
  if (pos_ == initial) return false;
  return !IsAlphaNumeric(Peek());
}

bool Lexer::FollowedByLeftParen() const {
  for (size_t i = static_cast<size_t>(pos_); i < input_.size(); ++i) {
    char c = input_[i];
    if (!IsSpace(static_cast<unsigned char>(c))) return c == '(';
  }
  return false;
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    int32_t r = NextRune();
    if (!IsAlphaNumeric(r) && r != ':') break;
  }
  Backup();
  std::string_view word = input_.substr(start_, pos_ - start_);
  Tok kw = LookupKeyword(word);
  if (kw != Tok::kEOF) {
    // fill/fill_left/fill_right are keywords only before '(' so they stay usable as names.
    if ((kw == Tok::kFill || kw == Tok::kFillLeft || kw == Tok::kFillRight) &&
        !FollowedByLeftParen()) {
      return Emit(Tok::kIdentifier);
    }
    return Emit(kw);
  }
  return Emit(word.find(':') == std::string_view::npos ? Tok::kIdentifier
                                                        : Tok::kMetricIdentifier);
}

Token Lexer::LexIdentifier() {
  while (IsAlphaNumeric(NextRune())) {
  }
  Backup();
  return Emit(Tok::kIdentifier);
}

bool UnquoteString(std::string_view s, std::string* out) {
  out->clear();
  if (s.size() < 2) return false;
  char quote = s.front();
  if (s.back() != quote) return false;
  s = s.substr(1, s.size() - 2);
  if (quote == '`') {
    if (s.find('`') != std::string_view::npos) return false;
    out->assign(s);
    return true;
  }
  if (quote != '"' && quote != '\'') return false;
  if (s.find('\\') == std::string_view::npos && s.find('\n') == std::string_view::npos &&
      s.find(quote) == std::string_view::npos) {
    out->assign(s);
    return true;
  }
  out->reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == quote || c == '\n') return false;
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (++i >= s.size()) return false;
    char e = s[i++];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '\'':
      case '"':
        if (e != quote) return false;
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + static_cast<size_t>(n) > s.size()) return false;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          int d = DigitVal(static_cast<unsigned char>(s[i + k]));
          if (d >= 16) return false;
          v = v * 16 + static_cast<uint32_t>(d);
        }
        i += static_cast<size_t>(n);
        if (e == 'x') {
          out->push_back(static_cast<char>(v));  // a raw byte, as Go does
        } else {
          if (v > static_cast<uint32_t>(kMaxRune) || (v >= 0xD800 && v < 0xE000)) return false;
          AppendUtf8(out, static_cast<int32_t>(v));
        }
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        if (i + 2 > s.size()) return false;
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (int k = 0; k < 2; ++k) {
          char d = s[i + k];
          if (d < '0' || d > '7') return false;
          v = v * 8 + static_cast<uint32_t>(d - '0');
        }
        if (v > 255) return false;
        i += 2;
        out->push_back(static_cast<char>(v));
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace hearth::promql
