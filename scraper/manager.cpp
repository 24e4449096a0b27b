#include "scraper/manager.h"

#include <utility>  // before Boost.Asio (std::exchange in awaitable.hpp)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <set>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "model/format.h"
#include "model/strutil.h"
#include "scraper/discovery/http_sd.h"
#include "scraper/internal/http_client.h"
#include "scraper/scrape_cache.h"

namespace hearth::scraper {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;

namespace {

std::string_view ProtocolHeader(ScrapeProtocol p) {
  switch (p) {
    case ScrapeProtocol::kPrometheusProto:
      return "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
             "encoding=delimited";
    case ScrapeProtocol::kPrometheusText0_0_4: return "text/plain;version=0.0.4";
    case ScrapeProtocol::kPrometheusText1_0_0: return "text/plain;version=1.0.0";
    case ScrapeProtocol::kOpenMetricsText0_0_1: return "application/openmetrics-text;version=0.0.1";
    case ScrapeProtocol::kOpenMetricsText1_0_0: return "application/openmetrics-text;version=1.0.0";
  }
  return "";
}

// Prometheus' acceptHeader(): each protocol with a decreasing q weight, then */*. The 1.0.0
// text formats carry escaping=allow-utf-8 (Hearth validates names as UTF-8, 3.x's default).
// The protobuf format is left out: Hearth has no protobuf parser.
std::string AcceptHeader(const std::vector<ScrapeProtocol>& protocols) {
  std::vector<ScrapeProtocol> ps = protocols;
  if (ps.empty()) {
    ps = {ScrapeProtocol::kOpenMetricsText1_0_0, ScrapeProtocol::kOpenMetricsText0_0_1,
          ScrapeProtocol::kPrometheusText1_0_0, ScrapeProtocol::kPrometheusText0_0_4};
  }
  std::string out;
  int weight = 6;  // len(ScrapeProtocolsHeaders) + 1
  for (ScrapeProtocol p : ps) {
    if (p == ScrapeProtocol::kPrometheusProto) continue;
    if (!out.empty()) out += ',';
    out += ProtocolHeader(p);
    if (p == ScrapeProtocol::kPrometheusText1_0_0 || p == ScrapeProtocol::kOpenMetricsText1_0_0) {
      out += ";escaping=allow-utf-8";
    }
    out += fmt::format(";q=0.{}", weight);
    --weight;
  }
  if (!out.empty()) out += ',';
  out += fmt::format("*/*;q=0.{}", weight);
  return out;
}

// Everything in a scrape config that changes how its targets are scraped. Two configs with
// the same fingerprint need no restart.
std::string Fingerprint(const ScrapeConfig& c) {
  std::string f;
  auto add = [&](const auto&... parts) { ((f += fmt::format("{}", parts), f += '\x1f'), ...); };
  add(c.job_name, c.honor_labels, c.honor_timestamps, c.track_timestamps_staleness,
      c.scrape_interval_ms, c.scrape_timeout_ms, c.metrics_path, c.scheme, c.enable_compression,
      c.body_size_limit_bytes, c.sample_limit, c.target_limit, c.label_limit,
      c.label_name_length_limit, c.label_value_length_limit, c.keep_dropped_targets);
  for (auto p : c.scrape_protocols) add(static_cast<int>(p));
  add(c.fallback_scrape_protocol ? static_cast<int>(*c.fallback_scrape_protocol) : -1);
  for (const auto& [k, vs] : c.params) {
    add(k);
    for (const auto& v : vs) add(v);
  }
  const HttpClientConfig& h = c.http_client;
  if (h.basic_auth) {
    add("basic", h.basic_auth->username, h.basic_auth->username_file, h.basic_auth->password,
        h.basic_auth->password_file);
  }
  if (h.authorization) {
    add("authz", h.authorization->type, h.authorization->credentials,
        h.authorization->credentials_file);
  }
  const TlsConfig& t = h.tls_config;
  add(t.ca, t.ca_file, t.cert, t.cert_file, t.key, t.key_file, t.server_name,
      t.insecure_skip_verify, t.min_version, t.max_version, h.proxy_url, h.no_proxy,
      h.follow_redirects);
  auto relabels = [&](const std::vector<RelabelConfig>& rs) {
    add(rs.size());
    for (const auto& r : rs) {
      for (const auto& s : r.source_labels) add(s);
      add(r.separator, r.regex.pattern(), r.modulus, r.target_label, r.replacement,
          static_cast<int>(r.action));
    }
  };
  relabels(c.relabel_configs);
  relabels(c.metric_relabel_configs);
  return f;
}

// The http_sd part of a job, restarted when it changes.
std::string SdFingerprint(const ScrapeConfig& c) {
  std::string f;
  for (const auto& h : c.service_discovery.http_sd_configs) {
    f += fmt::format("{}|{}|", h.url, h.refresh_interval_ms);
  }
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Shared {
  storage::Appendable* storage;
  ScrapeManagerOptions options;
  const Clock* clock;
  RealClock real_clock;
  net::io_context io;
  ScrapeCounters counters;
  metrics::Counter* body_size_limit = nullptr;
  metrics::Counter* sd_http_failures = nullptr;
  std::atomic<uint64_t> next_loop_id{1};
};

// One target's loop. Runs as a coroutine on its own strand.
class Loop : public std::enable_shared_from_this<Loop> {
 public:
  struct Params {
    std::string job;
    Target target;
    std::shared_ptr<const ClientSettings> client;
    std::string accept;
    bool compression = true;
    uint64_t body_size_limit = 0;
  };

  Loop(Shared& shared, Params p, std::shared_ptr<ScrapeCache> cache,
       std::shared_ptr<Loop> predecessor)
      : shared_(shared), p_(std::move(p)), strand_(net::make_strand(shared.io)),
        timer_(strand_), client_(strand_, p_.client), cache_(std::move(cache)),
        predecessor_(std::move(predecessor)), id_(shared.next_loop_id++) {
    auto url = ParseUrl(p_.target.url);
    if (url.ok()) {
      url_ = std::move(*url);
    } else {
      url_error_ = url.status();
    }
  }

  void Start() {
    net::co_spawn(strand_, [self = shared_from_this()] { return self->Run(); }, net::detached);
  }

  // Asks the loop to end; with `stale`, it writes staleness markers for all its series first.
  void Stop(bool stale) {
    net::post(strand_, [self = shared_from_this(), stale] {
      self->stale_on_stop_ = stale;
      self->stopping_ = true;
      self->timer_.cancel();
      self->client_.Cancel();
    });
  }

  void Wait() {
    std::unique_lock l(done_mu_);
    done_cv_.wait(l, [&] { return done_; });
  }
  bool Done() const {
    std::lock_guard l(done_mu_);
    return done_;
  }

  TargetState State() const {
    std::lock_guard l(state_mu_);
    return state_;
  }
  const std::shared_ptr<ScrapeCache>& cache() const { return cache_; }
  const Target& target() const { return p_.target; }
  const std::string& job() const { return p_.job; }

  void InitState() {
    state_.scrape_pool = p_.job;
    state_.discovered_labels = p_.target.discovered_labels;
    state_.labels = p_.target.TargetLabels();
    state_.scrape_url = p_.target.url;
    state_.scrape_interval_ms = p_.target.interval_ms;
    state_.scrape_timeout_ms = p_.target.timeout_ms;
    state_.hash = p_.target.hash;
    state_.loop_id = id_;
  }

 private:
  net::awaitable<void> SleepMs(int64_t ms) {
    if (ms <= 0) co_return;
    boost::system::error_code ec;
    timer_.expires_after(std::chrono::milliseconds(ms));
    co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
  }

  net::awaitable<void> Run() {
    // A loop that replaces another (reload) starts once its predecessor has finished, so
    // that the scrape cache they share is never used by both.
    if (predecessor_) {
      for (int i = 0; i < 60000 && !predecessor_->Done() && !stopping_; ++i) co_await SleepMs(5);
      predecessor_.reset();
    }
    const int64_t interval = std::max<int64_t>(p_.target.interval_ms, 1);
    const Clock& clock = *shared_.clock;
    int64_t now = clock.NowMs();
    int64_t next = now;
    if (shared_.options.offset_scrapes) {
      auto offset = static_cast<int64_t>((p_.target.hash ^ shared_.options.offset_seed) %
                                         static_cast<uint64_t>(interval));
      next = now - (now % interval) + offset;
      if (next < now) next += interval;
    }
    while (!stopping_) {
      co_await SleepMs(next - clock.NowMs());
      if (stopping_) break;
      int64_t start = clock.NowMs();
      // Timestamps on the schedule when the timer was close enough (Prometheus'
      // ScrapeTimestampTolerance, at most 1% of the interval): better compression.
      int64_t tolerance = std::min<int64_t>(interval / 100, 2);
      int64_t ts = std::abs(start - next) <= tolerance ? next : start;
      co_await ScrapeOnce(ts, start);
      next += interval;
      now = clock.NowMs();
      if (next <= now) next += ((now - next) / interval + 1) * interval;
    }
    if (stale_on_stop_) {
      auto app = shared_.storage->NewAppender();
      cache_->AppendEndOfRun(*app, clock.NowMs());
      (void)app->Commit();
    }
    client_.Close();
    {
      std::lock_guard l(done_mu_);
      done_ = true;
    }
    done_cv_.notify_all();
  }

  net::awaitable<void> ScrapeOnce(int64_t ts, int64_t start_wall) {
    int64_t t0 = MonotonicNowNs();
    Status err;
    Result<FetchResult> r = Status(StatusCode::kInternal, "not scraped");
    if (!url_error_.ok()) {
      err = url_error_;
    } else {
      FetchOptions o;
      o.accept = p_.accept;
      o.compression = p_.compression;
      o.timeout_ms = p_.target.timeout_ms;
      o.body_size_limit = p_.body_size_limit;
      o.headers.emplace_back("X-Prometheus-Scrape-Timeout-Seconds",
                             FormatGoFloat(static_cast<double>(p_.target.timeout_ms) / 1000, 'f'));
      r = co_await client_.Get(url_, o);
      if (!r.ok()) {
        err = r.status();
        if (err.message() == kBodySizeLimitError && shared_.body_size_limit) {
          shared_.body_size_limit->Inc();
        }
      } else if (r->status != 200) {
        err = Status(StatusCode::kUnavailable,
                     fmt::format("server returned HTTP status {}", r->status_text));
      }
    }
    if (stopping_ && err.code() == StatusCode::kCancelled) co_return;  // no report for an abort
    auto app = shared_.storage->NewAppender();
    AppendResult res;
    if (err.ok()) {
      res = cache_->Append(*app, r->body, r->content_type, ts);
      err = res.error;
    }
    if (!err.ok()) {
      (void)app->Rollback();
      cache_->AppendFailure(*app, ts);
    }
    double duration = static_cast<double>(MonotonicNowNs() - t0) / 1e9;
    cache_->AppendReport(*app, ts, err.ok(), duration, res);
    Status cst = app->Commit();
    if (!cst.ok()) {
      shared_.options.logger.Warn("scrape commit failed",
                                  {{"target", p_.target.url}, {"err", cst.message()}});
      if (err.ok()) err = cst;
    }
    if (!err.ok()) {
      shared_.options.logger.Debug("scrape failed", {{"scrape_pool", p_.job},
                                                      {"target", p_.target.url},
                                                      {"err", err.message()}});
    }
    std::lock_guard l(state_mu_);
    state_.health = err.ok() ? TargetHealth::kUp : TargetHealth::kDown;
    state_.last_error = err.ok() ? "" : err.message();
    state_.last_scrape_ms = start_wall;
    state_.last_scrape_duration_s = duration;
  }

  Shared& shared_;
  Params p_;
  Strand strand_;
  net::steady_timer timer_;
  HttpClient client_;
  std::shared_ptr<ScrapeCache> cache_;
  std::shared_ptr<Loop> predecessor_;
  uint64_t id_;
  Url url_;
  Status url_error_;
  // Touched only on the strand.
  bool stopping_ = false;
  bool stale_on_stop_ = true;

  mutable std::mutex state_mu_;
  TargetState state_;  // guarded by state_mu_

  mutable std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;  // guarded by done_mu_
};

// Polls one http_sd config; hands the groups to the manager.
class HttpSdPoller : public std::enable_shared_from_this<HttpSdPoller> {
 public:
  using Sink = std::function<void(std::vector<TargetGroup>)>;
  HttpSdPoller(Shared& shared, HttpSdConfig cfg, std::shared_ptr<const ClientSettings> client,
               Sink sink)
      : shared_(shared), cfg_(std::move(cfg)), strand_(net::make_strand(shared.io)),
        timer_(strand_), client_(strand_, std::move(client)), sink_(std::move(sink)) {}

  void Start() {
    net::co_spawn(strand_, [self = shared_from_this()] { return self->Run(); }, net::detached);
  }
  void Stop() {
    net::post(strand_, [self = shared_from_this()] {
      self->stopping_ = true;
      self->timer_.cancel();
      self->client_.Cancel();
    });
  }

 private:
  net::awaitable<void> Run() {
    auto url = ParseUrl(cfg_.url);
    while (!stopping_) {
      if (url.ok()) {
        FetchOptions o;
        o.accept = "application/json";
        o.timeout_ms = std::max<int64_t>(cfg_.refresh_interval_ms, 1000);
        o.headers.emplace_back(
            "X-Prometheus-Refresh-Interval-Seconds",
            FormatGoFloat(static_cast<double>(cfg_.refresh_interval_ms) / 1000, 'f'));
        auto r = co_await client_.Get(*url, o);
        if (stopping_) break;
        Status st;
        if (!r.ok()) {
          st = r.status();
        } else if (r->status != 200) {
          st = Status(StatusCode::kUnavailable,
                      fmt::format("server returned HTTP status {}", r->status_text));
        } else {
          auto groups = ParseHttpSdResponse(r->content_type, r->body, cfg_.url);
          if (groups.ok()) {
            sink_(std::move(*groups));
          } else {
            st = groups.status();
          }
        }
        if (!st.ok()) {
          if (shared_.sd_http_failures) shared_.sd_http_failures->Inc();
          shared_.options.logger.Error("Unable to refresh target groups",
                                       {{"url", cfg_.url}, {"err", st.message()}});
        }
      }
      boost::system::error_code ec;
      timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(cfg_.refresh_interval_ms, 1)));
      co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    client_.Close();
  }

  Shared& shared_;
  HttpSdConfig cfg_;
  Strand strand_;
  net::steady_timer timer_;
  HttpClient client_;
  Sink sink_;
  bool stopping_ = false;
};

struct Pool {
  ScrapeConfig cfg;
  std::string fingerprint;
  std::string sd_fingerprint;
  ScrapeOptions scrape_options;
  std::shared_ptr<const ClientSettings> client;
  std::string accept;
  std::map<std::string, std::vector<TargetGroup>> groups;  // by provider
  std::unordered_map<uint64_t, std::shared_ptr<Loop>> loops;  // by target hash
  std::vector<Labels> dropped;
  std::vector<std::shared_ptr<HttpSdPoller>> sd;
};

struct ScrapeManager::Impl {
  Shared shared;
  std::vector<std::thread> threads;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Pool>> pools;  // guarded by mu_
  // Groups set before their job was configured (or after it was removed).
  std::map<std::string, std::map<std::string, std::vector<TargetGroup>>> pending_groups;
  std::vector<std::shared_ptr<Loop>> stopping;  // stopped loops not yet reaped
  bool stopped = false;

