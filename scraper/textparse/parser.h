#pragma once

// Zero-copy pull parsers for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0,
// with the quoted UTF-8 names of Prometheus 3.x ({"my.metric", "label.x"="v"}).
//
// Usage, as Prometheus' textparse.Parser:
//
//   Parser p(body, Format::kText);
//   for (Entry e; (e = p.Next()) != Entry::kEOF;) {
//     if (e == Entry::kInvalid) return p.status();   // names line, column and what was expected
//     if (e == Entry::kSeries) { p.Series(); p.Value(); ... }
//   }
//
// Series() is the raw bytes of the metric name and label set as they appear in the body (the
// scrape cache key): a known series costs no label decoding. Labels are decoded only when asked.
//
// Error messages follow Prometheus' wording ("expected equal, got \"INVALID\" ...", "data does
// not end with # EOF", "invalid metric type \"x\"") and end with " (line L, column C)".
//
// Views returned by the accessors point into the body (or into the parser for unescaped text)
// and stay valid until the next call to Next() (views into the body: as long as the body).
//
// Thread-safety: a Parser is used by one thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"
#include "model/status.h"

namespace hearth::textparse {

enum class Format {
  kText,         // text/plain; version=0.0.4
  kOpenMetrics,  // application/openmetrics-text; version=1.0.0 (and 0.0.1)
};

enum class Entry { kInvalid, kEOF, kSeries, kHelp, kType, kUnit, kComment };

// The NaN Prometheus stores for a "NaN" sample value (value.NormalNaN), distinct from the
// staleness marker.
inline constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

struct ParserOptions {
  // OpenMetrics only: skip `<family>_created` samples of counters, summaries and histograms
  // (Prometheus does so only with created-timestamp ingestion on; by default they are
  // ordinary series).
  bool skip_created_series = false;
};

struct Exemplar {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  bool has_timestamp = false;
  int64_t timestamp = 0;  // ms
};

class Parser {
 public:
  // REQUIRES: `body` outlives the parser.
  Parser(std::string_view body, Format format, ParserOptions options = {});

  // Advances to the next entry. kEOF at the end (OpenMetrics: after `# EOF`), kInvalid on
  // error (then status() says why; every later call returns kInvalid again).
  Entry Next();
  const Status& status() const { return status_; }

  Format format() const { return format_; }
  // 1-based line of the current entry (or of the error).
  int line() const { return line_; }

  // --- After kSeries ---
  // Metric name and label set exactly as written (the scrape cache key).
  std::string_view Series() const { return series_; }
  double Value() const { return value_; }
  bool HasTimestamp() const { return has_ts_; }
  int64_t Timestamp() const { return ts_; }  // ms; REQUIRES: HasTimestamp()
  // The metric name, unescaped.
  std::string_view MetricName();
  // Replaces the builder's content with the series' labels (__name__ included). Fails, naming
  // the label, when a label name repeats.
  Status Labels(LabelsBuilder& builder);
  // The same as a Labels value.
  Result<hearth::Labels> BuildLabels();
  // The exemplar of the current sample, if any (OpenMetrics only).
  bool GetExemplar(Exemplar* out);

  // --- After kHelp, kType, kUnit ---
  // The metric family the line is about, unescaped.
  std::string_view MetricFamily();
  std::string_view Help() const { return text_; }  // unescaped
  MetricType Type() const { return type_; }
  std::string_view Unit() const { return text_; }
  // --- After kComment (text format only) ---
  std::string_view Comment() const { return text_; }

 private:
  struct Span {
    uint32_t begin = 0, end = 0;
    bool escaped = false;  // contains a backslash: unescape before use
  };
  struct LabelSpan {
    Span name, value;
  };
  enum class Tok {
    kInvalid, kEOF, kLinebreak, kWhitespace, kHelp, kType, kUnit, kEOFWord, kText, kComment,
    kMName, kQString, kBraceOpen, kBraceClose, kLName, kLValue, kComma, kEqual, kTimestamp,
    kValue
  };
  static std::string_view TokName(Tok t);

