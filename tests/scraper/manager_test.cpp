// End-to-end: the scrape manager against real HTTP targets on 127.0.0.1, storing into MemStore
// and read back through the Querier.
#include "scraper/manager.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "model/relabel.h"
#include "tests/common/http_client.h"
#include "tests/scraper/store_util.h"
#include "tests/scraper/test_util.h"
#include "tsdb/storage/memstore.h"

namespace {

using namespace hearth;
using namespace hearth::scraper;
using hearth::scraper::testing::FakeTarget;
using hearth::scraper::testing::Read;

// Polls `pred` every 20 ms for at most `ms`.
bool WaitFor(const std::function<bool()>& pred, int ms = 5000) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

ScrapeConfig Job(const std::string& name, std::vector<std::string> addresses,
                 int64_t interval_ms = 100, int64_t timeout_ms = 100) {
  ScrapeConfig c;
  c.job_name = name;
  c.scrape_interval_ms = interval_ms;
  c.scrape_timeout_ms = timeout_ms;
  TargetGroup g;
  g.source = "0";
  for (auto& a : addresses) g.targets.push_back(Labels{{"__address__", a}});
  c.service_discovery.static_configs.push_back(std::move(g));
  return c;
}

Config WithJobs(std::vector<ScrapeConfig> jobs) {
  Config c;
  c.scrape_configs = std::move(jobs);
  return c;
}

struct Env {
  storage::MemStore store;
  metrics::Registry registry;
  std::unique_ptr<ScrapeManager> mgr;
  Env() {
    ScrapeManagerOptions o;
    o.offset_scrapes = false;
    o.registry = &registry;
    mgr = std::make_unique<ScrapeManager>(store, o);
  }
  std::string Key(const std::string& name, const std::string& job, const std::string& addr,
                  const std::string& extra = "") {
    return "{__name__=\"" + name + "\", " + extra + "instance=\"" + addr + "\", job=\"" + job +
           "\"}";
  }
  std::vector<Sample> Samples(const std::string& key) {
    auto all = Read(store);
    auto it = all.find(key);
    return it == all.end() ? std::vector<Sample>{} : it->second;
  }
  std::optional<TargetState> Target(const std::string& job) {
    for (auto& t : mgr->ActiveTargets()) {
      if (t.scrape_pool == job) return t;
    }
    return std::nullopt;
  }
};

RelabelConfig Rc(RelabelAction a, std::vector<std::string> src, std::string regex,
                 std::string target = "", std::string replacement = "$1") {
  RelabelConfig c;
  c.action = a;
  c.source_labels = std::move(src);
  c.regex = RelabelRegex::Make(regex).value();
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return c;
}

}  // namespace

