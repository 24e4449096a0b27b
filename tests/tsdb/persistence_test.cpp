#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/tsdb/tsdb_test_util.h"
#include "tsdb/log.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {
namespace {

namespace fs = std::filesystem;
using testing::Eq;
using testing::M;
using testing::ReadAll;
using testing::TempDir;

constexpr int64_t kT0 = 1700000000000;

Labels L(std::string name, std::string job = "api") {
  return Labels{{"__name__", name}, {"job", job}};
}

// An engine on a directory that can be closed and reopened with different options.
struct Engine {
  TempDir dir;
  ManualClock clock{kT0};
  std::unique_ptr<metrics::Registry> registry;
  std::unique_ptr<DB> db;
  int samples_per_chunk = 120;
  int64_t partition_ms = 2 * kMillisPerHour;
  int64_t retention_ms = 15 * kMillisPerDay;
  uint64_t retention_bytes = 0;
  bool checkpoint_on_close = true;
  bool read_only = false;

  explicit Engine(const std::function<void(Engine&)>& setup = nullptr) {
    if (setup) setup(*this);
    Open();
  }
  ~Engine() {
    if (db) (void)db->Close();
  }
  Status TryOpen(const std::string& path = "") {
    registry = std::make_unique<metrics::Registry>();
    Options o(path.empty() ? dir.path() : path, clock, *registry);
    o.background_maintenance = false;
    o.samples_per_chunk = samples_per_chunk;
    o.partition_ms = partition_ms;
    o.retention_time_ms = retention_ms;
    o.retention_size_bytes = retention_bytes;
    o.checkpoint_on_close = checkpoint_on_close;
    o.read_only = read_only;
    auto r = OpenDB(o);
    if (!r.ok()) return r.status();
    db = std::move(*r);
    return Status::Ok();
  }
  void Open(const std::string& path = "") {
    Status st = TryOpen(path);
    INFO(st.ToString());
    REQUIRE(st.ok());
  }
  void Close() {
    REQUIRE(db->Close().ok());
    db.reset();
  }
  void Reopen() {
    Close();
    Open();
  }
  double Metric(const std::string& name) {
    std::string text = registry->Render();
    auto pos = text.find("\n" + name + " ");
    return pos == std::string::npos ? -1 : std::stod(text.substr(pos + name.size() + 2));
  }
  // `n` scrapes of `series` series at 15 s, starting at `from`.
  void Fill(int64_t from, int n, int series, double base = 0) {
    auto app = db->NewAppender();
    for (int i = 0; i < n; ++i) {
      for (int s = 0; s < series; ++s) {
        auto r = app->Append(0, L("m", "j" + std::to_string(s)), from + 15000 * i,
                             base + i * (s + 1));
        REQUIRE(r.ok());
      }
      REQUIRE(app->Commit().ok());
    }
  }
};

void RequireFilled(Engine& e, int64_t from, int n, int series, double base = 0) {
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got.size() == static_cast<size_t>(series));
  for (int s = 0; s < series; ++s) {
    const auto& samples = got[L("m", "j" + std::to_string(s))];
    REQUIRE(samples.size() == static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      REQUIRE(samples[i].t == from + 15000 * i);
      REQUIRE(samples[i].v == base + i * (s + 1));
    }
  }
}

TEST_CASE("data survives a clean restart", "[tsdb][persistence]") {
  Engine e;
  e.Fill(kT0, 1000, 5);  // about 4 hours: sealed chunks in RocksDB plus open chunks
  RequireFilled(e, kT0, 1000, 5);
  e.Reopen();
  RequireFilled(e, kT0, 1000, 5);
  // Appending continues where it left off, with the same refs.
  auto app = e.db->NewAppender();
  REQUIRE(app->Append(0, L("m", "j0"), kT0 + 15000 * 999, 1).status().code() ==
          StatusCode::kDuplicateSampleForTimestamp);
  REQUIRE(app->Rollback().ok());
}

TEST_CASE("a restart without a final checkpoint replays the commit log", "[tsdb][persistence]") {
  Engine e([](Engine& x) { x.checkpoint_on_close = false; });
  e.Fill(kT0, 300, 3);
  REQUIRE(e.db->Checkpoint().ok());
  e.Fill(kT0 + 15000 * 300, 200, 3, 1000);  // only in the log
  e.Reopen();
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got.size() == 3);
  REQUIRE(got[L("m", "j2")].size() == 500);
  REQUIRE(got[L("m", "j2")][499].v == 1000 + 199 * 3);
  REQUIRE(e.Metric("prometheus_tsdb_wal_corruptions_total") == 0);
  // And again: replay is idempotent.
  e.Reopen();
  REQUIRE(ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")})[L("m", "j2")].size() == 500);
}

