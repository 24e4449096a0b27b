// RenderConfigYaml: the loaded configuration printed the way Prometheus 3.x prints its own
// (go-yaml v2 block style, Go struct field order, omitempty, secrets as <secret>).

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "config/load.h"
#include "model/duration.h"
#include "model/strutil.h"

namespace hearth {
namespace {

// A tiny YAML document model, enough for the config.
struct Y {
  enum class Kind { kScalar, kMap, kSeq, kFlowSeq } kind = Kind::kScalar;
  std::string scalar;
  bool raw = false;  // a bool or number: printed as is, never quoted
  std::vector<std::pair<std::string, Y>> map;
  std::vector<Y> seq;

  static Y S(std::string s) {
    Y y;
    y.scalar = std::move(s);
    return y;
  }
  static Y Raw(std::string s) {
    Y y = S(std::move(s));
    y.raw = true;
    return y;
  }
  static Y Map() {
    Y y;
    y.kind = Kind::kMap;
    return y;
  }
  static Y Seq(bool flow = false) {
    Y y;
    y.kind = flow ? Kind::kFlowSeq : Kind::kSeq;
    return y;
  }
  bool Empty() const {
    return (kind == Kind::kMap && map.empty()) ||
           ((kind == Kind::kSeq || kind == Kind::kFlowSeq) && seq.empty());
  }
  // Adds a field unless it is an empty map or list (omitempty).
  Y& Add(std::string key, Y v) {
    if (!v.Empty()) map.emplace_back(std::move(key), std::move(v));
    return *this;
  }
  Y& Str(std::string key, const std::string& v, bool omit_empty = true) {
    if (!(omit_empty && v.empty())) map.emplace_back(std::move(key), S(v));
    return *this;
  }
  Y& Secret(std::string key, const std::string& v) {
    if (!v.empty()) map.emplace_back(std::move(key), S("<secret>"));
    return *this;
  }
  Y& Bool(std::string key, bool v, bool omit_false = false) {
    if (!(omit_false && !v)) map.emplace_back(std::move(key), Raw(v ? "true" : "false"));
    return *this;
  }
  Y& Num(std::string key, uint64_t v, bool omit_zero = true) {
    if (!(omit_zero && v == 0)) map.emplace_back(std::move(key), Raw(std::to_string(v)));
    return *this;
  }
  Y& Dur(std::string key, int64_t ms, bool omit_zero = true) {
    if (!(omit_zero && ms == 0)) map.emplace_back(std::move(key), S(FormatDuration(ms)));
    return *this;
  }
};

bool NeedsDoubleQuotes(std::string_view s) {
  // Strings YAML would read back as another type (go-yaml quotes these with double quotes).
  static constexpr std::string_view kWords[] = {
      "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
      "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
      "~", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"};
  for (auto w : kWords) {
    if (s == w) return true;
  }
  bool numeric = !s.empty();
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
          c == '_' || c == 'x' || c == 'o')) {
      numeric = false;
    }
  }
  if (numeric && s.find_first_of("0123456789") != std::string_view::npos) return true;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return !IsValidUtf8(s);
}

bool NeedsSingleQuotes(std::string_view s) {
  if (s.empty()) return true;
  if (s.front() == ' ' || s.back() == ' ') return true;
  constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) {
    // "-x", "?x", ":x" may start a plain scalar; the rest never can.
    if (!((s.front() == '-' || s.front() == '?' || s.front() == ':') && s.size() > 1 &&
          s[1] != ' ')) {
      return true;
    }
  }
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return true;
  }
  if (s.back() == ':') return true;
  return false;
}

std::string Scalar(std::string_view s) {
  if (NeedsDoubleQuotes(s)) return QuoteGo(s);
  if (NeedsSingleQuotes(s)) {
    std::string out = "'";
    for (char c : s) {
      out += c;
      if (c == '\'') out += '\'';
    }
    return out + "'";
  }
  return std::string(s);
}

void Emit(const Y& y, int indent, std::string* out);