  metrics::Gauge* pools_gauge = nullptr;
  metrics::Counter* reloads = nullptr;
  metrics::Counter* reloads_failed = nullptr;
  metrics::Family<metrics::Gauge>* pool_targets = nullptr;

  void Reap() {
    std::erase_if(stopping, [](const std::shared_ptr<Loop>& l) { return l->Done(); });
  }

  // REQUIRES: mu_ held. Builds the pool's targets from its groups and reconciles loops.
  void Sync(Pool& pool, std::unordered_map<uint64_t, std::shared_ptr<Loop>> carry_over = {}) {
    std::map<uint64_t, Target> targets;
    pool.dropped.clear();
    for (const auto& [provider, groups] : pool.groups) {
      for (const auto& g : groups) {
        GroupTargets gt = TargetsFromGroup(pool.cfg, g);
        for (auto& t : gt.active) targets.emplace(t.hash, std::move(t));
        for (auto& d : gt.dropped) {
          if (pool.cfg.keep_dropped_targets == 0 ||
              pool.dropped.size() < pool.cfg.keep_dropped_targets) {
            pool.dropped.push_back(std::move(d));
          }
        }
        for (const auto& e : gt.errors) {
          shared.options.logger.Error("Creating target failed",
                                      {{"scrape_pool", pool.cfg.job_name}, {"err", e}});
        }
      }
    }
    // Stop loops whose target is gone.
    for (auto it = pool.loops.begin(); it != pool.loops.end();) {
      if (targets.count(it->first) == 0) {
        it->second->Stop(/*stale=*/true);
        stopping.push_back(it->second);
        it = pool.loops.erase(it);
      } else {
        ++it;
      }
    }
    // Start loops for new targets; a target that had a loop under the previous config of a
    // changed job takes over its cache when the series mapping is the same.
    for (auto& [hash, t] : targets) {
      if (pool.loops.count(hash)) continue;
      std::shared_ptr<ScrapeCache> cache;
      std::shared_ptr<Loop> predecessor;
      if (auto c = carry_over.find(t.identity); c != carry_over.end()) {
        predecessor = c->second;
        if (ScrapeOptions::SameSeriesMapping(predecessor->cache()->options(),
                                             pool.scrape_options)) {
          cache = predecessor->cache();
        }
        carry_over.erase(c);
      }
      if (!cache) {
        cache = std::make_shared<ScrapeCache>(t.TargetLabels(), pool.scrape_options,
                                              shared.counters);
      }
      Loop::Params p{pool.cfg.job_name, t, pool.client, pool.accept,
                     pool.cfg.enable_compression, pool.cfg.body_size_limit_bytes};
      auto loop = std::make_shared<Loop>(shared, std::move(p), std::move(cache), predecessor);
      loop->InitState();
      loop->Start();
      pool.loops.emplace(hash, std::move(loop));
    }
    if (pool_targets) pool_targets->With({pool.cfg.job_name}).Set(static_cast<double>(pool.loops.size()));
  }

