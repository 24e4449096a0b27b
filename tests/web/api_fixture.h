#pragma once

// A running WebServer with the API on a MemStore, a ManualClock and a scripted engine, for the
// API tests. The scripted engine answers each query text with a result or an error set by the
// test, and records the calls, so that the tests see exactly what the API passed on and what it
// made of the engine's answer (the real engine has its own tests; tests/web/api_promql_test.cpp
// runs the API on it).

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/common/http_client.h"
#include "tsdb/storage/memstore.h"
#include "web/api.h"
#include "web/web.h"

namespace hearth::testing {

class ScriptedEngine final : public web::QueryEngine {
 public:
  struct Call {
    std::string query;
    bool range = false;
    int64_t t = 0;  // instant time, or range start
    int64_t end = 0;
    int64_t step = 0;
    promql::QueryOptions opts;
  };

  void Set(const std::string& query, Result<promql::QueryResult> r) {
    std::lock_guard lock(mu_);
    results_.insert_or_assign(query, std::move(r));
  }
  void SetValue(const std::string& query, promql::Value v) {
    promql::QueryResult r;
    r.value = std::move(v);
    Set(query, std::move(r));
  }
  void SetDelay(int ms) { delay_ms_ = ms; }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  Call last() {
    std::lock_guard lock(mu_);
    REQUIRE(!calls_.empty());
    return calls_.back();
  }

  Result<promql::QueryResult> Instant(storage::Queryable&, std::string_view query, int64_t t,
                                      const promql::QueryOptions& opts) override {
    return Answer({std::string(query), false, t, 0, 0, opts});
  }
  Result<promql::QueryResult> Range(storage::Queryable&, std::string_view query, int64_t start,
                                    int64_t end, int64_t step,
                                    const promql::QueryOptions& opts) override {
    return Answer({std::string(query), true, start, end, step, opts});
  }

 private:
  Result<promql::QueryResult> Answer(Call c) {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    std::lock_guard lock(mu_);
    calls_.push_back(c);
    auto it = results_.find(c.query);
    if (it == results_.end()) {
      return Status(StatusCode::kInvalidArgument, "1:1: parse error: no scripted answer");
    }
    return it->second;
  }

  std::mutex mu_;
  std::map<std::string, Result<promql::QueryResult>> results_;
  std::vector<Call> calls_;
  std::atomic<int> delay_ms_{0};
};

struct ApiFixture {
  explicit ApiFixture(web::ApiOptions api_opts = {}, web::ApiSources sources = {},
                      web::WebOptions web_opts = LocalWebOptions())
      : clock(1712345678123), web(web_opts, registry, Logger::Discard()) {
    if (api_opts.build_info.version.empty()) {
      api_opts.build_info = {"3.0.0", "abc123", "main", "hearth", "20261125-10:00:00", "g++ 12"};
    }
    auto a = web::Api::Make(std::move(api_opts), store, engine, std::move(sources), clock,
                            Logger::Discard());
    REQUIRE(a.ok());
    api = std::move(a).value();
    api->Register(web);
    REQUIRE(web.Start().ok());
    web.SetReady(true);
    port = web.port();
  }

  // The server calls into the Api: stop it before the Api goes.
  ~ApiFixture() { web.Stop(); }

  static web::WebOptions LocalWebOptions() {
    web::WebOptions o;
    o.listen_address = "127.0.0.1:0";
    return o;
  }

  // Appends samples {t, v} of one series and commits.
  void Add(const Labels& labels, std::vector<Sample> samples) {
    auto app = store.NewAppender();
    for (const Sample& s : samples) REQUIRE(app->Append(0, labels, s.t, s.v).ok());
    REQUIRE(app->Commit().ok());
  }

  HttpResult Get(const std::string& target) { return HttpGet(port, target); }
  HttpResult Post(const std::string& target, const std::string& body) {
    return HttpPost(port, target, body);
  }

  storage::MemStore store;
  ManualClock clock;
  ScriptedEngine engine;
  metrics::Registry registry;
  web::WebServer web;
  std::unique_ptr<web::Api> api;
  int port = 0;
};

}  // namespace hearth::testing
