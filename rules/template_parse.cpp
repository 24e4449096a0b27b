// Lexer and parser for Go's text/template language, following the structure of Go's
// text/template/parse so that what parses (and the errors for what does not) match it.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "model/strutil.h"
#include "rules/internal/template_ast.h"

namespace hearth::rules::tmpl {
namespace {

constexpr int kMaxDepth = 200;  // nesting of parentheses and control structures

enum class Tok {
  kError,
  kEOF,
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kIdentifier,
  kField,
  kVariable,
  kDot,
  kString,
  kRawString,
  kCharConstant,
  kNumber,
  kBool,
  kNil,
  kPipe,
  kLeftParen,
  kRightParen,
  kDeclare,
  kAssign,
  kChar,
  // Keywords.
  kIf,
  kElse,
  kEnd,
  kRange,
  kWith,
  kDefine,
  kTemplate,
  kBlock,
  kBreak,
  kContinue,
};

struct Token {
  Tok type = Tok::kEOF;
  int pos = 0;
  std::string val;
};

// Go's item.String() for error messages.
std::string TokenString(const Token& t) {
  switch (t.type) {
    case Tok::kEOF: return "EOF";
    case Tok::kError: return t.val;
    default:
      break;
  }
  if (t.type >= Tok::kIf) return "<" + t.val + ">";
  if (t.val.size() > 10) return fmt::format("{:.10}...", QuoteGo(t.val));
  return QuoteGo(t.val);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(unsigned char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c >= 0x80;  // Go accepts Unicode letters and digits; accept any non-ASCII byte
}

struct ParseError {
  int pos;
  std::string msg;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  // Lexes everything; the last token is kEOF or kError.
  std::vector<Token> Run() {
    while (true) {
      if (!LexText()) break;
      if (!LexAction()) break;
    }
    return std::move(items_);
  }

 private:
  void Emit(Tok t, size_t start, size_t end) {
    items_.push_back(Token{t, static_cast<int>(start), std::string(in_.substr(start, end - start))});
  }
  void EmitVal(Tok t, size_t start, std::string val) {
    items_.push_back(Token{t, static_cast<int>(start), std::move(val)});
  }
  bool Error(size_t at, std::string msg) {
    items_.push_back(Token{Tok::kError, static_cast<int>(at), std::move(msg)});
    return false;
  }

  static bool HasLeftTrim(std::string_view s) {
    return s.size() >= 2 && s[0] == '-' && IsSpace(s[1]);
  }

  // Text up to the next "{{". Returns false at the end of input.
  bool LexText() {
    size_t x = in_.find("{{", pos_);
    if (x == std::string_view::npos) {
      if (pos_ < in_.size()) Emit(Tok::kText, pos_, in_.size());
      Emit(Tok::kEOF, in_.size(), in_.size());
      return false;
    }
    size_t text_end = x;
    bool trim = HasLeftTrim(in_.substr(x + 2));
    if (trim) {
      while (text_end > pos_ && IsSpace(in_[text_end - 1])) --text_end;
    }
    if (text_end > pos_) Emit(Tok::kText, pos_, text_end);
    pos_ = x;
    return true;
  }

  // Whether the input at `p` is a right delimiter, possibly with a trim marker (" -}}").
  // Sets *len to the delimiter's length and *trim.
  bool AtRightDelim(size_t p, size_t* len, bool* trim) const {
    std::string_view s = in_.substr(p);
    if (s.size() >= 4 && IsSpace(s[0]) && s[1] == '-' && s[2] == '}' && s[3] == '}') {
      *len = 4;
      *trim = true;
      return true;
    }
    if (s.size() >= 2 && s[0] == '}' && s[1] == '}') {
      *len = 2;
      *trim = false;
      return true;
    }
    return false;
  }

  void SkipSpaceAfterTrim() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  }

  // From "{{" to "}}". Returns false after an error.
  bool LexAction() {
    size_t start = pos_;
    pos_ += 2;
    if (HasLeftTrim(in_.substr(pos_))) pos_ += 2;
    // Comments: {{/* ... */}} with optional trim markers.
    if (in_.substr(pos_).substr(0, 2) == "/*") {
      size_t e = in_.find("*/", pos_ + 2);
      if (e == std::string_view::npos) return Error(start, "unclosed comment");
      pos_ = e + 2;
      size_t len;
      bool trim;
      if (!AtRightDelim(pos_, &len, &trim)) {
        return Error(start, "comment ends before closing delimiter");
      }
      pos_ += len;
      if (trim) SkipSpaceAfterTrim();
      return true;
    }
    Emit(Tok::kLeftDelim, start, start + 2);
    int paren_depth = 0;
    while (true) {
      size_t len;
      bool trim;
      if (AtRightDelim(pos_, &len, &trim)) {
        if (paren_depth != 0) return Error(pos_, "unclosed left paren");
        Emit(Tok::kRightDelim, pos_, pos_ + len);
        pos_ += len;
        if (trim) SkipSpaceAfterTrim();
        return true;
      }
      if (pos_ >= in_.size()) return Error(pos_, "unclosed action");
      char c = in_[pos_];
      size_t s = pos_;
      if (IsSpace(c)) {
        while (pos_ < in_.size() && IsSpace(in_[pos_])) {
          size_t l2;
          bool t2;
          if (AtRightDelim(pos_, &l2, &t2) && t2) break;
          ++pos_;
        }
        Emit(Tok::kSpace, s, pos_);
        continue;
      }
      switch (c) {
        case '=':
          ++pos_;
          Emit(Tok::kAssign, s, pos_);
          continue;
        case ':':
          if (pos_ + 1 >= in_.size() || in_[pos_ + 1] != '=') return Error(s, "expected :=");
          pos_ += 2;
          Emit(Tok::kDeclare, s, pos_);
          continue;
        case '|':
          ++pos_;
          Emit(Tok::kPipe, s, pos_);
          continue;
        case '"':
          if (!LexQuote()) return false;
          continue;
        case '`':
          if (!LexRawQuote()) return false;
          continue;
        case '\'':
          if (!LexChar()) return false;
          continue;
        case '$':
          if (!LexVariable()) return false;
          continue;
        case '(':
          ++pos_;
          ++paren_depth;
          Emit(Tok::kLeftParen, s, pos_);
          continue;
        case ')':
          ++pos_;
          --paren_depth;  // an unmatched ')' is the parser's error, as in Go
          Emit(Tok::kRightParen, s, pos_);
          continue;
        default:
          break;
      }
      if (c == '.') {
        if (pos_ + 1 < in_.size() && in_[pos_ + 1] >= '0' && in_[pos_ + 1] <= '9') {
          if (!LexNumber()) return false;
          continue;
        }
        if (!LexField()) return false;
        continue;
      }
      if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        if (!LexNumber()) return false;
        continue;
      }
      if (IsAlnum(static_cast<unsigned char>(c))) {
        if (!LexIdentifier()) return false;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x7f && static_cast<unsigned char>(c) >= 0x20) {
        ++pos_;
        Emit(Tok::kChar, s, pos_);
        continue;
      }
      return Error(s, fmt::format("unrecognized character in action: U+{:04X}",
                                  static_cast<unsigned char>(c)));
    }
  }

