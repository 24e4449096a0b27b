#include <atomic>
#include <cmath>
#include <thread>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/tsdb/tsdb_test_util.h"
#include "tsdb/head.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {
namespace {

using testing::Eq;
using testing::M;
using testing::ReadAll;
using testing::TempDir;

constexpr int64_t kT0 = 1700000000000;

struct Fixture {
  TempDir dir;
  ManualClock clock{kT0};
  metrics::Registry registry;
  std::unique_ptr<DB> db;

  explicit Fixture(int samples_per_chunk = 240) {
    Options o(dir.path(), clock, registry);
    o.background_maintenance = false;
    o.samples_per_chunk = samples_per_chunk;
    auto r = OpenDB(o);
    REQUIRE(r.ok());
    db = std::move(*r);
  }
  ~Fixture() { REQUIRE(db->Close().ok()); }
  double Metric(const std::string& line_prefix) {
    std::string text = registry.Render();
    auto pos = text.find("\n" + line_prefix + " ");
    REQUIRE(pos != std::string::npos);
    return std::stod(text.substr(pos + line_prefix.size() + 2));
  }
};

Labels L(std::string name, std::string job = "api") { return Labels{{"__name__", name}, {"job", job}}; }

TEST_CASE("head appends, commits and selects samples", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  for (int i = 0; i < 500; ++i) {
    REQUIRE(app->Append(0, L("up"), kT0 + i * 15000, 1).ok());
    REQUIRE(app->Append(0, L("reqs"), kT0 + i * 15000, i * 3.5).ok());
    REQUIRE(app->Commit().ok());
  }
  auto all = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("job", "api")});
  REQUIRE(all.size() == 2);
  REQUIRE(all[L("up")].size() == 500);
  REQUIRE(all[L("reqs")][499].v == 499 * 3.5);
  // A narrower range cuts inside chunks.
  auto some = ReadAll(*f.db, kT0 + 15000 * 100, kT0 + 15000 * 300, {Eq("__name__", "reqs")});
  REQUIRE(some[L("reqs")].size() == 201);
  REQUIRE(some[L("reqs")].front().t == kT0 + 15000 * 100);
  REQUIRE(f.Metric("prometheus_tsdb_head_samples_appended_total{type=\"float\"}") == 1000);
  REQUIRE(f.Metric("prometheus_tsdb_head_series") == 2);
}

TEST_CASE("uncommitted and rolled back samples are invisible", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  REQUIRE(app->Append(0, L("a"), kT0, 1).ok());
  REQUIRE(ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "a")}).empty());
  REQUIRE(app->Rollback().ok());
  REQUIRE(app->Commit().ok());
  REQUIRE(ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "a")}).empty());
  REQUIRE(app->Append(0, L("a"), kT0 + 1, 2).ok());
  REQUIRE(app->Commit().ok());
  REQUIRE(ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "a")})[L("a")].size() == 1);
}

TEST_CASE("out-of-order, out-of-bounds and duplicate samples are rejected and counted",
          "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  auto ref = app->Append(0, L("x"), kT0 + 10000, 1);
  REQUIRE(ref.ok());
  REQUIRE(app->Commit().ok());
  // Older than the newest sample: out of order.
  auto r = app->Append(*ref, L("x"), kT0 + 5000, 1);
  REQUIRE(r.status().code() == StatusCode::kOutOfOrderSample);
  REQUIRE(r.status().message() == "out of order sample");
  // Same timestamp, same value: accepted silently, nothing new stored.
  REQUIRE(app->Append(*ref, L("x"), kT0 + 10000, 1).ok());
  // Same timestamp, another value: rejected.
  r = app->Append(*ref, L("x"), kT0 + 10000, 2);
  REQUIRE(r.status().code() == StatusCode::kDuplicateSampleForTimestamp);
  REQUIRE(r.status().message() == "duplicate sample for timestamp");
  // The batch goes on after rejected samples.
  REQUIRE(app->Append(*ref, L("x"), kT0 + 20000, 3).ok());
  REQUIRE(app->Commit().ok());
  // Far behind the newest sample of the head (more than half a partition): out of bounds.
  r = app->Append(0, L("y"), kT0 + 20000 - 2 * kMillisPerHour, 1);
  REQUIRE(r.status().code() == StatusCode::kOutOfBounds);
  REQUIRE(app->Commit().ok());

  auto got = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "x")});
  REQUIRE(got[L("x")].size() == 2);
  REQUIRE(got[L("x")][1].v == 3);
  REQUIRE(f.Metric("prometheus_tsdb_out_of_order_samples_total{type=\"float\"}") == 1);
  REQUIRE(f.Metric("prometheus_tsdb_out_of_bounds_samples_total{type=\"float\"}") == 1);
  REQUIRE(f.Metric("hearth_tsdb_duplicate_samples_total{type=\"float\"}") == 1);
}

