#include "scraper/target.h"

#include <functional>
#include <map>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/relabel.h"
#include "model/strutil.h"

namespace hearth::scraper {

namespace {

constexpr std::string_view kAddress = "__address__";
constexpr std::string_view kScheme = "__scheme__";
constexpr std::string_view kMetricsPath = "__metrics_path__";
constexpr std::string_view kInterval = "__scrape_interval__";
constexpr std::string_view kTimeout = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~';
    if (keep) {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

uint64_t Fnv1a(std::string_view s, uint64_t h = 14695981039346656037ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

Labels Target::TargetLabels() const {
  LabelsBuilder b;
  for (const Label& l : labels) {
    if (!l.name.starts_with("__")) b.Set(l.name, l.value);
  }
  return b.Build();
}

Result<std::optional<Target>> MakeTarget(const ScrapeConfig& cfg, const Labels& target_labels,
                                         const Labels& group_labels) {
  LabelsBuilder lb(target_labels);
  for (const Label& l : group_labels) {
    if (!lb.Has(l.name)) lb.Set(l.name, l.value);
  }
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (!lb.Has(name)) lb.Set(name, value);
  };
  set_default("job", cfg.job_name);
  set_default(kInterval, FormatDuration(cfg.scrape_interval_ms));
  set_default(kTimeout, FormatDuration(cfg.scrape_timeout_ms));
  set_default(kMetricsPath, cfg.metrics_path);
  set_default(kScheme, cfg.scheme);
  for (const auto& [k, v] : cfg.params) {
    if (!v.empty()) set_default(std::string(kParamPrefix) + k, v[0]);
  }
  Target t;
  t.discovered_labels = lb.Build();
  if (!Relabel(cfg.relabel_configs, lb)) return std::optional<Target>();
  std::string addr(lb.Get(kAddress));
  if (addr.empty()) return InvalidArgument("no address");
  if (addr.find('/') != std::string::npos) {
    return InvalidArgument("{} is not a valid hostname", QuoteGo(addr));
  }
  std::string interval(lb.Get(kInterval)), timeout(lb.Get(kTimeout));
  auto iv = ParseDuration(interval);
  if (!iv.ok()) return InvalidArgument("error parsing scrape interval: {}", iv.status().message());
  if (*iv == 0) return InvalidArgument("scrape interval cannot be 0");
  auto to = ParseDuration(timeout);
  if (!to.ok()) return InvalidArgument("error parsing scrape timeout: {}", to.status().message());
  if (*to == 0) return InvalidArgument("scrape timeout cannot be 0");
  if (*to > *iv) {
    return InvalidArgument("scrape timeout cannot be greater than scrape interval ({} > {})",
                           QuoteGo(timeout), QuoteGo(interval));
  }
  std::vector<std::string> meta;
  lb.ForEach([&](std::string_view n, std::string_view) {
    if (n.starts_with(kMetaPrefix)) meta.emplace_back(n);
  });
  for (const auto& n : meta) lb.Del(n);
  if (!lb.Has("instance")) lb.Set("instance", addr);
  t.labels = lb.Build();
  for (const Label& l : t.labels) {
    if (!IsValidUtf8(l.value)) {
      return InvalidArgument("invalid label value for {}: {}", QuoteGo(l.name), QuoteGo(l.value));
    }
  }
  t.interval_ms = *iv;
  t.timeout_ms = *to;

  // URL: config params overridden (first value) by __param_* labels; Go's Values.Encode
  // sorts by key.
  std::map<std::string, std::vector<std::string>> params(cfg.params.begin(), cfg.params.end());
  for (const Label& l : t.labels) {
    if (!l.name.starts_with(kParamPrefix)) continue;
    auto& v = params[std::string(l.name.substr(kParamPrefix.size()))];
    if (v.empty()) {
      v.emplace_back(l.value);
    } else {
      v[0] = std::string(l.value);
    }
  }
  std::string query;
  for (const auto& [k, vs] : params) {
    for (const auto& v : vs) {
      if (!query.empty()) query += '&';
      query += QueryEscape(k) + "=" + QueryEscape(v);
    }
  }
  std::string path(t.labels.Get(kMetricsPath));
  if (!path.empty() && path[0] != '/') path = "/" + path;
  t.url = fmt::format("{}://{}{}", t.labels.Get(kScheme), addr, path);
  if (!query.empty()) t.url += "?" + query;
  t.hash = Fnv1a(t.url, t.labels.Hash() * 1099511628211ULL);
  LabelsBuilder id(t.labels);
  id.Del(kInterval).Del(kTimeout);
  t.identity = Fnv1a(t.url, id.Build().Hash() * 1099511628211ULL);
  return std::optional<Target>(std::move(t));
}

GroupTargets TargetsFromGroup(const ScrapeConfig& cfg, const TargetGroup& group) {
  GroupTargets out;
  for (size_t i = 0; i < group.targets.size(); ++i) {
    auto r = MakeTarget(cfg, group.targets[i], group.labels);
    if (!r.ok()) {
      out.errors.push_back(fmt::format("instance {} in group {}: {}", i, group.source,
                                       r.status().message()));
      continue;
    }
    if (r->has_value()) {
      out.active.push_back(std::move(**r));
    } else {
      LabelsBuilder lb(group.targets[i]);
      for (const Label& l : group.labels) {
        if (!lb.Has(l.name)) lb.Set(l.name, l.value);
      }
      out.dropped.push_back(lb.Build());
    }
  }
  return out;
}

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    default: return "unknown";
  }
}

}  // namespace hearth::scraper
