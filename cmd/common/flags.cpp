#include "cmd/common/flags.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/strutil.h"

namespace hearth::cli {

Result<int64_t> ParseByteSize(std::string_view s) {
  if (s == "0") return int64_t{0};
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  auto n = ParseInt64(s.substr(0, i));
  std::string unit = ToUpperAscii(s.substr(i));
  static const std::pair<std::string_view, int> kUnits[] = {
      {"B", 0}, {"KB", 1}, {"MB", 2}, {"GB", 3}, {"TB", 4}, {"PB", 5}, {"EB", 6}};
  if (!n) return InvalidArgument("invalid size {}", QuoteGo(s));
  for (const auto& [u, p] : kUnits) {
    if (unit == u) {
      int64_t v = *n;
      for (int k = 0; k < p; ++k) {
        if (v > (int64_t{1} << 53)) return InvalidArgument("size {} out of range", QuoteGo(s));
        v *= 1024;
      }
      return v;
    }
  }
  return InvalidArgument("invalid size {}: unknown unit", QuoteGo(s));
}

void FlagSet::Add(FlagSpec spec) { specs_.push_back(std::move(spec)); }

const FlagSpec* FlagSet::Find(std::string_view name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status FlagSet::Set(const FlagSpec& spec, std::string_view value) {
  auto invalid = [&](const Status& why) {
    return InvalidArgument("invalid value {} for flag --{}: {}", QuoteGo(value), spec.name,
                           why.message());
  };
  switch (spec.type) {
    case FlagType::kDuration:
      if (auto d = ParseDuration(value); !d.ok()) return invalid(d.status());
      break;
    case FlagType::kInt:
      if (!ParseInt64(value)) return invalid(InvalidArgument("not an integer"));
      break;
    case FlagType::kFloat:
      if (!ParseGoFloat(value)) return invalid(InvalidArgument("not a number"));
      break;
    case FlagType::kBytes:
      if (auto b = ParseByteSize(value); !b.ok()) return invalid(b.status());
      break;
    case FlagType::kBool:
      if (value != "true" && value != "false") return invalid(InvalidArgument("not a boolean"));
      break;
    case FlagType::kString:
      break;
  }
  auto& slot = values_[spec.name];
  if (!spec.repeatable) slot.clear();
  slot.emplace_back(value);
  return Status::Ok();
}

Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      positional_.insert(positional_.end(), args.begin() + static_cast<ptrdiff_t>(i) + 1,
                         args.end());
      break;
    }
    if (a.size() < 3 || a.substr(0, 2) != "--") {
      if (a.size() >= 2 && a[0] == '-' && a != "-") {
        return InvalidArgument("unknown short flag '{}'", a);
      }
      positional_.emplace_back(a);
      continue;
    }
    std::string_view body = a.substr(2);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    const FlagSpec* spec = Find(name);
    if (spec == nullptr && eq == std::string_view::npos && name.substr(0, 3) == "no-") {
      const FlagSpec* neg = Find(name.substr(3));
      if (neg != nullptr && neg->type == FlagType::kBool) {
        HEARTH_RETURN_IF_ERROR(Set(*neg, "false"));
        continue;
      }
    }
    if (spec == nullptr) return InvalidArgument("unknown long flag '--{}'", name);
    if (eq != std::string_view::npos) {
      HEARTH_RETURN_IF_ERROR(Set(*spec, body.substr(eq + 1)));
    } else if (spec->type == FlagType::kBool) {
      HEARTH_RETURN_IF_ERROR(Set(*spec, "true"));
    } else {
      if (i + 1 >= args.size()) return InvalidArgument("expected argument for flag '--{}'", name);
      HEARTH_RETURN_IF_ERROR(Set(*spec, args[++i]));
    }
  }
  return Status::Ok();
}

bool FlagSet::IsSet(std::string_view name) const { return values_.count(name) > 0; }

std::string FlagSet::GetString(std::string_view name) const {
  if (auto it = values_.find(name); it != values_.end() && !it->second.empty()) {
    return it->second.back();
  }
  const FlagSpec* s = Find(name);
  return s ? s->default_value : std::string();
}

std::vector<std::string> FlagSet::GetStrings(std::string_view name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  const FlagSpec* s = Find(name);
  if (s == nullptr || s->default_value.empty()) return {};
  return {s->default_value};
}

bool FlagSet::GetBool(std::string_view name) const { return GetString(name) == "true"; }

int64_t FlagSet::GetDurationMs(std::string_view name) const {
  auto d = ParseDuration(GetString(name));
  return d.ok() ? *d : 0;
}

int64_t FlagSet::GetInt(std::string_view name) const {
  return ParseInt64(GetString(name)).value_or(0);
}

double FlagSet::GetFloat(std::string_view name) const {
  return ParseGoFloat(GetString(name)).value_or(0);
}

int64_t FlagSet::GetBytes(std::string_view name) const {
  auto b = ParseByteSize(GetString(name));
  return b.ok() ? *b : 0;
}

std::map<std::string, std::string> FlagSet::Values() const {
  std::map<std::string, std::string> out;
  for (const auto& s : specs_) {
    auto all = GetStrings(s.name);
    std::string joined;
    for (size_t i = 0; i < all.size(); ++i) {
      if (i > 0) joined += ',';
      joined += all[i];
    }
    out[s.name] = s.repeatable ? joined : GetString(s.name);
  }
  return out;
}

std::string FlagSet::Usage(std::string_view summary) const {
  std::string out = fmt::format("usage: {} [<flags>]\n\n{}\n\nFlags:\n", program_, summary);
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("-h, --[no-]help", "Show context-sensitive help.");
  for (const auto& s : specs_) {
    std::string left = s.type == FlagType::kBool ? "    --[no-]" + s.name : "    --" + s.name;
    if (s.type != FlagType::kBool) {
      left += "=" + (s.placeholder.empty() ? std::string("<value>") : s.placeholder);
    }
    std::string right = s.help;
    if (!s.default_value.empty() && s.type != FlagType::kBool) {
      right += fmt::format(" Default: {}", s.default_value);
    } else if (s.type == FlagType::kBool && s.default_value == "true") {
      right += " Default: true";
    }
    if (s.repeatable) right += " Can be repeated.";
    rows.emplace_back(std::move(left), std::move(right));
  }
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  for (const auto& [l, r] : rows) {
    out += fmt::format("  {:<{}}  {}\n", l, width, r);
  }
  return out;
}

}  // namespace hearth::cli