TEST_CASE("out-of-order samples within one batch are dropped at commit", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  auto ref = app->Append(0, L("x"), kT0 + 2000, 1);
  REQUIRE(ref.ok());
  REQUIRE(app->Append(*ref, L("x"), kT0 + 1000, 2).ok());  // checked against committed data
  REQUIRE(app->Commit().ok());
  auto got = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "x")});
  REQUIRE(got[L("x")].size() == 1);
  REQUIRE(got[L("x")][0].v == 1);
  REQUIRE(f.Metric("prometheus_tsdb_out_of_order_samples_total{type=\"float\"}") == 1);
}

TEST_CASE("append by cached ref, stale ref falls back to labels", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  auto ref = app->Append(0, L("x"), kT0, 1);
  REQUIRE(ref.ok());
  auto again = app->Append(*ref, Labels{}, kT0 + 1, 2);
  REQUIRE(again.ok());
  REQUIRE(*again == *ref);
  auto other = app->Append(987654321, L("x"), kT0 + 2, 3);
  REQUIRE(other.ok());
  REQUIRE(*other == *ref);
  auto unknown = app->Append(987654321, Labels{}, kT0 + 3, 4);
  REQUIRE(unknown.status().code() == StatusCode::kNotFound);
  REQUIRE(app->Append(0, Labels{}, kT0, 1).status().code() == StatusCode::kInvalidArgument);
  REQUIRE(app->Commit().ok());
  REQUIRE(ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "x")})[L("x")].size() == 3);
}

TEST_CASE("series whose label hashes collide stay distinct", "[tsdb][head]") {
  ManualClock clock(kT0);
  metrics::Registry registry;
  HeadOptions o;
  o.hash_for_test = [](const Labels&) -> uint64_t { return 42; };
  Head head(o, registry, clock);
  auto app = head.NewAppender();
  std::vector<SeriesRef> refs;
  for (int i = 0; i < 20; ++i) {
    auto r = app->Append(0, L("m" + std::to_string(i)), kT0, i);
    REQUIRE(r.ok());
    refs.push_back(*r);
  }
  REQUIRE(app->Commit().ok());
  for (int i = 0; i < 20; ++i) {
    bool created = true;
    auto s = head.GetOrCreate(L("m" + std::to_string(i)), &created);
    REQUIRE(s.ok());
    REQUIRE(!created);
    REQUIRE((*s)->ref == refs[i]);
  }
  REQUIRE(head.NumSeries() == 20);
  // Removing from the middle of a collision chain keeps the others reachable.
  MemSeries* mid = *head.GetOrCreate(L("m7"));
  MemSeries* first = *head.GetOrCreate(L("m19"));
  std::vector<MemSeries*> gone{mid, first};
  REQUIRE(head.RemoveSeries(gone, [](const MemSeries&) { return true; }) == 2);
  for (int i = 0; i < 20; ++i) {
    if (i == 7 || i == 19) continue;
    bool created = true;
    REQUIRE((*head.GetOrCreate(L("m" + std::to_string(i)), &created))->ref == refs[i]);
    REQUIRE(!created);
  }
  bool created = false;
  REQUIRE(head.GetOrCreate(L("m7"), &created).ok());
  REQUIRE(created);
  head.ReclaimRemoved();
}

