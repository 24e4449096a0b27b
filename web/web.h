#pragma once

// The web front of `hearth`: routes, lifecycle endpoints and /metrics on top of HttpServer.
// The API v1 handlers register themselves on the router (later issues).
//
// Thread-safety: routes are registered before Start(); afterwards the router is read-only and
// handlers run concurrently on the server's worker threads. SetReady and the callbacks may be
// used from any thread.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/log.h"
#include "model/metrics.h"
#include "web/http.h"

namespace hearth::web {

struct WebOptions {
  std::string listen_address = "0.0.0.0:9090";
  bool enable_lifecycle = false;
  bool enable_admin_api = false;
  std::string route_prefix = "/";  // from --web.route-prefix or the external URL's path
  size_t max_connections = 512;
  int64_t read_timeout_ms = 5 * 60 * 1000;
  size_t max_body_bytes = 64 << 20;  // whole (not streamed) request bodies
  // Handler threads: `worker_threads` are started up front; more are added while all are busy
  // (a long query never delays other requests), up to `max_worker_threads`.
  int worker_threads = 4;
  int max_worker_threads = 64;
  // gzip responses when the client accepts it (Prometheus compresses API answers).
  bool compress = true;
};

// --web.external-url and --web.route-prefix as Prometheus resolves them: an empty external URL
// becomes http://<hostname>:<port of listen_address>/; the route prefix defaults to the external
// URL's path, always starts with "/" and has no trailing "/" (except "/" itself).
// Fails with Prometheus' message for an external URL that is not absolute http(s).
struct ExternalUrl {
  std::string url;           // without trailing "/"
  std::string route_prefix;  // "/" or "/prometheus"
};
Result<ExternalUrl> ResolveExternalUrl(std::string_view external_url,
                                       std::string_view route_prefix,
                                       std::string_view listen_address);

class Router {
 public:
  // Exact path (after the route prefix is stripped). `methods` such as {"GET", "POST"}; an
  // empty list accepts any method.
  void Handle(std::string path, std::vector<std::string> methods, HttpHandler handler,
              std::string metric_handler_name = "");
  // Like Handle, but the handler reads the request body itself through
  // HttpRequest::read_body (no size limit, never held in memory whole).
  void HandleStreaming(std::string path, std::vector<std::string> methods, HttpHandler handler,
                       std::string metric_handler_name = "");
  // Any path starting with `prefix`.
  void HandlePrefix(std::string prefix, std::vector<std::string> methods, HttpHandler handler,
                    std::string metric_handler_name = "");

  struct Route {
    std::string path;
    bool prefix = false;
    std::vector<std::string> methods;
    HttpHandler handler;
    std::string metric_name;
    bool stream_body = false;
  };
  // The route for `path`, or nullptr.
  const Route* Find(std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

class WebServer {
 public:
  WebServer(WebOptions options, metrics::Registry& registry, Logger logger);
  ~WebServer();

  Router& router() { return router_; }
  // Called by POST /-/reload; returns the reload error, if any.
  void SetReloadHandler(std::function<Status()> f) { reload_ = std::move(f); }
  // Called by POST /-/quit (after the answer is on its way).
  void SetQuitHandler(std::function<void()> f) { quit_ = std::move(f); }
  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

  Status Start();
  void Stop();
  uint16_t port() const;

 private:
  // Handlers see req.path without the route prefix.
  void Serve(const HttpRequest& req, HttpResponse& resp);
  // The route for a request path (with the route prefix); *rest is the path without it.
  const Router::Route* Match(std::string_view path, std::string_view* rest) const;
  void RegisterBuiltins();

  WebOptions options_;
  metrics::Registry& registry_;
  Logger logger_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> ready_{false};
  std::function<Status()> reload_;
  std::function<void()> quit_;
  metrics::Family<metrics::Counter>& requests_total_;
  metrics::Family<metrics::Histogram>& request_duration_;
};

}  // namespace hearth::web