  void StartSd(Pool& pool) {
    const auto& cfgs = pool.cfg.service_discovery.http_sd_configs;
    for (size_t i = 0; i < cfgs.size(); ++i) {
      auto client = ClientSettings::Make(cfgs[i].http_client, shared.options.user_agent);
      if (!client.ok()) {
        shared.options.logger.Error("Cannot create http_sd client",
                                    {{"url", cfgs[i].url}, {"err", client.status().message()}});
        continue;
      }
      std::string job = pool.cfg.job_name;
      std::string provider = fmt::format("http_sd/{}", i);
      auto poller = std::make_shared<HttpSdPoller>(
          shared, cfgs[i], *client, [this, job, provider](std::vector<TargetGroup> groups) {
            SetGroups(job, provider, std::move(groups));
          });
      poller->Start();
      pool.sd.push_back(std::move(poller));
    }
  }

  void SetGroups(const std::string& job, const std::string& provider,
                 std::vector<TargetGroup> groups) {
    std::lock_guard l(mu_);
    if (stopped) return;
    Reap();
    auto it = pools.find(job);
    if (it == pools.end()) {
      pending_groups[job][provider] = std::move(groups);
      return;
    }
    it->second->groups[provider] = std::move(groups);
    Sync(*it->second);
  }
};

ScrapeManager::ScrapeManager(storage::Appendable& storage, ScrapeManagerOptions options)
    : impl_(std::make_unique<Impl>()) {
  Shared& s = impl_->shared;
  s.storage = &storage;
  s.options = std::move(options);
  s.clock = s.options.clock ? s.options.clock : &s.real_clock;
  if (metrics::Registry* r = s.options.registry) {
    s.counters.sample_out_of_order = &r->NewCounter(
        "prometheus_target_scrapes_sample_out_of_order_total",
        "Total number of samples rejected due to not being out of the expected order.");
    s.counters.sample_duplicate_timestamp = &r->NewCounter(
        "prometheus_target_scrapes_sample_duplicate_timestamp_total",
        "Total number of samples rejected due to duplicate timestamps but different values.");
    s.counters.sample_out_of_bounds = &r->NewCounter(
        "prometheus_target_scrapes_sample_out_of_bounds_total",
        "Total number of samples rejected due to timestamp falling outside of the time bounds.");
    s.counters.exceeded_sample_limit = &r->NewCounter(
        "prometheus_target_scrapes_exceeded_sample_limit_total",
        "Total number of scrapes that hit the sample limit and were rejected.");
    s.counters.cache_flush_forced = &r->NewCounter(
        "prometheus_target_scrapes_cache_flush_forced_total",
        "How many times a scrape cache was flushed due to getting big while scrapes are failing.");
    s.body_size_limit = &r->NewCounter(
        "prometheus_target_scrapes_exceeded_body_size_limit_total",
        "Total number of scrapes that hit the body size limit");
    s.sd_http_failures = &r->NewCounter("prometheus_sd_http_failures_total",
                                        "Number of HTTP service discovery refresh failures.");
    impl_->pools_gauge = &r->NewGauge("prometheus_target_scrape_pools_total",
                                      "Total number of scrape pool creation attempts.");
    impl_->reloads = &r->NewCounter("prometheus_target_scrape_pool_reloads_total",
                                    "Total number of scrape pool reloads.");
    impl_->reloads_failed = &r->NewCounter("prometheus_target_scrape_pool_reloads_failed_total",
                                           "Total number of failed scrape pool reloads.");
    impl_->pool_targets = &r->NewGaugeFamily("prometheus_target_scrape_pool_targets",
                                             "Current number of targets in this scrape pool.",
                                             {"scrape_job"});
  }
  impl_->work.emplace(s.io.get_executor());
  int n = std::max(1, s.options.threads);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->shared.io.run(); });
}

