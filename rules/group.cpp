#include "rules/group.h"

#include <chrono>
#include <deque>
#include <map>

#include <fmt/format.h>
#include <xxhash.h>

namespace hearth::rules {
namespace {

double SecondsSince(int64_t start_ns) {
  return static_cast<double>(MonotonicNowNs() - start_ns) / 1e9;
}

bool IsIgnorableAppendError(StatusCode c) {
  return c == StatusCode::kOutOfOrderSample || c == StatusCode::kOutOfBounds ||
         c == StatusCode::kDuplicateSampleForTimestamp;
}

}  // namespace

RuleMetrics::RuleMetrics(metrics::Registry& r)
    : evaluations(r.NewCounterFamily("prometheus_rule_evaluations_total",
                                     "The total number of rule evaluations.", {"rule_group"})),
      evaluation_failures(r.NewCounterFamily("prometheus_rule_evaluation_failures_total",
                                             "The total number of rule evaluation failures.",
                                             {"rule_group"})),
      iterations_missed(r.NewCounterFamily(
          "prometheus_rule_group_iterations_missed_total",
          "The total number of rule group evaluations missed due to slow rule group evaluation.",
          {"rule_group"})),
      iterations(r.NewCounterFamily(
          "prometheus_rule_group_iterations_total",
          "The total number of scheduled rule group evaluations, whether executed or missed.",
          {"rule_group"})),
      interval(r.NewGaugeFamily("prometheus_rule_group_interval_seconds",
                                "The interval of a rule group.", {"rule_group"})),
      last_evaluation(r.NewGaugeFamily("prometheus_rule_group_last_evaluation_timestamp_seconds",
                                       "The timestamp of the last rule group evaluation in seconds.",
                                       {"rule_group"})),
      last_duration(r.NewGaugeFamily("prometheus_rule_group_last_duration_seconds",
                                     "The duration of the last rule group evaluation.",
                                     {"rule_group"})),
      last_rule_duration_sum(r.NewGaugeFamily(
          "prometheus_rule_group_last_rule_duration_sum_seconds",
          "The sum of time in seconds it took to evaluate each rule in the group regardless of "
          "concurrency. This should be higher than the group duration if rules are evaluated "
          "concurrently.",
          {"rule_group"})),
      last_restore_duration(r.NewGaugeFamily(
          "prometheus_rule_group_last_restore_duration_seconds",
          "The duration of the last alert rules alerts restoration using the `ALERTS_FOR_STATE` "
          "series.",
          {"rule_group"})),
      rules(r.NewGaugeFamily("prometheus_rule_group_rules", "The number of rules.",
                             {"rule_group"})),
      samples(r.NewGaugeFamily("prometheus_rule_group_last_evaluation_samples",
                               "The number of samples returned during the last rule group "
                               "evaluation.",
                               {"rule_group"})) {}

void RuleMetrics::RemoveGroup(const std::string& key) {
  const std::vector<std::string> v = {key};
  evaluations.Remove(v);
  evaluation_failures.Remove(v);
  iterations_missed.Remove(v);
  iterations.Remove(v);
  interval.Remove(v);
  last_evaluation.Remove(v);
  last_duration.Remove(v);
  last_rule_duration_sum.Remove(v);
  last_restore_duration.Remove(v);
  rules.Remove(v);
  samples.Remove(v);
}

Group::Group(GroupSpec spec, std::shared_ptr<const GroupContext> ctx)
    : spec_(std::move(spec)),
      ctx_(std::move(ctx)),
      logger_(ctx_->logger.With({{"file", spec_.file}, {"group", spec_.name}})),
      series_in_previous_eval_(spec_.rules.size()) {
  // Prometheus' offset: xxhash of the label set {file=<file>, name=<name>} modulo the
  // interval in nanoseconds.
  std::string key = "file\xff" + spec_.file + "\xff" + "name\xff" + spec_.name + "\xff";
  uint64_t h = XXH64(key.data(), key.size(), 0);
  uint64_t interval_ns = static_cast<uint64_t>(std::max<int64_t>(spec_.interval_ms, 1)) * 1'000'000;
  offset_ms_ = (h % interval_ns) / 1'000'000;
  if (ctx_->metrics != nullptr) {
    const std::vector<std::string> k = {Key()};
    ctx_->metrics->evaluations.With(k);
    ctx_->metrics->evaluation_failures.With(k);
    ctx_->metrics->iterations_missed.With(k);
    ctx_->metrics->iterations.With(k);
    ctx_->metrics->last_evaluation.With(k);
    ctx_->metrics->last_duration.With(k);
    ctx_->metrics->last_rule_duration_sum.With(k);
    ctx_->metrics->samples.With(k);
    ctx_->metrics->rules.With(k).Set(static_cast<double>(spec_.rules.size()));
    ctx_->metrics->interval.With(k).Set(static_cast<double>(spec_.interval_ms) / 1000.0);
  }
}

Group::~Group() { Stop(); }

int64_t Group::EvalTimestamp(int64_t now_ms) const {
  const int64_t interval = std::max<int64_t>(spec_.interval_ms, 1);
  const int64_t offset = static_cast<int64_t>(offset_ms_);
  int64_t adj = now_ms - offset;
  int64_t rem = adj % interval;
  if (rem < 0) rem += interval;
  return adj - rem + offset;
}

void Group::AppendStale(storage::Appender& app, const Labels& l, int64_t t) {
  auto r = app.Append(0, l, t, StaleNaN());
  if (!r.ok() && !IsIgnorableAppendError(r.status().code())) {
    logger_.Warn("Adding stale sample failed",
                 {{"sample", l.ToString()}, {"err", r.status().message()}});
  }
}

void Group::Eval(int64_t ts) {
  const std::string key = Key();
  const std::vector<std::string> mkey = {key};
  RuleMetrics* m = ctx_->metrics;
  double samples_total = 0;
  const int64_t sample_t = ts - spec_.query_offset_ms;

  for (size_t i = 0; i < spec_.rules.size(); ++i) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    Rule& rule = *spec_.rules[i];
    const int64_t start_ms = ctx_->clock->NowMs();
    const int64_t start_ns = MonotonicNowNs();
    if (m) m->evaluations.With(mkey).Inc();

    auto vector = rule.Eval(ts, spec_.query_offset_ms, ctx_->query, spec_.limit);
    if (!vector.ok()) {
      rule.SetHealth(RuleHealth::kBad, vector.status().message());
      if (m) m->evaluation_failures.With(mkey).Inc();
      if (vector.status().code() != StatusCode::kCancelled) {
        logger_.Warn("Evaluating rule failed",
                     {{"rule", rule.name()}, {"err", vector.status().message()}});
      }
      rule.SetEvaluation(start_ms, SecondsSince(start_ns));
      continue;
    }
    rule.SetHealth(RuleHealth::kGood, "");
    samples_total += static_cast<double>(vector->size());

    if (rule.type() == RuleType::kAlerting && ctx_->notify) {
      auto& ar = static_cast<AlertingRule&>(rule);
      auto to_send = ar.AlertsToSend(ts, ctx_->resend_delay_ms, spec_.interval_ms);
      if (!to_send.empty()) ctx_->notify(rule.query(), to_send);
    }

    auto app = ctx_->appendable->NewAppender();
    SeriesSet returned;
    returned.reserve(series_in_previous_eval_[i].size());
    int out_of_order = 0, too_old = 0, duplicates = 0;
    for (const auto& s : *vector) {
      auto r = app->Append(0, s.labels, s.t, s.v);
      if (!r.ok()) {
        rule.SetHealth(RuleHealth::kBad, r.status().message());
        switch (r.status().code()) {
          case StatusCode::kOutOfOrderSample: ++out_of_order; break;
          case StatusCode::kOutOfBounds: ++too_old; break;
          case StatusCode::kDuplicateSampleForTimestamp: ++duplicates; break;
          default:
            logger_.Warn("Rule evaluation result discarded",
                         {{"err", r.status().message()}, {"sample", s.labels.ToString()}});
        }
        continue;
      }
      returned.insert(s.labels);
    }
    if (out_of_order > 0) {
      logger_.Warn("Error on ingesting out-of-order result from rule evaluation",
                   {{"num_dropped", std::to_string(out_of_order)}});
    }
    if (too_old > 0) {
      logger_.Warn("Error on ingesting too old result from rule evaluation",
                   {{"num_dropped", std::to_string(too_old)}});
    }
    if (duplicates > 0) {
      logger_.Warn(
          "Error on ingesting results from rule evaluation with different value but same "
          "timestamp",
          {{"num_dropped", std::to_string(duplicates)}});
    }
    // Series the rule returned last time but not now end with a staleness marker.
    for (const Labels& l : series_in_previous_eval_[i]) {
      if (returned.count(l) == 0) AppendStale(*app, l, sample_t);
    }
    Status st = app->Commit();
    if (!st.ok()) {
      rule.SetHealth(RuleHealth::kBad, st.message());
      if (m) m->evaluation_failures.With(mkey).Inc();
      logger_.Warn("Rule sample appending failed", {{"err", st.message()}});
    } else {
      series_in_previous_eval_[i] = std::move(returned);
    }
    rule.SetEvaluation(start_ms, SecondsSince(start_ns));
  }
  if (m) m->samples.With(mkey).Set(samples_total);

