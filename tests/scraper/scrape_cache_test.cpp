#include "scraper/scrape_cache.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "model/relabel.h"
#include "tests/scraper/store_util.h"
#include "tsdb/storage/memstore.h"

namespace {

using namespace hearth;
using namespace hearth::scraper;
using hearth::scraper::testing::Read;

constexpr std::string_view kText = "text/plain; version=0.0.4";

Labels TargetLabels() { return Labels{{"job", "api"}, {"instance", "h:1"}}; }

struct Scrape {
  storage::MemStore store;
  ScrapeCache cache;
  explicit Scrape(ScrapeOptions o = {}) : cache(TargetLabels(), std::move(o)) {}
  AppendResult Run(std::string_view body, int64_t t, std::string_view ct = kText) {
    auto app = store.NewAppender();
    AppendResult r = cache.Append(*app, body, ct, t);
    if (!r.error.ok()) {
      REQUIRE(app->Rollback().ok());
      cache.AppendFailure(*app, t);
    }
    cache.AppendReport(*app, t, r.error.ok(), 0.01, r);
    REQUIRE(app->Commit().ok());
    return r;
  }
};

RelabelConfig Rc(RelabelAction a, std::vector<std::string> src, std::string regex,
                 std::string target = "", std::string replacement = "$1") {
  RelabelConfig c;
  c.action = a;
  c.source_labels = std::move(src);
  c.regex = RelabelRegex::Make(regex).value();
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return c;
}

}  // namespace

TEST_CASE("scrape cache appends samples with target labels and one timestamp",
          "[scraper][cache]") {
  Scrape s;
  auto r = s.Run("# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 5\nb 2.5\n",
                 1000);
  REQUIRE(r.error.ok());
  CHECK(r.samples_scraped == 2);
  CHECK(r.samples_post_relabel == 2);
  CHECK(r.series_added == 2);
  auto all = Read(s.store);
  REQUIRE(all.count("{__name__=\"a_total\", instance=\"h:1\", job=\"api\", x=\"1\"}"));
  auto a = all["{__name__=\"a_total\", instance=\"h:1\", job=\"api\", x=\"1\"}"];
  REQUIRE(a.size() == 1);
  CHECK(a[0].t == 1000);
  CHECK(a[0].v == 5);
  CHECK(all["{__name__=\"up\", instance=\"h:1\", job=\"api\"}"][0].v == 1);
  CHECK(all["{__name__=\"scrape_samples_scraped\", instance=\"h:1\", job=\"api\"}"][0].v == 2);
  CHECK(all["{__name__=\"scrape_series_added\", instance=\"h:1\", job=\"api\"}"][0].v == 2);
  // Second scrape: known series, nothing added.
  r = s.Run("a_total{x=\"1\"} 6\nb 2.5\n", 2000);
  CHECK(r.series_added == 0);
  CHECK(s.cache.size() == 2);
  auto md = s.cache.Metadata();
  REQUIRE(md.size() == 1);
  CHECK(md[0].metric == "a_total");
  CHECK(md[0].type == MetricType::kCounter);
  CHECK(md[0].help == "Things.");
  // Metadata also reached the storage.
  auto smd = s.store.Metadata("a_total", 0);
  REQUIRE(smd.size() == 1);
  CHECK(smd[0].second.help == "Things.");
}

TEST_CASE("scrape cache writes staleness markers for series that disappear",
          "[scraper][cache]") {
  Scrape s;
  s.Run("a 1\nb 1\n", 1000);
  s.Run("a 2\n", 2000);
  auto all = Read(s.store, "b");
  auto b = all["{__name__=\"b\", instance=\"h:1\", job=\"api\"}"];
  REQUIRE(b.size() == 2);
  CHECK(b[1].t == 2000);
  CHECK(IsStaleNaN(b[1].v));
  // A failed scrape marks everything stale; the report says up=0.
  auto r = s.Run("garbage{", 3000);
  CHECK_FALSE(r.error.ok());
  auto a = Read(s.store, "a")["{__name__=\"a\", instance=\"h:1\", job=\"api\"}"];
  REQUIRE(a.size() == 3);
  CHECK(IsStaleNaN(a[2].v));
  auto up = Read(s.store, "up")["{__name__=\"up\", instance=\"h:1\", job=\"api\"}"];
  CHECK(up.back().v == 0);
  CHECK(up.back().t == 3000);
  // End of run: report series go stale too.
  auto app = s.store.NewAppender();
  s.cache.AppendEndOfRun(*app, 4000);
  REQUIRE(app->Commit().ok());
  up = Read(s.store, "up")["{__name__=\"up\", instance=\"h:1\", job=\"api\"}"];
  CHECK(IsStaleNaN(up.back().v));
}