ScrapeManager::~ScrapeManager() { Stop(); }

Status ScrapeManager::ApplyConfig(const Config& config) {
  Impl& m = *impl_;
  std::vector<std::string> errors;
  std::unique_lock lock(m.mu_);
  if (m.stopped) return Status(StatusCode::kUnavailable, "scrape manager is stopped");
  m.Reap();
  std::set<std::string> seen;
  for (const ScrapeConfig& cfg : config.scrape_configs) {
    seen.insert(cfg.job_name);
    std::string fp = Fingerprint(cfg);
    auto it = m.pools.find(cfg.job_name);
    if (it != m.pools.end() && it->second->fingerprint == fp) {
      Pool& pool = *it->second;
      // Same scraping; static targets may still differ.
      pool.cfg = cfg;
      bool sd_changed = pool.sd_fingerprint != SdFingerprint(cfg);
      if (sd_changed) {
        for (auto& p : pool.sd) p->Stop();
        pool.sd.clear();
        for (auto g = pool.groups.begin(); g != pool.groups.end();) {
          g = g->first.starts_with("http_sd/") ? pool.groups.erase(g) : std::next(g);
        }
        pool.sd_fingerprint = SdFingerprint(cfg);
        m.StartSd(pool);
      }
      pool.groups["static"] = cfg.service_discovery.static_configs;
      m.Sync(pool);
      continue;
    }
    auto client = ClientSettings::Make(cfg.http_client, m.shared.options.user_agent);
    if (!client.ok()) {
      errors.push_back(fmt::format("job {}: {}", QuoteGo(cfg.job_name), client.status().message()));
      if (m.reloads_failed) m.reloads_failed->Inc();
      continue;
    }
    auto pool = std::make_unique<Pool>();
    pool->cfg = cfg;
    pool->fingerprint = fp;
    pool->sd_fingerprint = SdFingerprint(cfg);
    pool->scrape_options = ScrapeOptions::FromConfig(cfg);
    pool->client = *client;
    pool->accept = AcceptHeader(cfg.scrape_protocols);
    std::unordered_map<uint64_t, std::shared_ptr<Loop>> carry_over;
    if (it != m.pools.end()) {
      // A changed job: its loops end without staleness markers for targets that stay; the
      // new loops take their caches over.
      Pool& old = *it->second;
      pool->groups = std::move(old.groups);
      for (auto& p : old.sd) p->Stop();
      if (pool->sd_fingerprint == old.sd_fingerprint) {
        // Keep the last http_sd answers until the new pollers refresh them.
      } else {
        for (auto g = pool->groups.begin(); g != pool->groups.end();) {
          g = g->first.starts_with("http_sd/") ? pool->groups.erase(g) : std::next(g);
        }
      }
      carry_over = std::move(old.loops);
      if (m.reloads) m.reloads->Inc();
    } else {
      if (auto pg = m.pending_groups.find(cfg.job_name); pg != m.pending_groups.end()) {
        pool->groups = std::move(pg->second);
        m.pending_groups.erase(pg);
      }
      if (m.pools_gauge) m.pools_gauge->Inc();
    }
    pool->groups["static"] = cfg.service_discovery.static_configs;
    // Which old targets survive decides their staleness markers.
    std::set<uint64_t> new_ids;
    for (const auto& [provider, groups] : pool->groups) {
      for (const auto& g : groups) {
        for (const auto& t : TargetsFromGroup(pool->cfg, g).active) new_ids.insert(t.identity);
      }
    }
    std::unordered_map<uint64_t, std::shared_ptr<Loop>> successors_of;  // by identity
    for (auto& [hash, loop] : carry_over) {
      bool stays = new_ids.count(loop->target().identity) > 0;
      loop->Stop(/*stale=*/!stays);
      m.stopping.push_back(loop);
      if (stays) successors_of.emplace(loop->target().identity, loop);
    }
    carry_over = std::move(successors_of);
    Pool& p = *pool;
    m.pools[cfg.job_name] = std::move(pool);
    m.StartSd(p);
    m.Sync(p, std::move(carry_over));
  }
  // Jobs that are gone.
  for (auto it = m.pools.begin(); it != m.pools.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    for (auto& p : it->second->sd) p->Stop();
    for (auto& [h, l] : it->second->loops) {
      l->Stop(/*stale=*/true);
      m.stopping.push_back(l);
    }
    if (m.pool_targets) m.pool_targets->Remove({it->first});
    it = m.pools.erase(it);
  }
  if (!errors.empty()) {
    std::string msg = "error creating HTTP clients: ";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i];
    return Status(StatusCode::kInvalidArgument, msg);
  }
  return Status::Ok();
}