TEST_CASE("manager scrapes a target: values, labels and aligned timestamps",
          "[scraper][manager]") {
  FakeTarget target;
  target.Set("# HELP req_total Requests.\n# TYPE req_total counter\nreq_total{code=\"200\"} 7\n",
             200, "text/plain; version=0.0.4", /*gzip=*/true);
  Env env;
  REQUIRE(env.mgr->ApplyConfig(WithJobs({Job("api", {target.address()})})).ok());
  std::string key = env.Key("req_total", "api", target.address(), "code=\"200\", ");
  REQUIRE(WaitFor([&] { return env.Samples(key).size() >= 3; }));
  auto s = env.Samples(key);
  CHECK(s[0].v == 7);
  // Timestamps follow the 100 ms schedule.
  for (size_t i = 1; i < s.size(); ++i) CHECK(s[i].t - s[i - 1].t >= 90);
  auto up = env.Samples(env.Key("up", "api", target.address()));
  REQUIRE_FALSE(up.empty());
  CHECK(up.back().v == 1);
  auto t = env.Target("api");
  REQUIRE(t);
  CHECK(t->health == TargetHealth::kUp);
  CHECK(t->last_error.empty());
  CHECK(t->last_scrape_ms > 0);
  CHECK(t->scrape_url == "http://" + target.address() + "/metrics");
  CHECK(t->labels == Labels{{"instance", target.address()}, {"job", "api"}});
  CHECK(t->discovered_labels.Get("__address__") == target.address());
  // Request headers as Prometheus sends them.
  auto req = target.last();
  CHECK(req.Header("accept") ==
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
  CHECK(req.Header("x-prometheus-scrape-timeout-seconds") == "0.1");
  CHECK(req.Header("accept-encoding") == "gzip");
  // Metadata for the targets metadata API.
  auto md = env.mgr->TargetsMetadata();
  REQUIRE(md.size() == 1);
  CHECK(md[0].metric == "req_total");
  CHECK(md[0].help == "Requests.");
  env.mgr->Stop();
  // Shutdown writes staleness markers.
  CHECK(IsStaleNaN(env.Samples(key).back().v));
  CHECK(IsStaleNaN(env.Samples(env.Key("up", "api", target.address())).back().v));
}

TEST_CASE("manager writes staleness markers when a series or a target disappears",
          "[scraper][manager]") {
  FakeTarget a, b;
  a.Set("x 1\ny 1\n");
  b.Set("z 1\n");
  Env env;
  REQUIRE(env.mgr->ApplyConfig(WithJobs({Job("j", {a.address(), b.address()})})).ok());
  std::string y = env.Key("y", "j", a.address());
  std::string z = env.Key("z", "j", b.address());
  REQUIRE(WaitFor([&] { return !env.Samples(y).empty() && !env.Samples(z).empty(); }));
  a.Set("x 2\n");
  REQUIRE(WaitFor([&] {
    auto s = env.Samples(y);
    return !s.empty() && IsStaleNaN(s.back().v);
  }));
  // Target b removed from the config: its series go stale, a keeps running.
  REQUIRE(env.mgr->ApplyConfig(WithJobs({Job("j", {a.address()})})).ok());
  REQUIRE(WaitFor([&] {
    auto s = env.Samples(z);
    return !s.empty() && IsStaleNaN(s.back().v);
  }));
  CHECK(IsStaleNaN(env.Samples(env.Key("up", "j", b.address())).back().v));
  CHECK(env.mgr->ActiveTargets().size() == 1);
}

TEST_CASE("failed scrapes report up=0 and Prometheus' error text", "[scraper][manager]") {
  Env env;
  FakeTarget target;
  std::string addr = target.address();
  ScrapeConfig job = Job("j", {addr}, 200, 100);
  std::string expected;
  SECTION("refused connection") {
    int port = hearth::testing::PickFreePort();
    addr = "127.0.0.1:" + std::to_string(port);
    job = Job("j", {addr}, 200, 100);
    expected = "Get \"http://" + addr + "/metrics\": dial tcp " + addr +
               ": connect: connection refused";
  }
  SECTION("timeout") {
    target.SetHandler([](const web::HttpRequest&, web::HttpResponse& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.body = "a 1\n";
    });
    expected = "Get \"http://" + addr + "/metrics\": context deadline exceeded";
  }
  SECTION("HTTP 500") {
    target.Set("boom", 500);
    expected = "server returned HTTP status 500 Internal Server Error";
  }
  SECTION("body over body_size_limit") {
    target.Set("a 1\n" + std::string(2000, '#') + "\n");
    job.body_size_limit_bytes = 1000;
    expected = "body size limit exceeded";
  }
  SECTION("sample_limit breach") {
    target.Set("a 1\nb 1\nc 1\n");
    job.sample_limit = 2;
    expected = "sample limit exceeded";
  }
  SECTION("garbage in the body") {
    target.Set("a{b='c'} 1\n");
    expected =
        "expected label value, got \"'\" (\"INVALID\") while parsing: \"a{b='\" (line 1, "
        "column 5)";
  }
  REQUIRE(env.mgr->ApplyConfig(WithJobs({job})).ok());
  REQUIRE(WaitFor([&] {
    auto t = env.Target("j");
    return t && t->health == TargetHealth::kDown;
  }));
  auto t = env.Target("j");
  CHECK(t->last_error == expected);
  auto up = env.Samples(env.Key("up", "j", addr));
  REQUIRE_FALSE(up.empty());
  CHECK(up.back().v == 0);
}

TEST_CASE("relabel_configs drop and rewrite targets; dropped targets are kept",
          "[scraper][manager]") {
  FakeTarget a, b;
  a.Set("m 1\n");
  b.Set("m 2\n");
  Env env;
  ScrapeConfig job = Job("j", {a.address(), b.address()});
  job.relabel_configs.push_back(
      Rc(RelabelAction::kDrop, {"__address__"}, "127\\.0\\.0\\.1:" + std::to_string(b.port())));
  job.relabel_configs.push_back(
      Rc(RelabelAction::kReplace, {"__address__"}, "(.*):(\\d+)", "instance", "host-$2"));
  job.metric_relabel_configs.push_back(
      Rc(RelabelAction::kReplace, {"__name__"}, "m", "__name__", "renamed"));
  REQUIRE(env.mgr->ApplyConfig(WithJobs({job})).ok());
  std::string inst = "host-" + std::to_string(a.port());
  REQUIRE(WaitFor([&] {
    return !env.Samples("{__name__=\"renamed\", instance=\"" + inst + "\", job=\"j\"}").empty();
  }));
  auto active = env.mgr->ActiveTargets();
  REQUIRE(active.size() == 1);
  CHECK(active[0].labels.Get("instance") == inst);
  auto dropped = env.mgr->DroppedTargets();
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].discovered_labels.Get("__address__") == b.address());
  CHECK(b.requests() == 0);
  CHECK(Read(env.store, "m").empty());
}

