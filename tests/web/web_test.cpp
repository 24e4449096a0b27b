#include <catch2/catch.hpp>

#include "tests/common/http_client.h"
#include "web/compress.h"
#include "web/web.h"

using namespace hearth;
using hearth::testing::HttpGet;
using hearth::testing::HttpPost;

namespace {
web::WebOptions LocalOptions() {
  web::WebOptions o;
  o.listen_address = "127.0.0.1:0";
  return o;
}
}  // namespace

TEST_CASE("health, readiness and metrics endpoints", "[web]") {
  metrics::Registry registry;
  registry.NewGauge("hearth_test_gauge", "A gauge.").Set(3);
  web::WebServer web(LocalOptions(), registry, Logger::Discard());
  REQUIRE(web.Start().ok());
  int port = web.port();

  auto healthy = HttpGet(port, "/-/healthy");
  CHECK(healthy.status == 200);
  CHECK(healthy.body == "Prometheus Server is Healthy.\n");
  CHECK(HttpGet(port, "/-/ready").status == 503);
  web.SetReady(true);
  auto ready = HttpGet(port, "/-/ready");
  CHECK(ready.status == 200);
  CHECK(ready.body == "Prometheus Server is Ready.\n");

  auto m = HttpGet(port, "/metrics");
  CHECK(m.status == 200);
  CHECK(m.Header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(m.body.find("hearth_test_gauge 3\n") != std::string::npos);
  // Requests so far are counted by handler.
  CHECK(m.body.find("prometheus_http_requests_total{code=\"200\",handler=\"/-/healthy\"} 1") !=
        std::string::npos);

  auto missing = HttpGet(port, "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == "404 page not found\n");
  CHECK(HttpPost(port, "/-/healthy", "").status == 405);
}

TEST_CASE("lifecycle endpoints need the flag and POST", "[web]") {
  metrics::Registry registry;
  SECTION("disabled") {
    web::WebServer web(LocalOptions(), registry, Logger::Discard());
    REQUIRE(web.Start().ok());
    auto r = HttpPost(web.port(), "/-/reload", "");
    CHECK(r.status == 403);
    CHECK(r.body == "Lifecycle API is not enabled.");
  }
  SECTION("enabled") {
    auto opts = LocalOptions();
    opts.enable_lifecycle = true;
    web::WebServer web(opts, registry, Logger::Discard());
    int reloads = 0;
    bool fail = false;
    web.SetReloadHandler([&] {
      ++reloads;
      return fail ? InvalidArgument("bad config") : Status::Ok();
    });
    bool quit = false;
    web.SetQuitHandler([&] { quit = true; });
    REQUIRE(web.Start().ok());
    auto get = HttpGet(web.port(), "/-/reload");
    CHECK(get.status == 405);
    CHECK(get.body == "Only POST or PUT requests allowed");
    CHECK(HttpPost(web.port(), "/-/reload", "").status == 200);
    CHECK(reloads == 1);
    fail = true;
    auto failed = HttpPost(web.port(), "/-/reload", "");
    CHECK(failed.status == 500);
    CHECK(failed.body == "failed to reload config: bad config\n");
    auto q = HttpPost(web.port(), "/-/quit", "");
    CHECK(q.status == 200);
    CHECK(q.body == "Requesting termination... Goodbye!");
    CHECK(quit);
  }
}

TEST_CASE("route prefix serves endpoints under a path", "[web]") {
  metrics::Registry registry;
  auto opts = LocalOptions();
  opts.route_prefix = "/prometheus/";
  web::WebServer web(opts, registry, Logger::Discard());
  REQUIRE(web.Start().ok());
  CHECK(HttpGet(web.port(), "/prometheus/-/healthy").status == 200);
  CHECK(HttpGet(web.port(), "/-/healthy").status == 404);
  CHECK(HttpGet(web.port(), "/prometheusx/-/healthy").status == 404);
}

TEST_CASE("responses are gzipped when the client accepts it", "[web]") {
  metrics::Registry registry;
  registry.NewGauge("hearth_test_gauge", "A gauge.").Set(3);
  web::WebServer web(LocalOptions(), registry, Logger::Discard());
  REQUIRE(web.Start().ok());
  auto plain = HttpGet(web.port(), "/metrics");
  CHECK(plain.Header("content-encoding").empty());
  auto gz = hearth::testing::HttpRequestRaw(
      web.port(),
      "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
  CHECK(gz.status == 200);
  CHECK(gz.Header("content-encoding") == "gzip");
  CHECK(gz.Header("vary") == "Accept-Encoding");
  auto body = web::GzipDecompress(gz.body);
  REQUIRE(body.ok());
  CHECK(body->find("hearth_test_gauge 3\n") != std::string::npos);
}

TEST_CASE("405 answers name the allowed methods", "[web]") {
  metrics::Registry registry;
  web::WebServer web(LocalOptions(), registry, Logger::Discard());
  REQUIRE(web.Start().ok());
  auto r = HttpPost(web.port(), "/-/healthy", "");
  CHECK(r.status == 405);
  CHECK(r.Header("allow") == "GET, HEAD");
}

TEST_CASE("external URL and route prefix resolve as Prometheus does", "[web]") {
  auto a = web::ResolveExternalUrl("http://example.com:9090/prometheus/", "", "0.0.0.0:9090");
  REQUIRE(a.ok());
  CHECK(a->url == "http://example.com:9090/prometheus");
  CHECK(a->route_prefix == "/prometheus");
  auto b = web::ResolveExternalUrl("https://example.com", "", ":9090");
  REQUIRE(b.ok());
  CHECK(b->url == "https://example.com");
  CHECK(b->route_prefix == "/");
  auto c = web::ResolveExternalUrl("http://proxy/x/", "internal/", ":9090");
  REQUIRE(c.ok());
  CHECK(c->route_prefix == "/internal");
  auto d = web::ResolveExternalUrl("", "", "0.0.0.0:9191");
  REQUIRE(d.ok());
  CHECK(d->url.rfind("http://", 0) == 0);
  CHECK(d->url.find(":9191") != std::string::npos);
  auto bad = web::ResolveExternalUrl("ftp://x/", "", ":9090");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "\"ftp://x/\": invalid \"ftp\" scheme, only 'http' and 'https' are supported");
}