  Entry NextText();
  Entry NextOpenMetrics();
  Entry Fail(Status st);
  // "<exp>, got <tok> (<TOKNAME>) while parsing: <line so far>" for a token [start, end)
  // (end is the position of the offending byte for kInvalid).
  Entry ParseError(std::string_view expected, size_t tok_start, size_t tok_end, Tok tok);
  Status ParseErrorStatus(std::string_view expected, size_t tok_start, size_t tok_end, Tok tok);
  Status WithPosition(std::string message, size_t pos) const;

  // Lexing helpers; all positions are offsets into b_.
  size_t SkipBlanks(size_t i) const;                 // [ \t]*
  size_t ScanMetricName(size_t i) const;             // [a-zA-Z_:][a-zA-Z0-9_:]*, returns end
  size_t ScanLabelName(size_t i) const;              // [a-zA-Z_][a-zA-Z0-9_]*
  // A quoted string starting at b_[i] == '"'. Returns the position after the closing quote,
  // or sets *fail to the position of the byte that ends the attempt.
  bool ScanQuoted(size_t i, bool newline_ok, size_t* end, size_t* fail, bool* escaped) const;
  // Classifies the token at i inside braces for errors and decisions.
  Tok LabelsToken(size_t i, size_t* end, bool exemplar) const;

  Status ParseLabelsText();
  Status ParseLabelsOM(bool exemplar);
  Entry ParseSuffixText(size_t pos);
  Entry ParseSuffixOM(size_t pos);
  bool SkipCreated();
  Status ParseExemplarOM(size_t pos, size_t* next);
  Status ParseValue(size_t begin, size_t end, double* out);
  bool ParseMetaText(size_t pos, Entry* out);
  Entry ParseMetaOM(size_t pos, Tok kind);
  Status SetTypeText(std::string_view s, bool openmetrics);
  std::string_view Unescape(Span s, std::string* scratch, bool help_only) const;

  std::string_view SpanView(Span s) const { return b_.substr(s.begin, s.end - s.begin); }

  mutable bool non_ascii_ = false;  // set by ScanQuoted: the string has a byte >= 0x80
  std::string owned_;  // text format body with a final '\n' added, when it lacked one
  std::string_view b_;
  Format format_;
  ParserOptions options_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  size_t last_tok_start_ = 0;  // OpenMetrics: start of the token before an unexpected EOF
  int line_ = 1;
  bool failed_ = false;
  bool done_ = false;
  Status status_;

  std::string_view series_;
  double value_ = 0;
  bool has_ts_ = false;
  int64_t ts_ = 0;
  bool has_name_ = false;
  Span name_;
  std::vector<LabelSpan> labels_;
  std::vector<LabelSpan> exemplar_labels_;
  bool has_exemplar_ = false;
  double exemplar_value_ = 0;
  bool exemplar_has_ts_ = false;
  int64_t exemplar_ts_ = 0;

  MetricType type_ = MetricType::kUnknown;
  std::string_view text_;
  std::string text_scratch_;
  std::string name_scratch_;
  std::vector<std::string> label_scratch_;
  // OpenMetrics: the family of the last TYPE line, for skip_created_series.
  std::string om_family_;
  MetricType om_family_type_ = MetricType::kUnknown;
};

// The parser Prometheus picks for a response's Content-Type: "application/openmetrics-text"
// -> OpenMetrics, "text/plain" -> text. A missing or unsupported type uses `fallback` (a
// scrape_protocols name such as "PrometheusText0.0.4"; "" for none) or fails with
// Prometheus' message ("received unsupported Content-Type \"x\" and no
// fallback_scrape_protocol specified for target").
Result<Format> FormatForContentType(std::string_view content_type, std::string_view fallback);

// The metric family a sample name belongs to, given the type of that family: drops the
// suffixes Prometheus' metadata lookup drops (_total, _created, _bucket, _sum, _count, _gsum,
// _gcount, _info) when they fit the type.
std::string_view MetricFamilyName(std::string_view sample_name, MetricType type);

}  // namespace hearth::textparse
