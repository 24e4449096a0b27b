#pragma once

// HTTP types and the server, with no Boost in sight: Beast lives in http_server.cpp only.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/log.h"
#include "model/status.h"

namespace hearth::web {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: "/api/v1/query?query=up"
  std::string path;    // target up to '?', percent-decoded
  std::string query;   // raw query string after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // "ip:port"
  // Only for requests the server streams (HttpServerOptions::stream_body): `body` is empty and
  // this reads the next bytes of the body into `buf` (at most `n`), blocking; 0 means the body
  // is complete. Errors on a broken or stalled connection (read timeout). Call it only from the
  // handler, on the handler's thread.
  std::function<Result<size_t>(char* buf, size_t n)> read_body;
  // Becomes true when the client closes its connection before the answer is written (it gave
  // up waiting): long handlers pass it to the query engine as a cancellation flag, as Go's
  // request context does. Null for streamed requests. Valid during the handler call.
  const std::atomic<bool>* client_gone = nullptr;

  // First value of header `name` (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Replaces any header of that name.
  void SetHeader(std::string_view name, std::string_view value);
  std::string_view Header(std::string_view name) const;
};

// Called on a worker thread, never on an I/O thread, so a slow handler (a long query) does not
// stall other connections; when every worker is busy another one is started (up to
// HttpServerOptions::max_worker_threads), so a few long handlers do not delay short ones.
// Must be safe to call concurrently.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

struct HttpServerOptions {
  std::string listen_address = "0.0.0.0:9090";  // "host:port"; port 0 picks a free port
  int io_threads = 1;
  int worker_threads = 4;      // handler threads started up front
  int max_worker_threads = 64;  // more are started while all are busy, up to this many
  size_t max_header_bytes = 1 << 20;  // Go's http.DefaultMaxHeaderBytes
  size_t max_body_bytes = 64 << 20;
  int64_t read_timeout_ms = 5 * 60 * 1000;  // whole request, from its first byte
  int64_t idle_timeout_ms = 5 * 60 * 1000;  // keep-alive connection with no request
  size_t max_connections = 512;             // Prometheus' --web.max-connections
  // Decides from the request head (method, target, path, query, headers; no body) whether the
  // handler reads the body itself through HttpRequest::read_body instead of receiving it
  // whole: for large uploads that must not be held in memory. Such bodies have no size limit.
  // Called on an I/O thread; must be cheap and thread-safe. Unset: no streaming.
  std::function<bool(const HttpRequest& head)> stream_body;
};

class HttpServer {
 public:
  // Binds and starts serving. Fails with a message naming the address when it cannot bind.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler,
                                                   Logger logger);
  virtual ~HttpServer() = default;
  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, closes connections and joins all threads. Idempotent.
  virtual void Stop() = 0;
};

// Splits "host:port" ("[::1]:9090", ":9090" for all interfaces).
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view address);

// Percent-decoding; '+' becomes ' ' when `plus_is_space` (forms and query strings).
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);
// Parses "a=1&b=2&a=3" (query strings and x-www-form-urlencoded bodies) in order.
Result<std::vector<std::pair<std::string, std::string>>> ParseUrlEncoded(std::string_view s);

}  // namespace hearth::web
