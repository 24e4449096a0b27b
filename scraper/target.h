#pragma once

// Scrape targets: from a discovered label set to the labels, URL, interval and timeout of a
// target, as Prometheus' scrape.PopulateLabels does (job, __scheme__, __metrics_path__,
// __scrape_interval__, __scrape_timeout__ and __param_* defaults, then relabel_configs, then
// __meta_* removed and instance defaulted to __address__).
//
// Thread-safety: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/labels.h"
#include "model/sample.h"
#include "model/status.h"

namespace hearth::scraper {

struct Target {
  // After relabeling, with the __ labels that shape the scrape (__address__, __scheme__,
  // __metrics_path__, __param_*, __scrape_interval__, __scrape_timeout__); no __meta_*.
  Labels labels;
  // Before relabeling (what /api/v1/targets shows as discoveredLabels).
  Labels discovered_labels;
  std::string url;  // scheme://address/path?params
  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;
  // Identifies the target within its job: hash of the labels and the URL (Prometheus'
  // Target.hash()). Stable across reloads while labels and URL stay the same.
  uint64_t hash = 0;
  // The same without __scrape_interval__ and __scrape_timeout__: the target a reload that only
  // changes the interval or timeout continues (no staleness markers, cache carried over).
  uint64_t identity = 0;

  // The labels every sample of the target gets: `labels` without those starting with "__".
  Labels TargetLabels() const;
};

// The result of building the targets of one target group.
struct GroupTargets {
  std::vector<Target> active;
  std::vector<Labels> dropped;     // discovered labels of targets dropped by relabeling
  std::vector<std::string> errors; // "instance 0 in group x: no address", ...
};

// Builds one target. nullopt when relabeling drops it; an error for a target that cannot be
// scraped ("no address", "scrape interval cannot be 0", ...), worded as Prometheus.
Result<std::optional<Target>> MakeTarget(const ScrapeConfig& cfg, const Labels& target_labels,
                                         const Labels& group_labels);
GroupTargets TargetsFromGroup(const ScrapeConfig& cfg, const TargetGroup& group);

enum class TargetHealth { kUnknown, kUp, kDown };
std::string_view TargetHealthName(TargetHealth h);  // "unknown", "up", "down"

// What /api/v1/targets shows for an active target.
struct TargetState {
  std::string scrape_pool;  // the job name
  Labels discovered_labels;
  Labels labels;            // TargetLabels()
  std::string scrape_url;
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  int64_t last_scrape_ms = 0;            // wall time of the last scrape start; 0 = never
  double last_scrape_duration_s = 0;
  int64_t scrape_interval_ms = 0;
  int64_t scrape_timeout_ms = 0;
  uint64_t hash = 0;
  // Identifies the loop scraping this target; unchanged across reloads that keep the loop.
  uint64_t loop_id = 0;
};

struct DroppedTarget {
  std::string scrape_pool;
  Labels discovered_labels;
};

// One metadata entry of /api/v1/targets/metadata.
struct TargetMetadata {
  Labels target;  // the target's labels
  std::string metric;
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
};

}  // namespace hearth::scraper
