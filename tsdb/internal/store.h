#pragma once

// Store: the RocksDB side of the engine (FORMAT.md sections 2 and 3). Column families:
//   default        format version, metric metadata, tombstones
//   series         series labels by ref, and a label-hash index to find refs by labels
//   c<start>_<len> one per time partition: sealed chunks keyed by series ref and min time
//   i<start>_<len> one per time partition: postings of the series with chunks in it
// Retention drops the two column families of a partition.
//
// Thread-safety: all methods are safe for concurrent use. Partition objects are shared: a
// dropped partition's files go away when the last query holding it is done.

#include <atomic>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "model/log.h"
#include "model/sample.h"
#include "model/status.h"
#include "tsdb/chunk_iterator.h"
#include "tsdb/postings.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {

struct Partition {
  int64_t start = 0;
  int64_t len = 0;
  rocksdb::ColumnFamilyHandle* chunks = nullptr;
  rocksdb::ColumnFamilyHandle* index = nullptr;
  std::shared_ptr<rocksdb::DB> db;  // keeps the database open until the handles are gone
  std::atomic<bool> dropped{false};

  int64_t end() const {  // exclusive
    int64_t e;
    return __builtin_add_overflow(start, len, &e) ? kMaxTime : e;
  }
  bool Overlaps(int64_t mint, int64_t maxt) const { return start <= maxt && end() > mint; }
  ~Partition();
};
using PartitionPtr = std::shared_ptr<Partition>;

struct StoreOptions {
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 64 << 20;
  bool read_only = false;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& opts,
                                             Logger logger);
  ~Store();

  // ---- partitions
  std::vector<PartitionPtr> Partitions() const;  // ascending by start
  std::vector<PartitionPtr> PartitionsOverlapping(int64_t mint, int64_t maxt) const;
  PartitionPtr FindPartition(int64_t start) const;
  // The partition [start, start+len), created if missing.
  Result<PartitionPtr> GetOrCreatePartition(int64_t start, int64_t len);
  Status DropPartitions(std::span<const PartitionPtr> parts);
  // SST bytes (plus memtable bytes not yet flushed, when asked).
  uint64_t PartitionBytes(const Partition& p, bool with_memtables = false);

  // ---- writes (all in one atomic batch)
  class Batch {
   public:
    void PutChunk(const Partition& p, SeriesRef ref, const ChunkBlob& c);
    void DeleteChunk(const Partition& p, SeriesRef ref, int64_t min_t, uint8_t origin);
    void PutPostings(const Partition& p, SeriesRef ref, const Labels& labels);
    void DeletePostings(const Partition& p, SeriesRef ref, const Labels& labels);
    void PutSeries(SeriesRef ref, const Labels& labels);
    void PutMetadata(std::string_view metric, const MetricMetadata& m);
    void PutTombstones(SeriesRef ref, const Intervals& iv);
    void DeleteTombstones(SeriesRef ref);
    size_t Count() const { return static_cast<size_t>(wb_.Count()); }

   private:
    friend class Store;
    explicit Batch(Store* s) : s_(s) {}
    Store* s_;
    rocksdb::WriteBatch wb_;
  };
  Batch NewBatch() { return Batch(this); }
  Status Write(Batch& b);

  // ---- series
  // The ref stored for exactly these labels, or 0.
  Result<SeriesRef> FindSeries(const Labels& labels);
  // Labels of each ref (empty Labels for unknown refs).
  Result<std::vector<Labels>> GetLabels(std::span<const SeriesRef> refs);
  Result<SeriesRef> MaxSeriesRef();
  // Calls f(ref, labels) for every stored series.
  Status ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& f);

  // ---- reading partitions (consistent at the snapshot the reader was made with)
  class PartitionReader final : public IndexReader {
   public:
    PartitionReader(Store* s, PartitionPtr p);
    ~PartitionReader() override;
    Result<Postings> PostingsFor(std::string_view name,
                                 std::span<const std::string> values) override;
    Result<std::vector<std::string>> LabelValues(std::string_view name) override;
    Result<Postings> AllPostings() override;
    Result<std::vector<std::string>> LabelNames();
    // Chunks of `ref` overlapping [mint, maxt], ascending by min time. REQUIRES: refs asked
    // for in ascending order for best speed (the iterator moves forward).
    Status Chunks(SeriesRef ref, int64_t mint, int64_t maxt, std::vector<ChunkBlob>* out);
    // Every chunk key in the partition: f(ref, min_t, max_t, bytes).
    Status ForEachChunk(
        const std::function<Status(SeriesRef, int64_t, int64_t, std::string_view)>& f);
    const Partition& partition() const { return *p_; }

   private:
    Store* s_;
    PartitionPtr p_;
    const rocksdb::Snapshot* snap_;
    std::unique_ptr<rocksdb::Iterator> chunk_it_;
  };

  // ---- metadata, tombstones
  Status LoadMetadata(std::map<std::string, MetricMetadata, std::less<>>* out);
  Status LoadTombstones(std::map<SeriesRef, Intervals>* out);

  // ---- admin
  Status CreateCheckpoint(const std::string& dir);
  Status SyncWAL();
  Status Flush();

 private:
  Store() = default;
  Status OpenPartitionHandles(std::vector<rocksdb::ColumnFamilyHandle*>& handles);

  std::shared_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* series_cf_ = nullptr;
  rocksdb::ColumnFamilyOptions chunks_opts_, index_opts_;
  bool read_only_ = false;
  Logger logger_;
  mutable std::shared_mutex mu_;
  std::map<int64_t, PartitionPtr> partitions_;
};

}  // namespace hearth::tsdb
