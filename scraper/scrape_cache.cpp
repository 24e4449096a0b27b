#include "scraper/scrape_cache.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/metrics.h"
#include "model/strutil.h"
#include "scraper/textparse/parser.h"

namespace hearth::scraper {

namespace {

constexpr std::string_view kReportNames[] = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

// Go's %.50s: at most 50 runes (bytes here; exposition names are mostly ASCII).
std::string_view Trunc50(std::string_view s) { return s.substr(0, std::min<size_t>(s.size(), 50)); }

void Inc(metrics::Counter* c) {
  if (c) c->Inc();
}


}  // namespace

ScrapeOptions ScrapeOptions::FromConfig(const ScrapeConfig& cfg) {
  ScrapeOptions o;
  o.honor_labels = cfg.honor_labels;
  o.honor_timestamps = cfg.honor_timestamps;
  o.track_timestamps_staleness = cfg.track_timestamps_staleness;
  o.sample_limit = cfg.sample_limit;
  o.label_limit = cfg.label_limit;
  o.label_name_length_limit = cfg.label_name_length_limit;
  o.label_value_length_limit = cfg.label_value_length_limit;
  o.metric_relabel_configs = cfg.metric_relabel_configs;
  if (cfg.fallback_scrape_protocol) {
    switch (*cfg.fallback_scrape_protocol) {
      case ScrapeProtocol::kPrometheusText0_0_4: o.fallback_protocol = "PrometheusText0.0.4"; break;
      case ScrapeProtocol::kPrometheusText1_0_0: o.fallback_protocol = "PrometheusText1.0.0"; break;
      case ScrapeProtocol::kOpenMetricsText0_0_1: o.fallback_protocol = "OpenMetricsText0.0.1"; break;
      case ScrapeProtocol::kOpenMetricsText1_0_0: o.fallback_protocol = "OpenMetricsText1.0.0"; break;
      case ScrapeProtocol::kPrometheusProto: o.fallback_protocol = "PrometheusProto"; break;
    }
  }
  return o;
}

namespace {
bool SameRelabel(const RelabelConfig& a, const RelabelConfig& b) {
  return a.source_labels == b.source_labels && a.separator == b.separator && a.regex == b.regex &&
         a.modulus == b.modulus && a.target_label == b.target_label &&
         a.replacement == b.replacement && a.action == b.action;
}
}  // namespace

bool ScrapeOptions::SameSeriesMapping(const ScrapeOptions& a, const ScrapeOptions& b) {
  if (a.honor_labels != b.honor_labels) return false;
  if (a.metric_relabel_configs.size() != b.metric_relabel_configs.size()) return false;
  for (size_t i = 0; i < a.metric_relabel_configs.size(); ++i) {
    if (!SameRelabel(a.metric_relabel_configs[i], b.metric_relabel_configs[i])) return false;
  }
  return true;
}

ScrapeCache::ScrapeCache(Labels target_labels, ScrapeOptions options, ScrapeCounters counters)
    : target_labels_(std::move(target_labels)), options_(std::move(options)),
      counters_(counters) {
  for (std::string_view name : kReportNames) {
    LabelsBuilder b(target_labels_);
    b.Set(kMetricName, name);
    report_labels_.push_back(b.Build());
  }
  report_refs_.assign(report_labels_.size(), 0);
}

std::optional<Labels> ScrapeCache::Mutate(const Labels& scraped) const {
  LabelsBuilder lb(scraped);
  if (options_.honor_labels) {
    for (const Label& l : target_labels_) {
      if (!scraped.Has(l.name)) lb.Set(l.name, l.value);
    }
  } else {
    // Target labels win; clashing exposed labels become exported_<name> (repeated while
    // that name is taken too), as Prometheus' resolveConflictingExposedLabels.
    std::vector<std::pair<std::string, std::string>> conflicts;
    for (const Label& l : target_labels_) {
      std::string_view existing = scraped.Get(l.name);
      if (!existing.empty()) conflicts.emplace_back(std::string(l.name), std::string(existing));
      lb.Set(l.name, l.value);
    }
    std::stable_sort(conflicts.begin(), conflicts.end(),
                     [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
    for (auto& [name, value] : conflicts) {
      std::string n = name;
      do {
        n = "exported_" + n;
      } while (lb.Has(n));
      lb.Set(n, value);
    }
  }
  if (!options_.metric_relabel_configs.empty()) {
    if (!Relabel(options_.metric_relabel_configs, lb)) return std::nullopt;
  }
  Labels out = lb.Build();
  if (out.empty()) return std::nullopt;
  return out;
}

Status ScrapeCache::CheckLabelLimits(std::string_view series, const Labels& l) const {
  const ScrapeOptions& o = options_;
  if (o.label_limit == 0 && o.label_name_length_limit == 0 && o.label_value_length_limit == 0) {
    return Status::Ok();
  }
  size_t n = l.size();
  if (o.label_limit > 0 && n > o.label_limit) {
    return Status(StatusCode::kResourceExhausted,
                  fmt::format("label_limit exceeded (metric: {}, number of labels: {}, limit: {})",
                              Trunc50(series), n, o.label_limit));
  }
  for (const Label& x : l) {
    if (o.label_name_length_limit > 0 && x.name.size() > o.label_name_length_limit) {
      return Status(StatusCode::kResourceExhausted,
                    fmt::format("label_name_length_limit exceeded (metric: {}, label name: {}, "
                                "length: {}, limit: {})",
                                Trunc50(series), Trunc50(x.name), x.name.size(),
                                o.label_name_length_limit));
    }
    if (o.label_value_length_limit > 0 && x.value.size() > o.label_value_length_limit) {
      return Status(StatusCode::kResourceExhausted,
                    fmt::format("label_value_length_limit exceeded (metric: {}, label name: {}, "
                                "value: {}, length: {}, limit: {})",
                                Trunc50(series), Trunc50(x.name), QuoteGo(Trunc50(x.value)),
                                x.value.size(), o.label_value_length_limit));
    }
  }
  return Status::Ok();
}

Status ScrapeCache::AppendSample(storage::Appender& app, Entry& e, int64_t t, double v) {
  auto r = app.Append(e.ref, e.labels, t, v);
  if (r.ok()) {
    e.ref = *r;
    return Status::Ok();
  }
  switch (r.status().code()) {
    case StatusCode::kOutOfOrderSample: Inc(counters_.sample_out_of_order); return Status::Ok();
    case StatusCode::kOutOfBounds: Inc(counters_.sample_out_of_bounds); return Status::Ok();
    case StatusCode::kDuplicateSampleForTimestamp:
      Inc(counters_.sample_duplicate_timestamp);
      return Status::Ok();
    default: return r.status();
  }
}

void ScrapeCache::Stale(storage::Appender& app, const Entry& e, int64_t t) {
  auto r = app.Append(e.ref, e.labels, t, StaleNaN());
  (void)r;  // a rejected staleness marker (out of order) is expected and harmless
}

AppendResult ScrapeCache::Append(storage::Appender& app, std::string_view body,
                                 std::string_view content_type, int64_t t) {
  AppendResult res;
  auto format = textparse::FormatForContentType(content_type, options_.fallback_protocol);
  if (!format.ok()) {
    res.error = format.status();
    return res;
  }
  textparse::Parser p(body, *format);
  tracked_cur_.clear();
  bool sample_limit_hit = false;
  std::vector<std::pair<std::string, MetricMetadata>> meta_updates;

  for (textparse::Entry e; (e = p.Next()) != textparse::Entry::kEOF;) {
    if (e == textparse::Entry::kInvalid) {
      res.error = p.status();
      break;
    }
    if (e == textparse::Entry::kType || e == textparse::Entry::kHelp ||
        e == textparse::Entry::kUnit) {
      std::string family(p.MetricFamily());
      std::lock_guard lock(meta_mu_);
      MetaEntry& m = metadata_[family];
      bool changed = false;
      if (e == textparse::Entry::kType && m.meta.type != p.Type()) {
        m.meta.type = p.Type();
        changed = true;
      } else if (e == textparse::Entry::kHelp && m.meta.help != p.Help()) {
        m.meta.help = std::string(p.Help());
        changed = true;
      } else if (e == textparse::Entry::kUnit && m.meta.unit != p.Unit()) {
        m.meta.unit = std::string(p.Unit());
        changed = true;
      }
      if (changed || m.last_iter == 0) m.changed = true;
      m.last_iter = iter_;
      continue;
    }
    if (e != textparse::Entry::kSeries) continue;

    ++res.samples_scraped;
    int64_t ts = t;
    bool explicit_ts = false;
    if (p.HasTimestamp() && options_.honor_timestamps) {
      ts = p.Timestamp();
      explicit_ts = true;
    }
    double v = p.Value();
    std::string_view key = p.Series();

    Entry* entry = nullptr;
    if (auto it = series_.find(key); it != series_.end()) {
      entry = &it->second;
    } else {
      if (auto d = dropped_.find(key); d != dropped_.end()) {
        d->second = iter_;
        continue;
      }
      auto scraped = p.BuildLabels();
      if (!scraped.ok()) {
        res.error = scraped.status();
        break;
      }
      std::optional<Labels> lset = Mutate(*scraped);
      if (!lset) {
        dropped_.emplace(std::string(key), iter_);
        continue;
      }
      if (!lset->Has(kMetricName)) {
        res.error = Status(StatusCode::kInvalidArgument, "missing metric name (__name__ label)");
        break;
      }
      if (Status st = CheckLabelLimits(key, *lset); !st.ok()) {
        res.error = std::move(st);
        break;
      }
      auto ins = series_.emplace(std::string(key), Entry{0, std::move(*lset), 0, 0});
      entry = &ins.first->second;
      ++res.series_added;
    }
    ++res.samples_post_relabel;
    if (options_.sample_limit > 0 && res.samples_post_relabel > options_.sample_limit) {
      sample_limit_hit = true;  // keep counting, append nothing more
    }
    entry->last_iter = iter_;
    if (sample_limit_hit) continue;
    if (Status st = AppendSample(app, *entry, ts, v); !st.ok()) {
      res.error = std::move(st);
      break;
    }
    if ((!explicit_ts || options_.track_timestamps_staleness) && entry->tracked_iter != iter_) {
      entry->tracked_iter = iter_;
      tracked_cur_.push_back(entry);
    }
  }
  if (res.error.ok() && sample_limit_hit) {
    Inc(counters_.exceeded_sample_limit);
    res.error = Status(StatusCode::kResourceExhausted, "sample limit exceeded");
  }
  if (!res.error.ok()) {
    // The caller rolls back and calls AppendFailure; forget what this scrape tracked.
    tracked_cur_.clear();
    return res;
  }
  // Staleness: series of the previous scrape that this one did not have.
  for (Entry* e : tracked_prev_) {
    if (e->tracked_iter != iter_) Stale(app, *e, t);
  }
  // Metadata to storage when it changed.
  {
    std::lock_guard lock(meta_mu_);
    for (auto& [name, m] : metadata_) {
      if (!m.changed) continue;
      m.changed = false;
      Labels l{{kMetricName, name}};
      (void)app.UpdateMetadata(l, m.meta);
    }
  }
  tracked_prev_.swap(tracked_cur_);
  tracked_cur_.clear();
  IterDone(true);
  return res;
}

void ScrapeCache::AppendFailure(storage::Appender& app, int64_t t) {
  for (Entry* e : tracked_prev_) Stale(app, *e, t);
  tracked_prev_.clear();
  tracked_cur_.clear();
  IterDone(false);
}

void ScrapeCache::IterDone(bool success) {
  size_t count = series_.size() + dropped_.size();
  bool flush = success;
  if (success) {
    successful_count_ = count;
  } else if (count > successful_count_ * 2 + 1000) {
    // Failed scrapes with varying series would grow the cache forever.
    flush = true;
    Inc(counters_.cache_flush_forced);
  }
  if (flush) {
    std::erase_if(series_, [&](const auto& kv) { return kv.second.last_iter != iter_; });
    std::erase_if(dropped_, [&](const auto& kv) { return kv.second != iter_; });
    std::lock_guard lock(meta_mu_);
    // Keep metadata for 10 scrapes after its metric disappeared.
    std::erase_if(metadata_, [&](const auto& kv) { return iter_ - kv.second.last_iter > 10; });
    if (!success) tracked_prev_.clear();
  }
  ++iter_;
}

void ScrapeCache::AppendReport(storage::Appender& app, int64_t t, bool up, double duration_s,
                               const AppendResult& r) {
  const double values[] = {up ? 1.0 : 0.0, duration_s, static_cast<double>(r.samples_scraped),
                           static_cast<double>(r.samples_post_relabel),
                           static_cast<double>(r.series_added)};
  for (size_t i = 0; i < report_labels_.size(); ++i) {
    auto ref = app.Append(report_refs_[i], report_labels_[i], t, values[i]);
    if (ref.ok()) report_refs_[i] = *ref;
  }
  reported_ = true;
}

void ScrapeCache::AppendEndOfRun(storage::Appender& app, int64_t t) {
  for (Entry* e : tracked_prev_) Stale(app, *e, t);
  tracked_prev_.clear();
  if (reported_) {
    for (size_t i = 0; i < report_labels_.size(); ++i) {
      (void)app.Append(report_refs_[i], report_labels_[i], t, StaleNaN());
    }
  }
}

std::vector<TargetMetadata> ScrapeCache::Metadata() const {
  std::vector<TargetMetadata> out;
  std::lock_guard lock(meta_mu_);
  out.reserve(metadata_.size());
  for (const auto& [name, m] : metadata_) {
    out.push_back(TargetMetadata{target_labels_, name, m.meta.type, m.meta.help, m.meta.unit});
  }
  std::sort(out.begin(), out.end(),
            [](const TargetMetadata& a, const TargetMetadata& b) { return a.metric < b.metric; });
  return out;
}

}  // namespace hearth::scraper
