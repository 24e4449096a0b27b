#include "model/relabel.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <forward_list>
#include <map>

#include <re2/re2.h>

#include "model/strutil.h"

namespace hearth {

// ---- Regex ----

struct RelabelRegex::Impl {
  std::string pattern;
  std::unique_ptr<RE2> re;
  int groups = 0;  // capturing groups, not counting group 0
  std::map<std::string, int> named;
  // Fast paths that skip RE2 for Matches(): the default "(.*)" / ".*" match everything; a
  // pattern without metacharacters matches only itself.
  enum class Fast { kNone, kAny, kLiteral } fast = Fast::kNone;
  bool is_default = false;
  // Every match starts with this literal ("" if unknown): a cheap reject before RE2.
  std::string prefix;
};

namespace {

bool IsRegexMeta(char c) {
  switch (c) {
    case '\\': case '.': case '+': case '*': case '?': case '(': case ')': case '|':
    case '[': case ']': case '{': case '}': case '^': case '$':
      return true;
    default:
      return false;
  }
}

// Go (1.22+) accepts `(?<name>re)` as well as `(?P<name>re)`; the RE2 of Debian 12 only the
// latter. Rewrites the former outside character classes and escapes.
std::string NormalizeNamedGroups(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 4);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out += c;
      out += p[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == '(' && p.substr(i).starts_with("(?<") && i + 3 < p.size() && p[i + 3] != '=' &&
        p[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

Result<std::shared_ptr<const RelabelRegex::Impl>> Compile(std::string_view pattern) {
  auto impl = std::make_shared<RelabelRegex::Impl>();
  impl->pattern = std::string(pattern);
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  impl->re = std::make_unique<RE2>("^(?s:" + NormalizeNamedGroups(pattern) + ")$", opts);
  if (!impl->re->ok()) {
    return InvalidArgument("error parsing regexp: {}", impl->re->error());
  }
  impl->groups = impl->re->NumberOfCapturingGroups();
  for (const auto& [name, index] : impl->re->NamedCapturingGroups()) impl->named[name] = index;
  if (pattern == "(.*)" || pattern == ".*") {
    impl->fast = RelabelRegex::Impl::Fast::kAny;
  } else if (std::none_of(pattern.begin(), pattern.end(), IsRegexMeta)) {
    impl->fast = RelabelRegex::Impl::Fast::kLiteral;
  } else if (pattern.find('|') == std::string_view::npos) {
    // Conservative literal prefix: none with an alternation anywhere; a quantified last
    // character is not part of it.
    size_t i = 0;
    while (i < pattern.size() && !IsRegexMeta(pattern[i])) ++i;
    if (i > 0 && i < pattern.size() &&
        (pattern[i] == '*' || pattern[i] == '?' || pattern[i] == '{' || pattern[i] == '+')) {
      --i;
    }
    impl->prefix = std::string(pattern.substr(0, i));
  }
  return std::shared_ptr<const RelabelRegex::Impl>(std::move(impl));
}

const std::shared_ptr<const RelabelRegex::Impl>& DefaultRegex() {
  // A constant, built once: every default-constructed RelabelRegex shares it.
  static const std::shared_ptr<const RelabelRegex::Impl> kDefault = [] {
    auto r = Compile("(.*)");
    auto impl = std::const_pointer_cast<RelabelRegex::Impl>(r.value());
    impl->is_default = true;
    return std::shared_ptr<const RelabelRegex::Impl>(impl);
  }();
  return kDefault;
}

bool IsNameByte(unsigned char c) {
  // Go's extract() takes letters, digits and '_' (Unicode letters included: every non-ASCII
  // byte is taken as part of a letter here).
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c >= 0x80;
}

}  // namespace

RelabelRegex::RelabelRegex() : impl_(DefaultRegex()) {}

Result<RelabelRegex> RelabelRegex::Make(std::string_view pattern) {
  if (pattern == "(.*)") return RelabelRegex();
  auto impl = Compile(pattern);
  if (!impl.ok()) return impl.status();
  return RelabelRegex(std::move(impl).value());
}

const std::string& RelabelRegex::pattern() const { return impl_->pattern; }
bool RelabelRegex::IsDefault() const { return impl_->is_default; }

bool RelabelRegex::Matches(std::string_view s) const {
  switch (impl_->fast) {
    case Impl::Fast::kAny:
      return true;
    case Impl::Fast::kLiteral:
      return s == impl_->pattern;
    case Impl::Fast::kNone:
      break;
  }
  if (!s.starts_with(impl_->prefix)) return false;
  return impl_->re->Match(s, 0, s.size(), RE2::ANCHOR_BOTH, nullptr, 0);
}

bool RelabelRegex::Match(std::string_view s, std::vector<std::string_view>* groups) const {
  const int n = impl_->groups + 1;
  groups->assign(static_cast<size_t>(n), std::string_view());
  if (impl_->is_default) {
    (*groups)[0] = s;
    (*groups)[1] = s;
    return true;
  }
  if (!s.starts_with(impl_->prefix)) return false;
  // RE2 wants an array of absl/re2 string pieces; std::string_view is its StringPiece here.
  std::array<re2::StringPiece, 16> small;
  std::vector<re2::StringPiece> big;
  re2::StringPiece* sub = small.data();
  if (n > static_cast<int>(small.size())) {
    big.resize(static_cast<size_t>(n));
    sub = big.data();
  }
  if (!impl_->re->Match(s, 0, s.size(), RE2::ANCHOR_BOTH, sub, n)) return false;
  for (int i = 0; i < n; ++i) {
    if (sub[i].data() != nullptr) (*groups)[static_cast<size_t>(i)] = {sub[i].data(), sub[i].size()};
  }
  return true;
}

void RelabelRegex::Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
                          std::string* out) const {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out->append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out->push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    // Go's extract(): `name` or `{name}`; a malformed reference keeps the '$' as text.
    bool brace = !tmpl.empty() && tmpl[0] == '{';
    size_t start = brace ? 1 : 0;
    size_t i = start;
    while (i < tmpl.size() && IsNameByte(static_cast<unsigned char>(tmpl[i]))) ++i;
    if (i == start || (brace && (i >= tmpl.size() || tmpl[i] != '}'))) {
      out->push_back('$');
      continue;
    }
    std::string_view name = tmpl.substr(start, i - start);
    tmpl.remove_prefix(brace ? i + 1 : i);
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100'000'000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;  // no leading zeros
    if (num < 0) {
      auto it = impl_->named.find(std::string(name));
      if (it == impl_->named.end()) continue;
      num = it->second;
    }
    if (num < static_cast<int>(groups.size())) out->append(groups[static_cast<size_t>(num)]);
  }
  out->append(tmpl);
}

// ---- Actions ----

std::string_view RelabelActionName(RelabelAction a) {
  switch (a) {
    case RelabelAction::kReplace: return "replace";
    case RelabelAction::kKeep: return "keep";
    case RelabelAction::kDrop: return "drop";
    case RelabelAction::kKeepEqual: return "keepequal";
    case RelabelAction::kDropEqual: return "dropequal";
    case RelabelAction::kHashMod: return "hashmod";
    case RelabelAction::kLabelMap: return "labelmap";
    case RelabelAction::kLabelDrop: return "labeldrop";
    case RelabelAction::kLabelKeep: return "labelkeep";
    case RelabelAction::kLowercase: return "lowercase";
    case RelabelAction::kUppercase: return "uppercase";
  }
  return "?";
}

Result<RelabelAction> ParseRelabelAction(std::string_view s) {
  std::string lower = ToLowerAscii(s);
  for (int i = 0; i <= static_cast<int>(RelabelAction::kUppercase); ++i) {
    auto a = static_cast<RelabelAction>(i);
    if (RelabelActionName(a) == lower) return a;
  }
  return InvalidArgument("unknown relabel action {}", QuoteGo(s));
}

namespace {

bool IsValidLabelName(std::string_view name) { return !name.empty() && IsValidUtf8(name); }

bool HasVar(std::string_view s) { return s.find('$') != std::string_view::npos; }

}  // namespace

Status ValidateRelabelConfig(const RelabelConfig& c) {
  using A = RelabelAction;
  const A a = c.action;
  const std::string_view action = RelabelActionName(a);
  const RelabelConfig defaults;
  if (a == A::kHashMod && c.modulus == 0) {
    return InvalidArgument("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target = a == A::kReplace || a == A::kHashMod || a == A::kLowercase ||
                            a == A::kUppercase || a == A::kKeepEqual || a == A::kDropEqual;
  if (needs_target && c.target_label.empty()) {
    return InvalidArgument("relabel configuration for {} action requires 'target_label' value",
                           action);
  }
  // With UTF-8 names a target with $-variables only needs to be a valid name itself.
  if ((a == A::kReplace || a == A::kHashMod || a == A::kLowercase || a == A::kUppercase ||
       a == A::kKeepEqual || a == A::kDropEqual) &&
      !IsValidLabelName(c.target_label)) {
    return InvalidArgument("{} is invalid 'target_label' for {} action", QuoteGo(c.target_label),
                           action);
  }
  if ((a == A::kLowercase || a == A::kUppercase || a == A::kKeepEqual || a == A::kDropEqual) &&
      c.replacement != defaults.replacement) {
    return InvalidArgument("'replacement' can not be set for {} action", action);
  }
  if (a == A::kLabelMap && !IsValidLabelName(c.replacement)) {
    return InvalidArgument("{} is invalid 'replacement' for {} action", QuoteGo(c.replacement),
                           action);
  }
  if (a == A::kDropEqual || a == A::kKeepEqual) {
    if (!(c.regex == defaults.regex) || c.modulus != 0 || c.separator != defaults.separator ||
        c.replacement != defaults.replacement) {
      return InvalidArgument(
          "{} action requires only 'source_labels' and `target_label`, and no other fields",
          action);
    }
  }
  if (a == A::kLabelDrop || a == A::kLabelKeep) {
    if (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != 0 ||
        c.separator != defaults.separator || c.replacement != defaults.replacement) {
      return InvalidArgument("{} action requires only 'regex', and no other fields", action);
    }
  }
  return Status::Ok();
}

namespace {

// A builder over views: the input Labels' bytes stay where they are and only the values that
// relabeling writes are copied (into `arena_`). Names are kept sorted, so lookups are binary
// searches. This is the Relabel(cfgs, Labels) fast path (metric_relabel_configs per new series,
// target relabeling per target).
class ViewBuilder {
 public:
  // Views handed out by ForEach stay valid across Set/Del (they point into the input or arena).
  static constexpr bool kStableViews = true;

  explicit ViewBuilder(const Labels& base) {
    kv_.reserve(base.size() + 4);
    for (const Label& l : base) kv_.emplace_back(l.name, l.value);
  }

  std::string_view Get(std::string_view name) const {
    auto it = Find(name);
    return it != kv_.end() && it->first == name ? it->second : std::string_view();
  }
  void Set(std::string_view name, std::string_view value) {
    if (value.empty()) {
      Del(name);
      return;
    }
    std::string_view v = Own(value);
    auto it = Find(name);
    if (it != kv_.end() && it->first == name) {
      it->second = v;
    } else {
      kv_.insert(it, {Own(name), v});
    }
  }
  void Del(std::string_view name) {
    auto it = Find(name);
    if (it != kv_.end() && it->first == name) kv_.erase(it);
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [n, v] : kv_) f(n, v);
  }
  Labels Build() const {
    // The packed form of model/labels.h: (varint len, name, varint len, value)*, sorted.
    std::string packed;
    size_t bytes = 0;
    for (const auto& [n, v] : kv_) bytes += n.size() + v.size() + 4;
    packed.reserve(bytes);
    for (const auto& [n, v] : kv_) {
      if (n.empty()) continue;
      PutVarint(&packed, n.size());
      packed += n;
      PutVarint(&packed, v.size());
      packed += v;
    }
    return Labels::FromPacked(packed);
  }

 private:
  using Vec = std::vector<std::pair<std::string_view, std::string_view>>;
  Vec::iterator Find(std::string_view name) {
    return std::lower_bound(kv_.begin(), kv_.end(), name,
                            [](const auto& p, std::string_view n) { return p.first < n; });
  }
  Vec::const_iterator Find(std::string_view name) const {
    return std::lower_bound(kv_.begin(), kv_.end(), name,
                            [](const auto& p, std::string_view n) { return p.first < n; });
  }
  std::string_view Own(std::string_view s) { return arena_.emplace_front(s); }
  static void PutVarint(std::string* out, size_t v) {
    while (v >= 0x80) {
      out->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out->push_back(static_cast<char>(v));
  }

  Vec kv_;
  std::forward_list<std::string> arena_;  // stable addresses; no allocation until used
};


// Unicode-aware case mapping for the common alphabets (Go's strings.ToLower/ToUpper map every
// cased letter): ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. Other code points and
// invalid UTF-8 bytes are copied unchanged.
uint32_t MapCase(uint32_t c, bool upper) {
  if (!upper) {
    if (c == 0x130) return 'i';  // İ
    if (c >= 'A' && c <= 'Z') return c + 32;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    if (c >= 0x100 && c <= 0x137 && c % 2 == 0) return c + 1;
    if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
    if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E && c % 2 == 1) return c + 1;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
  }
  if (c == 0x131) return 'I';  // ı
  if (c == 0xB5) return 0x39C;  // µ
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x101 && c <= 0x137 && c % 2 == 1) return c - 1;
  if (c >= 0x13A && c <= 0x148 && c % 2 == 0) return c - 1;
  if (c >= 0x14B && c <= 0x177 && c % 2 == 1) return c - 1;
  if (c >= 0x17A && c <= 0x17E && c % 2 == 0) return c - 1;
  if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;  // final sigma
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

std::string CaseMap(std::string_view in, bool upper) {
  std::string out;
  out.reserve(in.size());
  const auto* u = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  while (i < in.size()) {
    unsigned char b = u[i];
    if (b < 0x80) {
      out += static_cast<char>(upper ? ((b >= 'a' && b <= 'z') ? b - 32 : b)
                                     : ((b >= 'A' && b <= 'Z') ? b + 32 : b));
      ++i;
      continue;
    }
    // Two-byte sequences cover every alphabet mapped above.
    if ((b & 0xE0) == 0xC0 && i + 1 < in.size() && (u[i + 1] & 0xC0) == 0x80) {
      uint32_t c = (uint32_t(b & 0x1F) << 6) | (u[i + 1] & 0x3F);
      if (c >= 0x80) {
        AppendUtf8(&out, MapCase(c, upper));
        i += 2;
        continue;
      }
    }
    out += static_cast<char>(b);
    ++i;
  }
  return out;
}

// One relabel step. Scratch buffers live in `s` so a run over many configs allocates little.
struct Scratch {
  std::string joined;
  std::vector<std::string_view> groups;
  std::string target;
  std::string value;
  std::vector<std::pair<std::string, std::string>> snapshot;
  std::vector<std::pair<std::string_view, std::string_view>> view_snapshot;
};

template <typename Builder>
constexpr bool StableViews() {
  if constexpr (requires { Builder::kStableViews; }) {
    return Builder::kStableViews;
  } else {
    return false;
  }
}

template <typename Builder>
bool Step(const RelabelConfig& cfg, Builder& lb, Scratch& s) {
  using A = RelabelAction;
  // The joined source values. A single source label is viewed in place when the action does
  // not write before reading it (every action below copies what it writes first).
  std::string_view val;
  if (cfg.source_labels.size() == 1) {
    val = lb.Get(cfg.source_labels[0]);
  } else {
    s.joined.clear();
    for (size_t i = 0; i < cfg.source_labels.size(); ++i) {
      if (i > 0) s.joined += cfg.separator;
      s.joined += lb.Get(cfg.source_labels[i]);
    }
    val = s.joined;
  }

  switch (cfg.action) {
    case A::kDrop:
      return !cfg.regex.Matches(val);
    case A::kKeep:
      return cfg.regex.Matches(val);
    case A::kDropEqual:
      return lb.Get(cfg.target_label) != val;
    case A::kKeepEqual:
      return lb.Get(cfg.target_label) == val;
    case A::kReplace: {
      if (val.empty() && cfg.regex.IsDefault() && !HasVar(cfg.target_label) &&
          !HasVar(cfg.replacement)) {
        lb.Set(cfg.target_label, cfg.replacement);
        return true;
      }
      if (!cfg.regex.Match(val, &s.groups)) return true;
      s.target.clear();
      cfg.regex.Expand(cfg.target_label, s.groups, &s.target);
      if (!IsValidLabelName(s.target)) return true;
      s.value.clear();
      cfg.regex.Expand(cfg.replacement, s.groups, &s.value);
      if (s.value.empty()) {
        lb.Del(s.target);
      } else {
        lb.Set(s.target, s.value);
      }
      return true;
    }
    case A::kLowercase:
      s.value = CaseMap(val, /*upper=*/false);
      lb.Set(cfg.target_label, s.value);
      return true;
    case A::kUppercase:
      s.value = CaseMap(val, /*upper=*/true);
      lb.Set(cfg.target_label, s.value);
      return true;
    case A::kHashMod: {
      uint8_t digest[16];
      Md5(val, digest);
      uint64_t h = 0;
      for (int i = 8; i < 16; ++i) h = (h << 8) | digest[i];  // the last 8 bytes, big-endian
      lb.Set(cfg.target_label, std::to_string(h % cfg.modulus));
      return true;
    }
    case A::kLabelMap: {
      // Iterate over a snapshot: the loop adds labels. The DFA answers most names; submatches
      // are extracted only for those that match.
      auto map_one = [&](std::string_view name, std::string_view value) {
        if (!cfg.regex.Matches(name) || !cfg.regex.Match(name, &s.groups)) return;
        s.target.clear();
        cfg.regex.Expand(cfg.replacement, s.groups, &s.target);
        lb.Set(s.target, value);
      };
      if constexpr (StableViews<Builder>()) {
        s.view_snapshot.clear();
        lb.ForEach([&](std::string_view n, std::string_view v) { s.view_snapshot.emplace_back(n, v); });
        for (const auto& [name, value] : s.view_snapshot) map_one(name, value);
      } else {
        s.snapshot.clear();
        lb.ForEach([&](std::string_view n, std::string_view v) { s.snapshot.emplace_back(n, v); });
        for (const auto& [name, value] : s.snapshot) map_one(name, value);
      }
      return true;
    }
    case A::kLabelDrop:
    case A::kLabelKeep: {
      const bool drop_matching = cfg.action == A::kLabelDrop;
      s.snapshot.clear();
      lb.ForEach([&](std::string_view n, std::string_view) {
        if (cfg.regex.Matches(n) == drop_matching) s.snapshot.emplace_back(n, "");
      });
      for (const auto& p : s.snapshot) lb.Del(p.first);  // few: copies are cheap here
      return true;
    }
  }
  return true;
}


}  // namespace

bool Relabel(std::span<const RelabelConfig> cfgs, LabelsBuilder& lb) {
  Scratch s;
  for (const RelabelConfig& cfg : cfgs) {
    if (!Step(cfg, lb, s)) return false;
  }
  return true;
}

std::optional<Labels> Relabel(std::span<const RelabelConfig> cfgs, const Labels& in) {
  if (cfgs.empty()) return in;
  ViewBuilder lb(in);
  Scratch s;
  for (const RelabelConfig& cfg : cfgs) {
    if (!Step(cfg, lb, s)) return std::nullopt;
  }
  return lb.Build();
}

// ---- MD5 (RFC 1321) ----

namespace {

constexpr uint32_t kMd5K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
    0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
    0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
    0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
    0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391};
constexpr int kMd5S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                           5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

inline uint32_t Rotl(uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

void Md5Block(const uint8_t* p, uint32_t st[4]) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) {
    m[i] = uint32_t(p[i * 4]) | uint32_t(p[i * 4 + 1]) << 8 | uint32_t(p[i * 4 + 2]) << 16 |
           uint32_t(p[i * 4 + 3]) << 24;
  }
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    uint32_t tmp = d;
    d = c;
    c = b;
    b = b + Rotl(a + f + kMd5K[i] + m[g], kMd5S[i]);
    a = tmp;
  }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
}

}  // namespace

void Md5(std::string_view data, uint8_t digest[16]) {
  uint32_t st[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  size_t full = n / 64 * 64;
  for (size_t i = 0; i < full; i += 64) Md5Block(p + i, st);
  uint8_t tail[128] = {};
  size_t rem = n - full;
  if (rem > 0) std::memcpy(tail, p + full, rem);
  tail[rem] = 0x80;
  size_t tail_len = rem + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  Md5Block(tail, st);
  if (tail_len == 128) Md5Block(tail + 64, st);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) digest[i * 4 + j] = static_cast<uint8_t>(st[i] >> (8 * j));
  }
}

}  // namespace hearth
