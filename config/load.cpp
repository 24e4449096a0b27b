// Loading prometheus.yml: strict field-by-field reading with go-yaml's rules, then the
// defaulting and validation of Prometheus' config.Load (config/config.go and common/config).

#include "config/load.h"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/internal/yaml_reader.h"
#include "model/strutil.h"

namespace hearth {

// ---- Small public helpers ----

std::string_view ScrapeProtocolName(ScrapeProtocol p) {
  switch (p) {
    case ScrapeProtocol::kPrometheusProto: return "PrometheusProto";
    case ScrapeProtocol::kPrometheusText0_0_4: return "PrometheusText0.0.4";
    case ScrapeProtocol::kPrometheusText1_0_0: return "PrometheusText1.0.0";
    case ScrapeProtocol::kOpenMetricsText0_0_1: return "OpenMetricsText0.0.1";
    case ScrapeProtocol::kOpenMetricsText1_0_0: return "OpenMetricsText1.0.0";
  }
  return "?";
}

std::string_view ScrapeProtocolHeader(ScrapeProtocol p) {
  switch (p) {
    case ScrapeProtocol::kPrometheusProto:
      return "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
             "encoding=delimited";
    case ScrapeProtocol::kPrometheusText0_0_4: return "text/plain;version=0.0.4";
    case ScrapeProtocol::kPrometheusText1_0_0: return "text/plain;version=1.0.0";
    case ScrapeProtocol::kOpenMetricsText0_0_1: return "application/openmetrics-text;version=0.0.1";
    case ScrapeProtocol::kOpenMetricsText1_0_0: return "application/openmetrics-text;version=1.0.0";
  }
  return "";
}

std::vector<ScrapeProtocol> DefaultScrapeProtocols() {
  return {ScrapeProtocol::kOpenMetricsText1_0_0, ScrapeProtocol::kOpenMetricsText0_0_1,
          ScrapeProtocol::kPrometheusText1_0_0, ScrapeProtocol::kPrometheusText0_0_4};
}

std::string_view DnsRecordTypeName(DnsRecordType t) {
  switch (t) {
    case DnsRecordType::kSrv: return "SRV";
    case DnsRecordType::kA: return "A";
    case DnsRecordType::kAaaa: return "AAAA";
    case DnsRecordType::kMx: return "MX";
    case DnsRecordType::kNs: return "NS";
  }
  return "?";
}

Result<uint64_t> ParseBase2Bytes(std::string_view s) {
  // alecthomas/units: a number (fractions allowed) followed by B, KB/KiB, MB/MiB, ... EB/EiB,
  // all powers of 1024; "0" alone is allowed.
  const std::string orig(s);
  if (s == "0") return uint64_t{0};
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return InvalidArgument("units: invalid size {}", QuoteGo(orig));
  auto num = ParseGoFloat(s.substr(0, i));
  if (!num || *num < 0) return InvalidArgument("units: invalid size {}", QuoteGo(orig));
  std::string_view unit = s.substr(i);
  static constexpr std::pair<std::string_view, int> kUnits[] = {
      {"B", 0},   {"KB", 1},  {"KiB", 1}, {"MB", 2},  {"MiB", 2}, {"GB", 3}, {"GiB", 3},
      {"TB", 4},  {"TiB", 4}, {"PB", 5},  {"PiB", 5}, {"EB", 6},  {"EiB", 6}};
  if (unit.empty()) return InvalidArgument("units: missing unit in {}", orig);
  for (const auto& [name, power] : kUnits) {
    if (unit == name) {
      double v = *num * std::pow(1024.0, power);
      if (v >= 18446744073709551615.0) return InvalidArgument("units: size {} out of range", orig);
      return static_cast<uint64_t>(v);
    }
  }
  return InvalidArgument("units: unknown unit {} in {}", unit, orig);
}

std::string FormatBase2Bytes(uint64_t bytes) {
  // Go's units.Base2Bytes.String(): the largest unit that divides exactly, else bytes.
  if (bytes == 0) return "0B";
  static constexpr std::string_view kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (unit < 6 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{}{}", bytes, kNames[unit]);
}

namespace {

using config_internal::ParseYaml;
using config_internal::YamlReader;

// Every service discovery Prometheus 3.x knows, besides the four Hearth implements.
constexpr std::string_view kUnsupportedSd[] = {
    "azure_sd_configs",      "consul_sd_configs",       "digitalocean_sd_configs",
    "docker_sd_configs",     "dockerswarm_sd_configs",  "ec2_sd_configs",
    "eureka_sd_configs",     "gce_sd_configs",          "hetzner_sd_configs",
    "ionos_sd_configs",      "kubernetes_sd_configs",   "kuma_sd_configs",
    "lightsail_sd_configs",  "linode_sd_configs",       "marathon_sd_configs",
    "nerve_sd_configs",      "nomad_sd_configs",        "openstack_sd_configs",
    "ovhcloud_sd_configs",   "puppetdb_sd_configs",     "scaleway_sd_configs",
    "serverset_sd_configs",  "triton_sd_configs",       "uyuni_sd_configs",
    "vultr_sd_configs",      "stackit_sd_configs",
};

std::optional<ScrapeProtocol> ParseScrapeProtocol(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(ScrapeProtocol::kOpenMetricsText1_0_0); ++i) {
    auto p = static_cast<ScrapeProtocol>(i);
    if (ScrapeProtocolName(p) == s) return p;
  }
  return std::nullopt;
}

std::string UnknownProtocolMessage(std::string_view s) {
  // "unknown scrape protocol X, supported: [sorted names]"
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ScrapeProtocol::kOpenMetricsText1_0_0); ++i) {
    names.push_back(ScrapeProtocolName(static_cast<ScrapeProtocol>(i)));
  }
  std::sort(names.begin(), names.end());
  return fmt::format("unknown scrape protocol {}, supported: [{}]", s, fmt::join(names, " "));
}

// config.JoinDir: relative, non-empty paths get `dir` in front.
std::string JoinDir(std::string_view dir, const std::string& path) {
  if (path.empty() || dir.empty() || path.front() == '/') return path;
  std::filesystem::path joined = std::filesystem::path(std::string(dir)) / path;
  return joined.lexically_normal().string();
}

std::string DirOf(const std::string& path) {
  std::filesystem::path p(path);
  std::string d = p.parent_path().string();
  return d.empty() ? "." : d;
}

