#pragma once

// A small blocking client of the Prometheus HTTP API for hearthctl: plain HTTP/1.1 (Beast),
// form POST with the GET fallback of client_golang (on 403, 405, 501), gzip, and the API
// envelope decoded. Works against Hearth and Prometheus alike.
//
// Thread-safety: none; one client per command.

#include <cstdint>
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

 private:
  struct Raw {
    int status = 0;
    std::string body;
  };
  Result<Raw> Do(std::string_view method, const std::string& target, const std::string& body);
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
