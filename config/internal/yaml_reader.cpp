#include "config/internal/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "config/load.h"
#include "model/duration.h"
#include "model/strutil.h"

namespace hearth::config_internal {
namespace {

bool IsPlain(const YAML::Node& n) { return n.Tag() == "?"; }

bool IsNullNode(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return true;
  if (!n.IsScalar() || !IsPlain(n)) return false;
  const std::string& s = n.Scalar();
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> ResolveBool(std::string_view s) {
  static constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true",
                                               "True", "TRUE", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "false",
                                                "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue) {
    if (s == t) return true;
  }
  for (auto f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

// YAML 1.1 integers as go-yaml resolves them: decimal, 0x hex, 0o / leading-0 octal, 0b binary,
// optional sign, '_' separators.
std::optional<int64_t> ResolveInt(std::string_view s) {
  std::string t;
  for (char c : s) {
    if (c != '_') t += c;
  }
  if (t.empty()) return std::nullopt;
  bool neg = false;
  std::string_view v = t;
  if (v[0] == '-' || v[0] == '+') {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
    base = 2;
    v.remove_prefix(2);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    base = 8;
    v.remove_prefix(2);
  } else if (v.size() > 1 && v[0] == '0') {
    base = 8;
    v.remove_prefix(1);
  }
  uint64_t acc = 0;
  for (char c : v) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (acc > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    acc = acc * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (!neg && acc > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  if (neg && acc > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - acc) : static_cast<int64_t>(acc);
}

std::optional<double> ResolveFloat(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    return HUGE_VAL;
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::nan("");
  // Plain decimal floats only (no Inf/NaN words, no hex): that is what YAML resolves as !!float.
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' ||
          c == '_')) {
      return std::nullopt;
    }
  }
  std::string t;
  for (char c : s) {
    if (c != '_') t += c;
  }
  return ParseGoFloat(t);
}

}  // namespace

std::string DescribeNode(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "!!null";
  if (n.IsSequence()) return "!!seq";
  if (n.IsMap()) return "!!map";
  const std::string& s = n.Scalar();
  std::string tag = "!!str";
  if (IsPlain(n)) {
    if (IsNullNode(n)) return "!!null";
    if (ResolveBool(s)) {
      tag = "!!bool";
    } else if (ResolveInt(s)) {
      tag = "!!int";
    } else if (ResolveFloat(s)) {
      tag = "!!float";
    }
  }
  std::string shown = s.size() > 20 ? s.substr(0, 17) + "..." : s;
  return fmt::format("{} `{}`", tag, shown);
}

Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    YamlReader r{std::string(file)};
    // e.msg is the reason alone; e.what() repeats the position in yaml-cpp's own words.
    return r.Error(e.mark, fmt::format("yaml: {}", e.msg));
  }
}

std::string YamlReader::Where(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return file_;
  if (file_.empty()) return fmt::format("{}:{}", mark.line + 1, mark.column + 1);
  return fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1);
}

Status YamlReader::Error(const YAML::Mark& mark, std::string_view msg) const {
  std::string where = Where(mark);
  if (where.empty()) return InvalidArgument("{}", msg);
  return InvalidArgument("{}: {}", where, msg);
}

Status YamlReader::Error(const YAML::Node& at, std::string_view msg) const {
  return Error(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), msg);
}

Status YamlReader::TypeError(const YAML::Node& n, std::string_view go_type) const {
  return Error(n, fmt::format("cannot unmarshal {} into {}", DescribeNode(n), go_type));
}

