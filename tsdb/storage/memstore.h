#pragma once

// MemStore: a deliberately simple, fully in-memory Storage (a sorted vector of samples per
// series behind one mutex). It is the reference model the real engine is tested against and
// the data source of the PromQL script tests until they run on the real engine. Not for
// production: no compression, no durability, a global lock.
//
// Thread-safety: all methods are safe to call concurrently.

#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "tsdb/storage/storage.h"

namespace hearth::storage {

class MemStore final : public Storage {
 public:
  MemStore();
  ~MemStore() override;

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;
  int64_t StartTime() const override;
  Result<TsdbStats> Stats(size_t limit) override;
  std::vector<std::pair<std::string, MetricMetadata>> Metadata(std::string_view metric,
                                                               size_t limit) override;
  Status DeleteSeries(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) override;
  Status CleanTombstones() override { return Status::Ok(); }
  Result<std::string> Snapshot(bool) override {
    return Status(StatusCode::kUnimplemented, "MemStore has no snapshots");
  }
  Status Close() override { return Status::Ok(); }

  // Removes everything (the PromQL test scripts' `clear`).
  void Clear();

  struct SeriesData {
    Labels labels;
    std::vector<Sample> samples;  // sorted by t, unique t
  };

 private:
  friend class MemAppender;
  friend class MemQuerier;
  mutable std::mutex mu_;
  // Keyed by labels; shared_ptr so queriers keep a consistent snapshot of each series.
  std::map<Labels, std::shared_ptr<const SeriesData>> series_;
  std::map<std::string, MetricMetadata> metadata_;
};

}  // namespace hearth::storage
