// End to end: the seed's alerting rules (with shorter `for`) evaluated by the rule manager with
// the real PromQL engine, sent by the notifier to a real Alertmanager 0.25 (Debian's
// prometheus-alertmanager), which delivers them to a webhook receiver in this test.

#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "config/load.h"
#include "query/engine.h"
#include "rules/engine_query.h"
#include "rules/notifier.h"
#include "tests/common/http_client.h"
#include "tests/rules/rules_fixture.h"
#include "web/http.h"

extern char** environ;

namespace hearth::rules {
namespace {

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

class Process {
 public:
  explicit Process(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, &status, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Collects the webhook notifications Alertmanager delivers.
class Webhook {
 public:
  Webhook() {
    web::HttpServerOptions o;
    o.listen_address = "127.0.0.1:0";
    auto s = web::HttpServer::Start(
        o,
        [this](const web::HttpRequest& req, web::HttpResponse& res) {
          std::lock_guard lock(mu_);
          bodies_.push_back(req.body);
          res.status = 200;
        },
        Logger::Discard());
    REQUIRE(s.ok());
    server_ = std::move(s).value();
  }
  ~Webhook() { server_->Stop(); }
  int port() const { return server_->port(); }
  // Waits (bounded) for a notification containing every one of `needles`.
  std::string WaitFor(const std::vector<std::string>& needles, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (const auto& b : bodies_) {
          bool all = true;
          for (const auto& n : needles) all = all && b.find(n) != std::string::npos;
          if (all) return b;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }

 private:
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::unique_ptr<web::HttpServer> server_;
};

TEST_CASE("seed alerts reach a real Alertmanager and its webhook, firing then resolved",
          "[rules][e2e]") {
  if (!std::filesystem::exists(kAlertmanager)) {
    WARN("prometheus-alertmanager not installed; skipping");
    return;
  }
  testing::TempDir dir;
  Webhook hook;
  const int am_port = hearth::testing::PickFreePort();
  std::string am_config = dir.Write("alertmanager.yml", fmt::format(R"(
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{}/hook
        send_resolved: true
)", hook.port()));
  std::filesystem::create_directories(dir.path() / "am-data");
  Process am({kAlertmanager, "--config.file=" + am_config,
              fmt::format("--web.listen-address=127.0.0.1:{}", am_port),
              "--cluster.listen-address=", "--storage.path=" + (dir.path() / "am-data").string()});
  REQUIRE(am.ok());
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    ready = hearth::testing::HttpGet(am_port, "/-/ready").status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ready);

  // The seed's rules with shorter `for` durations.
  std::string seed;
  {
    std::ifstream in("/work/shared/seed/alert.rules.yml");
    if (in) seed.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (seed.empty()) {
    seed = R"(groups:
  - name: example-alerts
    rules:
      - alert: HighRequestLatency
        expr: histogram_quantile(0.99, sum(rate(app_request_latency_seconds_bucket[5m])) by (le)) > 0.5
        for: 2m
        labels:
          severity: warning
        annotations:
          summary: "High request latency detected"
          description: "99th percentile latency is above 0.5 seconds for more than 2 minutes."
      - alert: ServiceDown
        expr: up{job="fastapi"} == 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "FastAPI service down"
          description: "The FastAPI service has been down for more than 5 minutes."
)";
  }
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = seed.find(from);
    REQUIRE(at != std::string::npos);
    seed.replace(at, from.size(), to);
  };
  replace("for: 2m", "for: 30s");
  replace("for: 5m", "for: 1m");
  std::string rules_path = dir.Write("alert.rules.yml", seed);

  // Storage with the scraped data the rules look at: the API is down and slow.
  storage::MemStore store;
  RealClock clock;
  const int64_t now = clock.NowMs();
  const int64_t start = now - 10 * 60'000;
  {
    auto app = store.NewAppender();
    const Labels up{{"__name__", "up"}, {"instance", "api:8000"}, {"job", "fastapi"}};
    int n = 0;
    for (int64_t t = start; t <= now; t += 15'000, ++n) {
      REQUIRE(app->Append(0, up, t, 0).ok());
      for (const char* le : {"0.1", "0.5", "1", "+Inf"}) {
        Labels b{{"__name__", "app_request_latency_seconds_bucket"}, {"job", "fastapi"},
                 {"le", le}};
        double slow = std::string(le) == "1" || std::string(le) == "+Inf" ? 10.0 * n : 0;
        REQUIRE(app->Append(0, b, t, slow).ok());
      }
    }
    REQUIRE(app->Commit().ok());
  }

  metrics::Registry registry;
  NotifierOptions no;
  no.clock = &clock;
  no.registry = &registry;
  no.user_agent = "Prometheus/3.0.0";
  Notifier notifier(no);
  auto cfg = LoadConfigString(fmt::format(R"(
global:
  evaluation_interval: 15s
  external_labels:
    monitor: hearth
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{}']
rule_files: ['{}']
)", am_port, rules_path), "prometheus.yml", dir.path().string());
  REQUIRE(cfg.ok());
  REQUIRE(notifier.ApplyConfig(*cfg).ok());
  notifier.Start();

  promql::Engine engine(promql::EngineOptions{});
  ManagerOptions mo;
  mo.appendable = &store;
  mo.queryable = &store;
  mo.clock = &clock;
  mo.query = EngineQueryFunc(engine, store);
  mo.parse_expr = PromQLExprParser();
  mo.notify = SendAlertsTo(&notifier, "http://hearth.test:9090");
  mo.external_url = "http://hearth.test:9090";
  Manager manager(std::move(mo));
  REQUIRE(manager.ApplyConfig(*cfg).ok());
  auto groups = manager.Groups();
  REQUIRE(groups.size() == 1);
  auto g = groups[0];

  // Evaluate the last few minutes in simulated time: both alerts go pending, then fire.
  for (int64_t t = now - 3 * 60'000; t <= now; t += 15'000) {
    g->Iterate(t);
    if (t == now - 3 * 60'000) g->RestoreForState(t);
  }
  auto infos = manager.RuleGroups();
  REQUIRE(infos[0].rules.size() == 2);
  for (const auto& r : infos[0].rules) {
    INFO(r.name << " " << r.last_error);
    CHECK(r.health == RuleHealth::kGood);
    CHECK(r.state == AlertState::kFiring);
  }

  std::string firing = hook.WaitFor({"\"status\":\"firing\"", "\"alertname\":\"ServiceDown\""},
                                    20'000);
  REQUIRE_FALSE(firing.empty());
  CHECK(firing.find("\"severity\":\"critical\"") != std::string::npos);
  CHECK(firing.find("\"summary\":\"FastAPI service down\"") != std::string::npos);
  CHECK(firing.find("\"description\":\"The FastAPI service has been down for more than 5 "
                    "minutes.\"") != std::string::npos);
  CHECK(firing.find("\"monitor\":\"hearth\"") != std::string::npos);
  CHECK(firing.find("\"instance\":\"api:8000\"") != std::string::npos);
  CHECK(firing.find("\"generatorURL\":\"http://hearth.test:9090/graph?g0.expr=up%7Bjob%3D%22"
                    "fastapi%22%7D+%3D%3D+0\\u0026g0.tab=1\"") != std::string::npos);
  std::string latency = hook.WaitFor(
      {"\"status\":\"firing\"", "\"alertname\":\"HighRequestLatency\""}, 20'000);
  REQUIRE_FALSE(latency.empty());
  CHECK(latency.find("\"summary\":\"High request latency detected\"") != std::string::npos);
  CHECK(latency.find("\"severity\":\"warning\"") != std::string::npos);

  // The service comes back: the alert resolves, and the resolution reaches the webhook.
  {
    auto app = store.NewAppender();
    const Labels up{{"__name__", "up"}, {"instance", "api:8000"}, {"job", "fastapi"}};
    REQUIRE(app->Append(0, up, now + 1, 1).ok());
    REQUIRE(app->Commit().ok());
  }
  const int64_t resolve_at = std::max(clock.NowMs(), now + 1);
  g->Iterate(resolve_at);
  std::string resolved = hook.WaitFor({"\"status\":\"resolved\"", "\"alertname\":\"ServiceDown\""},
                                      20'000);
  REQUIRE_FALSE(resolved.empty());
  CHECK(resolved.find("\"summary\":\"FastAPI service down\"") != std::string::npos);
  notifier.Stop();
  std::string m = registry.Render();
  CHECK(m.find("prometheus_notifications_dropped_total 0") != std::string::npos);
}

}  // namespace
}  // namespace hearth::rules
