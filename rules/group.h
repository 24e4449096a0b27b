#pragma once

// A rule group: rules evaluated in order on one schedule (Prometheus' rules.Group).
//
// Each group runs on its own thread (Start/Stop). Its evaluation times are aligned: slot
// boundaries are multiples of the interval shifted by a stable offset derived from the group's
// name and file (Prometheus' hash-based offset), so restarts keep the same phase.
//
// Thread-safety: Eval, Iterate and RestoreForState run on the group's thread (or, with no
// thread started, on the caller's). The read accessors may be called from any thread.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "model/clock.h"
#include "model/log.h"
#include "model/metrics.h"
#include "rules/alerting.h"
#include "rules/rule.h"
#include "tsdb/storage/storage.h"

namespace hearth::rules {

// The self-metrics of rule evaluation, labelled rule_group="<file>;<group>" as Prometheus.
struct RuleMetrics {
  explicit RuleMetrics(metrics::Registry& registry);
  metrics::Family<metrics::Counter>& evaluations;          // prometheus_rule_evaluations_total
  metrics::Family<metrics::Counter>& evaluation_failures;  // ..._rule_evaluation_failures_total
  metrics::Family<metrics::Counter>& iterations_missed;    // ..._rule_group_iterations_missed_total
  metrics::Family<metrics::Counter>& iterations;           // ..._rule_group_iterations_total
  metrics::Family<metrics::Gauge>& interval;               // ..._rule_group_interval_seconds
  metrics::Family<metrics::Gauge>& last_evaluation;        // ..._last_evaluation_timestamp_seconds
  metrics::Family<metrics::Gauge>& last_duration;          // ..._rule_group_last_duration_seconds
  metrics::Family<metrics::Gauge>& last_rule_duration_sum; // ..._last_rule_duration_sum_seconds
  metrics::Family<metrics::Gauge>& last_restore_duration;  // ..._last_restore_duration_seconds
  metrics::Family<metrics::Gauge>& rules;                  // prometheus_rule_group_rules
  metrics::Family<metrics::Gauge>& samples;                // ..._last_evaluation_samples
  // Removes every series of one group (when the group goes away on reload).
  void RemoveGroup(const std::string& key);
};

// What every group of a manager shares. Pointers are borrowed and must outlive the groups.
struct GroupContext {
  storage::Appendable* appendable = nullptr;
  storage::Queryable* queryable = nullptr;  // for restoring `for` state
  QueryFunc query;
  NotifyFunc notify;                         // may be empty: alerts are not sent
  const Clock* clock = nullptr;
  Logger logger = Logger::Discard();
  RuleMetrics* metrics = nullptr;            // may be null
  int64_t resend_delay_ms = 60'000;          // --rules.alert.resend-delay
  int64_t outage_tolerance_ms = 3'600'000;   // --rules.alert.for-outage-tolerance
  int64_t for_grace_period_ms = 600'000;     // --rules.alert.for-grace-period
};

struct GroupSpec {
  std::string name;
  std::string file;
  int64_t interval_ms = 60'000;
  int64_t limit = 0;
  // As configured for the group (compared on reload); unset: the global default.
  std::optional<int64_t> configured_query_offset_ms;
  int64_t query_offset_ms = 0;  // effective
  std::vector<std::unique_ptr<Rule>> rules;
};

class Group {
 public:
  Group(GroupSpec spec, std::shared_ptr<const GroupContext> ctx);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const std::string& name() const { return spec_.name; }
  const std::string& file() const { return spec_.file; }
  int64_t interval_ms() const { return spec_.interval_ms; }
  int64_t limit() const { return spec_.limit; }
  int64_t query_offset_ms() const { return spec_.query_offset_ms; }
  // "<file>;<name>" (Prometheus' GroupKey).
  std::string Key() const { return spec_.file + ";" + spec_.name; }
  // The rules, in file order. Valid for the group's lifetime.
  const std::vector<std::unique_ptr<Rule>>& rules() const { return spec_.rules; }

  // Evaluates every rule in order at `ts` (Prometheus' Group.Eval): appends results with
  // timestamp ts - query_offset, marks series a rule no longer returns stale, sends alerts. A
  // failing rule is counted and recorded (health, last error); the others still run.
  void Eval(int64_t ts);
  // Eval plus the bookkeeping of one scheduled iteration (times, metrics).
  void Iterate(int64_t ts);
  // Restores the `for` state of pending alerts from ALERTS_FOR_STATE (Prometheus'
  // RestoreForState), with `now` as the restart time.
  void RestoreForState(int64_t now);

  // The latest aligned evaluation slot at or before `now_ms`.
  int64_t EvalTimestamp(int64_t now_ms) const;

  // Whether `other` has the same definition (name, file, interval, limit, query offset, rules).
  bool Equals(const Group& other) const;
  // Takes over the state of `from` (Prometheus' CopyState): evaluation times, per-rule series
  // for staleness and alerts of rules with the same name and labels; series of rules that are
  // gone are marked stale at the next evaluation. REQUIRES: neither group is running.
  void CopyState(Group& from);
  // Writes stale markers for every series the group wrote at its last evaluation (the group
  // was removed).
  void MarkAllStale(int64_t ts);

  double evaluation_seconds() const;
  int64_t last_evaluation() const;  // wall-clock start of the last iteration, or kNoTime

  // Starts the evaluation thread. With `should_restore`, `for` state is restored after the
  // second evaluation (Prometheus waits one more interval for fresh data).
  void Start(bool should_restore);
  // Stops and joins the thread. Idempotent.
  void Stop();

 private:
  struct LabelsHash {
    size_t operator()(const Labels& l) const { return l.Hash(); }
  };
  using SeriesSet = std::unordered_set<Labels, LabelsHash>;

  void Run(bool should_restore);
  // Waits until the clock reaches `t` or Stop is called; false when stopped.
  bool WaitUntil(int64_t t);
  void AppendStale(storage::Appender& app, const Labels& l, int64_t t);

  GroupSpec spec_;
  std::shared_ptr<const GroupContext> ctx_;
  Logger logger_;
  // Used by the evaluating thread only.
  std::vector<SeriesSet> series_in_previous_eval_;  // one per rule
  std::vector<Labels> stale_series_;
  uint64_t offset_ms_ = 0;

  mutable std::mutex mu_;  // guards the fields below
  double evaluation_seconds_ = 0;
  int64_t last_evaluation_ = kNoTime;
  bool stop_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace hearth::rules
