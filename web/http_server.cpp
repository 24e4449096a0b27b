// The HTTP server on Boost.Beast. Threads: `io_threads` run the io_context (accept, read,
// write; each connection on its own strand); `worker_threads` run handlers, so a slow handler
// never blocks I/O of other connections. A connection reads one request at a time (no
// pipelining): first the head, then (unless the body is streamed) the whole body, hands it to
// a worker, and writes the answer back on its strand. A streamed body is read by the handler
// on its worker thread: each read is an async read on the connection's strand that the worker
// waits for, so timeouts and shutdown work as for any other read.

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "web/http.h"

namespace hearth::web {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerImpl;

// Runs handlers. Starts `min_threads` threads and adds one whenever a task arrives while none
// is idle, up to `max_threads`; beyond that tasks queue. Threads live until Join().
class WorkerPool {
 public:
  WorkerPool(int min_threads, int max_threads)
      : max_threads_(static_cast<size_t>(std::max(min_threads, max_threads))) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < std::max(1, min_threads); ++i) StartThreadLocked();
  }
  ~WorkerPool() { Join(); }

  void Post(std::function<void()> task) {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
    if (idle_ < tasks_.size() && threads_.size() < max_threads_) StartThreadLocked();
    cv_.notify_one();
  }

  // Runs the queued tasks, then stops every thread. Idempotent.
  void Join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
  }

 private:
  void StartThreadLocked() {
    threads_.emplace_back([this] { Run(); });
  }

  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping and drained
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  std::vector<std::thread> threads_;         // guarded by mu_
  size_t idle_ = 0;                          // threads waiting for a task; guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl* server);
  ~Session();
  void Start() { DoRead(); }

 private:
  void DoRead();
  void OnHeader(beast::error_code ec, size_t);
  void ReadBody();
  void OnRead(beast::error_code ec, size_t);
  // Answers a failed read; returns false when `ec` is no error.
  bool HandleReadError(beast::error_code ec);
  void Dispatch(HttpRequest req, bool keep_alive, unsigned version, bool head);
  // Reads the next bytes of a streamed body; called from a worker thread.
  Result<size_t> ReadBodySome(char* buf, size_t n);
  // While a handler runs: notices the client closing the connection (sets client_gone_).
  void WatchClient();
  void StopWatchingClient();
  void Write(HttpResponse r, bool keep_alive, unsigned version, bool head);
  void WriteError(http::status status, std::string_view body);
  void OnWrite(bool close, beast::error_code ec, size_t);
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::buffer_body>> stream_parser_;  // streamed bodies
  HttpRequest head_;  // the request being read (its head, once OnHeader ran)
  http::response<http::string_body> res_;
  ServerImpl* server_;
  std::string remote_;
  bool dispatched_ = false;  // the answer being written counts in ServerImpl::in_flight()
  std::atomic<bool> client_gone_{false};
  bool watching_ = false;  // a WatchClient wait is pending; strand only
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(HttpServerOptions options, HttpHandler handler, Logger logger)
      : options_(std::move(options)), handler_(std::move(handler)), logger_(std::move(logger)),
        acceptor_(ioc_), pool_(options_.worker_threads, options_.max_worker_threads) {}

  ~ServerImpl() override { Stop(); }

  Status Listen() {
    auto hp = SplitHostPort(options_.listen_address);
    if (!hp.ok()) return hp.status();
    auto [host, port] = *hp;
    beast::error_code ec;
    net::ip::address addr = host.empty() ? net::ip::address(net::ip::address_v4::any())
                                         : net::ip::make_address(host, ec);
    if (ec) {
      // A host name: resolve it once.
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty()) {
        return Errorf(StatusCode::kInvalidArgument, "listen tcp {}: cannot resolve host: {}",
                      options_.listen_address, ec.message());
      }
      addr = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Errorf(StatusCode::kUnavailable, "listen tcp {}: {}", options_.listen_address,
                    ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      io_threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    net::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // Let requests already handed to a handler finish and their answers go out (the answer
    // to /-/quit, for one), for at most a few seconds.
    for (int i = 0; i < 500 && in_flight_.load() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    io_done_.store(true);
    pool_.Join();
  }

  const HttpServerOptions& options() const { return options_; }
  // True once the I/O threads are joined: no completion handler runs any more.
  bool io_done() const { return io_done_.load(); }
  const HttpHandler& handler() const { return handler_; }
  const Logger& logger() const { return logger_; }
  WorkerPool& pool() { return pool_; }
  std::atomic<size_t>& connections() { return connections_; }
  // Requests between hand-off to a worker and the end of writing their answer.
  std::atomic<int>& in_flight() { return in_flight_; }

 private:
  void DoAccept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == net::error::operation_aborted || stopped_) return;
        logger_.Warn("Accept error", {{"err", ec.message()}});
      } else if (connections_.load() >= options_.max_connections) {
        beast::error_code ignored;
        s.close(ignored);
      } else {
        std::make_shared<Session>(std::move(s), this)->Start();
      }
      DoAccept();
    });
  }

  HttpServerOptions options_;
  HttpHandler handler_;
  Logger logger_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  WorkerPool pool_;
  std::vector<std::thread> io_threads_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> io_done_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<int> in_flight_{0};
  uint16_t port_ = 0;
};

