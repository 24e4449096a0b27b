#pragma once

// http_sd_configs: Prometheus' HTTP service discovery. The endpoint answers a JSON array of
// target groups,
//
//   [{"targets": ["10.0.0.1:9100", ...], "labels": {"env": "prod", ...}}, ...]
//
// with Content-Type application/json; every group also gets __meta_url (the SD URL). The
// manager (scraper/manager.h) polls each config every refresh_interval and keeps the last good
// answer when a refresh fails.
//
// Thread-safety: pure functions.

#include <string_view>
#include <vector>

#include "config/config.h"
#include "model/status.h"

namespace hearth::scraper {

// Parses an http_sd answer. `url` becomes __meta_url and names the groups ("<url>:<index>").
// Errors are worded as Prometheus' ("unsupported content type \"text/plain\"", ...).
Result<std::vector<TargetGroup>> ParseHttpSdResponse(std::string_view content_type,
                                                     std::string_view body, std::string_view url);

}  // namespace hearth::scraper