// Go's os.Expand with Prometheus' mapping for external labels: $VAR, ${VAR}, $$ -> $.
std::string ExpandEnv(std::string_view s) {
  std::string out;
  size_t i = 0;
  auto is_special = [](char c) {
    return c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' ||
           (c >= '0' && c <= '9');
  };
  auto is_alnum = [](char c) {
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  auto lookup = [](const std::string& name) -> std::string {
    if (name == "$") return "$";
    const char* v = std::getenv(name.c_str());
    return v == nullptr ? "" : v;
  };
  while (i < s.size()) {
    if (s[i] != '$' || i + 1 >= s.size()) {
      out += s[i++];
      continue;
    }
    std::string_view rest = s.substr(i + 1);
    std::string name;
    size_t width = 0;
    if (rest[0] == '{') {
      if (rest.size() > 2 && is_special(rest[1]) && rest[2] == '}') {
        name = std::string(1, rest[1]);
        width = 3;
      } else {
        size_t close = rest.find('}');
        if (close == std::string_view::npos || close == 1) {
          width = close == 1 ? 2 : 1;  // bad syntax: eat "${" or "${}"
        } else {
          name = std::string(rest.substr(1, close - 1));
          width = close + 1;
        }
      }
    } else if (is_special(rest[0])) {
      name = std::string(1, rest[0]);
      width = 1;
    } else {
      while (width < rest.size() && is_alnum(rest[width])) ++width;
      name = std::string(rest.substr(0, width));
    }
    if (name.empty() && width == 0) {
      out += '$';  // "$" not followed by a name stays
      ++i;
      continue;
    }
    out += name.empty() ? "" : lookup(name);
    i += 1 + width;
  }
  return out;
}

struct LegacyBearer {
  std::string token;
  std::string token_file;
  std::optional<YAML::Node> node;  // where it was set, for errors
};

// What the scrape/alertmanager parsers remember between reading and validating.
struct ScrapeDraft {
  ScrapeConfig cfg;
  YAML::Node node;
  bool interval_set = false;
  bool timeout_set = false;
  bool protocols_set = false;
  std::optional<bool> native_histograms;
  std::optional<bool> always_classic;
  std::optional<bool> convert_nhcb;
  std::optional<bool> extra_metrics;
  std::string validation_scheme;  // "" = unset
  std::string escaping_scheme;
  std::optional<YAML::Node> bad_static_target;  // the first static target holding a '/'
};

class Loader {
 public:
  Loader(std::string file, std::string dir) : r_(std::move(file)), dir_(std::move(dir)) {}

  Status LoadMain(const YAML::Node& root, Config* cfg);
  // A file matched by scrape_config_files: only `scrape_configs:`.
  Status LoadScrapeFile(const YAML::Node& root, std::vector<ScrapeDraft>* drafts);
  Status ValidateScrape(ScrapeDraft& d, const GlobalConfig& g) const;

  const YamlReader& reader() const { return r_; }

 private:
  Status Global(const YAML::Node& n, GlobalConfig* g);
  Status Scrape(const YAML::Node& n, ScrapeDraft* d);
  std::optional<Status> HttpClientField(const std::string& key, const YAML::Node& v,
                                        const YAML::Node& k, HttpClientConfig* h,
                                        LegacyBearer* legacy);
  Status FinishHttpClient(const YAML::Node& at, HttpClientConfig* h, const LegacyBearer& legacy);
  Status BasicAuthCfg(const YAML::Node& n, BasicAuth* b);
  Status AuthorizationCfg(const YAML::Node& n, Authorization* a);
  Status Tls(const YAML::Node& n, TlsConfig* t);
  std::optional<Status> SdField(const std::string& key, const YAML::Node& v, const YAML::Node& k,
                                ServiceDiscoveryConfigs* sd,
                                std::optional<YAML::Node>* bad_target);
  Status StaticConfig(const YAML::Node& n, size_t index, TargetGroup* g,
                      std::optional<YAML::Node>* bad_target);
  Status FileSd(const YAML::Node& n, FileSdConfig* f);
  Status DnsSd(const YAML::Node& n, DnsSdConfig* d);
  Status HttpSd(const YAML::Node& n, HttpSdConfig* h);
  Status RelabelList(const YAML::Node& n, std::vector<RelabelConfig>* out,
                     std::string_view null_message);
  Status Relabel(const YAML::Node& n, RelabelConfig* c);
  Status Protocols(const YAML::Node& n, std::vector<ScrapeProtocol>* out);
  Status Alerting(const YAML::Node& n, AlertingConfig* a);
  Status Alertmanager(const YAML::Node& n, AlertmanagerConfig* am);
  Status RemoteWrite(const YAML::Node& n, RemoteWriteConfig* rw);
  Status RemoteRead(const YAML::Node& n, RemoteReadConfig* rr);
  Status Headers(const YAML::Node& n, std::map<std::string, std::string>* out);
  Status Storage(const YAML::Node& n, StorageConfig* s);
  Status KnownKeys(const YAML::Node& n, std::string_view type,
                   std::initializer_list<std::string_view> keys);
  Status Unsupported(const YAML::Node& k, std::string_view what) const {
    return r_.Error(k, fmt::format("{} is not supported by Hearth", what));
  }
  std::string Join(const std::string& path) const { return JoinDir(dir_, path); }

  YamlReader r_;
  std::string dir_;
};

#define FIELD(expr) return std::optional<Status>(expr)
// HEARTH_RETURN_IF_ERROR around a lambda that itself uses it would shadow its local.
#define RETURN_IF_FIELDS_FAIL(expr)        \
  do {                                     \
    ::hearth::Status fields_status_ = (expr); \
    if (!fields_status_.ok()) return fields_status_; \
  } while (0)

Status Loader::KnownKeys(const YAML::Node& n, std::string_view type,
                         std::initializer_list<std::string_view> keys) {
  return r_.Fields(n, type, [&](const std::string& key, const YAML::Node& v,
                                const YAML::Node&) -> std::optional<Status> {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) return std::nullopt;
    (void)v;
    return Status::Ok();
  });
}

Status Loader::LoadMain(const YAML::Node& root, Config* cfg) {
  std::vector<ScrapeDraft> drafts;
  YAML::Node rule_files_node, scrape_files_node;
  Status st = r_.Fields(root, "config.Config", [&](const std::string& key, const YAML::Node& v,
                                                   const YAML::Node& k) -> std::optional<Status> {
    if (key == "global") FIELD(Global(v, &cfg->global));
    if (key == "runtime") FIELD(KnownKeys(v, "config.RuntimeConfig", {"gogc"}));
    if (key == "alerting") FIELD(Alerting(v, &cfg->alerting));
    if (key == "rule_files") {
      rule_files_node.reset(v);
      FIELD(r_.StringList(v, &cfg->rule_files));
    }
    if (key == "scrape_config_files") {
      scrape_files_node.reset(v);
      FIELD(r_.StringList(v, &cfg->scrape_config_files));
    }
    if (key == "scrape_configs") {
      FIELD(r_.Sequence(v, "*config.ScrapeConfig", [&](const YAML::Node& item) {
        if (item.IsNull()) return r_.Error(item, "empty or null scrape config section");
        ScrapeDraft d;
        HEARTH_RETURN_IF_ERROR(Scrape(item, &d));
        drafts.push_back(std::move(d));
        return Status::Ok();
      }));
    }
    if (key == "storage") FIELD(Storage(v, &cfg->storage));
    if (key == "tracing") {
      FIELD(KnownKeys(v, "config.TracingConfig",
                      {"client_type", "endpoint", "sampling_fraction", "insecure", "tls_config",
                       "headers", "compression", "timeout"}));
    }
    if (key == "otlp") {
      FIELD(KnownKeys(v, "config.OTLPConfig",
                      {"promote_resource_attributes", "promote_all_resource_attributes",
                       "ignore_resource_attributes", "translation_strategy",
                       "keep_identifying_resource_attributes", "convert_histograms_to_nhcb",
                       "promote_scope_metadata"}));
    }
    if (key == "remote_write") {
      FIELD(r_.Sequence(v, "*config.RemoteWriteConfig", [&](const YAML::Node& item) {
        if (item.IsNull()) return r_.Error(item, "empty or null remote write config section");
        RemoteWriteConfig rw;
        HEARTH_RETURN_IF_ERROR(RemoteWrite(item, &rw));
        cfg->remote_write.push_back(std::move(rw));
        return Status::Ok();
      }));
    }
    if (key == "remote_read") {
      FIELD(r_.Sequence(v, "*config.RemoteReadConfig", [&](const YAML::Node& item) {
        if (item.IsNull()) return r_.Error(item, "empty or null remote read config section");
        RemoteReadConfig rr;
        HEARTH_RETURN_IF_ERROR(RemoteRead(item, &rr));
        cfg->remote_read.push_back(std::move(rr));
        return Status::Ok();
      }));
    }
    (void)k;
    return std::nullopt;
  });
  HEARTH_RETURN_IF_ERROR(st);

  // Rule and scrape-config file patterns: `*` only in the last path element.
  auto valid_pattern = [](const std::string& p) {
    size_t star = p.find('*');
    if (star == std::string::npos) return true;
    return p.find('/', star) == std::string::npos && p.find('*', star + 1) == std::string::npos;
  };
  for (const std::string& rf : cfg->rule_files) {
    if (!valid_pattern(rf)) {
      return r_.Error(rule_files_node, fmt::format("invalid rule file path {}", QuoteGo(rf)));
    }
  }
  for (const std::string& sf : cfg->scrape_config_files) {
    if (!valid_pattern(sf)) {
      return r_.Error(scrape_files_node,
                      fmt::format("invalid scrape config file path {}", QuoteGo(sf)));
    }
  }

  std::set<std::string> jobs;
  for (ScrapeDraft& d : drafts) {
    HEARTH_RETURN_IF_ERROR(ValidateScrape(d, cfg->global));
    if (!jobs.insert(d.cfg.job_name).second) {
      return r_.Error(d.node, fmt::format("found multiple scrape configs with job name {}",
                                          QuoteGo(d.cfg.job_name)));
    }
    d.cfg.source_file = r_.file();
    cfg->scrape_configs.push_back(std::move(d.cfg));
  }

  std::set<std::string> rw_names;
  for (const RemoteWriteConfig& rw : cfg->remote_write) {
    if (!rw.name.empty() && !rw_names.insert(rw.name).second) {
      return r_.Error(root, fmt::format("found multiple remote write configs with job name {}",
                                        QuoteGo(rw.name)));
    }
  }
  std::set<std::string> rr_names;
  for (const RemoteReadConfig& rr : cfg->remote_read) {
    if (!rr.name.empty() && !rr_names.insert(rr.name).second) {
      return r_.Error(root, fmt::format("found multiple remote read configs with job name {}",
                                        QuoteGo(rr.name)));
    }
  }

  for (std::string& rf : cfg->rule_files) rf = Join(rf);
  for (std::string& sf : cfg->scrape_config_files) sf = Join(sf);
  cfg->global.query_log_file = Join(cfg->global.query_log_file);
  cfg->global.scrape_failure_log_file = Join(cfg->global.scrape_failure_log_file);
  return Status::Ok();
}

