// POST /api/v1/import/openmetrics: streamed OpenMetrics into the storage.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/web/api_fixture.h"

using namespace hearth;
using hearth::testing::ApiFixture;
using hearth::testing::HttpRequestRaw;

namespace {

web::ApiOptions Admin() {
  web::ApiOptions o;
  o.enable_admin_api = true;
  return o;
}

testing::HttpResult Import(ApiFixture& f, const std::string& body, bool chunked = false) {
  std::string head = "POST /api/v1/import/openmetrics HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/openmetrics-text; version=1.0.0\r\n"
                     "Connection: close\r\n";
  if (!chunked) {
    return HttpRequestRaw(f.port, head + "Content-Length: " + std::to_string(body.size()) +
                                      "\r\n\r\n" + body, 60000);
  }
  std::string raw = head + "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t pos = 0; pos < body.size(); pos += 65536) {
    std::string piece = body.substr(pos, 65536);
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%zx\r\n", piece.size());
    raw += hex + piece + "\r\n";
  }
  return HttpRequestRaw(f.port, raw + "0\r\n\r\n", 60000);
}

std::vector<Sample> Samples(storage::Storage& s, const std::string& name, const std::string& k,
                            const std::string& v) {
  auto q = s.NewQuerier(kMinTime, kMaxTime);
  REQUIRE(q.ok());
  std::vector<Matcher> ms{*Matcher::Make(MatchType::kEqual, "__name__", name),
                          *Matcher::Make(MatchType::kEqual, k, v)};
  auto set = (*q)->Select(true, {}, ms);
  std::vector<Sample> out;
  while (set->Next()) {
    auto it = set->At().Iterator();
    while (it->Next()) out.push_back(it->At());
  }
  return out;
}

nlohmann::json Data(const testing::HttpResult& r) {
  auto j = nlohmann::json::parse(r.body);
  REQUIRE(j["status"] == "success");
  return j["data"];
}

}  // namespace

TEST_CASE("import needs the admin API", "[web][api][import]") {
  ApiFixture f;
  auto r = Import(f, "# EOF\n");
  CHECK(r.status == 500);
  CHECK(r.body == R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
}

TEST_CASE("import writes samples and metadata and counts them", "[web][api][import]") {
  ApiFixture f(Admin());
  auto r = Import(f,
                  "# HELP http_requests_total Requests.\n"
                  "# TYPE http_requests_total counter\n"
                  "http_requests_total{code=\"200\"} 1 1700000000\n"
                  "http_requests_total{code=\"200\"} 5 1700000015.5\n"
                  "http_requests_total{code=\"500\"} 2 1700000000\n"
                  "# TYPE temp_celsius gauge\n"
                  "# UNIT temp_celsius celsius\n"
                  "temp_celsius NaN 1700000000\n"
                  "# EOF\n");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"success","data":{"samplesImported":4,"samplesRejected":0,)"
                  R"("errors":[]}})");
  auto s = Samples(f.store, "http_requests_total", "code", "200");
  REQUIRE(s.size() == 2);
  CHECK(s[0].t == 1700000000000);
  CHECK(s[1].t == 1700000015500);
  CHECK(s[1].v == 5);
  auto md = f.store.Metadata("", 0);
  REQUIRE(md.size() == 2);
  CHECK(md[0].first == "http_requests_total");
  CHECK(md[0].second.type == MetricType::kCounter);
  CHECK(md[0].second.help == "Requests.");
  CHECK(md[1].second.unit == "celsius");
}

TEST_CASE("import reports bad lines with their line numbers and goes on", "[web][api][import]") {
  ApiFixture f(Admin());
  auto r = Import(f,
                  "a 1 1700000000\n"
                  "a{x=} 1 1700000000\n"
                  "b 2\n"
                  "c 3 1700000000\n"
                  "# EOF\n");
  CHECK(r.status == 200);
  auto d = Data(r);
  CHECK(d["samplesImported"] == 2);
  CHECK(d["samplesRejected"] == 2);
  REQUIRE(d["errors"].size() == 2);
  CHECK(d["errors"][0]["line"] == 2);
  CHECK(d["errors"][0]["error"].get<std::string>().find("(line 2, column") != std::string::npos);
  CHECK(d["errors"][1]["line"] == 3);
  CHECK(d["errors"][1]["error"] == "expected timestamp for series {__name__=\"b\"}, got none");
  CHECK(Samples(f.store, "c", "__name__", "c").size() == 1);

  SECTION("a missing # EOF is reported; what came before is kept") {
    auto m = Import(f, "d 1 1700000000\nd 2 1700000001\n");
    auto dm = Data(m);
    CHECK(dm["samplesImported"] == 2);
    REQUIRE(dm["errors"].size() == 1);
    CHECK(dm["errors"][0]["line"] == 3);
    CHECK(dm["errors"][0]["error"].get<std::string>().rfind("data does not end with # EOF", 0) == 0);
  }
  SECTION("data after # EOF") {
    auto m = Import(f, "e 1 1700000000\n# EOF\ne 2 1700000001\n");
    auto dm = Data(m);
    CHECK(dm["samplesImported"] == 1);
    REQUIRE(dm["errors"].size() == 1);
    CHECK(dm["errors"][0]["error"].get<std::string>().rfind("unexpected data after # EOF", 0) == 0);
  }
}

