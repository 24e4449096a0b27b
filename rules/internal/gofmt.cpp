// Go's fmt and strconv float formatting, as far as Prometheus' templates reach them.

#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "model/format.h"
#include "model/strutil.h"
#include "rules/internal/template_value.h"

namespace hearth::rules::tmpl {
namespace {

struct Spec {
  bool plus = false;
  bool minus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  int width = -1;
  int prec = -1;
};

// Pads `s` to the spec's width. Zero padding goes after a leading sign.
std::string Pad(std::string s, const Spec& sp, bool numeric) {
  // Width counts runes in Go; count UTF-8 lead bytes.
  int n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  if (sp.width < 0 || n >= sp.width) return s;
  size_t fill = static_cast<size_t>(sp.width - n);
  if (sp.minus) return s + std::string(fill, ' ');
  if (sp.zero && numeric) {
    size_t at = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    s.insert(at, fill, '0');
    return s;
  }
  if (sp.zero && !numeric) return std::string(fill, '0') + s;
  return std::string(fill, ' ') + s;
}

std::string FormatInt(int64_t v, char verb, const Spec& sp) {
  bool neg = v < 0;
  uint64_t u = neg ? (~static_cast<uint64_t>(v) + 1) : static_cast<uint64_t>(v);
  std::string digits;
  std::string prefix;
  switch (verb) {
    case 'd':
    case 'v':
      digits = fmt::format("{}", u);
      break;
    case 'x':
      digits = fmt::format("{:x}", u);
      if (sp.sharp) prefix = "0x";
      break;
    case 'X':
      digits = fmt::format("{:X}", u);
      if (sp.sharp) prefix = "0X";
      break;
    case 'o':
      digits = fmt::format("{:o}", u);
      if (sp.sharp) prefix = "0";
      break;
    case 'O':
      digits = fmt::format("{:o}", u);
      prefix = "0o";
      break;
    case 'b':
      digits = fmt::format("{:b}", u);
      if (sp.sharp) prefix = "0b";
      break;
    default:
      break;
  }
  if (sp.prec >= 0) {
    if (sp.prec == 0 && u == 0) digits.clear();
    while (static_cast<int>(digits.size()) < sp.prec) digits.insert(0, "0");
  }
  std::string sign = neg ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  Spec pad = sp;
  if (sp.prec >= 0) pad.zero = false;  // Go: precision turns off zero padding
  return Pad(sign + prefix + digits, pad, true);
}

std::string EncodeRune(uint32_t r) {
  std::string out;
  AppendUtf8(&out, r);
  return out;
}

std::string FormatFloatVerb(double v, char verb, const Spec& sp) {
  std::string num;
  switch (verb) {
    case 'v':
      num = GoFormatFloat(v, 'g', sp.prec);
      break;
    case 'f':
    case 'F':
      num = GoFormatFloat(v, 'f', sp.prec < 0 ? 6 : sp.prec);
      break;
    case 'e':
    case 'E':
      num = GoFormatFloat(v, verb, sp.prec < 0 ? 6 : sp.prec);
      break;
    case 'g':
    case 'G':
      num = GoFormatFloat(v, verb, sp.prec);
      break;
    case 'x':
    case 'X': {
      char buf[64];
      int prec = sp.prec;
      if (prec < 0) {
        std::snprintf(buf, sizeof(buf), verb == 'x' ? "%a" : "%A", v);
      } else {
        std::snprintf(buf, sizeof(buf), verb == 'x' ? "%.*a" : "%.*A", prec, v);
      }
      num = buf;
      break;
    }
    default:
      break;
  }
  if (std::isnan(v) || std::isinf(v)) {
    if (std::isnan(v)) {
      num = sp.plus ? "+NaN" : sp.space ? " NaN" : "NaN";
    } else if (v > 0) {
      num = sp.plus ? "+Inf" : sp.space ? " Inf" : "+Inf";
    }
    Spec nz = sp;
    nz.zero = false;
    return Pad(num, nz, false);
  }
  if (num[0] != '-') {
    if (sp.plus) {
      num.insert(0, "+");
    } else if (sp.space) {
      num.insert(0, " ");
    }
  }
  if (sp.sharp && (verb == 'g' || verb == 'G' || verb == 'f' || verb == 'e' ||
                   verb == 'E' || verb == 'F') &&
      num.find('.') == std::string::npos) {
    // '#' forces a decimal point.
    size_t e = num.find_first_of("eE");
    num.insert(e == std::string::npos ? num.size() : e, ".");
  }
  return Pad(num, sp, true);
}

std::string Quote(std::string_view s) { return QuoteGo(s); }

std::string HexString(std::string_view s, bool upper, const Spec& sp) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (sp.space && i > 0) out += ' ';
    if (sp.sharp && (sp.space || i == 0)) out += upper ? "0X" : "0x";
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += upper ? fmt::format("{:02X}", c) : fmt::format("{:02x}", c);
  }
  return out;
}

