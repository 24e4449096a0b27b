#pragma once

// The PromQL lexer: turns query text into tokens the way Prometheus' lexer (promql/parser/lex.go)
// does, so that the parser can report the same errors at the same positions. Internal to
// query/parser/; the rest of Hearth goes through parser.h.
//
// The lexer is a small state machine (top level, inside braces, right after `[`) driven by the
// characters it reads; it needs no feedback from the parser. A lexing error is returned as a
// token of type kError whose text is the message and whose position is where the failing token
// started; the lexer must not be asked for more tokens after it.
//
// Thread-safety: a Lexer is a plain value used by one parse at a time.

#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::promql {

enum class Tok : uint8_t {
  kEOF,
  kError,
  kComment,
  kIdentifier,        // foo, also any name inside braces
  kMetricIdentifier,  // a name with a colon: job:rate5m
  kString,            // the quoted text, quotes included
  kNumber,
  kDuration,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kAssign,  // `=` (Prometheus' EQL)
  kColon,
  kDoubleColon,
  // Operators (Prometheus' IsOperator range).
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // ==
  kNeq,   // !=
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,  // =~
  kNeqRegex,  // !~
  kAt,
  kAtan2,
  kLand,
  kLor,
  kLunless,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  kLimitK,
  kLimitRatio,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  kFill,
  kFillLeft,
  kFillRight,
  kSmoothed,
  kAnchored,
  // Preprocessors (start(), end(), and the experimental step(), range()).
  kStart,
  kEnd,
  kStep,
  kRange,
  // min_of/max_of, keywords only inside brackets (duration expressions); elsewhere they are
  // plain function names.
  kMinOf,
  kMaxOf,
};

inline bool IsOperatorTok(Tok t) { return t >= Tok::kAdd && t <= Tok::kLunless; }
inline bool IsAggregatorTok(Tok t) { return t >= Tok::kAvg && t <= Tok::kLimitRatio; }
inline bool IsKeywordTok(Tok t) { return t >= Tok::kBool && t <= Tok::kAnchored; }

struct Token {
  Tok type = Tok::kEOF;
  int pos = 0;           // byte offset of the first character
  std::string_view val;  // the token's text (for kError: the message, owned by the Lexer)
  int end() const { return pos + static_cast<int>(val.size()); }
};

// How Prometheus names a token in "unexpected ..." errors: `end of input`, `identifier "foo"`,
// `number "1"`, `"("`, `<op:+>`, `<aggr:sum>`, `<by>`.
std::string TokenDesc(const Token& t);

class Lexer {
 public:
  // REQUIRES: `input` outlives the Lexer and every token it returns.
  explicit Lexer(std::string_view input) : input_(input) {}

  // The next token (comments included). After kEOF, keeps returning kEOF.
  Token Next();

 private:
  enum class State { kStatements, kInsideBraces, kDurationExpr, kDone };

  // Rune reading with one step of backup, as Go's lexer does. Invalid UTF-8 decodes to
  // U+FFFD with width 1; the end of input is kEof with width 0.
  static constexpr int32_t kEof = -1;
  int32_t NextRune();
  void Backup() { pos_ -= width_; }
  int32_t Peek() {
    int32_t r = NextRune();
    Backup();
    return r;
  }
  bool Accept(std::string_view valid);
  void AcceptRun(std::string_view valid);
  bool Is(std::string_view valid) { return InSet(valid, Peek()); }
  static bool InSet(std::string_view set, int32_t r);

  Token Emit(Tok t);
  Token Error(std::string msg);
  void SkipSpaces();

  // Each returns true when it produced a token in *out.
  bool LexStatements(Token* out);
  bool LexInsideBraces(Token* out);
  bool LexDurationExpr(Token* out);
  Token LexString();
  Token LexRawString();
  bool LexEscape(Token* err);
  Token LexNumberOrDuration();
  bool ScanNumber();
  bool AcceptRemainingDuration();
  Token LexKeywordOrIdentifier();
  Token LexIdentifier();
  Token LexLineComment();
  bool ScanDurationKeyword(Token* out);
  bool FollowedByLeftParen() const;

  std::string_view input_;
  State state_ = State::kStatements;
  int pos_ = 0;
  int start_ = 0;
  int width_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool got_duration_ = false;
  int32_t string_open_ = 0;
  std::string error_;  // backs the text of a kError token
};

// Whether `r` may appear in an unquoted name (`[a-zA-Z0-9_]`).
inline bool IsAlphaNumeric(int32_t r) {
  return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
}

// Decodes a string token's text (quotes included) as Prometheus' strutil.Unquote does: Go
// escapes for "..." and '...', raw content for `...`. Returns false on a malformed string.
bool UnquoteString(std::string_view quoted, std::string* out);

// Go's %q of a single rune ('a', '\n', '\x00', '�' for invalid runes).
std::string QuoteRune(int32_t r);

}  // namespace hearth::promql
