// PromQL engine: range queries over 10k series with 15 s samples.
//
//   sum by (job) (rate(x_total[5m]))                        1h/15s, 6h/30s, 24h/60s
//   histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))  same ranges, 10k bucket series
//
// The data comes from a synthetic Queryable that computes each sample when the engine reads it
// (counters with a per-series slope), so that 24 h of 10k series (58 M samples) costs no memory
// and no load time: the figures are the engine's own cost (selection, windows, rate,
// aggregation), not storage decoding. BM_*Stored repeats the 1 h case over samples held in
// memory to show the difference. Counters: samples/s is samples read from storage per second
// of wall time on one core (the engine evaluates on the calling thread).
//
//   ./build/benchmarks/bench_promql --benchmark_counters_tabular=true

#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/matcher.h"
#include "query/engine.h"
#include "tsdb/storage/storage.h"

namespace {

using namespace hearth;

constexpr int64_t kStep = 15'000;
constexpr int64_t kHour = 3'600'000;

// A series whose sample i (at i * kStep) is i * slope: a counter without resets.
struct SyntheticSeries final : storage::Series {
  Labels l;
  double slope = 1;
  int64_t mint = 0, maxt = 0;
  const Labels& labels() const override { return l; }
  std::unique_ptr<storage::SampleIterator> Iterator() const override;
};

class SyntheticIterator final : public storage::SampleIterator {
 public:
  SyntheticIterator(double slope, int64_t first, int64_t last)
      : slope_(slope), i_(first - 1), last_(last) {}
  bool Next() override { return ++i_ <= last_; }
  bool Seek(int64_t t) override {
    int64_t want = (t + kStep - 1) / kStep;
    if (i_ < want) i_ = want;
    if (i_ < 0) i_ = 0;
    return i_ <= last_;
  }
  Sample At() const override { return {i_ * kStep, static_cast<double>(i_) * slope_}; }
  size_t NextBatch(std::span<Sample> out) override {
    size_t n = 0;
    while (n < out.size() && i_ < last_) {
      ++i_;
      out[n++] = {i_ * kStep, static_cast<double>(i_) * slope_};
    }
    return n;
  }

 private:
  double slope_;
  int64_t i_, last_;
};

std::unique_ptr<storage::SampleIterator> SyntheticSeries::Iterator() const {
  int64_t first = (mint + kStep - 1) / kStep;
  if (first < 0) first = 0;
  int64_t last = maxt / kStep;
  return std::make_unique<SyntheticIterator>(slope, first, last);
}

// Holds samples in memory instead (for the comparison).
struct StoredSeries final : storage::Series {
  Labels l;
  const std::vector<Sample>* samples = nullptr;
  int64_t mint = 0, maxt = 0;
  const Labels& labels() const override { return l; }
  std::unique_ptr<storage::SampleIterator> Iterator() const override;
};

class StoredIterator final : public storage::SampleIterator {
 public:
  StoredIterator(const std::vector<Sample>& s, int64_t mint, int64_t maxt) : s_(s), maxt_(maxt) {
    pos_ = std::lower_bound(s.begin(), s.end(), mint,
                            [](const Sample& a, int64_t t) { return a.t < t; }) -
           s.begin() - 1;
  }
  bool Next() override {
    return ++pos_ < static_cast<ptrdiff_t>(s_.size()) && s_[pos_].t <= maxt_;
  }
  bool Seek(int64_t t) override {
    if (pos_ < 0) pos_ = 0;
    while (pos_ < static_cast<ptrdiff_t>(s_.size()) && s_[pos_].t < t) ++pos_;
    return pos_ < static_cast<ptrdiff_t>(s_.size()) && s_[pos_].t <= maxt_;
  }
  Sample At() const override { return s_[pos_]; }
  size_t NextBatch(std::span<Sample> out) override {
    size_t n = 0;
    while (n < out.size() && pos_ + 1 < static_cast<ptrdiff_t>(s_.size()) &&
           s_[pos_ + 1].t <= maxt_) {
      out[n++] = s_[++pos_];
    }
    return n;
  }

 private:
  const std::vector<Sample>& s_;
  int64_t maxt_;
  ptrdiff_t pos_;
};

std::unique_ptr<storage::SampleIterator> StoredSeries::Iterator() const {
  return std::make_unique<StoredIterator>(*samples, mint, maxt);
}

template <typename S>
class ListSet final : public storage::SeriesSet {
 public:
  explicit ListSet(std::vector<S> s) : s_(std::move(s)) {}
  bool Next() override { return ++pos_ < s_.size(); }
  const storage::Series& At() const override { return s_[pos_]; }

 private:
  std::vector<S> s_;
  size_t pos_ = static_cast<size_t>(-1);
};

struct SeriesDef {
  Labels labels;
  double slope;
  std::vector<Sample> samples;  // only for the stored variant
};

class BenchQueryable final : public storage::Queryable, public storage::Querier {
 public:
  explicit BenchQueryable(std::vector<SeriesDef> defs, bool stored)
      : defs_(std::move(defs)), stored_(stored) {}

  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override {
    struct Borrowed final : storage::Querier {
      BenchQueryable* q;
      int64_t mint, maxt;
      std::unique_ptr<storage::SeriesSet> Select(bool s, const storage::SelectHints& h,
                                                 std::span<const Matcher> m) override {
        storage::SelectHints h2 = h;
        h2.start = std::max(h.start, mint);
        h2.end = std::min(h.end, maxt);
        return q->Select(s, h2, m);
      }
      Result<std::vector<std::string>> LabelNames(const storage::LabelHints&,
                                                  std::span<const Matcher>) override {
        return std::vector<std::string>{};
      }
      Result<std::vector<std::string>> LabelValues(std::string_view, const storage::LabelHints&,
                                                   std::span<const Matcher>) override {
        return std::vector<std::string>{};
      }
    };
    auto b = std::make_unique<Borrowed>();
    b->q = this;
    b->mint = mint;
    b->maxt = maxt;
    return std::unique_ptr<storage::Querier>(std::move(b));
  }

