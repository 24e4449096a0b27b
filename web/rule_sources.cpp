#include "web/rule_sources.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hearth::web {
namespace {

std::optional<int64_t> Time(int64_t t) {
  if (t == rules::kNoTime) return std::nullopt;
  return t;
}

Labels AnnotationsAsLabels(const rules::Annotations& a) { return Labels::FromPairs(a); }

RuleHealth Health(rules::RuleHealth h) {
  switch (h) {
    case rules::RuleHealth::kGood:
      return RuleHealth::kOk;
    case rules::RuleHealth::kBad:
      return RuleHealth::kErr;
    case rules::RuleHealth::kUnknown:
      break;
  }
  return RuleHealth::kUnknown;
}

ActiveAlert Convert(const rules::AlertInfo& a) {
  ActiveAlert out;
  out.labels = a.labels;
  out.annotations = AnnotationsAsLabels(a.annotations);
  out.state = std::string(rules::AlertStateString(a.state));
  out.active_at_ms = Time(a.active_at);
  out.keep_firing_since_ms = Time(a.keep_firing_since);
  out.value = a.value;
  return out;
}

class ManagerRules final : public RulesRetriever {
 public:
  explicit ManagerRules(const rules::Manager& manager) : manager_(manager) {}

  std::vector<RuleGroupInfo> RuleGroups() override {
    std::vector<RuleGroupInfo> out;
    for (const rules::GroupInfo& g : manager_.RuleGroups()) {
      RuleGroupInfo& group = out.emplace_back();
      group.name = g.name;
      group.file = g.file;
      group.interval_ms = g.interval_ms;
      group.limit = g.limit;
      group.evaluation_time_s = g.evaluation_seconds;
      group.last_evaluation_ms = Time(g.last_evaluation);
      for (const rules::RuleInfo& r : g.rules) {
        RuleInfo& rule = group.rules.emplace_back();
        rule.alerting = r.type == rules::RuleType::kAlerting;
        rule.name = r.name;
        rule.query = r.query;
        rule.labels = r.labels;
        if (rule.alerting) {
          // Before its first evaluation an alerting rule is shown as inactive (Prometheus).
          rule.state = std::string(rules::AlertStateString(
              r.state == rules::AlertState::kUnknown ? rules::AlertState::kInactive : r.state));
          rule.duration_ms = r.duration_ms;
          rule.keep_firing_for_ms = r.keep_firing_for_ms;
          rule.annotations = AnnotationsAsLabels(r.annotations);
          for (const rules::AlertInfo& a : r.alerts) rule.alerts.push_back(Convert(a));
        }
        rule.health = Health(r.health);
        rule.last_error = r.last_error;
        rule.evaluation_time_s = r.evaluation_seconds;
        rule.last_evaluation_ms = Time(r.last_evaluation);
      }
    }
    return out;
  }

 private:
  const rules::Manager& manager_;
};

class NotifierAlertmanagers final : public AlertmanagerRetriever {
 public:
  explicit NotifierAlertmanagers(const rules::Notifier& notifier) : notifier_(notifier) {}
  std::vector<std::string> ActiveAlertmanagers() override {
    return notifier_.ActiveAlertmanagers();
  }
  std::vector<std::string> DroppedAlertmanagers() override {
    return notifier_.DroppedAlertmanagers();
  }

 private:
  const rules::Notifier& notifier_;
};

}  // namespace

std::unique_ptr<RulesRetriever> NewRulesRetriever(const rules::Manager& manager) {
  return std::make_unique<ManagerRules>(manager);
}

std::unique_ptr<AlertmanagerRetriever> NewAlertmanagerRetriever(const rules::Notifier& notifier) {
  return std::make_unique<NotifierAlertmanagers>(notifier);
}

}  // namespace hearth::web