TEST_CASE("a torn log tail is detected, counted and cut off", "[tsdb][persistence]") {
  Engine e([](Engine& x) { x.checkpoint_on_close = false; });
  e.Fill(kT0, 10, 2);
  e.Close();
  auto segs = ListSegments(e.dir / "wal");
  REQUIRE(segs.ok());
  REQUIRE(!segs->empty());
  const std::string last = SegmentPath(e.dir / "wal", segs->back());
  const auto size = fs::file_size(last);
  REQUIRE(size > 20);
  // Cut the last record in half, as a crash in the middle of a write would.
  fs::resize_file(last, size - 7);
  e.Open();
  REQUIRE(e.Metric("prometheus_tsdb_wal_corruptions_total") == 1);
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got[L("m", "j0")].size() == 9);  // the last commit is gone, nothing else
  REQUIRE(got[L("m", "j1")].size() == 9);
  e.Reopen();  // repaired: no second complaint
  REQUIRE(e.Metric("prometheus_tsdb_wal_corruptions_total") == 0);
}

TEST_CASE("a corrupted log record stops replay of its segment, never a crash",
          "[tsdb][persistence]") {
  Engine e([](Engine& x) { x.checkpoint_on_close = false; });
  e.Fill(kT0, 50, 2);
  e.Close();
  auto segs = ListSegments(e.dir / "wal");
  const std::string last = SegmentPath(e.dir / "wal", segs->back());
  {
    std::fstream f(last, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(last) / 2));
    f.put('\x5a');
  }
  e.Open();
  REQUIRE(e.Metric("prometheus_tsdb_wal_corruptions_total") == 1);
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  // A prefix of the commits survives, in order; nothing invented.
  const auto& s = got[L("m", "j0")];
  REQUIRE(s.size() < 50);
  for (size_t i = 0; i < s.size(); ++i) REQUIRE(s[i].t == kT0 + 15000 * static_cast<int64_t>(i));
}

TEST_CASE("a damaged checkpoint falls back to the previous one", "[tsdb][persistence]") {
  Engine e([](Engine& x) { x.checkpoint_on_close = false; });
  e.Fill(kT0, 100, 2);
  REQUIRE(e.db->Checkpoint().ok());
  e.Fill(kT0 + 15000 * 100, 100, 2, 500);
  REQUIRE(e.db->Checkpoint().ok());
  e.Fill(kT0 + 15000 * 200, 100, 2, 900);
  e.Close();
  std::string newest;
  for (const auto& f : fs::directory_iterator(e.dir / "wal")) {
    std::string n = f.path().filename().string();
    if (n.rfind("checkpoint.", 0) == 0 && n > newest) newest = n;
  }
  REQUIRE(!newest.empty());
  {
    std::fstream f(e.dir / ("wal/" + newest), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x01');
    f.put('\x02');
  }
  e.Open();
  REQUIRE(e.Metric("prometheus_tsdb_wal_corruptions_total") >= 1);
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got[L("m", "j1")].size() == 300);
  REQUIRE(got[L("m", "j1")][299].v == 900 + 99 * 2);
}

TEST_CASE("checkpoints bound the log that recovery reads", "[tsdb][persistence]") {
  Engine e;
  for (int round = 0; round < 5; ++round) {
    e.Fill(kT0 + round * 15000 * 100, 100, 2, round * 1000);
    REQUIRE(e.db->Checkpoint().ok());
  }
  auto segs = ListSegments(e.dir / "wal");
  REQUIRE(segs.ok());
  // The current segment, plus the ones since the previous checkpoint (the fallback).
  REQUIRE(segs->size() <= 2);
  int checkpoints = 0;
  for (const auto& f : fs::directory_iterator(e.dir / "wal")) {
    if (f.path().filename().string().rfind("checkpoint.", 0) == 0) ++checkpoints;
  }
  REQUIRE(checkpoints == 2);
}

