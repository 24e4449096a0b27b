#include "scraper/internal/http_client.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <zlib.h>

#include "httpc/auth.h"
#include "httpc/internal/tls.h"
#include "model/strutil.h"

namespace hearth::scraper {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

using httpc::Base64;
using httpc::ErrorText;
using httpc::LowerMessage;

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Go-style lower-case error text from an error_code ("connection refused").
// Decodes a gzip body, failing once the output reaches `limit` (0: none).
Status Gunzip(std::string_view in, uint64_t limit, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Status(StatusCode::kInternal, "gzip: cannot initialize zlib");
  }
  out->clear();
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  size_t chunk = std::max<size_t>(in.size() * 4, 64 << 10);
  while (rc != Z_STREAM_END) {
    size_t old = out->size();
    out->resize(old + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + old);
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->resize(old + chunk - zs.avail_out);
    if (limit > 0 && out->size() >= limit) {
      inflateEnd(&zs);
      return Status(StatusCode::kResourceExhausted, std::string(kBodySizeLimitError));
    }
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      inflateEnd(&zs);
      return Status(StatusCode::kInvalidArgument,
                    rc == Z_DATA_ERROR ? "gzip: invalid header" : "gzip: decompression failed");
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      return Status(StatusCode::kInvalidArgument, "unexpected EOF");
    }
    chunk = std::min<size_t>(chunk * 2, 64 << 20);
  }
  inflateEnd(&zs);
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// URLs.

std::string Url::ToString() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string out = scheme + "://" + host_part;
  if (explicit_port) out += ":" + port;
  out += target;
  return out;
}

std::string Url::HostHeader() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return explicit_port ? host_part + ":" + port : host_part;
}

Result<Url> ParseUrl(std::string_view s) {
  Url u;
  auto sep = s.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgument("parse {}: missing protocol scheme", QuoteGo(s));
  }
  u.scheme = ToLowerAscii(s.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    return InvalidArgument("unsupported protocol scheme {}", QuoteGo(u.scheme));
  }
  std::string_view rest = s.substr(sep + 3);
  size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view tail = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (auto frag = tail.find('#'); frag != std::string_view::npos) tail = tail.substr(0, frag);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("parse {}: missing ']' in host", QuoteGo(s));
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':' || !IsDigits(after.substr(1))) {
        return InvalidArgument("parse {}: invalid port {} after host", QuoteGo(s), QuoteGo(after));
      }
      u.port = std::string(after.substr(1));
      u.explicit_port = true;
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      std::string_view port = authority.substr(colon + 1);
      if (!IsDigits(port)) {
        return InvalidArgument("parse {}: invalid port {} after host", QuoteGo(s),
                               QuoteGo(authority.substr(colon)));
      }
      u.port = std::string(port);
      u.explicit_port = true;
      u.host = std::string(authority.substr(0, colon));
    } else {
      u.host = std::string(authority);
    }
  }
  if (u.host.empty()) return InvalidArgument("http: no Host in request URL");
  if (!u.explicit_port) u.port = u.scheme == "https" ? "443" : "80";
  u.target = tail.empty() ? "/" : std::string(tail);
  if (u.target[0] == '?') u.target = "/" + u.target;
  return u;
}

Result<Url> ResolveReference(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return ParseUrl(location);
  Url u = base;
  if (location.starts_with("//")) return ParseUrl(base.scheme + ":" + std::string(location));
  if (location.starts_with("/")) {
    u.target = std::string(location);
    return u;
  }
  std::string path = base.target.substr(0, base.target.find('?'));
  path = path.substr(0, path.rfind('/') + 1);
  u.target = path + std::string(location);
  return u;
}

// ---------------------------------------------------------------------------------------------
// Settings.

