#pragma once

// The head: the in-memory part of the TSDB. One MemSeries per active series holds the series'
// open chunk (appended sample by sample) and the chunks sealed but not yet persisted. Series are
// found by label hash (collision chains compare full label sets) and by ref; postings cover the
// active series.
//
// Concurrency:
// - Appenders (one per scrape loop) look series up through sharded maps (a spin lock per shard
//   of the ref map, a mutex per shard of the hash map, taken only when a series is looked up by
//   labels) and apply samples under each series' own spin lock. No lock is global on the
//   per-sample path.
// - Commits and query snapshots meet at the CommitGate: commits apply concurrently with each
//   other; a query's snapshot of the head waits for the commits in flight and holds new ones
//   back briefly, so it never sees half a batch.
// - A MemSeries is freed only by Head::RemoveSeries, which the owner (the DB's maintenance) calls
//   only for series it has made idle and persisted; appenders in the middle of a batch keep
//   series alive through the head's epoch list (see BatchEpoch).
//
// What the head owns: series, postings, the commit gate. What it delegates (HeadHooks): making
// new series and commits durable, looking up persisted series, and persisting sealed chunks.

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/labels.h"
#include "model/metrics.h"
#include "model/status.h"
#include "tsdb/chunk/float_chunk.h"
#include "tsdb/chunk_iterator.h"
#include "tsdb/postings.h"
#include "tsdb/storage/storage.h"
#include "tsdb/sync.h"
#include "tsdb/u64_map.h"

namespace hearth::tsdb {

struct HeadOptions {
  int samples_per_chunk = 240;
  int64_t partition_ms = 2 * 3600 * 1000;
  // Samples older than the newest head sample minus this are out of bounds (Prometheus: half
  // the block range). 0 disables the check.
  int64_t out_of_bounds_window_ms = 3600 * 1000;
  // Tests force hash collisions with this; nullptr means Labels::Hash().
  uint64_t (*hash_for_test)(const Labels&) = nullptr;
};

// Mask used for a series' state flags.
enum SeriesFlag : uint8_t {
  kSeriesPersisted = 1,  // labels are stored in RocksDB (series CF)
  kSeriesRemoved = 2,    // dropped from the head's maps; appends must look the labels up again
};

struct MemSeries {
  MemSeries(SeriesRef r, Labels l) : ref(r), labels(std::move(l)) {}

  const SeriesRef ref;
  const Labels labels;
  MemSeries* hash_next = nullptr;  // collision chain; guarded by the hash shard's mutex

  SpinLock mu;  // guards everything below
  uint8_t flags = 0;
  bool have_hint = false;
  chunk::FloatParams hint;
  chunk::FloatEncoder open;       // the open chunk; empty right after a cut
  std::vector<ChunkBlob> sealed;  // sealed, not yet persisted, oldest first
  // The newest sample; last_t is also read without the lock for a quick out-of-order check.
  std::atomic<int64_t> last_t{kMinTime};
  uint64_t last_bits = 0;
  // Partition whose postings already list this series (persistence bookkeeping).
  int64_t indexed_partition = kMinTime;
  // Last time (by the DB clock) a sample was appended; drives idle-series removal.
  int64_t last_append_wall = 0;
};

// One sample of a commit, as the durable log records it.
struct LoggedSample {
  SeriesRef ref;
  int64_t t;
  double v;
};

class HeadHooks {
 public:
  virtual ~HeadHooks() = default;
  // A series is being created (or brought back into the head). Called before any other
  // appender can see the ref. An error refuses the series.
  virtual Status OnSeriesCreated(SeriesRef ref, const Labels& labels) = 0;
  // A batch is about to be applied; when this returns OK the batch is durable per the sync
  // policy. An error fails the commit and nothing is applied.
  virtual Status OnCommit(std::span<const LoggedSample> samples) = 0;
  // The ref under which `labels` were stored before (a series that left the head), or 0.
  virtual Result<SeriesRef> LookupPersisted(const Labels& labels) = 0;
  // Chunks were sealed in these series; persist them (MemSeries::sealed) now.
  virtual void OnChunksSealed(std::span<MemSeries* const> series) = 0;
};

// A series' data copied out of the head for a query.
struct SeriesSnapshot {
  SeriesRef ref = 0;
  Labels labels;
  std::vector<ChunkBlob> chunks;
};

class Head {
 public:
  Head(HeadOptions options, metrics::Registry& registry, const Clock& clock);
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // REQUIRES: called before any appender exists. The hooks must outlive the head.
  void SetHooks(HeadHooks* hooks) { hooks_ = hooks; }
  const HeadOptions& options() const { return options_; }

  std::unique_ptr<storage::Appender> NewAppender();

  // Series lookup. GetByRef returns nullptr for unknown refs.
  MemSeries* GetByRef(SeriesRef ref);
  // Finds the series of `labels` or creates it, reviving the ref it had: the stored one when
  // the hooks know it, else `preferred_ref` when nonzero (a series removed while an appender
  // held it keeps its logged ref), else a new one. `created` tells whether it was new to the
  // head.
  Result<MemSeries*> GetOrCreate(const Labels& labels, bool* created = nullptr,
                                 SeriesRef preferred_ref = 0);

  // The series of `labels` if it is in the head, else nullptr. The pointer is valid only
  // within an epoch (EnterBatch/ExitBatch).
  MemSeries* Find(const Labels& labels);
  // A fresh ref (the importer allocates refs for series it writes directly).
  SeriesRef AllocateRef() { return next_ref_.fetch_add(1); }