TEST_CASE("large imports stream past the body limit, across batches", "[web][api][import]") {
  auto wo = ApiFixture::LocalWebOptions();
  wo.max_body_bytes = 1 << 20;
  ApiFixture f(Admin(), {}, wo);
  std::string body = "# TYPE big gauge\n";
  const int kSeries = 50, kPoints = 2000;  // 100k samples, ~4 MB
  for (int p = 0; p < kPoints; ++p) {
    for (int s = 0; s < kSeries; ++s) {
      body += "big{series=\"s" + std::to_string(s) + "\",pad=\"xxxxxxxxxx\"} " +
              std::to_string(p) + " " + std::to_string(1700000000 + p * 15) + "\n";
    }
    if (p == 1500) body += "big{broken 1 2\n";  // line in a later batch
  }
  body += "# EOF\n";
  REQUIRE(body.size() > 3 * (1 << 20));
  // A whole body this size is refused elsewhere.
  CHECK(f.Post("/api/v1/query", "query=" + body.substr(0, 2 << 20)).status == 413);
  for (bool chunked : {false, true}) {
    f.store.Clear();
    auto r = Import(f, body, chunked);
    REQUIRE(r.status == 200);
    auto d = Data(r);
    CHECK(d["samplesImported"] == kSeries * kPoints);
    CHECK(d["samplesRejected"] == 1);
    REQUIRE(d["errors"].size() == 1);
    // Line of the broken entry: 1 TYPE line + 1501 rounds of 50 samples, then it.
    CHECK(d["errors"][0]["line"] == 1 + 1501 * kSeries + 1);
    auto s = Samples(f.store, "big", "series", "s7");
    REQUIRE(s.size() == static_cast<size_t>(kPoints));
    CHECK(s.back().v == kPoints - 1);
    CHECK(s.back().t == (1700000000LL + (kPoints - 1) * 15) * 1000);
  }
}

namespace {

// A sink that refuses old samples and can fail outright.
class PickySink final : public web::ImportSink {
 public:
  explicit PickySink(bool fail) : fail_(fail) {}
  Status Add(const Labels&, int64_t t, double) override {
    if (fail_) return Status(StatusCode::kIOError, "disk full");
    if (t < 1700000000000) return Status(StatusCode::kOutOfBounds, "out of bounds");
    ++added;
    return Status::Ok();
  }
  Status SetMetadata(std::string_view, const MetricMetadata&) override { return Status::Ok(); }
  Status Flush() override {
    if (flushes != nullptr) ++*flushes;
    return Status::Ok();
  }
  std::optional<uint64_t> Written() const override { return written; }
  std::optional<uint64_t> written;
  int added = 0;
  int* flushes = nullptr;  // counted here: the sink dies with its request

 private:
  bool fail_;
};

}  // namespace

TEST_CASE("import writes through the configured sink", "[web][api][import]") {
  int flushes = 0;
  bool fail = false;
  std::optional<uint64_t> src_written;
  web::ApiSources src;
  src.new_import_sink = [&]() -> Result<std::unique_ptr<web::ImportSink>> {
    auto s = std::make_unique<PickySink>(fail);
    s->written = src_written;
    s->flushes = &flushes;
    return std::unique_ptr<web::ImportSink>(std::move(s));
  };
  ApiFixture f(Admin(), src);
  auto r = Import(f, "x 1 1600000000\nx 2 1700000000\n# EOF\n");
  auto d = Data(r);
  CHECK(d["samplesImported"] == 1);
  CHECK(d["samplesRejected"] == 1);
  CHECK(d["errors"][0]["line"] == 1);
  CHECK(d["errors"][0]["error"] == "{__name__=\"x\"}: out of bounds");
  CHECK(flushes == 1);
  // A sink that drops samples silently (retention) reports how many it wrote.
  src_written = 2;
  auto partly = Data(Import(f, "x 1 1700000000\nx 2 1700000001\nx 3 1700000002\n# EOF\n"));
  CHECK(partly["samplesImported"] == 2);
  CHECK(partly["samplesRejected"] == 1);
  CHECK(partly["errors"][0]["line"] == 0);
  CHECK(partly["errors"][0]["error"] == "1 samples were not written: older than the retention "
                                        "time or repeating a timestamp");
  src_written.reset();
  fail = true;
  auto bad = Import(f, "x 1 1700000000\n# EOF\n");
  CHECK(bad.status == 500);
  CHECK(bad.body == R"({"status":"error","errorType":"internal","error":"import: disk full"})");
}
