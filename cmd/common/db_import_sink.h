#pragma once

// The OpenMetrics import's sink (web/openmetrics_import.h) over the TSDB's bulk importer:
// samples of any age and order written as sealed chunks. Used by `hearth` for
// POST /api/v1/import/openmetrics and by `hearthctl tsdb import openmetrics` on a data dir.

#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "tsdb/tsdb.h"
#include "web/api_sources.h"

namespace hearth {

class DbImportSink final : public web::ImportSink {
 public:
  explicit DbImportSink(std::unique_ptr<tsdb::Importer> importer)
      : importer_(std::move(importer)) {}

  Status Add(const Labels& labels, int64_t t, double v) override {
    return importer_->Add(labels, t, v);
  }
  Status SetMetadata(std::string_view metric, const MetricMetadata& meta) override {
    return importer_->SetMetadata(metric, meta);
  }
  Status Flush() override { return importer_->Flush(); }
  std::optional<uint64_t> Written() const override { return importer_->samples_written(); }

  // About 48 MiB of buffered samples per import.
  static constexpr size_t kMaxBufferedSamples = size_t{1} << 21;

  static Result<std::unique_ptr<web::ImportSink>> Make(tsdb::DB& db) {
    HEARTH_ASSIGN_OR_RETURN(auto importer, db.NewImporter(kMaxBufferedSamples));
    return std::unique_ptr<web::ImportSink>(std::make_unique<DbImportSink>(std::move(importer)));
  }

 private:
  std::unique_ptr<tsdb::Importer> importer_;
};

}  // namespace hearth
