#include "rules/alerting.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "model/strutil.h"

namespace hearth::rules {
namespace {

Labels LabelsFromPairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return Labels::FromPairs(std::span<const std::pair<std::string, std::string>>(pairs));
}

// Go's time.Time.Unix(): seconds, rounded towards minus infinity.
int64_t UnixSeconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace

std::string_view RuleHealthString(RuleHealth h) {
  switch (h) {
    case RuleHealth::kUnknown: return "unknown";
    case RuleHealth::kGood: return "ok";
    case RuleHealth::kBad: return "err";
  }
  return "unknown";
}

std::string_view AlertStateString(AlertState s) {
  switch (s) {
    case AlertState::kUnknown: return "unknown";
    case AlertState::kInactive: return "inactive";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
  }
  return "unknown";
}

RuleHealth Rule::health() const {
  std::lock_guard lock(mu_);
  return health_;
}
std::string Rule::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}
double Rule::evaluation_seconds() const {
  std::lock_guard lock(mu_);
  return evaluation_seconds_;
}
int64_t Rule::last_evaluation() const {
  std::lock_guard lock(mu_);
  return last_evaluation_;
}
void Rule::SetHealth(RuleHealth h, std::string last_error) {
  std::lock_guard lock(mu_);
  health_ = h;
  last_error_ = std::move(last_error);
}
void Rule::SetEvaluation(int64_t start_ms, double seconds) {
  std::lock_guard lock(mu_);
  last_evaluation_ = start_ms;
  evaluation_seconds_ = seconds;
}

Result<std::unique_ptr<AlertingRule>> AlertingRule::Make(AlertingRuleSpec spec, Logger logger) {
  const std::string tmpl_name = "__alert_" + spec.name;
  std::vector<Template> label_templates;
  for (const auto& [name, text] : spec.labels) {
    auto t = Template::Parse(text, tmpl_name);
    if (!t.ok()) return t.status().WithPrefix(fmt::format("label {}", QuoteGo(name)));
    label_templates.push_back(std::move(t).value());
  }
  std::vector<Template> annotation_templates;
  for (const auto& [name, text] : spec.annotations) {
    auto t = Template::Parse(text, tmpl_name);
    if (!t.ok()) return t.status().WithPrefix(fmt::format("annotation {}", QuoteGo(name)));
    annotation_templates.push_back(std::move(t).value());
  }
  return std::unique_ptr<AlertingRule>(new AlertingRule(
      std::move(spec), std::move(label_templates), std::move(annotation_templates),
      std::move(logger)));
}

AlertingRule::AlertingRule(AlertingRuleSpec spec, std::vector<Template> label_templates,
                           std::vector<Template> annotation_templates, Logger logger)
    : Rule(RuleType::kAlerting, spec.name, spec.query, LabelsFromPairs(spec.labels)),
      spec_(std::move(spec)),
      label_templates_(std::move(label_templates)),
      annotation_templates_(std::move(annotation_templates)),
      logger_(std::move(logger)),
      restored_flag_(spec_.restored) {}

promql::VectorSample AlertingRule::AlertsSample(const Alert& a, int64_t t) const {
  LabelsBuilder lb(labels());
  for (const auto& l : a.labels) lb.Set(l.name, l.value);
  lb.Set(kMetricName, kAlertMetricName);
  lb.Set(kAlertNameLabel, name());
  lb.Set(kAlertStateLabel, AlertStateString(a.state));
  return {lb.Build(), t, 1};
}

promql::VectorSample AlertingRule::ForStateSample(const Alert& a, int64_t t, double v) const {
  LabelsBuilder lb(labels());
  for (const auto& l : a.labels) lb.Set(l.name, l.value);
  lb.Set(kMetricName, kAlertForStateMetricName);
  lb.Set(kAlertNameLabel, name());
  return {lb.Build(), t, v};
}

std::vector<Matcher> AlertingRule::ForStateMatchers() const {
  LabelsBuilder lb(labels());
  lb.Set(kMetricName, kAlertForStateMetricName);
  lb.Set(kAlertNameLabel, name());
  std::vector<Matcher> out;
  for (const auto& l : lb.Build()) {
    out.push_back(*Matcher::Make(MatchType::kEqual, std::string(l.name), std::string(l.value)));
  }
  return out;
}

