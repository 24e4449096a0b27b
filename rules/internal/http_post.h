#pragma once

// A small blocking HTTP(S) POST client for the notifier: one request per connection, an overall
// timeout, basic/authorization credentials (re-read from files on every request, as Prometheus
// does) and TLS settings from an HttpClientConfig. Beast stays in http_post.cpp.
//
// Errors read like Go's net/http errors, which Prometheus logs:
//   Post "http://127.0.0.1:1/api/v2/alerts": dial tcp 127.0.0.1:1: connect: connection refused
//   Post "http://127.0.0.1:9093/api/v2/alerts": context deadline exceeded
//
// Thread-safety: an HttpPoster may be used from several threads at once.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "model/status.h"

namespace hearth::rules {

struct HttpPostResult {
  int status = 0;
  std::string status_text;  // Go's resp.Status: "200 OK"
  std::string body;
};

class HttpPoster {
 public:
  // Loads the TLS material of `config` (errors name the file).
  static Result<std::shared_ptr<const HttpPoster>> Make(const HttpClientConfig& config,
                                                        std::string user_agent);
  ~HttpPoster();

  // POSTs `body` to `url` ("http://host:port/path" or https). Any HTTP status is a result;
  // transport failures and timeouts are errors.
  Result<HttpPostResult> Post(const std::string& url, const std::string& body,
                              const std::string& content_type, int64_t timeout_ms) const;

  struct Impl;

 private:
  explicit HttpPoster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::rules