  // Series of rules removed by a reload.
  if (!stale_series_.empty()) {
    auto app = ctx_->appendable->NewAppender();
    for (const Labels& l : stale_series_) AppendStale(*app, l, sample_t);
    Status st = app->Commit();
    if (st.ok()) {
      stale_series_.clear();
    } else {
      logger_.Warn("Stale sample appending for previous configuration failed",
                   {{"err", st.message()}});
    }
  }
}

void Group::Iterate(int64_t ts) {
  const std::vector<std::string> mkey = {Key()};
  if (ctx_->metrics) ctx_->metrics->iterations.With(mkey).Inc();
  const int64_t start_ms = ctx_->clock->NowMs();
  const int64_t start_ns = MonotonicNowNs();
  Eval(ts);
  const double seconds = SecondsSince(start_ns);
  double rule_sum = 0;
  for (const auto& r : spec_.rules) rule_sum += r->evaluation_seconds();
  if (ctx_->metrics) {
    ctx_->metrics->last_duration.With(mkey).Set(seconds);
    ctx_->metrics->last_rule_duration_sum.With(mkey).Set(rule_sum);
    ctx_->metrics->last_evaluation.With(mkey).Set(static_cast<double>(start_ms) / 1000.0);
  }
  std::lock_guard lock(mu_);
  evaluation_seconds_ = seconds;
  last_evaluation_ = start_ms;
}