Result<promql::Vector> AlertingRule::Eval(int64_t ts, int64_t query_offset_ms,
                                          const QueryFunc& query, int64_t limit) {
  HEARTH_ASSIGN_OR_RETURN(promql::Vector res, query(this->query(), ts - query_offset_ms));

  TemplateEnv env;
  env.time_ms = ts;
  env.query = query;
  env.external_url = spec_.external_url;

  // Build the alerts of this evaluation: labels and annotations expanded per series.
  std::map<Labels, Alert> alerts;
  LabelsBuilder lb;
  for (const auto& smpl : res) {
    // The template input is built once per series, and only if a template needs it.
    std::optional<TemplateInput> input;
    auto expand = [&](const Template& t) {
      if (t.IsConstant()) return t.text();
      if (!input) {
        AlertTemplateData data;
        data.labels = smpl.labels;
        data.external_labels = spec_.external_labels;
        data.external_url = spec_.external_url;
        data.value = smpl.v;
        input.emplace(data);
      }
      auto r = t.Execute(*input, env);
      if (r.ok()) return std::move(r).value();
      logger_.Warn("Expanding alert template failed",
                   {{"err", r.status().message()}, {"alert", name()}});
      return fmt::format("<error expanding template: error executing template {}: {}>",
                         t.name(), r.status().message());
    };
    lb.Reset(smpl.labels);
    lb.Del(kMetricName);
    for (size_t i = 0; i < spec_.labels.size(); ++i) {
      lb.Set(spec_.labels[i].first, expand(label_templates_[i]));
    }
    lb.Set(kAlertNameLabel, name());
    Annotations annotations;
    annotations.reserve(spec_.annotations.size());
    for (size_t i = 0; i < spec_.annotations.size(); ++i) {
      annotations.emplace_back(spec_.annotations[i].first, expand(annotation_templates_[i]));
    }
    std::sort(annotations.begin(), annotations.end());
    Labels lbs = lb.Build();
    if (alerts.count(lbs) != 0) {
      return Status(StatusCode::kExecution,
                    "vector contains metrics with the same labelset after applying alert labels");
    }
    Alert a;
    a.labels = lbs;
    a.annotations = std::move(annotations);
    a.active_at = ts;
    a.state = AlertState::kPending;
    a.value = smpl.v;
    alerts.emplace(std::move(lbs), std::move(a));
  }

  std::lock_guard lock(mu_);
  for (auto& [lbs, a] : alerts) {
    auto it = active_.find(lbs);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
      continue;
    }
    active_[lbs] = std::move(a);
  }

  promql::Vector vec;
  int64_t num_active_pending = 0;
  const int64_t sample_t = ts - query_offset_ms;
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    if (alerts.count(it->first) == 0) {
      // The expression no longer returns this series.
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && spec_.keep_firing_for_ms > 0) {
        if (a.keep_firing_since == kNoTime) a.keep_firing_since = ts;
        if (ts - a.keep_firing_since < spec_.keep_firing_for_ms) keep_firing = true;
      }
      // A pending alert goes at once; a resolved one is kept for kResolvedRetentionMs so
      // its resolution keeps being sent.
      bool remove = a.state == AlertState::kPending ||
                    (a.resolved_at != kNoTime && ts - a.resolved_at > kResolvedRetentionMs);
      if (a.state != AlertState::kInactive && !keep_firing) {
        a.state = AlertState::kInactive;
        a.resolved_at = ts;
      }
      if (remove) {
        it = active_.erase(it);
        continue;
      }
      if (!keep_firing) {
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = kNoTime;
    }
    ++num_active_pending;
    if (a.state == AlertState::kPending && ts - a.active_at >= spec_.hold_ms) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
    }
    if (restored_flag_) {
      vec.push_back(AlertsSample(a, sample_t));
      vec.push_back(ForStateSample(a, sample_t, static_cast<double>(UnixSeconds(a.active_at))));
    }
    ++it;
  }

  if (limit > 0 && num_active_pending > limit) {
    active_.clear();
    return Errorf(StatusCode::kExecution, "exceeded limit of {} with {} alerts", limit,
                  num_active_pending);
  }
  return vec;
}

AlertState AlertingRule::State() const {
  std::lock_guard lock(mu_);
  // Rule::last_evaluation() takes mu_ too; read the state under one lock.
  AlertState max = AlertState::kInactive;
  for (const auto& [l, a] : active_) max = std::max(max, a.state);
  return max;
}

std::vector<Alert> AlertingRule::ActiveAlerts() const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  for (const auto& [l, a] : active_) {
    if (a.resolved_at == kNoTime) out.push_back(a);
  }
  return out;
}

std::vector<Alert> AlertingRule::CurrentAlerts() const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  out.reserve(active_.size());
  for (const auto& [l, a] : active_) out.push_back(a);
  return out;
}

std::vector<Alert> AlertingRule::AlertsToSend(int64_t ts, int64_t resend_delay_ms,
                                              int64_t interval_ms) {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  for (auto& [l, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    bool needs = false;
    if (a.resolved_at != kNoTime && (a.last_sent_at == kNoTime || a.resolved_at > a.last_sent_at)) {
      needs = true;  // resolved since the last send
    } else if (a.last_sent_at == kNoTime || a.last_sent_at + resend_delay_ms < ts) {
      needs = true;
    }
    if (!needs) continue;
    a.last_sent_at = ts;
    a.valid_until = ts + 4 * std::max(interval_ms, resend_delay_ms);
    out.push_back(a);
  }
  return out;
}

void AlertingRule::ForEachAlert(const std::function<void(Alert&)>& f) {
  std::lock_guard lock(mu_);
  for (auto& [l, a] : active_) f(a);
}

bool AlertingRule::restored() const {
  std::lock_guard lock(mu_);
  return restored_flag_;
}

void AlertingRule::SetRestored(bool restored) {
  std::lock_guard lock(mu_);
  restored_flag_ = restored;
}

void AlertingRule::CopyAlertsFrom(const AlertingRule& from) {
  if (&from == this) return;
  std::scoped_lock lock(mu_, from.mu_);
  for (const auto& [l, a] : from.active_) active_[l] = a;
}

std::string AlertingRule::Definition() const {
  std::string out = fmt::format("alert: {}\nexpr: {}\nfor: {}\nkeep_firing_for: {}\nlabels:\n",
                                name(), query(), spec_.hold_ms, spec_.keep_firing_for_ms);
  for (const auto& [k, v] : spec_.labels) out += fmt::format("  {}: {}\n", QuoteGo(k), QuoteGo(v));
  out += "annotations:\n";
  for (const auto& [k, v] : spec_.annotations) {
    out += fmt::format("  {}: {}\n", QuoteGo(k), QuoteGo(v));
  }
  return out;
}

}  // namespace hearth::rules