Session::Session(tcp::socket socket, ServerImpl* server)
    : stream_(std::move(socket)), server_(server) {
  server_->connections().fetch_add(1);
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    remote_ = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    remote_ += ":" + std::to_string(ep.port());
  }
}

Session::~Session() {
  if (dispatched_) server_->in_flight().fetch_sub(1);
  server_->connections().fetch_sub(1);
}

void Session::DoRead() {
  header_parser_.emplace();
  header_parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
  // The body limit is applied once it is known whether the body is streamed (ReadBody).
  // (Not boost::none: Beast 1.74 compares the length with the optional, so none refuses all.)
  header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_after(std::chrono::milliseconds(server_->options().read_timeout_ms));
  http::async_read_header(stream_, buffer_, *header_parser_,
                          beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

bool Session::HandleReadError(beast::error_code ec) {
  if (!ec) return false;
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset) {
    Close();
  } else if (ec == http::error::body_limit) {
    WriteError(http::status::payload_too_large, "http: request body too large");
  } else if (ec == http::error::header_limit) {
    WriteError(http::status::request_header_fields_too_large,
               "431 Request Header Fields Too Large");
  } else {
    WriteError(http::status::bad_request, "400 Bad Request");
  }
  return true;
}

void Session::OnHeader(beast::error_code ec, size_t) {
  if (HandleReadError(ec)) return;
  const auto& h = header_parser_->get();
  head_ = HttpRequest{};
  head_.method = std::string(h.method_string());
  head_.target = std::string(h.target());
  std::string_view target = h.target();
  size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  if (!path.ok()) {
    WriteError(http::status::bad_request, "400 Bad Request");
    return;
  }
  head_.path = std::move(*path);
  if (q != std::string_view::npos) head_.query = std::string(target.substr(q + 1));
  bool expect_continue = false;
  for (const auto& f : h) {
    std::string name(f.name_string());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (name == "expect") {
      std::string v(f.value());
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      expect_continue = v == "100-continue";
    }
    head_.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  head_.remote_address = remote_;
  const auto& stream_body = server_->options().stream_body;
  bool streamed = stream_body && stream_body(head_);
  auto next = [self = shared_from_this(), streamed] {
    if (!streamed) {
      self->ReadBody();
      return;
    }
    self->stream_.expires_never();
    self->stream_parser_.emplace(std::move(*self->header_parser_));
    self->stream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    const auto& req = self->stream_parser_->get();
    HttpRequest hr = std::move(self->head_);
    Session* raw = self.get();
    hr.read_body = [raw](char* buf, size_t n) { return raw->ReadBodySome(buf, n); };
    self->Dispatch(std::move(hr), req.keep_alive(), req.version(),
                   req.method() == http::verb::head);
  };
  if (!expect_continue || header_parser_->is_done()) {
    next();
    return;
  }
  // curl and others wait for this before sending a large body.
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this(), next](beast::error_code wec, size_t) {
                     if (wec) {
                       self->Close();
                       return;
                     }
                     next();
                   });
}

void Session::ReadBody() {
  // A declared length is checked here; chunked bodies as they arrive.
  if (auto len = header_parser_->content_length();
      len && *len > server_->options().max_body_bytes) {
    WriteError(http::status::payload_too_large, "http: request body too large");
    return;
  }
  parser_.emplace(std::move(*header_parser_));
  parser_->body_limit(server_->options().max_body_bytes);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::OnRead, shared_from_this()));
}

void Session::OnRead(beast::error_code ec, size_t) {
  if (HandleReadError(ec)) return;
  stream_.expires_never();
  http::request<http::string_body> req = parser_->release();
  HttpRequest hr = std::move(head_);
  hr.body = std::move(req.body());
  Dispatch(std::move(hr), req.keep_alive(), req.version(), req.method() == http::verb::head);
}