Status Loader::LoadScrapeFile(const YAML::Node& root, std::vector<ScrapeDraft>* drafts) {
  return r_.Fields(root, "config.ScrapeConfigs",
                   [&](const std::string& key, const YAML::Node& v,
                       const YAML::Node&) -> std::optional<Status> {
                     if (key != "scrape_configs") return std::nullopt;
                     return r_.Sequence(v, "*config.ScrapeConfig", [&](const YAML::Node& item) {
                       if (item.IsNull()) {
                         return r_.Error(item, "empty or null scrape config section");
                       }
                       ScrapeDraft d;
                       HEARTH_RETURN_IF_ERROR(Scrape(item, &d));
                       drafts->push_back(std::move(d));
                       return Status::Ok();
                     });
                   });
}

Status Loader::Global(const YAML::Node& n, GlobalConfig* g) {
  // As Prometheus: start from zero values, then default what stayed zero.
  *g = GlobalConfig{};
  g->scrape_interval_ms = 0;
  g->scrape_timeout_ms = 0;
  g->evaluation_interval_ms = 0;
  g->metric_name_validation_scheme.clear();
  std::vector<std::pair<std::string, std::string>> ext;
  bool protocols_set = false;
  YAML::Node ext_node;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "config.GlobalConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "scrape_interval") FIELD(r_.Duration(v, &g->scrape_interval_ms));
        if (key == "scrape_timeout") FIELD(r_.Duration(v, &g->scrape_timeout_ms));
        if (key == "scrape_protocols") {
          protocols_set = !v.IsNull();
          FIELD(Protocols(v, &g->scrape_protocols));
        }
        if (key == "evaluation_interval") FIELD(r_.Duration(v, &g->evaluation_interval_ms));
        if (key == "rule_query_offset") FIELD(r_.Duration(v, &g->rule_query_offset_ms));
        if (key == "query_log_file") FIELD(r_.String(v, &g->query_log_file));
        if (key == "scrape_failure_log_file") FIELD(r_.String(v, &g->scrape_failure_log_file));
        if (key == "external_labels") {
          ext_node.reset(v);
          FIELD(r_.LabelSet(v, &ext));
        }
        if (key == "body_size_limit") FIELD(r_.Size(v, &g->body_size_limit_bytes));
        if (key == "sample_limit") FIELD(r_.Uint(v, &g->sample_limit));
        if (key == "target_limit") FIELD(r_.Uint(v, &g->target_limit));
        if (key == "label_limit") FIELD(r_.Uint(v, &g->label_limit));
        if (key == "label_name_length_limit") FIELD(r_.Uint(v, &g->label_name_length_limit));
        if (key == "label_value_length_limit") FIELD(r_.Uint(v, &g->label_value_length_limit));
        if (key == "keep_dropped_targets") FIELD(r_.Uint(v, &g->keep_dropped_targets));
        if (key == "metric_name_validation_scheme") {
          FIELD(r_.String(v, &g->metric_name_validation_scheme));
        }
        if (key == "metric_name_escaping_scheme") {
          FIELD(r_.String(v, &g->metric_name_escaping_scheme));
        }
        if (key == "scrape_native_histograms") FIELD(r_.Bool(v, &g->scrape_native_histograms));
        if (key == "convert_classic_histograms_to_nhcb") {
          FIELD(r_.Bool(v, &g->convert_classic_histograms_to_nhcb));
        }
        if (key == "always_scrape_classic_histograms") {
          FIELD(r_.Bool(v, &g->always_scrape_classic_histograms));
        }
        if (key == "extra_scrape_metrics") FIELD(r_.Bool(v, &g->extra_scrape_metrics));
        return std::nullopt;
      }));
  const std::string& vs = g->metric_name_validation_scheme;
  if (vs.empty()) {
    g->metric_name_validation_scheme = "utf8";
  } else if (vs != "utf8" && vs != "legacy") {
    return r_.Error(n, fmt::format("unknown global name validation method specified, must be "
                                   "either '', 'legacy' or 'utf8', got {}",
                                   vs));
  }
  // External labels: $VAR expansion from the environment; an empty result drops the label.
  LabelsBuilder lb;
  for (const auto& [name, value] : ext) lb.Set(name, ExpandEnv(value));
  g->external_labels = lb.Build();

  if (g->scrape_interval_ms == 0) g->scrape_interval_ms = kDefaultScrapeIntervalMs;
  if (g->scrape_timeout_ms > g->scrape_interval_ms) {
    return r_.Error(n, "global scrape timeout greater than scrape interval");
  }
  if (g->scrape_timeout_ms == 0) {
    g->scrape_timeout_ms = std::min(kDefaultScrapeTimeoutMs, g->scrape_interval_ms);
  }
  if (g->evaluation_interval_ms == 0) g->evaluation_interval_ms = kDefaultEvaluationIntervalMs;
  if (protocols_set && g->scrape_protocols.empty()) {
    return r_.Error(n, "scrape_protocols cannot be empty for global config");
  }
  return Status::Ok();
}

Status Loader::Protocols(const YAML::Node& n, std::vector<ScrapeProtocol>* out) {
  out->clear();
  std::set<std::string> seen;
  return r_.Sequence(n, "config.ScrapeProtocol", [&](const YAML::Node& item) {
    std::string s;
    HEARTH_RETURN_IF_ERROR(r_.String(item, &s));
    if (!seen.insert(ToLowerAscii(s)).second) {
      std::vector<std::string> all;
      for (const auto& x : n) all.push_back(x.IsScalar() ? x.Scalar() : "?");
      return r_.Error(item, fmt::format("duplicated protocol in scrape_protocols, got [{}]",
                                        fmt::join(all, " ")));
    }
    auto p = ParseScrapeProtocol(s);
    if (!p) return r_.Error(item, "scrape_protocols: " + UnknownProtocolMessage(s));
    out->push_back(*p);
    return Status::Ok();
  });
}