TEST_CASE("honor_labels and honor_timestamps behave as Prometheus", "[scraper][cache]") {
  SECTION("conflicting labels become exported_ by default") {
    Scrape s;
    s.Run("m{job=\"other\",exported_job=\"x\"} 1\n", 1000);
    auto all = Read(s.store, "m");
    CHECK(all.count("{__name__=\"m\", exported_exported_job=\"other\", exported_job=\"x\", "
                    "instance=\"h:1\", job=\"api\"}") == 1);
  }
  SECTION("honor_labels keeps the exposed value") {
    ScrapeOptions o;
    o.honor_labels = true;
    Scrape s(o);
    s.Run("m{job=\"other\"} 1\n", 1000);
    CHECK(Read(s.store, "m").count("{__name__=\"m\", instance=\"h:1\", job=\"other\"}") == 1);
  }
  SECTION("explicit timestamps are honored, or not") {
    Scrape s;
    s.Run("m 1 1500\n", 1000);
    CHECK(Read(s.store, "m").begin()->second[0].t == 1500);
    ScrapeOptions o;
    o.honor_timestamps = false;
    Scrape t(o);
    t.Run("m 1 1500\n", 1000);
    CHECK(Read(t.store, "m").begin()->second[0].t == 1000);
  }
  SECTION("series with explicit timestamps get no staleness markers") {
    Scrape s;
    s.Run("m 1 1500\n", 1000);
    s.Run("", 2000);
    auto m = Read(s.store, "m").begin()->second;
    CHECK(m.size() == 1);
    ScrapeOptions o;
    o.track_timestamps_staleness = true;
    Scrape t(o);
    t.Run("m 1 1500\n", 1000);
    t.Run("", 2000);
    auto m2 = Read(t.store, "m").begin()->second;
    REQUIRE(m2.size() == 2);
    CHECK(IsStaleNaN(m2[1].v));
  }
}

TEST_CASE("metric_relabel_configs rewrite and drop series, drops are cached",
          "[scraper][cache]") {
  ScrapeOptions o;
  o.metric_relabel_configs.push_back(Rc(RelabelAction::kDrop, {"__name__"}, "go_.*"));
  o.metric_relabel_configs.push_back(
      Rc(RelabelAction::kReplace, {"code"}, "(\\d)..", "class", "${1}xx"));
  Scrape s(o);
  auto r = s.Run("go_goroutines 5\nhttp_total{code=\"200\"} 3\nhttp_total{code=\"503\"} 1\n",
                 1000);
  REQUIRE(r.error.ok());
  CHECK(r.samples_scraped == 3);
  CHECK(r.samples_post_relabel == 2);
  auto all = Read(s.store, "go_goroutines|http_total");
  CHECK(all.size() == 2);
  CHECK(all.count("{__name__=\"http_total\", class=\"2xx\", code=\"200\", instance=\"h:1\", "
                  "job=\"api\"}") == 1);
  r = s.Run("go_goroutines 6\nhttp_total{code=\"200\"} 4\nhttp_total{code=\"503\"} 1\n", 2000);
  CHECK(r.samples_post_relabel == 2);
  CHECK(r.series_added == 0);
}

TEST_CASE("limits fail the scrape with Prometheus' error text", "[scraper][cache]") {
  SECTION("sample_limit") {
    ScrapeOptions o;
    o.sample_limit = 2;
    Scrape s(o);
    auto r = s.Run("a 1\nb 1\nc 1\n", 1000);
    CHECK(r.error.message() == "sample limit exceeded");
    CHECK(r.samples_scraped == 3);
    CHECK(Read(s.store, "a|b|c").empty());
    CHECK(Read(s.store, "up").begin()->second[0].v == 0);
  }
  SECTION("label_limit") {
    ScrapeOptions o;
    o.label_limit = 3;
    Scrape s(o);
    auto r = s.Run("a{x=\"1\",y=\"2\"} 1\n", 1000);
    CHECK(r.error.message() ==
          "label_limit exceeded (metric: a{x=\"1\",y=\"2\"}, number of labels: 5, limit: 3)");
  }
  SECTION("label_name_length_limit") {
    ScrapeOptions o;
    o.label_name_length_limit = 9;  // __name__ (8) passes
    Scrape s(o);
    auto r = s.Run("a{verylongname=\"1\"} 1\n", 1000);
    CHECK(r.error.message() ==
          "label_name_length_limit exceeded (metric: a{verylongname=\"1\"}, label name: "
          "verylongname, length: 12, limit: 9)");
  }
  SECTION("label_value_length_limit") {
    ScrapeOptions o;
    o.label_value_length_limit = 3;
    Scrape s(o);
    auto r = s.Run("a{x=\"long\"} 1\n", 1000);
    CHECK(r.error.message() ==
          "label_value_length_limit exceeded (metric: a{x=\"long\"}, label name: x, value: "
          "\"long\", length: 4, limit: 3)");
  }
  SECTION("missing metric name after relabeling") {
    ScrapeOptions o;
    o.metric_relabel_configs.push_back(Rc(RelabelAction::kLabelDrop, {}, "__name__"));
    Scrape s(o);
    auto r = s.Run("a 1\n", 1000);
    CHECK(r.error.message() == "missing metric name (__name__ label)");
  }
  SECTION("unsupported content type") {
    Scrape s;
    auto r = s.Run("a 1\n", 1000, "application/json");
    CHECK(r.error.message() ==
          "received unsupported Content-Type \"application/json\" and no "
          "fallback_scrape_protocol specified for target");
  }
}

TEST_CASE("OpenMetrics bodies are scraped, timestamps in seconds", "[scraper][cache]") {
  Scrape s;
  auto r = s.Run("# TYPE foo counter\nfoo_total 17 1520879607.789 # {id=\"x\"} 5\n# EOF\n", 1000,
                 "application/openmetrics-text; version=1.0.0; charset=utf-8");
  REQUIRE(r.error.ok());
  auto foo = Read(s.store, "foo_total").begin()->second;
  CHECK(foo[0].t == 1520879607789);
  CHECK(foo[0].v == 17);
  auto md = s.cache.Metadata();
  REQUIRE(md.size() == 1);
  CHECK(md[0].metric == "foo");
}