TEST_CASE("matchers select through the head postings", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  const char* codes[] = {"200", "404", "500"};
  for (const char* code : codes) {
    for (const char* method : {"GET", "POST"}) {
      Labels l{{"__name__", "http"}, {"code", code}, {"method", method}};
      REQUIRE(app->Append(0, l, kT0, 1).ok());
    }
  }
  REQUIRE(app->Append(0, Labels{{"__name__", "http"}, {"method", "GET"}}, kT0, 1).ok());
  REQUIRE(app->Commit().ok());
  auto count = [&](std::vector<Matcher> ms) {
    return ReadAll(*f.db, kMinTime, kMaxTime, std::move(ms)).size();
  };
  REQUIRE(count({Eq("__name__", "http")}) == 7);
  REQUIRE(count({Eq("code", "404")}) == 2);
  REQUIRE(count({Eq("__name__", "http"), M(MatchType::kNotEqual, "code", "404")}) == 5);
  REQUIRE(count({M(MatchType::kRegexMatch, "code", "404|500")}) == 4);
  REQUIRE(count({M(MatchType::kRegexMatch, "code", "[45]0.")}) == 4);
  REQUIRE(count({Eq("__name__", "http"), M(MatchType::kRegexNoMatch, "code", "4.*")}) == 5);
  // Matchers that accept the empty value also select series without the label.
  REQUIRE(count({Eq("__name__", "http"), Eq("code", "")}) == 1);
  REQUIRE(count({Eq("__name__", "http"), M(MatchType::kRegexMatch, "code", "200|")}) == 3);
  REQUIRE(count({Eq("__name__", "http"), M(MatchType::kRegexMatch, "code", ".+")}) == 6);
  REQUIRE(count({Eq("__name__", "nope")}) == 0);
  REQUIRE(count({Eq("method", "GET"), Eq("code", "500")}) == 1);

  auto q = f.db->NewQuerier(kMinTime, kMaxTime);
  REQUIRE(q.ok());
  auto names = (*q)->LabelNames({}, {});
  REQUIRE(names.ok());
  REQUIRE(*names == std::vector<std::string>{"__name__", "code", "method"});
  std::vector<Matcher> get{Eq("method", "GET")};
  auto values = (*q)->LabelValues("code", {}, get);
  REQUIRE(values.ok());
  REQUIRE(*values == std::vector<std::string>{"200", "404", "500"});
  std::vector<Matcher> no_code{Eq("code", "")};
  names = (*q)->LabelNames({}, no_code);
  REQUIRE(*names == std::vector<std::string>{"__name__", "method"});
  values = (*q)->LabelValues("code", storage::LabelHints{2}, {});
  REQUIRE(*values == std::vector<std::string>{"200", "404"});
}

TEST_CASE("chunks are cut by sample count and at partition boundaries", "[tsdb][head]") {
  Fixture f(120);
  auto app = f.db->NewAppender();
  // 1000 samples at 15 s span about 4.2 h: cuts every 120 samples and at 2 h boundaries.
  std::vector<Sample> want;
  const int64_t start = 1700006400000 - 15000 * 300;  // crosses a 2 h boundary
  for (int i = 0; i < 1000; ++i) {
    Sample s{start + 15000 * i, std::sin(i) * 100};
    want.push_back(s);
    REQUIRE(app->Append(0, L("wave"), s.t, s.v).ok());
    REQUIRE(app->Commit().ok());
  }
  auto got = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "wave")});
  REQUIRE(testing::SameSamples(got[L("wave")], want));
  auto st = f.db->Stats(10);
  REQUIRE(st.ok());
  // Sealed chunks went to RocksDB: the head keeps the open one.
  REQUIRE(st->head.chunk_count == 1);
  REQUIRE(st->head.max_time == want.back().t);
  // 4.2 hours from 75 minutes before a 2 h boundary: three partitions.
  REQUIRE(f.db->Partitions().size() == 3);
  // Seek across chunk boundaries.
  auto q = f.db->NewQuerier(kMinTime, kMaxTime);
  auto set = (*q)->Select(false, {}, std::vector<Matcher>{Eq("__name__", "wave")});
  REQUIRE(set->Next());
  auto it = set->At().Iterator();
  REQUIRE(it->Seek(want[500].t - 1));
  REQUIRE(it->At().t == want[500].t);
  REQUIRE(it->Seek(want[10].t));  // never backwards
  REQUIRE(it->At().t == want[500].t);
  REQUIRE(it->Seek(want[999].t));
  REQUIRE(!it->Next());
}

