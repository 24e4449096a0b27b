// POST /api/v1/import/openmetrics (admin API): OpenMetrics text streamed into the storage
// (web/openmetrics_import.h); the body is read in pieces and never held whole.
//
// Answer: {"samplesImported":N,"samplesRejected":M,"errors":[{"line":L,"error":"..."},...]}
// with at most OpenMetricsImport::kMaxErrors errors listed (all are counted).

#include <cstring>

#include "web/internal/api_impl.h"
#include "web/openmetrics_import.h"

namespace hearth::web {
namespace {

constexpr size_t kAppenderCommitEvery = 10000;

// The sink without a bulk importer: the storage's appender, committing every few thousand
// samples.
class AppenderSink final : public ImportSink {
 public:
  explicit AppenderSink(storage::Storage& storage) : app_(storage.NewAppender()) {}
  Status Add(const Labels& labels, int64_t t, double v) override {
    auto r = app_->Append(0, labels, t, v);
    if (!r.ok()) return r.status();
    if (++pending_ >= kAppenderCommitEvery) {
      pending_ = 0;
      return app_->Commit();
    }
    return Status::Ok();
  }
  Status SetMetadata(std::string_view metric, const MetricMetadata& meta) override {
    return app_->UpdateMetadata(Labels{{kMetricName, metric}}, meta);
  }
  Status Flush() override {
    pending_ = 0;
    return app_->Commit();
  }

 private:
  std::unique_ptr<storage::Appender> app_;
  size_t pending_ = 0;
};

}  // namespace

void ApiImpl::ImportOpenMetrics(const HttpRequest& req, const Form&, ApiResponse& resp) {
  if (!CheckAdmin(resp)) return;
  std::unique_ptr<ImportSink> sink;
  if (sources_.new_import_sink) {
    auto s = sources_.new_import_sink();
    if (!s.ok()) return resp.Fail(ErrorType::kInternal, "import: " + s.status().message());
    sink = std::move(s).value();
  } else {
    sink = std::make_unique<AppenderSink>(storage_);
  }
  OpenMetricsImport import(*sink);
  size_t body_pos = 0;  // without a streaming reader: the position in req.body
  auto read = [&](char* buf, size_t size) -> Result<size_t> {
    if (req.read_body) return req.read_body(buf, size);
    size_t n = std::min(size, req.body.size() - body_pos);
    std::memcpy(buf, req.body.data() + body_pos, n);
    body_pos += n;
    return n;
  };
  if (Status st = import.Run(read); !st.ok()) {
    return resp.Fail(st.code() == StatusCode::kDeadlineExceeded ? ErrorType::kTimeout
                                                               : ErrorType::kInternal,
                     "import: " + st.message());
  }
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("samplesImported");
  w.Uint(import.imported());
  w.Key("samplesRejected");
  w.Uint(import.rejected());
  w.Key("errors");
  w.BeginArray();
  for (const ImportError& e : import.errors()) {
    w.BeginObject();
    w.Member("line", e.line);
    w.Member("error", e.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace hearth::web
