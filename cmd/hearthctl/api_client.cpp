#include "cmd/hearthctl/api_client.h"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "model/strutil.h"
#include "web/compress.h"

namespace hearth::ctl {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void AppendEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

std::string EncodeForm(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    AppendEscaped(&out, k);
    out.push_back('=');
    AppendEscaped(&out, v);
  }
  return out;
}

Result<ApiClient> ApiClient::Make(std::string_view server, Params headers, int64_t timeout_ms) {
  std::string_view s = server;
  if (s.substr(0, 7) == "http://") {
    s.remove_prefix(7);
  } else if (s.substr(0, 8) == "https://") {
    return InvalidArgument("{}: https is not supported by hearthctl yet; use http://", server);
  } else if (s.find("://") != std::string_view::npos) {
    return InvalidArgument("{}: unsupported URL scheme", server);
  }
  size_t slash = s.find('/');
  std::string_view hostport = s.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "" : std::string(s.substr(slash));
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (hostport.empty()) return InvalidArgument("{}: missing host", server);
  ApiClient c;
  size_t colon = hostport.rfind(':');
  bool bracketed = !hostport.empty() && hostport.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || hostport[colon - 1] == ']')) {
    c.host_ = std::string(hostport.substr(0, colon));
    c.port_ = std::string(hostport.substr(colon + 1));
  } else {
    c.host_ = std::string(hostport);
    c.port_ = "80";
  }
  if (c.host_.size() >= 2 && c.host_.front() == '[') c.host_ = c.host_.substr(1, c.host_.size() - 2);
  c.base_path_ = path;
  c.headers_ = std::move(headers);
  c.timeout_ms_ = timeout_ms;
  return c;
}

Result<ApiClient::Raw> ApiClient::Do(std::string_view method, const std::string& target,
                                     const std::string& body, std::string_view content_type,
                                     const ReadFunc* stream_body, uint64_t stream_length,
                                     const std::function<void(uint64_t)>* sent) {
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::milliseconds(timeout_ms_));
    beast::error_code ec;
    auto results = resolver.resolve(host_, port_, ec);
    if (ec) return Errorf(StatusCode::kUnavailable, "dial tcp: lookup {}: {}", host_, ec.message());
    stream.connect(results, ec);
    if (ec) {
      return Errorf(StatusCode::kUnavailable, "dial tcp {}:{}: {}", host_, port_, ec.message());
    }
    http::request<http::string_body> req;
    req.method_string(std::string(method));
    req.target(target);
    req.version(11);
    req.set(http::field::host, host_ + ":" + port_);
    req.set(http::field::user_agent, "hearthctl");
    req.set(http::field::accept_encoding, "gzip");
    for (const auto& [k, v] : headers_) req.set(k, v);
    if (method == "POST") req.set(http::field::content_type, std::string(content_type));
    auto write_failed = [&] {
      return Errorf(StatusCode::kUnavailable, "write to {}:{}: {}", host_, port_, ec.message());
    };
    if (stream_body != nullptr) {
      req.content_length(stream_length);
      http::request<http::empty_body> head(std::move(req.base()));
      http::request_serializer<http::empty_body> sr(head);
      http::write_header(stream, sr, ec);
      if (ec) return write_failed();
      std::string piece(256 << 10, '\0');
      uint64_t done = 0;
      while (done < stream_length) {
        HEARTH_ASSIGN_OR_RETURN(size_t n, (*stream_body)(piece.data(), piece.size()));
        if (n == 0) {
          return Errorf(StatusCode::kIOError, "body ended after {} of {} bytes", done,
                        stream_length);
        }
        n = static_cast<size_t>(std::min<uint64_t>(n, stream_length - done));
        stream.expires_after(std::chrono::milliseconds(timeout_ms_));
        net::write(stream, net::buffer(piece.data(), n), ec);
        if (ec) return write_failed();
        done += n;
        if (sent != nullptr && *sent) (*sent)(done);
      }
      stream.expires_after(std::chrono::milliseconds(timeout_ms_));
    } else {
      if (method == "POST") req.body() = body;
      req.prepare_payload();
      http::write(stream, req, ec);
      if (ec) return write_failed();
    }
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ULL << 32);
    http::read(stream, buf, parser, ec);
    if (ec == beast::error::timeout) {
      return Errorf(StatusCode::kDeadlineExceeded, "request to {}:{} timed out", host_, port_);
    }
    if (ec) return Errorf(StatusCode::kUnavailable, "read from {}:{}: {}", host_, port_, ec.message());
    auto res = parser.release();
    Raw raw;
    raw.status = static_cast<int>(res.result_int());
    raw.body = std::move(res.body());
    if (ToLowerAscii(std::string(res[http::field::content_encoding])) == "gzip") {
      HEARTH_ASSIGN_OR_RETURN(raw.body, web::GzipDecompress(raw.body));
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return raw;
  } catch (const std::exception& e) {
    return Errorf(StatusCode::kUnavailable, "request to {}:{}: {}", host_, port_, e.what());
  }
}

