#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/load.h"
#include "scraper/discovery/targets.h"

using hearth::Config;
using hearth::Labels;
using hearth::LoadConfigString;
using hearth::PopulateLabels;
using hearth::ScrapeConfig;
using hearth::TargetGroup;
using hearth::TargetsFromGroups;

namespace {

ScrapeConfig Job(std::string_view yaml) {
  auto c = LoadConfigString(yaml, "t.yml");
  INFO(c.status().message());
  REQUIRE(c.ok());
  REQUIRE(c->scrape_configs.size() == 1);
  return c->scrape_configs[0];
}

}  // namespace

TEST_CASE("a static target gets job, instance and the scrape defaults", "[scraper][targets]") {
  ScrapeConfig cfg = Job(R"(
global: {scrape_interval: 15s}
scrape_configs:
  - job_name: fastapi
    static_configs: [{targets: ['api:8000'], labels: {env: prod}}]
)");
  auto set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
  CHECK(set.errors.empty());
  REQUIRE(set.active.size() == 1);
  const auto& t = set.active[0];
  CHECK(t.labels.ToString() ==
        R"({__address__="api:8000", __metrics_path__="/metrics", __scheme__="http", )"
        R"(__scrape_interval__="15s", __scrape_timeout__="10s", env="prod", instance="api:8000", )"
        R"(job="fastapi"})");
  CHECK(t.discovered_labels.ToString() ==
        R"({__address__="api:8000", __metrics_path__="/metrics", __scheme__="http", )"
        R"(__scrape_interval__="15s", __scrape_timeout__="10s", env="prod", job="fastapi"})");
  CHECK(t.PublicLabels().ToString() == R"({env="prod", instance="api:8000", job="fastapi"})");
  CHECK(t.Url() == "http://api:8000/metrics");
  CHECK(t.interval_ms == 15'000);
  CHECK(t.timeout_ms == 10'000);
  CHECK_FALSE(t.dropped());
}

TEST_CASE("target labels win over group labels; __meta_ labels go after relabeling",
          "[scraper][targets]") {
  ScrapeConfig cfg = Job(R"(
scrape_configs:
  - job_name: j
    relabel_configs:
      - source_labels: [__meta_zone]
        target_label: zone
)");
  TargetGroup g;
  g.source = "g1";
  g.targets = {Labels{{"__address__", "a:1"}, {"team", "own"}, {"__meta_zone", "z1"}},
               Labels{{"__address__", "b:1"}}};
  g.labels = Labels{{"team", "group"}, {"__meta_zone", "z2"}};
  auto set = TargetsFromGroups(std::vector<TargetGroup>{g}, cfg);
  REQUIRE(set.active.size() == 2);
  CHECK(set.active[0].labels.Get("team") == "own");
  CHECK(set.active[0].labels.Get("zone") == "z1");
  CHECK_FALSE(set.active[0].labels.Has("__meta_zone"));
  CHECK(set.active[0].discovered_labels.Get("__meta_zone") == "z1");
  CHECK(set.active[1].labels.Get("team") == "group");
  CHECK(set.active[1].labels.Get("zone") == "z2");
}

TEST_CASE("relabeling drops targets, which are kept for the API up to the limit",
          "[scraper][targets]") {
  ScrapeConfig cfg = Job(R"(
scrape_configs:
  - job_name: j
    keep_dropped_targets: 2
    relabel_configs:
      - source_labels: [__address__]
        regex: 'keep.*'
        action: keep
    static_configs: [{targets: ['keep:1', 'drop:1', 'drop:2', 'drop:3']}]
)");
  auto set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
  REQUIRE(set.active.size() == 1);
  CHECK(set.active[0].labels.Get("instance") == "keep:1");
  CHECK(set.dropped_count == 3);
  REQUIRE(set.dropped.size() == 2);
  CHECK(set.dropped[0].dropped());
  CHECK(set.dropped[0].discovered_labels.Get("__address__") == "drop:1");
  CHECK(set.dropped[0].discovered_labels.Get("job") == "j");
}

TEST_CASE("relabeling may rewrite address, instance, path, scheme, params and interval",
          "[scraper][targets]") {
  ScrapeConfig cfg = Job(R"(
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params: {module: [http_2xx]}
    scrape_interval: 30s
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:9115
      - target_label: __scrape_interval__
        replacement: 1m
      - target_label: __scheme__
        replacement: https
    static_configs: [{targets: ['http://example.com/a b']}]
)");
  auto set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
  INFO((set.errors.empty() ? "" : set.errors[0]));
  REQUIRE(set.active.size() == 1);
  const auto& t = set.active[0];
  CHECK(t.labels.Get("instance") == "http://example.com/a b");
  CHECK(t.labels.Get("__param_module") == "http_2xx");
  CHECK(t.interval_ms == 60'000);
  CHECK(t.Url() == "https://127.0.0.1:9115/probe?module=http_2xx&target=http%3A%2F%2Fexample.com%2Fa+b");
}

TEST_CASE("invalid targets fail with Prometheus' messages", "[scraper][targets]") {
  struct Case {
    const char* relabel;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"[{target_label: __address__, replacement: ''}]", "instance 0 in group 0: no address"},
      {"[{target_label: __address__, replacement: 'http://x:1'}]",
       "instance 0 in group 0: \"http://x:1\" is not a valid hostname"},
      {"[{target_label: __scrape_interval__, replacement: '0'}]",
       "instance 0 in group 0: scrape interval cannot be 0"},
      {"[{target_label: __scrape_interval__, replacement: 'soon'}]",
       "instance 0 in group 0: error parsing scrape interval: not a valid duration string: "
       "\"soon\""},
      {"[{target_label: __scrape_timeout__, replacement: '0'}]",
       "instance 0 in group 0: scrape timeout cannot be 0"},
      {"[{target_label: __scrape_timeout__, replacement: '2m'}]",
       "instance 0 in group 0: scrape timeout cannot be greater than scrape interval (\"2m\" > "
       "\"1m\")"},
  };
  for (const Case& c : cases) {
    ScrapeConfig cfg = Job(std::string("scrape_configs:\n  - job_name: j\n    relabel_configs: ") +
                           c.relabel + "\n    static_configs: [{targets: ['h:1']}]\n");
    auto set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
    CHECK(set.active.empty());
    REQUIRE(set.errors.size() == 1);
    CHECK(set.errors[0] == c.want);
  }
}

TEST_CASE("an IPv6 address and a relabeled instance are kept as given", "[scraper][targets]") {
  ScrapeConfig cfg = Job("scrape_configs:\n  - job_name: j\n");
  auto t = PopulateLabels(Labels{{"__address__", "[::1]:9090"}, {"instance", "me"}}, cfg);
  REQUIRE(t.ok());
  CHECK(t->labels.Get("instance") == "me");
  CHECK(t->Url() == "http://[::1]:9090/metrics");
}

TEST_CASE("identical targets are scraped once", "[scraper][targets]") {
  ScrapeConfig cfg = Job(
      "scrape_configs:\n  - job_name: j\n    static_configs: [{targets: ['h:1', 'h:1']}, "
      "{targets: ['h:1']}]\n");
  auto set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
  CHECK(set.active.size() == 1);
  CHECK(set.active[0].Hash() != 0);
}