Status Loader::Scrape(const YAML::Node& n, ScrapeDraft* d) {
  d->node.reset(n);
  ScrapeConfig& c = d->cfg;
  c.scrape_interval_ms = 0;
  c.scrape_timeout_ms = 0;
  LegacyBearer legacy;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "config.ScrapeConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node& k) -> std::optional<Status> {
        if (key == "job_name") FIELD(r_.String(v, &c.job_name));
        if (key == "honor_labels") FIELD(r_.Bool(v, &c.honor_labels));
        if (key == "honor_timestamps") FIELD(r_.Bool(v, &c.honor_timestamps));
        if (key == "track_timestamps_staleness") FIELD(r_.Bool(v, &c.track_timestamps_staleness));
        if (key == "params") FIELD(r_.StringListMap(v, &c.params));
        if (key == "scrape_interval") FIELD(r_.Duration(v, &c.scrape_interval_ms));
        if (key == "scrape_timeout") FIELD(r_.Duration(v, &c.scrape_timeout_ms));
        if (key == "scrape_protocols") {
          d->protocols_set = !v.IsNull();
          FIELD(Protocols(v, &c.scrape_protocols));
        }
        if (key == "fallback_scrape_protocol") {
          std::string s;
          Status st = r_.String(v, &s);
          if (st.ok() && !s.empty()) {
            auto p = ParseScrapeProtocol(s);
            if (!p) {
              st = r_.Error(v, fmt::format("invalid fallback_scrape_protocol for scrape config "
                                           "with job name {}: {}",
                                           QuoteGo(c.job_name), UnknownProtocolMessage(s)));
            } else {
              c.fallback_scrape_protocol = *p;
            }
          }
          FIELD(st);
        }
        auto opt_bool = [&](std::optional<bool>* out) {
          bool b = false;
          Status st = r_.Bool(v, &b);
          if (st.ok() && !v.IsNull()) *out = b;
          return st;
        };
        if (key == "scrape_native_histograms") FIELD(opt_bool(&d->native_histograms));
        if (key == "always_scrape_classic_histograms" || key == "scrape_classic_histograms") {
          FIELD(opt_bool(&d->always_classic));
        }
        if (key == "convert_classic_histograms_to_nhcb") FIELD(opt_bool(&d->convert_nhcb));
        if (key == "extra_scrape_metrics") FIELD(opt_bool(&d->extra_metrics));
        if (key == "scrape_failure_log_file") FIELD(r_.String(v, &c.scrape_failure_log_file));
        if (key == "metrics_path") FIELD(r_.String(v, &c.metrics_path));
        if (key == "scheme") FIELD(r_.String(v, &c.scheme));
        if (key == "enable_compression") FIELD(r_.Bool(v, &c.enable_compression));
        if (key == "body_size_limit") FIELD(r_.Size(v, &c.body_size_limit_bytes));
        if (key == "sample_limit") FIELD(r_.Uint(v, &c.sample_limit));
        if (key == "target_limit") FIELD(r_.Uint(v, &c.target_limit));
        if (key == "label_limit") FIELD(r_.Uint(v, &c.label_limit));
        if (key == "label_name_length_limit") FIELD(r_.Uint(v, &c.label_name_length_limit));
        if (key == "label_value_length_limit") FIELD(r_.Uint(v, &c.label_value_length_limit));
        if (key == "native_histogram_bucket_limit") {
          FIELD(r_.Uint(v, &c.native_histogram_bucket_limit));
        }
        if (key == "native_histogram_min_bucket_factor") {
          FIELD(r_.Float(v, &c.native_histogram_min_bucket_factor));
        }
        if (key == "keep_dropped_targets") FIELD(r_.Uint(v, &c.keep_dropped_targets));
        if (key == "metric_name_validation_scheme") FIELD(r_.String(v, &d->validation_scheme));
        if (key == "metric_name_escaping_scheme") FIELD(r_.String(v, &d->escaping_scheme));
        if (key == "relabel_configs") {
          FIELD(RelabelList(v, &c.relabel_configs,
                            "empty or null target relabeling rule in scrape config"));
        }
        if (key == "metric_relabel_configs") {
          FIELD(RelabelList(v, &c.metric_relabel_configs,
                            "empty or null metric relabeling rule in scrape config"));
        }
        if (auto st = HttpClientField(key, v, k, &c.http_client, &legacy)) return st;
        if (auto st = SdField(key, v, k, &c.service_discovery, &d->bad_static_target)) return st;
        return std::nullopt;
      }));
  if (c.job_name.empty()) return r_.Error(n, "job_name is empty");
  HEARTH_RETURN_IF_ERROR(FinishHttpClient(n, &c.http_client, legacy));
  if (c.relabel_configs.empty() && d->bad_static_target) {
    return r_.Error(*d->bad_static_target,
                    fmt::format("{} is not a valid hostname",
                                QuoteGo(d->bad_static_target->Scalar())));
  }
  c.scrape_failure_log_file = Join(c.scrape_failure_log_file);
  return Status::Ok();
}

Status Loader::ValidateScrape(ScrapeDraft& d, const GlobalConfig& g) const {
  ScrapeConfig& c = d.cfg;
  const std::string job = QuoteGo(c.job_name);
  if (c.scrape_interval_ms == 0) c.scrape_interval_ms = g.scrape_interval_ms;
  if (c.scrape_timeout_ms > c.scrape_interval_ms) {
    return r_.Error(d.node, fmt::format("scrape timeout greater than scrape interval for scrape "
                                        "config with job name {}",
                                        job));
  }
  if (c.scrape_timeout_ms == 0) c.scrape_timeout_ms = std::min(g.scrape_timeout_ms, c.scrape_interval_ms);
  if (c.body_size_limit_bytes == 0) c.body_size_limit_bytes = g.body_size_limit_bytes;
  if (c.sample_limit == 0) c.sample_limit = g.sample_limit;
  if (c.target_limit == 0) c.target_limit = g.target_limit;
  if (c.label_limit == 0) c.label_limit = g.label_limit;
  if (c.label_name_length_limit == 0) c.label_name_length_limit = g.label_name_length_limit;
  if (c.label_value_length_limit == 0) c.label_value_length_limit = g.label_value_length_limit;
  if (c.keep_dropped_targets == 0) c.keep_dropped_targets = g.keep_dropped_targets;
  if (c.scrape_failure_log_file.empty()) c.scrape_failure_log_file = g.scrape_failure_log_file;
  c.scrape_native_histograms = d.native_histograms.value_or(g.scrape_native_histograms);
  c.extra_scrape_metrics = d.extra_metrics.value_or(g.extra_scrape_metrics);
  if (!d.protocols_set) {
    if (!g.scrape_protocols.empty()) {
      c.scrape_protocols = g.scrape_protocols;
    } else if (c.scrape_native_histograms) {
      c.scrape_protocols = DefaultScrapeProtocols();
      c.scrape_protocols.insert(c.scrape_protocols.begin(), ScrapeProtocol::kPrometheusProto);
    } else {
      c.scrape_protocols = DefaultScrapeProtocols();
    }
  }
  if (c.scrape_protocols.empty()) {
    return r_.Error(d.node,
                    fmt::format("scrape_protocols cannot be empty for scrape config with job name {}",
                                job));
  }
  // Name validation and escaping schemes (3.x).
  bool local_unset = d.validation_scheme.empty();
  if (local_unset) {
    c.metric_name_validation_scheme = g.metric_name_validation_scheme;
  } else if (d.validation_scheme == "legacy" || d.validation_scheme == "utf8") {
    c.metric_name_validation_scheme = d.validation_scheme;
  } else {
    return r_.Error(d.node, fmt::format("unknown scrape config name validation method specified, "
                                        "must be either '', 'legacy' or 'utf8', got {}",
                                        d.validation_scheme));
  }
  auto valid_escaping = [](const std::string& s) {
    return s == "allow-utf-8" || s == "underscores" || s == "dots" || s == "values";
  };
  std::string global_escaping = g.metric_name_escaping_scheme;
  if (global_escaping.empty()) {
    global_escaping = g.metric_name_validation_scheme == "legacy" ? "underscores" : "allow-utf-8";
  } else if (!valid_escaping(global_escaping)) {
    return r_.Error(d.node, fmt::format("unknown global name escaping method specified, must be "
                                        "one of 'allow-utf-8', 'underscores', 'dots', or "
                                        "'values', got {}",
                                        QuoteGo(global_escaping)));
  }
  if (d.escaping_scheme.empty()) {
    if (local_unset) {
      c.metric_name_escaping_scheme = global_escaping;
    } else {
      c.metric_name_escaping_scheme =
          c.metric_name_validation_scheme == "legacy" ? "underscores" : "allow-utf-8";
    }
  } else {
    c.metric_name_escaping_scheme = d.escaping_scheme;
  }
  if (c.metric_name_escaping_scheme == "allow-utf-8") {
    if (c.metric_name_validation_scheme != "utf8") {
      return r_.Error(d.node,
                      "utf8 metric names requested but validation scheme is not set to UTF8");
    }
  } else if (!valid_escaping(c.metric_name_escaping_scheme)) {
    return r_.Error(d.node, fmt::format("unknown scrape config name escaping method specified, "
                                        "must be one of 'allow-utf-8', 'underscores', 'dots', "
                                        "or 'values', got {}",
                                        QuoteGo(c.metric_name_escaping_scheme)));
  }
  c.convert_classic_histograms_to_nhcb =
      d.convert_nhcb.value_or(g.convert_classic_histograms_to_nhcb);
  c.always_scrape_classic_histograms =
      d.always_classic.value_or(g.always_scrape_classic_histograms);
  return Status::Ok();
}

