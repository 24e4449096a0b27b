#pragma once

// The per-target scrape cache and the append step of a scrape, apart from any I/O so that it
// can be tested and measured on its own.
//
// The cache maps the raw bytes of a series as the target wrote it (name and labels, e.g.
// `http_requests_total{code="200"}`) to the storage ref and the labels after honor_labels and
// metric_relabel_configs. A known series therefore costs no label decoding, no relabeling and
// no index lookup; a series dropped by metric_relabel_configs is remembered as dropped.
//
// Staleness: every series appended in one scrape (without an explicit timestamp, unless
// track_timestamps_staleness) that is missing from the next gets a staleness marker at the
// next scrape's timestamp; a failed scrape marks them all; AppendEndOfRun marks everything,
// report series included, when the target goes away.
//
// Thread-safety: Append*, and the other mutators, are called by the one loop that owns the
// cache. Metadata() may be called concurrently from any thread (a mutex guards the metadata).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "model/labels.h"
#include "model/relabel.h"
#include "model/sample.h"
#include "model/status.h"
#include "scraper/target.h"
#include "tsdb/storage/storage.h"

namespace hearth::metrics {
class Counter;
}

namespace hearth::scraper {

struct ScrapeOptions {
  bool honor_labels = false;
  bool honor_timestamps = true;
  bool track_timestamps_staleness = false;
  uint64_t sample_limit = 0;  // 0 = none
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  std::vector<RelabelConfig> metric_relabel_configs;
  // scrape_protocols name used when the Content-Type is missing or unsupported ("" = none).
  std::string fallback_protocol;

  // Options taken from a scrape config.
  static ScrapeOptions FromConfig(const ScrapeConfig& cfg);
  // Whether a cache built for `a` gives the same labels under `b` (Prometheus reuses the
  // cache across a reload only then).
  static bool SameSeriesMapping(const ScrapeOptions& a, const ScrapeOptions& b);
};

// Prometheus' per-reason counters (prometheus_target_scrapes_*). Any may be null.
struct ScrapeCounters {
  metrics::Counter* sample_out_of_order = nullptr;
  metrics::Counter* sample_duplicate_timestamp = nullptr;
  metrics::Counter* sample_out_of_bounds = nullptr;
  metrics::Counter* exceeded_sample_limit = nullptr;
  metrics::Counter* cache_flush_forced = nullptr;
};

struct AppendResult {
  uint64_t samples_scraped = 0;       // scrape_samples_scraped
  uint64_t samples_post_relabel = 0;  // scrape_samples_post_metric_relabeling
  uint64_t series_added = 0;          // scrape_series_added
  Status error;                       // the scrape failed (the batch must be rolled back)
};

class ScrapeCache {
 public:
  ScrapeCache(Labels target_labels, ScrapeOptions options, ScrapeCounters counters = {});

  // Parses `body` (format chosen from `content_type`), appends its samples at `t` (ms) unless
  // they carry their own timestamp (honor_timestamps), then staleness markers for series that
  // disappeared. On error (parse error, a limit, missing metric name) the caller rolls the
  // appender back and calls AppendFailure.
  AppendResult Append(storage::Appender& app, std::string_view body,
                      std::string_view content_type, int64_t t);
  // A failed scrape: staleness markers at `t` for every series of the last successful one.
  void AppendFailure(storage::Appender& app, int64_t t);
  // up, scrape_duration_seconds, scrape_samples_scraped,
  // scrape_samples_post_metric_relabeling and scrape_series_added at `t`.
  void AppendReport(storage::Appender& app, int64_t t, bool up, double duration_s,
                    const AppendResult& r);
  // The target is going away: staleness markers at `t` for all its series and report series.
  void AppendEndOfRun(storage::Appender& app, int64_t t);

  // HELP/TYPE/UNIT seen by this target's scrapes, by metric family.
  std::vector<TargetMetadata> Metadata() const;
  // Number of cached series (for tests and benchmarks).
  size_t size() const { return series_.size(); }
  const Labels& target_labels() const { return target_labels_; }
  // Replaces the target labels (a reload that keeps the loop but renames nothing else).
  const ScrapeOptions& options() const { return options_; }

 private:
  struct Entry {
    storage::SeriesRef ref = 0;
    Labels labels;
    uint64_t last_iter = 0;     // last scrape that saw this series
    uint64_t tracked_iter = 0;  // last scrape that tracked it for staleness (0 = never)
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using SeriesMap = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;
  using DroppedMap = std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>>;
  struct MetaEntry {
    MetricMetadata meta;
    uint64_t last_iter = 0;
    bool changed = false;
  };

  // Labels of a new series after honor_labels and metric relabeling; nullopt when dropped.
  std::optional<Labels> Mutate(const Labels& scraped) const;
  Status CheckLabelLimits(std::string_view series, const Labels& l) const;
  void Stale(storage::Appender& app, const Entry& e, int64_t t);
  void IterDone(bool success);
  Status AppendSample(storage::Appender& app, Entry& e, int64_t t, double v);

  Labels target_labels_;
  ScrapeOptions options_;
  ScrapeCounters counters_;
  uint64_t iter_ = 1;
  size_t successful_count_ = 0;
  SeriesMap series_;
  DroppedMap dropped_;
  std::vector<Entry*> tracked_prev_;  // tracked in the last successful scrape
  std::vector<Entry*> tracked_cur_;
  // Report series labels (target labels + __name__), built once.
  std::vector<Labels> report_labels_;
  std::vector<storage::SeriesRef> report_refs_;
  bool reported_ = false;

  mutable std::mutex meta_mu_;
  std::unordered_map<std::string, MetaEntry> metadata_;  // guarded by meta_mu_
};

}  // namespace hearth::scraper
