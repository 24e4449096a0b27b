// Engine behaviour on hand-built ASTs over a MemStore. The Prometheus test scripts (see
// tests/query/promqltest/) cover the language end to end; these pin down engine mechanics:
// lookback and staleness, series-at-a-time range evaluation, limits, concurrency, stats.

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <thread>

#include <catch2/catch.hpp>

#include "query/engine.h"
#include "tests/query/ast_builders.h"
#include "tsdb/storage/memstore.h"

namespace hearth::promql {
namespace {

using namespace testing;
constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;

class Fixture {
 public:
  explicit Fixture(EngineOptions opts = {}) : engine(std::move(opts)) {}

  // Appends vals[i] at t = i * step; Gap() leaves a hole.
  void Load(const Labels& l, int64_t step, const std::vector<double>& vals) {
    auto app = store.NewAppender();
    for (size_t i = 0; i < vals.size(); ++i) {
      if (std::bit_cast<uint64_t>(vals[i]) == kGapBits) continue;
      REQUIRE(app->Append(0, l, static_cast<int64_t>(i) * step, vals[i]).ok());
    }
    REQUIRE(app->Commit().ok());
  }

  Vector Instant(const Expr& e, int64_t t, const QueryOptions& o = {}) {
    auto r = engine.InstantExpr(store, e, t, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    last = *r;
    REQUIRE(std::holds_alternative<Vector>(r->value));
    return std::get<Vector>(r->value);
  }

  Matrix Range(const Expr& e, int64_t start, int64_t end, int64_t step,
               const QueryOptions& o = {}) {
    auto r = engine.RangeExpr(store, e, start, end, step, o);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    last = *r;
    return std::get<Matrix>(r->value);
  }

  storage::MemStore store;
  Engine engine;
  QueryResult last;
  static constexpr uint64_t kGapBits = 0x7ff8000000000123ULL;
};

double Gap() { return std::bit_cast<double>(Fixture::kGapBits); }

const VectorSample* Find(const Vector& v, const Labels& l) {
  for (const auto& s : v) {
    if (s.labels == l) return &s;
  }
  return nullptr;
}

TEST_CASE("instant selector: lookback is left-open and a stale marker ends the series",
          "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "metric"}}, 10 * kSec, {0, 1, StaleNaN(), 2});
  auto sel = Sel("metric");
  CHECK(f.Instant(*sel, 10 * kSec).at(0).v == 1);
  CHECK(f.Instant(*sel, 20 * kSec).empty());
  CHECK(f.Instant(*sel, 30 * kSec).at(0).v == 2);
  CHECK(f.Instant(*sel, 329 * kSec).at(0).v == 2);
  CHECK(f.Instant(*sel, 330 * kSec).empty());  // exactly 5m after the last sample: outside
  // The returned sample carries the evaluation time.
  CHECK(f.Instant(*sel, 45 * kSec).at(0).t == 45 * kSec);
}

TEST_CASE("per-query lookback delta overrides the engine's", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "m"}}, kMin, {1});
  auto sel = Sel("m");
  QueryOptions o;
  o.lookback_delta_ms = 30 * kSec;
  CHECK(f.Instant(*sel, 29 * kSec, o).size() == 1);
  CHECK(f.Instant(*sel, 30 * kSec, o).empty());
  CHECK(f.Instant(*sel, 4 * kMin).size() == 1);
}

TEST_CASE("range query of a selector: one point per step from one pass", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "metric"}}, 30 * kSec, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto m = f.Range(*Sel("metric"), 0, 2 * kMin, kMin);
  REQUIRE(m.size() == 1);
  CHECK(m[0].labels == Labels{{"__name__", "metric"}});
  REQUIRE(m[0].samples.size() == 3);
  CHECK(m[0].samples[0].v == 1);
  CHECK(m[0].samples[1].v == 3);
  CHECK(m[0].samples[2].v == 5);
  CHECK(m[0].samples[2].t == 2 * kMin);
}