std::string TruncateRunes(std::string_view s, int n) {
  size_t i = 0;
  int count = 0;
  while (i < s.size() && count < n) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
    ++count;
  }
  return std::string(s.substr(0, i));
}

std::string BadVerb(char verb, const Value& v) {
  if (v.kind == Kind::kNil) return fmt::format("%!{}(<nil>)", verb);
  std::string out = fmt::format("%!{}({}=", verb, TypeName(v));
  AppendPrint(&out, v);
  out += ')';
  return out;
}

std::string FormatOne(char verb, const Spec& sp, const Value& v) {
  switch (v.kind) {
    case Kind::kBool:
      if (verb == 't' || verb == 'v') return Pad(v.b ? "true" : "false", sp, false);
      return BadVerb(verb, v);
    case Kind::kInt:
      switch (verb) {
        case 'd': case 'v': case 'x': case 'X': case 'o': case 'O': case 'b':
          return FormatInt(v.i, verb, sp);
        case 'c':
          return Pad(EncodeRune(static_cast<uint32_t>(v.i)), sp, false);
        case 'q':
          return Pad("'" + EncodeRune(static_cast<uint32_t>(v.i)) + "'", sp, false);
        case 'U':
          return Pad(fmt::format("U+{:04X}", v.i), sp, false);
        default:
          return BadVerb(verb, v);
      }
    case Kind::kFloat:
      switch (verb) {
        case 'v': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'x': case 'X':
          return FormatFloatVerb(v.f, verb, sp);
        default:
          return BadVerb(verb, v);
      }
    case Kind::kString:
      switch (verb) {
        case 'v':
          if (sp.sharp) return Pad(Quote(v.s), sp, false);  // %#v: Go syntax
          [[fallthrough]];
        case 's':
          return Pad(sp.prec >= 0 ? TruncateRunes(v.s, sp.prec) : v.s, sp, false);
        case 'q':
          return Pad(Quote(sp.prec >= 0 ? TruncateRunes(v.s, sp.prec) : v.s), sp, false);
        case 'x':
        case 'X':
          return Pad(HexString(v.s, verb == 'X', sp), sp, false);
        default:
          return BadVerb(verb, v);
      }
    case Kind::kNil:
      if (verb == 'v') return Pad("<nil>", sp, false);
      return BadVerb(verb, v);
    case Kind::kTime:
      if (verb == 'v' || verb == 's') return Pad(GoTimeString(v.i), sp, false);
      return BadVerb(verb, v);
    case Kind::kStringMap:
    case Kind::kMap: {
      // fmt applies the verb to every key and value.
      Spec inner;
      std::string out = "map[";
      bool first = true;
      auto one = [&](const std::string& k, const Value& val) {
        if (!first) out += ' ';
        first = false;
        out += FormatOne(verb, inner, Value::String(k));
        out += ':';
        out += FormatOne(verb, inner, val);
      };
      if (v.kind == Kind::kStringMap) {
        for (const auto& [k, val] : *v.smap) one(k, Value::String(val));
      } else {
        for (const auto& [k, val] : *v.map) one(k, val);
      }
      out += ']';
      return out;
    }
    case Kind::kSlice: {
      Spec inner;
      std::string out = "[";
      for (size_t i = 0; i < v.slice->items.size(); ++i) {
        if (i > 0) out += ' ';
        out += FormatOne(verb, inner, v.slice->items[i]);
      }
      out += ']';
      return out;
    }
    case Kind::kStruct: {
      if (verb == 'v' || verb == 's') {
        std::string out;
        AppendPrint(&out, v);
        return Pad(out, sp, false);
      }
      return BadVerb(verb, v);
    }
  }
  return BadVerb(verb, v);
}

}  // namespace