TEST_CASE("concurrent appenders and queries never see half a batch", "[tsdb][head]") {
  Fixture f;
  constexpr int kWriters = 3, kSeriesPerWriter = 50, kBatches = 300;
  std::atomic<int> done{0}, failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto app = f.db->NewAppender();
      std::vector<SeriesRef> refs(kSeriesPerWriter, 0);
      for (int b = 0; b < kBatches; ++b) {
        for (int s = 0; s < kSeriesPerWriter; ++s) {
          Labels l{{"__name__", "c"}, {"w", std::to_string(w)}, {"s", std::to_string(s)}};
          auto r = app->Append(refs[s], l, kT0 + b * 1000, b);
          if (!r.ok()) failures++;
          refs[s] = r.ok() ? *r : 0;
        }
        if (!app->Commit().ok()) failures++;
      }
      done++;
    });
  }
  // Catch2 assertions stay on this thread.
  int checks = 0;
  while (done.load() < kWriters || checks == 0) {
    auto got = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "c")});
    // Per writer, every series has the same number of samples: commits are atomic.
    std::map<std::string, size_t> per_writer;
    for (const auto& [l, samples] : got) {
      auto [it, inserted] = per_writer.emplace(std::string(l.Get("w")), samples.size());
      if (!inserted) REQUIRE(it->second == samples.size());
    }
    ++checks;
  }
  for (auto& t : writers) t.join();
  REQUIRE(failures.load() == 0);
  auto got = ReadAll(*f.db, kMinTime, kMaxTime, {Eq("__name__", "c")});
  REQUIRE(got.size() == kWriters * kSeriesPerWriter);
  for (const auto& [l, samples] : got) REQUIRE(samples.size() == kBatches);
}

TEST_CASE("deleted series ranges disappear from selects and are cleaned", "[tsdb][head]") {
  Fixture f(50);
  auto app = f.db->NewAppender();
  for (int i = 0; i < 200; ++i) {
    REQUIRE(app->Append(0, L("a"), kT0 + i * 1000, i).ok());
    REQUIRE(app->Append(0, L("b"), kT0 + i * 1000, i).ok());
    REQUIRE(app->Commit().ok());
  }
  std::vector<Matcher> ma{Eq("__name__", "a")};
  REQUIRE(f.db->DeleteSeries(ma, kT0 + 10000, kT0 + 59000).ok());
  REQUIRE(f.db->DeleteSeries(ma, kT0 + 150000, kMaxTime).ok());
  auto check = [&] {
    auto got = ReadAll(*f.db, kMinTime, kMaxTime, {M(MatchType::kRegexMatch, "__name__", "a|b")});
    REQUIRE(got[L("b")].size() == 200);
    REQUIRE(got[L("a")].size() == 200 - 50 - 50);
    for (const Sample& s : got[L("a")]) REQUIRE(((s.v < 10) || (s.v >= 60 && s.v < 150)));
  };
  check();
  REQUIRE(f.db->CleanTombstones().ok());
  check();
  // Appends continue after cleaning.
  REQUIRE(app->Append(0, L("a"), kT0 + 300000, 1).ok());
  REQUIRE(app->Commit().ok());
  REQUIRE(ReadAll(*f.db, kMinTime, kMaxTime, {ma[0]})[L("a")].size() == 101);
}