TEST_CASE("offset and @ move the selector's reference time", "[query][engine]") {
  Fixture f;
  std::vector<double> vals;
  for (int i = 0; i <= 100; ++i) vals.push_back(i);
  f.Load({{"__name__", "metric"}}, 10 * kSec, vals);
  CHECK(f.Instant(*At(Sel("metric"), 100 * kSec), 10 * kSec).at(0).v == 10);
  CHECK(f.Instant(*Offset(At(Sel("metric"), 100 * kSec), 50 * kSec), 10 * kSec).at(0).v == 5);
  CHECK(f.Instant(*Offset(At(Sel("metric"), 0), -50 * kSec), 10 * kSec).at(0).v == 5);
  // In a range query an @ selector repeats the same value at every step.
  auto m = f.Range(*At(Sel("metric"), 11 * kSec), 0, 60 * kSec, 10 * kSec);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].samples.size() == 7);
  for (const auto& s : m[0].samples) CHECK(s.v == 1);
}

TEST_CASE("rate and increase extrapolate as Prometheus does", "[query][engine]") {
  Fixture f;
  std::vector<double> foo, dings, bumms;
  for (int i = 0; i <= 10; ++i) {
    foo.push_back(10.0 * i);
    dings.push_back(10 + 10.0 * i);
    bumms.push_back(1 + 10.0 * i);
  }
  f.Load({{"__name__", "x_total"}, {"path", "/foo"}}, 5 * kMin, foo);
  f.Load({{"__name__", "x_total"}, {"path", "/dings"}}, 5 * kMin, dings);
  f.Load({{"__name__", "x_total"}, {"path", "/bumms"}}, 5 * kMin, bumms);
  auto v = f.Instant(*CallF("increase", Mat(Sel("x_total"), 100 * kMin)), 50 * kMin);
  REQUIRE(v.size() == 3);
  CHECK(Find(v, {{"path", "/foo"}})->v == Approx(100));
  CHECK(Find(v, {{"path", "/dings"}})->v == Approx(105));
  CHECK(Find(v, {{"path", "/bumms"}})->v == Approx(101));
  auto r = f.Instant(*CallF("rate", Mat(Sel("x_total", {Eq("path", "/foo")}), 50 * kMin)),
                     50 * kMin);
  REQUIRE(r.size() == 1);
  CHECK(r[0].v == Approx(100.0 / 3000));
  CHECK(f.last.annotations.infos.empty());
}

TEST_CASE("rate over a range query equals the instant rate at every step", "[query][engine]") {
  Fixture f;
  std::vector<double> vals;
  double v = 0;
  for (int i = 0; i < 200; ++i) {
    v = (i % 37 == 36) ? 3 : v + (i % 5) + 1;  // counter with resets
    vals.push_back(v);
  }
  f.Load({{"__name__", "c_total"}, {"job", "a"}}, 15 * kSec, vals);
  auto expr = CallF("rate", Mat(Sel("c_total"), 5 * kMin));
  auto m = f.Range(*expr, 0, 50 * kMin, 30 * kSec);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].samples.size() > 90);
  for (const auto& s : m[0].samples) {
    auto inst = f.Instant(*expr, s.t);
    REQUIRE(inst.size() == 1);
    CHECK(inst[0].v == Approx(s.v).epsilon(1e-12));
  }
}

TEST_CASE("rate on a name without a counter suffix adds an info", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "x"}}, kMin, {1, 2, 3});
  auto v = f.Instant(*CallF("rate", Mat(Sel("x"), 5 * kMin)), 2 * kMin);
  REQUIRE(v.size() == 1);
  REQUIRE(f.last.annotations.infos.size() == 1);
  CHECK(f.last.annotations.infos[0] ==
        "PromQL info: metric might not be a counter, name does not end in "
        "_total/_sum/_count/_bucket: \"x\"");
}