void Group::RestoreForState(int64_t now) {
  const int64_t start_ns = MonotonicNowNs();
  const int64_t mint = now - ctx_->outage_tolerance_ms;
  std::unique_ptr<storage::Querier> q;
  if (ctx_->queryable != nullptr) {
    auto qr = ctx_->queryable->NewQuerier(mint, now);
    if (qr.ok()) {
      q = std::move(qr).value();
    } else {
      logger_.Error("Failed to get Querier", {{"err", qr.status().message()}});
    }
  }
  for (const auto& rule : spec_.rules) {
    if (rule->type() != RuleType::kAlerting) continue;
    auto& ar = static_cast<AlertingRule&>(*rule);
    const int64_t hold = ar.hold_ms();
    if (hold < ctx_->for_grace_period_ms || q == nullptr) {
      // A `for` shorter than the grace period simply starts over.
      ar.SetRestored(true);
      continue;
    }
    auto matchers = ar.ForStateMatchers();
    storage::SelectHints hints;
    hints.start = mint;
    hints.end = now;
    auto set = q->Select(false, hints, matchers);
    // Last sample of each ALERTS_FOR_STATE series, keyed by its labels without __name__.
    std::map<std::string, Sample> last;
    while (set->Next()) {
      const auto& series = set->At();
      auto it = series.Iterator();
      bool any = false;
      Sample s;
      while (it->Next()) {
        s = it->At();
        any = true;
      }
      if (!it->status().ok()) {
        logger_.Error("Failed to restore 'for' state",
                      {{"alertname", ar.name()}, {"stage", "Iterator"},
                       {"err", it->status().message()}});
        continue;
      }
      if (any) last[series.labels().WithoutMetricName().ToString()] = s;
    }
    if (!set->status().ok()) {
      logger_.Error("Failed to restore 'for' state",
                    {{"alertname", ar.name()}, {"stage", "Select"},
                     {"err", set->status().message()}});
      ar.SetRestored(true);
      continue;
    }
    if (last.empty()) {
      ar.SetRestored(true);
      continue;
    }
    const int64_t grace = ctx_->for_grace_period_ms;
    ar.ForEachAlert([&](Alert& a) {
      auto it = last.find(a.labels.ToString());
      if (it == last.end()) return;
      const Sample& s = it->second;
      if (IsStaleNaN(s.v)) return;  // the alert was not active
      // Prometheus works in whole seconds here: time.Unix(t/1000, 0), time.Unix(int64(v), 0).
      const int64_t down_at = (s.t / 1000) * 1000;
      int64_t restored_active_at = static_cast<int64_t>(s.v) * 1000;
      const int64_t spent_pending = down_at - restored_active_at;
      const int64_t remaining = hold - spent_pending;
      if (remaining <= 0) {
        // It was firing when the server went down; the next evaluation decides.
      } else if (remaining < grace) {
        restored_active_at = now + grace - hold;
      } else {
        restored_active_at += now - down_at;
      }
      a.active_at = restored_active_at;
      logger_.Debug("'for' state restored",
                    {{"alertname", ar.name()}, {"labels", a.labels.ToString()},
                     {"restored_time", std::to_string(a.active_at)}});
    });
    ar.SetRestored(true);
  }
  if (ctx_->metrics) {
    ctx_->metrics->last_restore_duration.With({Key()}).Set(SecondsSince(start_ns));
  }
}

