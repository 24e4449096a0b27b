#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/common/http_client.h"
#include "web/http.h"

using namespace hearth;
using namespace hearth::web;
using hearth::testing::HttpGet;
using hearth::testing::HttpPost;
using hearth::testing::HttpRequestRaw;

namespace {

std::unique_ptr<HttpServer> StartEcho(HttpServerOptions opts = {}) {
  opts.listen_address = "127.0.0.1:0";
  auto s = HttpServer::Start(
      opts,
      [](const HttpRequest& req, HttpResponse& resp) {
        if (req.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(500));
        resp.SetHeader("Content-Type", "text/plain");
        resp.body = req.method + " " + req.path + " ?" + req.query + " ct=" +
                    std::string(req.Header("content-type")) + " body=" + req.body;
      },
      Logger::Discard());
  REQUIRE(s.ok());
  return std::move(s).value();
}

}  // namespace

TEST_CASE("server answers GET and POST with path, query and body", "[web][http]") {
  auto server = StartEcho();
  auto r = HttpGet(server->port(), "/api/v1/query?query=up%7Bjob%3D%22a%22%7D");
  CHECK(r.status == 200);
  CHECK(r.body == "GET /api/v1/query ?query=up%7Bjob%3D%22a%22%7D ct= body=");
  auto p = HttpPost(server->port(), "/x%20y?a=1", "query=1%2B1&time=4");
  CHECK(p.status == 200);
  CHECK(p.body ==
        "POST /x y ?a=1 ct=application/x-www-form-urlencoded body=query=1%2B1&time=4");
}

TEST_CASE("server keeps a connection alive across requests", "[web][http]") {
  auto server = StartEcho();
  std::string two =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto r = HttpRequestRaw(server->port(), two);
  // The raw client reads both answers into one buffer: the second one follows the first.
  CHECK(r.status == 200);
  CHECK(r.body.find("GET /a") != std::string::npos);
  CHECK(r.body.find("GET /b") != std::string::npos);
}

TEST_CASE("malformed requests get 400 and the server lives on", "[web][http]") {
  auto server = StartEcho();
  auto r = HttpRequestRaw(server->port(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK(r.status == 400);
  auto bad_escape = HttpGet(server->port(), "/%zz");
  CHECK(bad_escape.status == 400);
  CHECK(HttpGet(server->port(), "/ok").status == 200);
}

TEST_CASE("oversized bodies and headers are refused", "[web][http]") {
  HttpServerOptions opts;
  opts.max_body_bytes = 1024;
  opts.max_header_bytes = 2048;
  auto server = StartEcho(opts);
  auto big = HttpPost(server->port(), "/", std::string(4096, 'x'));
  CHECK(big.status == 413);
  std::string huge_header = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'h') +
                            "\r\nConnection: close\r\n\r\n";
  CHECK(HttpRequestRaw(server->port(), huge_header).status == 431);
  CHECK(HttpPost(server->port(), "/", std::string(512, 'x')).status == 200);
}

TEST_CASE("a stalled client does not block others", "[web][http]") {
  auto server = StartEcho();
  // Half a request, never finished.
  int fd = hearth::testing::ConnectLoopback(server->port());
  REQUIRE(fd >= 0);
  std::string partial = "GET /stalled HTTP/1.1\r\nHost: x\r\n";
  REQUIRE(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) > 0);
  auto start = std::chrono::steady_clock::now();
  CHECK(HttpGet(server->port(), "/other").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  close(fd);
}

TEST_CASE("a slow handler does not block other requests", "[web][http]") {
  auto server = StartEcho();
  std::thread slow([&] { CHECK(HttpGet(server->port(), "/slow").status == 200); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  CHECK(HttpGet(server->port(), "/fast").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400));
  slow.join();
}

TEST_CASE("busy workers are joined by new ones, so long handlers never delay short ones",
          "[web][http]") {
  HttpServerOptions opts;
  opts.worker_threads = 1;
  opts.max_worker_threads = 8;
  auto server = StartEcho(opts);
  // More slow requests than the initial workers.
  std::vector<std::thread> slow;
  for (int i = 0; i < 4; ++i) {
    slow.emplace_back([&] { CHECK(HttpGet(server->port(), "/slow").status == 200); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  CHECK(HttpGet(server->port(), "/fast").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300));
  for (auto& t : slow) t.join();
}

TEST_CASE("beyond the worker cap requests queue and still complete", "[web][http]") {
  HttpServerOptions opts;
  opts.worker_threads = 1;
  opts.max_worker_threads = 2;
  auto server = StartEcho(opts);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] { ok += HttpGet(server->port(), "/slow").status == 200; });
  }
  for (auto& t : clients) t.join();
  CHECK(ok == 6);
}

TEST_CASE("HEAD gets headers without a body", "[web][http]") {
  auto server = StartEcho();
  auto r = HttpRequestRaw(server->port(), "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.Header("content-length") != "0");
}

TEST_CASE("binding a busy port fails with the address in the message", "[web][http]") {
  auto first = StartEcho();
  HttpServerOptions opts;
  opts.listen_address = "127.0.0.1:" + std::to_string(first->port());
  auto second = HttpServer::Start(opts, [](const HttpRequest&, HttpResponse&) {},
                                  Logger::Discard());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find(opts.listen_address) != std::string::npos);
}

TEST_CASE("url-encoded forms decode", "[web][http]") {
  auto f = ParseUrlEncoded("query=1%2B1&time=4&match%5B%5D=up&match%5B%5D=x+y&empty=");
  REQUIRE(f.ok());
  REQUIRE(f->size() == 5);
  CHECK((*f)[0] == std::make_pair(std::string("query"), std::string("1+1")));
  CHECK((*f)[3] == std::make_pair(std::string("match[]"), std::string("x y")));
  CHECK((*f)[4].second.empty());
  CHECK_FALSE(ParseUrlEncoded("a=%2").ok());
  CHECK_FALSE(ParseUrlEncoded("a=%g0").ok());
  auto hp = SplitHostPort("[::1]:9090");
  REQUIRE(hp.ok());
  CHECK(hp->first == "::1");
  CHECK(hp->second == 9090);
  CHECK_FALSE(SplitHostPort("localhost").ok());
  CHECK_FALSE(SplitHostPort("x:99999").ok());
}
