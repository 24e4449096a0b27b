// The scrape HTTP client over TLS: CA verification, host name checks, server_name,
// insecure_skip_verify and client certificates, against a small TLS server in the test.
#include <utility>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include "scraper/internal/http_client.h"
#include "tests/scraper/test_util.h"

namespace {

using namespace hearth;
using namespace hearth::scraper;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using hearth::scraper::testing::RunSync;

struct Certs {
  std::filesystem::path dir;
  std::string ca_cert, ca_key, server_cert, server_key, client_cert, client_key;
  bool ok = false;
  Certs() {
    dir = std::filesystem::temp_directory_path() /
          ("hearth-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    std::filesystem::create_directories(dir);
    auto p = [&](const char* n) { return (dir / n).string(); };
    ca_cert = p("ca.pem");
    ca_key = p("ca.key");
    server_cert = p("server.pem");
    server_key = p("server.key");
    client_cert = p("client.pem");
    client_key = p("client.key");
    std::string ext = p("san.ext");
    std::ofstream(ext) << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    std::string q = " >/dev/null 2>&1";
    std::string cmds =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout " + ca_key +
        " -out " + ca_cert + q + " && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " +
        server_key + " -out " + p("server.csr") + q + " && openssl x509 -req -in " + p("server.csr") +
        " -CA " + ca_cert + " -CAkey " + ca_key + " -CAcreateserial -days 1 -extfile " + ext +
        " -out " + server_cert + q +
        " && openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout " + client_key +
        " -out " + p("client.csr") + q + " && openssl x509 -req -in " + p("client.csr") + " -CA " +
        ca_cert + " -CAkey " + ca_key + " -CAcreateserial -days 1 -out " + client_cert + q;
    ok = std::system(cmds.c_str()) == 0;
  }
  ~Certs() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Serves "a 1\n" over TLS on 127.0.0.1:0; optionally requires a client certificate.
class TlsServer {
 public:
  TlsServer(const Certs& c, bool require_client_cert)
      : ctx_(ssl::context::tls_server), acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain_file(c.server_cert);
    ctx_.use_private_key_file(c.server_key, ssl::context::pem);
    if (require_client_cert) {
      ctx_.load_verify_file(c.ca_cert);
      ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    net::co_spawn(io_, Accept(), net::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsServer() {
    io_.stop();
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  net::awaitable<void> Accept() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return;
      net::co_spawn(io_, Serve(std::move(s)), net::detached);
    }
  }
  net::awaitable<void> Serve(tcp::socket s) {
    boost::system::error_code ec;
    beast::ssl_stream<beast::tcp_stream> stream(std::move(s), ctx_);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    co_await http::async_read(stream, buf, req, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = "a 1\n";
    res.prepare_payload();
    res.keep_alive(false);
    co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    co_await stream.async_shutdown(net::redirect_error(net::use_awaitable, ec));
  }

  net::io_context io_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

Result<FetchResult> Fetch(const HttpClientConfig& cfg, const std::string& url) {
  auto settings = ClientSettings::Make(cfg, "t");
  if (!settings.ok()) return settings.status();
  net::io_context io;
  HttpClient client(io.get_executor(), *settings);
  auto u = ParseUrl(url);
  if (!u.ok()) return u.status();
  FetchOptions o;
  o.timeout_ms = 5000;
  return RunSync(io, client.Get(*u, o));
}

}  // namespace

TEST_CASE("scrapes over TLS verify the server as configured", "[scraper][http][tls]") {
  Certs certs;
  if (!certs.ok) {
    WARN("openssl CLI not available; TLS test skipped");
    return;
  }
  TlsServer server(certs, false);
  std::string by_ip = "https://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
  std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/metrics";

  HttpClientConfig with_ca;
  with_ca.tls_config.ca_file = certs.ca_cert;
  auto r = Fetch(with_ca, by_ip);
  REQUIRE(r.ok());
  CHECK(r->body == "a 1\n");
  CHECK(Fetch(with_ca, by_name).ok());

  // Without the CA: the certificate is not trusted.
  auto bad = Fetch(HttpClientConfig{}, by_ip);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("certificate verify failed") != std::string::npos);

  // insecure_skip_verify accepts it anyway.
  HttpClientConfig insecure;
  insecure.tls_config.insecure_skip_verify = true;
  CHECK(Fetch(insecure, by_ip).ok());

  // server_name must match the certificate.
  HttpClientConfig wrong_name = with_ca;
  wrong_name.tls_config.server_name = "other.example";
  CHECK_FALSE(Fetch(wrong_name, by_ip).ok());
  HttpClientConfig right_name = with_ca;
  right_name.tls_config.server_name = "localhost";
  CHECK(Fetch(right_name, by_ip).ok());

  // A missing CA file is an error naming it.
  HttpClientConfig missing;
  missing.tls_config.ca_file = "/nonexistent/ca.pem";
  auto m = ClientSettings::Make(missing, "t");
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("/nonexistent/ca.pem") != std::string::npos);
}

TEST_CASE("client certificates are sent when configured", "[scraper][http][tls]") {
  Certs certs;
  if (!certs.ok) {
    WARN("openssl CLI not available; TLS test skipped");
    return;
  }
  TlsServer server(certs, true);
  std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
  HttpClientConfig cfg;
  cfg.tls_config.ca_file = certs.ca_cert;
  CHECK_FALSE(Fetch(cfg, url).ok());
  cfg.tls_config.cert_file = certs.client_cert;
  cfg.tls_config.key_file = certs.client_key;
  auto r = Fetch(cfg, url);
  REQUIRE(r.ok());
  CHECK(r->body == "a 1\n");
}