  // Recovery: creates a series with a known ref without calling OnSeriesCreated (the caller
  // replays it from durable state). Returns the existing series if the ref is present.
  MemSeries* CreateWithRef(SeriesRef ref, const Labels& labels);
  // Around a recovery that creates many series in no ref order (MemPostings::BeginBulk).
  void BeginBulkLoad() { postings_.BeginBulk(); }
  void EndBulkLoad() { postings_.EndBulk(); }
  // Recovery: appends a sample as a commit would, without hooks; samples at or before the
  // series' last timestamp are skipped. Returns whether the sample was applied.
  bool ReplaySample(MemSeries* s, int64_t t, double v, std::vector<MemSeries*>* cut);

  // Postings lookup over the head.
  Result<Postings> PostingsForMatchers(std::span<const Matcher> matchers);
  const MemPostings& postings() const { return postings_; }

  // Copies the chunks overlapping [mint, maxt] of the given series, at a point between
  // commits. Unknown refs are skipped.
  std::vector<SeriesSnapshot> Snapshot(std::span<const SeriesRef> refs, int64_t mint,
                                       int64_t maxt);

  // Calls f(series) for every series in the head (no order), keeping them alive meanwhile.
  // The series' own lock is not held; f must take it to read mutable fields.
  template <typename F>
  void ForEachSeries(F&& f);

  // Removes the series for which `removable` (called under the series' lock, with lookups
  // by labels held off) still says yes from the maps and postings, and frees them once no
  // batch that might hold them is in flight. Returns how many were removed.
  size_t RemoveSeries(std::span<MemSeries* const> series,
                      const std::function<bool(const MemSeries&)>& removable);
  // Drops every series (recovery starting over).
  void Clear();
  // Raises MaxTime to at least t.
  void ObserveMaxTime(int64_t t);

  // Frees removed series that no batch can reference any more.
  void ReclaimRemoved();

  // Refs are allocated from here; recovery raises it past every ref seen.
  SeriesRef next_ref() const { return next_ref_.load(); }
  void EnsureNextRefAbove(SeriesRef ref);

  size_t NumSeries() const { return num_series_.load(std::memory_order_relaxed); }
  int64_t MaxTime() const { return max_t_.load(std::memory_order_relaxed); }
  int64_t MinValidTime() const;
  // Raised by retention: samples before it are out of bounds.
  void SetMinValidTime(int64_t t);
  // Memory accounting (recomputed by UpdateMemoryStats).
  void UpdateMemoryStats();
  size_t MemoryBytes() const { return memory_bytes_.load(std::memory_order_relaxed); }

  // The gate between commits and query snapshots.
  CommitGate& gate() { return gate_; }

  // Epochs protect MemSeries pointers held by appenders within a batch.
  uint64_t EnterBatch();
  void ExitBatch(uint64_t epoch);

  // Applies one sample under the series lock (used by commits and replay). Returns the
  // status for rejected samples (kAlreadyExists for an exact repeat of the last sample,
  // kUnavailable when the series was removed); *cut is set when a chunk was sealed. `now` is
  // the wall clock (ms) recorded as the series' last append.
  Status Apply(MemSeries* s, int64_t t, double v, int64_t now, bool* cut);

  struct Metrics {
    metrics::Counter* samples_appended;
    metrics::Counter* out_of_order;
    metrics::Counter* out_of_bounds;
    metrics::Counter* duplicates;
    metrics::Counter* series_created;
    metrics::Counter* series_removed;
    metrics::Counter* chunks_created;
  };
  const Metrics& metrics() const { return metrics_; }
  HeadHooks* hooks() const { return hooks_; }

 private:
  friend class HeadAppender;
  static constexpr size_t kShards = 256;
  struct RefShard {
    SpinLock mu;
    U64Map<MemSeries> by_ref;
  };
  struct HashShard {
    std::mutex mu;
    U64Map<MemSeries> by_hash;  // head of the collision chain
  };
  void Publish(MemSeries* s);
  uint64_t LabelsHash(const Labels& l) const;

  HeadOptions options_;
  const Clock& clock_;
  HeadHooks* hooks_ = nullptr;
  std::unique_ptr<RefShard[]> ref_shards_;
  std::unique_ptr<HashShard[]> hash_shards_;
  MemPostings postings_;
  CommitGate gate_;
  std::atomic<SeriesRef> next_ref_{1};
  std::atomic<int64_t> min_valid_t_{kMinTime};
  // Figures read by gauge functions of the registry, which may outlive the head: shared.
  struct Cells {
    std::atomic<size_t> num_series{0};
    std::atomic<int64_t> max_t{kMinTime};
    std::atomic<size_t> memory_bytes{0};
  };
  std::shared_ptr<Cells> cells_ = std::make_shared<Cells>();
  std::atomic<size_t>& num_series_ = cells_->num_series;
  std::atomic<int64_t>& max_t_ = cells_->max_t;
  std::atomic<size_t>& memory_bytes_ = cells_->memory_bytes;

  std::mutex epoch_mu_;
  uint64_t epoch_ = 1;
  std::multiset<uint64_t> active_epochs_;
  std::vector<std::pair<uint64_t, MemSeries*>> removed_;  // (epoch of removal, series)

  Metrics metrics_;
};

template <typename F>
void Head::ForEachSeries(F&& f) {
  // An epoch keeps every series alive while f runs, even if maintenance removes it.
  const uint64_t epoch = EnterBatch();
  std::vector<MemSeries*> all;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(ref_shards_[i].mu);
    ref_shards_[i].by_ref.ForEach([&](uint64_t, MemSeries* s) { all.push_back(s); });
  }
  for (MemSeries* s : all) f(s);
  ExitBatch(epoch);
}

}  // namespace hearth::tsdb