void ScrapeManager::SetTargetGroups(const std::string& job, const std::string& provider,
                                    std::vector<TargetGroup> groups) {
  impl_->SetGroups(job, provider, std::move(groups));
}

void ScrapeManager::Stop() {
  Impl& m = *impl_;
  std::vector<std::shared_ptr<Loop>> all;
  {
    std::lock_guard l(m.mu_);
    if (m.stopped) return;
    m.stopped = true;
    for (auto& [job, pool] : m.pools) {
      for (auto& p : pool->sd) p->Stop();
      for (auto& [h, loop] : pool->loops) {
        loop->Stop(/*stale=*/true);
        all.push_back(loop);
      }
    }
    for (auto& s : m.stopping) all.push_back(s);
    m.stopping.clear();
  }
  for (auto& loop : all) loop->Wait();
  m.work.reset();
  m.shared.io.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  std::lock_guard l(m.mu_);
  m.pools.clear();
}

std::vector<TargetState> ScrapeManager::ActiveTargets() const {
  std::vector<TargetState> out;
  {
    std::lock_guard l(impl_->mu_);
    for (const auto& [job, pool] : impl_->pools) {
      for (const auto& [h, loop] : pool->loops) out.push_back(loop->State());
    }
  }
  std::sort(out.begin(), out.end(), [](const TargetState& a, const TargetState& b) {
    return std::tie(a.scrape_pool, a.scrape_url) < std::tie(b.scrape_pool, b.scrape_url);
  });
  return out;
}

std::vector<DroppedTarget> ScrapeManager::DroppedTargets() const {
  std::vector<DroppedTarget> out;
  std::lock_guard l(impl_->mu_);
  for (const auto& [job, pool] : impl_->pools) {
    for (const auto& d : pool->dropped) out.push_back(DroppedTarget{job, d});
  }
  return out;
}

std::vector<TargetMetadata> ScrapeManager::TargetsMetadata() const {
  std::vector<std::shared_ptr<ScrapeCache>> caches;
  {
    std::lock_guard l(impl_->mu_);
    for (const auto& [job, pool] : impl_->pools) {
      for (const auto& [h, loop] : pool->loops) caches.push_back(loop->cache());
    }
  }
  std::vector<TargetMetadata> out;
  for (const auto& c : caches) {
    auto m = c->Metadata();
    out.insert(out.end(), std::make_move_iterator(m.begin()), std::make_move_iterator(m.end()));
  }
  return out;
}

std::vector<std::string> ScrapeManager::ScrapePools() const {
  std::vector<std::string> out;
  std::lock_guard l(impl_->mu_);
  for (const auto& [job, pool] : impl_->pools) out.push_back(job);
  return out;
}

}  // namespace hearth::scraper