TEST_CASE("sum/avg/count by group over a range query", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "r"}, {"job", "a"}, {"i", "1"}}, kMin, {1, 2, 3});
  f.Load({{"__name__", "r"}, {"job", "a"}, {"i", "2"}}, kMin, {10, 20, 30});
  f.Load({{"__name__", "r"}, {"job", "b"}, {"i", "1"}}, kMin, {100, Gap(), 300});
  auto m = f.Range(*Agg(AggregateOp::kSum, Sel("r"), {"job"}), 0, 2 * kMin, kMin);
  REQUIRE(m.size() == 2);
  CHECK(m[0].labels == Labels{{"job", "a"}});
  CHECK(m[0].samples[2].v == 33);
  CHECK(m[1].labels == Labels{{"job", "b"}});
  auto avg = f.Range(*Agg(AggregateOp::kAvg, Sel("r")), 2 * kMin, 2 * kMin, kMin);
  CHECK(avg.at(0).samples.at(0).v == Approx(111));
  auto cnt = f.Instant(*Agg(AggregateOp::kCount, Sel("r"), {"i"}), 2 * kMin);
  CHECK(Find(cnt, {{"i", "1"}})->v == 2);
  CHECK(Find(cnt, {{"i", "2"}})->v == 1);
}

TEST_CASE("sum of rate streams series and matches the unaggregated sum", "[query][engine]") {
  Fixture f;
  for (int s = 0; s < 20; ++s) {
    std::vector<double> vals;
    for (int i = 0; i < 120; ++i) vals.push_back(i * (s + 1));
    f.Load({{"__name__", "req_total"}, {"job", s % 2 ? "odd" : "even"}, {"i", std::to_string(s)}},
           15 * kSec, vals);
  }
  auto summed = f.Range(*Agg(AggregateOp::kSum, CallF("rate", Mat(Sel("req_total"), 5 * kMin)),
                             {"job"}),
                        5 * kMin, 25 * kMin, kMin);
  auto each = f.Range(*CallF("rate", Mat(Sel("req_total"), 5 * kMin)), 5 * kMin, 25 * kMin, kMin);
  REQUIRE(summed.size() == 2);
  REQUIRE(each.size() == 20);
  for (size_t step = 0; step < summed[0].samples.size(); ++step) {
    double even = 0;
    for (const auto& s : each) {
      if (s.labels.Get("job") == "even") even += s.samples[step].v;
    }
    CHECK(summed[0].samples[step].v == Approx(even));  // "even" sorts first
  }
}

TEST_CASE("topk returns the largest first in an instant query", "[query][engine]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    f.Load({{"__name__", "m"}, {"i", std::to_string(i)}}, kMin, {static_cast<double>(i * 10)});
  }
  auto v = f.Instant(*Agg(AggregateOp::kTopk, Sel("m"), {}, Num(3)), 0);
  REQUIRE(v.size() == 3);
  CHECK(v[0].v == 40);
  CHECK(v[1].v == 30);
  CHECK(v[2].v == 20);
  CHECK(v[0].labels.MetricName() == "m");  // topk keeps the series' own labels
}

TEST_CASE("vector matching: group_left copies labels from the one side", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "node_cpu"}, {"instance", "abc"}, {"mode", "idle"}}, kMin, {3});
  f.Load({{"__name__", "node_cpu"}, {"instance", "abc"}, {"mode", "user"}}, kMin, {1});
  f.Load({{"__name__", "node_role"}, {"instance", "abc"}, {"role", "prom"}}, kMin, {1});
  auto v = f.Instant(*BinOn(BinaryOp::kMul, Sel("node_cpu"), Sel("node_role"), {"instance"},
                            VectorMatching::Cardinality::kManyToOne, {"role"}),
                     kMin);
  REQUIRE(v.size() == 2);
  CHECK(Find(v, {{"instance", "abc"}, {"mode", "idle"}, {"role", "prom"}})->v == 3);
}

