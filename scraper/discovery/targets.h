#pragma once

// Turning discovered target groups into scrape targets: Prometheus' PopulateLabels and
// TargetsFromGroup (scrape/target.go, 3.x semantics).
//
// For each discovered label set (the target's labels, then the group's labels it does not set):
//   1. defaults are added where absent: job, __scrape_interval__, __scrape_timeout__,
//      __metrics_path__, __scheme__, and __param_<name> (first value) per scrape_config params;
//      this is the target's "discovered labels" (what /api/v1/targets shows);
//   2. relabel_configs run; a dropped set becomes a dropped target (kept for the API);
//   3. checks: __address__ present ("no address") and without '/' ("... is not a valid
//      hostname"); __scrape_interval__/__scrape_timeout__ parse, are non-zero and
//      timeout <= interval; every label value valid UTF-8;
//   4. __meta_* labels are removed; instance defaults to __address__.
// Other `__` labels (__address__, __scheme__, __param_*, ...) stay on the target: they drive
// the scrape; PublicLabels() drops them for the series. Prometheus 3.x adds no default port.
//
// Thread-safety: plain values and pure functions.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/labels.h"
#include "model/status.h"

namespace hearth {

inline constexpr std::string_view kAddressLabel = "__address__";
inline constexpr std::string_view kSchemeLabel = "__scheme__";
inline constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
inline constexpr std::string_view kScrapeIntervalLabel = "__scrape_interval__";
inline constexpr std::string_view kScrapeTimeoutLabel = "__scrape_timeout__";
inline constexpr std::string_view kParamLabelPrefix = "__param_";
inline constexpr std::string_view kMetaLabelPrefix = "__meta_";
inline constexpr std::string_view kJobLabel = "job";
inline constexpr std::string_view kInstanceLabel = "instance";

struct ScrapeTarget {
  // After relabeling: __address__, __scheme__, __metrics_path__, __scrape_interval__,
  // __scrape_timeout__, __param_*, job, instance and the user's labels; no __meta_*.
  // Empty for a dropped target.
  Labels labels;
  // Before relabeling, with the defaults of step 1 (shown by the API, kept for dropped targets).
  Labels discovered_labels;
  // The scrape config's params (the __param_* labels override their first values).
  std::map<std::string, std::vector<std::string>> params;
  // Parsed from __scrape_interval__ / __scrape_timeout__ (0 for a dropped target).
  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;

  bool dropped() const { return labels.empty(); }
  // The labels attached to scraped series: `labels` without those starting with "__".
  Labels PublicLabels() const;
  // "<scheme>://<address><path>?<params>" as Go's url.URL.String() prints it (params sorted
  // by name and query-escaped).
  std::string Url() const;
  // Identity for diffing target sets across discovery updates and reloads: the labels and URL.
  uint64_t Hash() const;
};

// PopulateLabels for one discovered label set (target labels merged with group labels).
// Returns the target (dropped() when relabeling dropped it), or an error worded as Prometheus:
// "no address", "\"http://x\" is not a valid hostname", "error parsing scrape interval: ...",
// "scrape interval cannot be 0", "scrape timeout cannot be greater than scrape interval
// (\"20s\" > \"10s\")", "invalid label value for \"x\": \"...\"".
Result<ScrapeTarget> PopulateLabels(const Labels& discovered, const ScrapeConfig& cfg);

struct TargetSet {
  std::vector<ScrapeTarget> active;
  // At most cfg.keep_dropped_targets of them when that is non-zero.
  std::vector<ScrapeTarget> dropped;
  // Total dropped, including those not kept.
  size_t dropped_count = 0;
  // "instance 0 in group <source>: no address", one per target that failed.
  std::vector<std::string> errors;
};

// TargetsFromGroup for every group, in order. Active targets with equal labels are kept once.
TargetSet TargetsFromGroups(std::span<const TargetGroup> groups, const ScrapeConfig& cfg);

}  // namespace hearth