void EmitValueAfterKey(const Y& v, int indent, std::string* out) {
  switch (v.kind) {
    case Y::Kind::kScalar:
      *out += ' ';
      *out += v.raw ? v.scalar : Scalar(v.scalar);
      *out += '\n';
      return;
    case Y::Kind::kFlowSeq: {
      *out += " [";
      for (size_t i = 0; i < v.seq.size(); ++i) {
        if (i > 0) *out += ", ";
        *out += Scalar(v.seq[i].scalar);
      }
      *out += "]\n";
      return;
    }
    case Y::Kind::kMap:
      *out += '\n';
      Emit(v, indent + 2, out);
      return;
    case Y::Kind::kSeq:
      *out += '\n';
      Emit(v, indent, out);  // go-yaml does not indent a list under its key
      return;
  }
}

void Emit(const Y& y, int indent, std::string* out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (y.kind == Y::Kind::kMap) {
    for (const auto& [k, v] : y.map) {
      *out += pad + Scalar(k) + ':';
      EmitValueAfterKey(v, indent, out);
    }
    return;
  }
  for (const Y& item : y.seq) {
    if (item.kind == Y::Kind::kMap && !item.map.empty()) {
      // "- first: x\n  second: y"
      std::string sub;
      Emit(item, indent + 2, &sub);
      *out += pad + "- " + sub.substr(static_cast<size_t>(indent) + 2);
    } else if (item.kind == Y::Kind::kScalar) {
      *out += pad + "- " + Scalar(item.scalar) + '\n';
    } else {
      *out += pad + "-";
      EmitValueAfterKey(item, indent, out);
    }
  }
}

Y StrSeq(const std::vector<std::string>& v, bool flow = false) {
  Y y = Y::Seq(flow);
  for (const auto& s : v) y.seq.push_back(Y::S(s));
  return y;
}

Y LabelMap(const Labels& l) {
  Y y = Y::Map();
  for (const Label& x : l) y.Str(std::string(x.name), std::string(x.value), false);
  return y;
}

Y Protocols(const std::vector<ScrapeProtocol>& ps) {
  Y y = Y::Seq();
  for (ScrapeProtocol p : ps) y.seq.push_back(Y::S(std::string(ScrapeProtocolName(p))));
  return y;
}

Y Relabel(const RelabelConfig& c) {
  Y y = Y::Map();
  y.Add("source_labels", StrSeq(c.source_labels, true));
  y.Str("separator", c.separator);
  if (!c.regex.pattern().empty()) y.Str("regex", c.regex.pattern());
  y.Num("modulus", c.modulus);
  y.Str("target_label", c.target_label);
  y.Str("replacement", c.replacement);
  y.Str("action", std::string(RelabelActionName(c.action)));
  return y;
}

Y RelabelSeq(const std::vector<RelabelConfig>& v) {
  Y y = Y::Seq();
  for (const auto& c : v) y.seq.push_back(Relabel(c));
  return y;
}

void HttpClient(const HttpClientConfig& h, Y* y) {
  if (h.basic_auth) {
    Y b = Y::Map();
    b.Str("username", h.basic_auth->username);
    b.Str("username_file", h.basic_auth->username_file);
    b.Secret("password", h.basic_auth->password);
    b.Str("password_file", h.basic_auth->password_file);
    y->map.emplace_back("basic_auth", std::move(b));
  }
  if (h.authorization) {
    Y a = Y::Map();
    a.Str("type", h.authorization->type);
    a.Secret("credentials", h.authorization->credentials);
    a.Str("credentials_file", h.authorization->credentials_file);
    y->map.emplace_back("authorization", std::move(a));
  }
  const TlsConfig& t = h.tls_config;
  Y tls = Y::Map();
  tls.Str("ca", t.ca);
  tls.Str("cert", t.cert);
  tls.Secret("key", t.key);
  tls.Str("ca_file", t.ca_file);
  tls.Str("cert_file", t.cert_file);
  tls.Str("key_file", t.key_file);
  tls.Str("server_name", t.server_name);
  if (!tls.map.empty() || t.insecure_skip_verify) tls.Bool("insecure_skip_verify", t.insecure_skip_verify);
  tls.Str("min_version", t.min_version);
  tls.Str("max_version", t.max_version);
  y->Add("tls_config", std::move(tls));
  y->Str("proxy_url", h.proxy_url);
  y->Str("no_proxy", h.no_proxy);
  y->Bool("proxy_from_environment", h.proxy_from_environment, true);
  if (!h.proxy_connect_header.empty()) {
    Y p = Y::Map();
    for (const auto& [k, v] : h.proxy_connect_header) {
      Y s = Y::Seq();
      for (size_t i = 0; i < v.size(); ++i) s.seq.push_back(Y::S("<secret>"));
      p.map.emplace_back(k, std::move(s));
    }
    y->Add("proxy_connect_header", std::move(p));
  }
  y->Bool("follow_redirects", h.follow_redirects);
  y->Bool("enable_http2", h.enable_http2);
}