TEST_CASE("vector matching: duplicates on the one side fail with Prometheus' message",
          "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "dup"}, {"label", "beta"}}, 5 * kMin, {2});
  f.Load({{"__name__", "dup"}, {"label", "alpha"}}, 5 * kMin, {1});
  f.Load({{"__name__", "s"}}, 5 * kMin, {3});
  auto r = f.engine.InstantExpr(f.store, *BinOn(BinaryOp::kGtr, Sel("s"), Sel("dup"), {}), 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kExecution);
  CHECK(r.status().message() ==
        "found duplicate series for the match group {} on the right hand-side of the operation: "
        "[{__name__=\"dup\", label=\"alpha\"}, {__name__=\"dup\", label=\"beta\"}];many-to-many "
        "matching not allowed: matching labels must be unique on one side");
}

TEST_CASE("set operators and, or, unless", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "a"}, {"x", "1"}}, kMin, {1});
  f.Load({{"__name__", "a"}, {"x", "2"}}, kMin, {2});
  f.Load({{"__name__", "b"}, {"x", "2"}}, kMin, {20});
  f.Load({{"__name__", "b"}, {"x", "3"}}, kMin, {30});
  CHECK(f.Instant(*Bin(BinaryOp::kLand, Sel("a"), Sel("b")), 0).size() == 1);
  CHECK(f.Instant(*Bin(BinaryOp::kLor, Sel("a"), Sel("b")), 0).size() == 3);
  auto u = f.Instant(*Bin(BinaryOp::kLunless, Sel("a"), Sel("b")), 0);
  REQUIRE(u.size() == 1);
  CHECK(u[0].labels == Labels{{"__name__", "a"}, {"x", "1"}});
}

TEST_CASE("subqueries align their steps to multiples of the step", "[query][engine]") {
  Fixture f;
  std::vector<double> vals;
  for (int i = 0; i <= 1000; ++i) vals.push_back(i);
  f.Load({{"__name__", "metric1_total"}}, 10 * kSec, vals);
  // From subquery.test: the same result for offsets 3s..10s thanks to alignment.
  for (int64_t off : {3, 5, 7, 9, 10}) {
    auto sq = std::make_unique<SubqueryExpr>();
    sq->expr = Sel("metric1_total");
    sq->range = 30 * kSec;
    sq->step = 10 * kSec;
    sq->original_offset = sq->offset = off * kSec;
    auto v = f.Instant(*CallF("sum_over_time", ExprPtr(std::move(sq))), 1010 * kSec);
    REQUIRE(v.size() == 1);
    CHECK(v[0].v == 297);
  }
  auto v = f.Instant(*CallF("sum_over_time", Subq(Sel("metric1_total"), 30 * kSec, 5 * kSec)),
                     1000 * kSec);
  CHECK(v.at(0).v == 591);
}

TEST_CASE("delayed name removal merges non-overlapping series and rejects overlaps",
          "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "metric_a"}}, 10 * kMin, {1, Gap()});
  f.Load({{"__name__", "metric_b"}}, 10 * kMin, {3, 4});
  auto m = f.Range(*Bin(BinaryOp::kLor, Neg(Sel("metric_a")), Neg(Sel("metric_b"))), 0,
                   20 * kMin, 10 * kMin);
  REQUIRE(m.size() == 1);
  CHECK(m[0].labels.empty());
  REQUIRE(m[0].samples.size() == 2);
  CHECK(m[0].samples[0].v == -1);
  CHECK(m[0].samples[1].v == -4);

  auto r = f.engine.InstantExpr(f.store, *CallF("abs", Sel("", {Re("__name__", "metric_.")})), 0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "vector cannot contain metrics with the same labelset");
}