std::optional<Status> Loader::HttpClientField(const std::string& key, const YAML::Node& v,
                                              const YAML::Node& k, HttpClientConfig* h,
                                              LegacyBearer* legacy) {
  if (key == "basic_auth") {
    if (v.IsNull()) FIELD(Status::Ok());
    h->basic_auth.emplace();
    FIELD(BasicAuthCfg(v, &*h->basic_auth));
  }
  if (key == "authorization") {
    if (v.IsNull()) FIELD(Status::Ok());
    h->authorization.emplace();
    h->authorization->type.clear();
    FIELD(AuthorizationCfg(v, &*h->authorization));
  }
  if (key == "bearer_token") {
    legacy->node.emplace(k);
    FIELD(r_.String(v, &legacy->token));
  }
  if (key == "bearer_token_file") {
    legacy->node.emplace(k);
    FIELD(r_.String(v, &legacy->token_file));
  }
  if (key == "tls_config") FIELD(Tls(v, &h->tls_config));
  if (key == "proxy_url") FIELD(r_.String(v, &h->proxy_url));
  if (key == "no_proxy") FIELD(r_.String(v, &h->no_proxy));
  if (key == "proxy_from_environment") FIELD(r_.Bool(v, &h->proxy_from_environment));
  if (key == "proxy_connect_header") FIELD(r_.StringListMap(v, &h->proxy_connect_header));
  if (key == "follow_redirects") FIELD(r_.Bool(v, &h->follow_redirects));
  if (key == "enable_http2") FIELD(r_.Bool(v, &h->enable_http2));
  if (key == "oauth2") FIELD(Unsupported(k, "oauth2"));
  if (key == "http_headers") FIELD(Unsupported(k, "http_headers"));
  return std::nullopt;
}

Status Loader::FinishHttpClient(const YAML::Node& at, HttpClientConfig* h,
                                const LegacyBearer& legacy) {
  const YAML::Node& where = legacy.node ? *legacy.node : at;
  if (!legacy.token.empty() && !legacy.token_file.empty()) {
    return r_.Error(where, "at most one of bearer_token & bearer_token_file must be configured");
  }
  const bool has_legacy = !legacy.token.empty() || !legacy.token_file.empty();
  if (h->basic_auth && has_legacy) {
    return r_.Error(where, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file "
                           "must be configured");
  }
  if (h->basic_auth) {
    if (!h->basic_auth->username.empty() && !h->basic_auth->username_file.empty()) {
      return r_.Error(at, "at most one of basic_auth username, username_file & username_ref "
                          "must be configured");
    }
    if (!h->basic_auth->password.empty() && !h->basic_auth->password_file.empty()) {
      return r_.Error(at, "at most one of basic_auth password, password_file & password_ref "
                          "must be configured");
    }
    h->basic_auth->username_file = Join(h->basic_auth->username_file);
    h->basic_auth->password_file = Join(h->basic_auth->password_file);
  }
  if (h->authorization) {
    Authorization& a = *h->authorization;
    if (has_legacy) {
      return r_.Error(where, "authorization is not compatible with bearer_token & "
                             "bearer_token_file");
    }
    if (!a.credentials.empty() && !a.credentials_file.empty()) {
      return r_.Error(at, "at most one of authorization credentials & credentials_file must be "
                          "configured");
    }
    a.type = std::string(TrimSpace(a.type));
    if (a.type.empty()) a.type = "Bearer";
    if (ToLowerAscii(a.type) == "basic") {
      return r_.Error(at, "authorization type cannot be set to \"basic\", use \"basic_auth\" "
                          "instead");
    }
    if (h->basic_auth) {
      return r_.Error(at, "at most one of basic_auth, oauth2 & authorization must be configured");
    }
    a.credentials_file = Join(a.credentials_file);
  } else if (has_legacy) {
    Authorization a;
    a.type = "Bearer";
    a.credentials = legacy.token;
    a.credentials_file = Join(legacy.token_file);
    h->authorization = std::move(a);
  }
  TlsConfig& t = h->tls_config;
  if (!t.ca.empty() && !t.ca_file.empty()) {
    return r_.Error(at, "at most one of ca and ca_file must be configured");
  }
  if (!t.cert.empty() && !t.cert_file.empty()) {
    return r_.Error(at, "at most one of cert and cert_file must be configured");
  }
  if (!t.key.empty() && !t.key_file.empty()) {
    return r_.Error(at, "at most one of key and key_file must be configured");
  }
  const bool has_cert = !t.cert.empty() || !t.cert_file.empty();
  const bool has_key = !t.key.empty() || !t.key_file.empty();
  if (has_cert && !has_key) {
    return r_.Error(at, "exactly one of key or key_file must be configured when a client "
                        "certificate is configured");
  }
  if (has_key && !has_cert) {
    return r_.Error(at, "exactly one of cert or cert_file must be configured when a client key "
                        "is configured");
  }
  t.ca_file = Join(t.ca_file);
  t.cert_file = Join(t.cert_file);
  t.key_file = Join(t.key_file);
  return Status::Ok();
}

Status Loader::BasicAuthCfg(const YAML::Node& n, BasicAuth* b) {
  return r_.Fields(n, "config.BasicAuth",
                   [&](const std::string& key, const YAML::Node& v,
                       const YAML::Node& k) -> std::optional<Status> {
                     if (key == "username") FIELD(r_.String(v, &b->username));
                     if (key == "username_file") FIELD(r_.String(v, &b->username_file));
                     if (key == "password") FIELD(r_.String(v, &b->password));
                     if (key == "password_file") FIELD(r_.String(v, &b->password_file));
                     if (key == "username_ref" || key == "password_ref") {
                       FIELD(Unsupported(k, key));
                     }
                     return std::nullopt;
                   });
}

Status Loader::AuthorizationCfg(const YAML::Node& n, Authorization* a) {
  return r_.Fields(n, "config.Authorization",
                   [&](const std::string& key, const YAML::Node& v,
                       const YAML::Node& k) -> std::optional<Status> {
                     if (key == "type") FIELD(r_.String(v, &a->type));
                     if (key == "credentials") FIELD(r_.String(v, &a->credentials));
                     if (key == "credentials_file") FIELD(r_.String(v, &a->credentials_file));
                     if (key == "credentials_ref") FIELD(Unsupported(k, key));
                     return std::nullopt;
                   });
}

