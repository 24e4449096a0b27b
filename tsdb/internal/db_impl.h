#pragma once

// DBImpl: the engine behind tsdb::DB. Internal header (tsdb/*.cpp only).

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "tsdb/chunk_iterator.h"
#include "tsdb/head.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {

class DBImpl final : public DB {
 public:
  explicit DBImpl(const Options& options);
  ~DBImpl() override;

  Status Init();

  // storage::Storage
  std::unique_ptr<storage::Appender> NewAppender() override;
  Result<std::unique_ptr<storage::Querier>> NewQuerier(int64_t mint, int64_t maxt) override;
  int64_t StartTime() const override;
  Result<storage::TsdbStats> Stats(size_t limit) override;
  std::vector<std::pair<std::string, MetricMetadata>> Metadata(std::string_view metric,
                                                               size_t limit) override;
  Status DeleteSeries(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) override;
  Status CleanTombstones() override;
  Result<std::string> Snapshot(bool skip_head) override;
  Status Close() override;

  // tsdb::DB
  Status RunMaintenance() override;
  Status Checkpoint() override;
  std::vector<PartitionInfo> Partitions() override;
  Result<std::unique_ptr<Importer>> NewImporter(size_t max_buffered_samples) override;
  uint64_t DiskBytes() override;

  // For the querier and appender.
  Head& head() { return *head_; }
  Intervals TombstonesFor(SeriesRef ref) const;
  bool HasTombstones() const { return has_tombstones_.load(std::memory_order_relaxed); }
  Status SetMetadata(std::string_view metric, const MetricMetadata& meta);
  const Options& options() const { return options_; }

 private:
  void BackgroundLoop();

  Options options_;
  std::unique_ptr<Head> head_;

  mutable std::shared_mutex tombstones_mu_;
  std::unordered_map<SeriesRef, Intervals> tombstones_;
  std::atomic<bool> has_tombstones_{false};

  mutable std::shared_mutex metadata_mu_;
  std::map<std::string, MetricMetadata, std::less<>> metadata_;

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool closing_ = false;
  bool closed_ = false;
  std::thread bg_;
};

}  // namespace hearth::tsdb
