#pragma once

// An alerting rule and its state machine (Prometheus' rules.AlertingRule):
//
//   inactive --(expression returns the series)--> pending --(for elapsed)--> firing
//   pending  --(series gone)--> dropped at once
//   firing   --(series gone, keep_firing_for elapsed)--> inactive (resolved; kept 15 min so
//                                                       the resolution is re-sent)
//
// Labels and annotations are templates expanded per alert at each evaluation; the alert's
// identity is its label set after expansion. Each evaluation yields the ALERTS and
// ALERTS_FOR_STATE samples, written once the `for` state has been restored after a restart.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/log.h"
#include "model/matcher.h"
#include "rules/rule.h"
#include "rules/template.h"

namespace hearth::rules {

inline constexpr std::string_view kAlertMetricName = "ALERTS";
inline constexpr std::string_view kAlertForStateMetricName = "ALERTS_FOR_STATE";
inline constexpr std::string_view kAlertNameLabel = "alertname";
inline constexpr std::string_view kAlertStateLabel = "alertstate";
// How long a resolved alert is kept (and re-sent).
inline constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

struct AlertingRuleSpec {
  std::string name;
  std::string query;               // the expression as Prometheus prints it
  int64_t hold_ms = 0;             // `for`
  int64_t keep_firing_for_ms = 0;  // `keep_firing_for`
  // Group labels merged with the rule's (the rule's win); values are templates.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;  // values are templates
  Labels external_labels;
  std::string external_url;
  // False until the `for` state has been restored from ALERTS_FOR_STATE; ALERTS samples are
  // written only once restored.
  bool restored = true;
};

class AlertingRule final : public Rule {
 public:
  // Parses the label and annotation templates. Errors name the template:
  //   annotation "summary": template: __alert_X:1:4: function "humanise" not defined
  static Result<std::unique_ptr<AlertingRule>> Make(AlertingRuleSpec spec, Logger logger);

  // Errors: the query's error; "vector contains metrics with the same labelset after applying
  // alert labels"; "exceeded limit of N with M alerts" (all alerts are then dropped).
  Result<promql::Vector> Eval(int64_t ts, int64_t query_offset_ms, const QueryFunc& query,
                              int64_t limit) override;
  std::string Definition() const override;

  int64_t hold_ms() const { return spec_.hold_ms; }
  int64_t keep_firing_for_ms() const { return spec_.keep_firing_for_ms; }
  const std::vector<std::pair<std::string, std::string>>& annotation_templates() const {
    return spec_.annotations;
  }

  // The highest state of its alerts; kUnknown before the first evaluation.
  AlertState State() const;
  // Pending and firing alerts (not the resolved ones still kept), sorted by labels.
  std::vector<Alert> ActiveAlerts() const;
  // Every alert held, resolved ones included.
  std::vector<Alert> CurrentAlerts() const;

  // Marks the alerts that need sending at `ts` (firing or newly resolved, and not sent within
  // resend_delay) as sent, sets their validity to ts + 4 * max(interval, resend_delay), and
  // returns copies.
  std::vector<Alert> AlertsToSend(int64_t ts, int64_t resend_delay_ms, int64_t interval_ms);

  // Matchers selecting this rule's ALERTS_FOR_STATE series.
  std::vector<Matcher> ForStateMatchers() const;
  // Calls f on each held alert under the rule's lock (restoring `for` state).
  void ForEachAlert(const std::function<void(Alert&)>& f);
  bool restored() const;
  void SetRestored(bool restored);

  // Takes over the alerts of `from` (reload of a changed group).
  void CopyAlertsFrom(const AlertingRule& from);

 private:
  AlertingRule(AlertingRuleSpec spec, std::vector<Template> label_templates,
               std::vector<Template> annotation_templates, Logger logger);

  promql::VectorSample AlertsSample(const Alert& a, int64_t t) const;
  promql::VectorSample ForStateSample(const Alert& a, int64_t t, double v) const;

  const AlertingRuleSpec spec_;
  const std::vector<Template> label_templates_;       // parallel to spec_.labels
  const std::vector<Template> annotation_templates_;  // parallel to spec_.annotations
  const Logger logger_;
  // Guarded by mu_.
  std::map<Labels, Alert> active_;
  bool restored_flag_;
};

}  // namespace hearth::rules
