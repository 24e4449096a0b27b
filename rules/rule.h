#pragma once

// What recording and alerting rules share: the query and notify functions they are given, their
// health, and the Rule interface the group evaluates.
//
// Times are int64 milliseconds since the epoch. Go's zero time.Time (Prometheus' "never") is
// kNoTime; the API shows it as "0001-01-01T00:00:00Z".
//
// Thread-safety: a Rule is evaluated by its group's thread only; the accessors for the API
// (health, last error, evaluation time, alerts) take the rule's mutex and may be called from
// any thread.

#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/labels.h"
#include "model/status.h"
#include "query/value.h"
#include "rules/template.h"

namespace hearth::rules {

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// Runs a PromQL instant query at t (ms). A scalar result comes back as one sample with no
// labels (Prometheus' EngineQueryFunc); any other type is an error.
using QueryFunc = TemplateQueryFunc;

// Annotations keep empty values (unlike Labels), sorted by name.
using Annotations = std::vector<std::pair<std::string, std::string>>;

enum class RuleHealth { kUnknown, kGood, kBad };
std::string_view RuleHealthString(RuleHealth h);  // "unknown", "ok", "err"

enum class AlertState { kUnknown, kInactive, kPending, kFiring };
std::string_view AlertStateString(AlertState s);  // "unknown", "inactive", "pending", "firing"

// One instance of an alerting rule (one label set). Prometheus' rules.Alert.
struct Alert {
  AlertState state = AlertState::kInactive;
  Labels labels;
  Annotations annotations;
  double value = 0;  // the expression's value at the last evaluation
  int64_t active_at = kNoTime;
  int64_t fired_at = kNoTime;
  int64_t resolved_at = kNoTime;
  int64_t last_sent_at = kNoTime;
  int64_t valid_until = kNoTime;
  int64_t keep_firing_since = kNoTime;
};

// Receives the alerts of one rule that need (re)sending after an evaluation, with the rule's
// expression (for generatorURL). Called on the group's thread.
using NotifyFunc = std::function<void(std::string_view expr, const std::vector<Alert>& alerts)>;

enum class RuleType { kRecording, kAlerting };

class Rule {
 public:
  virtual ~Rule() = default;
  Rule(const Rule&) = delete;
  Rule& operator=(const Rule&) = delete;

  RuleType type() const { return type_; }
  // The alert name or the recorded metric name.
  const std::string& name() const { return name_; }
  // The expression as Prometheus prints it (the parsed expression's String()).
  const std::string& query() const { return query_; }
  const Labels& labels() const { return labels_; }

  // Evaluates the rule for the group's evaluation time `ts`; the query runs at
  // ts - query_offset_ms. Returns the samples to append (recording results, or ALERTS and
  // ALERTS_FOR_STATE). `limit` > 0 fails the rule when it produces more series or alerts.
  virtual Result<promql::Vector> Eval(int64_t ts, int64_t query_offset_ms, const QueryFunc& query,
                                      int64_t limit) = 0;

  // Everything that defines the rule, for deciding on reload whether a group changed
  // (Prometheus compares the rules' YAML).
  virtual std::string Definition() const = 0;

  // Name plus labels: how CopyState matches rules of an old and a new group.
  std::string NameAndLabels() const { return name_ + labels_.ToString(); }

  RuleHealth health() const;
  std::string last_error() const;
  double evaluation_seconds() const;
  int64_t last_evaluation() const;  // wall-clock start of the last evaluation, or kNoTime
  void SetHealth(RuleHealth h, std::string last_error);
  void SetEvaluation(int64_t start_ms, double seconds);

 protected:
  Rule(RuleType type, std::string name, std::string query, Labels labels)
      : type_(type), name_(std::move(name)), query_(std::move(query)), labels_(std::move(labels)) {}

  mutable std::mutex mu_;  // guards the fields below and, in AlertingRule, the alerts

 private:
  const RuleType type_;
  const std::string name_;
  const std::string query_;
  const Labels labels_;
  RuleHealth health_ = RuleHealth::kUnknown;
  std::string last_error_;
  double evaluation_seconds_ = 0;
  int64_t last_evaluation_ = kNoTime;
};

}  // namespace hearth::rules