TEST_CASE("retention by time drops whole partitions", "[tsdb][persistence]") {
  Engine e([](Engine& x) {
    x.retention_ms = 4 * kMillisPerHour;
    x.partition_ms = kMillisPerHour;
  });
  // Ten hours of one series, one sample a minute, the clock following the data.
  auto app = e.db->NewAppender();
  for (int i = 0; i < 10 * 60; ++i) {
    int64_t t = kT0 + i * kMillisPerMinute;
    e.clock.Set(t);
    REQUIRE(app->Append(0, L("m"), t, i).ok());
    REQUIRE(app->Commit().ok());
  }
  const int64_t cutoff = e.clock.NowMs() - 4 * kMillisPerHour;
  const auto before = e.db->Partitions();
  REQUIRE(before.size() >= 10);
  const auto expired = std::count_if(before.begin(), before.end(),
                                     [&](const PartitionInfo& p) { return p.end <= cutoff; });
  REQUIRE(expired >= 5);
  REQUIRE(e.db->RunMaintenance().ok());
  auto parts = e.db->Partitions();
  REQUIRE(parts.size() < before.size());
  for (const PartitionInfo& p : parts) REQUIRE(p.end > cutoff);
  REQUIRE(e.Metric("prometheus_tsdb_time_retentions_total") == static_cast<double>(expired));
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(!got[L("m")].empty());
  REQUIRE(got[L("m")].front().t >= parts.front().start);
  REQUIRE(got[L("m")].front().t < cutoff);  // whole partitions: a little older data stays
  REQUIRE(got[L("m")].back().t == kT0 + (10 * 60 - 1) * kMillisPerMinute);
  // Samples older than the retention window are refused.
  REQUIRE(app->Append(0, L("old"), cutoff - kMillisPerMinute, 1).status().code() ==
          StatusCode::kOutOfBounds);
  e.Reopen();
  REQUIRE(e.db->Partitions().size() == parts.size());
}

TEST_CASE("retention by size drops the oldest partitions", "[tsdb][persistence]") {
  Engine e;
  e.Close();
  e.partition_ms = kMillisPerHour;
  e.Open();
  auto app = e.db->NewAppender();
  for (int i = 0; i < 6 * 60 * 4; ++i) {  // 6 hours at 15 s, 100 series
    int64_t t = kT0 + i * 15000;
    e.clock.Set(t);
    for (int s = 0; s < 100; ++s) {
      REQUIRE(app->Append(0, L("m", std::to_string(s)), t, (i * 7919 + s) % 1000003).ok());
    }
    REQUIRE(app->Commit().ok());
  }
  REQUIRE(e.db->RunMaintenance().ok());
  e.Reopen();
  const uint64_t total = e.db->DiskBytes();
  const size_t before = e.db->Partitions().size();
  e.Close();
  e.retention_bytes = total * 2 / 3;
  e.Open();
  REQUIRE(e.db->RunMaintenance().ok());
  auto parts = e.db->Partitions();
  REQUIRE(parts.size() < before);
  REQUIRE(e.Metric("prometheus_tsdb_size_retentions_total") >= 1);
  // The newest data is kept.
  auto got = ReadAll(*e.db, kT0 + 5 * kMillisPerHour, kMaxTime, {Eq("job", "7")});
  REQUIRE(got[L("m", "7")].size() == 240);
}

TEST_CASE("metadata and tombstones survive restarts", "[tsdb][persistence]") {
  Engine e;
  e.Fill(kT0, 600, 2);
  auto app = e.db->NewAppender();
  REQUIRE(app->UpdateMetadata(L("m"), {MetricType::kCounter, "A counter.", "seconds"}).ok());
  std::vector<Matcher> j0{Eq("job", "j0")};
  REQUIRE(e.db->DeleteSeries(j0, kT0, kT0 + 15000 * 99).ok());
  e.Reopen();
  auto meta = e.db->Metadata("m", 0);
  REQUIRE(meta.size() == 1);
  REQUIRE(meta[0].second.help == "A counter.");
  REQUIRE(meta[0].second.unit == "seconds");
  REQUIRE(meta[0].second.type == MetricType::kCounter);
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got[L("m", "j0")].size() == 500);
  REQUIRE(got[L("m", "j0")].front().t == kT0 + 15000 * 100);
  REQUIRE(got[L("m", "j1")].size() == 600);
  // Cleaning rewrites the persisted chunks; the result stays after another restart.
  REQUIRE(e.db->CleanTombstones().ok());
  e.Reopen();
  got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got[L("m", "j0")].size() == 500);
  REQUIRE(got[L("m", "j1")].size() == 600);
  // Deleting everything of a series removes it from label queries of its partitions.
  REQUIRE(e.db->DeleteSeries(j0, kMinTime, kMaxTime).ok());
  REQUIRE(e.db->CleanTombstones().ok());
  auto q = e.db->NewQuerier(kMinTime, kMaxTime);
  auto values = (*q)->LabelValues("job", {}, std::vector<Matcher>{Eq("__name__", "m")});
  REQUIRE(values.ok());
  REQUIRE(*values == std::vector<std::string>{"j1"});
}

