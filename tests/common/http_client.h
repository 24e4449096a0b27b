#pragma once

// A tiny blocking HTTP/1.1 client over POSIX sockets for tests (loopback only). Sends one
// request per connection with `Connection: close` and reads the whole answer.

#include <string>
#include <utility>
#include <vector>

namespace hearth::testing {

struct HttpResult {
  int status = 0;  // 0 when the connection failed
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& name) const;
};

HttpResult HttpRequestRaw(int port, const std::string& raw_request, int timeout_ms = 10000);
HttpResult HttpGet(int port, const std::string& target);
HttpResult HttpPost(int port, const std::string& target, const std::string& body,
                    const std::string& content_type = "application/x-www-form-urlencoded");

// Opens a connection to 127.0.0.1:port and returns the fd (or -1). For tests of slow clients.
int ConnectLoopback(int port);

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();

}  // namespace hearth::testing