TEST_CASE("metadata is kept per metric name", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  MetricMetadata m{MetricType::kCounter, "Requests.", ""};
  REQUIRE(app->UpdateMetadata(L("reqs_total"), m).ok());
  REQUIRE(app->UpdateMetadata(L("temp"), {MetricType::kGauge, "Temperature.", "celsius"}).ok());
  auto all = f.db->Metadata("", 0);
  REQUIRE(all.size() == 2);
  auto one = f.db->Metadata("reqs_total", 0);
  REQUIRE(one.size() == 1);
  REQUIRE(one[0].second == m);
  REQUIRE(f.db->Metadata("", 1).size() == 1);
}

TEST_CASE("head memory per series is measured and exported", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  for (int i = 0; i < 1000; ++i) {
    Labels l{{"__name__", "m"}, {"instance", "10.0.0." + std::to_string(i % 250) + ":9100"},
             {"job", "node"}, {"i", std::to_string(i)}};
    REQUIRE(app->Append(0, l, kT0, i).ok());
  }
  REQUIRE(app->Commit().ok());
  REQUIRE(f.db->RunMaintenance().ok());
  double per_series = f.Metric("hearth_tsdb_head_memory_bytes_per_series");
  REQUIRE(per_series > 100);
  REQUIRE(per_series < 2000);
  REQUIRE(f.Metric("hearth_tsdb_head_memory_bytes") == Approx(per_series * 1000));
}

TEST_CASE("stats list top metric names and label pairs", "[tsdb][head]") {
  Fixture f;
  auto app = f.db->NewAppender();
  for (int i = 0; i < 5; ++i) REQUIRE(app->Append(0, L("big", "j" + std::to_string(i)), kT0, 1).ok());
  REQUIRE(app->Append(0, L("small"), kT0, 1).ok());
  REQUIRE(app->Commit().ok());
  auto st = f.db->Stats(1);
  REQUIRE(st.ok());
  REQUIRE(st->head.num_series == 6);
  REQUIRE(st->series_count_by_metric_name.size() == 1);
  REQUIRE(st->series_count_by_metric_name[0].name == "big");
  REQUIRE(st->series_count_by_metric_name[0].value == 5);
  REQUIRE(st->label_value_count_by_label_name[0].name == "job");
  REQUIRE(st->label_value_count_by_label_name[0].value == 6);
  REQUIRE(st->series_count_by_label_value_pair[0].name == "__name__=big");
}

}  // namespace
}  // namespace hearth::tsdb

namespace hearth::tsdb {
namespace {

TEST_CASE("bulk-loaded postings come out sorted and equal to one-by-one adds", "[tsdb][head]") {
  MemPostings one, bulk;
  bulk.BeginBulk();
  // Refs in a scrambled order, as a checkpoint lists them; one added twice.
  std::vector<SeriesRef> refs;
  for (SeriesRef r = 1; r <= 500; ++r) refs.push_back((r * 7919) % 500 + 1);
  refs.push_back(refs.front());
  for (SeriesRef r : refs) {
    Labels l{{"__name__", "m"}, {"job", r % 2 ? "a" : "b"}, {"i", std::to_string(r)}};
    one.Add(r, l);
    bulk.Add(r, l);
  }
  bulk.EndBulk();
  const Postings all = bulk.All();
  CHECK(all == one.All());
  CHECK(all.size() == 500);
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(bulk.Get("job", "a") == one.Get("job", "a"));
  CHECK(bulk.Get("job", "b") == one.Get("job", "b"));
  CHECK(bulk.Get("i", "17") == Postings{17});
  // After EndBulk, adds keep the lists sorted again.
  bulk.Add(0, Labels{{"__name__", "m"}});
  CHECK(bulk.Get("__name__", "m").front() == 0);
}

}  // namespace
}  // namespace hearth::tsdb
