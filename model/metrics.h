#pragma once

// Hearth's self-metrics: counters, gauges and histograms, with or without labels, rendered in
// the Prometheus text exposition format (0.0.4) for /metrics.
//
// Thread-safety: registration and Family::With take a mutex; Inc/Add/Set/Observe are lock-free
// atomics and safe from any thread. Returned references stay valid for the registry's lifetime,
// so hot paths look a child up once and keep the reference.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"

namespace hearth::metrics {

class Counter {
 public:
  // REQUIRES: v >= 0.
  void Inc(double v = 1);
  double Value() const;

 private:
  std::atomic<uint64_t> bits_{0};
};

class Gauge {
 public:
  void Set(double v);
  void Add(double v);
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const;

 private:
  std::atomic<uint64_t> bits_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == size() is the +Inf bucket).
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t Count() const;
  double Sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<uint64_t> sum_bits_{0};
};

// Prometheus' default buckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();
// start, start*factor, ... (count buckets).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  virtual void Render(std::string* out) const = 0;
  const std::string& name() const { return name_; }

 protected:
  FamilyBase(std::string name, std::string help, std::string type,
             std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)),
        label_names_(std::move(label_names)) {}
  void RenderHeader(std::string* out) const;
  // `{a="x",b="y"` with no closing brace, or "" when there are no labels.
  std::string LabelPrefix(const std::vector<std::string>& values) const;

  std::string name_, help_, type_;
  std::vector<std::string> label_names_;
};

// A metric family with variable labels. With(values...) returns the child for those label
// values (in the order of the family's label names), creating it on first use.
template <typename M>
class Family final : public FamilyBase {
 public:
  template <typename... Args>
  Family(std::string name, std::string help, std::string type, std::vector<std::string> labels,
         Args... child_args)
      : FamilyBase(std::move(name), std::move(help), std::move(type), std::move(labels)),
        factory_([=] { return std::make_unique<M>(child_args...); }) {}

  M& With(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = factory_();
    return *slot;
  }
  void Remove(const std::vector<std::string>& values) {
    std::lock_guard lock(mu_);
    children_.erase(values);
  }
  void Render(std::string* out) const override;

 private:
  mutable std::mutex mu_;
  std::function<std::unique_ptr<M>()> factory_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& NewCounter(std::string name, std::string help);
  Gauge& NewGauge(std::string name, std::string help);
  Histogram& NewHistogram(std::string name, std::string help, std::vector<double> buckets);
  Family<Counter>& NewCounterFamily(std::string name, std::string help,
                                    std::vector<std::string> labels);
  Family<Gauge>& NewGaugeFamily(std::string name, std::string help,
                                std::vector<std::string> labels);
  Family<Histogram>& NewHistogramFamily(std::string name, std::string help,
                                        std::vector<std::string> labels,
                                        std::vector<double> buckets);
  // A value computed when /metrics is rendered (memory in use, queue lengths, ...).
  void NewGaugeFunc(std::string name, std::string help, std::function<double()> f);
  void NewCounterFunc(std::string name, std::string help, std::function<double()> f);
  // A gauge with constant labels and value 1 (build info).
  void NewInfo(std::string name, std::string help, Labels labels);

  // The whole registry in the text format, families sorted by name.
  std::string Render() const;

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> f);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// Registers the process_* metrics as the Prometheus client libraries name them:
// process_cpu_seconds_total, process_open_fds, process_max_fds, process_virtual_memory_bytes,
// process_virtual_memory_max_bytes, process_resident_memory_bytes, process_start_time_seconds.
void RegisterProcessMetrics(Registry& registry);

// Current resident set size of this process in bytes (from /proc/self/statm), 0 if unknown.
uint64_t ProcessResidentBytes();

// Escaping for the text format.
std::string EscapeHelp(std::string_view s);        // \ and newline
std::string EscapeLabelValue(std::string_view s);  // \, " and newline

}  // namespace hearth::metrics