Result<std::shared_ptr<const ClientSettings>> ClientSettings::Make(const HttpClientConfig& config,
                                                                   std::string user_agent) {
  auto s = std::make_shared<ClientSettings>();
  s->config = config;
  s->user_agent = std::move(user_agent);
  HEARTH_ASSIGN_OR_RETURN(s->tls, httpc::MakeClientTlsContext(config.tls_config));
  if (!config.proxy_url.empty()) {
    HEARTH_ASSIGN_OR_RETURN(Url p, ParseUrl(config.proxy_url));
    s->proxy = std::move(p);
  }
  return std::shared_ptr<const ClientSettings>(std::move(s));
}

// ---------------------------------------------------------------------------------------------
// The client.

struct HttpClient::Impl {
  net::any_io_executor ex;
  std::shared_ptr<const ClientSettings> settings;
  // At most one live connection, to `conn_key` (scheme://host:port, or the proxy).
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::string conn_key;
  beast::flat_buffer buffer;
  // While connecting: what Cancel() must abort (owned by the Connect coroutine frame).
  tcp::resolver* resolving = nullptr;
  beast::tcp_stream* connecting = nullptr;
  bool cancelled = false;

  void Cancel() {
    cancelled = true;
    error_code ec;
    if (resolving) resolving->cancel();
    if (connecting) connecting->socket().close(ec);
    if (tls) beast::get_lowest_layer(*tls).socket().close(ec);
    if (tcp) tcp->socket().close(ec);
  }

  void Close() {
    error_code ec;
    if (tls) {
      beast::get_lowest_layer(*tls).socket().close(ec);
      tls.reset();
    }
    if (tcp) {
      tcp->socket().close(ec);
      tcp.reset();
    }
    conn_key.clear();
    buffer.clear();
  }

  Result<std::string> AuthHeader() const {
    return httpc::AuthorizationHeader(settings->config);
  }