Status Loader::Tls(const YAML::Node& n, TlsConfig* t) {
  auto version = [&](const YAML::Node& v, std::string* out) {
    HEARTH_RETURN_IF_ERROR(r_.String(v, out));
    if (!out->empty() && *out != "TLS10" && *out != "TLS11" && *out != "TLS12" &&
        *out != "TLS13") {
      return r_.Error(v, fmt::format("unknown TLS version: {}", *out));
    }
    return Status::Ok();
  };
  return r_.Fields(n, "config.TLSConfig",
                   [&](const std::string& key, const YAML::Node& v,
                       const YAML::Node& k) -> std::optional<Status> {
                     if (key == "ca") FIELD(r_.String(v, &t->ca));
                     if (key == "ca_file") FIELD(r_.String(v, &t->ca_file));
                     if (key == "cert") FIELD(r_.String(v, &t->cert));
                     if (key == "cert_file") FIELD(r_.String(v, &t->cert_file));
                     if (key == "key") FIELD(r_.String(v, &t->key));
                     if (key == "key_file") FIELD(r_.String(v, &t->key_file));
                     if (key == "server_name") FIELD(r_.String(v, &t->server_name));
                     if (key == "insecure_skip_verify") FIELD(r_.Bool(v, &t->insecure_skip_verify));
                     if (key == "min_version") FIELD(version(v, &t->min_version));
                     if (key == "max_version") FIELD(version(v, &t->max_version));
                     if (key == "ca_ref" || key == "cert_ref" || key == "key_ref") {
                       FIELD(Unsupported(k, key));
                     }
                     return std::nullopt;
                   });
}

std::optional<Status> Loader::SdField(const std::string& key, const YAML::Node& v,
                                      const YAML::Node& k, ServiceDiscoveryConfigs* sd,
                                      std::optional<YAML::Node>* bad_target) {
  if (key == "static_configs") {
    FIELD(r_.Sequence(v, "*targetgroup.Group", [&](const YAML::Node& item) {
      if (item.IsNull()) return r_.Error(item, "empty or null section in static_configs");
      TargetGroup g;
      HEARTH_RETURN_IF_ERROR(StaticConfig(item, sd->static_configs.size(), &g, bad_target));
      sd->static_configs.push_back(std::move(g));
      return Status::Ok();
    }));
  }
  if (key == "file_sd_configs") {
    FIELD(r_.Sequence(v, "*file.SDConfig", [&](const YAML::Node& item) {
      if (item.IsNull()) return r_.Error(item, "empty or null section in file_sd_configs");
      FileSdConfig f;
      HEARTH_RETURN_IF_ERROR(FileSd(item, &f));
      sd->file_sd_configs.push_back(std::move(f));
      return Status::Ok();
    }));
  }
  if (key == "dns_sd_configs") {
    FIELD(r_.Sequence(v, "*dns.SDConfig", [&](const YAML::Node& item) {
      if (item.IsNull()) return r_.Error(item, "empty or null section in dns_sd_configs");
      DnsSdConfig d;
      HEARTH_RETURN_IF_ERROR(DnsSd(item, &d));
      sd->dns_sd_configs.push_back(std::move(d));
      return Status::Ok();
    }));
  }
  if (key == "http_sd_configs") {
    FIELD(r_.Sequence(v, "*http.SDConfig", [&](const YAML::Node& item) {
      if (item.IsNull()) return r_.Error(item, "empty or null section in http_sd_configs");
      HttpSdConfig h;
      HEARTH_RETURN_IF_ERROR(HttpSd(item, &h));
      sd->http_sd_configs.push_back(std::move(h));
      return Status::Ok();
    }));
  }
  for (std::string_view name : kUnsupportedSd) {
    if (key == name) {
      FIELD(r_.Error(k, fmt::format("{} is not supported by Hearth (it implements "
                                    "static_configs, file_sd_configs, dns_sd_configs and "
                                    "http_sd_configs)",
                                    key)));
    }
  }
  return std::nullopt;
}

Status Loader::StaticConfig(const YAML::Node& n, size_t index, TargetGroup* g,
                            std::optional<YAML::Node>* bad_target) {
  g->source = std::to_string(index);
  std::vector<std::pair<std::string, std::string>> labels;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "targetgroup.Group",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "targets") {
          FIELD(r_.Sequence(v, "string", [&](const YAML::Node& item) {
            std::string addr;
            HEARTH_RETURN_IF_ERROR(r_.String(item, &addr));
            if (addr.find('/') != std::string::npos && !bad_target->has_value()) {
              bad_target->emplace(item);
            }
            g->targets.push_back(Labels{{"__address__", addr}});
            return Status::Ok();
          }));
        }
        if (key == "labels") FIELD(r_.LabelSet(v, &labels));
        return std::nullopt;
      }));
  g->labels = Labels::FromPairs(labels);
  return Status::Ok();
}

Status Loader::FileSd(const YAML::Node& n, FileSdConfig* f) {
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "file.SDConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "files") FIELD(r_.StringList(v, &f->files));
        if (key == "refresh_interval") FIELD(r_.Duration(v, &f->refresh_interval_ms));
        return std::nullopt;
      }));
  if (f->files.empty()) {
    return r_.Error(n, "file service discovery config must contain at least one path name");
  }
  // ^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$
  for (std::string& file : f->files) {
    bool ok = false;
    for (std::string_view ext : {".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"}) {
      if (file.size() >= ext.size() && file.ends_with(ext)) ok = true;
    }
    size_t star = file.find('*');
    if (star != std::string::npos &&
        (file.find('/', star) != std::string::npos || file.find('*', star + 1) != std::string::npos)) {
      ok = false;
    }
    if (!ok) {
      return r_.Error(n, fmt::format("path name {} is not valid for file discovery",
                                     QuoteGo(file)));
    }
    file = Join(file);
  }
  return Status::Ok();
}

Status Loader::DnsSd(const YAML::Node& n, DnsSdConfig* d) {
  std::string type = "SRV";
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "dns.SDConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "names") FIELD(r_.StringList(v, &d->names));
        if (key == "refresh_interval") FIELD(r_.Duration(v, &d->refresh_interval_ms));
        if (key == "type") FIELD(r_.String(v, &type));
        if (key == "port") FIELD(r_.Int(v, &d->port));
        return std::nullopt;
      }));
  if (d->names.empty()) {
    return r_.Error(n, "DNS-SD config must contain at least one SRV record name");
  }
  const std::string upper = ToUpperAscii(type);
  if (upper == "SRV") {
    d->type = DnsRecordType::kSrv;
    return Status::Ok();
  }
  if (upper == "A") {
    d->type = DnsRecordType::kA;
  } else if (upper == "AAAA") {
    d->type = DnsRecordType::kAaaa;
  } else if (upper == "MX") {
    d->type = DnsRecordType::kMx;
  } else if (upper == "NS") {
    d->type = DnsRecordType::kNs;
  } else {
    return r_.Error(n, fmt::format("invalid DNS-SD records type {}", type));
  }
  if (d->port == 0) {
    return r_.Error(n, "a port is required in DNS-SD configs for all record types except SRV");
  }
  return Status::Ok();
}

Status Loader::HttpSd(const YAML::Node& n, HttpSdConfig* h) {
  LegacyBearer legacy;
  YAML::Node url_node;
  url_node.reset(n);
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "http.SDConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node& k) -> std::optional<Status> {
        if (key == "url") {
          url_node.reset(v);
          FIELD(r_.String(v, &h->url));
        }
        if (key == "refresh_interval") FIELD(r_.Duration(v, &h->refresh_interval_ms));
        if (auto st = HttpClientField(key, v, k, &h->http_client, &legacy)) return st;
        return std::nullopt;
      }));
  if (h->url.empty()) return r_.Error(n, "URL is missing");
  size_t colon = h->url.find("://");
  std::string scheme = colon == std::string::npos ? "" : ToLowerAscii(h->url.substr(0, colon));
  if (scheme != "http" && scheme != "https") {
    return r_.Error(url_node, "URL scheme must be 'http' or 'https'");
  }
  std::string_view rest = std::string_view(h->url).substr(colon + 3);
  if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') {
    return r_.Error(url_node, "host is missing in URL");
  }
  return FinishHttpClient(n, &h->http_client, legacy);
}