void ServiceDiscovery(const ServiceDiscoveryConfigs& sd, Y* y) {
  Y dns = Y::Seq();
  for (const auto& d : sd.dns_sd_configs) {
    Y m = Y::Map();
    m.Add("names", StrSeq(d.names));
    m.Dur("refresh_interval", d.refresh_interval_ms);
    m.Str("type", std::string(DnsRecordTypeName(d.type)));
    m.Num("port", static_cast<uint64_t>(d.port), false);
    dns.seq.push_back(std::move(m));
  }
  y->Add("dns_sd_configs", std::move(dns));
  Y files = Y::Seq();
  for (const auto& f : sd.file_sd_configs) {
    Y m = Y::Map();
    m.Add("files", StrSeq(f.files));
    m.Dur("refresh_interval", f.refresh_interval_ms);
    files.seq.push_back(std::move(m));
  }
  y->Add("file_sd_configs", std::move(files));
  Y http = Y::Seq();
  for (const auto& h : sd.http_sd_configs) {
    Y m = Y::Map();
    HttpClient(h.http_client, &m);
    m.Dur("refresh_interval", h.refresh_interval_ms);
    m.Str("url", h.url);
    http.seq.push_back(std::move(m));
  }
  y->Add("http_sd_configs", std::move(http));
  Y statics = Y::Seq();
  for (const auto& g : sd.static_configs) {
    Y m = Y::Map();
    Y targets = Y::Seq();
    for (const Labels& t : g.targets) targets.seq.push_back(Y::S(std::string(t.Get("__address__"))));
    m.Add("targets", std::move(targets));
    m.Add("labels", LabelMap(g.labels));
    statics.seq.push_back(std::move(m));
  }
  y->Add("static_configs", std::move(statics));
}

Y Scrape(const ScrapeConfig& c) {
  Y y = Y::Map();
  y.Str("job_name", c.job_name, false);
  y.Bool("honor_labels", c.honor_labels, true);
  y.Bool("honor_timestamps", c.honor_timestamps);
  y.Bool("track_timestamps_staleness", c.track_timestamps_staleness);
  if (!c.params.empty()) {
    Y p = Y::Map();
    for (const auto& [k, v] : c.params) p.map.emplace_back(k, StrSeq(v));
    y.Add("params", std::move(p));
  }
  y.Dur("scrape_interval", c.scrape_interval_ms);
  y.Dur("scrape_timeout", c.scrape_timeout_ms);
  y.Add("scrape_protocols", Protocols(c.scrape_protocols));
  if (c.fallback_scrape_protocol) {
    y.Str("fallback_scrape_protocol", std::string(ScrapeProtocolName(*c.fallback_scrape_protocol)));
  }
  y.Bool("scrape_native_histograms", c.scrape_native_histograms);
  y.Bool("always_scrape_classic_histograms", c.always_scrape_classic_histograms);
  y.Bool("convert_classic_histograms_to_nhcb", c.convert_classic_histograms_to_nhcb);
  y.Str("scrape_failure_log_file", c.scrape_failure_log_file);
  y.Str("metrics_path", c.metrics_path);
  y.Str("scheme", c.scheme);
  y.Bool("enable_compression", c.enable_compression);
  if (c.body_size_limit_bytes != 0) y.Str("body_size_limit", FormatBase2Bytes(c.body_size_limit_bytes));
  y.Num("sample_limit", c.sample_limit);
  y.Num("target_limit", c.target_limit);
  y.Num("label_limit", c.label_limit);
  y.Num("label_name_length_limit", c.label_name_length_limit);
  y.Num("label_value_length_limit", c.label_value_length_limit);
  y.Num("native_histogram_bucket_limit", c.native_histogram_bucket_limit);
  if (c.native_histogram_min_bucket_factor != 0) {
    y.Str("native_histogram_min_bucket_factor", fmt::format("{}", c.native_histogram_min_bucket_factor));
  }
  y.Num("keep_dropped_targets", c.keep_dropped_targets);
  y.Str("metric_name_validation_scheme", c.metric_name_validation_scheme);
  y.Str("metric_name_escaping_scheme", c.metric_name_escaping_scheme);
  y.Bool("extra_scrape_metrics", c.extra_scrape_metrics);
  HttpClient(c.http_client, &y);
  ServiceDiscovery(c.service_discovery, &y);
  y.Add("relabel_configs", RelabelSeq(c.relabel_configs));
  y.Add("metric_relabel_configs", RelabelSeq(c.metric_relabel_configs));
  return y;
}

