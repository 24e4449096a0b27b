#include "web/web.h"

#include <algorithm>
#include <optional>

#include <unistd.h>

#include "model/clock.h"
#include "model/strutil.h"
#include "web/compress.h"

namespace hearth::web {
namespace {

void Text(HttpResponse& resp, int status, std::string body) {
  resp.status = status;
  resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
  resp.body = std::move(body);
}

}  // namespace

void Router::Handle(std::string path, std::vector<std::string> methods, HttpHandler handler,
                    std::string metric_name) {
  if (metric_name.empty()) metric_name = path;
  routes_.push_back({std::move(path), false, std::move(methods), std::move(handler),
                     std::move(metric_name)});
}

void Router::HandleStreaming(std::string path, std::vector<std::string> methods,
                             HttpHandler handler, std::string metric_name) {
  if (metric_name.empty()) metric_name = path;
  routes_.push_back({std::move(path), false, std::move(methods), std::move(handler),
                     std::move(metric_name), true});
}

void Router::HandlePrefix(std::string prefix, std::vector<std::string> methods,
                          HttpHandler handler, std::string metric_name) {
  if (metric_name.empty()) metric_name = prefix;
  routes_.push_back({std::move(prefix), true, std::move(methods), std::move(handler),
                     std::move(metric_name)});
}

const Router::Route* Router::Find(std::string_view path) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (!r.prefix && r.path == path) return &r;
    if (r.prefix && path.substr(0, r.path.size()) == r.path &&
        (best == nullptr || r.path.size() > best->path.size())) {
      best = &r;
    }
  }
  return best;
}

WebServer::WebServer(WebOptions options, metrics::Registry& registry, Logger logger)
    : options_(std::move(options)),
      registry_(registry),
      logger_(std::move(logger)),
      requests_total_(registry.NewCounterFamily("prometheus_http_requests_total",
                                                "Counter of HTTP requests.",
                                                {"code", "handler"})),
      request_duration_(registry.NewHistogramFamily(
          "prometheus_http_request_duration_seconds", "Histogram of latencies for HTTP requests.",
          {"handler"}, {.1, .2, .4, 1, 3, 8, 20, 60, 120})) {
  if (options_.route_prefix.empty() || options_.route_prefix.front() != '/') {
    options_.route_prefix = "/" + options_.route_prefix;
  }
  while (options_.route_prefix.size() > 1 && options_.route_prefix.back() == '/') {
    options_.route_prefix.pop_back();
  }
  RegisterBuiltins();
}

WebServer::~WebServer() { Stop(); }

void WebServer::RegisterBuiltins() {
  router_.Handle("/-/healthy", {"GET", "HEAD"}, [](const HttpRequest&, HttpResponse& resp) {
    Text(resp, 200, "Prometheus Server is Healthy.\n");
  });
  router_.Handle("/-/ready", {"GET", "HEAD"}, [this](const HttpRequest&, HttpResponse& resp) {
    if (ready_.load()) {
      Text(resp, 200, "Prometheus Server is Ready.\n");
    } else {
      Text(resp, 503, "Service Unavailable");
    }
  });
  router_.Handle("/metrics", {"GET", "HEAD"}, [this](const HttpRequest&, HttpResponse& resp) {
    resp.status = 200;
    resp.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    resp.body = registry_.Render();
  });
  auto lifecycle = [this](const HttpRequest& req, HttpResponse& resp, bool quit) {
    if (!options_.enable_lifecycle) {
      Text(resp, 403, "Lifecycle API is not enabled.");
      return;
    }
    if (req.method != "POST" && req.method != "PUT") {
      Text(resp, 405, "Only POST or PUT requests allowed");
      return;
    }
    if (quit) {
      Text(resp, 200, "Requesting termination... Goodbye!");
      if (quit_) quit_();
      return;
    }
    Status st = reload_ ? reload_() : Status::Ok();
    if (!st.ok()) {
      Text(resp, 500, "failed to reload config: " + st.message() + "\n");
      return;
    }
    Text(resp, 200, "");
  };
  router_.Handle("/-/reload", {}, [lifecycle](const HttpRequest& q, HttpResponse& r) {
    lifecycle(q, r, false);
  });
  router_.Handle("/-/quit", {}, [lifecycle](const HttpRequest& q, HttpResponse& r) {
    lifecycle(q, r, true);
  });
}

