#pragma once

// What the API reads from the rest of the server, as small consumer-defined interfaces with
// plain structs (Prometheus' TargetRetriever, RulesRetriever, AlertmanagerRetriever). The
// scraper, the rule manager and the notifier implement them; cmd/hearth/main.cpp plugs them
// into ApiSources. A missing source (nullptr) reads as "nothing there": empty lists, which the
// API still answers with correctly typed JSON (/api/v1/rules -> {"groups":[]}).
//
// Thread-safety: every method may be called concurrently from HTTP worker threads; the
// implementation returns a consistent snapshot by value.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"
#include "model/status.h"

namespace hearth::web {

enum class TargetHealth { kUnknown, kUp, kDown };  // "unknown", "up", "down"

struct ActiveTarget {
  std::string scrape_pool;   // the job name
  Labels discovered_labels;  // before relabeling
  Labels labels;             // after relabeling (the target's labels)
  std::string scrape_url;
  std::string global_url;    // scrape_url with the host as seen from outside
  std::string last_error;
  std::optional<int64_t> last_scrape_ms;  // unset: never scraped
  double last_scrape_duration_s = 0;
  TargetHealth health = TargetHealth::kUnknown;
  int64_t scrape_interval_ms = 0;
  int64_t scrape_timeout_ms = 0;
};

struct DroppedTarget {
  std::string scrape_pool;
  Labels discovered_labels;
};

// One metric's metadata as seen on one target's last scrape.
struct TargetMetricMetadata {
  Labels target;  // the target's labels
  std::string metric;
  MetricMetadata metadata;
};

class TargetRetriever {
 public:
  virtual ~TargetRetriever() = default;
  // Active targets of all pools; the API orders them by pool name, keeping this order within
  // a pool.
  virtual std::vector<ActiveTarget> ActiveTargets() = 0;
  // Dropped targets that are kept for display (keep_dropped_targets).
  virtual std::vector<DroppedTarget> DroppedTargets() = 0;
  // Number of dropped targets per pool, including those not kept.
  virtual std::map<std::string, size_t> DroppedTargetCounts() = 0;
  // The metadata caches of all active targets, the entries of one target together.
  virtual std::vector<TargetMetricMetadata> TargetsMetadata() = 0;
  // Names of the configured scrape pools (jobs), sorted. By default those of the targets.
  virtual std::vector<std::string> ScrapePools();
};

struct ActiveAlert {
  Labels labels;
  Labels annotations;
  std::string state;                       // "pending", "firing"
  std::optional<int64_t> active_at_ms;
  std::optional<int64_t> keep_firing_since_ms;
  double value = 0;
};

enum class RuleHealth { kUnknown, kOk, kErr };  // "unknown", "ok", "err"

struct RuleInfo {
  bool alerting = false;  // else recording
  std::string name;       // alert name or recorded metric name
  std::string query;      // the expression as PromQL text
  Labels labels;
  // Alerting rules only.
  std::string state;  // "inactive", "pending", "firing"
  int64_t duration_ms = 0;          // `for`
  int64_t keep_firing_for_ms = 0;
  Labels annotations;
  std::vector<ActiveAlert> alerts;
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  double evaluation_time_s = 0;
  std::optional<int64_t> last_evaluation_ms;
};

struct RuleGroupInfo {
  std::string name;
  std::string file;
  std::vector<RuleInfo> rules;
  int64_t interval_ms = 0;
  int64_t limit = 0;
  double evaluation_time_s = 0;
  std::optional<int64_t> last_evaluation_ms;
};

class RulesRetriever {
 public:
  virtual ~RulesRetriever() = default;
  virtual std::vector<RuleGroupInfo> RuleGroups() = 0;
};

class AlertmanagerRetriever {
 public:
  virtual ~AlertmanagerRetriever() = default;
  virtual std::vector<std::string> ActiveAlertmanagers() = 0;   // URLs of .../api/v2/alerts
  virtual std::vector<std::string> DroppedAlertmanagers() = 0;
};

// Figures of /api/v1/status/runtimeinfo that only the server knows; the API adds the process
// facts (start time, working directory, host name, threads).
struct RuntimeStatus {
  bool reload_config_success = true;
  int64_t last_config_time_ms = 0;
  int64_t corruption_count = 0;
  std::string storage_retention;  // "15d", "15d or 10GiB"
};

struct WalReplayStatus {
  int64_t min = 0;
  int64_t max = 0;
  int64_t current = 0;
};

// Where POST /api/v1/import/openmetrics writes (tsdb::DB::NewImporter has this shape: samples
// of any age, in any order, written as sealed chunks). Without one the API appends through the
// storage's Appender, which takes recent samples only (the head refuses out-of-order and
// too-old ones, counted as rejected).
//
// Thread-safety: one import uses its sink from one thread.
class ImportSink {
 public:
  virtual ~ImportSink() = default;
  // Errors with code kOutOfOrderSample, kOutOfBounds, kDuplicateSampleForTimestamp or
  // kInvalidArgument reject this sample only; any other error ends the import.
  virtual Status Add(const Labels& labels, int64_t t, double v) = 0;
  virtual Status SetMetadata(std::string_view metric, const MetricMetadata& meta) = 0;
  // Makes everything added so far durable and visible. Called at the end of an import.
  virtual Status Flush() = 0;
  // After Flush: how many samples were actually written, when the sink drops some silently
  // (older than the retention time, duplicate timestamps). nullopt: all accepted ones.
  virtual std::optional<uint64_t> Written() const { return std::nullopt; }
};

// Everything optional: unset members read as empty.
struct ApiSources {
  TargetRetriever* targets = nullptr;
  RulesRetriever* rules = nullptr;
  AlertmanagerRetriever* alertmanagers = nullptr;
  std::function<std::string()> config_yaml;         // /status/config
  std::function<Labels()> external_labels;          // global.external_labels, for /federate
  std::function<RuntimeStatus()> runtime_status;    // /status/runtimeinfo
  std::function<WalReplayStatus()> wal_replay;      // /status/walreplay
  std::map<std::string, std::string> flags;         // /status/flags: every flag and its value
  std::function<Result<std::unique_ptr<ImportSink>>()> new_import_sink;  // see ImportSink
};

}  // namespace hearth::web