Y Global(const GlobalConfig& g) {
  Y y = Y::Map();
  y.Dur("scrape_interval", g.scrape_interval_ms);
  y.Dur("scrape_timeout", g.scrape_timeout_ms);
  y.Add("scrape_protocols", Protocols(g.scrape_protocols));
  y.Dur("evaluation_interval", g.evaluation_interval_ms);
  y.Dur("rule_query_offset", g.rule_query_offset_ms);
  y.Str("query_log_file", g.query_log_file);
  y.Str("scrape_failure_log_file", g.scrape_failure_log_file);
  y.Add("external_labels", LabelMap(g.external_labels));
  if (g.body_size_limit_bytes != 0) y.Str("body_size_limit", FormatBase2Bytes(g.body_size_limit_bytes));
  y.Num("sample_limit", g.sample_limit);
  y.Num("target_limit", g.target_limit);
  y.Num("label_limit", g.label_limit);
  y.Num("label_name_length_limit", g.label_name_length_limit);
  y.Num("label_value_length_limit", g.label_value_length_limit);
  y.Num("keep_dropped_targets", g.keep_dropped_targets);
  y.Str("metric_name_validation_scheme", g.metric_name_validation_scheme);
  y.Str("metric_name_escaping_scheme", g.metric_name_escaping_scheme);
  y.Bool("scrape_native_histograms", g.scrape_native_histograms);
  y.Bool("convert_classic_histograms_to_nhcb", g.convert_classic_histograms_to_nhcb, true);
  y.Bool("always_scrape_classic_histograms", g.always_scrape_classic_histograms, true);
  y.Bool("extra_scrape_metrics", g.extra_scrape_metrics, true);
  return y;
}

Y Alerting(const AlertingConfig& a) {
  Y y = Y::Map();
  y.Add("alert_relabel_configs", RelabelSeq(a.alert_relabel_configs));
  Y ams = Y::Seq();
  for (const AlertmanagerConfig& am : a.alertmanagers) {
    Y m = Y::Map();
    HttpClient(am.http_client, &m);
    m.Str("scheme", am.scheme);
    m.Str("path_prefix", am.path_prefix);
    m.Dur("timeout", am.timeout_ms);
    m.Str("api_version", am.api_version, false);
    ServiceDiscovery(am.service_discovery, &m);
    m.Add("relabel_configs", RelabelSeq(am.relabel_configs));
    m.Add("alert_relabel_configs", RelabelSeq(am.alert_relabel_configs));
    ams.seq.push_back(std::move(m));
  }
  y.Add("alertmanagers", std::move(ams));
  return y;
}

Y Headers(const std::map<std::string, std::string>& h) {
  Y y = Y::Map();
  for (const auto& [k, v] : h) y.Str(k, v, false);
  return y;
}

