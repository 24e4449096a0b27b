// Executes templates parsed by template_parse.cpp with Go's text/template semantics and
// Prometheus' template functions (template/template.go).

#include "rules/template.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/duration.h"
#include "model/strutil.h"
#include "rules/internal/template_ast.h"
#include "rules/internal/template_value.h"

namespace hearth::rules {

using tmpl::Arg;
using tmpl::ArgType;
using tmpl::Command;
using tmpl::Kind;
using tmpl::Node;
using tmpl::NodeList;
using tmpl::NodeType;
using tmpl::Pipeline;
using tmpl::Tree;
using tmpl::Value;

namespace {

// Prometheus prefixes every alert template with these definitions; Go's error columns on the
// first line count them.
constexpr std::string_view kAlertDefs =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const std::vector<std::string>& AlertVariables() {
  static const std::vector<std::string> kVars = {"$labels", "$externalLabels", "$externalURL",
                                                 "$value"};
  return kVars;
}

// ---- Function table ----

enum class Param { kAny, kString, kSample, kSamples };

struct FuncSpec {
  std::string_view name;
  std::vector<Param> params;
  bool variadic = false;  // the last param repeats (zero or more times)
};

const std::vector<FuncSpec>& Functions() {
  static const std::vector<FuncSpec> kFuncs = {
      // Go builtins.
      {"and", {Param::kAny, Param::kAny}, true},
      {"or", {Param::kAny, Param::kAny}, true},
      {"not", {Param::kAny}},
      {"len", {Param::kAny}},
      {"index", {Param::kAny, Param::kAny}, true},
      {"slice", {Param::kAny, Param::kAny}, true},
      {"print", {Param::kAny}, true},
      {"printf", {Param::kString, Param::kAny}, true},
      {"println", {Param::kAny}, true},
      {"html", {Param::kAny}, true},
      {"js", {Param::kAny}, true},
      {"urlquery", {Param::kAny}, true},
      {"eq", {Param::kAny, Param::kAny}, true},
      {"ne", {Param::kAny, Param::kAny}},
      {"lt", {Param::kAny, Param::kAny}},
      {"le", {Param::kAny, Param::kAny}},
      {"gt", {Param::kAny, Param::kAny}},
      {"ge", {Param::kAny, Param::kAny}},
      // Prometheus.
      {"query", {Param::kString}},
      {"first", {Param::kSamples}},
      {"label", {Param::kString, Param::kSample}},
      {"value", {Param::kSample}},
      {"strvalue", {Param::kSample}},
      {"args", {Param::kAny}, true},
      {"reReplaceAll", {Param::kString, Param::kString, Param::kString}},
      {"safeHtml", {Param::kString}},
      {"match", {Param::kString, Param::kString}},
      {"title", {Param::kString}},
      {"toUpper", {Param::kString}},
      {"toLower", {Param::kString}},
      {"graphLink", {Param::kString}},
      {"tableLink", {Param::kString}},
      {"sortByLabel", {Param::kString, Param::kSamples}},
      {"stripPort", {Param::kString}},
      {"stripDomain", {Param::kString}},
      {"humanize", {Param::kAny}},
      {"humanize1024", {Param::kAny}},
      {"humanizeDuration", {Param::kAny}},
      {"humanizePercentage", {Param::kAny}},
      {"humanizeTimestamp", {Param::kAny}},
      {"toTime", {Param::kAny}},
      {"pathPrefix", {}},
      {"externalURL", {}},
      {"parseDuration", {Param::kString}},
  };
  return kFuncs;
}

const FuncSpec* FindFunction(std::string_view name) {
  for (const auto& f : Functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// ---- Helpers with Go's semantics ----

const std::string kSampleType = "*template.sample";
const std::string kQueryResultType = "template.queryResult";

Value MakeStringMap(const Labels& ls) {
  auto m = std::make_shared<tmpl::StringMap>();
  for (const auto& l : ls) m->emplace(std::string(l.name), std::string(l.value));
  return Value::Strings(std::move(m));
}

Value MakeSample(const Labels& ls, double v) {
  auto st = std::make_shared<tmpl::StructData>();
  st->type_name = kSampleType;
  st->pointer = true;
  st->fields.emplace_back("Labels", MakeStringMap(ls));
  st->fields.emplace_back("Value", Value::Float(v));
  return Value::Struct(std::move(st));
}

bool IsSample(const Value& v) { return v.kind == Kind::kStruct && v.st->type_name == kSampleType; }
bool IsSamples(const Value& v) {
  return v.kind == Kind::kSlice && v.slice->type_name == kQueryResultType;
}

const Value& SampleField(const Value& s, size_t i) { return s.st->fields[i].second; }

std::string GoErrorParseFloat(std::string_view s, bool range) {
  return fmt::format("strconv.ParseFloat: parsing {}: {}", QuoteGo(s),
                     range ? "value out of range" : "invalid syntax");
}

// common/helpers/templates.ConvertToFloat.
Result<double> ConvertToFloat(const Value& v) {
  switch (v.kind) {
    case Kind::kFloat: return v.f;
    case Kind::kInt: return static_cast<double>(v.i);
    case Kind::kString: {
      auto f = ParseGoFloat(v.s);
      if (!f) return Status(StatusCode::kInvalidArgument, GoErrorParseFloat(v.s, false));
      if (std::isinf(*f)) {
        std::string lower = ToLowerAscii(v.s);
        if (lower.find("inf") == std::string::npos) {
          return Status(StatusCode::kInvalidArgument, GoErrorParseFloat(v.s, true));
        }
      }
      return *f;
    }
    default:
      return InvalidArgument("can't convert {} to float", tmpl::TypeName(v));
  }
}

std::string Sprintf4g(double v) { return tmpl::GoFormatFloat(v, 'g', 4); }

// net.SplitHostPort.
bool SplitHostPort(std::string_view hp, std::string* host, std::string* port) {
  size_t i = hp.rfind(':');
  if (i == std::string_view::npos) return false;
  size_t j = 0, k = 0;
  if (!hp.empty() && hp[0] == '[') {
    size_t end = hp.find(']');
    if (end == std::string_view::npos) return false;
    if (end + 1 == hp.size()) return false;
    if (end + 1 != i) return false;
    *host = std::string(hp.substr(1, end - 1));
    j = 1;
    k = end + 1;
  } else {
    *host = std::string(hp.substr(0, i));
    if (host->find(':') != std::string::npos) return false;
  }
  if (hp.substr(j).find('[') != std::string_view::npos) return false;
  if (hp.substr(k).find(']') != std::string_view::npos) return false;
  *port = std::string(hp.substr(i + 1));
  return true;
}

bool ParseIP(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string JoinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

// Go's regexp error text for an RE2 compile failure.
std::string GoRegexpError(const RE2& re) {
  std::string_view what;
  switch (re.error_code()) {
    case RE2::ErrorBadEscape: what = "invalid escape sequence"; break;
    case RE2::ErrorBadCharClass: what = "invalid character class"; break;
    case RE2::ErrorBadCharRange: what = "invalid character class range"; break;
    case RE2::ErrorMissingBracket: what = "missing closing ]"; break;
    case RE2::ErrorMissingParen: what = "missing closing )"; break;
    case RE2::ErrorTrailingBackslash: what = "trailing backslash at end of expression"; break;
    case RE2::ErrorRepeatArgument: what = "missing argument to repetition operator"; break;
    case RE2::ErrorRepeatSize: what = "invalid repeat count"; break;
    case RE2::ErrorRepeatOp: what = "invalid nested repetition operator"; break;
    case RE2::ErrorBadPerlOp: what = "invalid or unsupported Perl syntax"; break;
    case RE2::ErrorBadUTF8: what = "invalid UTF-8"; break;
    case RE2::ErrorBadNamedCapture: what = "invalid named capture"; break;
    case RE2::ErrorPatternTooLarge: what = "expression too large"; break;
    default: what = "regexp/syntax: internal error"; break;
  }
  return fmt::format("error parsing regexp: {}: `{}`", what, re.error_arg());
}

// regexp's quote(): backquoted when strconv.CanBackquote, else strconv.Quote.
std::string GoRegexpQuote(std::string_view s) {
  bool can = IsValidUtf8(s);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '`' || u == 0x7f || (u < 0x20 && c != '\t')) can = false;
  }
  return can ? "`" + std::string(s) + "`" : QuoteGo(s);
}

std::unique_ptr<RE2> CompileGoRegexp(std::string_view pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  return std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
}

// Go's Regexp.Expand template ($1, ${1}, $name, ${name}, $$) for one match.
void GoExpand(const RE2& re, std::string_view tmpl, const std::vector<re2::StringPiece>& groups,
              std::string* out) {
  const auto& names = re.NamedCapturingGroups();
  auto group = [&](std::string_view name) -> std::string_view {
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(),
                                                [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      auto n = ParseInt64(name);
      if (n && *n >= 0 && static_cast<size_t>(*n) < groups.size()) {
        const auto& g = groups[static_cast<size_t>(*n)];
        return g.data() == nullptr ? std::string_view() : std::string_view(g.data(), g.size());
      }
      return {};
    }
    auto it = names.find(std::string(name));
    if (it == names.end() || static_cast<size_t>(it->second) >= groups.size()) return {};
    const auto& g = groups[static_cast<size_t>(it->second)];
    return g.data() == nullptr ? std::string_view() : std::string_view(g.data(), g.size());
  };
  auto is_name_char = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t d = tmpl.find('$', i);
    if (d == std::string_view::npos) {
      out->append(tmpl.substr(i));
      break;
    }
    out->append(tmpl.substr(i, d - i));
    i = d + 1;
    if (i < tmpl.size() && tmpl[i] == '$') {
      *out += '$';
      ++i;
      continue;
    }
    if (i < tmpl.size() && tmpl[i] == '{') {
      size_t close = tmpl.find('}', i + 1);
      std::string_view name =
          close == std::string_view::npos ? std::string_view() : tmpl.substr(i + 1, close - i - 1);
      bool ok = !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
      if (!ok) {
        *out += '$';  // malformed: Go copies the '$' literally
        continue;
      }
      out->append(group(name));
      i = close + 1;
      continue;
    }
    size_t e = i;
    while (e < tmpl.size() && is_name_char(tmpl[e])) ++e;
    if (e == i) {
      *out += '$';
      continue;
    }
    out->append(group(tmpl.substr(i, e - i)));
    i = e;
  }
}

// Go's Regexp.ReplaceAllString.
std::string GoReplaceAll(const RE2& re, std::string_view src, std::string_view repl) {
  std::string out;
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  re2::StringPiece text(src.data(), src.size());
  size_t last_match_end = 0;
  size_t search_pos = 0;
  while (search_pos <= src.size()) {
    if (!re.Match(text, search_pos, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    size_t a0 = static_cast<size_t>(groups[0].data() - src.data());
    size_t a1 = a0 + groups[0].size();
    out.append(src.substr(last_match_end, a0 - last_match_end));
    if (a1 > last_match_end || a0 == 0) GoExpand(re, repl, groups, &out);
    last_match_end = a1;
    size_t width = 1;
    if (search_pos < src.size()) {
      unsigned char c = static_cast<unsigned char>(src[search_pos]);
      width = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
      width = std::min(width, src.size() - search_pos);
    }
    if (search_pos + width > a1) {
      search_pos += width;
    } else if (search_pos + 1 > a1) {
      ++search_pos;
    } else {
      search_pos = a1;
    }
  }
  out.append(src.substr(std::min(last_match_end, src.size())));
  return out;
}

// cases.Title(language.AmericanEnglish, cases.NoLower) for ASCII: the first letter of each
// word is upper-cased, the rest left alone. Letters, digits and '_' continue a word; anything
// else (space, '-', '.', an apostrophe) starts a new one ("it's" -> "It'S", as Prometheus).
std::string Title(std::string_view s) {
  std::string out(s);
  bool in_word = false;
  for (char& c : out) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool word_char =
        alpha || (c >= '0' && c <= '9') || c == '_' || (static_cast<unsigned char>(c) >= 0x80);
    if (alpha && !in_word && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    in_word = word_char;
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '\'': out += "&#39;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\0': out += "\xef\xbf\xbd"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JsEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      case '&': out += "\\u0026"; break;
      case '=': out += "\\u003D"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

// text/template's evalArgs for html/js/urlquery: one string is used as is, anything else is
// fmt.Sprint'ed (an absent value as "<no value>").
std::string EvalArgsString(const std::vector<Value>& args) {
  if (args.size() == 1 && args[0].kind == Kind::kString) return args[0].s;
  std::vector<Value> printable = args;
  for (auto& a : printable) {
    if (a.kind == Kind::kNil) a = Value::String("<no value>");
  }
  return tmpl::GoSprint(printable);
}

// ---- Comparison (text/template's eq/lt) ----

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString, kOther };
BasicKind BasicKindOf(const Value& v) {
  switch (v.kind) {
    case Kind::kNil: return BasicKind::kInvalid;
    case Kind::kBool: return BasicKind::kBool;
    case Kind::kInt: return BasicKind::kInt;
    case Kind::kFloat: return BasicKind::kFloat;
    case Kind::kString: return BasicKind::kString;
    default: return BasicKind::kOther;
  }
}

Result<bool> Eq(const Value& a, const std::vector<Value>& others) {
  if (others.empty()) return InvalidArgument("missing argument for comparison");
  BasicKind k1 = BasicKindOf(a);
  for (const Value& b : others) {
    BasicKind k2 = BasicKindOf(b);
    bool truth = false;
    if (k1 != k2) {
      if (a.kind != Kind::kNil && b.kind != Kind::kNil) {
        return InvalidArgument("incompatible types for comparison");
      }
    } else {
      switch (k1) {
        case BasicKind::kBool: truth = a.b == b.b; break;
        case BasicKind::kInt: truth = a.i == b.i; break;
        case BasicKind::kFloat: truth = a.f == b.f; break;
        case BasicKind::kString: truth = a.s == b.s; break;
        case BasicKind::kInvalid: truth = true; break;
        case BasicKind::kOther:
          if (a.kind == Kind::kTime && b.kind == Kind::kTime) {
            truth = a.i == b.i;
            break;
          }
          return InvalidArgument("non-comparable type {}: {}", tmpl::TypeName(a),
                                 tmpl::TypeName(b));
      }
    }
    if (truth) return true;
  }
  return false;
}

Result<bool> Lt(const Value& a, const Value& b) {
  BasicKind k1 = BasicKindOf(a), k2 = BasicKindOf(b);
  if (k1 == BasicKind::kInvalid || k1 == BasicKind::kOther || k2 == BasicKind::kInvalid ||
      k2 == BasicKind::kOther) {
    return InvalidArgument("invalid type for comparison");
  }
  if (k1 != k2) return InvalidArgument("incompatible types for comparison");
  switch (k1) {
    case BasicKind::kBool: return InvalidArgument("invalid type for comparison");
    case BasicKind::kInt: return a.i < b.i;
    case BasicKind::kFloat: return a.f < b.f;
    case BasicKind::kString: return a.s < b.s;
    default: return InvalidArgument("invalid type for comparison");
  }
}

// ---- The executor ----

struct ExecError {
  std::string msg;
};

enum class Flow { kNormal, kBreak, kContinue };

class Exec {
 public:
  Exec(const Tree& tree, const TemplateEnv& env) : tree_(tree), env_(env) {}

  std::string Run(const Value& root, const std::vector<std::pair<std::string, Value>>& vars) {
    vars_.emplace_back("$", root);
    for (const auto& v : vars) vars_.push_back(v);
    Walk(root, tree_.root);
    return std::move(out_);
  }

 private:
  [[noreturn]] void Errorf(int pos, const std::string& context, const std::string& msg) {
    throw ExecError{fmt::format("template: {}: executing {} at <{}>: {}",
                                tmpl::Location(tree_, pos), QuoteGo(tree_.name), context, msg)};
  }
  [[noreturn]] void ErrorNoContext(const std::string& msg) {
    throw ExecError{fmt::format("template: {}: {}", tree_.name, msg)};
  }

  void Step() {
    if (++steps_ > env_.max_steps) {
      ErrorNoContext(fmt::format("execution exceeded {} steps", env_.max_steps));
    }
  }

  void Write(std::string_view s) {
    out_.append(s);
    if (out_.size() > env_.max_output_bytes) {
      ErrorNoContext(fmt::format("output exceeds {} bytes", env_.max_output_bytes));
    }
  }

  Flow Walk(const Value& dot, const NodeList& list) {
    for (const auto& n : list) {
      Flow f = WalkNode(dot, *n);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow WalkNode(const Value& dot, const Node& n) {
    Step();
    switch (n.type) {
      case NodeType::kText:
        Write(n.text);
        return Flow::kNormal;
      case NodeType::kAction: {
        Value v = EvalPipeline(dot, *n.pipe, /*push_decl=*/true);
        if (n.pipe->decl.empty()) PrintValue(v);
        return Flow::kNormal;
      }
      case NodeType::kIf:
      case NodeType::kWith: {
        size_t mark = vars_.size();
        Value v = EvalPipeline(dot, *n.pipe, true);
        Flow f = Flow::kNormal;
        if (tmpl::IsTrue(v)) {
          f = Walk(n.type == NodeType::kWith ? v : dot, n.list);
        } else if (n.has_else) {
          f = Walk(dot, n.else_list);
        }
        vars_.resize(mark);
        return f;
      }
      case NodeType::kRange:
        return WalkRange(dot, n);
      case NodeType::kBreak:
        return Flow::kBreak;
      case NodeType::kContinue:
        return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  void PrintValue(const Value& v) {
    if (v.kind == Kind::kNil) {
      Write("<no value>");
      return;
    }
    if (v.kind == Kind::kStruct && v.st->pointer) {
      // text/template prints what a pointer points to.
      auto copy = std::make_shared<tmpl::StructData>(*v.st);
      copy->pointer = false;
      std::string s;
      tmpl::AppendPrint(&s, Value::Struct(copy));
      Write(s);
      return;
    }
    std::string s;
    tmpl::AppendPrint(&s, v);
    Write(s);
  }

  Flow WalkRange(const Value& dot, const Node& n) {
    size_t mark = vars_.size();
    Value val = EvalPipeline(dot, *n.pipe, /*push_decl=*/false);
    const auto& decl = n.pipe->decl;
    if (!n.pipe->is_assign) {
      for (const auto& d : decl) vars_.emplace_back(d, val);
    }
    size_t body_mark = vars_.size();
    auto one = [&](const Value& index, const Value& elem) -> Flow {
      if (decl.size() == 1) {
        SetVar(decl[0], elem, n.pos, n.pipe->is_assign);
      } else if (decl.size() == 2) {
        SetVar(decl[0], index, n.pos, n.pipe->is_assign);
        SetVar(decl[1], elem, n.pos, n.pipe->is_assign);
      }
      Flow f = Walk(elem, n.list);
      vars_.resize(body_mark);
      return f;
    };
    bool iterated = false;
    switch (val.kind) {
      case Kind::kSlice:
        for (size_t i = 0; i < val.slice->items.size(); ++i) {
          iterated = true;
          if (one(Value::Int(static_cast<int64_t>(i)), val.slice->items[i]) == Flow::kBreak) break;
        }
        break;
      case Kind::kStringMap:
        for (const auto& [k, v] : *val.smap) {
          iterated = true;
          if (one(Value::String(k), Value::String(v)) == Flow::kBreak) break;
        }
        break;
      case Kind::kMap:
        for (const auto& [k, v] : *val.map) {
          iterated = true;
          if (one(Value::String(k), v) == Flow::kBreak) break;
        }
        break;
      case Kind::kInt:
        if (decl.size() > 1) {
          Errorf(n.pos, "range", fmt::format("can't use {} to iterate over more than one variable",
                                             val.i));
        }
        for (int64_t i = 0; i < val.i; ++i) {
          iterated = true;
          Step();
          if (one(Value::Int(i), Value::Int(i)) == Flow::kBreak) break;
        }
        break;
      case Kind::kNil:
        break;
      default: {
        std::string s;
        tmpl::AppendPrint(&s, val);
        Errorf(n.pos, "range " + tmpl::PipelineString(*n.pipe),
               fmt::format("range can't iterate over {}", s));
      }
    }
    vars_.resize(mark);
    if (!iterated && n.has_else) {
      Flow f = Walk(dot, n.else_list);
      vars_.resize(mark);
      return f == Flow::kBreak || f == Flow::kContinue ? f : Flow::kNormal;
    }
    return Flow::kNormal;
  }

  void SetVar(const std::string& name, const Value& v, int pos, bool assign) {
    if (!assign) {
      // Declared in the range pipeline: the slots pushed before the body.
      for (size_t i = vars_.size(); i-- > 0;) {
        if (vars_[i].first == name) {
          vars_[i].second = v;
          return;
        }
      }
    }
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) {
        vars_[i].second = v;
        return;
      }
    }
    Errorf(pos, name, fmt::format("undefined variable: {}", name));
  }

  const Value& LookupVar(const std::string& name, int pos) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    Errorf(pos, name, fmt::format("undefined variable: {}", name));
  }

  Value EvalPipeline(const Value& dot, const Pipeline& p, bool push_decl) {
    Value v;
    bool have = false;
    for (const Command& c : p.cmds) {
      v = EvalCommand(dot, c, have ? &v : nullptr);
      have = true;
    }
    if (push_decl) {
      for (const auto& d : p.decl) {
        if (p.is_assign) {
          SetVar(d, v, p.pos, true);
        } else {
          vars_.emplace_back(d, v);
        }
      }
    }
    return v;
  }

  void NotAFunction(const Command& c, const Value* final) {
    if (c.args.size() > 1 || final != nullptr) {
      Errorf(c.args[0].pos, tmpl::ArgString(c.args[0]),
             fmt::format("can't give argument to non-function {}", tmpl::ArgString(c.args[0])));
    }
  }

  Value EvalCommand(const Value& dot, const Command& c, const Value* final) {
    Step();
    const Arg& first = c.args[0];
    switch (first.type) {
      case ArgType::kIdentifier:
        return CallFunction(dot, first.ident, c, 1, final);
      case ArgType::kField:
        NotAFunctionField(c, final);
        return EvalFields(dot, first.fields, first);
      case ArgType::kVariable:
        NotAFunctionField(c, final);
        return EvalFields(LookupVar(first.ident, first.pos), first.fields, first);
      case ArgType::kChain:
        NotAFunctionField(c, final);
        return EvalFields(EvalPipeline(dot, *first.pipe, false), first.fields, first);
      case ArgType::kPipe:
        NotAFunction(c, final);
        return EvalPipeline(dot, *first.pipe, false);
      case ArgType::kDot:
        NotAFunction(c, final);
        return dot;
      case ArgType::kNil:
        NotAFunction(c, final);
        Errorf(first.pos, "nil", "nil is not a command");
      case ArgType::kConstant:
        NotAFunction(c, final);
        return first.constant;
    }
    return {};
  }

  void NotAFunctionField(const Command& c, const Value* final) {
    if (c.args.size() > 1 || final != nullptr) {
      const Arg& a = c.args[0];
      std::string name = a.fields.empty() ? a.ident : a.fields.back();
      Errorf(a.pos, tmpl::ArgString(a),
             fmt::format("{} has arguments but cannot be invoked as function", name));
    }
  }

  Value EvalFields(Value v, const std::vector<std::string>& fields, const Arg& node) {
    for (const std::string& f : fields) {
      switch (v.kind) {
        case Kind::kNil:
          return Value::Nil();  // missingkey=zero: fields of nothing are nothing
        case Kind::kStringMap: {
          auto it = v.smap->find(f);
          v = Value::String(it == v.smap->end() ? std::string() : it->second);
          break;
        }
        case Kind::kMap: {
          auto it = v.map->find(f);
          v = it == v.map->end() ? Value::Nil() : it->second;
          break;
        }
        case Kind::kStruct: {
          const Value* found = nullptr;
          for (const auto& [name, val] : v.st->fields) {
            if (name == f) found = &val;
          }
          if (found == nullptr) {
            Errorf(node.pos, tmpl::ArgString(node),
                   fmt::format("can't evaluate field {} in type {}", f, v.st->type_name));
          }
          v = *found;
          break;
        }
        default:
          Errorf(node.pos, tmpl::ArgString(node),
                 fmt::format("can't evaluate field {} in type {}", f, tmpl::TypeName(v)));
      }
    }
    return v;
  }

  // Evaluates an argument node (not the first word of a command).
  Value EvalArg(const Value& dot, const Arg& a) {
    Step();
    switch (a.type) {
      case ArgType::kDot: return dot;
      case ArgType::kNil: return Value::Nil();
      case ArgType::kConstant: return a.constant;
      case ArgType::kField: return EvalFields(dot, a.fields, a);
      case ArgType::kVariable: return EvalFields(LookupVar(a.ident, a.pos), a.fields, a);
      case ArgType::kPipe: return EvalPipeline(dot, *a.pipe, false);
      case ArgType::kChain: return EvalFields(EvalPipeline(dot, *a.pipe, false), a.fields, a);
      case ArgType::kIdentifier: {
        Command c;
        c.pos = a.pos;
        Arg copy;
        copy.type = ArgType::kIdentifier;
        copy.pos = a.pos;
        copy.ident = a.ident;
        copy.text = a.text;
        c.args.push_back(std::move(copy));
        return CallFunction(dot, a.ident, c, 1, nullptr);
      }
    }
    return {};
  }

  static std::string_view ParamTypeName(tmpl::Kind k, Param p) {
    (void)k;
    switch (p) {
      case Param::kString: return "string";
      case Param::kSample: return "*template.sample";
      case Param::kSamples: return "template.queryResult";
      case Param::kAny: return "interface {}";
    }
    return "";
  }

  // Go's validateType for a parameter.
  Value Validate(const Value& v, Param p, const Arg* node, const Command& c) {
    int pos = node ? node->pos : c.pos;
    std::string ctx = node ? tmpl::ArgString(*node) : tmpl::CommandString(c);
    switch (p) {
      case Param::kAny:
        return v;
      case Param::kString:
        if (v.kind == Kind::kString) return v;
        if (v.kind == Kind::kNil) Errorf(pos, ctx, "invalid value; expected string");
        break;
      case Param::kSample:
        if (IsSample(v) || v.kind == Kind::kNil) return v;
        break;
      case Param::kSamples:
        if (IsSamples(v) || v.kind == Kind::kNil) return v;
        break;
    }
    if (node && node->type == ArgType::kConstant && p == Param::kString) {
      Errorf(pos, ctx, fmt::format("expected string; found {}", tmpl::ArgString(*node)));
    }
    Errorf(pos, ctx,
           fmt::format("wrong type for value; expected {}; got {}", ParamTypeName(v.kind, p),
                       tmpl::TypeName(v)));
  }

  Value CallFunction(const Value& dot, const std::string& name, const Command& c, size_t first_arg,
                     const Value* final) {
    const FuncSpec* spec = FindFunction(name);
    if (spec == nullptr) Errorf(c.pos, name, fmt::format("{} is not a defined function", name));
    size_t nargs = c.args.size() - first_arg + (final ? 1 : 0);
    size_t nfixed = spec->variadic ? spec->params.size() - 1 : spec->params.size();
    std::string ctx = tmpl::CommandString(c);
    if (spec->variadic ? nargs < nfixed : nargs != nfixed) {
      Errorf(c.args[0].pos, name,
             spec->variadic
                 ? fmt::format("wrong number of args for {}: want at least {} got {}", name,
                               nfixed, nargs)
                 : fmt::format("wrong number of args for {}: want {} got {}", name, nfixed, nargs));
    }
    auto param_at = [&](size_t i) {
      return i < spec->params.size() ? spec->params[i] : spec->params.back();
    };
    // and/or evaluate lazily, returning the deciding argument itself.
    if (name == "and" || name == "or") {
      Value v;
      for (size_t i = first_arg; i < c.args.size(); ++i) {
        v = EvalArg(dot, c.args[i]);
        if (tmpl::IsTrue(v) == (name == "or")) return v;
      }
      if (final) v = *final;
      return v;
    }
    std::vector<Value> args;
    args.reserve(nargs);
    for (size_t i = first_arg; i < c.args.size(); ++i) {
      args.push_back(Validate(EvalArg(dot, c.args[i]), param_at(args.size()), &c.args[i], c));
    }
    if (final) args.push_back(Validate(*final, param_at(args.size()), nullptr, c));
    auto result = Call(name, args);
    if (!result.ok()) {
      Errorf(c.pos, ctx, fmt::format("error calling {}: {}", name, result.status().message()));
    }
    return std::move(result).value();
  }

  Result<Value> Call(const std::string& name, const std::vector<Value>& a) {
    // Go builtins.
    if (name == "not") return Value::Bool(!tmpl::IsTrue(a[0]));
    if (name == "len") {
      const Value& v = a[0];
      switch (v.kind) {
        case Kind::kString: return Value::Int(static_cast<int64_t>(v.s.size()));
        case Kind::kStringMap: return Value::Int(static_cast<int64_t>(v.smap->size()));
        case Kind::kMap: return Value::Int(static_cast<int64_t>(v.map->size()));
        case Kind::kSlice: return Value::Int(static_cast<int64_t>(v.slice->items.size()));
        case Kind::kNil: return InvalidArgument("len of untyped nil");
        default: return InvalidArgument("len of type {}", tmpl::TypeName(v));
      }
    }
    if (name == "index") return Index(a);
    if (name == "slice") return Slice(a);
    if (name == "print") return Value::String(tmpl::GoSprint(a));
    if (name == "println") return Value::String(tmpl::GoSprintln(a));
    if (name == "printf") {
      std::vector<Value> rest(a.begin() + 1, a.end());
      return Value::String(tmpl::GoSprintf(a[0].s, rest));
    }
    if (name == "html") return Value::String(HtmlEscape(EvalArgsString(a)));
    if (name == "js") return Value::String(JsEscape(EvalArgsString(a)));
    if (name == "urlquery") return Value::String(QueryEscape(EvalArgsString(a)));
    if (name == "eq") {
      HEARTH_ASSIGN_OR_RETURN(bool t, Eq(a[0], std::vector<Value>(a.begin() + 1, a.end())));
      return Value::Bool(t);
    }
    if (name == "ne") {
      HEARTH_ASSIGN_OR_RETURN(bool t, Eq(a[0], {a[1]}));
      return Value::Bool(!t);
    }
    if (name == "lt" || name == "ge") {
      HEARTH_ASSIGN_OR_RETURN(bool t, Lt(a[0], a[1]));
      return Value::Bool(name == "lt" ? t : !t);
    }
    if (name == "le" || name == "gt") {
      HEARTH_ASSIGN_OR_RETURN(bool t, Lt(a[0], a[1]));
      if (!t) {
        HEARTH_ASSIGN_OR_RETURN(bool e, Eq(a[0], {a[1]}));
        t = e;
      }
      return Value::Bool(name == "le" ? t : !t);
    }
    // Prometheus.
    if (name == "query") {
      if (!env_.query) return InvalidArgument("no query engine available");
      auto r = env_.query(a[0].s, env_.time_ms);
      if (!r.ok()) return Status(StatusCode::kInvalidArgument, r.status().message());
      auto slice = std::make_shared<tmpl::SliceData>();
      slice->type_name = kQueryResultType;
      for (const auto& s : *r) slice->items.push_back(MakeSample(s.labels, s.v));
      return Value::Slice(std::move(slice));
    }
    if (name == "first") {
      if (a[0].kind == Kind::kSlice && !a[0].slice->items.empty()) return a[0].slice->items[0];
      return InvalidArgument("first() called on vector with no elements");
    }
    if (name == "label" || name == "strvalue") {
      const Value& s = name == "label" ? a[1] : a[0];
      if (s.kind == Kind::kNil) {
        return InvalidArgument("runtime error: invalid memory address or nil pointer dereference");
      }
      const auto& labels = *SampleField(s, 0).smap;
      auto it = labels.find(name == "label" ? a[0].s : std::string("__value__"));
      return Value::String(it == labels.end() ? std::string() : it->second);
    }
    if (name == "value") {
      if (a[0].kind == Kind::kNil) {
        return InvalidArgument("runtime error: invalid memory address or nil pointer dereference");
      }
      return SampleField(a[0], 1);
    }
    if (name == "sortByLabel") {
      if (a[1].kind == Kind::kNil) return a[1];
      auto sorted = std::make_shared<tmpl::SliceData>(*a[1].slice);
      const std::string& by = a[0].s;
      auto key = [&](const Value& s) {
        const auto& m = *SampleField(s, 0).smap;
        auto it = m.find(by);
        return it == m.end() ? std::string() : it->second;
      };
      std::stable_sort(sorted->items.begin(), sorted->items.end(),
                       [&](const Value& x, const Value& y) { return key(x) < key(y); });
      return Value::Slice(std::move(sorted));
    }
    if (name == "args") {
      auto m = std::make_shared<tmpl::AnyMap>();
      for (size_t i = 0; i < a.size(); ++i) m->emplace(fmt::format("arg{}", i), a[i]);
      return Value::Map(std::move(m));
    }
    if (name == "reReplaceAll") {
      auto re = CompileGoRegexp(a[0].s);
      if (!re->ok()) {
        // regexp.MustCompile panics; text/template reports the panic as the call's error.
        return InvalidArgument("regexp: Compile({}): {}", GoRegexpQuote(a[0].s),
                               GoRegexpError(*re));
      }
      return Value::String(GoReplaceAll(*re, a[2].s, a[1].s));
    }
    if (name == "match") {
      auto re = CompileGoRegexp(a[0].s);
      if (!re->ok()) return InvalidArgument("{}", GoRegexpError(*re));
      return Value::Bool(RE2::PartialMatch(a[1].s, *re));
    }
    if (name == "safeHtml") return a[0];
    if (name == "title") return Value::String(Title(a[0].s));
    if (name == "toUpper") return Value::String(ToUpperAscii(a[0].s));
    if (name == "toLower") return Value::String(ToLowerAscii(a[0].s));
    if (name == "graphLink") return Value::String(GraphLinkForExpression(a[0].s));
    if (name == "tableLink") return Value::String(TableLinkForExpression(a[0].s));
    if (name == "stripPort") {
      std::string host, port;
      if (!SplitHostPort(a[0].s, &host, &port)) return a[0];
      return Value::String(host);
    }
    if (name == "stripDomain") {
      std::string host, port;
      if (!SplitHostPort(a[0].s, &host, &port)) {
        host = a[0].s;
        port.clear();
      }
      if (ParseIP(host)) return a[0];
      host = host.substr(0, host.find('.'));
      if (!port.empty()) return Value::String(JoinHostPort(host, port));
      return Value::String(host);
    }
    if (name == "humanize" || name == "humanize1024" || name == "humanizeDuration" ||
        name == "humanizePercentage" || name == "humanizeTimestamp" || name == "toTime") {
      HEARTH_ASSIGN_OR_RETURN(double v, ConvertToFloat(a[0]));
      if (name == "humanize") return Value::String(Humanize(v));
      if (name == "humanize1024") return Value::String(Humanize1024(v));
      if (name == "humanizeDuration") return Value::String(HumanizeDuration(v));
      if (name == "humanizePercentage") return Value::String(HumanizePercentage(v));
      if (name == "humanizeTimestamp") {
        HEARTH_ASSIGN_OR_RETURN(std::string s, HumanizeTimestamp(v));
        return Value::String(std::move(s));
      }
      // toTime
      if (std::isnan(v) || std::isinf(v)) return InvalidArgument("value is NaN or Inf");
      double ns = v * 1e9;
      if (ns > static_cast<double>(std::numeric_limits<int64_t>::max()) ||
          ns < static_cast<double>(std::numeric_limits<int64_t>::min())) {
        return InvalidArgument(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            tmpl::GoFormatFloat(v, 'g', -1));
      }
      return Value::Time(static_cast<int64_t>(ns) / 1'000'000);
    }
    if (name == "pathPrefix") {
      // The path of the external URL.
      std::string_view u = env_.external_url;
      size_t scheme = u.find("://");
      size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
      size_t slash = u.find('/', start);
      if (slash == std::string_view::npos) return Value::String("");
      std::string_view path = u.substr(slash);
      size_t q = path.find_first_of("?#");
      return Value::String(std::string(path.substr(0, q)));
    }
    if (name == "externalURL") return Value::String(env_.external_url);
    if (name == "parseDuration") {
      auto d = ParseDuration(a[0].s);
      if (!d.ok()) return d.status();
      return Value::Float(static_cast<double>(*d) / 1000.0);
    }
    return InvalidArgument("function {} not implemented", name);
  }

  Result<Value> Index(const std::vector<Value>& a) {
    Value item = a[0];
    if (item.kind == Kind::kNil) return InvalidArgument("index of untyped nil");
    for (size_t k = 1; k < a.size(); ++k) {
      const Value& idx = a[k];
      switch (item.kind) {
        case Kind::kSlice:
        case Kind::kString: {
          if (idx.kind != Kind::kInt) {
            if (idx.kind == Kind::kNil) return InvalidArgument("cannot index slice/array with nil");
            return InvalidArgument("cannot index slice/array with type {}", tmpl::TypeName(idx));
          }
          size_t len = item.kind == Kind::kString ? item.s.size() : item.slice->items.size();
          if (idx.i < 0 || static_cast<uint64_t>(idx.i) >= len) {
            return InvalidArgument("index out of range: {}", idx.i);
          }
          if (item.kind == Kind::kString) {
            item = Value::Int(static_cast<unsigned char>(item.s[static_cast<size_t>(idx.i)]));
          } else {
            item = item.slice->items[static_cast<size_t>(idx.i)];
          }
          break;
        }
        case Kind::kStringMap: {
          if (idx.kind != Kind::kString) {
            return InvalidArgument("value has type {}; should be string", tmpl::TypeName(idx));
          }
          auto it = item.smap->find(idx.s);
          item = Value::String(it == item.smap->end() ? std::string() : it->second);
          break;
        }
        case Kind::kMap: {
          if (idx.kind != Kind::kString) {
            return InvalidArgument("value has type {}; should be string", tmpl::TypeName(idx));
          }
          auto it = item.map->find(idx.s);
          item = it == item.map->end() ? Value::Nil() : it->second;
          break;
        }
        case Kind::kNil:
          return InvalidArgument("index of nil pointer");
        default:
          return InvalidArgument("can't index item of type {}", tmpl::TypeName(item));
      }
    }
    return item;
  }

  Result<Value> Slice(const std::vector<Value>& a) {
    const Value& item = a[0];
    if (item.kind == Kind::kNil) return InvalidArgument("slice of untyped nil");
    if (a.size() > 4) return InvalidArgument("too many slice indexes: {}", a.size() - 1);
    size_t len;
    if (item.kind == Kind::kString) {
      if (a.size() == 4) return InvalidArgument("cannot 3-index slice a string");
      len = item.s.size();
    } else if (item.kind == Kind::kSlice) {
      len = item.slice->items.size();
    } else {
      return InvalidArgument("can't slice item of type {}", tmpl::TypeName(item));
    }
    std::vector<size_t> idx = {0, len};
    for (size_t k = 1; k < a.size() && k <= 2; ++k) {
      if (a[k].kind != Kind::kInt) {
        return InvalidArgument("cannot index slice/array with type {}", tmpl::TypeName(a[k]));
      }
      if (a[k].i < 0 || static_cast<uint64_t>(a[k].i) > len) {
        return InvalidArgument("index out of range: {}", a[k].i);
      }
      idx[k - 1] = static_cast<size_t>(a[k].i);
    }
    if (idx[0] > idx[1]) return InvalidArgument("invalid slice index: {} > {}", idx[0], idx[1]);
    if (item.kind == Kind::kString) return Value::String(item.s.substr(idx[0], idx[1] - idx[0]));
    auto s = std::make_shared<tmpl::SliceData>();
    s->type_name = item.slice->type_name;
    s->items.assign(item.slice->items.begin() + static_cast<ptrdiff_t>(idx[0]),
                    item.slice->items.begin() + static_cast<ptrdiff_t>(idx[1]));
    return Value::Slice(std::move(s));
  }

  const Tree& tree_;
  const TemplateEnv& env_;
  std::vector<std::pair<std::string, Value>> vars_;
  std::string out_;
  int64_t steps_ = 0;
};

}  // namespace

namespace tmpl {
bool IsKnownFunction(std::string_view name) { return FindFunction(name) != nullptr; }
}  // namespace tmpl

// ---- Template ----

struct Template::Impl {
  std::unique_ptr<Tree> tree;
  std::string text;
  std::string name;
  bool constant = false;
};

Template::Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::Template(const Template&) = default;
Template& Template::operator=(const Template&) = default;
Template::~Template() = default;

Result<Template> Template::Parse(std::string_view text, std::string_view name) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  impl->name = std::string(name);
  impl->constant = text.find("{{") == std::string_view::npos;
  HEARTH_ASSIGN_OR_RETURN(impl->tree, tmpl::ParseTree(text, name, AlertVariables()));
  impl->tree->first_line_offset = static_cast<int>(kAlertDefs.size());
  return Template(std::move(impl));
}

bool Template::IsConstant() const { return impl_->constant; }
const std::string& Template::text() const { return impl_->text; }
const std::string& Template::name() const { return impl_->name; }

struct TemplateInput::Impl {
  Value root;
  std::vector<std::pair<std::string, Value>> vars;
};

TemplateInput::TemplateInput(const AlertTemplateData& data) {
  auto impl = std::make_shared<Impl>();
  auto root = std::make_shared<tmpl::StructData>();
  root->type_name =
      "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; "
      "Value interface {} }";
  Value labels = MakeStringMap(data.labels);
  Value external = MakeStringMap(data.external_labels);
  Value url = Value::String(data.external_url);
  Value value = Value::Float(data.value);
  root->fields = {{"Labels", labels}, {"ExternalLabels", external}, {"ExternalURL", url},
                  {"Value", value}};
  impl->root = Value::Struct(std::move(root));
  impl->vars = {{"$labels", labels},
                {"$externalLabels", external},
                {"$externalURL", url},
                {"$value", value}};
  impl_ = std::move(impl);
}

Result<std::string> Template::Execute(const TemplateInput& input, const TemplateEnv& env) const {
  if (impl_->constant) return impl_->text;
  Exec exec(*impl_->tree, env);
  try {
    return exec.Run(input.impl().root, input.impl().vars);
  } catch (const ExecError& e) {
    return Status(StatusCode::kExecution, e.msg);
  }
}

Result<std::string> Template::Execute(const AlertTemplateData& data, const TemplateEnv& env) const {
  if (impl_->constant) return impl_->text;
  return Execute(TemplateInput(data), env);
}

std::string ExpandAlertTemplate(const Template& t, const TemplateInput& input,
                                const TemplateEnv& env) {
  if (t.IsConstant()) return t.text();
  auto r = t.Execute(input, env);
  if (r.ok()) return std::move(r).value();
  return fmt::format("<error expanding template: error executing template {}: {}>", t.name(),
                     r.status().message());
}

std::string ExpandAlertTemplate(const Template& t, const AlertTemplateData& data,
                                const TemplateEnv& env) {
  if (t.IsConstant()) return t.text();
  return ExpandAlertTemplate(t, TemplateInput(data), env);
}

// ---- Humanize ----

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Sprintf4g(v);
  if (std::fabs(v) >= 1) {
    std::string_view prefix;
    for (std::string_view p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return Sprintf4g(v) + std::string(prefix);
  }
  std::string_view prefix;
  for (std::string_view p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Sprintf4g(v) + std::string(prefix);
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Sprintf4g(v);
  std::string_view prefix;
  for (std::string_view p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return Sprintf4g(v) + std::string(prefix);
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return Sprintf4g(v);
  if (v == 0) return Sprintf4g(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go converts with int64(v); values beyond int64 are saturated here instead of wrapping.
    int64_t duration = v >= 9.2e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(v);
    int64_t seconds = duration % 60;
    int64_t minutes = (duration / 60) % 60;
    int64_t hours = (duration / 60 / 60) % 24;
    int64_t days = duration / 60 / 60 / 24;
    if (days != 0) return fmt::format("{}{}d {}h {}m {}s", sign, days, hours, minutes, seconds);
    if (hours != 0) return fmt::format("{}{}h {}m {}s", sign, hours, minutes, seconds);
    if (minutes != 0) return fmt::format("{}{}m {}s", sign, minutes, seconds);
    return sign + Sprintf4g(v) + "s";
  }
  std::string_view prefix;
  for (std::string_view p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Sprintf4g(v) + std::string(prefix) + "s";
}

std::string HumanizePercentage(double v) { return Sprintf4g(v * 100) + "%"; }

Result<std::string> HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return Sprintf4g(v);
  double ns = v * 1e9;
  if (ns >= 9223372036854775808.0 || ns < -9223372036854775808.0) {
    return InvalidArgument(
        "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
        tmpl::GoFormatFloat(v, 'g', -1));
  }
  // model.TimeFromUnixNano: milliseconds, truncated toward zero.
  int64_t ms = static_cast<int64_t>(ns) / 1'000'000;
  return tmpl::GoTimeString(ms);
}

// ---- Links ----

std::string QueryEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string TableLinkForExpression(std::string_view expr) {
  return "/graph?g0.expr=" + QueryEscape(expr) + "&g0.tab=1";
}

std::string GraphLinkForExpression(std::string_view expr) {
  return "/graph?g0.expr=" + QueryEscape(expr) + "&g0.tab=0";
}

}  // namespace hearth::rules
