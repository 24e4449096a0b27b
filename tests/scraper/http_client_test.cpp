#include "scraper/internal/http_client.h"

#include <catch2/catch.hpp>

#include "tests/common/http_client.h"
#include "tests/scraper/test_util.h"

namespace {

using namespace hearth;
using namespace hearth::scraper;
using hearth::scraper::testing::FakeTarget;
using hearth::scraper::testing::RunSync;

struct Fixture {
  boost::asio::io_context io;
  std::shared_ptr<const ClientSettings> settings;
  std::unique_ptr<HttpClient> client;
  explicit Fixture(HttpClientConfig cfg = {}) {
    settings = ClientSettings::Make(cfg, "Hearth-test/1").value();
    client = std::make_unique<HttpClient>(io.get_executor(), settings);
  }
  Result<FetchResult> Get(const std::string& url, FetchOptions o = {}) {
    auto u = ParseUrl(url);
    REQUIRE(u.ok());
    return RunSync(io, client->Get(*u, o));
  }
};

}  // namespace

TEST_CASE("URLs parse like Go's net/url for scrape targets", "[scraper][http]") {
  auto u = ParseUrl("http://api:8000/metrics?a=1");
  REQUIRE(u.ok());
  CHECK(u->host == "api");
  CHECK(u->port == "8000");
  CHECK(u->target == "/metrics?a=1");
  CHECK(u->ToString() == "http://api:8000/metrics?a=1");
  auto v6 = ParseUrl("https://[::1]:9090/x");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->HostHeader() == "[::1]:9090");
  auto def = ParseUrl("https://example.org");
  REQUIRE(def.ok());
  CHECK(def->port == "443");
  CHECK(def->target == "/");
  CHECK_FALSE(ParseUrl("ftp://x/").ok());
  CHECK_FALSE(ParseUrl("http://host:port/").ok());
  auto r = ResolveReference(*u, "/other?b=2");
  REQUIRE(r.ok());
  CHECK(r->ToString() == "http://api:8000/other?b=2");
}

TEST_CASE("HTTP client GETs with keep-alive, headers and gzip", "[scraper][http]") {
  FakeTarget target;
  std::string body = "# TYPE a counter\na_total 1\n";
  target.Set(body, 200, "text/plain; version=0.0.4", true);
  HttpClientConfig cfg;
  cfg.basic_auth = BasicAuth{"user", "", "pass", ""};
  Fixture f(cfg);
  FetchOptions o;
  o.accept = "text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
  o.headers.emplace_back("X-Prometheus-Scrape-Timeout-Seconds", "10");
  std::string url = "http://" + target.address() + "/metrics?x=y";
  for (int i = 0; i < 3; ++i) {
    auto r = f.Get(url, o);
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->status_text == "200 OK");
    CHECK(r->body == body);
    CHECK(r->content_type == "text/plain; version=0.0.4");
    CHECK(r->wire_bytes < body.size() + 30);
  }
  auto req = target.last();
  CHECK(req.path == "/metrics");
  CHECK(req.query == "x=y");
  CHECK(req.Header("accept") == o.accept);
  CHECK(req.Header("accept-encoding") == "gzip");
  CHECK(req.Header("user-agent") == "Hearth-test/1");
  CHECK(req.Header("x-prometheus-scrape-timeout-seconds") == "10");
  CHECK(req.Header("authorization") == "Basic dXNlcjpwYXNz");
  // Keep-alive: the three requests came over one connection (same client port).
  CHECK(target.requests() == 3);
}

TEST_CASE("HTTP client reports errors with Go's wording", "[scraper][http]") {
  Fixture f;
  SECTION("connection refused") {
    int port = hearth::testing::PickFreePort();
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
    auto r = f.Get(url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "Get \"" + url + "\": dial tcp 127.0.0.1:" + std::to_string(port) +
              ": connect: connection refused");
  }
  SECTION("timeout") {
    FakeTarget target;
    target.SetHandler([](const web::HttpRequest&, web::HttpResponse& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.body = "late";
    });
    FetchOptions o;
    o.timeout_ms = 150;
    std::string url = "http://" + target.address() + "/metrics";
    auto t0 = std::chrono::steady_clock::now();
    auto r = f.Get(url, o);
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(r.status().message() == "Get \"" + url + "\": context deadline exceeded");
    CHECK(took < std::chrono::milliseconds(550));
  }
  SECTION("unknown host") {
    auto r = f.Get("http://no-such-host.invalid:9100/metrics");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("dial tcp: lookup no-such-host.invalid") !=
          std::string::npos);
  }
  SECTION("body size limit, plain and gzip") {
    FakeTarget target;
    target.Set(std::string(1000, 'a'));
    FetchOptions o;
    o.body_size_limit = 1000;
    auto r = f.Get("http://" + target.address() + "/", o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "body size limit exceeded");
    o.body_size_limit = 1001;
    CHECK(f.Get("http://" + target.address() + "/", o).ok());
    target.Set(std::string(100000, 'a'), 200, "text/plain", true);
    o.body_size_limit = 50000;
    auto g = f.Get("http://" + target.address() + "/", o);
    REQUIRE_FALSE(g.ok());
    CHECK(g.status().message() == "body size limit exceeded");
  }
  SECTION("HTTP 500 is a result, with Go's status text") {
    FakeTarget target;
    target.Set("oops", 500);
    auto r = f.Get("http://" + target.address() + "/");
    REQUIRE(r.ok());
    CHECK(r->status == 500);
    CHECK(r->status_text == "500 Internal Server Error");
  }
}

TEST_CASE("HTTP client follows redirects and sends bearer tokens", "[scraper][http]") {
  FakeTarget target;
  target.SetHandler([](const web::HttpRequest& req, web::HttpResponse& res) {
    if (req.path == "/old") {
      res.status = 302;
      res.SetHeader("Location", "/new");
      return;
    }
    res.body = std::string(req.Header("authorization"));
  });
  HttpClientConfig cfg;
  cfg.authorization = Authorization{"Bearer", "tok", ""};
  Fixture f(cfg);
  auto r = f.Get("http://" + target.address() + "/old");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "Bearer tok");

  cfg.follow_redirects = false;
  Fixture g(cfg);
  auto r2 = g.Get("http://" + target.address() + "/old");
  REQUIRE(r2.ok());
  CHECK(r2->status == 302);
}