Status YamlReader::Fields(const YAML::Node& n, std::string_view type, const FieldFn& fn) const {
  if (IsNullNode(n)) return Status::Ok();
  if (!n.IsMap()) return TypeError(n, type);
  struct Pair {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  std::vector<Pair> pairs;
  std::vector<YAML::Node> merges;
  std::set<std::string> seen;
  for (const auto& kv : n) {
    const YAML::Node& k = kv.first;
    if (!k.IsScalar()) return TypeError(k, "string");
    const std::string& key = k.Scalar();
    if (key == "<<" && IsPlain(k)) {
      merges.push_back(kv.second);
      continue;
    }
    if (!seen.insert(key).second) {
      return Error(k, fmt::format("key {} already set in map", QuoteGo(key)));
    }
    pairs.push_back({key, k, kv.second});
  }
  // Merge keys: values from `<<: *a` (or `<<: [*a, *b]`, earlier wins) fill keys not set here.
  for (const YAML::Node& m : merges) {
    std::vector<YAML::Node> sources;
    if (m.IsMap()) {
      sources.push_back(m);
    } else if (m.IsSequence()) {
      for (const auto& s : m) sources.push_back(s);
    } else {
      return Error(m, "map merge requires map or sequence of maps as the value");
    }
    for (const YAML::Node& src : sources) {
      if (!src.IsMap()) return Error(src, "map merge requires map or sequence of maps as the value");
      for (const auto& kv : src) {
        if (!kv.first.IsScalar()) return TypeError(kv.first, "string");
        const std::string& key = kv.first.Scalar();
        if (seen.insert(key).second) pairs.push_back({key, kv.first, kv.second});
      }
    }
  }
  for (const Pair& p : pairs) {
    std::optional<Status> st = fn(p.key, p.value, p.key_node);
    if (!st.has_value()) {
      return Error(p.key_node, fmt::format("field {} not found in type {}", p.key, type));
    }
    if (!st->ok()) return *st;
  }
  return Status::Ok();
}

Status YamlReader::String(const YAML::Node& n, std::string* out) const {
  if (IsNullNode(n)) {
    out->clear();
    return Status::Ok();
  }
  if (!n.IsScalar()) return TypeError(n, "string");
  *out = n.Scalar();
  return Status::Ok();
}

Status YamlReader::Bool(const YAML::Node& n, bool* out) const {
  if (IsNullNode(n)) {
    *out = false;
    return Status::Ok();
  }
  if (n.IsScalar() && IsPlain(n)) {
    if (auto b = ResolveBool(n.Scalar())) {
      *out = *b;
      return Status::Ok();
    }
  }
  if (n.IsScalar() && n.Tag() == "tag:yaml.org,2002:bool") {
    if (auto b = ResolveBool(n.Scalar())) {
      *out = *b;
      return Status::Ok();
    }
  }
  return TypeError(n, "bool");
}

Status YamlReader::Int(const YAML::Node& n, int64_t* out) const {
  if (IsNullNode(n)) {
    *out = 0;
    return Status::Ok();
  }
  if (n.IsScalar() && IsPlain(n)) {
    if (auto v = ResolveInt(n.Scalar())) {
      *out = *v;
      return Status::Ok();
    }
  }
  return TypeError(n, "int");
}

Status YamlReader::Int(const YAML::Node& n, int* out) const {
  int64_t v = 0;
  HEARTH_RETURN_IF_ERROR(Int(n, &v));
  if (v < INT32_MIN || v > INT32_MAX) return TypeError(n, "int");
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status YamlReader::Uint(const YAML::Node& n, uint64_t* out) const {
  if (IsNullNode(n)) {
    *out = 0;
    return Status::Ok();
  }
  if (n.IsScalar() && IsPlain(n)) {
    auto v = ResolveInt(n.Scalar());
    if (v && *v >= 0) {
      *out = static_cast<uint64_t>(*v);
      return Status::Ok();
    }
    // Values above INT64_MAX (a uint64 modulus).
    if (!v) {
      if (auto u = ParseUint64(n.Scalar())) {
        *out = *u;
        return Status::Ok();
      }
    }
  }
  return TypeError(n, "uint");
}

Status YamlReader::Float(const YAML::Node& n, double* out) const {
  if (IsNullNode(n)) {
    *out = 0;
    return Status::Ok();
  }
  if (n.IsScalar() && IsPlain(n)) {
    if (auto v = ResolveInt(n.Scalar())) {
      *out = static_cast<double>(*v);
      return Status::Ok();
    }
    if (auto f = ResolveFloat(n.Scalar())) {
      *out = *f;
      return Status::Ok();
    }
  }
  return TypeError(n, "float64");
}

Status YamlReader::Duration(const YAML::Node& n, int64_t* out_ms) const {
  if (IsNullNode(n)) {
    *out_ms = 0;
    return Status::Ok();
  }
  if (!n.IsScalar()) return TypeError(n, "string");
  auto d = ParseDuration(n.Scalar());
  if (!d.ok()) return Error(n, d.status().message());
  *out_ms = *d;
  return Status::Ok();
}

Status YamlReader::Size(const YAML::Node& n, uint64_t* out) const {
  if (IsNullNode(n)) {
    *out = 0;
    return Status::Ok();
  }
  if (!n.IsScalar()) return TypeError(n, "units.Base2Bytes");
  auto b = ParseBase2Bytes(n.Scalar());
  if (!b.ok()) return Error(n, b.status().message());
  *out = *b;
  return Status::Ok();
}

Status YamlReader::Sequence(const YAML::Node& n, std::string_view type,
                            const std::function<Status(const YAML::Node& item)>& fn) const {
  if (IsNullNode(n)) return Status::Ok();
  if (!n.IsSequence()) return TypeError(n, fmt::format("[]{}", type));
  for (const auto& item : n) HEARTH_RETURN_IF_ERROR(fn(item));
  return Status::Ok();
}

Status YamlReader::StringList(const YAML::Node& n, std::vector<std::string>* out) const {
  out->clear();
  return Sequence(n, "string", [&](const YAML::Node& item) {
    std::string s;
    HEARTH_RETURN_IF_ERROR(String(item, &s));
    out->push_back(std::move(s));
    return Status::Ok();
  });
}

Status YamlReader::StringMap(const YAML::Node& n, std::map<std::string, std::string>* out) const {
  out->clear();
  if (!IsNullNode(n) && !n.IsMap()) return TypeError(n, "map[string]string");
  return Fields(n, "map[string]string",
                [&](const std::string& key, const YAML::Node& v, const YAML::Node&) {
                  std::string s;
                  Status st = String(v, &s);
                  if (st.ok()) (*out)[key] = std::move(s);
                  return std::optional<Status>(st);
                });
}

Status YamlReader::StringListMap(const YAML::Node& n,
                                 std::map<std::string, std::vector<std::string>>* out) const {
  out->clear();
  if (!IsNullNode(n) && !n.IsMap()) return TypeError(n, "url.Values");
  return Fields(n, "url.Values",
                [&](const std::string& key, const YAML::Node& v, const YAML::Node&) {
                  std::vector<std::string> list;
                  Status st = StringList(v, &list);
                  if (st.ok()) (*out)[key] = std::move(list);
                  return std::optional<Status>(st);
                });
}

Status YamlReader::LabelSet(const YAML::Node& n,
                            std::vector<std::pair<std::string, std::string>>* out) const {
  out->clear();
  if (!IsNullNode(n) && !n.IsMap()) return TypeError(n, "model.LabelSet");
  return Fields(n, "model.LabelSet",
                [&](const std::string& key, const YAML::Node& v, const YAML::Node& k) {
                  if (key.empty() || !IsValidUtf8(key)) {
                    return std::optional<Status>(
                        Error(k, fmt::format("{} is not a valid label name", QuoteGo(key))));
                  }
                  std::string s;
                  Status st = String(v, &s);
                  if (st.ok() && !IsValidUtf8(s)) {
                    st = Error(v, fmt::format("{} is not a valid label value", QuoteGo(s)));
                  }
                  if (st.ok()) out->emplace_back(key, std::move(s));
                  return std::optional<Status>(st);
                });
}

}  // namespace hearth::config_internal