const Router::Route* WebServer::Match(std::string_view path, std::string_view* rest) const {
  const std::string& prefix = options_.route_prefix;
  if (prefix == "/") {
    *rest = path;
    return router_.Find(path);
  }
  if (path.substr(0, prefix.size()) == prefix &&
      (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    *rest = path.substr(prefix.size());
    if (rest->empty()) *rest = "/";
    return router_.Find(*rest);
  }
  return nullptr;
}

void WebServer::Serve(const HttpRequest& original, HttpResponse& resp) {
  int64_t start = MonotonicNowNs();
  std::string_view rest;
  const Router::Route* route = Match(original.path, &rest);
  // Handlers see the path without the route prefix.
  std::optional<HttpRequest> stripped;
  if (route != nullptr && rest.size() != original.path.size()) {
    stripped = original;
    stripped->path = std::string(rest);
  }
  const HttpRequest& req = stripped ? *stripped : original;
  std::string handler_name = "other";
  if (route == nullptr) {
    Text(resp, 404, "404 page not found\n");
  } else {
    handler_name = route->metric_name;
    bool allowed = route->methods.empty() ||
                   std::find(route->methods.begin(), route->methods.end(), req.method) !=
                       route->methods.end();
    if (!allowed) {
      std::string allow;
      for (const auto& m : route->methods) allow += (allow.empty() ? "" : ", ") + m;
      resp.SetHeader("Allow", allow);
      Text(resp, 405, "Method Not Allowed\n");
    } else {
      route->handler(req, resp);
    }
  }
  if (options_.compress && !resp.body.empty() && resp.Header("Content-Encoding").empty() &&
      AcceptsGzip(req.Header("Accept-Encoding"))) {
    resp.body = GzipCompress(resp.body);
    resp.SetHeader("Content-Encoding", "gzip");
    resp.SetHeader("Vary", resp.Header("Vary").empty()
                               ? std::string("Accept-Encoding")
                               : std::string(resp.Header("Vary")) + ", Accept-Encoding");
  }
  double secs = static_cast<double>(MonotonicNowNs() - start) / 1e9;
  request_duration_.With({handler_name}).Observe(secs);
  requests_total_.With({std::to_string(resp.status), handler_name}).Inc();
}

Status WebServer::Start() {
  HttpServerOptions hs;
  hs.listen_address = options_.listen_address;
  hs.max_connections = options_.max_connections;
  hs.read_timeout_ms = options_.read_timeout_ms;
  hs.max_body_bytes = options_.max_body_bytes;
  hs.worker_threads = options_.worker_threads;
  hs.max_worker_threads = options_.max_worker_threads;
  hs.stream_body = [this](const HttpRequest& head) {
    std::string_view rest;
    const Router::Route* route = Match(head.path, &rest);
    return route != nullptr && route->stream_body;
  };
  auto server = HttpServer::Start(
      hs, [this](const HttpRequest& req, HttpResponse& resp) { Serve(req, resp); }, logger_);
  if (!server.ok()) return server.status();
  server_ = std::move(server).value();
  return Status::Ok();
}

void WebServer::Stop() {
  if (server_) server_->Stop();
}

Result<ExternalUrl> ResolveExternalUrl(std::string_view external_url,
                                       std::string_view route_prefix,
                                       std::string_view listen_address) {
  ExternalUrl out;
  std::string url(external_url);
  if (url.empty()) {
    char host[256] = {0};
    if (gethostname(host, sizeof(host) - 1) != 0) {
      return InvalidArgument("cannot determine the host name for --web.external-url");
    }
    auto hp = SplitHostPort(listen_address);
    if (!hp.ok()) return hp.status();
    url = std::string("http://") + host + ":" + std::to_string(hp->second) + "/";
  }
  std::string lower = ToLowerAscii(url);
  size_t scheme_end = lower.find("://");
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    return InvalidArgument("{}: invalid {} scheme, only 'http' and 'https' are supported",
                           QuoteGo(url), QuoteGo(scheme));
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string path = path_start == std::string::npos ? "" : url.substr(path_start);
  if (size_t q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.url = (path_start == std::string::npos ? url : url.substr(0, path_start)) + path;
  std::string prefix = route_prefix.empty() ? path : std::string(route_prefix);
  if (prefix.empty() || prefix.front() != '/') prefix = "/" + prefix;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  out.route_prefix = prefix;
  return out;
}

uint16_t WebServer::port() const { return server_ ? server_->port() : 0; }

}  // namespace hearth::web