Status Loader::RelabelList(const YAML::Node& n, std::vector<RelabelConfig>* out,
                           std::string_view null_message) {
  out->clear();
  return r_.Sequence(n, "*relabel.Config", [&](const YAML::Node& item) {
    if (item.IsNull()) return r_.Error(item, null_message);
    RelabelConfig c;
    HEARTH_RETURN_IF_ERROR(Relabel(item, &c));
    out->push_back(std::move(c));
    return Status::Ok();
  });
}

Status Loader::Relabel(const YAML::Node& n, RelabelConfig* c) {
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "relabel.Config",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "source_labels") {
          FIELD(r_.Sequence(v, "model.LabelName", [&](const YAML::Node& item) {
            std::string name;
            HEARTH_RETURN_IF_ERROR(r_.String(item, &name));
            if (name.empty() || !IsValidUtf8(name)) {
              return r_.Error(item, fmt::format("{} is not a valid label name", QuoteGo(name)));
            }
            c->source_labels.push_back(std::move(name));
            return Status::Ok();
          }));
        }
        if (key == "separator") FIELD(r_.String(v, &c->separator));
        if (key == "regex") {
          std::string pattern;
          Status st = r_.String(v, &pattern);
          if (st.ok()) {
            auto re = RelabelRegex::Make(pattern);
            if (re.ok()) {
              c->regex = std::move(re).value();
            } else {
              st = r_.Error(v, re.status().message());
            }
          }
          FIELD(st);
        }
        if (key == "modulus") FIELD(r_.Uint(v, &c->modulus));
        if (key == "target_label") FIELD(r_.String(v, &c->target_label));
        if (key == "replacement") FIELD(r_.String(v, &c->replacement));
        if (key == "action") {
          std::string s;
          Status st = r_.String(v, &s);
          if (st.ok()) {
            auto a = ParseRelabelAction(s);
            if (a.ok()) {
              c->action = *a;
            } else {
              st = r_.Error(v, a.status().message());
            }
          }
          FIELD(st);
        }
        return std::nullopt;
      }));
  Status st = ValidateRelabelConfig(*c);
  if (!st.ok()) return r_.Error(n, st.message());
  return Status::Ok();
}

Status Loader::Alerting(const YAML::Node& n, AlertingConfig* a) {
  return r_.Fields(
      n, "config.AlertingConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "alert_relabel_configs") {
          FIELD(RelabelList(v, &a->alert_relabel_configs, "empty or null alert relabeling rule"));
        }
        if (key == "alertmanagers") {
          FIELD(r_.Sequence(v, "*config.AlertmanagerConfig", [&](const YAML::Node& item) {
            if (item.IsNull()) return r_.Error(item, "empty or null alertmanager config section");
            AlertmanagerConfig am;
            HEARTH_RETURN_IF_ERROR(Alertmanager(item, &am));
            a->alertmanagers.push_back(std::move(am));
            return Status::Ok();
          }));
        }
        return std::nullopt;
      });
}

Status Loader::Alertmanager(const YAML::Node& n, AlertmanagerConfig* am) {
  LegacyBearer legacy;
  std::optional<YAML::Node> bad_target;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "config.AlertmanagerConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node& k) -> std::optional<Status> {
        if (key == "scheme") FIELD(r_.String(v, &am->scheme));
        if (key == "path_prefix") FIELD(r_.String(v, &am->path_prefix));
        if (key == "timeout") FIELD(r_.Duration(v, &am->timeout_ms));
        if (key == "api_version") {
          Status st = r_.String(v, &am->api_version);
          if (st.ok() && am->api_version != "v2") {
            st = r_.Error(v, fmt::format("expected Alertmanager api version to be one of [v2] "
                                         "but got {}",
                                         am->api_version));
          }
          FIELD(st);
        }
        if (key == "relabel_configs") {
          FIELD(RelabelList(v, &am->relabel_configs,
                            "empty or null Alertmanager target relabeling rule"));
        }
        if (key == "alert_relabel_configs") {
          FIELD(RelabelList(v, &am->alert_relabel_configs,
                            "empty or null Alertmanager alert relabeling rule"));
        }
        if (key == "sigv4") FIELD(Unsupported(k, "sigv4"));
        if (auto st = HttpClientField(key, v, k, &am->http_client, &legacy)) return st;
        if (auto st = SdField(key, v, k, &am->service_discovery, &bad_target)) return st;
        return std::nullopt;
      }));
  HEARTH_RETURN_IF_ERROR(FinishHttpClient(n, &am->http_client, legacy));
  if (am->relabel_configs.empty() && bad_target) {
    return r_.Error(*bad_target,
                    fmt::format("{} is not a valid hostname", QuoteGo(bad_target->Scalar())));
  }
  return Status::Ok();
}

Status Loader::Headers(const YAML::Node& n, std::map<std::string, std::string>* out) {
  HEARTH_RETURN_IF_ERROR(r_.StringMap(n, out));
  static constexpr std::string_view kReserved[] = {
      "host", "content-encoding", "content-length", "content-type", "user-agent", "connection",
      "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
      "accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
      "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};
  for (const auto& [name, value] : *out) {
    std::string lower = ToLowerAscii(name);
    if (lower == "authorization") {
      return r_.Error(n, "authorization header must be changed via the basic_auth, "
                         "authorization, oauth2, sigv4, azuread or google_iam parameter");
    }
    for (std::string_view r : kReserved) {
      if (lower == r) {
        return r_.Error(n, fmt::format("{} is a reserved header. It must not be changed", name));
      }
    }
  }
  return Status::Ok();
}

Status Loader::RemoteWrite(const YAML::Node& n, RemoteWriteConfig* rw) {
  rw->http_client.enable_http2 = false;
  LegacyBearer legacy;
  bool url_set = false;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "config.RemoteWriteConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node& k) -> std::optional<Status> {
        if (key == "url") {
          url_set = !v.IsNull();
          FIELD(r_.String(v, &rw->url));
        }
        if (key == "remote_timeout") FIELD(r_.Duration(v, &rw->remote_timeout_ms));
        if (key == "headers") FIELD(Headers(v, &rw->headers));
        if (key == "write_relabel_configs") {
          FIELD(RelabelList(v, &rw->write_relabel_configs,
                            "empty or null relabeling rule in remote write config"));
        }
        if (key == "name") FIELD(r_.String(v, &rw->name));
        if (key == "send_exemplars") FIELD(r_.Bool(v, &rw->send_exemplars));
        if (key == "send_native_histograms") FIELD(r_.Bool(v, &rw->send_native_histograms));
        if (key == "round_robin_dns") FIELD(r_.Bool(v, &rw->round_robin_dns));
        if (key == "protobuf_message") {
          Status st = r_.String(v, &rw->protobuf_message);
          if (st.ok() && rw->protobuf_message != "prometheus.WriteRequest" &&
              rw->protobuf_message != "io.prometheus.write.v2.Request") {
            st = r_.Error(v, fmt::format("invalid protobuf_message value: unknown remote write "
                                         "protobuf message {}, supported: "
                                         "prometheus.WriteRequest, io.prometheus.write.v2.Request",
                                         rw->protobuf_message));
          }
          FIELD(st);
        }
        if (key == "queue_config") {
          QueueConfig& q = rw->queue_config;
          FIELD(r_.Fields(v, "config.QueueConfig",
                          [&](const std::string& qk, const YAML::Node& qv,
                              const YAML::Node&) -> std::optional<Status> {
                            if (qk == "capacity") FIELD(r_.Int(qv, &q.capacity));
                            if (qk == "max_shards") FIELD(r_.Int(qv, &q.max_shards));
                            if (qk == "min_shards") FIELD(r_.Int(qv, &q.min_shards));
                            if (qk == "max_samples_per_send") {
                              FIELD(r_.Int(qv, &q.max_samples_per_send));
                            }
                            if (qk == "batch_send_deadline") {
                              FIELD(r_.Duration(qv, &q.batch_send_deadline_ms));
                            }
                            if (qk == "min_backoff") FIELD(r_.Duration(qv, &q.min_backoff_ms));
                            if (qk == "max_backoff") FIELD(r_.Duration(qv, &q.max_backoff_ms));
                            if (qk == "retry_on_http_429") FIELD(r_.Bool(qv, &q.retry_on_http_429));
                            if (qk == "sample_age_limit") {
                              FIELD(r_.Duration(qv, &q.sample_age_limit_ms));
                            }
                            return std::nullopt;
                          }));
        }
        if (key == "metadata_config") {
          MetadataConfig& m = rw->metadata_config;
          FIELD(r_.Fields(v, "config.MetadataConfig",
                          [&](const std::string& mk, const YAML::Node& mv,
                              const YAML::Node&) -> std::optional<Status> {
                            if (mk == "send") FIELD(r_.Bool(mv, &m.send));
                            if (mk == "send_interval") FIELD(r_.Duration(mv, &m.send_interval_ms));
                            if (mk == "max_samples_per_send") {
                              FIELD(r_.Int(mv, &m.max_samples_per_send));
                            }
                            return std::nullopt;
                          }));
        }
        if (key == "sigv4" || key == "azuread" || key == "google_iam") FIELD(Unsupported(k, key));
        if (auto st = HttpClientField(key, v, k, &rw->http_client, &legacy)) return st;
        return std::nullopt;
      }));
  if (!url_set || rw->url.empty()) return r_.Error(n, "url for remote_write is empty");
  return FinishHttpClient(n, &rw->http_client, legacy);
}

