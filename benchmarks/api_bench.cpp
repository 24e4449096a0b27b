// The API's hot paths: encoding query results as JSON (a Grafana dashboard's range queries),
// gzip of the answer, form parsing, and a whole /api/v1/query_range round trip over loopback.
#include <benchmark/benchmark.h>

#include "tests/common/http_client.h"
#include "tsdb/storage/memstore.h"
#include "web/api.h"
#include "web/api_params.h"
#include "web/compress.h"
#include "web/internal/api_impl.h"

namespace {

using namespace hearth;

promql::Matrix MakeMatrix(int series, int points) {
  promql::Matrix m;
  for (int s = 0; s < series; ++s) {
    promql::MatrixSeries ms;
    ms.labels = Labels{{"__name__", "http_requests_total"},
                       {"instance", "10.0.0." + std::to_string(s % 250) + ":8000"},
                       {"job", "api"},
                       {"method", s % 2 ? "GET" : "POST"},
                       {"code", std::to_string(200 + s % 5)}};
    for (int p = 0; p < points; ++p) {
      ms.samples.push_back({1712345670000 + int64_t{p} * 15000, 1234.5 + p * 0.25 + s});
    }
    m.push_back(std::move(ms));
  }
  return m;
}

// 100 series x 1000 points: a busy range panel. Reports samples/s and bytes/s of JSON.
void BM_EncodeMatrix(benchmark::State& state) {
  promql::Value v = MakeMatrix(100, static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    out.reserve(bytes);
    web::JsonWriter w(&out);
    web::WriteResult(w, v);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 100 * state.range(0));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_EncodeMatrix)->Arg(1000);

void BM_EncodeVector(benchmark::State& state) {
  promql::Vector vec;
  for (const auto& s : MakeMatrix(static_cast<int>(state.range(0)), 1)) {
    vec.push_back({s.labels, s.samples[0].t, s.samples[0].v});
  }
  promql::Value v = std::move(vec);
  for (auto _ : state) {
    std::string out;
    web::JsonWriter w(&out);
    web::WriteResult(w, v);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeVector)->Arg(10000);

void BM_GzipAnswer(benchmark::State& state) {
  promql::Value v = MakeMatrix(100, 1000);
  std::string json;
  web::JsonWriter w(&json);
  web::WriteResult(w, v);
  for (auto _ : state) benchmark::DoNotOptimize(web::GzipCompress(json));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_GzipAnswer);

void BM_ParseForm(benchmark::State& state) {
  web::HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  req.body =
      "end=1712349240&query=histogram_quantile%280.99%2C+sum%28rate%28http_request_duration_"
      "seconds_bucket%7Bjob%3D%22api%22%7D%5B1m0s%5D%29%29+by+%28le%29%29&start=1712345640&step=15";
  req.query = "max_samples_processed_warning_threshold=1000000";
  for (auto _ : state) benchmark::DoNotOptimize(web::Form::Parse(req));
}
BENCHMARK(BM_ParseForm);

// A round trip through the HTTP server: query_range answered from a canned result, so that
// the figure is the API's own cost (parsing, encoding, HTTP), not the engine's.
class CannedEngine final : public web::QueryEngine {
 public:
  explicit CannedEngine(promql::Matrix m) : m_(std::move(m)) {}
  Result<promql::QueryResult> Instant(storage::Queryable&, std::string_view, int64_t,
                                      const promql::QueryOptions&) override {
    return Status(StatusCode::kInvalidArgument, "not used");
  }
  Result<promql::QueryResult> Range(storage::Queryable&, std::string_view, int64_t, int64_t,
                                    int64_t, const promql::QueryOptions&) override {
    promql::QueryResult r;
    r.value = m_;
    return r;
  }

 private:
  promql::Matrix m_;
};

void BM_QueryRangeRoundTrip(benchmark::State& state) {
  storage::MemStore store;
  CannedEngine engine(MakeMatrix(10, static_cast<int>(state.range(0))));
  ManualClock clock(1712345678000);
  metrics::Registry registry;
  web::WebOptions wo;
  wo.listen_address = "127.0.0.1:0";
  web::WebServer web(wo, registry, Logger::Discard());
  auto api = web::Api::Make({}, store, engine, {}, clock, Logger::Discard());
  (*api)->Register(web);
  if (!web.Start().ok()) {
    state.SkipWithError("cannot start the server");
    return;
  }
  web.SetReady(true);
  for (auto _ : state) {
    auto r = testing::HttpPost(web.port(), "/api/v1/query_range",
                               "query=x&start=1712345640&end=1712349240&step=15");
    if (r.status != 200) state.SkipWithError("request failed");
  }
  web.Stop();
}
BENCHMARK(BM_QueryRangeRoundTrip)->Arg(240)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
