#include <catch2/catch.hpp>

#include <poll.h>
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

namespace {

// Reads streamed bodies in small pieces and answers with their size and a checksum; other
// requests get their (whole) body size.
std::unique_ptr<HttpServer> StartStreaming(size_t max_body, size_t read_limit = SIZE_MAX) {
  HttpServerOptions opts;
  opts.listen_address = "127.0.0.1:0";
  opts.max_body_bytes = max_body;
  opts.stream_body = [](const HttpRequest& head) { return head.path == "/stream"; };
  auto s = HttpServer::Start(
      opts,
      [read_limit](const HttpRequest& req, HttpResponse& resp) {
        if (!req.read_body) {
          resp.body = "whole " + std::to_string(req.body.size());
          return;
        }
        CHECK(req.body.empty());
        uint64_t sum = 0;
        size_t total = 0;
        char buf[1000];  // not a divisor of the chunk sizes below
        while (total < read_limit) {
          auto n = req.read_body(buf, sizeof(buf));
          if (!n.ok()) {
            resp.status = 400;
            resp.body = n.status().message();
            return;
          }
          if (*n == 0) break;
          for (size_t i = 0; i < *n; ++i) sum = sum * 31 + static_cast<unsigned char>(buf[i]);
          total += *n;
        }
        resp.body = "streamed " + std::to_string(total) + " " + std::to_string(sum);
      },
      Logger::Discard());
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::string Checksum(const std::string& s) {
  uint64_t sum = 0;
  for (unsigned char c : s) sum = sum * 31 + c;
  return std::to_string(s.size()) + " " + std::to_string(sum);
}

}  // namespace

TEST_CASE("streamed bodies reach the handler piece by piece, beyond the body limit",
          "[web][http]") {
  auto server = StartStreaming(1024);
  std::string body;
  for (int i = 0; body.size() < 3 * 1024 * 1024; ++i) body += "line " + std::to_string(i) + "\n";
  SECTION("content-length") {
    auto r = HttpPost(server->port(), "/stream", body, "text/plain");
    CHECK(r.status == 200);
    CHECK(r.body == "streamed " + Checksum(body));
  }
  SECTION("chunked") {
    std::string raw =
        "POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for (size_t pos = 0; pos < body.size(); pos += 100000) {
      std::string piece = body.substr(pos, 100000);
      char hex[32];
      std::snprintf(hex, sizeof(hex), "%zx\r\n", piece.size());
      raw += hex + piece + "\r\n";
    }
    raw += "0\r\n\r\n";
    auto r = HttpRequestRaw(server->port(), raw);
    CHECK(r.status == 200);
    CHECK(r.body == "streamed " + Checksum(body));
  }
  SECTION("empty") {
    auto r = HttpPost(server->port(), "/stream", "", "text/plain");
    CHECK(r.body == "streamed " + Checksum(""));
    r = HttpGet(server->port(), "/stream");
    CHECK(r.body == "streamed " + Checksum(""));
  }
  SECTION("other paths keep the limit") {
    CHECK(HttpPost(server->port(), "/other", body, "text/plain").status == 413);
    CHECK(HttpPost(server->port(), "/other", "abc", "text/plain").body == "whole 3");
  }
}

TEST_CASE("Expect: 100-continue is answered before the body is read", "[web][http]") {
  auto server = StartStreaming(1 << 20);
  for (std::string path : {"/stream", "/whole"}) {
    int fd = hearth::testing::ConnectLoopback(server->port());
    REQUIRE(fd >= 0);
    std::string head = "POST " + path +
                       " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                       "Connection: close\r\n\r\n";
    REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0);
    char buf[256];
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(got == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(send(fd, "hello", 5, MSG_NOSIGNAL) == 5);
    got.clear();
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    CHECK(got.rfind("HTTP/1.1 200 OK", 0) == 0);
    CHECK(got.find(path == "/stream" ? "streamed 5 " : "whole 5") != std::string::npos);
  }
}

TEST_CASE("a streamed body left unread closes the connection; a read one keeps it",
          "[web][http]") {
  auto partial = StartStreaming(1024, /*read_limit=*/10);
  std::string big = "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" +
                    std::string(300000, 'a') + "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto r = HttpRequestRaw(partial->port(), big);
  CHECK(r.status == 200);
  CHECK(r.body.rfind("streamed ", 0) == 0);
  CHECK(r.Header("connection") == "close");

  std::string two = "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                    std::string(100, 'a') + "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto full = StartStreaming(1024);
  int fd = hearth::testing::ConnectLoopback(full->port());
  REQUIRE(fd >= 0);
  REQUIRE(send(fd, two.data(), two.size(), MSG_NOSIGNAL) > 0);
  std::string got;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  CHECK(got.find("streamed 100 ") != std::string::npos);
  CHECK(got.find("whole 0") != std::string::npos);  // the second request on the same connection
}

TEST_CASE("a stalled streamed body times out without blocking the server", "[web][http]") {
  HttpServerOptions opts;
  opts.listen_address = "127.0.0.1:0";
  opts.read_timeout_ms = 300;
  opts.stream_body = [](const HttpRequest&) { return true; };
  std::atomic<bool> timed_out{false};
  auto s = HttpServer::Start(
      opts,
      [&](const HttpRequest& req, HttpResponse& resp) {
        if (!req.read_body) return;
        char buf[16];
        while (true) {
          auto n = req.read_body(buf, sizeof(buf));
          if (!n.ok()) {
            timed_out = n.status().code() == StatusCode::kDeadlineExceeded;
            break;
          }
          if (*n == 0) break;
        }
        resp.body = "done";
      },
      Logger::Discard());
  REQUIRE(s.ok());
  int fd = hearth::testing::ConnectLoopback((*s)->port());
  std::string head = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
  REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!timed_out && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(timed_out);
  close(fd);
  (*s)->Stop();
}

TEST_CASE("a client that hangs up is noticed while its handler runs", "[web][http]") {
  HttpServerOptions opts;
  opts.listen_address = "127.0.0.1:0";
  std::atomic<int> noticed{0};
  std::atomic<int> finished{0};
  auto s = HttpServer::Start(
      opts,
      [&](const HttpRequest& req, HttpResponse& resp) {
        REQUIRE(req.client_gone != nullptr);
        for (int i = 0; i < 250 && !req.client_gone->load(); ++i) {
          if (req.path == "/quick") break;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (req.client_gone->load()) ++noticed;
        ++finished;
        resp.body = "x";
      },
      Logger::Discard());
  REQUIRE(s.ok());
  int fd = hearth::testing::ConnectLoopback((*s)->port());
  std::string req = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(fd, req.data(), req.size(), MSG_NOSIGNAL) > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  close(fd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (finished < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(noticed == 1);
  // A client that waits is not mistaken for one that left, also with keep-alive.
  auto r = HttpGet((*s)->port(), "/quick");
  CHECK(r.status == 200);
  CHECK(noticed == 1);
  std::string two = "GET /quick HTTP/1.1\r\nHost: x\r\n\r\nGET /quick HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n";
  auto both = HttpRequestRaw((*s)->port(), two);
  CHECK(both.status == 200);
  CHECK(noticed == 1);
  CHECK(finished == 4);
}