  net::awaitable<Status> Connect(const Url& url, std::chrono::steady_clock::time_point deadline,
                                 const std::string& url_text) {
    const Url& dial = settings->proxy ? *settings->proxy : url;
    bool use_tls = url.scheme == "https";
    std::string key = url.scheme + "://" + dial.host + ":" + dial.port + "/" + url.host + ":" +
                      url.port;
    if (key == conn_key && (tcp || tls)) co_return Status::Ok();
    Close();
    tcp::resolver resolver(ex);
    net::steady_timer timer(ex);
    timer.expires_at(deadline);
    bool timed_out = false;
    timer.async_wait([&resolver, &timed_out](error_code ec) {
      if (!ec) {
        timed_out = true;
        resolver.cancel();
      }
    });
    error_code ec;
    resolving = &resolver;
    auto results = co_await resolver.async_resolve(dial.host, dial.port,
                                                   net::redirect_error(net::use_awaitable, ec));
    resolving = nullptr;
    timer.cancel();
    if (cancelled) co_return Status(StatusCode::kCancelled, "context canceled");
    if (timed_out) {
      co_return Status(StatusCode::kDeadlineExceeded,
                       fmt::format("Get {}: context deadline exceeded", QuoteGo(url_text)));
    }
    if (ec) {
      std::string why = ec == net::error::host_not_found || ec == net::error::host_not_found_try_again
                            ? "no such host"
                            : LowerMessage(ec);
      co_return Status(StatusCode::kUnavailable,
                       fmt::format("Get {}: dial tcp: lookup {}: {}", QuoteGo(url_text), dial.host,
                                   why));
    }
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    tcp::endpoint ep;
    connecting = &stream;
    ep = co_await stream.async_connect(results, net::redirect_error(net::use_awaitable, ec));
    connecting = nullptr;
    if (cancelled) co_return Status(StatusCode::kCancelled, "context canceled");
    if (ec) {
      if (ec == beast::error::timeout) {
        co_return Status(StatusCode::kDeadlineExceeded,
                         fmt::format("Get {}: context deadline exceeded", QuoteGo(url_text)));
      }
      tcp::endpoint first = results.begin()->endpoint();
      std::string addr = first.address().is_v6()
                             ? fmt::format("[{}]:{}", first.address().to_string(), first.port())
                             : fmt::format("{}:{}", first.address().to_string(), first.port());
      co_return Status(StatusCode::kUnavailable,
                       fmt::format("Get {}: dial tcp {}: connect: {}", QuoteGo(url_text), addr,
                                   LowerMessage(ec)));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (settings->proxy && use_tls) {
      // Tunnel through the proxy with CONNECT.
      http::request<http::empty_body> req{http::verb::connect, url.host + ":" + url.port, 11};
      req.set(http::field::host, url.host + ":" + url.port);
      if (!settings->proxy->userinfo.empty()) {
        req.set(http::field::proxy_authorization, "Basic " + Base64(settings->proxy->userinfo));
      }
      co_await http::async_write(stream, req, net::redirect_error(net::use_awaitable, ec));
      http::response_parser<http::empty_body> p;
      p.skip(true);
      if (!ec) co_await http::async_read_header(stream, buffer, p, net::redirect_error(net::use_awaitable, ec));
      if (ec || p.get().result_int() != 200) {
        co_return Status(StatusCode::kUnavailable,
                         fmt::format("Get {}: proxyconnect tcp: {}", QuoteGo(url_text),
                                     ec ? LowerMessage(ec) : std::string(p.get().reason())));
      }
    }
    if (use_tls) {
      tls.emplace(std::move(stream), *settings->tls);
      const TlsConfig& t = settings->config.tls_config;
      std::string sni = t.server_name.empty() ? url.host : t.server_name;
      if (!SSL_set_tlsext_host_name(tls->native_handle(), sni.c_str())) {
        // An IP address as SNI is refused by OpenSSL; that is fine.
        ERR_clear_error();
      }
      if (!t.insecure_skip_verify) tls->set_verify_callback(ssl::host_name_verification(sni));
      beast::get_lowest_layer(*tls).expires_at(deadline);
      co_await tls->async_handshake(ssl::stream_base::client,
                                    net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        Close();
        if (cancelled) co_return Status(StatusCode::kCancelled, "context canceled");
        if (ec == beast::error::timeout) {
          co_return Status(StatusCode::kDeadlineExceeded,
                           fmt::format("Get {}: context deadline exceeded", QuoteGo(url_text)));
        }
        co_return Status(StatusCode::kUnavailable,
                         fmt::format("Get {}: tls: failed to verify certificate or handshake: {}",
                                     QuoteGo(url_text), ErrorText(ec)));
      }
    } else {
      tcp.emplace(std::move(stream));
    }
    conn_key = key;
    co_return Status::Ok();
  }

  template <typename Stream>
  net::awaitable<error_code> Exchange(Stream& stream, http::request<http::empty_body>& req,
                                      http::response_parser<http::string_body>& parser,
                                      std::chrono::steady_clock::time_point deadline,
                                      uint64_t raw_limit, bool* got_bytes) {
    error_code ec;
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await http::async_write(stream, req, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return ec;
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return ec;
    *got_bytes = true;
    bool gzip = beast::iequals(parser.get()[http::field::content_encoding], "gzip");
    if (!gzip && raw_limit > 0) {
      // Beast checks Content-Length against the limit while parsing the header, which is
      // done; check it here, and let the limit stop chunked bodies.
      if (auto len = parser.content_length(); len && *len >= raw_limit) {
        co_return make_error_code(http::error::body_limit);
      }
      parser.body_limit(raw_limit - 1);
    } else {
      parser.body_limit(boost::none);
    }
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    co_return ec;
  }

  net::awaitable<Result<FetchResult>> Get(Url url, const FetchOptions& opts) {
    cancelled = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.timeout_ms);
    std::string first_url = url.ToString();
    auto auth_header = AuthHeader();
    if (!auth_header.ok()) co_return auth_header.status();
    const std::string& auth = *auth_header;
    for (int redirects = 0;; ++redirects) {
      std::string url_text = url.ToString();
      http::request<http::empty_body> req;
      req.method(http::verb::get);
      req.version(11);
      bool via_proxy = settings->proxy.has_value() && url.scheme == "http";
      req.target(via_proxy ? url_text : url.target);
      req.set(http::field::host, url.HostHeader());
      if (!settings->user_agent.empty()) req.set(http::field::user_agent, settings->user_agent);
      if (!opts.accept.empty()) req.set(http::field::accept, opts.accept);
      req.set(http::field::accept_encoding, opts.compression ? "gzip" : "identity");
      for (const auto& [k, v] : opts.headers) req.set(k, v);
      if (!auth.empty()) req.set(http::field::authorization, auth);
      if (via_proxy && !settings->proxy->userinfo.empty()) {
        req.set(http::field::proxy_authorization, "Basic " + Base64(settings->proxy->userinfo));
      }
      req.keep_alive(true);

      std::optional<http::response_parser<http::string_body>> parser;
      error_code ec;
      for (int attempt = 0; attempt < 2; ++attempt) {
        bool reused = !conn_key.empty();
        Status st = co_await Connect(url, deadline, url_text);
        if (!st.ok()) co_return st;
        parser.emplace();
        bool got_bytes = false;
        if (tls) {
          ec = co_await Exchange(*tls, req, *parser, deadline, opts.body_size_limit, &got_bytes);
        } else {
          ec = co_await Exchange(*tcp, req, *parser, deadline, opts.body_size_limit, &got_bytes);
        }
        if (ec && reused && !got_bytes && ec != beast::error::timeout) {
          // The server closed an idle keep-alive connection: retry once on a fresh one.
          Close();
          continue;
        }
        break;
      }
      if (ec) {
        Close();
        if (cancelled) co_return Status(StatusCode::kCancelled, "context canceled");
        if (ec == beast::error::timeout) {
          co_return Status(StatusCode::kDeadlineExceeded,
                           fmt::format("Get {}: context deadline exceeded", QuoteGo(url_text)));
        }
        if (ec == http::error::body_limit) {
          co_return Status(StatusCode::kResourceExhausted, std::string(kBodySizeLimitError));
        }
        co_return Status(StatusCode::kUnavailable,
                         fmt::format("Get {}: {}", QuoteGo(url_text), LowerMessage(ec)));
      }
      auto& res = parser->get();
      if (!res.keep_alive()) Close();
      int code = res.result_int();
      if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308) &&
          settings->config.follow_redirects) {
        auto loc = res[http::field::location];
        if (!loc.empty()) {
          if (redirects >= 9) {
            co_return Status(StatusCode::kUnavailable,
                             fmt::format("Get {}: stopped after 10 redirects", QuoteGo(url_text)));
          }
          auto next = ResolveReference(url, loc);
          if (!next.ok()) {
            co_return Status(StatusCode::kUnavailable,
                             fmt::format("Get {}: {}", QuoteGo(url_text), next.status().message()));
          }
          url = std::move(*next);
          continue;
        }
      }
      FetchResult out;
      out.status = code;
      std::string_view reason = res.reason();
      if (reason.empty()) reason = http::obsolete_reason(res.result());
      out.status_text = fmt::format("{} {}", code, reason);
      out.content_type = std::string(res[http::field::content_type]);
      out.wire_bytes = res.body().size();
      if (beast::iequals(res[http::field::content_encoding], "gzip")) {
        Status st = Gunzip(res.body(), opts.body_size_limit, &out.body);
        if (!st.ok()) co_return st;
      } else {
        out.body = std::move(res.body());
      }
      (void)first_url;
      co_return out;
    }
  }
};

HttpClient::HttpClient(net::any_io_executor executor, std::shared_ptr<const ClientSettings> settings)
    : impl_(std::make_unique<Impl>()) {
  impl_->ex = std::move(executor);
  impl_->settings = std::move(settings);
}

HttpClient::~HttpClient() { impl_->Close(); }

void HttpClient::Close() { impl_->Close(); }

void HttpClient::Cancel() { impl_->Cancel(); }

net::awaitable<Result<FetchResult>> HttpClient::Get(const Url& url, const FetchOptions& options) {
  return impl_->Get(url, options);
}

}  // namespace hearth::scraper