TEST_CASE("a snapshot is a complete data directory", "[tsdb][persistence]") {
  Engine e;
  e.Fill(kT0, 700, 3);
  auto name = e.db->Snapshot(false);
  REQUIRE(name.ok());
  REQUIRE(name->size() > 17);
  e.Fill(kT0 + 15000 * 700, 10, 3, 5000);  // not in the snapshot
  const std::string snap = e.dir / ("snapshots/" + *name);
  REQUIRE(fs::exists(snap + "/db"));
  e.Close();
  e.Open(snap);
  RequireFilled(e, kT0, 700, 3);
  e.Close();
  e.Open();
  auto got = ReadAll(*e.db, kMinTime, kMaxTime, {Eq("__name__", "m")});
  REQUIRE(got[L("m", "j0")].size() == 710);
}

TEST_CASE("the importer sorts, dedupes and writes partitions directly", "[tsdb][persistence]") {
  Engine e;
  // A series also in the head keeps its ref; imported data merges with head data.
  e.Fill(kT0 + kMillisPerDay, 10, 1);
  auto imp = e.db->NewImporter(1000);
  REQUIRE(imp.ok());
  std::vector<int> order(3000);
  for (int i = 0; i < 3000; ++i) order[i] = (i * 1237) % 3000;  // a permutation
  for (int i : order) {
    REQUIRE((*imp)->Add(L("m", "j0"), kT0 + 15000 * i, i).ok());
    REQUIRE((*imp)->Add(L("imported"), kT0 + 20000 * i, i * 0.5).ok());
  }
  REQUIRE((*imp)->Add(L("imported"), kT0, 42).ok());  // a later duplicate wins
  REQUIRE((*imp)->SetMetadata("imported", {MetricType::kGauge, "Imported.", ""}).ok());
  REQUIRE((*imp)->Flush().ok());
  REQUIRE((*imp)->samples_written() >= 6000);
  imp->reset();
  auto check = [&] {
    auto got = ReadAll(*e.db, kMinTime, kMaxTime,
                       {M(MatchType::kRegexMatch, "__name__", "m|imported")});
    REQUIRE(got[L("imported")].size() == 3000);
    REQUIRE(got[L("imported")][0].v == 42);
    REQUIRE(got[L("imported")][2999].v == 2999 * 0.5);
    const auto& m = got[L("m", "j0")];
    REQUIRE(m.size() == 3010);
    for (int i = 0; i < 3000; ++i) REQUIRE(m[i].v == i);
    REQUIRE(e.db->Metadata("imported", 0).size() == 1);
  };
  check();
  e.Reopen();
  check();
}

TEST_CASE("read-only open sees head and persisted data and refuses writes",
          "[tsdb][persistence]") {
  Engine e([](Engine& x) { x.checkpoint_on_close = false; });
  e.Fill(kT0, 500, 2);
  e.Close();
  e.read_only = true;
  e.Open();
  RequireFilled(e, kT0, 500, 2);
  auto app = e.db->NewAppender();
  REQUIRE(app->Append(0, L("x"), kT0 + 1e7, 1).status().code() == StatusCode::kUnavailable);
  e.Close();
  e.read_only = false;
  e.Open();
  RequireFilled(e, kT0, 500, 2);
}

TEST_CASE("opening a directory that is not a data directory read-only fails clearly",
          "[tsdb][persistence]") {
  TempDir d;
  ManualClock clock(kT0);
  metrics::Registry reg;
  Options o(d / "nothing", clock, reg);
  o.read_only = true;
  auto r = OpenDB(o);
  REQUIRE(!r.ok());
  REQUIRE(r.status().message().find("not a Hearth data directory") != std::string::npos);
}

}  // namespace
}  // namespace hearth::tsdb
