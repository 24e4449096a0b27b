#pragma once

// http_sd_configs: Prometheus' HTTP service discovery. The endpoint answers a JSON array of
// target groups,
//
//   [{"targets": ["10.0.0.1:9100", ...], "labels": {"env": "prod", ...}}, ...]
//
// with Content-Type application/json; every group also gets __meta_url (the SD URL). It is a
// Discoverer for the DiscoveryManager (scraper/discovery/discovery.h), which polls it every
// refresh_interval and keeps the last good answer when a refresh fails.
//
// Thread-safety: ParseHttpSdResponse is pure; a discoverer is refreshed by one thread at a time.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "model/log.h"
#include "model/metrics.h"
#include "model/status.h"
#include "scraper/discovery/discovery.h"

namespace hearth::scraper {

// Parses an http_sd answer. `url` becomes __meta_url and names the groups ("<url>:<index>").
// Errors are worded as Prometheus' ("unsupported content type \"text/plain\"", ...).
Result<std::vector<TargetGroup>> ParseHttpSdResponse(std::string_view content_type,
                                                     std::string_view body, std::string_view url);

// The http_sd_configs provider: GETs the URL (with the config's auth, TLS and proxy settings,
// header X-Prometheus-Refresh-Interval-Seconds) on each Refresh(). `failures` (optional) counts
// failed refreshes (prometheus_sd_http_failures_total). Fails for unusable client settings.
Result<std::unique_ptr<Discoverer>> NewHttpSdDiscoverer(const HttpSdConfig& cfg,
                                                        std::string user_agent,
                                                        metrics::Counter* failures = nullptr);

}  // namespace hearth::scraper
