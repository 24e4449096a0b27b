#include "scraper/discovery/targets.h"

#include <set>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/relabel.h"
#include "model/strutil.h"

namespace hearth {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// Go's url.QueryEscape: space becomes '+', everything but unreserved is %XX.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Go's url.URL.EscapedPath for the common case: keeps '/' and the characters a path may hold.
std::string EscapePath(std::string_view p) {
  std::string out;
  for (unsigned char c : p) {
    if (Unreserved(c) || c == '/' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
        c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' || c == ':' ||
        c == '@') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

Labels ScrapeTarget::PublicLabels() const {
  LabelsBuilder b;
  for (const Label& l : labels) {
    if (!l.name.starts_with("__")) b.Set(l.name, l.value);
  }
  return b.Build();
}

std::string ScrapeTarget::Url() const {
  std::map<std::string, std::vector<std::string>> query = params;
  for (const Label& l : labels) {
    if (!l.name.starts_with(kParamLabelPrefix)) continue;
    std::string key(l.name.substr(kParamLabelPrefix.size()));
    auto& values = query[key];
    if (values.empty()) {
      values.emplace_back(l.value);
    } else {
      values[0] = std::string(l.value);
    }
  }
  std::string path(labels.Get(kMetricsPathLabel));
  std::string url = fmt::format("{}://{}", labels.Get(kSchemeLabel), labels.Get(kAddressLabel));
  if (!path.empty() && path[0] != '/') url += '/';
  url += EscapePath(path);
  bool first = true;
  for (const auto& [key, values] : query) {  // std::map: sorted by key, as url.Values.Encode
    for (const std::string& v : values) {
      url += first ? '?' : '&';
      first = false;
      url += QueryEscape(key) + "=" + QueryEscape(v);
    }
  }
  return url;
}

uint64_t ScrapeTarget::Hash() const {
  // FNV-1a over the URL, mixed with the labels' hash (Prometheus hashes labels and URL too).
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : Url()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h ^ (labels.Hash() * 0x9e3779b97f4a7c15ULL);
}

Result<ScrapeTarget> PopulateLabels(const Labels& discovered, const ScrapeConfig& cfg) {
  LabelsBuilder lb(discovered);
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (lb.Get(name).empty()) lb.Set(name, value);
  };
  set_default(kJobLabel, cfg.job_name);
  set_default(kScrapeIntervalLabel, FormatDuration(cfg.scrape_interval_ms));
  set_default(kScrapeTimeoutLabel, FormatDuration(cfg.scrape_timeout_ms));
  set_default(kMetricsPathLabel, cfg.metrics_path);
  set_default(kSchemeLabel, cfg.scheme);
  for (const auto& [name, values] : cfg.params) {
    if (!values.empty()) set_default(std::string(kParamLabelPrefix) + name, values[0]);
  }
  ScrapeTarget t;
  t.discovered_labels = lb.Build();
  t.params = cfg.params;
  if (!Relabel(cfg.relabel_configs, lb)) return t;  // dropped: labels stay empty

  const std::string addr(lb.Get(kAddressLabel));
  if (addr.empty()) return InvalidArgument("no address");
  if (addr.find('/') != std::string::npos) {
    return InvalidArgument("{} is not a valid hostname", QuoteGo(addr));
  }
  const std::string interval(lb.Get(kScrapeIntervalLabel));
  auto interval_ms = ParseDuration(interval);
  if (!interval_ms.ok()) {
    return InvalidArgument("error parsing scrape interval: {}", interval_ms.status().message());
  }
  if (*interval_ms == 0) return InvalidArgument("scrape interval cannot be 0");
  const std::string timeout(lb.Get(kScrapeTimeoutLabel));
  auto timeout_ms = ParseDuration(timeout);
  if (!timeout_ms.ok()) {
    return InvalidArgument("error parsing scrape timeout: {}", timeout_ms.status().message());
  }
  if (*timeout_ms == 0) return InvalidArgument("scrape timeout cannot be 0");
  if (*timeout_ms > *interval_ms) {
    return InvalidArgument("scrape timeout cannot be greater than scrape interval ({} > {})",
                           QuoteGo(timeout), QuoteGo(interval));
  }
  std::vector<std::string> meta;
  lb.ForEach([&](std::string_view name, std::string_view) {
    if (name.starts_with(kMetaLabelPrefix)) meta.emplace_back(name);
  });
  for (const std::string& m : meta) lb.Del(m);
  set_default(kInstanceLabel, addr);
  Labels res = lb.Build();
  for (const Label& l : res) {
    if (!IsValidUtf8(l.value)) {
      return InvalidArgument("invalid label value for {}: {}", QuoteGo(l.name), QuoteGo(l.value));
    }
  }
  t.labels = std::move(res);
  t.interval_ms = *interval_ms;
  t.timeout_ms = *timeout_ms;
  return t;
}

TargetSet TargetsFromGroups(std::span<const TargetGroup> groups, const ScrapeConfig& cfg) {
  TargetSet out;
  std::set<uint64_t> seen;
  for (const TargetGroup& g : groups) {
    for (size_t i = 0; i < g.targets.size(); ++i) {
      // The target's own labels win over the group's.
      LabelsBuilder lb(g.targets[i]);
      for (const Label& l : g.labels) {
        if (!g.targets[i].Has(l.name)) lb.Set(l.name, l.value);
      }
      auto t = PopulateLabels(lb.Build(), cfg);
      if (!t.ok()) {
        out.errors.push_back(
            fmt::format("instance {} in group {}: {}", i, g.source, t.status().message()));
        continue;
      }
      if (t->dropped()) {
        ++out.dropped_count;
        if (cfg.keep_dropped_targets == 0 || out.dropped.size() < cfg.keep_dropped_targets) {
          out.dropped.push_back(std::move(t).value());
        }
        continue;
      }
      if (!seen.insert(t->Hash()).second) continue;
      out.active.push_back(std::move(t).value());
    }
  }
  return out;
}

}  // namespace hearth
