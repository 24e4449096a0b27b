#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "cmd/common/default_config.h"
#include "config/load.h"
#include "tests/config/test_util.h"

using hearth::Config;
using hearth::DnsRecordType;
using hearth::LoadConfigFile;
using hearth::LoadConfigString;
using hearth::RelabelAction;
using hearth::ScrapeConfig;
using hearth::ScrapeProtocol;
using hearth::testing::SourceFile;
using hearth::testing::TempDir;

namespace {

Config MustLoad(std::string_view yaml, std::string_view dir = "") {
  auto c = LoadConfigString(yaml, "test.yml", dir);
  INFO(c.status().message());
  REQUIRE(c.ok());
  return std::move(c).value();
}

std::string LoadError(std::string_view yaml) {
  auto c = LoadConfigString(yaml, "test.yml");
  REQUIRE_FALSE(c.ok());
  return c.status().message();
}

}  // namespace

TEST_CASE("an empty config has Prometheus' global defaults", "[config]") {
  for (std::string_view yaml : {"", "global:\n", "# only a comment\n"}) {
    Config c = MustLoad(yaml);
    CHECK(c.global.scrape_interval_ms == 60'000);
    CHECK(c.global.scrape_timeout_ms == 10'000);
    CHECK(c.global.evaluation_interval_ms == 60'000);
    CHECK(c.global.rule_query_offset_ms == 0);
    CHECK(c.global.scrape_protocols.empty());
    CHECK(c.global.external_labels.empty());
    CHECK(c.global.metric_name_validation_scheme == "utf8");
    CHECK(c.scrape_configs.empty());
    CHECK(c.storage.max_exemplars == 100'000);
  }
}

TEST_CASE("scrape configs get Prometheus' defaults and the global values", "[config]") {
  Config c = MustLoad(R"(
global:
  scrape_interval: 15s
  sample_limit: 500
  body_size_limit: 10MB
scrape_configs:
  - job_name: a
    static_configs: [{targets: ['h:1']}]
  - job_name: b
    scrape_interval: 5s
    sample_limit: 7
)");
  REQUIRE(c.scrape_configs.size() == 2);
  const ScrapeConfig& a = c.scrape_configs[0];
  CHECK(a.job_name == "a");
  CHECK(a.scrape_interval_ms == 15'000);
  CHECK(a.scrape_timeout_ms == 10'000);
  CHECK(a.metrics_path == "/metrics");
  CHECK(a.scheme == "http");
  CHECK(a.honor_timestamps);
  CHECK_FALSE(a.honor_labels);
  CHECK_FALSE(a.track_timestamps_staleness);
  CHECK(a.enable_compression);
  CHECK(a.http_client.follow_redirects);
  CHECK(a.http_client.enable_http2);
  CHECK(a.sample_limit == 500);
  CHECK(a.body_size_limit_bytes == 10u * 1024 * 1024);
  CHECK(a.scrape_protocols == hearth::DefaultScrapeProtocols());
  CHECK(a.metric_name_validation_scheme == "utf8");
  CHECK(a.metric_name_escaping_scheme == "allow-utf-8");
  REQUIRE(a.service_discovery.static_configs.size() == 1);
  CHECK(a.service_discovery.static_configs[0].targets[0].Get("__address__") == "h:1");
  const ScrapeConfig& b = c.scrape_configs[1];
  CHECK(b.scrape_interval_ms == 5'000);
  CHECK(b.scrape_timeout_ms == 5'000);  // the global 10s timeout is capped by the interval
  CHECK(b.sample_limit == 7);
}

TEST_CASE("the seed prometheus.yml loads unchanged", "[config][seed]") {
  auto c = LoadConfigFile(SourceFile("tests/fixtures/seed/prometheus.yml"));
  INFO(c.status().message());
  REQUIRE(c.ok());
  CHECK(c->global.scrape_interval_ms == 15'000);
  CHECK(c->global.evaluation_interval_ms == 15'000);
  REQUIRE(c->scrape_configs.size() == 2);
  CHECK(c->scrape_configs[0].job_name == "fastapi");
  CHECK(c->scrape_configs[0].service_discovery.static_configs[0].targets[0].Get("__address__") ==
        "api:8000");
  CHECK(c->scrape_configs[1].job_name == "prometheus");
  CHECK(c->scrape_configs[1].scrape_timeout_ms == 10'000);
  REQUIRE(c->alerting.alertmanagers.size() == 1);
  CHECK(c->alerting.alertmanagers[0].api_version == "v2");
  CHECK(c->alerting.alertmanagers[0].timeout_ms == 10'000);
  CHECK(c->alerting.alertmanagers[0].service_discovery.static_configs[0].targets[0].Get(
            "__address__") == "alertmanager:9093");
  REQUIRE(c->rule_files.size() == 1);
  CHECK(c->rule_files[0] == SourceFile("tests/fixtures/seed/alert.rules.yml"));
  auto rules = hearth::ExpandRuleFiles(*c);
  REQUIRE(rules.ok());
  CHECK(*rules == std::vector<std::string>{SourceFile("tests/fixtures/seed/alert.rules.yml")});
}

TEST_CASE("every section of a full config is read", "[config]") {
  TempDir dir;
  Config c = MustLoad(R"(
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  evaluation_interval: 10s
  rule_query_offset: 1m
  query_log_file: q.log
  external_labels: {region: eu, replica: "1"}
  scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]
  label_limit: 30
  keep_dropped_targets: 100
scrape_configs:
  - job_name: full
    honor_labels: true
    honor_timestamps: false
    track_timestamps_staleness: true
    params: {module: [http_2xx, x], target: [a]}
    scrape_timeout: 5s
    metrics_path: /probe
    scheme: https
    enable_compression: false
    fallback_scrape_protocol: PrometheusText0.0.4
    basic_auth: {username: u, password_file: pw.txt}
    tls_config:
      ca_file: ca.pem
      cert_file: c.pem
      key_file: k.pem
      server_name: example.org
      insecure_skip_verify: true
      min_version: TLS12
    proxy_url: http://proxy:3128
    follow_redirects: false
    enable_http2: false
    sample_limit: 1000
    label_name_length_limit: 64
    label_value_length_limit: 256
    target_limit: 20
    body_size_limit: 1KiB
    file_sd_configs:
      - files: [targets/*.json, more.yml]
        refresh_interval: 1m
    dns_sd_configs:
      - names: [_prom._tcp.example.org]
      - names: [db.example.org]
        type: A
        port: 9100
        refresh_interval: 10s
    http_sd_configs:
      - url: http://sd.example.org/targets
        refresh_interval: 2m
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):\d+'
        target_label: host
      - action: labelmap
        regex: __meta_(.+)
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
  - job_name: bearer
    bearer_token: s3cret
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
  alertmanagers:
    - scheme: https
      path_prefix: /am
      timeout: 5s
      authorization: {credentials_file: token}
      static_configs: [{targets: ['am:9093']}]
      relabel_configs: [{source_labels: [__address__], target_label: x}]
rule_files: [rules/*.yml, /abs/rules.yml]
remote_write:
  - url: http://rw.example.org/api/v1/write
    name: rw1
    remote_timeout: 10s
    headers: {X-Scope-OrgID: tenant}
    queue_config: {capacity: 5000, max_shards: 10, batch_send_deadline: 10s}
    metadata_config: {send: false}
    write_relabel_configs: [{action: keep, source_labels: [__name__], regex: 'up'}]
remote_read:
  - url: http://rr.example.org/api/v1/read
    read_recent: true
    required_matchers: {job: x}
storage:
  tsdb: {out_of_order_time_window: 30m}
  exemplars: {max_exemplars: 5}
)",
                      dir.path());
  CHECK(c.global.scrape_timeout_ms == 20'000);
  CHECK(c.global.rule_query_offset_ms == 60'000);
  CHECK(c.global.query_log_file == dir.File("q.log"));
  CHECK(c.global.external_labels.ToString() == R"({region="eu", replica="1"})");
  CHECK(c.global.scrape_protocols ==
        std::vector<ScrapeProtocol>{ScrapeProtocol::kPrometheusText0_0_4,
                                    ScrapeProtocol::kOpenMetricsText1_0_0});
  REQUIRE(c.scrape_configs.size() == 2);
  const ScrapeConfig& f = c.scrape_configs[0];
  CHECK(f.honor_labels);
  CHECK_FALSE(f.honor_timestamps);
  CHECK(f.track_timestamps_staleness);
  CHECK(f.params.at("module") == std::vector<std::string>{"http_2xx", "x"});
  CHECK(f.scrape_interval_ms == 30'000);
  CHECK(f.scrape_timeout_ms == 5'000);
  CHECK(f.metrics_path == "/probe");
  CHECK(f.scheme == "https");
  CHECK_FALSE(f.enable_compression);
  CHECK(f.scrape_protocols == c.global.scrape_protocols);
  CHECK(f.fallback_scrape_protocol == ScrapeProtocol::kPrometheusText0_0_4);
  REQUIRE(f.http_client.basic_auth.has_value());
  CHECK(f.http_client.basic_auth->username == "u");
  CHECK(f.http_client.basic_auth->password_file == dir.File("pw.txt"));
  CHECK(f.http_client.tls_config.ca_file == dir.File("ca.pem"));
  CHECK(f.http_client.tls_config.server_name == "example.org");
  CHECK(f.http_client.tls_config.insecure_skip_verify);
  CHECK(f.http_client.tls_config.min_version == "TLS12");
  CHECK(f.http_client.proxy_url == "http://proxy:3128");
  CHECK_FALSE(f.http_client.follow_redirects);
  CHECK_FALSE(f.http_client.enable_http2);
  CHECK(f.sample_limit == 1000);
  CHECK(f.label_limit == 30);
  CHECK(f.label_name_length_limit == 64);
  CHECK(f.label_value_length_limit == 256);
  CHECK(f.target_limit == 20);
  CHECK(f.keep_dropped_targets == 100);
  CHECK(f.body_size_limit_bytes == 1024);
  REQUIRE(f.service_discovery.file_sd_configs.size() == 1);
  CHECK(f.service_discovery.file_sd_configs[0].files ==
        std::vector<std::string>{dir.File("targets/*.json"), dir.File("more.yml")});
  CHECK(f.service_discovery.file_sd_configs[0].refresh_interval_ms == 60'000);
  REQUIRE(f.service_discovery.dns_sd_configs.size() == 2);
  CHECK(f.service_discovery.dns_sd_configs[0].type == DnsRecordType::kSrv);
  CHECK(f.service_discovery.dns_sd_configs[0].refresh_interval_ms == 30'000);
  CHECK(f.service_discovery.dns_sd_configs[1].type == DnsRecordType::kA);
  CHECK(f.service_discovery.dns_sd_configs[1].port == 9100);
  REQUIRE(f.service_discovery.http_sd_configs.size() == 1);
  CHECK(f.service_discovery.http_sd_configs[0].refresh_interval_ms == 120'000);
  REQUIRE(f.relabel_configs.size() == 2);
  CHECK(f.relabel_configs[0].regex.pattern() == R"((.*):\d+)");
  CHECK(f.relabel_configs[1].action == RelabelAction::kLabelMap);
  CHECK(f.relabel_configs[1].replacement == "$1");
  REQUIRE(f.metric_relabel_configs.size() == 1);
  CHECK(f.metric_relabel_configs[0].action == RelabelAction::kDrop);
  // The legacy bearer_token becomes an Authorization of type Bearer.
  const ScrapeConfig& b = c.scrape_configs[1];
  REQUIRE(b.http_client.authorization.has_value());
  CHECK(b.http_client.authorization->type == "Bearer");
  CHECK(b.http_client.authorization->credentials == "s3cret");

  REQUIRE(c.alerting.alert_relabel_configs.size() == 1);
  REQUIRE(c.alerting.alertmanagers.size() == 1);
  const auto& am = c.alerting.alertmanagers[0];
  CHECK(am.scheme == "https");
  CHECK(am.path_prefix == "/am");
  CHECK(am.timeout_ms == 5'000);
  CHECK(am.http_client.authorization->credentials_file == dir.File("token"));
  CHECK(am.relabel_configs.size() == 1);
  CHECK(c.rule_files == std::vector<std::string>{dir.File("rules/*.yml"), "/abs/rules.yml"});
  REQUIRE(c.remote_write.size() == 1);
  CHECK(c.remote_write[0].name == "rw1");
  CHECK(c.remote_write[0].remote_timeout_ms == 10'000);
  CHECK(c.remote_write[0].headers.at("X-Scope-OrgID") == "tenant");
  CHECK(c.remote_write[0].queue_config.capacity == 5000);
  CHECK(c.remote_write[0].queue_config.max_shards == 10);
  CHECK(c.remote_write[0].queue_config.min_shards == 1);
  CHECK(c.remote_write[0].queue_config.batch_send_deadline_ms == 10'000);
  CHECK_FALSE(c.remote_write[0].metadata_config.send);
  CHECK_FALSE(c.remote_write[0].http_client.enable_http2);
  CHECK(c.remote_write[0].write_relabel_configs.size() == 1);
  REQUIRE(c.remote_read.size() == 1);
  CHECK(c.remote_read[0].read_recent);
  CHECK(c.remote_read[0].remote_timeout_ms == 60'000);
  CHECK(c.remote_read[0].required_matchers.at("job") == "x");
  CHECK(c.storage.out_of_order_time_window_ms == 30 * 60'000);
  CHECK(c.storage.max_exemplars == 5);
}

TEST_CASE("bad configs fail naming file, line and column in Prometheus' words", "[config]") {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"global:\n  scrape_intervl: 1m\n",
       "test.yml:2:3: field scrape_intervl not found in type config.GlobalConfig"},
      {"scrape_configs:\n  - job_name: a\n    static_config: []\n",
       "test.yml:3:5: field static_config not found in type config.ScrapeConfig"},
      {"scrape_configs:\n  - job_name: a\n  - job_name: a\n",
       "test.yml:3:5: found multiple scrape configs with job name \"a\""},
      {"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
       "test.yml:2:5: scrape timeout greater than scrape interval for scrape config with job "
       "name \"a\""},
      {"global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
       "test.yml:2:3: global scrape timeout greater than scrape interval"},
      {"global:\n  scrape_interval: 5x\n", "test.yml:2:20: unknown unit \"x\" in duration \"5x\""},
      {"global:\n  scrape_interval: 1.5m\n", "test.yml:2:20: unknown unit \".\" in duration \"1.5m\""},
      {"global:\n  sample_limit: lots\n",
       "test.yml:2:17: cannot unmarshal !!str `lots` into uint"},
      {"global:\n  sample_limit: -1\n", "test.yml:2:17: cannot unmarshal !!int `-1` into uint"},
      {"scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n",
       "test.yml:3:19: cannot unmarshal !!str `maybe` into bool"},
      {"scrape_configs:\n  - job_name: [a]\n",
       "test.yml:2:15: cannot unmarshal !!seq into string"},
      {"scrape_configs:\n  - scrape_interval: 1m\n", "test.yml:2:5: job_name is empty"},
      {"scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: pod\n",
       "test.yml:3:5: kubernetes_sd_configs is not supported by Hearth (it implements "
       "static_configs, file_sd_configs, dns_sd_configs and http_sd_configs)"},
      {"scrape_configs:\n  - job_name: c\n    consul_sd_configs: []\n",
       "test.yml:3:5: consul_sd_configs is not supported by Hearth (it implements "
       "static_configs, file_sd_configs, dns_sd_configs and http_sd_configs)"},
      {"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1']\n",
       "test.yml:4:19: \"http://x:1\" is not a valid hostname"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        "
       "target_label: x\n",
       "test.yml:4:9: relabel configuration for hashmod requires non-zero modulus"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n",
       "test.yml:4:17: unknown relabel action \"explode\""},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: 'a(b'\n",
       "test.yml:4:16: error parsing regexp: missing ): "},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      -\n",
       "empty or null target relabeling rule in scrape config"},
      {"scrape_configs:\n  - job_name: a\n    scrape_protocols: [Text]\n",
       "test.yml:3:24: scrape_protocols: unknown scrape protocol Text, supported: "
       "[OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 "
       "PrometheusText1.0.0]"},
      {"scrape_configs:\n  - job_name: a\n    scrape_protocols: []\n",
       "test.yml:2:5: scrape_protocols cannot be empty for scrape config with job name \"a\""},
      {"scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p, "
       "password_file: f}\n",
       "test.yml:2:5: at most one of basic_auth password, password_file & password_ref must be "
       "configured"},
      {"scrape_configs:\n  - job_name: a\n    bearer_token: t\n    bearer_token_file: f\n",
       "at most one of bearer_token & bearer_token_file must be configured"},
      {"scrape_configs:\n  - job_name: a\n    authorization: {type: Basic, credentials: x}\n",
       "test.yml:2:5: authorization type cannot be set to \"basic\", use \"basic_auth\" instead"},
      {"scrape_configs:\n  - job_name: a\n    oauth2: {client_id: x}\n",
       "test.yml:3:5: oauth2 is not supported by Hearth"},
      {"scrape_configs:\n  - job_name: a\n    tls_config: {cert_file: c}\n",
       "exactly one of key or key_file must be configured when a client certificate is "
       "configured"},
      {"scrape_configs:\n  - job_name: a\n    tls_config: {min_version: TLS9}\n",
       "test.yml:3:31: unknown TLS version: TLS9"},
      {"scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [targets.txt]}]\n",
       "test.yml:3:23: path name \"targets.txt\" is not valid for file discovery"},
      {"scrape_configs:\n  - job_name: a\n    file_sd_configs: [{refresh_interval: 1m}]\n",
       "file service discovery config must contain at least one path name"},
      {"scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [x], type: A}]\n",
       "a port is required in DNS-SD configs for all record types except SRV"},
      {"scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [x], type: TXT}]\n",
       "invalid DNS-SD records type TXT"},
      {"scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{type: SRV}]\n",
       "DNS-SD config must contain at least one SRV record name"},
      {"scrape_configs:\n  - job_name: a\n    http_sd_configs: [{url: 'ftp://x/y'}]\n",
       "URL scheme must be 'http' or 'https'"},
      {"scrape_configs:\n  - job_name: a\n    http_sd_configs: [{url: 'http:///y'}]\n",
       "host is missing in URL"},
      {"scrape_configs:\n  - job_name: a\n    http_sd_configs: [{refresh_interval: 1m}]\n",
       "URL is missing"},
      {"global:\n  external_labels: {'': x}\n", "\"\" is not a valid label name"},
      {"global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n",
       "test.yml:3:3: key \"scrape_interval\" already set in map"},
      {"rule_files: ['a/*/b.yml']\n", "invalid rule file path \"a/*/b.yml\""},
      {"alerting:\n  alertmanagers:\n    - api_version: v1\n",
       "test.yml:3:20: expected Alertmanager api version to be one of [v2] but got v1"},
      {"remote_write:\n  - name: x\n", "test.yml:2:5: url for remote_write is empty"},
      {"remote_write:\n  - url: http://a\n    headers: {User-Agent: x}\n",
       "User-Agent is a reserved header. It must not be changed"},
      {"remote_write:\n  - url: http://a\n    sigv4: {region: x}\n",
       "test.yml:3:5: sigv4 is not supported by Hearth"},
      {"remote_read:\n  - read_recent: true\n", "url for remote_read is empty"},
      {"global:\n  body_size_limit: 10XB\n", "test.yml:2:20: units: unknown unit XB in 10XB"},
      {"scrape_configs: {job_name: a}\n",
       "test.yml:1:17: cannot unmarshal !!map into []*config.ScrapeConfig"},
      {"global: [\n", "test.yml:2:1: yaml: end of sequence flow not found"},
      {"bogus: 1\n", "test.yml:1:1: field bogus not found in type config.Config"},
  };
  for (const Case& c : cases) {
    std::string err = LoadError(c.yaml);
    INFO("yaml:\n" << c.yaml);
    CHECK(err.starts_with("parsing YAML file test.yml: "));
    CHECK_THAT(err, Catch::Contains(c.want));
  }
}

TEST_CASE("block-style relabel values with YAML indicators load", "[config]") {
  Config c = MustLoad(R"(
scrape_configs:
  - job_name: k
    relabel_configs:
      - source_labels: [__meta_scheme]
        regex: (https?)
        target_label: __scheme__
      - source_labels: [__address__, __meta_port]
        regex: (.+?)(\:\d+)?;(\d+)
        replacement: $1:$3
        target_label: __address__
)");
  const auto& r = c.scrape_configs[0].relabel_configs;
  REQUIRE(r.size() == 2);
  CHECK(r[0].regex.pattern() == "(https?)");
  CHECK(r[1].regex.pattern() == R"((.+?)(\:\d+)?;(\d+))");
  CHECK(r[1].replacement == "$1:$3");
}

TEST_CASE("a null value reads as the zero value, as in go-yaml", "[config]") {
  Config c = MustLoad(
      "global:\n  scrape_interval:\nrule_files:\nscrape_configs:\n  - job_name: a\n"
      "    static_configs:\n      - targets:\n");
  CHECK(c.global.scrape_interval_ms == 60'000);
  CHECK(c.rule_files.empty());
  REQUIRE(c.scrape_configs.size() == 1);
  CHECK(c.scrape_configs[0].service_discovery.static_configs[0].targets.empty());
}

TEST_CASE("YAML anchors and merge keys work as in go-yaml", "[config]") {
  Config c = MustLoad(R"(
scrape_configs:
  - &base
    job_name: a
    scrape_interval: 7s
    metrics_path: /m
  - <<: *base
    job_name: b
)");
  REQUIRE(c.scrape_configs.size() == 2);
  CHECK(c.scrape_configs[1].job_name == "b");
  CHECK(c.scrape_configs[1].scrape_interval_ms == 7'000);
  CHECK(c.scrape_configs[1].metrics_path == "/m");
}

TEST_CASE("external labels expand environment variables", "[config]") {
  ::setenv("HEARTH_TEST_REGION", "eu-west", 1);
  ::unsetenv("HEARTH_TEST_UNSET");
  Config c = MustLoad(
      "global:\n  external_labels:\n    region: ${HEARTH_TEST_REGION}\n"
      "    both: $HEARTH_TEST_REGION-x\n    dollar: a$$b\n    gone: $HEARTH_TEST_UNSET\n");
  CHECK(c.global.external_labels.Get("region") == "eu-west");
  CHECK(c.global.external_labels.Get("both") == "eu-west-x");
  CHECK(c.global.external_labels.Get("dollar") == "a$b");
  CHECK_FALSE(c.global.external_labels.Has("gone"));
}

TEST_CASE("scrape_config_files add jobs and keep job names unique", "[config]") {
  TempDir dir;
  dir.Write("jobs/a.yml", "scrape_configs:\n  - job_name: from_a\n    file_sd_configs: "
                          "[{files: [t.json]}]\n");
  dir.Write("jobs/b.yml", "scrape_configs:\n  - job_name: from_b\n");
  std::string main = dir.Write("prometheus.yml",
                               "global: {scrape_interval: 20s}\nscrape_config_files: "
                               "['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n");
  auto c = LoadConfigFile(main);
  INFO(c.status().message());
  REQUIRE(c.ok());
  REQUIRE(c->scrape_configs.size() == 3);
  CHECK(c->scrape_configs[0].job_name == "main");
  CHECK(c->scrape_configs[1].job_name == "from_a");
  CHECK(c->scrape_configs[1].scrape_interval_ms == 20'000);
  CHECK(c->scrape_configs[1].source_file == dir.File("jobs/a.yml"));
  // Paths in an included file are relative to that file.
  CHECK(c->scrape_configs[1].service_discovery.file_sd_configs[0].files[0] ==
        dir.File("jobs/t.json"));
  CHECK(c->scrape_configs[2].job_name == "from_b");

  dir.Write("jobs/c.yml", "scrape_configs:\n  - job_name: main\n");
  auto dup = LoadConfigFile(main);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() ==
        dir.File("jobs/c.yml") +
            ":2:5: found multiple scrape configs with job name \"main\", first found in main "
            "config file");

  dir.Write("jobs/c.yml", "scrape_configs:\n  - job_name: c\n    bogus: 1\n");
  auto bad = LoadConfigFile(main);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        dir.File("jobs/c.yml") + ":3:5: field bogus not found in type config.ScrapeConfig");
}

TEST_CASE("a missing config file is an error naming it", "[config]") {
  auto c = LoadConfigFile("/nonexistent/prometheus.yml");
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("/nonexistent/prometheus.yml"));
}

TEST_CASE("rendered config shows defaults, hides secrets and loads back the same", "[config]") {
  Config c = MustLoad(R"(
global:
  scrape_interval: 15s
  external_labels: {env: "true"}
scrape_configs:
  - job_name: secret
    basic_auth: {username: me, password: hunter2}
    tls_config: {key: PRIVATE, cert: PUBLIC}
    relabel_configs:
      - source_labels: [a, b]
        separator: '#'
        regex: '(.*): (.*)'
        target_label: c
    static_configs:
      - targets: ['h:1', '[::1]:9090']
        labels: {team: '*ops*'}
)");
  std::string yaml = hearth::RenderConfigYaml(c);
  INFO(yaml);
  CHECK_THAT(yaml, Catch::Contains("password: <secret>"));
  CHECK_THAT(yaml, Catch::Contains("key: <secret>"));
  CHECK_THAT(yaml, !Catch::Contains("hunter2"));
  CHECK_THAT(yaml, !Catch::Contains("PRIVATE"));
  CHECK_THAT(yaml, Catch::Contains("scrape_timeout: 10s"));
  CHECK_THAT(yaml, Catch::Contains("metrics_path: /metrics"));
  CHECK_THAT(yaml, Catch::Contains("source_labels: [a, b]"));
  CHECK_THAT(yaml, Catch::Contains("- job_name: secret\n"));
  // Rendering the re-loaded rendering gives the same text (secrets aside, nothing is lost).
  Config again = MustLoad(yaml);
  CHECK(hearth::RenderConfigYaml(again) == yaml);
  CHECK(again.global.external_labels.Get("env") == "true");
  CHECK(again.scrape_configs[0].relabel_configs[0].separator == "#");
  CHECK(again.scrape_configs[0].service_discovery.static_configs[0].labels.Get("team") == "*ops*");
}

TEST_CASE("the seed config renders like Prometheus prints it", "[config][seed]") {
  auto c = LoadConfigFile(SourceFile("tests/fixtures/seed/prometheus.yml"));
  REQUIRE(c.ok());
  std::string yaml = hearth::RenderConfigYaml(*c);
  CHECK(yaml.starts_with("global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"));
  CHECK_THAT(yaml, Catch::Contains("alerting:\n  alertmanagers:\n  - follow_redirects: true\n"
                                   "    enable_http2: true\n    scheme: http\n    timeout: 10s\n"
                                   "    api_version: v2\n    static_configs:\n    - targets:\n"
                                   "      - alertmanager:9093\n"));
  CHECK_THAT(yaml, Catch::Contains("scrape_configs:\n- job_name: fastapi\n  honor_timestamps: true\n"));
  CHECK_THAT(yaml, Catch::Contains("  static_configs:\n  - targets:\n    - localhost:9090\n"));
}

TEST_CASE("sizes parse as powers of 1024", "[config]") {
  CHECK(hearth::ParseBase2Bytes("0").value() == 0);
  CHECK(hearth::ParseBase2Bytes("512B").value() == 512);
  CHECK(hearth::ParseBase2Bytes("10KB").value() == 10240);
  CHECK(hearth::ParseBase2Bytes("10KiB").value() == 10240);
  CHECK(hearth::ParseBase2Bytes("1.5MB").value() == 1572864);
  CHECK(hearth::ParseBase2Bytes("2GB").value() == 2147483648ULL);
  CHECK_FALSE(hearth::ParseBase2Bytes("12").ok());
  CHECK_FALSE(hearth::ParseBase2Bytes("MB").ok());
  CHECK_FALSE(hearth::ParseBase2Bytes("-1MB").ok());
  CHECK(hearth::FormatBase2Bytes(10 * 1024 * 1024) == "10MiB");
  CHECK(hearth::FormatBase2Bytes(1000) == "1000B");
}

TEST_CASE("hearth's embedded default configuration loads", "[config]") {
  Config c = MustLoad(hearth::kDefaultConfigYaml);
  CHECK(c.global.scrape_interval_ms == 15'000);
  CHECK(c.global.evaluation_interval_ms == 15'000);
  REQUIRE(c.scrape_configs.size() == 1);
  CHECK(c.scrape_configs[0].job_name == "prometheus");
  REQUIRE(c.alerting.alertmanagers.size() == 1);
  CHECK(c.alerting.alertmanagers[0].service_discovery.static_configs[0].targets.empty());
  CHECK(c.rule_files.empty());
}

TEST_CASE("errors without a file name give line and column only", "[config]") {
  auto c = LoadConfigString("global:\n  bogus: 1\n");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() ==
        "parsing YAML: 2:3: field bogus not found in type config.GlobalConfig");
}

TEST_CASE("config sections compare equal when unchanged across reloads", "[config]") {
  const char* yaml =
      "scrape_configs:\n  - job_name: a\n    relabel_configs: [{target_label: x, replacement: "
      "y}]\n    static_configs: [{targets: ['h:1']}]\n  - job_name: b\n";
  Config one = MustLoad(yaml);
  Config two = MustLoad(yaml);
  CHECK(one.scrape_configs == two.scrape_configs);
  CHECK(one.global == two.global);
  Config changed = MustLoad(std::string(yaml) + "    scrape_interval: 5s\n");
  CHECK(changed.scrape_configs[0] == one.scrape_configs[0]);
  CHECK_FALSE(changed.scrape_configs[1] == one.scrape_configs[1]);
}
