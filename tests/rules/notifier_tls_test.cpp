// The notifier over HTTPS: CA verification, insecure_skip_verify, and bearer credentials read
// from a file, against a small TLS server in the test (certificate made with the openssl CLI).

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include "config/load.h"
#include "rules/notifier.h"
#include "tests/rules/rules_fixture.h"

namespace hearth::rules {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Accepts TLS connections and answers every request with 200, recording the requests.
class TlsServer {
 public:
  TlsServer(const std::string& cert, const std::string& key) : ctx_(ssl::context::tls_server) {
    ctx_.use_certificate_chain_file(cert);
    ctx_.use_private_key_file(key, ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stop_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept with a connection of our own.
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> auth_headers() {
    std::lock_guard lock(mu_);
    return auth_;
  }

 private:
  void Serve() {
    while (!stop_) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      beast::ssl_stream<tcp::socket> stream(std::move(sock), ctx_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused our certificate
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(stream, buf, req, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mu_);
        auth_.push_back(std::string(req[http::field::authorization]));
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::connection, "close");
      res.prepare_payload();
      http::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  net::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_{ioc_};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> auth_;
  std::thread thread_;
};

TEST_CASE("the notifier sends over TLS with CA checks and bearer credentials from a file",
          "[rules][notifier]") {
  if (std::system("command -v openssl > /dev/null 2>&1") != 0) {
    WARN("openssl not installed; skipping");
    return;
  }
  testing::TempDir dir;
  const std::string cert = (dir.path() / "cert.pem").string();
  const std::string key = (dir.path() / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                    " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  dir.Write("token", "s3cret\n");
  TlsServer server(cert, key);

  ManualClock clock(0);
  metrics::Registry registry;
  NotifierOptions o;
  o.clock = &clock;
  o.registry = &registry;
  Notifier n(o);
  auto send_one = [&](const std::string& tls_yaml) {
    auto c = LoadConfigString(fmt::format(R"(
alerting:
  alertmanagers:
    - scheme: https
      timeout: 5s
      authorization:
        credentials_file: token
{}
      static_configs:
        - targets: ['localhost:{}']
)", tls_yaml, server.port()), "prometheus.yml", dir.path().string());
    INFO(c.status().message());
    REQUIRE(c.ok());
    REQUIRE(n.ApplyConfig(*c).ok());
    NotifierAlert a;
    a.labels = Labels{{"alertname", "Tls"}};
    n.Send({a});
    REQUIRE(n.SendOneBatch());
  };
  auto dropped = [&] {
    std::string m = registry.Render();
    const std::string metric = "\nprometheus_notifications_dropped_total ";
    size_t at = m.find(metric) + metric.size();
    return m.substr(at, m.find('\n', at) - at);
  };

  send_one("      tls_config:\n        ca_file: cert.pem");
  CHECK(dropped() == "0");
  REQUIRE(server.auth_headers().size() == 1);
  CHECK(server.auth_headers()[0] == "Bearer s3cret");

  // Without our CA the certificate is refused.
  send_one("");
  CHECK(dropped() == "1");

  send_one("      tls_config:\n        insecure_skip_verify: true");
  CHECK(dropped() == "1");
  CHECK(server.auth_headers().size() == 2);
}

}  // namespace
}  // namespace hearth::rules