Status Loader::RemoteRead(const YAML::Node& n, RemoteReadConfig* rr) {
  LegacyBearer legacy;
  bool url_set = false;
  RETURN_IF_FIELDS_FAIL(r_.Fields(
      n, "config.RemoteReadConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node& k) -> std::optional<Status> {
        if (key == "url") {
          url_set = !v.IsNull();
          FIELD(r_.String(v, &rr->url));
        }
        if (key == "remote_timeout") FIELD(r_.Duration(v, &rr->remote_timeout_ms));
        if (key == "chunked_read_limit") FIELD(r_.Uint(v, &rr->chunked_read_limit));
        if (key == "headers") FIELD(Headers(v, &rr->headers));
        if (key == "read_recent") FIELD(r_.Bool(v, &rr->read_recent));
        if (key == "name") FIELD(r_.String(v, &rr->name));
        if (key == "required_matchers") {
          std::vector<std::pair<std::string, std::string>> ls;
          Status st = r_.LabelSet(v, &ls);
          for (auto& [name, value] : ls) rr->required_matchers[name] = value;
          FIELD(st);
        }
        if (key == "filter_external_labels") FIELD(r_.Bool(v, &rr->filter_external_labels));
        if (auto st = HttpClientField(key, v, k, &rr->http_client, &legacy)) return st;
        return std::nullopt;
      }));
  if (!url_set || rr->url.empty()) return r_.Error(n, "url for remote_read is empty");
  return FinishHttpClient(n, &rr->http_client, legacy);
}

Status Loader::Storage(const YAML::Node& n, StorageConfig* s) {
  return r_.Fields(
      n, "config.StorageConfig",
      [&](const std::string& key, const YAML::Node& v,
          const YAML::Node&) -> std::optional<Status> {
        if (key == "tsdb") {
          FIELD(r_.Fields(v, "config.TSDBConfig",
                          [&](const std::string& tk, const YAML::Node& tv,
                              const YAML::Node&) -> std::optional<Status> {
                            if (tk == "out_of_order_time_window") {
                              FIELD(r_.Duration(tv, &s->out_of_order_time_window_ms));
                            }
                            if (tk == "retention") {
                              FIELD(r_.Fields(tv, "config.TSDBRetentionConfig",
                                              [&](const std::string& rk, const YAML::Node& rv,
                                                  const YAML::Node&) -> std::optional<Status> {
                                                if (rk == "time") {
                                                  FIELD(r_.Duration(rv, &s->retention_time_ms));
                                                }
                                                if (rk == "size") {
                                                  FIELD(r_.Size(rv, &s->retention_size_bytes));
                                                }
                                                return std::nullopt;
                                              }));
                            }
                            return std::nullopt;
                          }));
        }
        if (key == "exemplars") {
          FIELD(r_.Fields(v, "config.ExemplarsConfig",
                          [&](const std::string& ek, const YAML::Node& ev,
                              const YAML::Node&) -> std::optional<Status> {
                            if (ek == "max_exemplars") FIELD(r_.Int(ev, &s->max_exemplars));
                            return std::nullopt;
                          }));
        }
        return std::nullopt;
      });
}

#undef FIELD
#undef RETURN_IF_FIELDS_FAIL

Result<std::vector<std::string>> Glob(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return InvalidArgument("error retrieving files for {}: glob failed", QuoteGo(pattern));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Errorf(StatusCode::kNotFound, "open {}: {}", path, std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Config> Load(std::string_view yaml, std::string_view source_name,
                    std::string_view base_dir) {
  const std::string prefix =
      source_name.empty() ? "parsing YAML" : fmt::format("parsing YAML file {}", source_name);
  auto root = ParseYaml(yaml, source_name);
  if (!root.ok()) return root.status().WithPrefix(prefix);
  Config cfg;
  Loader loader{std::string(source_name), std::string(base_dir)};
  Status st = loader.LoadMain(*root, &cfg);
  if (!st.ok()) return st.WithPrefix(prefix);

  // scrape_config_files: each match holds `scrape_configs:` only; job names stay unique.
  std::map<std::string, std::string> first_seen;
  for (const ScrapeConfig& sc : cfg.scrape_configs) first_seen[sc.job_name] = "main config file";
  for (const std::string& pattern : cfg.scrape_config_files) {
    HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> files, Glob(pattern));
    for (const std::string& file : files) {
      HEARTH_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file));
      auto sub_root = ParseYaml(text, file);
      if (!sub_root.ok()) return sub_root.status();
      Loader sub{file, DirOf(file)};
      std::vector<ScrapeDraft> drafts;
      HEARTH_RETURN_IF_ERROR(sub.LoadScrapeFile(*sub_root, &drafts));
      for (ScrapeDraft& d : drafts) {
        HEARTH_RETURN_IF_ERROR(sub.ValidateScrape(d, cfg.global));
        auto [it, inserted] = first_seen.emplace(d.cfg.job_name, QuoteGo(file));
        if (!inserted) {
          return sub.reader().Error(
              d.node, fmt::format("found multiple scrape configs with job name {}, first found "
                                  "in {}",
                                  QuoteGo(d.cfg.job_name), it->second));
        }
        d.cfg.source_file = file;
        cfg.scrape_configs.push_back(std::move(d.cfg));
      }
    }
  }
  cfg.original_yaml = std::string(yaml);
  return cfg;
}

}  // namespace

Result<Config> LoadConfigString(std::string_view yaml, std::string_view source_name,
                                std::string_view base_dir) {
  return Load(yaml, source_name, base_dir);
}

Result<Config> LoadConfigFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  auto cfg = Load(*text, path, DirOf(path));
  if (!cfg.ok()) return cfg.status();
  cfg->source_file = path;
  return cfg;
}

Result<std::vector<std::string>> ExpandRuleFiles(const Config& config) {
  std::vector<std::string> out;
  for (const std::string& pattern : config.rule_files) {
    HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> files, Glob(pattern));
    out.insert(out.end(), files.begin(), files.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace hearth