Result<size_t> Session::ReadBodySome(char* buf, size_t n) {
  if (n == 0) return size_t{0};
  while (true) {
    if (stream_parser_->is_done()) return size_t{0};
    // Bytes already received are parsed right here: no operation is pending on the connection
    // while the handler runs, so the worker may use the buffer and the parser.
    if (buffer_.size() > 0) {
      auto& body = stream_parser_->get().body();
      body.data = buf;
      body.size = n;
      body.more = true;
      beast::error_code ec;
      size_t used = stream_parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_buffer) ec = {};
      if (ec && ec != http::error::need_more) {
        return Errorf(StatusCode::kInvalidArgument, "http: reading the request body: {}",
                      ec.message());
      }
      size_t produced = n - body.size;
      if (produced > 0) return produced;
      if (stream_parser_->is_done()) return size_t{0};
      if (used > 0 && !ec) continue;  // framing consumed; more may be parsable
    }
    struct Outcome {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      beast::error_code ec;
      size_t produced = 0;
    };
    auto out = std::make_shared<Outcome>();
    auto self = shared_from_this();
    net::post(stream_.get_executor(), [self, out, buf, n] {
      auto& body = self->stream_parser_->get().body();
      body.data = buf;
      body.size = n;
      body.more = true;
      self->stream_.expires_after(
          std::chrono::milliseconds(self->server_->options().read_timeout_ms));
      // Beast reads at most the buffer's free capacity (at least 512 bytes): without room,
      // a large body arrives in pieces of a few hundred bytes, each a thread hand-off.
      self->buffer_.reserve(self->buffer_.size() + std::min<size_t>(n, size_t{1} << 20));
      http::async_read_some(
          self->stream_, self->buffer_, *self->stream_parser_,
          [self, out, n](beast::error_code ec, size_t) {
            self->stream_.expires_never();
            if (ec == http::error::need_buffer) ec = {};
            std::lock_guard lock(out->mu);
            out->ec = ec;
            out->produced = n - self->stream_parser_->get().body().size;
            out->done = true;
            out->cv.notify_one();
          });
    });
    std::unique_lock lock(out->mu);
    // Wait in slices so that a server shutting down does not leave the handler waiting.
    while (!out->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return out->done; })) {
      if (server_->io_done()) {
        return Status(StatusCode::kCancelled, "http: server shutting down");
      }
    }
    if (out->ec == beast::error::timeout) {
      return Status(StatusCode::kDeadlineExceeded, "http: timeout reading the request body");
    }
    if (out->ec) return Errorf(StatusCode::kIOError, "http: reading the request body: {}",
                               out->ec.message());
    if (out->produced > 0) return out->produced;
    // Only framing was read (a chunk header): read on.
  }
}

void Session::WatchClient() {
  watching_ = true;
  stream_.socket().async_wait(
      tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (!self->watching_) return;
        self->watching_ = false;
        if (ec) {
          if (ec != net::error::operation_aborted) self->client_gone_.store(true);
          return;
        }
        // Readable: either the end of the connection, or the next request already arriving
        // (pipelining), which stays unread for DoRead.
        char c;
        ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          self->client_gone_.store(true);
        }
      });
}

void Session::StopWatchingClient() {
  if (!watching_) return;
  watching_ = false;
  beast::error_code ec;
  stream_.socket().cancel(ec);
}

void Session::Dispatch(HttpRequest req, bool keep_alive, unsigned version, bool head) {
  server_->in_flight().fetch_add(1);
  client_gone_.store(false);
  if (!req.read_body) {
    req.client_gone = &client_gone_;
    WatchClient();
  }
  server_->pool().Post([self = shared_from_this(), req = std::move(req), keep_alive, version,
                        head]() mutable {
    HttpResponse resp;
    try {
      self->server_->handler()(req, resp);
    } catch (const std::exception& e) {
      self->server_->logger().Error("HTTP handler failed", {{"path", req.path}, {"err", e.what()}});
      resp = HttpResponse{};
      resp.status = 500;
      resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
      resp.body = "internal server error\n";
    }
    // A streamed body the handler left unread makes the connection unusable.
    if (self->stream_parser_ && !self->stream_parser_->is_done()) keep_alive = false;
    auto exec = self->stream_.get_executor();
    net::post(exec, [self = std::move(self), resp = std::move(resp), keep_alive, version,
                     head]() mutable {
      self->StopWatchingClient();
      self->stream_parser_.reset();
      self->dispatched_ = true;
      self->Write(std::move(resp), keep_alive, version, head);
    });
  });
}

void Session::Write(HttpResponse r, bool keep_alive, unsigned version, bool head) {
  res_ = {};
  res_.version(version);
  res_.result(static_cast<unsigned>(r.status));
  for (auto& [k, v] : r.headers) res_.set(k, v);
  res_.keep_alive(keep_alive);
  if (head) {
    res_.content_length(r.body.size());
  } else {
    res_.body() = std::move(r.body);
    res_.prepare_payload();
  }
  bool close = !keep_alive;
  stream_.expires_after(std::chrono::milliseconds(server_->options().read_timeout_ms));
  http::async_write(stream_, res_,
                    beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
}

void Session::WriteError(http::status status, std::string_view body) {
  HttpResponse r;
  r.status = static_cast<int>(status);
  r.SetHeader("Content-Type", "text/plain; charset=utf-8");
  r.SetHeader("Connection", "close");
  r.body = std::string(body);
  Write(std::move(r), false, 11, false);
}

void Session::OnWrite(bool close, beast::error_code ec, size_t) {
  if (dispatched_) {
    dispatched_ = false;
    server_->in_flight().fetch_sub(1);
  }
  if (ec || close) {
    Close();
    return;
  }
  DoRead();
}

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler, Logger logger) {
  auto server = std::make_unique<ServerImpl>(std::move(options), std::move(handler),
                                             std::move(logger));
  HEARTH_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace hearth::web
