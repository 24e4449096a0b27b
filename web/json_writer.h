#pragma once

// JsonWriter: a small, fast, append-only JSON writer producing the bytes Prometheus' API
// produces (Go's encoding/json / jsoniter conventions):
//   - strings escape `"`, `\`, control characters (\n, \r, \t, else \u00XX), the HTML
//     characters <, >, & (\u003c, \u003e, \u0026), U+2028/U+2029, and replace invalid UTF-8
//     with \ufffd;
//   - Number() formats a float64 as jsoniter does: shortest 'f', or 'e' below 1e-6 and from
//     1e21 on ("6.21e-07");
//   - sample values and timestamps use model/format.h (quoted 'f'/'e' values, "NaN", "+Inf";
//     timestamps as seconds with exactly three decimals when the milliseconds are not zero).
//
// Commas are placed automatically: call Key() before each member of an object and nothing
// before array elements. The writer does not check nesting; callers pair Begin/End.
//
// Thread-safety: none; one writer per response.

#include <cstdint>
#include <string>
#include <string_view>

#include "model/labels.h"

namespace hearth::web {

class JsonWriter {
 public:
  // Appends to `*out` (not owned; must outlive the writer).
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // An object member's name; the next call writes its value.
  void Key(std::string_view name);

  void String(std::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Bool(bool v);
  void Null();
  // A float64 as a JSON number (jsoniter's format). REQUIRES: v is finite.
  void Number(double v);
  // A float64 as Go's encoding/json writes it: like Number() but "1e-7" instead of "1e-07"
  // (scalar and string result times, which Prometheus marshals with encoding/json).
  void StdNumber(double v);
  // A sample value as a quoted string: "1", "1e-07", "NaN", "+Inf".
  void SampleValue(double v);
  // A vector/matrix timestamp: 1435781451.005 (JSON number, never an exponent).
  void Timestamp(int64_t ms);
  // {"name":"value",...} in the labels' (sorted) order.
  void LabelSet(const Labels& labels);
  // Already-encoded JSON, written as one value.
  void Raw(std::string_view json);

  // Shorthands for `Key(k); <value>`.
  void Member(std::string_view k, std::string_view v) { Key(k); String(v); }
  void Member(std::string_view k, const char* v) { Key(k); String(v); }
  void Member(std::string_view k, int64_t v) { Key(k); Int(v); }
  void Member(std::string_view k, bool v) { Key(k); Bool(v); }

  std::string* out() { return out_; }

 private:
  void Open(char c) {
    if (comma_) out_->push_back(',');
    out_->push_back(c);
    comma_ = false;
  }
  void Close(char c) {
    out_->push_back(c);
    comma_ = true;
  }
  void BeforeValue() {
    if (comma_) out_->push_back(',');
    comma_ = true;
  }

  std::string* out_;
  bool comma_ = false;  // a value was just written: the next element needs a comma
};

// Appends `s` as a quoted JSON string with the escaping described above.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace hearth::web
