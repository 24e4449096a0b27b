#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "config/load.h"
#include "rules/notifier.h"
#include "tests/rules/rules_fixture.h"
#include "web/http.h"

namespace hearth::rules {
namespace {

// A fake Alertmanager: records every request and answers with `status`.
class FakeAm {
 public:
  explicit FakeAm(int status = 200, int delay_ms = 0) : status_(status), delay_ms_(delay_ms) {
    web::HttpServerOptions o;
    o.listen_address = "127.0.0.1:0";
    auto s = web::HttpServer::Start(
        o,
        [this](const web::HttpRequest& req, web::HttpResponse& res) {
          if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
          std::lock_guard lock(mu_);
          requests_.push_back(req);
          res.status = status_;
          res.body = "";
        },
        Logger::Discard());
    REQUIRE(s.ok());
    server_ = std::move(s).value();
  }
  ~FakeAm() { server_->Stop(); }
  int port() const { return server_->port(); }
  std::vector<web::HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  int status_;
  int delay_ms_;
  std::mutex mu_;
  std::vector<web::HttpRequest> requests_;
  std::unique_ptr<web::HttpServer> server_;
};

Config LoadYaml(const std::string& yaml, const std::string& dir = "") {
  auto c = LoadConfigString(yaml, "prometheus.yml", dir);
  INFO(c.status().message());
  REQUIRE(c.ok());
  return std::move(c).value();
}

NotifierAlert MakeAlert(std::string name, int64_t starts = 1'700'000'000'123) {
  NotifierAlert a;
  a.labels = Labels{{"alertname", name}, {"severity", "page"}};
  a.annotations = {{"summary", "it <broke> & \"stopped\""}};
  a.starts_at = starts;
  a.ends_at = starts + 240'000;
  a.generator_url = "http://hearth:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1";
  return a;
}

TEST_CASE("alerts encode as Alertmanager v2 PostableAlerts, byte for byte as Go",
          "[rules][notifier]") {
  std::string body = EncodeAlertsV2({MakeAlert("Down")});
  CHECK(body ==
        "[{\"annotations\":{\"summary\":\"it \\u003cbroke\\u003e \\u0026 \\\"stopped\\\"\"},"
        "\"endsAt\":\"2023-11-14T22:17:20.123Z\",\"startsAt\":\"2023-11-14T22:13:20.123Z\","
        "\"generatorURL\":\"http://hearth:9090/graph?g0.expr=up+%3D%3D+0\\u0026g0.tab=1\","
        "\"labels\":{\"alertname\":\"Down\",\"severity\":\"page\"}}]");
  NotifierAlert bare;
  bare.labels = Labels{{"alertname", "X"}};
  CHECK(EncodeAlertsV2({bare}) ==
        "[{\"endsAt\":\"0001-01-01T00:00:00.000Z\",\"startsAt\":\"0001-01-01T00:00:00.000Z\","
        "\"labels\":{\"alertname\":\"X\"}}]");
  CHECK(EncodeAlertsV2({}) == "[]");
}

TEST_CASE("the notifier posts to path_prefix/api/v2/alerts with auth, external labels and "
          "relabeling", "[rules][notifier]") {
  FakeAm am;
  ManualClock clock(0);
  metrics::Registry registry;
  NotifierOptions o;
  o.clock = &clock;
  o.registry = &registry;
  o.user_agent = "Prometheus/3.0.0";
  Notifier n(o);
  Config cfg = LoadYaml(fmt::format(R"(
global:
  external_labels:
    cluster: eu1
    severity: none
alerting:
  alert_relabel_configs:
    - source_labels: [alertname]
      regex: Ignored
      action: drop
  alertmanagers:
    - path_prefix: /am/
      basic_auth:
        username: user
        password: pass
      static_configs:
        - targets: ['127.0.0.1:{}']
)", am.port()));
  REQUIRE(n.ApplyConfig(cfg).ok());
  REQUIRE(n.ActiveAlertmanagers() ==
          std::vector<std::string>{fmt::format("http://127.0.0.1:{}/am/api/v2/alerts", am.port())});
  n.Send({MakeAlert("Down"), MakeAlert("Ignored")});
  CHECK(n.QueueLength() == 1);
  REQUIRE(n.SendOneBatch());
  auto reqs = am.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/am/api/v2/alerts");
  CHECK(reqs[0].Header("content-type") == "application/json");
  CHECK(reqs[0].Header("user-agent") == "Prometheus/3.0.0");
  CHECK(reqs[0].Header("authorization") == "Basic dXNlcjpwYXNz");
  // External labels are added where the alert has none of its own.
  CHECK(reqs[0].body.find("\"labels\":{\"alertname\":\"Down\",\"cluster\":\"eu1\","
                          "\"severity\":\"page\"}") != std::string::npos);
  CHECK(reqs[0].body.find("Ignored") == std::string::npos);
  std::string m = registry.Render();
  std::string url = fmt::format("http://127.0.0.1:{}/am/api/v2/alerts", am.port());
  CHECK(m.find("prometheus_notifications_sent_total{alertmanager=\"" + url + "\"} 1") !=
        std::string::npos);
  CHECK(m.find("prometheus_notifications_queue_capacity 10000") != std::string::npos);
  CHECK(m.find("prometheus_notifications_alertmanagers_discovered 1") != std::string::npos);
}

TEST_CASE("batches hold at most 256 alerts", "[rules][notifier]") {
  FakeAm am;
  ManualClock clock(0);
  NotifierOptions o;
  o.clock = &clock;
  Notifier n(o);
  REQUIRE(n.ApplyConfig(LoadYaml(fmt::format(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{}']
)", am.port()))).ok());
  std::vector<NotifierAlert> alerts;
  for (int i = 0; i < 600; ++i) alerts.push_back(MakeAlert("A" + std::to_string(i)));
  n.Send(std::move(alerts));
  int batches = 0;
  while (n.SendOneBatch()) ++batches;
  CHECK(batches == 3);
  auto reqs = am.requests();
  REQUIRE(reqs.size() == 3);
  auto count = [](const std::string& body) {
    size_t c = 0;
    for (size_t p = body.find("\"alertname\""); p != std::string::npos;
         p = body.find("\"alertname\"", p + 1)) {
      ++c;
    }
    return c;
  };
  CHECK(count(reqs[0].body) == 256);
  CHECK(count(reqs[1].body) == 256);
  CHECK(count(reqs[2].body) == 88);
}

TEST_CASE("a full queue drops the oldest alerts and counts them", "[rules][notifier]") {
  ManualClock clock(0);
  metrics::Registry registry;
  NotifierOptions o;
  o.clock = &clock;
  o.registry = &registry;
  o.queue_capacity = 3;
  Notifier n(o);
  n.Send({MakeAlert("a"), MakeAlert("b")});
  n.Send({MakeAlert("c"), MakeAlert("d")});
  CHECK(n.QueueLength() == 3);
  n.Send({MakeAlert("e"), MakeAlert("f"), MakeAlert("g"), MakeAlert("h")});
  CHECK(n.QueueLength() == 3);
  CHECK(registry.Render().find("prometheus_notifications_dropped_total 5") != std::string::npos);
}

TEST_CASE("failed deliveries are counted as errors and dropped", "[rules][notifier]") {
  FakeAm am(500);
  ManualClock clock(0);
  metrics::Registry registry;
  NotifierOptions o;
  o.clock = &clock;
  o.registry = &registry;
  Notifier n(o);
  const int dead_port = 1;  // nothing listens on port 1
  REQUIRE(n.ApplyConfig(LoadYaml(fmt::format(R"(
alerting:
  alertmanagers:
    - timeout: 2s
      static_configs:
        - targets: ['127.0.0.1:{}', '127.0.0.1:{}']
)", am.port(), dead_port))).ok());
  n.Send({MakeAlert("a"), MakeAlert("b")});
  REQUIRE(n.SendOneBatch());
  std::string m = registry.Render();
  CHECK(m.find(fmt::format("prometheus_notifications_errors_total{{alertmanager=\"http://"
                           "127.0.0.1:{}/api/v2/alerts\"}} 2",
                           am.port())) != std::string::npos);
  CHECK(m.find("prometheus_notifications_errors_total{alertmanager=\"http://127.0.0.1:1/api/v2/"
               "alerts\"} 2") != std::string::npos);
  CHECK(m.find("prometheus_notifications_dropped_total 2") != std::string::npos);
}

TEST_CASE("an Alertmanager slower than its timeout fails the request", "[rules][notifier]") {
  FakeAm am(200, 1500);
  ManualClock clock(0);
  metrics::Registry registry;
  NotifierOptions o;
  o.clock = &clock;
  o.registry = &registry;
  Notifier n(o);
  REQUIRE(n.ApplyConfig(LoadYaml(fmt::format(R"(
alerting:
  alertmanagers:
    - timeout: 200ms
      static_configs:
        - targets: ['127.0.0.1:{}']
)", am.port()))).ok());
  n.Send({MakeAlert("a")});
  auto start = std::chrono::steady_clock::now();
  REQUIRE(n.SendOneBatch());
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::milliseconds(1200));
  CHECK(registry.Render().find("prometheus_notifications_dropped_total 1") != std::string::npos);
}

TEST_CASE("relabel_configs drop Alertmanagers, which are listed as dropped",
          "[rules][notifier]") {
  ManualClock clock(0);
  NotifierOptions o;
  o.clock = &clock;
  Notifier n(o);
  REQUIRE(n.ApplyConfig(LoadYaml(R"(
alerting:
  alertmanagers:
    - scheme: https
      relabel_configs:
        - source_labels: [__address__]
          regex: 'skip:.*'
          action: drop
      static_configs:
        - targets: ['am1:9093', 'skip:9093', 'am1:9093']
)")).ok());
  CHECK(n.ActiveAlertmanagers() == std::vector<std::string>{"https://am1:9093/api/v2/alerts"});
  CHECK(n.DroppedAlertmanagers() == std::vector<std::string>{"https://skip:9093/api/v2/alerts"});
}

TEST_CASE("file_sd Alertmanagers are read and followed when the file changes",
          "[rules][notifier]") {
  testing::TempDir dir;
  dir.Write("am.json", R"([{"targets": ["am1:9093"], "labels": {"env": "prod"}}])");
  RealClock clock;
  NotifierOptions o;
  o.clock = &clock;
  o.file_sd_poll_ms = 20;
  Notifier n(o);
  REQUIRE(n.ApplyConfig(LoadYaml(R"(
alerting:
  alertmanagers:
    - file_sd_configs:
        - files: ['*.json']
)", dir.path().string())).ok());
  CHECK(n.ActiveAlertmanagers() == std::vector<std::string>{"http://am1:9093/api/v2/alerts"});
  n.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  dir.Write("am.json", R"([{"targets": ["am2:9093", "am3:9093"]}])");
  for (int i = 0; i < 200 && n.ActiveAlertmanagers().size() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(n.ActiveAlertmanagers() ==
        std::vector<std::string>{"http://am2:9093/api/v2/alerts", "http://am3:9093/api/v2/alerts"});
  n.Stop();
}

TEST_CASE("the sender thread delivers queued alerts and drains on stop", "[rules][notifier]") {
  FakeAm am;
  RealClock clock;
  NotifierOptions o;
  o.clock = &clock;
  Notifier n(o);
  REQUIRE(n.ApplyConfig(LoadYaml(fmt::format(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{}']
)", am.port()))).ok());
  n.Start();
  n.Send({MakeAlert("a")});
  for (int i = 0; i < 200 && am.requests().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(am.requests().size() == 1);
  n.Stop();
}

TEST_CASE("SendAlertsTo maps rule alerts to startsAt, endsAt and generatorURL",
          "[rules][notifier]") {
  ManualClock clock(0);
  NotifierOptions o;
  o.clock = &clock;
  Notifier n(o);
  NotifyFunc notify = SendAlertsTo(&n, "http://hearth.example:9090");
  Alert firing;
  firing.state = AlertState::kFiring;
  firing.labels = Labels{{"alertname", "A"}};
  firing.fired_at = 1000;
  firing.valid_until = 241'000;
  Alert resolved = firing;
  resolved.labels = Labels{{"alertname", "B"}};
  resolved.state = AlertState::kInactive;
  resolved.resolved_at = 5000;
  notify("rate(x[5m]) > 1", {firing, resolved});
  REQUIRE(n.QueueLength() == 2);
  // Nothing is configured, so look at what would be sent.
  auto body = EncodeAlertsV2({});
  CHECK(body == "[]");
  // The mapping itself: drain the queue through an Alertmanager.
  FakeAm am;
  REQUIRE(n.ApplyConfig(LoadYaml(fmt::format(R"(
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{}']
)", am.port()))).ok());
  REQUIRE(n.SendOneBatch());
  auto reqs = am.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].body ==
        "[{\"endsAt\":\"1970-01-01T00:04:01.000Z\",\"startsAt\":\"1970-01-01T00:00:01.000Z\","
        "\"generatorURL\":\"http://hearth.example:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1"
        "\\u0026g0.tab=1\",\"labels\":{\"alertname\":\"A\"}},"
        "{\"endsAt\":\"1970-01-01T00:00:05.000Z\",\"startsAt\":\"1970-01-01T00:00:01.000Z\","
        "\"generatorURL\":\"http://hearth.example:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1"
        "\\u0026g0.tab=1\",\"labels\":{\"alertname\":\"B\"}}]");
}

}  // namespace
}  // namespace hearth::rules