  std::unique_ptr<storage::SeriesSet> Select(bool, const storage::SelectHints& h,
                                             std::span<const Matcher> m) override {
    if (stored_) {
      std::vector<StoredSeries> out;
      for (const auto& d : defs_) {
        if (!MatchesAll(m, d.labels)) continue;
        StoredSeries s;
        s.l = d.labels;
        s.samples = &d.samples;
        s.mint = h.start;
        s.maxt = h.end;
        out.push_back(std::move(s));
      }
      return std::make_unique<ListSet<StoredSeries>>(std::move(out));
    }
    std::vector<SyntheticSeries> out;
    for (const auto& d : defs_) {
      if (!MatchesAll(m, d.labels)) continue;
      SyntheticSeries s;
      s.l = d.labels;
      s.slope = d.slope;
      s.mint = h.start;
      s.maxt = h.end;
      out.push_back(std::move(s));
    }
    return std::make_unique<ListSet<SyntheticSeries>>(std::move(out));
  }
  Result<std::vector<std::string>> LabelNames(const storage::LabelHints&,
                                              std::span<const Matcher>) override {
    return std::vector<std::string>{};
  }
  Result<std::vector<std::string>> LabelValues(std::string_view, const storage::LabelHints&,
                                               std::span<const Matcher>) override {
    return std::vector<std::string>{};
  }

 private:
  std::vector<SeriesDef> defs_;
  bool stored_;
};

// 10k counters: 10 jobs x 1000 instances.
std::vector<SeriesDef> CounterSeries(int64_t store_until) {
  std::vector<SeriesDef> d;
  for (int i = 0; i < 10000; ++i) {
    SeriesDef s;
    s.labels = Labels{{"__name__", "x_total"},
                      {"job", "job-" + std::to_string(i % 10)},
                      {"instance", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)}};
    s.slope = 1 + (i % 13);
    for (int64_t t = 0; t <= store_until; t += kStep) {
      s.samples.push_back({t, static_cast<double>(t / kStep) * s.slope});
    }
    d.push_back(std::move(s));
  }
  return d;
}

// 10k bucket series: 1000 histograms (job x instance) with 10 buckets each.
std::vector<SeriesDef> BucketSeries() {
  static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                              "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
  std::vector<SeriesDef> d;
  for (int h = 0; h < 1000; ++h) {
    for (int b = 0; b < 10; ++b) {
      SeriesDef s;
      s.labels = Labels{{"__name__", "x_bucket"},
                        {"job", "job-" + std::to_string(h % 10)},
                        {"instance", "10.0." + std::to_string(h / 250) + "." + std::to_string(h % 250)},
                        {"le", kLe[b]}};
      s.slope = (1 + (h % 7)) * (b + 1) * 0.5;  // cumulative: grows with le
      d.push_back(std::move(s));
    }
  }
  return d;
}

void RunRange(benchmark::State& state, storage::Queryable& q, const char* query, int64_t hours,
              int64_t step) {
  promql::Engine engine({});
  const int64_t start = 10 * 60 * 1000;  // data from 0 covers the first 5m window
  const int64_t end = start + hours * kHour;
  int64_t samples = 0, points = 0;
  for (auto _ : state) {
    auto r = engine.Range(q, query, start, end, step);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    samples += r->stats.samples_read;
    for (const auto& s : std::get<promql::Matrix>(r->value)) points += s.samples.size();
    benchmark::DoNotOptimize(r->value);
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["samples"] = static_cast<double>(samples) / state.iterations();
  state.counters["out_points"] = static_cast<double>(points) / state.iterations();
}

BenchQueryable& Counters() {
  static BenchQueryable q(CounterSeries(-1), false);
  return q;
}
BenchQueryable& Buckets() {
  static BenchQueryable q(BucketSeries(), false);
  return q;
}

void BM_SumRate(benchmark::State& state) {
  RunRange(state, Counters(), "sum by (job) (rate(x_total[5m]))", state.range(0),
           state.range(1) * 1000);
}
BENCHMARK(BM_SumRate)
    ->Args({1, 15})
    ->Args({6, 30})
    ->Args({24, 60})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_HistogramQuantile(benchmark::State& state) {
  RunRange(state, Buckets(), "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
           state.range(0), state.range(1) * 1000);
}
BENCHMARK(BM_HistogramQuantile)
    ->Args({1, 15})
    ->Args({6, 30})
    ->Args({24, 60})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_SumRateStored(benchmark::State& state) {
  static BenchQueryable q(CounterSeries(75 * 60 * 1000), true);
  RunRange(state, q, "sum by (job) (rate(x_total[5m]))", 1, 15'000);
}
BENCHMARK(BM_SumRateStored)->Unit(benchmark::kMillisecond)->Iterations(3);

// The unaggregated rate (the whole 10k-series matrix is the result).
void BM_Rate(benchmark::State& state) {
  RunRange(state, Counters(), "rate(x_total[5m])", 1, 15'000);
}
BENCHMARK(BM_Rate)->Unit(benchmark::kMillisecond)->Iterations(3);

// An instant query of the same aggregation.
void BM_SumRateInstant(benchmark::State& state) {
  promql::Engine engine({});
  int64_t samples = 0;
  for (auto _ : state) {
    auto r = engine.Instant(Counters(), "sum by (job) (rate(x_total[5m]))", 6 * kHour);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    samples += r->stats.samples_read;
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SumRateInstant)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
