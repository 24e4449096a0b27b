// The notifier's HTTP client: Beast on a private io_context per request; each step runs one
// asynchronous operation until it completes or the request's deadline passes.

#include "rules/internal/http_post.h"

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>

#include "httpc/auth.h"
#include "httpc/internal/tls.h"
#include "model/strutil.h"

namespace hearth::rules {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

using httpc::Base64;
using httpc::ErrorText;
using httpc::LowerMessage;

struct ParsedUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  std::string target;
};

Result<ParsedUrl> ParseHttpUrl(const std::string& url) {
  ParsedUrl u;
  std::string_view s = url;
  if (s.rfind("http://", 0) == 0) {
    s.remove_prefix(7);
  } else if (s.rfind("https://", 0) == 0) {
    s.remove_prefix(8);
    u.tls = true;
  } else {
    return InvalidArgument("unsupported protocol scheme in {}", QuoteGo(url));
  }
  size_t slash = s.find('/');
  std::string_view hostport = s.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(s.substr(slash));
  if (size_t at = hostport.rfind('@'); at != std::string_view::npos) hostport.remove_prefix(at + 1);
  u.host_header = std::string(hostport);
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return InvalidArgument("invalid URL {}", QuoteGo(url));
    u.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
      u.port = std::string(hostport.substr(close + 2));
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    u.port = std::string(hostport.substr(colon + 1));
  } else {
    u.host = std::string(hostport);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.host.empty()) return InvalidArgument("no host in request URL {}", QuoteGo(url));
  return u;
}

}  // namespace

struct HttpPoster::Impl {
  HttpClientConfig config;
  std::string user_agent;
  std::shared_ptr<ssl::context> tls;

  // The Authorization header, with secrets files read now.
  Result<std::string> AuthHeader() const { return httpc::AuthorizationHeader(config); }

  // Runs one asynchronous operation to completion or until `deadline`; on timeout the
  // operation is abandoned (the caller closes the socket) and beast::error::timeout returned.
  template <typename Start>
  static error_code RunOne(net::io_context& ioc, std::chrono::steady_clock::time_point deadline,
                           Start&& start) {
    bool done = false;
    error_code result;
    start([&](error_code ec) {
      done = true;
      result = ec;
    });
    ioc.restart();
    while (!done) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      ioc.run_one_for(deadline - now);
    }
    if (!done) return beast::error::timeout;
    return result;
  }

  Result<HttpPostResult> Post(const std::string& url, std::string body,
                              const std::string& content_type, int64_t timeout_ms) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    const std::string what = fmt::format("Post {}", QuoteGo(url));
    auto timeout_error = [&] {
      return Status(StatusCode::kDeadlineExceeded, what + ": context deadline exceeded");
    };
    auto parsed = ParseHttpUrl(url);
    if (!parsed.ok()) {
      return Status(StatusCode::kInvalidArgument, what + ": " + parsed.status().message());
    }
    const ParsedUrl& u = *parsed;
    auto auth = AuthHeader();
    if (!auth.ok()) return Status(auth.status().code(), what + ": " + auth.status().message());

    net::io_context ioc;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type results;
    error_code ec = RunOne(ioc, deadline, [&](auto done) {
      resolver.async_resolve(u.host, u.port,
                             [&results, done](error_code e, tcp::resolver::results_type r) {
                               results = std::move(r);
                               done(e);
                             });
    });
    if (ec == beast::error::timeout) {
      resolver.cancel();
      return timeout_error();
    }
    if (ec) {
      return Status(StatusCode::kUnavailable,
                    fmt::format("{}: dial tcp: lookup {}: {}", what, u.host, LowerMessage(ec)));
    }
    beast::tcp_stream stream(ioc);
    ec = RunOne(ioc, deadline, [&](auto done) {
      stream.async_connect(results, [done](error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) {
      error_code ignored;
      stream.socket().close(ignored);
      if (ec == beast::error::timeout) return timeout_error();
      const auto ep = results.begin()->endpoint();
      std::string addr = ep.address().is_v6()
                             ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                             : fmt::format("{}:{}", ep.address().to_string(), ep.port());
      return Status(StatusCode::kUnavailable,
                    fmt::format("{}: dial tcp {}: connect: {}", what, addr, LowerMessage(ec)));
    }
    http::request<http::string_body> req{http::verb::post, u.target, 11};
    req.set(http::field::host, u.host_header);
    req.set(http::field::user_agent, user_agent);
    req.set(http::field::content_type, content_type);
    req.set(http::field::connection, "close");
    if (!auth->empty()) req.set(http::field::authorization, *auth);
    req.body() = std::move(body);
    req.prepare_payload();
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    auto exchange = [&](auto& s) -> error_code {
      error_code e = RunOne(ioc, deadline, [&](auto done) {
        http::async_write(s, req, [done](error_code x, size_t) { done(x); });
      });
      if (e) return e;
      e = RunOne(ioc, deadline, [&](auto done) {
        http::async_read(s, buffer, parser, [done](error_code x, size_t) { done(x); });
      });
      if (!e) res = parser.release();
      return e;
    };
    if (u.tls) {
      beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls);
      const TlsConfig& t = config.tls_config;
      std::string sni = t.server_name.empty() ? u.host : t.server_name;
      if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), sni.c_str())) ERR_clear_error();
      if (!t.insecure_skip_verify) tls_stream.set_verify_callback(ssl::host_name_verification(sni));
      ec = RunOne(ioc, deadline, [&](auto done) {
        tls_stream.async_handshake(ssl::stream_base::client, [done](error_code e) { done(e); });
      });
      if (ec) {
        error_code ignored;
        beast::get_lowest_layer(tls_stream).socket().close(ignored);
        if (ec == beast::error::timeout) return timeout_error();
        return Status(StatusCode::kUnavailable, fmt::format("{}: tls: {}", what, ErrorText(ec)));
      }
      ec = exchange(tls_stream);
      error_code ignored;
      beast::get_lowest_layer(tls_stream).socket().close(ignored);
    } else {
      ec = exchange(stream);
      error_code ignored;
      stream.socket().close(ignored);
    }
    if (ec) {
      if (ec == beast::error::timeout) return timeout_error();
      return Status(StatusCode::kUnavailable, fmt::format("{}: {}", what, ErrorText(ec)));
    }
    HttpPostResult out;
    out.status = static_cast<int>(res.result_int());
    out.status_text = fmt::format("{} {}", out.status, std::string(res.reason()));
    out.body = std::move(res.body());
    return out;
  }
};

HttpPoster::HttpPoster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpPoster::~HttpPoster() = default;

Result<std::shared_ptr<const HttpPoster>> HttpPoster::Make(const HttpClientConfig& config,
                                                           std::string user_agent) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->user_agent = std::move(user_agent);
  HEARTH_ASSIGN_OR_RETURN(impl->tls, httpc::MakeClientTlsContext(config.tls_config));
  return std::shared_ptr<const HttpPoster>(new HttpPoster(std::move(impl)));
}

Result<HttpPostResult> HttpPoster::Post(const std::string& url, const std::string& body,
                                        const std::string& content_type,
                                        int64_t timeout_ms) const {
  return impl_->Post(url, body, content_type, timeout_ms);
}

}  // namespace hearth::rules
