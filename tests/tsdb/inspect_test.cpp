#include <cstdio>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/tsdb/tsdb_test_util.h"
#include "tsdb/inspect.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {
namespace {

using testing::Eq;
using testing::TempDir;

constexpr int64_t kHour = kMillisPerHour;
constexpr int64_t kStart = 1699999200000;  // a 2 h boundary

// Two partitions: 10 steady series in both; 5 "old" series only in the first; 5 "new" ones
// starting half way through the second.
void Build(const std::string& dir, ManualClock& clock) {
  metrics::Registry reg;
  Options o(dir, clock, reg);
  o.background_maintenance = false;
  o.samples_per_chunk = 60;
  auto db = OpenDB(o);
  REQUIRE(db.ok());
  auto app = (*db)->NewAppender();
  for (int64_t t = kStart; t < kStart + 4 * kHour; t += 60000) {
    clock.Set(t);
    for (int i = 0; i < 10; ++i) {
      REQUIRE(app->Append(0, Labels{{"__name__", "steady"}, {"i", std::to_string(i)}}, t, i).ok());
    }
    for (int i = 0; i < 5; ++i) {
      if (t < kStart + 2 * kHour) {
        REQUIRE(app->Append(0, Labels{{"__name__", "old"}, {"pod", "a" + std::to_string(i)}}, t, 1)
                    .ok());
      }
      if (t >= kStart + 3 * kHour) {
        REQUIRE(app->Append(0, Labels{{"__name__", "new"}, {"pod", "b" + std::to_string(i)}}, t,
                            0.5)
                    .ok());
      }
    }
    REQUIRE(app->Commit().ok());
  }
  // One more sample at the next partition's start cuts the chunks of the second one, so it
  // is complete on disk.
  const int64_t t = kStart + 4 * kHour;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(app->Append(0, Labels{{"__name__", "steady"}, {"i", std::to_string(i)}}, t, i).ok());
  }
  for (int i = 0; i < 5; ++i) {
    REQUIRE(app->Append(0, Labels{{"__name__", "new"}, {"pod", "b" + std::to_string(i)}}, t, 0.5)
                .ok());
  }
  REQUIRE(app->Commit().ok());
  REQUIRE((*db)->Close().ok());
}

TEST_CASE("analyze reports cardinality and churn of a partition", "[tsdb][inspect]") {
  TempDir dir;
  ManualClock clock(kStart);
  Build(dir.path(), clock);
  metrics::Registry reg;
  Options o(dir.path(), clock, reg);
  o.read_only = true;
  o.background_maintenance = false;
  auto db = OpenDB(o);
  REQUIRE(db.ok());
  AnalyzeOptions ao;
  ao.partition_start = kStart + 2 * kHour;
  auto rep = Analyze(**db, ao);
  REQUIRE(rep.ok());
  REQUIRE(rep->start == kStart + 2 * kHour);
  REQUIRE(rep->end == kStart + 4 * kHour);
  REQUIRE(rep->series == 15);  // 10 steady + 5 new
  REQUIRE(rep->have_previous);
  REQUIRE(rep->series_added == 5);
  REQUIRE(rep->series_removed == 5);
  REQUIRE(rep->metric_cardinality.size() == 2);
  REQUIRE(rep->metric_cardinality[0].name == "steady");
  REQUIRE(rep->metric_cardinality[0].value == 10);
  REQUIRE(rep->label_cardinality[0].name == "i");
  REQUIRE(rep->label_cardinality[0].value == 10);
  // The new series started half way: they are the churn.
  REQUIRE(rep->churn_label_pairs[0].name == "__name__=new");
  REQUIRE(rep->churn_label_pairs[0].value == 5);
  REQUIRE(rep->samples > 0);
  const std::string text = FormatAnalyzeReport(*rep);
  REQUIRE(text.find("Series: 15\n") != std::string::npos);
  REQUIRE(text.find("Highest cardinality metric names:\n10 steady\n") != std::string::npos);
  // Asking for a partition that does not exist names it.
  ao.partition_start = 42;
  auto missing = Analyze(**db, ao);
  REQUIRE(!missing.ok());
  REQUIRE(missing.status().message() == "no partition starts at 42");
}

TEST_CASE("dump prints series and samples as promtool does", "[tsdb][inspect]") {
  TempDir dir;
  ManualClock clock(kStart);
  Build(dir.path(), clock);
  metrics::Registry reg;
  Options o(dir.path(), clock, reg);
  o.read_only = true;
  auto db = OpenDB(o);
  REQUIRE(db.ok());
  const std::string path = dir / "dump.txt";
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::vector<Matcher> ms{Eq("__name__", "new")};
  auto n = Dump(**db, ms, kMinTime, kMaxTime, f);
  std::fclose(f);
  REQUIRE(n.ok());
  REQUIRE(*n == 5 * 61);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  REQUIRE(first == "{__name__=\"new\", pod=\"b0\"} 0.5 " + std::to_string(kStart + 3 * kHour));
  // Everything, within a time range.
  f = std::fopen(path.c_str(), "w");
  auto all = Dump(**db, {}, kStart, kStart + 59999, f);
  std::fclose(f);
  REQUIRE(all.ok());
  REQUIRE(*all == 15);  // one sample of each of the 15 series alive then
}

}  // namespace
}  // namespace hearth::tsdb