TEST_CASE("reload keeps unchanged targets' loops and caches", "[scraper][manager]") {
  FakeTarget a, b;
  a.Set("m 1\n");
  b.Set("n 1\n");
  Env env;
  Config cfg = WithJobs({Job("ja", {a.address()}), Job("jb", {b.address()})});
  REQUIRE(env.mgr->ApplyConfig(cfg).ok());
  REQUIRE(WaitFor([&] {
    auto ta = env.Target("ja"), tb = env.Target("jb");
    return ta && tb && ta->health == TargetHealth::kUp && tb->health == TargetHealth::kUp;
  }));
  uint64_t id_a = env.Target("ja")->loop_id;
  uint64_t id_b = env.Target("jb")->loop_id;
  // The same config again: nothing restarts.
  REQUIRE(env.mgr->ApplyConfig(cfg).ok());
  CHECK(env.Target("ja")->loop_id == id_a);
  CHECK(env.Target("jb")->loop_id == id_b);
  // Job jb changes (interval): its loop is replaced and takes the cache over, ja is untouched.
  cfg.scrape_configs[1].scrape_interval_ms = 150;
  REQUIRE(env.mgr->ApplyConfig(cfg).ok());
  CHECK(env.Target("ja")->loop_id == id_a);
  auto tb = env.Target("jb");
  REQUIRE(tb);
  CHECK(tb->loop_id != id_b);
  CHECK(tb->scrape_interval_ms == 150);
  std::string added = env.Key("scrape_series_added", "jb", b.address());
  size_t before = env.Samples(added).size();
  REQUIRE(WaitFor([&] { return env.Samples(added).size() >= before + 2; }));
  // The carried-over cache knew the series: nothing added after the reload.
  CHECK(env.Samples(added).back().v == 0);
  // No staleness marker for the continuing series.
  auto n = env.Samples(env.Key("n", "jb", b.address()));
  for (const auto& s : n) CHECK_FALSE(IsStaleNaN(s.v));
  // Removing job ja stops it with staleness markers.
  REQUIRE(env.mgr->ApplyConfig(WithJobs({cfg.scrape_configs[1]})).ok());
  REQUIRE(WaitFor([&] {
    auto s = env.Samples(env.Key("m", "ja", a.address()));
    return !s.empty() && IsStaleNaN(s.back().v);
  }));
  CHECK(env.mgr->ScrapePools() == std::vector<std::string>{"jb"});
}

TEST_CASE("http_sd discovers targets with their labels", "[scraper][manager]") {
  FakeTarget exporter, sd;
  exporter.Set("m 1\n");
  sd.Set("[{\"targets\": [\"" + exporter.address() + "\"], \"labels\": {\"env\": \"prod\"}}]",
         200, "application/json");
  Env env;
  ScrapeConfig job = Job("sd", {});
  job.service_discovery.static_configs.clear();
  HttpSdConfig h;
  h.url = "http://" + sd.address() + "/sd";
  h.refresh_interval_ms = 100;
  job.service_discovery.http_sd_configs.push_back(h);
  REQUIRE(env.mgr->ApplyConfig(WithJobs({job})).ok());
  std::string key = "{__name__=\"m\", env=\"prod\", instance=\"" + exporter.address() +
                    "\", job=\"sd\"}";
  REQUIRE(WaitFor([&] { return !env.Samples(key).empty(); }));
  auto t = env.Target("sd");
  REQUIRE(t);
  CHECK(t->discovered_labels.Get("__meta_url") == h.url);
  // The SD endpoint stops listing the target: it goes away.
  sd.Set("[]", 200, "application/json");
  REQUIRE(WaitFor([&] { return env.mgr->ActiveTargets().empty(); }));
}

TEST_CASE("target groups from discovery are applied per provider", "[scraper][manager]") {
  FakeTarget a;
  a.Set("m 1\n");
  Env env;
  // Groups may arrive before the job is configured.
  TargetGroup g;
  g.source = "f.json:0";
  g.targets.push_back(Labels{{"__address__", a.address()}});
  g.labels = Labels{{"team", "x"}};
  env.mgr->SetTargetGroups("files", "file_sd/0", {g});
  ScrapeConfig job = Job("files", {});
  job.service_discovery.static_configs.clear();
  REQUIRE(env.mgr->ApplyConfig(WithJobs({job})).ok());
  REQUIRE(WaitFor([&] {
    return !env.Samples("{__name__=\"m\", instance=\"" + a.address() +
                        "\", job=\"files\", team=\"x\"}")
                .empty();
  }));
  env.mgr->SetTargetGroups("files", "file_sd/0", {});
  CHECK(env.mgr->ActiveTargets().empty());
}
