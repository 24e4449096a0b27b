#pragma once

// Query-side pieces shared by the querier and the tools: a selected series (labels plus the
// chunks that cover the query range) and the series set over a list of them.

#include <memory>
#include <string>
#include <vector>

#include "tsdb/chunk_iterator.h"
#include "tsdb/storage/storage.h"

namespace hearth::tsdb {

class DBImpl;

class SelectedSeries final : public storage::Series {
 public:
  SelectedSeries(Labels labels, std::vector<ChunkBlob> chunks, int64_t mint, int64_t maxt,
                 Intervals deleted)
      : labels_(std::move(labels)), chunks_(std::move(chunks)), mint_(mint), maxt_(maxt),
        deleted_(std::move(deleted)) {}
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<storage::SampleIterator> Iterator() const override {
    return std::make_unique<ChunksIterator>(chunks_, mint_, maxt_, deleted_);
  }
  // Whether the series surely has a sample in range without decoding (a chunk lies inside
  // the range and nothing is deleted).
  bool SurelyNonEmpty() const;
  std::vector<ChunkBlob>& chunks() { return chunks_; }

 private:
  Labels labels_;
  std::vector<ChunkBlob> chunks_;
  int64_t mint_, maxt_;
  Intervals deleted_;
};

// A series set over selected series; series without a sample in range are skipped unless
// `labels_only`.
class ListSeriesSet final : public storage::SeriesSet {
 public:
  ListSeriesSet(std::vector<SelectedSeries> series, bool labels_only, size_t limit)
      : series_(std::move(series)), labels_only_(labels_only), limit_(limit) {}
  explicit ListSeriesSet(Status error) : status_(std::move(error)) {}
  bool Next() override;
  const storage::Series& At() const override { return series_[pos_]; }
  Status status() const override { return status_; }

 private:
  std::vector<SelectedSeries> series_;
  bool labels_only_ = false;
  size_t limit_ = 0;
  size_t returned_ = 0;
  size_t pos_ = static_cast<size_t>(-1);
  Status status_;
};

std::unique_ptr<storage::Querier> NewDBQuerier(DBImpl* db, int64_t mint, int64_t maxt);

}  // namespace hearth::tsdb