std::string GoFormatFloat(double v, char verb, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (prec < 0) {
    if (verb == 'g' || verb == 'G') {
      std::string s = FormatGoFloat(v, 'g');
      if (verb == 'G') {
        for (char& c : s) {
          if (c == 'e') c = 'E';
        }
      }
      return s;
    }
    return FormatGoFloat(v, verb == 'E' ? 'e' : verb);
  }
  // C's %f/%e match Go exactly for finite values; C's %g with an explicit precision rounds
  // and picks %e or %f as Go's 'g' does, and both print at least two exponent digits.
  char f[8] = {'%', '.', '*', verb, 0};
  int len = std::snprintf(nullptr, 0, f, prec, v);
  if (len < 0) return "";
  std::string out(static_cast<size_t>(len) + 1, '\0');
  std::snprintf(out.data(), out.size(), f, prec, v);
  out.resize(static_cast<size_t>(len));
  return out;
}

std::string GoTimeString(int64_t ms) {
  return FormatUtcDateTime(ms, ' ', /*fixed_millis=*/false) + " +0000 UTC";
}

std::string TypeName(const Value& v) {
  switch (v.kind) {
    case Kind::kNil: return "<nil>";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float64";
    case Kind::kString: return "string";
    case Kind::kStringMap: return "map[string]string";
    case Kind::kMap: return "map[string]interface {}";
    case Kind::kSlice: return v.slice->type_name;
    case Kind::kStruct: return v.st->type_name;
    case Kind::kTime: return "*time.Time";
  }
  return "?";
}

bool IsTrue(const Value& v) {
  switch (v.kind) {
    case Kind::kNil: return false;
    case Kind::kBool: return v.b;
    case Kind::kInt: return v.i != 0;
    case Kind::kFloat: return v.f != 0;
    case Kind::kString: return !v.s.empty();
    case Kind::kStringMap: return !v.smap->empty();
    case Kind::kMap: return !v.map->empty();
    case Kind::kSlice: return !v.slice->items.empty();
    case Kind::kStruct: return true;
    case Kind::kTime: return true;
  }
  return false;
}

namespace {
void AppendPrintDepth(std::string* out, const Value& v, int depth) {
  switch (v.kind) {
    case Kind::kNil: *out += "<nil>"; return;
    case Kind::kBool: *out += v.b ? "true" : "false"; return;
    case Kind::kInt: *out += fmt::format("{}", v.i); return;
    case Kind::kFloat: *out += GoFormatFloat(v.f, 'g', -1); return;
    case Kind::kString: *out += v.s; return;
    case Kind::kTime: *out += GoTimeString(v.i); return;
    case Kind::kStringMap: {
      *out += "map[";
      bool first = true;
      for (const auto& [k, val] : *v.smap) {
        if (!first) *out += ' ';
        first = false;
        *out += k;
        *out += ':';
        *out += val;
      }
      *out += ']';
      return;
    }
    case Kind::kMap: {
      *out += "map[";
      bool first = true;
      for (const auto& [k, val] : *v.map) {
        if (!first) *out += ' ';
        first = false;
        *out += k;
        *out += ':';
        AppendPrintDepth(out, val, depth + 1);
      }
      *out += ']';
      return;
    }
    case Kind::kSlice: {
      *out += '[';
      bool first = true;
      for (const Value& item : v.slice->items) {
        if (!first) *out += ' ';
        first = false;
        AppendPrintDepth(out, item, depth + 1);
      }
      *out += ']';
      return;
    }
    case Kind::kStruct: {
      if (v.st->pointer) *out += '&';
      *out += '{';
      bool first = true;
      for (const auto& [name, val] : v.st->fields) {
        if (!first) *out += ' ';
        first = false;
        AppendPrintDepth(out, val, depth + 1);
      }
      *out += '}';
      return;
    }
  }
}
}  // namespace

