#pragma once

// The HTTP client of the scrape loops and http_sd: GET with keep-alive, gzip, timeouts, TLS
// (OpenSSL), basic/bearer auth, an HTTP proxy and redirects, on Boost.Asio coroutines.
// Internal to scraper/: Boost stays out of the public headers.
//
// Host names are resolved whenever a new connection is made (never cached across
// connections), so a target whose name starts resolving later, or moves, is found.
//
// Errors read like Go's net/http errors, which Prometheus shows as lastError:
//   Get "http://127.0.0.1:1/metrics": dial tcp 127.0.0.1:1: connect: connection refused
//   Get "http://127.0.0.1:8080/metrics": context deadline exceeded
//
// Thread-safety: an HttpClient is used by one coroutine at a time (one per scrape loop), on
// the loop's strand. ClientSettings is immutable and shared.

#include <utility>  // before Boost.Asio's awaitable.hpp, which uses std::exchange

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "config/config.h"
#include "model/status.h"

namespace boost::asio::ssl {
class context;
}

namespace hearth::scraper {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // explicit or the scheme's default
  bool explicit_port = false;
  std::string target;  // path and query: "/metrics?x=1"
  std::string userinfo;

  // "scheme://host[:port]/path?query" (without userinfo, as Go prints request URLs).
  std::string ToString() const;
  // Host header value: host[:port] as written.
  std::string HostHeader() const;
};
Result<Url> ParseUrl(std::string_view s);
// Resolves a Location header against `base`.
Result<Url> ResolveReference(const Url& base, std::string_view location);

// Settings shared by every client of one scrape config (or http_sd config): the TLS context,
// auth, proxy, redirects and the User-Agent.
struct ClientSettings {
  HttpClientConfig config;
  std::string user_agent;
  std::shared_ptr<boost::asio::ssl::context> tls;  // always set
  std::optional<Url> proxy;

  // Loads CA, certificate and key (files or inline PEM). Errors name the file.
  static Result<std::shared_ptr<const ClientSettings>> Make(const HttpClientConfig& config,
                                                            std::string user_agent);
};

struct FetchOptions {
  std::string accept;                      // the Accept header ("" for none)
  bool compression = true;                 // Accept-Encoding: gzip (else identity)
  int64_t timeout_ms = 10'000;             // the whole exchange, redirects included
  uint64_t body_size_limit = 0;            // decoded bytes; 0 = none
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
};

struct FetchResult {
  int status = 0;
  std::string status_text;   // Go's resp.Status: "500 Internal Server Error"
  std::string content_type;
  std::string body;          // decoded (gunzipped)
  uint64_t wire_bytes = 0;   // body bytes as received
};

// The error for a decoded body of at least the limit (Prometheus' errBodySizeLimit).
inline constexpr std::string_view kBodySizeLimitError = "body size limit exceeded";

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, std::shared_ptr<const ClientSettings> settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GETs `url`. Any HTTP status is a successful result; transport failures, timeouts and a
  // body over the limit are errors (kDeadlineExceeded, kResourceExhausted, kUnavailable).
  boost::asio::awaitable<Result<FetchResult>> Get(const Url& url, const FetchOptions& options);

  // Closes the keep-alive connection (if any). Call on the client's strand, never while a
  // Get is in progress.
  void Close();
  // Aborts a Get in progress (it then fails soon with an error). Call on the client's strand.
  void Cancel();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::scraper
