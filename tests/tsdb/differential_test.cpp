// Differential tests: random appends go into the engine and into MemStore (the reference
// model); selects with random matchers and ranges must return the same series and samples.
// A sample goes into the model only when the engine accepted it, so both see the same input.
#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/tsdb/tsdb_test_util.h"
#include "tsdb/storage/memstore.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {
namespace {

using testing::M;
using testing::ReadAll;
using testing::RequireSameSeries;
using testing::TempDir;

constexpr int64_t kT0 = 1700000000000;

class Differential {
 public:
  explicit Differential(uint64_t seed, int samples_per_chunk = 60)
      : rng_(seed), clock_(kT0), spc_(samples_per_chunk) {
    Reopen();
  }
  ~Differential() {
    if (db_) REQUIRE(db_->Close().ok());
  }

  void Reopen() {
    if (db_) REQUIRE(db_->Close().ok());
    db_.reset();
    registry_ = std::make_unique<metrics::Registry>();
    Options o(dir_.path(), clock_, *registry_);
    o.background_maintenance = false;
    o.samples_per_chunk = spc_;
    o.partition_ms = 30 * kMillisPerMinute;
    auto r = OpenDB(o);
    REQUIRE(r.ok());
    db_ = std::move(*r);
  }

  Labels RandomLabels() {
    static const char* names[] = {"up", "reqs", "temp", "mem"};
    static const char* jobs[] = {"api", "db", "web"};
    LabelsBuilder b;
    b.Set("__name__", names[rng_() % 4]).Set("job", jobs[rng_() % 3]);
    b.Set("instance", "i" + std::to_string(rng_() % 7));
    if (rng_() % 3 == 0) b.Set("code", std::to_string(200 + 100 * (rng_() % 4)));
    return b.Build();
  }

  double RandomValue() {
    switch (rng_() % 6) {
      case 0: return static_cast<double>(rng_() % 10);
      case 1: return std::bit_cast<double>(rng_() | 1);  // any bit pattern (NaNs too)
      case 2: return StaleNaN();
      case 3: return static_cast<double>(rng_() % 100000) / 100;
      default: return static_cast<double>(rng_() % 1000000);
    }
  }

  // Appends `batches` batches. Per batch, each series moves forward by a random step, with
  // occasional out-of-order, duplicate and out-of-bounds attempts.
  void Append(int batches) {
    auto app = db_->NewAppender();
    auto model_app = model_.NewAppender();
    for (int b = 0; b < batches; ++b) {
      now_ += 1000 + static_cast<int64_t>(rng_() % 30000);
      clock_.Set(now_);
      int n = 1 + static_cast<int>(rng_() % 20);
      std::set<Labels> in_batch;
      for (int i = 0; i < n; ++i) {
        Labels l = RandomLabels();
        if (!in_batch.insert(l).second) continue;  // one sample per series per batch
        int64_t t = now_ - static_cast<int64_t>(rng_() % 3000);
        if (rng_() % 20 == 0) t -= 100000;           // often out of order
        if (rng_() % 200 == 0) t -= 5 * kMillisPerHour;  // out of bounds
        double v = RandomValue();
        auto r = app->Append(refs_[l], l, t, v);
        if (r.ok()) {
          refs_[l] = *r;
          // An exact repeat of the last sample is accepted without storing anything new.
          REQUIRE(model_app->Append(0, l, t, v).ok());
        } else {
          auto c = r.status().code();
          REQUIRE((c == StatusCode::kOutOfOrderSample || c == StatusCode::kOutOfBounds ||
                   c == StatusCode::kDuplicateSampleForTimestamp));
        }
      }
      if (rng_() % 10 == 0) {
        REQUIRE(app->Rollback().ok());
        REQUIRE(model_app->Rollback().ok());
      } else {
        REQUIRE(app->Commit().ok());
        REQUIRE(model_app->Commit().ok());
      }
    }
  }

  std::vector<Matcher> RandomMatchers() {
    std::vector<Matcher> ms;
    switch (rng_() % 7) {
      case 0: ms.push_back(M(MatchType::kEqual, "__name__", "reqs")); break;
      case 1: ms.push_back(M(MatchType::kRegexMatch, "job", "api|db")); break;
      case 2: ms.push_back(M(MatchType::kRegexMatch, "instance", "i[0-3]")); break;
      case 3:
        ms.push_back(M(MatchType::kEqual, "job", "web"));
        ms.push_back(M(MatchType::kNotEqual, "code", "200"));
        break;
      case 4:
        ms.push_back(M(MatchType::kRegexMatch, "__name__", ".+"));
        ms.push_back(M(MatchType::kEqual, "code", ""));
        break;
      case 5:
        ms.push_back(M(MatchType::kRegexMatch, "__name__", "up|temp"));
        ms.push_back(M(MatchType::kRegexNoMatch, "instance", "i1|i2"));
        break;
      default: ms.push_back(M(MatchType::kRegexMatch, "code", "[0-9]+")); break;
    }
    return ms;
  }

  void Compare(int queries) {
    for (int q = 0; q < queries; ++q) {
      int64_t a = kT0 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(now_ - kT0 + 1));
      int64_t b = a + static_cast<int64_t>(rng_() % 3600000);
      if (rng_() % 4 == 0) {
        a = kMinTime;
        b = kMaxTime;
      }
      auto ms = RandomMatchers();
      INFO("query " << q << " range " << a << ".." << b << " first matcher "
                    << ms[0].ToString());
      RequireSameSeries(ReadAll(*db_, a, b, ms), ReadAll(model_, a, b, ms));
    }
  }

  DB& db() { return *db_; }
  double Metric(const std::string& name) {
    std::string text = registry_->Render();
    auto pos = text.find("\n" + name + " ");
    return pos == std::string::npos ? -1 : std::stod(text.substr(pos + name.size() + 2));
  }

 private:
  std::mt19937_64 rng_;
  ManualClock clock_;
  int spc_;
  int64_t now_ = kT0;
  TempDir dir_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<DB> db_;
  storage::MemStore model_;
  std::map<Labels, storage::SeriesRef> refs_;
};

TEST_CASE("engine and reference model agree on random appends", "[tsdb][differential]") {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    INFO("seed " << seed);
    Differential d(seed);
    double removed = 0;
    for (int round = 0; round < 5; ++round) {
      d.Append(300);
      d.Compare(30);
      // Maintenance persists, removes idle series (they come back through their stored
      // refs) and checkpoints.
      REQUIRE(d.db().RunMaintenance().ok());
      removed += d.Metric("prometheus_tsdb_head_series_removed_total");
      d.Compare(10);
      if (round % 2 == 1) {
        d.Reopen();
        d.Compare(10);
      }
    }
    REQUIRE(removed > 0);
  }
}

}  // namespace
}  // namespace hearth::tsdb
