#pragma once

// The TSDB engine: the concrete storage behind tsdb/storage/storage.h. cmd/ opens it with
// tsdb::Open and hands the result to the scraper, the query engine and the API as a
// storage::Storage; tools (hearthctl tsdb ...) use the richer tsdb::DB.
//
//   tsdb::Options opts(flags.path, clock, registry, logger);
//   opts.retention_time_ms = ...;      // --storage.tsdb.retention.time (0: no limit)
//   opts.retention_size_bytes = ...;   // --storage.tsdb.retention.size (0: no limit)
//   HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> db, tsdb::Open(opts));
//   ... db->Close();
//
// Layout on disk and the sync policy: tsdb/FORMAT.md.
//
// Thread-safety: every method of DB may be called concurrently, except Close (last).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/duration.h"
#include "model/labels.h"
#include "model/log.h"
#include "model/metrics.h"
#include "model/sample.h"
#include "model/status.h"
#include "tsdb/storage/storage.h"

namespace hearth::tsdb {

// When a commit's log record reaches stable storage (FORMAT.md "Sync policy"). In every mode a
// commit's record is written to the kernel before Commit returns, so it survives the process
// being killed; the modes differ in what survives a machine crash or power loss.
enum class SyncPolicy {
  kInterval,     // fdatasync the log every sync_interval_ms (default; Prometheus-like)
  kEveryCommit,  // fdatasync before every Commit returns
};

struct Options {
  Options(std::string dir_, Clock& clock_, metrics::Registry& registry_,
          Logger logger_ = Logger::Discard())
      : dir(std::move(dir_)), clock(clock_), registry(registry_), logger(std::move(logger_)) {}

  std::string dir;              // data directory (created if missing)
  Clock& clock;                 // wall clock: retention, checkpoint timing, idle series
  metrics::Registry& registry;  // engine metrics (prometheus_tsdb_* names)
  Logger logger;

  // Retention (Prometheus: when neither flag is given, time defaults to 15d).
  int64_t retention_time_ms = 15 * kMillisPerDay;  // 0: no time limit
  uint64_t retention_size_bytes = 0;               // 0: no size limit

  SyncPolicy sync = SyncPolicy::kInterval;
  int64_t sync_interval_ms = 1000;

  // Tuning; the defaults are what the benchmarks were run with.
  int64_t partition_ms = 2 * kMillisPerHour;   // time partition (one RocksDB column family)
  int samples_per_chunk = 240;                 // an open chunk is sealed at this many samples
  int64_t checkpoint_interval_ms = 5 * kMillisPerMinute;  // head checkpoint at least this often
  uint64_t checkpoint_log_bytes = 64 << 20;    // ... or when the log grows by this much
  int64_t idle_series_ms = kMillisPerHour;     // series without samples leave the head after
  size_t block_cache_bytes = 64 << 20;         // RocksDB block cache (shared by all partitions)
  size_t write_buffer_bytes = 64 << 20;        // RocksDB memtables, all column families
  bool background_maintenance = true;          // a thread runs RunMaintenance periodically
  int64_t maintenance_interval_ms = 10000;
  bool read_only = false;  // inspection tools: no writes, no log replay into the database
  // Close writes a head checkpoint so the next start replays no log. Tests turn it off to
  // exercise log replay.
  bool checkpoint_on_close = true;
};

// One time partition, as inspection tools see it.
struct PartitionInfo {
  int64_t start = 0;  // ms, inclusive
  int64_t end = 0;    // ms, exclusive
  uint64_t bytes = 0;  // on disk (SST files)
  uint64_t num_series = 0;  // series with chunks in the partition (estimate)
};

// Writes samples of many series in any order straight into sealed chunks (backfill). Samples
// are buffered, sorted per series and written as chunks and postings when Flush is called or
// the buffer is full. Samples that duplicate a timestamp keep the last value added.
//
// Thread-safety: one thread at a time.
class Importer {
 public:
  virtual ~Importer() = default;
  virtual Status Add(const Labels& labels, int64_t t, double v) = 0;
  virtual Status SetMetadata(std::string_view metric, const MetricMetadata& meta) = 0;
  // Writes everything buffered. Must be called before the importer is destroyed.
  virtual Status Flush() = 0;
  virtual uint64_t samples_written() const = 0;
};

class DB : public storage::Storage {
 public:
  // Checkpoints if due, removes idle series from the head, applies retention. Called by the
  // background thread; tests call it directly (with background_maintenance = false).
  virtual Status RunMaintenance() = 0;
  // Writes a head checkpoint now (recovery then reads only the log written after it).
  virtual Status Checkpoint() = 0;
  virtual std::vector<PartitionInfo> Partitions() = 0;
  // REQUIRES: not read_only. `max_buffered_samples` bounds memory (about 24 bytes each);
  // chunks written by separate flushes may overlap and are merged when read.
  virtual Result<std::unique_ptr<Importer>> NewImporter(size_t max_buffered_samples) = 0;
  // Total bytes of the data directory (what size retention counts).
  virtual uint64_t DiskBytes() = 0;
};

Result<std::unique_ptr<DB>> OpenDB(const Options& options);
Result<std::unique_ptr<storage::Storage>> Open(const Options& options);

}  // namespace hearth::tsdb
