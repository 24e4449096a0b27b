#pragma once

// The loaded prometheus.yml as plain structs. Field names are Prometheus' YAML keys; defaults
// are Prometheus 3.x defaults. Durations are int64 milliseconds, sizes are bytes.
//
// The structs hold what the loader produced after validation and defaulting: every scrape
// config already carries its effective interval, timeout, limits and scrape protocols (the
// global values applied), and relative file paths are already joined with the directory of the
// file that named them (as Prometheus' SetDirectory does).
//
// Loading is in config/load.h; rule files in config/rules.h.
//
// Thread-safety: plain values. The running server shares the current Config as
// shared_ptr<const Config>. Sections compare with == so a reload can tell unchanged jobs.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "model/relabel.h"

namespace hearth {

inline constexpr int64_t kDefaultScrapeIntervalMs = 60'000;
inline constexpr int64_t kDefaultScrapeTimeoutMs = 10'000;
inline constexpr int64_t kDefaultEvaluationIntervalMs = 60'000;

// The exposition formats a scrape may ask for (the `scrape_protocols` values).
enum class ScrapeProtocol : uint8_t {
  kPrometheusProto,      // "PrometheusProto"
  kPrometheusText0_0_4,  // "PrometheusText0.0.4"
  kPrometheusText1_0_0,  // "PrometheusText1.0.0"
  kOpenMetricsText0_0_1, // "OpenMetricsText0.0.1"
  kOpenMetricsText1_0_0, // "OpenMetricsText1.0.0"
};
std::string_view ScrapeProtocolName(ScrapeProtocol p);
// The Accept header media type with its version parameter, e.g. "text/plain;version=0.0.4".
std::string_view ScrapeProtocolHeader(ScrapeProtocol p);
// Prometheus' default order: OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText1.0.0,
// PrometheusText0.0.4.
std::vector<ScrapeProtocol> DefaultScrapeProtocols();

// A group of targets sharing labels: a static_configs entry, or what a discoverer found.
// Each target is a label set holding at least __address__ (static configs) and possibly
// __meta_* labels; `labels` apply to every target that does not set them itself.
struct TargetGroup {
  std::vector<Labels> targets;
  Labels labels;
  // Identifies the group within its provider (file name + index, DNS name, "0" for static).
  std::string source;
  friend bool operator==(const TargetGroup&, const TargetGroup&) = default;
};

// ---- HTTP client settings (Prometheus' common/config.HTTPClientConfig) ----

struct BasicAuth {
  std::string username;
  std::string username_file;
  std::string password;  // a secret: rendered as <secret>
  std::string password_file;
  friend bool operator==(const BasicAuth&, const BasicAuth&) = default;
};

struct Authorization {
  std::string type = "Bearer";
  std::string credentials;  // a secret
  std::string credentials_file;
  friend bool operator==(const Authorization&, const Authorization&) = default;
};

struct TlsConfig {
  std::string ca;         // PEM text
  std::string ca_file;
  std::string cert;       // PEM text
  std::string cert_file;
  std::string key;        // PEM text, a secret
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "", "TLS10", "TLS11", "TLS12", "TLS13"
  std::string max_version;
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

struct HttpClientConfig {
  std::optional<BasicAuth> basic_auth;
  // Also set from the legacy `bearer_token` / `bearer_token_file` (type "Bearer").
  std::optional<Authorization> authorization;
  TlsConfig tls_config;
  std::string proxy_url;
  std::string no_proxy;
  bool proxy_from_environment = false;
  std::map<std::string, std::vector<std::string>> proxy_connect_header;
  bool follow_redirects = true;
  bool enable_http2 = true;
  friend bool operator==(const HttpClientConfig&, const HttpClientConfig&) = default;
};

// ---- Service discovery ----

struct FileSdConfig {
  // Paths or globs (`*` only in the last path element); relative ones already joined with
  // the directory of the config file. Each must end in .json, .yml or .yaml.
  std::vector<std::string> files;
  int64_t refresh_interval_ms = 5 * 60'000;
  friend bool operator==(const FileSdConfig&, const FileSdConfig&) = default;
};

enum class DnsRecordType : uint8_t { kSrv, kA, kAaaa, kMx, kNs };
std::string_view DnsRecordTypeName(DnsRecordType t);  // "SRV", "A", ...

struct DnsSdConfig {
  std::vector<std::string> names;
  DnsRecordType type = DnsRecordType::kSrv;
  int port = 0;  // required for every type but SRV
  int64_t refresh_interval_ms = 30'000;
  friend bool operator==(const DnsSdConfig&, const DnsSdConfig&) = default;
};

// http_sd_configs: validated here, fetched by the scraper.
struct HttpSdConfig {
  std::string url;  // http or https, with a host
  int64_t refresh_interval_ms = 60'000;
  HttpClientConfig http_client;
  friend bool operator==(const HttpSdConfig&, const HttpSdConfig&) = default;
};

// All service discoveries of one scrape job or Alertmanager set. Discovery kinds Hearth does
// not implement are refused at load time.
struct ServiceDiscoveryConfigs {
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<DnsSdConfig> dns_sd_configs;
  std::vector<HttpSdConfig> http_sd_configs;
  friend bool operator==(const ServiceDiscoveryConfigs&, const ServiceDiscoveryConfigs&) = default;
};

// ---- Global ----

struct GlobalConfig {
  int64_t scrape_interval_ms = kDefaultScrapeIntervalMs;
  // Default 10s, or the scrape interval when that is shorter.
  int64_t scrape_timeout_ms = kDefaultScrapeTimeoutMs;
  // Empty when not set: each scrape config then uses DefaultScrapeProtocols().
  std::vector<ScrapeProtocol> scrape_protocols;
  int64_t evaluation_interval_ms = kDefaultEvaluationIntervalMs;
  int64_t rule_query_offset_ms = 0;
  std::string query_log_file;
  std::string scrape_failure_log_file;
  // After $VAR / ${VAR} expansion from the environment, as Prometheus.
  Labels external_labels;
  // 0 means no limit.
  uint64_t body_size_limit_bytes = 0;
  uint64_t sample_limit = 0;
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t keep_dropped_targets = 0;
  std::string metric_name_validation_scheme = "utf8";  // "utf8" or "legacy"
  std::string metric_name_escaping_scheme;               // "" = from the validation scheme
  bool scrape_native_histograms = false;
  bool always_scrape_classic_histograms = false;
  bool convert_classic_histograms_to_nhcb = false;
  bool extra_scrape_metrics = false;
  friend bool operator==(const GlobalConfig&, const GlobalConfig&) = default;
};

// ---- Scraping ----

struct ScrapeConfig {
  std::string job_name;
  bool honor_labels = false;
  bool honor_timestamps = true;
  bool track_timestamps_staleness = false;
  // URL query parameters; also exposed to relabeling as __param_<name> (first value).
  std::map<std::string, std::vector<std::string>> params;
  // Effective values (global ones applied). timeout <= interval.
  int64_t scrape_interval_ms = kDefaultScrapeIntervalMs;
  int64_t scrape_timeout_ms = kDefaultScrapeTimeoutMs;
  std::vector<ScrapeProtocol> scrape_protocols;  // never empty after loading
  std::optional<ScrapeProtocol> fallback_scrape_protocol;
  bool scrape_native_histograms = false;
  bool always_scrape_classic_histograms = false;
  bool convert_classic_histograms_to_nhcb = false;
  bool extra_scrape_metrics = false;
  uint64_t native_histogram_bucket_limit = 0;
  double native_histogram_min_bucket_factor = 0;
  std::string scrape_failure_log_file;
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  bool enable_compression = true;
  // Effective limits (global ones applied where the job sets 0). 0 means no limit.
  uint64_t body_size_limit_bytes = 0;
  uint64_t sample_limit = 0;
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t keep_dropped_targets = 0;
  std::string metric_name_validation_scheme = "utf8";
  std::string metric_name_escaping_scheme = "allow-utf-8";
  HttpClientConfig http_client;
  ServiceDiscoveryConfigs service_discovery;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  // Which file this job came from (the main config or a scrape_config_files match).
  std::string source_file;
  friend bool operator==(const ScrapeConfig&, const ScrapeConfig&) = default;
};

// ---- Alerting ----

struct AlertmanagerConfig {
  ServiceDiscoveryConfigs service_discovery;
  HttpClientConfig http_client;
  std::string scheme = "http";
  std::string path_prefix;
  int64_t timeout_ms = 10'000;
  std::string api_version = "v2";  // the only version Prometheus 3.x accepts
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> alert_relabel_configs;
  friend bool operator==(const AlertmanagerConfig&, const AlertmanagerConfig&) = default;
};

struct AlertingConfig {
  std::vector<RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;
  friend bool operator==(const AlertingConfig&, const AlertingConfig&) = default;
};

// ---- Remote write / read (parsed and validated; used by remote/) ----

struct QueueConfig {
  int capacity = 10'000;
  int max_shards = 50;
  int min_shards = 1;
  int max_samples_per_send = 2'000;
  int64_t batch_send_deadline_ms = 5'000;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5'000;
  bool retry_on_http_429 = false;
  int64_t sample_age_limit_ms = 0;
  friend bool operator==(const QueueConfig&, const QueueConfig&) = default;
};

struct MetadataConfig {
  bool send = true;
  int64_t send_interval_ms = 60'000;
  int max_samples_per_send = 2'000;
  friend bool operator==(const MetadataConfig&, const MetadataConfig&) = default;
};

struct RemoteWriteConfig {
  std::string url;
  int64_t remote_timeout_ms = 30'000;
  std::map<std::string, std::string> headers;
  std::vector<RelabelConfig> write_relabel_configs;
  std::string name;
  bool send_exemplars = false;
  bool send_native_histograms = false;
  bool round_robin_dns = false;
  std::string protobuf_message = "prometheus.WriteRequest";  // or "io.prometheus.write.v2.Request"
  HttpClientConfig http_client;  // enable_http2 defaults to false here, as Prometheus
  QueueConfig queue_config;
  MetadataConfig metadata_config;
  friend bool operator==(const RemoteWriteConfig&, const RemoteWriteConfig&) = default;
};

struct RemoteReadConfig {
  std::string url;
  int64_t remote_timeout_ms = 60'000;
  uint64_t chunked_read_limit = 50'000'000;
  std::map<std::string, std::string> headers;
  bool read_recent = false;
  std::string name;
  HttpClientConfig http_client;
  std::map<std::string, std::string> required_matchers;
  bool filter_external_labels = true;
  friend bool operator==(const RemoteReadConfig&, const RemoteReadConfig&) = default;
};

// ---- Storage ----

struct StorageConfig {
  int64_t out_of_order_time_window_ms = 0;
  int64_t max_exemplars = 100'000;
  // storage.tsdb.retention (3.x); 0 = use the flags.
  int64_t retention_time_ms = 0;
  uint64_t retention_size_bytes = 0;
  friend bool operator==(const StorageConfig&, const StorageConfig&) = default;
};

// ---- The whole file ----

struct Config {
  GlobalConfig global;
  AlertingConfig alerting;
  // Patterns as written, joined with the config file's directory when relative. Expand with
  // ExpandRuleFiles() (config/load.h).
  std::vector<std::string> rule_files;
  std::vector<std::string> scrape_config_files;
  // The jobs of the main file followed by those of scrape_config_files, in file order.
  std::vector<ScrapeConfig> scrape_configs;
  StorageConfig storage;
  std::vector<RemoteWriteConfig> remote_write;
  std::vector<RemoteReadConfig> remote_read;

  // Where it was loaded from ("" when loaded from a string) and the text as read.
  std::string source_file;
  std::string original_yaml;
};

}  // namespace hearth