TEST_CASE("max_samples fails with Prometheus' message", "[query][engine]") {
  EngineOptions opts;
  opts.max_samples = 50;
  Fixture f(opts);
  std::vector<double> vals(100, 1.0);
  f.Load({{"__name__", "m"}}, 10 * kSec, vals);
  auto r = f.engine.RangeExpr(f.store, *Sel("m"), 0, 990 * kSec, 10 * kSec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kExecution);
  CHECK(r.status().message() ==
        "query processing would load too many samples into memory in query execution");
  // Well under the limit it works and reports its peak.
  auto ok = f.engine.RangeExpr(f.store, *Sel("m"), 0, 200 * kSec, 10 * kSec);
  REQUIRE(ok.ok());
  CHECK(ok->stats.peak_samples == 21);
  CHECK(ok->stats.total_queryable_samples == 21);
}

// Wraps a Queryable so that every Select takes a while (for timeout and concurrency tests).
class SlowQueryable final : public storage::Queryable {
 public:
  SlowQueryable(storage::Queryable& inner, std::chrono::milliseconds delay)
      : inner_(inner), delay_(delay) {}
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override {
    std::this_thread::sleep_for(delay_);
    return inner_.NewQuerier(mint, maxt);
  }

 private:
  storage::Queryable& inner_;
  std::chrono::milliseconds delay_;
};

TEST_CASE("a query past its timeout fails with Prometheus' message", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "m"}}, kMin, {1});
  SlowQueryable slow(f.store, std::chrono::milliseconds(30));
  QueryOptions o;
  o.timeout_ms = 5;
  auto r = f.engine.InstantExpr(slow, *Sel("m"), 0, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(r.status().message() == "query timed out in expression evaluation");
}

TEST_CASE("a cancelled query stops with kCancelled", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "m"}}, kMin, {1});
  std::atomic<bool> cancel{true};
  QueryOptions o;
  o.cancel = &cancel;
  auto r = f.engine.InstantExpr(f.store, *Sel("m"), 0, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCancelled);
}

TEST_CASE("max_concurrency makes further queries wait their turn", "[query][engine]") {
  EngineOptions opts;
  opts.max_concurrency = 1;
  Fixture f(opts);
  f.Load({{"__name__", "m"}}, kMin, {1});
  SlowQueryable slow(f.store, std::chrono::milliseconds(60));
  auto expr = Sel("m");
  Result<QueryResult> a = Status(StatusCode::kInternal, "unset");
  Result<QueryResult> b = Status(StatusCode::kInternal, "unset");
  std::thread t1([&] { a = f.engine.InstantExpr(slow, *expr, 0); });
  std::thread t2([&] { b = f.engine.InstantExpr(slow, *expr, 0); });
  t1.join();
  t2.join();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // One of them waited for the other's whole run.
  double waited = std::max(a->stats.exec_queue_time, b->stats.exec_queue_time);
  CHECK(waited >= 0.04);
}

TEST_CASE("histogram_quantile over classic buckets, with the monotonicity info",
          "[query][engine]") {
  Fixture f;
  auto bucket = [&](const char* le, double v) {
    f.Load({{"__name__", "h_bucket"}, {"le", le}}, kMin, {v});
  };
  bucket("0.1", 2);
  bucket("1", 1);  // decreasing: forced up to 2
  bucket("10", 5);
  bucket("+Inf", 8);
  auto v = f.Instant(*CallF("histogram_quantile", Num(0.5), Sel("h_bucket")), 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].labels.empty());  // __name__ and le are gone
  CHECK(v[0].v == Approx(1 + 9 * (2.0 / 3.0)));
  REQUIRE(f.last.annotations.infos.size() == 1);
  CHECK(f.last.annotations.infos[0].rfind(
            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity", 0) ==
        0);
}

TEST_CASE("absent and absent_over_time take labels from equality matchers", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "present"}}, kMin, {1});
  auto v = f.Instant(*CallF("absent", Sel("nope", {Eq("job", "x"), Re("i", ".+")})), 0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].labels == Labels{{"job", "x"}});
  CHECK(f.Instant(*CallF("absent", Sel("present")), 0).empty());
  auto m = f.Range(*CallF("absent_over_time", Mat(Sel("present"), kMin)), 0, 3 * kMin, kMin);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].samples.size() == 3);  // the sample at 0 is outside (t-1m, t] from 1m on
  CHECK(m[0].samples[0].t == kMin);
}