void AppendPrint(std::string* out, const Value& v) { AppendPrintDepth(out, v, 0); }

std::string GoSprint(const std::vector<Value>& args) {
  std::string out;
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].kind == Kind::kString;
    if (i > 0 && !is_string && !prev_string) out += ' ';
    AppendPrint(&out, args[i]);
    prev_string = is_string;
  }
  return out;
}

std::string GoSprintln(const std::vector<Value>& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    AppendPrint(&out, args[i]);
  }
  out += '\n';
  return out;
}

std::string GoSprintf(std::string_view format, const std::vector<Value>& args) {
  std::string out;
  size_t argi = 0;
  size_t i = 0;
  const size_t n = format.size();
  while (i < n) {
    char c = format[i];
    if (c != '%') {
      out += c;
      ++i;
      continue;
    }
    ++i;
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    Spec sp;
    // Flags.
    for (; i < n; ++i) {
      char f = format[i];
      if (f == '+') {
        sp.plus = true;
      } else if (f == '-') {
        sp.minus = true;
        sp.zero = false;
      } else if (f == '#') {
        sp.sharp = true;
      } else if (f == ' ') {
        sp.space = true;
      } else if (f == '0') {
        sp.zero = !sp.minus;
      } else {
        break;
      }
    }
    // Width.
    bool bad_width = false;
    if (i < n && format[i] == '*') {
      ++i;
      if (argi < args.size() && args[argi].kind == Kind::kInt) {
        int64_t w = args[argi].i;
        if (w < 0) {
          sp.minus = true;
          sp.zero = false;
          w = -w;
        }
        sp.width = static_cast<int>(std::min<int64_t>(w, 1 << 20));
      } else {
        bad_width = true;
      }
      ++argi;
    } else {
      int w = 0;
      bool any = false;
      while (i < n && format[i] >= '0' && format[i] <= '9') {
        w = std::min(w * 10 + (format[i] - '0'), 1 << 20);
        any = true;
        ++i;
      }
      if (any) sp.width = w;
    }
    if (bad_width) out += "%!(BADWIDTH)";
    // Precision.
    bool bad_prec = false;
    if (i < n && format[i] == '.') {
      ++i;
      if (i < n && format[i] == '*') {
        ++i;
        if (argi < args.size() && args[argi].kind == Kind::kInt && args[argi].i >= 0) {
          sp.prec = static_cast<int>(std::min<int64_t>(args[argi].i, 1 << 20));
        } else {
          bad_prec = true;
        }
        ++argi;
      } else {
        int p = 0;
        while (i < n && format[i] >= '0' && format[i] <= '9') {
          p = std::min(p * 10 + (format[i] - '0'), 1 << 20);
          ++i;
        }
        sp.prec = p;
      }
    }
    if (bad_prec) out += "%!(BADPREC)";
    if (i >= n) {
      out += "%!(NOVERB)";
      break;
    }
    // The verb is one rune.
    size_t vstart = i;
    ++i;
    while (i < n && (static_cast<unsigned char>(format[i]) & 0xc0) == 0x80) ++i;
    std::string_view verb_text = format.substr(vstart, i - vstart);
    char verb = verb_text.size() == 1 ? verb_text[0] : '?';
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += "%!";
      out += verb_text;
      out += "(MISSING)";
      continue;
    }
    if (verb_text.size() != 1) {
      out += "%!";
      out += verb_text;
      out += '(';
      out += TypeName(args[argi]);
      out += '=';
      AppendPrint(&out, args[argi]);
      out += ')';
      ++argi;
      continue;
    }
    out += FormatOne(verb, sp, args[argi]);
    ++argi;
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      out += TypeName(args[k]);
      out += '=';
      AppendPrint(&out, args[k]);
    }
    out += ')';
  }
  return out;
}

}  // namespace hearth::rules::tmpl