bool Group::Equals(const Group& o) const {
  if (spec_.name != o.spec_.name || spec_.file != o.spec_.file ||
      spec_.interval_ms != o.spec_.interval_ms || spec_.limit != o.spec_.limit ||
      spec_.configured_query_offset_ms != o.spec_.configured_query_offset_ms ||
      spec_.rules.size() != o.spec_.rules.size()) {
    return false;
  }
  for (size_t i = 0; i < spec_.rules.size(); ++i) {
    if (spec_.rules[i]->type() != o.spec_.rules[i]->type() ||
        spec_.rules[i]->Definition() != o.spec_.rules[i]->Definition()) {
      return false;
    }
  }
  return true;
}

void Group::CopyState(Group& from) {
  {
    std::scoped_lock lock(mu_, from.mu_);
    evaluation_seconds_ = from.evaluation_seconds_;
    last_evaluation_ = from.last_evaluation_;
  }
  std::map<std::string, std::deque<size_t>> by_name;
  for (size_t fi = 0; fi < from.spec_.rules.size(); ++fi) {
    by_name[from.spec_.rules[fi]->NameAndLabels()].push_back(fi);
  }
  for (size_t i = 0; i < spec_.rules.size(); ++i) {
    Rule& rule = *spec_.rules[i];
    auto it = by_name.find(rule.NameAndLabels());
    if (it == by_name.end() || it->second.empty()) continue;
    size_t fi = it->second.front();
    it->second.pop_front();
    series_in_previous_eval_[i] = from.series_in_previous_eval_[fi];
    Rule& old = *from.spec_.rules[fi];
    if (rule.type() == RuleType::kAlerting && old.type() == RuleType::kAlerting) {
      static_cast<AlertingRule&>(rule).CopyAlertsFrom(static_cast<const AlertingRule&>(old));
    }
  }
  stale_series_ = from.stale_series_;
  for (const auto& [name, left] : by_name) {
    for (size_t fi : left) {
      for (const Labels& l : from.series_in_previous_eval_[fi]) stale_series_.push_back(l);
    }
  }
}

void Group::MarkAllStale(int64_t ts) {
  auto app = ctx_->appendable->NewAppender();
  const int64_t t = ts - spec_.query_offset_ms;
  for (const auto& set : series_in_previous_eval_) {
    for (const Labels& l : set) AppendStale(*app, l, t);
  }
  for (const Labels& l : stale_series_) AppendStale(*app, l, t);
  Status st = app->Commit();
  if (!st.ok()) {
    logger_.Warn("Stale sample appending for previous configuration failed",
                 {{"err", st.message()}});
  }
  for (auto& set : series_in_previous_eval_) set.clear();
  stale_series_.clear();
}

double Group::evaluation_seconds() const {
  std::lock_guard lock(mu_);
  return evaluation_seconds_;
}

int64_t Group::last_evaluation() const {
  std::lock_guard lock(mu_);
  return last_evaluation_;
}

bool Group::WaitUntil(int64_t t) {
  std::unique_lock lock(mu_);
  while (!stop_) {
    int64_t now = ctx_->clock->NowMs();
    if (now >= t) return true;
    cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(t - now, 1000)));
  }
  return false;
}

void Group::Start(bool should_restore) {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this, should_restore] { Run(should_restore); });
}

void Group::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Group::Run(bool should_restore) {
  const int64_t interval = std::max<int64_t>(spec_.interval_ms, 1);
  const std::vector<std::string> mkey = {Key()};
  int64_t eval_ts = EvalTimestamp(ctx_->clock->NowMs()) + interval;
  if (!WaitUntil(eval_ts)) return;
  Iterate(eval_ts);
  auto next = [&]() -> bool {
    if (!WaitUntil(eval_ts + interval)) return false;
    int64_t missed = (ctx_->clock->NowMs() - eval_ts) / interval - 1;
    if (missed > 0 && ctx_->metrics) {
      ctx_->metrics->iterations_missed.With(mkey).Inc(static_cast<double>(missed));
      ctx_->metrics->iterations.With(mkey).Inc(static_cast<double>(missed));
    }
    eval_ts += (std::max<int64_t>(missed, 0) + 1) * interval;
    Iterate(eval_ts);
    return true;
  };
  if (should_restore) {
    // Evaluate once more before restoring: the first evaluation may have run before enough
    // data was scraped and recording rules were updated.
    if (!next()) return;
    RestoreForState(ctx_->clock->NowMs());
  }
  while (next()) {
  }
}

}  // namespace hearth::rules
