#include <catch2/catch.hpp>

#include "rules/alerting.h"
#include "tests/rules/rules_fixture.h"

namespace hearth::rules {
namespace {

using testing::Fixture;
using testing::S;

constexpr const char* kLatencyRules = R"(
groups:
  - name: example
    rules:
      - alert: HighLatency
        expr: latency > 0.5
        for: 2m
        labels:
          severity: warning
          where: "{{ $labels.instance }}"
        annotations:
          summary: "Latency {{ $value | humanize }}s on {{ $labels.instance }}"
          cluster: "{{ $externalLabels.cluster }}"
)";

const Labels kSeries{{"__name__", "latency"}, {"instance", "api:8000"}, {"job", "api"}};

TEST_CASE("alert goes inactive -> pending -> firing -> resolved with `for`", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(kLatencyRules).ok());
  auto g = f.OnlyGroup();
  g->RestoreForState(0);  // nothing stored: ALERTS are written from now on
  auto& rule = static_cast<AlertingRule&>(*g->rules()[0]);
  CHECK(rule.query() == "latency > 0.5");

  // t=0: nothing returned.
  g->Iterate(0);
  CHECK(rule.State() == AlertState::kInactive);
  CHECK(rule.ActiveAlerts().empty());

  // t=15s: the series appears -> pending, activeAt 15s.
  f.Set("latency > 0.5", {S(kSeries, 0.75)});
  g->Iterate(15'000);
  auto alerts = rule.ActiveAlerts();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].state == AlertState::kPending);
  CHECK(alerts[0].active_at == 15'000);
  CHECK(alerts[0].labels == Labels{{"alertname", "HighLatency"}, {"instance", "api:8000"},
                                   {"job", "api"}, {"severity", "warning"},
                                   {"where", "api:8000"}});
  REQUIRE(alerts[0].annotations.size() == 2);
  CHECK(alerts[0].annotations[0] == std::pair<std::string, std::string>("cluster", "eu1"));
  CHECK(alerts[0].annotations[1] ==
        std::pair<std::string, std::string>("summary", "Latency 750ms on api:8000"));

  // Still pending just before `for` has elapsed; firing exactly when it has.
  f.Set("latency > 0.5", {S(kSeries, 0.8)});
  g->Iterate(15'000 + 105'000);
  CHECK(rule.ActiveAlerts()[0].state == AlertState::kPending);
  CHECK(rule.ActiveAlerts()[0].value == 0.8);
  g->Iterate(15'000 + 120'000);
  alerts = rule.ActiveAlerts();
  CHECK(alerts[0].state == AlertState::kFiring);
  CHECK(alerts[0].fired_at == 135'000);
  CHECK(alerts[0].active_at == 15'000);

  // The ALERTS series as Prometheus writes them: pending samples, then firing ones.
  auto series = f.Read("ALERTS");
  Labels pending{{"__name__", "ALERTS"}, {"alertname", "HighLatency"}, {"alertstate", "pending"},
                 {"instance", "api:8000"}, {"job", "api"}, {"severity", "warning"},
                 {"where", "api:8000"}};
  Labels firing{{"__name__", "ALERTS"}, {"alertname", "HighLatency"}, {"alertstate", "firing"},
                {"instance", "api:8000"}, {"job", "api"}, {"severity", "warning"},
                {"where", "api:8000"}};
  REQUIRE(series.count(pending) == 1);
  REQUIRE(series.count(firing) == 1);
  // Pending written at 15s and 120s, then marked stale when the state changed to firing.
  REQUIRE(series[pending].size() == 3);
  CHECK(series[pending][0].t == 15'000);
  CHECK(series[pending][0].v == 1);
  CHECK(series[pending][1].t == 120'000);
  CHECK(series[pending][2].t == 135'000);
  CHECK(IsStaleNaN(series[pending][2].v));
  REQUIRE(series[firing].size() == 1);
  CHECK(series[firing][0].t == 135'000);

  // ALERTS_FOR_STATE carries activeAt in seconds.
  auto for_state = f.Read("ALERTS_FOR_STATE");
  Labels fs{{"__name__", "ALERTS_FOR_STATE"}, {"alertname", "HighLatency"},
            {"instance", "api:8000"}, {"job", "api"}, {"severity", "warning"},
            {"where", "api:8000"}};
  REQUIRE(for_state.count(fs) == 1);
  CHECK(for_state[fs].back().v == 15);

  // The series disappears: resolved, kept (inactive) for resending, ALERTS goes stale.
  f.Set("latency > 0.5", {});
  g->Iterate(150'000);
  CHECK(rule.ActiveAlerts().empty());
  auto current = rule.CurrentAlerts();
  REQUIRE(current.size() == 1);
  CHECK(current[0].state == AlertState::kInactive);
  CHECK(current[0].resolved_at == 150'000);
  series = f.Read("ALERTS");
  CHECK(IsStaleNaN(series[firing].back().v));
  CHECK(series[firing].back().t == 150'000);

  // Dropped once the resolution is older than 15 minutes.
  g->Iterate(150'000 + kResolvedRetentionMs);
  CHECK(rule.CurrentAlerts().size() == 1);
  g->Iterate(150'000 + kResolvedRetentionMs + 15'000);
  CHECK(rule.CurrentAlerts().empty());
}

TEST_CASE("a pending alert whose series disappears is dropped at once", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(kLatencyRules).ok());
  auto g = f.OnlyGroup();
  g->RestoreForState(0);
  auto& rule = static_cast<AlertingRule&>(*g->rules()[0]);
  f.Set("latency > 0.5", {S(kSeries, 0.75)});
  g->Iterate(0);
  CHECK(rule.State() == AlertState::kPending);
  f.Set("latency > 0.5", {});
  g->Iterate(15'000);
  CHECK(rule.CurrentAlerts().empty());
  CHECK(rule.State() == AlertState::kInactive);
  // A new episode starts over with a new activeAt.
  f.Set("latency > 0.5", {S(kSeries, 0.75)});
  g->Iterate(30'000);
  CHECK(rule.ActiveAlerts()[0].active_at == 30'000);
}

TEST_CASE("keep_firing_for keeps a firing alert after its series is gone", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(R"(
groups:
  - name: g
    rules:
      - alert: Flappy
        expr: up == 0
        keep_firing_for: 1m
)").ok());
  auto g = f.OnlyGroup();
  g->RestoreForState(0);
  auto& rule = static_cast<AlertingRule&>(*g->rules()[0]);
  const Labels up{{"__name__", "up"}, {"job", "x"}};
  f.Set("up == 0", {S(up, 0)});
  g->Iterate(0);
  CHECK(rule.ActiveAlerts()[0].state == AlertState::kFiring);  // no `for`: fires at once
  f.Set("up == 0", {});
  g->Iterate(15'000);
  auto a = rule.ActiveAlerts();
  REQUIRE(a.size() == 1);
  CHECK(a[0].state == AlertState::kFiring);
  CHECK(a[0].keep_firing_since == 15'000);
  g->Iterate(60'000);
  CHECK(rule.ActiveAlerts()[0].state == AlertState::kFiring);
  g->Iterate(75'000);  // 60s after keep_firing_since: resolved
  CHECK(rule.ActiveAlerts().empty());
  CHECK(rule.CurrentAlerts()[0].resolved_at == 75'000);

  // Coming back while kept firing resets keepFiringSince.
  f.Set("up == 0", {S(up, 0)});
  g->Iterate(90'000);
  f.Set("up == 0", {});
  g->Iterate(105'000);
  f.Set("up == 0", {S(up, 0)});
  g->Iterate(120'000);
  CHECK(rule.ActiveAlerts()[0].keep_firing_since == kNoTime);
}

TEST_CASE("alerts are sent when firing, resent after the resend delay, resolved at once",
          "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(R"(
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 30s
)").ok());
  auto g = f.OnlyGroup();
  g->RestoreForState(0);
  const Labels up{{"__name__", "up"}, {"job", "x"}};
  f.Set("up == 0", {S(up, 0)});
  g->Iterate(0);
  g->Iterate(15'000);
  CHECK(f.sent.empty());  // pending alerts are never sent
  g->Iterate(30'000);     // fires
  REQUIRE(f.sent.size() == 1);
  CHECK(f.sent[0].expr == "up == 0");
  REQUIRE(f.sent[0].alerts.size() == 1);
  const Alert& a = f.sent[0].alerts[0];
  CHECK(a.state == AlertState::kFiring);
  CHECK(a.fired_at == 30'000);
  CHECK(a.valid_until == 30'000 + 4 * 60'000);  // 4 x max(interval 15s, resend delay 1m)
  g->Iterate(45'000);
  g->Iterate(90'000);
  CHECK(f.sent.size() == 1);  // last sent at 30s; 30s + 1m is not before 90s
  g->Iterate(105'000);
  REQUIRE(f.sent.size() == 2);
  CHECK(f.sent[1].alerts[0].valid_until == 105'000 + 240'000);
  // Resolution is sent immediately, then again every resend delay.
  f.Set("up == 0", {});
  g->Iterate(120'000);
  REQUIRE(f.sent.size() == 3);
  CHECK(f.sent[2].alerts[0].state == AlertState::kInactive);
  CHECK(f.sent[2].alerts[0].resolved_at == 120'000);
  g->Iterate(135'000);
  CHECK(f.sent.size() == 3);
  g->Iterate(195'000);
  CHECK(f.sent.size() == 4);
  CHECK(f.sent[3].alerts[0].resolved_at == 120'000);
}

TEST_CASE("alert labels that collide after templating fail the rule", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(R"(
groups:
  - name: g
    rules:
      - alert: Collide
        expr: up == 0
        labels:
          instance: same
      - record: after
        expr: vector(1)
)").ok());
  auto g = f.OnlyGroup();
  f.Set("up == 0", {S(Labels{{"__name__", "up"}, {"instance", "a"}}, 0),
                    S(Labels{{"__name__", "up"}, {"instance", "b"}}, 0)});
  f.Set("vector(1)", {S(Labels{}, 1)});
  g->Iterate(0);
  const Rule& r = *g->rules()[0];
  CHECK(r.health() == RuleHealth::kBad);
  CHECK(r.last_error() ==
        "vector contains metrics with the same labelset after applying alert labels");
  // The next rule of the group still ran.
  CHECK(g->rules()[1]->health() == RuleHealth::kGood);
  CHECK(f.Read("after").size() == 1);
}

TEST_CASE("the group limit drops every alert of a rule that exceeds it", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(R"(
groups:
  - name: g
    limit: 1
    rules:
      - alert: Many
        expr: up == 0
)").ok());
  auto g = f.OnlyGroup();
  f.Set("up == 0", {S(Labels{{"__name__", "up"}, {"instance", "a"}}, 0),
                    S(Labels{{"__name__", "up"}, {"instance", "b"}}, 0)});
  g->Iterate(0);
  auto& rule = static_cast<AlertingRule&>(*g->rules()[0]);
  CHECK(rule.last_error() == "exceeded limit of 1 with 2 alerts");
  CHECK(rule.CurrentAlerts().empty());
}

TEST_CASE("ALERTS are not written until `for` state is restored", "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(kLatencyRules).ok());
  auto g = f.OnlyGroup();
  f.Set("latency > 0.5", {S(kSeries, 0.75)});
  g->Iterate(0);
  CHECK(f.Read("ALERTS").empty());
  g->RestoreForState(15'000);
  g->Iterate(15'000);
  CHECK(f.Read("ALERTS").size() == 1);
}

TEST_CASE("template expansion errors become the annotation text, not a rule failure",
          "[rules][alerting]") {
  Fixture f;
  REQUIRE(f.Load(R"(
groups:
  - name: g
    rules:
      - alert: BadTemplate
        expr: up == 0
        annotations:
          summary: "{{ humanize $labels.job }}"
)").ok());
  auto g = f.OnlyGroup();
  f.Set("up == 0", {S(Labels{{"__name__", "up"}, {"job", "x"}}, 0)});
  g->Iterate(0);
  auto& rule = static_cast<AlertingRule&>(*g->rules()[0]);
  CHECK(rule.health() == RuleHealth::kGood);
  CHECK(rule.ActiveAlerts()[0].annotations[0].second ==
        "<error expanding template: error executing template __alert_BadTemplate: template: "
        "__alert_BadTemplate:1:115: executing \"__alert_BadTemplate\" at <humanize "
        "$labels.job>: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid "
        "syntax>");
}

}  // namespace
}  // namespace hearth::rules