  bool AtTerminator() const {
    if (pos_ >= in_.size()) return true;
    char c = in_[pos_];
    if (IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(') {
      return true;
    }
    return in_.substr(pos_, 2) == "}}";
  }

  bool BadChar() {
    return Error(pos_, fmt::format("bad character U+{:04X} '{}'",
                                   static_cast<unsigned char>(in_[pos_]), in_[pos_]));
  }

  bool LexIdentifier() {
    size_t s = pos_;
    while (pos_ < in_.size() && IsAlnum(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    if (!AtTerminator()) return BadChar();
    std::string_view word = in_.substr(s, pos_ - s);
    static constexpr std::array<std::pair<std::string_view, Tok>, 13> kKeywords = {{
        {"if", Tok::kIf},
        {"else", Tok::kElse},
        {"end", Tok::kEnd},
        {"range", Tok::kRange},
        {"with", Tok::kWith},
        {"define", Tok::kDefine},
        {"template", Tok::kTemplate},
        {"block", Tok::kBlock},
        {"break", Tok::kBreak},
        {"continue", Tok::kContinue},
        {"nil", Tok::kNil},
        {"true", Tok::kBool},
        {"false", Tok::kBool},
    }};
    for (const auto& [kw, t] : kKeywords) {
      if (word == kw) {
        Emit(t, s, pos_);
        return true;
      }
    }
    if (word[0] >= '0' && word[0] <= '9') return Error(s, "bad number syntax");
    Emit(Tok::kIdentifier, s, pos_);
    return true;
  }

  bool LexField() {
    size_t s = pos_;
    ++pos_;
    if (AtTerminator()) {
      Emit(Tok::kDot, s, pos_);
      return true;
    }
    while (pos_ < in_.size() && IsAlnum(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    if (!AtTerminator()) return BadChar();
    Emit(Tok::kField, s, pos_);
    return true;
  }

  bool LexVariable() {
    size_t s = pos_;
    ++pos_;
    if (AtTerminator()) {
      Emit(Tok::kVariable, s, pos_);
      return true;
    }
    while (pos_ < in_.size() && IsAlnum(static_cast<unsigned char>(in_[pos_]))) ++pos_;
    if (!AtTerminator()) return BadChar();
    Emit(Tok::kVariable, s, pos_);
    return true;
  }

  bool LexQuote() {
    size_t s = pos_;
    ++pos_;
    while (true) {
      if (pos_ >= in_.size() || in_[pos_] == '\n') return Error(s, "unterminated quoted string");
      char c = in_[pos_++];
      if (c == '\\') {
        if (pos_ >= in_.size() || in_[pos_] == '\n') {
          return Error(s, "unterminated quoted string");
        }
        ++pos_;
      } else if (c == '"') {
        break;
      }
    }
    Emit(Tok::kString, s, pos_);
    return true;
  }

  bool LexRawQuote() {
    size_t s = pos_;
    size_t e = in_.find('`', pos_ + 1);
    if (e == std::string_view::npos) return Error(s, "unterminated raw quoted string");
    pos_ = e + 1;
    Emit(Tok::kRawString, s, pos_);
    return true;
  }

  bool LexChar() {
    size_t s = pos_;
    ++pos_;
    while (true) {
      if (pos_ >= in_.size() || in_[pos_] == '\n') {
        return Error(s, "unterminated character constant");
      }
      char c = in_[pos_++];
      if (c == '\\') {
        if (pos_ >= in_.size() || in_[pos_] == '\n') {
          return Error(s, "unterminated character constant");
        }
        ++pos_;
      } else if (c == '\'') {
        break;
      }
    }
    Emit(Tok::kCharConstant, s, pos_);
    return true;
  }

  bool LexNumber() {
    size_t s = pos_;
    auto accept = [&](std::string_view valid) {
      if (pos_ < in_.size() && valid.find(in_[pos_]) != std::string_view::npos) {
        ++pos_;
        return true;
      }
      return false;
    };
    auto accept_run = [&](std::string_view valid) {
      while (pos_ < in_.size() && valid.find(in_[pos_]) != std::string_view::npos) ++pos_;
    };
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    accept("i");
    if (pos_ < in_.size() && IsAlnum(static_cast<unsigned char>(in_[pos_]))) {
      ++pos_;
      return Error(s, fmt::format("bad number syntax: {}", QuoteGo(in_.substr(s, pos_ - s))));
    }
    Emit(Tok::kNumber, s, pos_);
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<Token> items_;
};

// Go's strconv.Unquote for "..." and `...` and '...' literals.
std::optional<std::string> Unquote(std::string_view q, bool* is_char = nullptr, uint32_t* rune = nullptr) {
  if (q.size() < 2) return std::nullopt;
  char quote = q[0];
  if (q.back() != quote) return std::nullopt;
  std::string_view body = q.substr(1, q.size() - 2);
  if (quote == '`') {
    std::string out;
    for (char c : body) {
      if (c != '\r') out += c;
    }
    return out;
  }
  std::string out;
  size_t i = 0;
  auto append_rune = [&](uint32_t r) {
    if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
    AppendUtf8(&out, r);
    return true;
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int runes = 0;
  uint32_t last_rune = 0;
  while (i < body.size()) {
    char c = body[i];
    if (c == quote) return std::nullopt;
    if (c != '\\') {
      unsigned char uc = static_cast<unsigned char>(c);
      size_t n = uc < 0x80 ? 1 : (uc & 0xe0) == 0xc0 ? 2 : (uc & 0xf0) == 0xe0 ? 3 : 4;
      n = std::min(n, body.size() - i);
      out.append(body.substr(i, n));
      last_rune = uc < 0x80 ? uc : 0xfffd;
      i += n;
      ++runes;
      continue;
    }
    ++i;
    if (i >= body.size()) return std::nullopt;
    char e = body[i++];
    ++runes;
    switch (e) {
      case 'a': out += '\a'; last_rune = '\a'; break;
      case 'b': out += '\b'; last_rune = '\b'; break;
      case 'f': out += '\f'; last_rune = '\f'; break;
      case 'n': out += '\n'; last_rune = '\n'; break;
      case 'r': out += '\r'; last_rune = '\r'; break;
      case 't': out += '\t'; last_rune = '\t'; break;
      case 'v': out += '\v'; last_rune = '\v'; break;
      case '\\': out += '\\'; last_rune = '\\'; break;
      case '\'':
      case '"':
        if (e != quote) return std::nullopt;
        out += e;
        last_rune = static_cast<uint32_t>(e);
        break;
      case 'x': {
        if (i + 2 > body.size()) return std::nullopt;
        int h1 = hex(body[i]), h2 = hex(body[i + 1]);
        if (h1 < 0 || h2 < 0) return std::nullopt;
        out += static_cast<char>(h1 * 16 + h2);
        last_rune = static_cast<uint32_t>(h1 * 16 + h2);
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n > body.size()) return std::nullopt;
        uint32_t r = 0;
        for (size_t k = 0; k < n; ++k) {
          int h = hex(body[i + k]);
          if (h < 0) return std::nullopt;
          r = r * 16 + static_cast<uint32_t>(h);
        }
        i += n;
        if (!append_rune(r)) return std::nullopt;
        last_rune = r;
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        if (i + 2 > body.size()) return std::nullopt;
        int v = e - '0';
        for (size_t k = 0; k < 2; ++k) {
          char d = body[i + k];
          if (d < '0' || d > '7') return std::nullopt;
          v = v * 8 + (d - '0');
        }
        if (v > 255) return std::nullopt;
        i += 2;
        out += static_cast<char>(v);
        last_rune = static_cast<uint32_t>(v);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (quote == '\'') {
    if (runes != 1) return std::nullopt;
    if (is_char) *is_char = true;
    if (rune) {
      // Decode the single rune from `out`.
      auto u = reinterpret_cast<const unsigned char*>(out.data());
      if (out.size() == 1) {
        *rune = last_rune;
      } else if (out.size() == 2) {
        *rune = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
      } else if (out.size() == 3) {
        *rune = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
      } else {
        *rune = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) | ((u[2] & 0x3fu) << 6) |
                (u[3] & 0x3fu);
      }
    }
  }
  return out;
}

// A number constant as text/template passes it to an interface{} argument: int when the
// literal is an integer, float64 when it has a fraction or exponent.
std::optional<Value> NumberValue(const std::string& text, std::string* err) {
  std::string t;
  for (char c : text) {
    if (c != '_') t += c;
  }
  if (!t.empty() && t.back() == 'i') {
    *err = fmt::format("complex constant {} not supported", text);
    return std::nullopt;
  }
  bool neg = false;
  std::string_view body = t;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  auto lower = ToLowerAscii(body);
  bool is_hex = lower.size() > 1 && lower[0] == '0' && lower[1] == 'x';
  bool floaty = is_hex ? lower.find_first_of(".p") != std::string::npos
                       : lower.find_first_of(".e") != std::string::npos;
  if (!floaty) {
    int base = 10;
    std::string_view digits = body;
    if (lower.size() > 1 && lower[0] == '0') {
      if (lower[1] == 'x') {
        base = 16;
        digits.remove_prefix(2);
      } else if (lower[1] == 'o') {
        base = 8;
        digits.remove_prefix(2);
      } else if (lower[1] == 'b') {
        base = 2;
        digits.remove_prefix(2);
      } else {
        base = 8;  // Go: a leading 0 means octal
        digits.remove_prefix(1);
      }
    }
    if (digits.empty() && base != 8) {
      *err = fmt::format("illegal number syntax: {}", QuoteGo(text));
      return std::nullopt;
    }
    uint64_t v = 0;
    for (char c : digits) {
      int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : 99;
      if (d >= base) {
        *err = fmt::format("illegal number syntax: {}", QuoteGo(text));
        return std::nullopt;
      }
      if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
        *err = fmt::format("{} overflows int", text);
        return std::nullopt;
      }
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    if (neg ? v > (static_cast<uint64_t>(1) << 63) : v > static_cast<uint64_t>(INT64_MAX)) {
      *err = fmt::format("{} overflows int", text);
      return std::nullopt;
    }
    int64_t iv = neg ? -static_cast<int64_t>(v - 1) - 1 : static_cast<int64_t>(v);
    if (neg && v == 0) iv = 0;
    return Value::Int(iv);
  }
  auto f = ParseGoFloat(t);
  if (!f) {
    *err = fmt::format("illegal number syntax: {}", QuoteGo(text));
    return std::nullopt;
  }
  return Value::Float(*f);
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, Tree* tree, const std::vector<std::string>& predeclared)
      : toks_(std::move(tokens)), tree_(tree) {
    vars_.push_back("$");
    for (const auto& v : predeclared) vars_.push_back(v);
  }

  void Parse() {
    while (PeekNonSpace().type != Tok::kEOF) {
      auto n = TextOrAction();
      if (n->type == NodeType::kBreak && n->text == "end") Fail(n->pos, "unexpected {{end}}");
      if (n->type == NodeType::kBreak && n->text == "else") Fail(n->pos, "unexpected {{else}}");
      tree_->root.push_back(std::move(n));
    }
  }

 private:
  [[noreturn]] void Fail(int pos, std::string msg) { throw ParseError{pos, std::move(msg)}; }

  const Token& Peek() {
    if (i_ >= toks_.size()) return toks_.back();
    const Token& t = toks_[i_];
    if (t.type == Tok::kError) Fail(t.pos, t.val);
    return t;
  }
  Token Next() {
    Token t = Peek();
    if (i_ < toks_.size()) ++i_;
    return t;
  }
  void Backup(size_t n = 1) { i_ -= n; }
  Token NextNonSpace() {
    Token t;
    do {
      t = Next();
    } while (t.type == Tok::kSpace);
    return t;
  }
  const Token& PeekNonSpace() {
    while (Peek().type == Tok::kSpace) ++i_;
    return Peek();
  }
  Token Expect(Tok want, std::string_view context) {
    Token t = NextNonSpace();
    if (t.type != want) Unexpected(t, context);
    return t;
  }
  [[noreturn]] void Unexpected(const Token& t, std::string_view context) {
    if (t.type == Tok::kError) Fail(t.pos, t.val);
    Fail(t.pos, fmt::format("unexpected {} in {}", TokenString(t), context));
  }

  void Enter(int pos) {
    if (++depth_ > kMaxDepth) Fail(pos, "template nested too deeply");
  }
  void Leave() { --depth_; }

  // Pseudo nodes for {{end}} and {{else}} are returned as kBreak with text "end"/"else"
  // (never stored in a tree).
  std::unique_ptr<Node> Marker(int pos, std::string what) {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kBreak;
    n->pos = pos;
    n->text = std::move(what);
    return n;
  }

  std::unique_ptr<Node> TextOrAction() {
    Token t = NextNonSpace();
    switch (t.type) {
      case Tok::kText: {
        auto n = std::make_unique<Node>();
        n->type = NodeType::kText;
        n->pos = t.pos;
        n->text = t.val;
        return n;
      }
      case Tok::kLeftDelim:
        return Action(t.pos);
      default:
        Unexpected(t, "input");
    }
  }

  std::unique_ptr<Node> Action(int delim_pos) {
    Token t = NextNonSpace();
    switch (t.type) {
      case Tok::kIf: return Control(NodeType::kIf, t.pos, "if");
      case Tok::kRange: return Control(NodeType::kRange, t.pos, "range");
      case Tok::kWith: return Control(NodeType::kWith, t.pos, "with");
      case Tok::kEnd:
        Expect(Tok::kRightDelim, "end");
        return Marker(t.pos, "end");
      case Tok::kElse: {
        const Token& p = PeekNonSpace();
        if (p.type == Tok::kIf || p.type == Tok::kWith) return Marker(t.pos, "else");
        Expect(Tok::kRightDelim, "else");
        return Marker(t.pos, "else");
      }
      case Tok::kBreak:
      case Tok::kContinue: {
        const char* what = t.type == Tok::kBreak ? "break" : "continue";
        Token r = NextNonSpace();
        if (r.type != Tok::kRightDelim) {
          Fail(r.pos, fmt::format("unexpected {} in {{{{{}}}}}", TokenString(r), what));
        }
        if (range_depth_ == 0) Fail(t.pos, fmt::format("{{{{{}}}}} outside {{{{range}}}}", what));
        auto n = std::make_unique<Node>();
        n->type = t.type == Tok::kBreak ? NodeType::kBreak : NodeType::kContinue;
        n->pos = t.pos;
        return n;
      }
      case Tok::kDefine:
      case Tok::kTemplate:
      case Tok::kBlock:
        Fail(t.pos, fmt::format("{{{{{}}}}} is not supported in rule templates", t.val));
      default:
        break;
    }
    Backup();
    auto n = std::make_unique<Node>();
    n->type = NodeType::kAction;
    n->pos = delim_pos;
    n->pipe = ParsePipeline("command", Tok::kRightDelim);
    return n;
  }

  std::unique_ptr<Node> Control(NodeType type, int pos, std::string_view context) {
    Enter(pos);
    size_t vars_mark = vars_.size();
    auto n = std::make_unique<Node>();
    n->type = type;
    n->pos = pos;
    n->pipe = ParsePipeline(context, Tok::kRightDelim);
    if (type == NodeType::kRange) ++range_depth_;
    auto [list, next] = ItemList();
    if (type == NodeType::kRange) --range_depth_;
    n->list = std::move(list);
    if (next->text == "else") {
      n->has_else = true;
      const Token& p = PeekNonSpace();
      if ((type == NodeType::kIf && p.type == Tok::kIf) ||
          (type == NodeType::kWith && p.type == Tok::kWith)) {
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}}: the inner control consumes the
        // shared {{end}}.
        Token kw = Next();
        n->else_list.push_back(Control(type, kw.pos, context));
      } else if (p.type == Tok::kIf || p.type == Tok::kWith) {
        Fail(p.pos, fmt::format("unexpected {} in else", TokenString(p)));
      } else {
        auto [elist, enext] = ItemList();
        if (enext->text != "end") Fail(enext->pos, "expected end; found {{else}}");
        n->else_list = std::move(elist);
      }
    }
    vars_.resize(vars_mark);
    Leave();
    return n;
  }

  std::pair<NodeList, std::unique_ptr<Node>> ItemList() {
    NodeList list;
    while (PeekNonSpace().type != Tok::kEOF) {
      auto n = TextOrAction();
      if (n->type == NodeType::kBreak && (n->text == "end" || n->text == "else")) {
        return {std::move(list), std::move(n)};
      }
      list.push_back(std::move(n));
    }
    Fail(static_cast<int>(tree_->text.size()), "unexpected EOF");
  }

  std::unique_ptr<Pipeline> ParsePipeline(std::string_view context, Tok end) {
    Enter(Peek().pos);
    auto pipe = std::make_unique<Pipeline>();
    pipe->pos = PeekNonSpace().pos;
  decls:
    if (PeekNonSpace().type == Tok::kVariable) {
      size_t var_index = i_;
      Token v = Next();
      Token after = Peek();
      Token next = PeekNonSpace();
      if (next.type == Tok::kAssign || next.type == Tok::kDeclare) {
        pipe->is_assign = next.type == Tok::kAssign;
        NextNonSpace();
        pipe->decl.push_back(v.val);
        vars_.push_back(v.val);
      } else if (next.type == Tok::kChar && next.val == ",") {
        NextNonSpace();
        pipe->decl.push_back(v.val);
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          Tok t = PeekNonSpace().type;
          if (t == Tok::kVariable || t == Tok::kRightDelim || t == Tok::kRightParen) goto decls;
          Fail(PeekNonSpace().pos, "range can only initialize variables");
        }
        Fail(v.pos, fmt::format("too many declarations in {}", context));
      } else {
        (void)after;
        i_ = var_index;
      }
    }
    while (true) {
      Token t = NextNonSpace();
      if (t.type == end) {
        if (pipe->cmds.empty()) Fail(t.pos, fmt::format("missing value for {}", context));
        for (size_t k = 1; k < pipe->cmds.size(); ++k) {
          const Arg& first = pipe->cmds[k].args[0];
          if (first.type == ArgType::kConstant || first.type == ArgType::kDot ||
              first.type == ArgType::kNil) {
            Fail(pipe->cmds[k].pos,
                 fmt::format("non executable command in pipeline stage {}", k + 1));
          }
        }
        Leave();
        return pipe;
      }
      switch (t.type) {
        case Tok::kBool: case Tok::kCharConstant: case Tok::kDot: case Tok::kField:
        case Tok::kIdentifier: case Tok::kNumber: case Tok::kNil: case Tok::kRawString:
        case Tok::kString: case Tok::kVariable: case Tok::kLeftParen:
          Backup();
          pipe->cmds.push_back(ParseCommand());
          break;
        default:
          Unexpected(t, context);
      }
    }
  }

  Command ParseCommand() {
    Command cmd;
    cmd.pos = PeekNonSpace().pos;
    while (true) {
      PeekNonSpace();
      if (auto a = Operand()) cmd.args.push_back(std::move(*a));
      Token t = Next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        Backup();
      } else if (t.type != Tok::kPipe) {
        Unexpected(t, "operand");
      }
      break;
    }
    if (cmd.args.empty()) Fail(cmd.pos, "empty command");
    return cmd;
  }

  std::optional<Arg> Operand() {
    auto a = Term();
    if (!a) return std::nullopt;
    if (Peek().type == Tok::kField) {
      // Go positions a chained operand at its first field.
      a->pos = Peek().pos;
      std::vector<std::string> fields;
      while (Peek().type == Tok::kField) fields.push_back(Next().val.substr(1));
      switch (a->type) {
        case ArgType::kField:
        case ArgType::kVariable:
          for (auto& f : fields) {
            a->fields.push_back(f);
            a->text += "." + f;
          }
          break;
        case ArgType::kConstant:
        case ArgType::kNil:
        case ArgType::kDot:
          Fail(a->pos, fmt::format("unexpected . after term {}", QuoteGo(a->text)));
        case ArgType::kIdentifier: {
          // A function result with fields: (fn).x is a chain on a pipeline.
          Arg chain;
          chain.type = ArgType::kChain;
          chain.pos = a->pos;
          chain.pipe = std::make_unique<Pipeline>();
          chain.pipe->pos = a->pos;
          Command c;
          c.pos = a->pos;
          chain.text = a->text;
          c.args.push_back(std::move(*a));
          chain.pipe->cmds.push_back(std::move(c));
          for (auto& f : fields) chain.text += "." + f;
          chain.fields = std::move(fields);
          return chain;
        }
        case ArgType::kPipe:
        case ArgType::kChain: {
          Arg chain;
          chain.type = ArgType::kChain;
          chain.pos = a->pos;
          chain.text = a->text;
          if (a->type == ArgType::kChain) {
            chain.pipe = std::move(a->pipe);
            chain.fields = std::move(a->fields);
          } else {
            chain.pipe = std::move(a->pipe);
          }
          for (auto& f : fields) {
            chain.text += "." + f;
            chain.fields.push_back(f);
          }
          return chain;
        }
      }
    }
    return a;
  }

  std::optional<Arg> Term() {
    Token t = NextNonSpace();
    Arg a;
    a.pos = t.pos;
    a.text = t.val;
    switch (t.type) {
      case Tok::kIdentifier:
        if (!IsKnownFunction(t.val)) {
          Fail(t.pos, fmt::format("function {} not defined", QuoteGo(t.val)));
        }
        a.type = ArgType::kIdentifier;
        a.ident = t.val;
        return a;
      case Tok::kDot:
        a.type = ArgType::kDot;
        return a;
      case Tok::kNil:
        a.type = ArgType::kNil;
        return a;
      case Tok::kVariable:
        if (std::find(vars_.begin(), vars_.end(), t.val) == vars_.end()) {
          Fail(t.pos, fmt::format("undefined variable {}", QuoteGo(t.val)));
        }
        a.type = ArgType::kVariable;
        a.ident = t.val;
        return a;
      case Tok::kField:
        a.type = ArgType::kField;
        a.fields.push_back(t.val.substr(1));
        return a;
      case Tok::kBool:
        a.type = ArgType::kConstant;
        a.constant = Value::Bool(t.val == "true");
        return a;
      case Tok::kNumber: {
        std::string err;
        auto v = NumberValue(t.val, &err);
        if (!v) Fail(t.pos, err);
        a.type = ArgType::kConstant;
        a.constant = *v;
        return a;
      }
      case Tok::kCharConstant: {
        bool is_char = false;
        uint32_t r = 0;
        auto s = Unquote(t.val, &is_char, &r);
        if (!s) Fail(t.pos, fmt::format("malformed character constant: {}", t.val));
        a.type = ArgType::kConstant;
        a.constant = Value::Int(r);
        return a;
      }
      case Tok::kLeftParen: {
        a.type = ArgType::kPipe;
        a.pipe = ParsePipeline("parenthesized pipeline", Tok::kRightParen);
        a.text = "(" + PipelineString(*a.pipe) + ")";
        return a;
      }
      case Tok::kString:
      case Tok::kRawString: {
        auto s = Unquote(t.val);
        if (!s) Fail(t.pos, "invalid syntax");
        a.type = ArgType::kConstant;
        a.constant = Value::String(*s);
        return a;
      }
      default:
        Backup();
        return std::nullopt;
    }
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  Tree* tree_;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string Location(const Tree& t, int pos) {
  std::string_view text = std::string_view(t.text).substr(0, static_cast<size_t>(pos));
  size_t nl = text.rfind('\n');
  int line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  int col = nl == std::string_view::npos ? pos + t.first_line_offset
                                         : pos - static_cast<int>(nl + 1);
  return fmt::format("{}:{}:{}", t.name, line, col);
}

std::string ArgString(const Arg& a) {
  switch (a.type) {
    case ArgType::kConstant:
      return a.text;  // as written, like Go's node String()
    case ArgType::kPipe:
      return "(" + PipelineString(*a.pipe) + ")";
    case ArgType::kChain: {
      std::string s = "(" + PipelineString(*a.pipe) + ")";
      for (const auto& f : a.fields) s += "." + f;
      return s;
    }
    case ArgType::kField: {
      std::string s;
      for (const auto& f : a.fields) s += "." + f;
      return s;
    }
    case ArgType::kVariable: {
      std::string s = a.ident;
      for (const auto& f : a.fields) s += "." + f;
      return s;
    }
    case ArgType::kDot: return ".";
    case ArgType::kNil: return "nil";
    case ArgType::kIdentifier: return a.ident;
  }
  return "";
}

std::string CommandString(const Command& c) {
  std::string s;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i > 0) s += ' ';
    s += ArgString(c.args[i]);
  }
  return s;
}

std::string PipelineString(const Pipeline& p) {
  std::string s;
  for (size_t i = 0; i < p.decl.size(); ++i) {
    if (i > 0) s += ", ";
    s += p.decl[i];
  }
  if (!p.decl.empty()) s += p.is_assign ? " = " : " := ";
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (i > 0) s += " | ";
    s += CommandString(p.cmds[i]);
  }
  return s;
}

Result<std::unique_ptr<Tree>> ParseTree(std::string_view text, std::string_view name,
                                        const std::vector<std::string>& predeclared) {
  auto tree = std::make_unique<Tree>();
  tree->name = std::string(name);
  tree->text = std::string(text);
  Lexer lexer(tree->text);
  Parser parser(lexer.Run(), tree.get(), predeclared);
  try {
    parser.Parse();
  } catch (const ParseError& e) {
    return InvalidArgument("template: {}: {}", Location(*tree, e.pos), e.msg);
  }
  return tree;
}

}  // namespace hearth::rules::tmpl