TEST_CASE("stats: samples read and per-step counts", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "m"}}, 10 * kSec, {1, 2, 3, 4, 5, 6, 7});
  QueryOptions o;
  o.per_step_stats = true;
  auto m = f.Range(*CallF("count_over_time", Mat(Sel("m"), 20 * kSec)), 20 * kSec, 60 * kSec,
                   20 * kSec, o);
  REQUIRE(m.size() == 1);
  CHECK(m[0].samples[0].v == 2);
  const auto& st = f.last.stats;
  CHECK(st.samples_read >= 6);
  REQUIRE(st.total_queryable_samples_per_step.size() == 3);
  CHECK(st.total_queryable_samples_per_step[0] == std::pair<int64_t, int64_t>{20 * kSec, 2});
  CHECK(st.total_queryable_samples == 6);
}

TEST_CASE("scalar() and vector(time()) convert between types", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "one"}}, kMin, {7});
  auto r = f.engine.InstantExpr(f.store, *CallF("scalar", Sel("one")), 0);
  REQUIRE(r.ok());
  CHECK(std::get<Scalar>(r->value).v == 7);
  auto m = f.Range(*CallF("vector", CallF("time")), 0, 2 * kMin, kMin);
  REQUIRE(m.size() == 1);
  CHECK(m[0].samples[2].v == 120);
}

}  // namespace
}  // namespace hearth::promql

namespace hearth::promql {
namespace {

TEST_CASE("string queries: annotations carry line:column positions", "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "x"}}, kMin, {1, 2, 3});
  auto r = f.engine.Instant(f.store, "rate(x[5m])", 2 * kMin);
  REQUIRE(r.ok());
  REQUIRE(r->annotations.infos.size() == 1);
  CHECK(r->annotations.infos[0] ==
        "PromQL info: metric might not be a counter, name does not end in "
        "_total/_sum/_count/_bucket: \"x\" (1:6)");
  auto s = f.engine.Range(f.store, "sum(\n  sort(x))", 0, 2 * kMin, kMin);
  REQUIRE(s.ok());
  REQUIRE(s->annotations.warnings.size() == 1);
  CHECK(s->annotations.warnings[0] ==
        "PromQL warning: sort is ineffective for range queries since results are always "
        "ordered by labels (2:3)");
}

TEST_CASE("string queries: parse errors and type errors are kInvalidArgument", "[query][engine]") {
  Fixture f;
  auto a = f.engine.Instant(f.store, "sum(", 0);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == StatusCode::kInvalidArgument);
  CHECK(a.status().message().find("parse error") != std::string::npos);
  auto b = f.engine.Range(f.store, "x[5m]", 0, kMin, kMin);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == StatusCode::kInvalidArgument);
  CHECK(b.status().message() ==
        "invalid expression type \"range vector\" for range query, must be Scalar or instant "
        "Vector");
  auto c = f.engine.Range(f.store, "x", 0, kMin, 0);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("string queries: instant range selector returns a matrix of raw samples",
          "[query][engine]") {
  Fixture f;
  f.Load({{"__name__", "m"}}, 10 * kSec, {1, 2, StaleNaN(), 4, 5, 6, 7});
  auto r = f.engine.Instant(f.store, "m[40s]", 60 * kSec);
  REQUIRE(r.ok());
  const auto& m = std::get<Matrix>(r->value);
  REQUIRE(m.size() == 1);
  REQUIRE(m[0].samples.size() == 4);  // (20s, 60s]: 30s..60s; the stale marker at 20s is out
  CHECK(m[0].samples[0].t == 30 * kSec);
  CHECK(m[0].samples[0].v == 4);
}

}  // namespace
}  // namespace hearth::promql
