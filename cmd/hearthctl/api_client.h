#pragma once

// A small blocking client of the Prometheus HTTP API for hearthctl: plain HTTP/1.1 (Beast),
// form POST with the GET fallback of client_golang (on 403, 405, 501), gzip, and the API
// envelope decoded. Works against Hearth and Prometheus alike.
//
// Thread-safety: none; one client per command.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/status.h"

namespace hearth::ctl {

using Params = std::vector<std::pair<std::string, std::string>>;

struct ApiReply {
  nlohmann::ordered_json data;  // the envelope's `data`
  std::string data_text;  // the same, as the server wrote it
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
};

class ApiClient {
 public:
  // `server` is a base URL: "http://localhost:9090" or "http://proxy/prometheus/".
  // `headers` are sent with every request ("--header name=value").
  static Result<ApiClient> Make(std::string_view server, Params headers, int64_t timeout_ms);

  // POSTs a form to <base>/api/v1/<endpoint>; on 403, 405 or 501 retries as GET.
  Result<ApiReply> PostWithGetFallback(std::string_view endpoint, const Params& params);
  // GETs <base>/api/v1/<endpoint>?params.
  Result<ApiReply> Get(std::string_view endpoint, const Params& params);

  // Reads up to `size` bytes into `buf`; 0 at the end.
  using ReadFunc = std::function<Result<size_t>(char* buf, size_t size)>;
  // POSTs a body of `length` bytes, sent piece by piece as `read` yields it (never held whole),
  // to <base>/api/v1/<endpoint>. `sent(bytes)` is called after each piece. The timeout applies
  // to each piece and to the answer, not to the whole upload.
  Result<ApiReply> PostStream(std::string_view endpoint, std::string_view content_type,
                              uint64_t length, const ReadFunc& read,
                              const std::function<void(uint64_t sent)>& sent = {});

 private:
  struct Raw {
    int status = 0;
    std::string body;
  };
  // The body is `body`, or when `stream` is set, `stream_length` bytes read from it.
  Result<Raw> Do(std::string_view method, const std::string& target, const std::string& body,
                 std::string_view content_type = "application/x-www-form-urlencoded",
                 const ReadFunc* stream = nullptr, uint64_t stream_length = 0,
                 const std::function<void(uint64_t)>* sent = nullptr);
  Result<ApiReply> Decode(const Raw& raw);

  std::string host_;
  std::string port_;
  std::string base_path_;  // "" or "/prometheus"
  Params headers_;
  int64_t timeout_ms_ = 0;
};

// application/x-www-form-urlencoded encoding of `params` (Go's url.Values.Encode order kept).
std::string EncodeForm(const Params& params);

}  // namespace hearth::ctl