Result<ApiReply> ApiClient::PostStream(std::string_view endpoint, std::string_view content_type,
                                       uint64_t length, const ReadFunc& read,
                                       const std::function<void(uint64_t sent)>& sent) {
  std::string target = fmt::format("{}/api/v1/{}", base_path_, endpoint);
  HEARTH_ASSIGN_OR_RETURN(Raw raw, Do("POST", target, "", content_type, &read, length, &sent));
  return Decode(raw);
}

Result<ApiReply> ApiClient::Decode(const Raw& raw) {
  if (raw.status == 204) return ApiReply{};
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(raw.body, nullptr, /*allow_exceptions=*/false);
  bool json_ok = !j.is_discarded() && j.is_object();
  if (!json_ok) {
    std::string detail(TrimSpace(raw.body.substr(0, 200)));
    return Errorf(StatusCode::kUnavailable, "server error: {}{}{}", raw.status,
                  detail.empty() ? "" : ": ", detail);
  }
  if (j.value("status", "") == "error") {
    return Errorf(raw.status == 400 ? StatusCode::kInvalidArgument : StatusCode::kExecution,
                  "{}: {}", j.value("errorType", ""), j.value("error", ""));
  }
  if (raw.status / 100 != 2) return Errorf(StatusCode::kUnavailable, "server error: {}", raw.status);
  ApiReply r;
  r.data = j.contains("data") ? j["data"] : nlohmann::ordered_json();
  r.data_text = r.data.dump();
  for (const char* key : {"warnings", "infos"}) {
    if (!j.contains(key) || !j[key].is_array()) continue;
    for (const auto& w : j[key]) {
      if (!w.is_string()) continue;
      (std::string_view(key) == "warnings" ? r.warnings : r.infos).push_back(w.get<std::string>());
    }
  }
  return r;
}

Result<ApiReply> ApiClient::PostWithGetFallback(std::string_view endpoint, const Params& params) {
  std::string path = base_path_ + "/api/v1/" + std::string(endpoint);
  std::string form = EncodeForm(params);
  HEARTH_ASSIGN_OR_RETURN(Raw raw, Do("POST", path, form));
  if (raw.status == 403 || raw.status == 405 || raw.status == 501) {
    HEARTH_ASSIGN_OR_RETURN(raw, Do("GET", path + (form.empty() ? "" : "?" + form), ""));
  }
  return Decode(raw);
}

Result<ApiReply> ApiClient::Get(std::string_view endpoint, const Params& params) {
  std::string path = base_path_ + "/api/v1/" + std::string(endpoint);
  std::string form = EncodeForm(params);
  HEARTH_ASSIGN_OR_RETURN(Raw raw, Do("GET", path + (form.empty() ? "" : "?" + form), ""));
  return Decode(raw);
}

}  // namespace hearth::ctl