Y RemoteWrite(const RemoteWriteConfig& rw) {
  Y y = Y::Map();
  y.Str("url", rw.url, false);
  y.Dur("remote_timeout", rw.remote_timeout_ms);
  y.Add("headers", Headers(rw.headers));
  y.Add("write_relabel_configs", RelabelSeq(rw.write_relabel_configs));
  y.Str("name", rw.name);
  y.Bool("send_exemplars", rw.send_exemplars, true);
  y.Bool("send_native_histograms", rw.send_native_histograms, true);
  y.Bool("round_robin_dns", rw.round_robin_dns, true);
  y.Str("protobuf_message", rw.protobuf_message);
  HttpClient(rw.http_client, &y);
  const QueueConfig& q = rw.queue_config;
  Y qy = Y::Map();
  qy.Num("capacity", static_cast<uint64_t>(q.capacity));
  qy.Num("max_shards", static_cast<uint64_t>(q.max_shards));
  qy.Num("min_shards", static_cast<uint64_t>(q.min_shards));
  qy.Num("max_samples_per_send", static_cast<uint64_t>(q.max_samples_per_send));
  qy.Dur("batch_send_deadline", q.batch_send_deadline_ms);
  qy.Dur("min_backoff", q.min_backoff_ms);
  qy.Dur("max_backoff", q.max_backoff_ms);
  qy.Bool("retry_on_http_429", q.retry_on_http_429, true);
  qy.Dur("sample_age_limit", q.sample_age_limit_ms);
  y.Add("queue_config", std::move(qy));
  Y m = Y::Map();
  m.Bool("send", rw.metadata_config.send);
  m.Dur("send_interval", rw.metadata_config.send_interval_ms, false);
  m.Num("max_samples_per_send", static_cast<uint64_t>(rw.metadata_config.max_samples_per_send));
  y.Add("metadata_config", std::move(m));
  return y;
}

Y RemoteRead(const RemoteReadConfig& rr) {
  Y y = Y::Map();
  y.Str("url", rr.url, false);
  y.Dur("remote_timeout", rr.remote_timeout_ms);
  y.Num("chunked_read_limit", rr.chunked_read_limit);
  y.Add("headers", Headers(rr.headers));
  y.Bool("read_recent", rr.read_recent, true);
  y.Str("name", rr.name);
  HttpClient(rr.http_client, &y);
  y.Add("required_matchers", Headers(rr.required_matchers));
  y.Bool("filter_external_labels", rr.filter_external_labels, true);
  return y;
}

}  // namespace

std::string RenderConfigYaml(const Config& c) {
  Y root = Y::Map();
  root.Add("global", Global(c.global));
  root.Add("alerting", Alerting(c.alerting));
  root.Add("rule_files", StrSeq(c.rule_files));
  root.Add("scrape_config_files", StrSeq(c.scrape_config_files));
  Y scrapes = Y::Seq();
  for (const ScrapeConfig& s : c.scrape_configs) scrapes.seq.push_back(Scrape(s));
  root.Add("scrape_configs", std::move(scrapes));
  Y storage = Y::Map();
  Y tsdb = Y::Map();
  tsdb.Dur("out_of_order_time_window", c.storage.out_of_order_time_window_ms);
  if (c.storage.retention_time_ms != 0 || c.storage.retention_size_bytes != 0) {
    Y ret = Y::Map();
    ret.Dur("time", c.storage.retention_time_ms);
    if (c.storage.retention_size_bytes != 0) {
      ret.Str("size", FormatBase2Bytes(c.storage.retention_size_bytes));
    }
    tsdb.Add("retention", std::move(ret));
  }
  storage.Add("tsdb", std::move(tsdb));
  Y ex = Y::Map();
  ex.Num("max_exemplars", static_cast<uint64_t>(c.storage.max_exemplars));
  storage.Add("exemplars", std::move(ex));
  root.Add("storage", std::move(storage));
  Y rw = Y::Seq();
  for (const auto& w : c.remote_write) rw.seq.push_back(RemoteWrite(w));
  root.Add("remote_write", std::move(rw));
  Y rr = Y::Seq();
  for (const auto& r : c.remote_read) rr.seq.push_back(RemoteRead(r));
  root.Add("remote_read", std::move(rr));
  std::string out;
  Emit(root, 0, &out);
  return out;
}

}  // namespace hearth
