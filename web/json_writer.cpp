#include "web/json_writer.h"

#include <charconv>

#include "model/format.h"

namespace hearth::web {
namespace {

// Bytes below 0x80 that are written as they are.
constexpr bool IsSafeAscii(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

struct SafeTable {
  bool safe[256];
  constexpr SafeTable() : safe() {
    for (int i = 0; i < 256; ++i) safe[i] = i < 0x80 && IsSafeAscii(static_cast<unsigned char>(i));
  }
};
constexpr SafeTable kSafe;

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t start = 0;  // first byte not yet copied
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (kSafe.safe[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out->append(s.data() + start, i - start);
        out->append("\\ufffd");
        ++i;
        start = i;
        continue;
      }
      // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) break JavaScript; Go escapes them.
      if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
        out->append(s.data() + start, i - start);
        out->append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
        i += 3;
        start = i;
        continue;
      }
      i += n;
      continue;
    }
    out->append(s.data() + start, i - start);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
        break;
    }
    ++i;
    start = i;
  }
  out->append(s.data() + start, s.size() - start);
  out->push_back('"');
}

void JsonWriter::Key(std::string_view name) {
  if (comma_) out_->push_back(',');
  AppendJsonString(out_, name);
  out_->push_back(':');
  comma_ = false;
}

void JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendJsonString(out_, s);
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
}

void JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_->append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Number(double v) {
  BeforeValue();
  // jsoniter: the same 'f'/'e' switch as sample values, unquoted.
  AppendJsonSampleValue(out_, v);
}

void JsonWriter::StdNumber(double v) {
  BeforeValue();
  out_->append(FormatJsonNumber(v));
}

void JsonWriter::SampleValue(double v) {
  BeforeValue();
  out_->push_back('"');
  AppendJsonSampleValue(out_, v);
  out_->push_back('"');
}

void JsonWriter::Timestamp(int64_t ms) {
  BeforeValue();
  AppendJsonTimestamp(out_, ms);
}

void JsonWriter::LabelSet(const Labels& labels) {
  BeginObject();
  for (const Label& l : labels) {
    Key(l.name);
    String(l.value);
  }
  EndObject();
}

void JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
}

}  // namespace hearth::web
