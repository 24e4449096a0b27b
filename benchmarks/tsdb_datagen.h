#pragma once

// Generated data shaped like real scrapes, for the tsdb benchmarks: targets exposing the kind of
// series an application plus node exporter expose. Per 100 series, about:
//   36 histogram series (3 histograms of 10 buckets + _sum + _count; request rates from 0.1/s
//      to 50/s, log-normal latencies; _sum is a full-precision float counter),
//   24 integer counters (rates log-uniform from 0.005/s to 200/s, so many are mostly idle;
//      a reset every ~6 h on average),
//    5 float counters with two decimals (process_cpu_seconds_total),
//   10 constant gauges (up, build info, limits),
//   12 integer gauges drifting in 4 KiB steps (memory bytes),
//    8 decimal gauges (load, temperature: two decimals, random walk),
//    5 full-precision float gauges (ratios computed by the application).
// Timestamps are one per scrape (all series of a scrape share it), 15 s apart, either aligned
// or with uniform millisecond jitter.

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/labels.h"

namespace hearth::bench {

enum class Kind { kBucket, kHistSum, kHistCount, kCounter, kFloatCounter, kConst, kMemGauge,
                  kDecimalGauge, kFloatGauge };

struct GenSeries {
  Labels labels;
  Kind kind;
  double rate = 0;  // events per second (counters, histograms)
  double le = 0;    // bucket bound
  double value = 0;
  double aux = 0;   // latency scale of a histogram, drift of a gauge
};

class ScrapeGen {
 public:
  // `num_series` is rounded up to whole targets of 100 series.
  ScrapeGen(size_t num_series, uint64_t seed, int64_t interval_ms = 15000, int jitter_ms = 0,
            int64_t start_ms = 1700000000000)
      : rng_(seed), interval_(interval_ms), jitter_(jitter_ms), t_(start_ms) {
    for (size_t target = 0; series_.size() < num_series; ++target) AddTarget(target);
  }

  const std::vector<GenSeries>& series() const { return series_; }
  size_t size() const { return series_.size(); }

