#pragma once

// The rule manager: loads rule groups from rule files, runs each on its own aligned schedule,
// swaps them on reload keeping the state of unchanged groups (Prometheus' rules.Manager), and
// answers the API's read calls (/api/v1/rules, /api/v1/alerts).
//
// Typical use (cmd/hearth/main.cpp):
//
//   rules::ManagerOptions o;  // appendable, queryable, query, notify, clock, logger, registry
//   rules::Manager manager(std::move(o));
//   HEARTH_RETURN_IF_ERROR(manager.ApplyConfig(config));  // at startup and on every reload
//   manager.Start();                                       // once storage is ready
//   ...
//   manager.Stop();                                        // before storage closes
//
// Thread-safety: every public method may be called from any thread. ApplyConfig/Update are
// serialized; the read calls return snapshots.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/rules.h"
#include "model/clock.h"
#include "model/log.h"
#include "model/metrics.h"
#include "rules/group.h"
#include "rules/rule.h"
#include "tsdb/storage/storage.h"

namespace hearth::rules {

// Validates a PromQL expression and returns it as Prometheus prints it (expr.String()), or the
// parser's error ("1:5: parse error: ...").
using ExprParser = std::function<Result<std::string>(std::string_view expr)>;

struct ManagerOptions {
  storage::Appendable* appendable = nullptr;  // where results and ALERTS go (required)
  storage::Queryable* queryable = nullptr;    // ALERTS_FOR_STATE for restoring `for` state
  QueryFunc query;                            // instant queries (EngineQueryFunc)
  NotifyFunc notify;                          // alerts to send (SendAlertsTo(notifier, url))
  const Clock* clock = nullptr;               // required
  Logger logger = Logger::Discard();
  metrics::Registry* registry = nullptr;      // self-metrics; may be null
  // Checks and canonicalises expressions. Without one, expressions are only trimmed.
  ExprParser parse_expr;
  std::string external_url;                   // --web.external-url
  int64_t resend_delay_ms = 60'000;           // --rules.alert.resend-delay
  int64_t outage_tolerance_ms = 3'600'000;    // --rules.alert.for-outage-tolerance
  int64_t for_grace_period_ms = 600'000;      // --rules.alert.for-grace-period
};

// Snapshots for the API, with every field Prometheus writes.
struct AlertInfo {
  Labels labels;
  Annotations annotations;
  AlertState state = AlertState::kInactive;
  int64_t active_at = kNoTime;
  int64_t keep_firing_since = kNoTime;  // kNoTime: omitted
  double value = 0;                     // the API writes it in Go's 'e' format
};

struct RuleInfo {
  RuleType type = RuleType::kRecording;
  std::string name;
  std::string query;
  Labels labels;  // as configured (label templates unexpanded)
  // Alerting rules only.
  AlertState state = AlertState::kUnknown;  // kUnknown before the first evaluation
  int64_t duration_ms = 0;
  int64_t keep_firing_for_ms = 0;
  Annotations annotations;   // as configured (templates)
  std::vector<AlertInfo> alerts;  // pending and firing
  // Both.
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  double evaluation_seconds = 0;
  int64_t last_evaluation = kNoTime;  // kNoTime: "0001-01-01T00:00:00Z"
};

struct GroupInfo {
  std::string name;
  std::string file;
  std::vector<RuleInfo> rules;
  int64_t interval_ms = 0;
  int64_t limit = 0;
  double evaluation_seconds = 0;
  int64_t last_evaluation = kNoTime;
};

// One rule-file problem per entry, worded like promtool's check rules output after the file
// name: `<line>:<col>: group "g", rule 2, "HighLatency": annotation "summary": template:
// __alert_HighLatency:1:3: function "humanise" not defined`.
std::vector<std::string> CheckRuleTemplates(const RuleFileConfig& file);

class Manager {
 public:
  explicit Manager(ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Loads the rule files of `config` (rule_files globs, evaluation_interval, external_labels,
  // rule_query_offset) and swaps groups in. On any error nothing changes; the message lists
  // every problem as "<file>: <line>:<col>: ..." joined with "; ".
  Status ApplyConfig(const Config& config);
  // The same from explicit values (hearthctl test rules). When `errors` is given it receives
  // each problem on its own.
  Status Update(int64_t default_interval_ms, const std::vector<std::string>& files,
                const Labels& external_labels, int64_t default_query_offset_ms,
                std::vector<std::string>* errors = nullptr);

  // Starts the groups' threads (and those of groups added by later updates). Groups loaded
  // before the first Start restore their `for` state after their second evaluation.
  void Start();
  // Stops every group. The manager may not be started again.
  void Stop();

  // Groups sorted by file, then name (/api/v1/rules).
  std::vector<GroupInfo> RuleGroups() const;
  // Pending and firing alerts of every alerting rule (/api/v1/alerts).
  std::vector<AlertInfo> Alerts() const;

  // The live groups, sorted by file then name; for tests and hearthctl, which drive
  // evaluations themselves instead of calling Start.
  std::vector<std::shared_ptr<Group>> Groups() const;

 private:
  struct Loaded {
    std::shared_ptr<Group> group;
    bool should_restore = false;
  };
  Result<std::vector<Loaded>> LoadGroups(int64_t default_interval_ms,
                                         const std::vector<std::string>& files,
                                         const Labels& external_labels,
                                         int64_t default_query_offset_ms,
                                         std::vector<std::string>* errors_out);

  const ManagerOptions options_;
  std::unique_ptr<RuleMetrics> metrics_;
  std::shared_ptr<const GroupContext> ctx_;

  std::mutex update_mu_;   // serializes Update/Stop
  mutable std::mutex mu_;  // guards the fields below
  std::map<std::string, Loaded> groups_;  // by Group::Key()
  bool restored_ = false;  // true after the first successful update
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace hearth::rules
