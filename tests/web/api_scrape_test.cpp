// /api/v1/targets and /api/v1/targets/metadata over a real scrape manager scraping the test
// server's own /metrics.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "config/load.h"
#include "scraper/manager.h"
#include "tests/web/api_fixture.h"
#include "web/scrape_targets.h"

using namespace hearth;
using hearth::testing::ApiFixture;

namespace {

bool WaitFor(const std::function<bool()>& pred, int ms = 10000) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

TEST_CASE("targets and their metadata come from the scrape manager", "[web][api]") {
  // The retriever is created before the manager exists; it reads through a pointer filled in
  // below (main wires the same way).
  struct Late final : web::TargetRetriever {
    std::unique_ptr<web::TargetRetriever> inner;
    std::vector<web::ActiveTarget> ActiveTargets() override { return inner->ActiveTargets(); }
    std::vector<web::DroppedTarget> DroppedTargets() override { return inner->DroppedTargets(); }
    std::map<std::string, size_t> DroppedTargetCounts() override {
      return inner->DroppedTargetCounts();
    }
    std::vector<web::TargetMetricMetadata> TargetsMetadata() override {
      return inner->TargetsMetadata();
    }
  } late;
  web::ApiSources src;
  src.targets = &late;
  ApiFixture f({}, src);

  RealClock clock;
  scraper::ScrapeManagerOptions o;
  o.offset_scrapes = false;
  o.clock = &clock;
  scraper::ScrapeManager scrapes(f.store, o);
  late.inner = web::NewScrapeTargetRetriever(scrapes, "http://hearth.example:9090/prometheus");

  std::string yaml =
      "scrape_configs:\n"
      "  - job_name: self\n"
      "    scrape_interval: 200ms\n"
      "    scrape_timeout: 200ms\n"
      "    static_configs:\n"
      "      - targets: ['127.0.0.1:" + std::to_string(f.port) + "']\n"
      "      - targets: ['127.0.0.1:1']\n"
      "        labels: {drop: 'yes'}\n"
      "    relabel_configs:\n"
      "      - {action: drop, source_labels: [drop], regex: 'yes'}\n";
  auto cfg = LoadConfigString(yaml);
  REQUIRE(cfg.ok());
  REQUIRE(scrapes.ApplyConfig(*cfg).ok());

  nlohmann::json targets;
  REQUIRE(WaitFor([&] {
    targets = nlohmann::json::parse(f.Get("/api/v1/targets").body)["data"];
    return targets["activeTargets"].size() == 1 &&
           targets["activeTargets"][0]["health"] == "up";
  }));
  const auto& t = targets["activeTargets"][0];
  std::string port = std::to_string(f.port);
  CHECK(t["scrapePool"] == "self");
  CHECK(t["scrapeUrl"] == "http://127.0.0.1:" + port + "/metrics");
  CHECK(t["globalUrl"] == "http://hearth.example:" + port + "/metrics");
  CHECK(t["labels"] == nlohmann::json{{"instance", "127.0.0.1:" + port}, {"job", "self"}});
  CHECK(t["lastError"] == "");
  CHECK(t["lastScrape"].get<std::string>().rfind("20", 0) == 0);
  CHECK(t["scrapeInterval"] == "200ms");
  CHECK(t["lastScrapeDuration"].is_number());
  REQUIRE(targets["droppedTargets"].size() == 1);
  CHECK(targets["droppedTargets"][0]["discoveredLabels"]["drop"] == "yes");
  CHECK(targets["droppedTargetCounts"] == nlohmann::json{{"self", 1}});

  nlohmann::json md;
  REQUIRE(WaitFor([&] {
    md = nlohmann::json::parse(
        f.Get("/api/v1/targets/metadata?metric=prometheus_http_requests_total").body)["data"];
    return md.size() == 1;
  }));
  CHECK(md[0]["type"] == "counter");
  CHECK(md[0]["target"]["job"] == "self");
  CHECK_FALSE(md[0].contains("metric"));
  scrapes.Stop();
}

TEST_CASE("globalUrl replaces loopback hosts with the external host", "[web][api]") {
  CHECK(web::GlobalTargetUrl("http://127.0.0.1:9100/metrics", "http://prom.example:9090/x") ==
        "http://prom.example:9100/metrics");
  CHECK(web::GlobalTargetUrl("https://localhost/m?a=1", "http://h:1") == "https://h/m?a=1");
  CHECK(web::GlobalTargetUrl("http://[::1]:9100/metrics", "http://h") ==
        "http://h:9100/metrics");
  CHECK(web::GlobalTargetUrl("http://10.0.0.1:9100/metrics", "http://h") ==
        "http://10.0.0.1:9100/metrics");
}
