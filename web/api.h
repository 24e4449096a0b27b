#pragma once

// The Prometheus HTTP API v1 (/api/v1/...) and /federate, byte-compatible with Prometheus where
// clients care (reference/clients-api.md): GET and form POST with URL and body parameters
// merged, Prometheus' JSON number formats, error types and status codes, `limit` warnings,
// CORS, and 503 until the server is ready.
//
// Thread-safety: handlers run concurrently on the web server's worker threads. The storage,
// engine and sources must allow concurrent calls; the Api itself is immutable after Make.

#include <cstdint>
#include <memory>
#include <string>

#include "model/clock.h"
#include "model/log.h"
#include "model/status.h"
#include "tsdb/storage/storage.h"
#include "web/api_sources.h"
#include "web/query_engine.h"
#include "web/web.h"

namespace hearth::web {

// /api/v1/status/buildinfo. `version` is what clients see: Grafana needs a semver >= 2.24
// (pass cmd/common/build_info.h's kCompatVersion).
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;  // Prometheus reports its Go version; Hearth its compiler
};

struct ApiOptions {
  bool enable_admin_api = false;       // --web.enable-admin-api
  std::string cors_origin = ".*";      // --web.cors.origin (fully anchored regex)
  int64_t lookback_delta_ms = 5 * 60 * 1000;  // --query.lookback-delta, for /federate
  BuildInfo build_info;
  int64_t start_time_ms = 0;           // process start, for /status/runtimeinfo
};

class ApiImpl;

class Api {
 public:
  // Fails when the CORS origin is not a valid regular expression. `storage`, `engine`, the
  // sources' pointees and `clock` must outlive the Api.
  static Result<std::unique_ptr<Api>> Make(ApiOptions options, storage::Storage& storage,
                                           QueryEngine& engine, ApiSources sources,
                                           const Clock& clock, Logger logger);
  ~Api();

  // Registers /api/v1/* and /federate on the server's router. REQUIRES: before web.Start();
  // the Api must outlive the server.
  void Register(WebServer& web);

 private:
  explicit Api(std::unique_ptr<ApiImpl> impl);
  std::unique_ptr<ApiImpl> impl_;
};

}  // namespace hearth::web