  // Advances one scrape: fills values (one per series) and returns the scrape timestamp.
  int64_t Next(std::vector<double>* values) {
    values->resize(series_.size());
    const int64_t t =
        t_ + (jitter_ > 0 ? static_cast<int64_t>(rng_() % (2 * jitter_ + 1)) - jitter_ : 0);
    t_ += interval_;
    const double secs = static_cast<double>(interval_) / 1000;
    // Histograms: observations of this scrape, shared by the buckets of one histogram.
    for (size_t i = 0; i < series_.size(); ++i) {
      GenSeries& s = series_[i];
      switch (s.kind) {
        case Kind::kBucket:
        case Kind::kHistSum:
        case Kind::kHistCount:
          if (s.kind == Kind::kBucket && (i == 0 || series_[i - 1].kind != Kind::kBucket)) {
            Observe(i, secs);
          }
          break;
        case Kind::kCounter:
          if (Uniform() < secs / (6 * 3600)) s.value = 0;  // process restart
          s.value += Poisson(s.rate * secs);
          break;
        case Kind::kFloatCounter:
          s.value = std::round((s.value + s.rate * secs * (0.5 + Uniform())) * 100) / 100;
          break;
        case Kind::kConst:
          break;
        case Kind::kMemGauge:
          s.value += 4096.0 * std::round(Normal() * s.aux);
          if (s.value < 4096) s.value = 4096;
          break;
        case Kind::kDecimalGauge:
          s.value = std::round((s.value + Normal() * s.aux) * 100) / 100;
          break;
        case Kind::kFloatGauge:
          s.value = Uniform() * s.aux;
          break;
      }
      (*values)[i] = s.value;
    }
    return t;
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  double Normal() { return std::normal_distribution<double>(0, 1)(rng_); }
  double Poisson(double mean) {
    if (mean <= 0) return 0;
    return static_cast<double>(std::poisson_distribution<int64_t>(mean)(rng_));
  }
  double LogUniform(double lo, double hi) {
    return std::exp(std::log(lo) + Uniform() * (std::log(hi) - std::log(lo)));
  }

  // Draws this scrape's observations for the histogram whose first bucket is series_[first].
  void Observe(size_t first, double secs) {
    size_t end = first;
    while (end < series_.size() && series_[end].kind == Kind::kBucket) ++end;
    // end: _sum, end+1: _count
    GenSeries& sum = series_[end];
    GenSeries& count = series_[end + 1];
    const double rate = series_[first].rate, scale = series_[first].aux;
    auto n = static_cast<int64_t>(Poisson(rate * secs));
    for (int64_t k = 0; k < n; ++k) {
      double latency = scale * std::exp(Normal() * 0.8);
      sum.value += latency;
      for (size_t b = first; b < end; ++b) {
        if (latency <= series_[b].le) series_[b].value += 1;
      }
    }
    count.value += static_cast<double>(n);
  }

  void Add(Labels l, Kind k, double rate = 0, double value = 0, double aux = 0, double le = 0) {
    series_.push_back(GenSeries{std::move(l), k, rate, le, value, aux});
  }

  void AddTarget(size_t target) {
    const std::string instance = "10.1." + std::to_string(target / 250) + "." +
                                 std::to_string(target % 250) + ":8000";
    auto labels = [&](std::string_view name,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> extra) {
      LabelsBuilder b;
      b.Set("__name__", name).Set("job", "api").Set("instance", instance);
      for (const auto& [n, v] : extra) b.Set(n, v);
      return b.Build();
    };
    static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
    static const char* kPaths[] = {"/api/v1/items", "/api/v1/users", "/healthz"};
    for (const char* path : kPaths) {
      const double rate = LogUniform(0.1, 50), scale = LogUniform(0.005, 0.3);
      for (const char* le : kLe) {
        Add(labels("http_request_duration_seconds_bucket",
                   {{"method", "GET"}, {"path", path}, {"le", le}}),
            Kind::kBucket, rate, 0, scale, std::string_view(le) == "+Inf" ? 1e300 : std::stod(le));
      }
      Add(labels("http_request_duration_seconds_sum", {{"method", "GET"}, {"path", path}}),
          Kind::kHistSum);
      Add(labels("http_request_duration_seconds_count", {{"method", "GET"}, {"path", path}}),
          Kind::kHistCount);
    }
    static const char* kCodes[] = {"200", "201", "204", "301", "400", "401",
                                   "403", "404", "409", "429", "500", "503"};
    for (const char* method : {"GET", "POST"}) {
      for (const char* code : kCodes) {
        Add(labels("http_requests_total", {{"method", method}, {"code", code}}), Kind::kCounter,
            LogUniform(0.005, 200), std::floor(LogUniform(1, 1e7)));
      }
    }
    for (const char* mode : {"user", "system", "iowait", "irq", "softirq"}) {
      Add(labels("node_cpu_seconds_total", {{"cpu", "0"}, {"mode", mode}}), Kind::kFloatCounter,
          LogUniform(0.001, 0.9), std::round(LogUniform(10, 1e6) * 100) / 100);
    }
    for (int i = 0; i < 10; ++i) {
      Add(labels(i == 0 ? "up" : "app_config_limit", {{"setting", std::to_string(i)}}),
          Kind::kConst, 0, i == 0 ? 1 : std::floor(LogUniform(1, 1e6)));
    }
    for (int i = 0; i < 12; ++i) {
      Add(labels("process_memory_bytes", {{"area", "area" + std::to_string(i)}}),
          Kind::kMemGauge, 0, 4096 * std::floor(LogUniform(1e3, 1e6)), LogUniform(0.1, 100));
    }
    for (int i = 0; i < 8; ++i) {
      Add(labels("node_hwmon_temp_celsius", {{"sensor", "temp" + std::to_string(i)}}),
          Kind::kDecimalGauge, 0, std::round(LogUniform(1, 80) * 100) / 100, LogUniform(0.01, 1));
    }
    for (int i = 0; i < 5; ++i) {
      Add(labels("app_cache_hit_ratio", {{"cache", "c" + std::to_string(i)}}), Kind::kFloatGauge,
          0, 0, 1);
    }
  }

  std::mt19937_64 rng_;
  int64_t interval_;
  int jitter_;
  int64_t t_;
  std::vector<GenSeries> series_;
};

}  // namespace hearth::bench
