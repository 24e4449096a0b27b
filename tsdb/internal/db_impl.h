#pragma once

// DBImpl: the engine behind tsdb::DB. Internal header (tsdb/*.cpp only).
//
// Threads and locks:
// - appenders run in their callers' threads; they persist chunks they sealed themselves
//   (HeadHooks::OnChunksSealed) with one RocksDB write batch per commit that sealed any;
// - the background thread syncs the log (SyncPolicy::kInterval) and runs RunMaintenance;
// - maint_mu_ serialises maintenance, checkpoints, tombstone cleaning and snapshots;
// - tombstones_mu_ and metadata_mu_ guard the in-memory copies of what the store keeps.

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
#include "tsdb/internal/store.h"
#include "tsdb/log.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {

class DBImpl final : public DB, private HeadHooks {
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

  // For the querier, appender and importer.
  Head& head() { return *head_; }
  Store* store() { return store_.get(); }
  Intervals TombstonesFor(SeriesRef ref) const;
  bool HasTombstones() const { return has_tombstones_.load(std::memory_order_relaxed); }
  Status SetMetadata(std::string_view metric, const MetricMetadata& meta);
  const Options& options() const { return options_; }
  bool read_only() const { return options_.read_only; }
  int64_t PartitionStart(int64_t t) const;
  // The oldest time retention keeps (kMinTime without time retention).
  int64_t RetentionCutoff() const;

 private:
  friend class DBImporter;

  // HeadHooks
  Status OnSeriesCreated(SeriesRef ref, const Labels& labels) override;
  Status OnCommit(std::span<const LoggedSample> samples) override;
  Result<SeriesRef> LookupPersisted(const Labels& labels) override;
  void OnChunksSealed(std::span<MemSeries* const> series) override;

  // Writes the sealed chunks of these series to RocksDB and drops them from the head.
  Status PersistSealed(std::span<MemSeries* const> series);
  Status Recover();
  Status LoadCheckpoint(const std::string& path, uint64_t* next_ref);
  Status ReplayLog(uint64_t from_seq, uint64_t* last_seq);
  Status WriteHeadCheckpoint(const std::string& path);
  Status CheckpointLocked();
  Status ApplyRetention();
  Status RemoveIdleSeries();
  void BackgroundLoop();
  std::string WalDir() const { return options_.dir + "/wal"; }

  Options options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LogWriter> log_;
  std::unique_ptr<Head> head_;

  std::mutex maint_mu_;
  int64_t last_checkpoint_wall_ = 0;
  uint64_t checkpoint_seq_ = 0;       // replay starts at this segment
  uint64_t prev_checkpoint_seq_ = 0;  // the fallback checkpoint (kept with its segments)

  mutable std::shared_mutex tombstones_mu_;
  std::map<SeriesRef, Intervals> tombstones_;
  std::atomic<bool> has_tombstones_{false};

  mutable std::shared_mutex metadata_mu_;
  std::map<std::string, MetricMetadata, std::less<>> metadata_;

  struct Metrics {
    metrics::Counter* log_corruptions;
    metrics::Counter* checkpoints;
    metrics::Counter* checkpoint_failures;
    metrics::Counter* time_retentions;
    metrics::Counter* size_retentions;
    metrics::Counter* chunks_persisted;
    metrics::Counter* persist_failures;
    metrics::Gauge* replay_seconds;
  } metrics_{};
  struct Cells {
    std::atomic<uint64_t> partitions{0};
    std::atomic<uint64_t> disk_bytes{0};
    std::atomic<int64_t> lowest_time{0};
  };
  std::shared_ptr<Cells> cells_ = std::make_shared<Cells>();

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool closing_ = false;
  bool closed_ = false;
  std::thread bg_;
};

}  // namespace hearth::tsdb
