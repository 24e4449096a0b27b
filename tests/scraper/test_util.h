#pragma once

// Helpers for the scraper tests: a target server on 127.0.0.1:0 whose answer the test sets,
// gzip for bodies, and running a coroutine to completion.

#include <utility>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <zlib.h>

#include "model/log.h"
#include "web/http.h"

namespace hearth::scraper::testing {

inline std::string Gzip(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// An exporter whose response a test controls. Counts requests and remembers the last one.
class FakeTarget {
 public:
  using Handler = std::function<void(const web::HttpRequest&, web::HttpResponse&)>;

  FakeTarget() {
    web::HttpServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.worker_threads = 4;
    auto s = web::HttpServer::Start(
        o,
        [this](const web::HttpRequest& req, web::HttpResponse& res) {
          Handler h;
          {
            std::lock_guard l(mu_);
            last_ = req;
            h = handler_;
          }
          ++requests_;
          if (h) {
            h(req, res);
          } else {
            std::lock_guard l(mu_);
            res.status = status_;
            res.SetHeader("Content-Type", content_type_);
            if (gzip_) {
              res.SetHeader("Content-Encoding", "gzip");
              res.body = Gzip(body_);
            } else {
              res.body = body_;
            }
          }
        },
        Logger::Discard());
    server_ = std::move(s.value());
  }
  ~FakeTarget() { server_->Stop(); }

  int port() const { return server_->port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  void Set(std::string body, int status = 200,
           std::string content_type = "text/plain; version=0.0.4; charset=utf-8",
           bool gzip = false) {
    std::lock_guard l(mu_);
    body_ = std::move(body);
    status_ = status;
    content_type_ = std::move(content_type);
    gzip_ = gzip;
  }
  void SetHandler(Handler h) {
    std::lock_guard l(mu_);
    handler_ = std::move(h);
  }
  int requests() const { return requests_.load(); }
  web::HttpRequest last() const {
    std::lock_guard l(mu_);
    return last_;
  }

 private:
  std::unique_ptr<web::HttpServer> server_;
  mutable std::mutex mu_;
  std::string body_;
  int status_ = 200;
  std::string content_type_ = "text/plain; version=0.0.4; charset=utf-8";
  bool gzip_ = false;
  Handler handler_;
  web::HttpRequest last_;
  std::atomic<int> requests_{0};
};

// Runs an awaitable to completion on a fresh io_context and returns its value.
template <typename T>
T RunSync(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr err;
  // Result<T> has no default constructor, so the value leaves through `out`.
  boost::asio::co_spawn(
      io,
      [&out, aw = std::move(aw)]() mutable -> boost::asio::awaitable<void> {
        out.emplace(co_await std::move(aw));
      },
      [&err](std::exception_ptr e) { err = e; });
  io.restart();
  io.run();
  if (err) std::rethrow_exception(err);
  return std::move(*out);
}

}  // namespace hearth::scraper::testing
