#include "tsdb/head.h"

#include <algorithm>
#include <bit>

#include "model/clock.h"

namespace hearth::tsdb {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Status OutOfOrder() { return Status(StatusCode::kOutOfOrderSample, "out of order sample"); }
Status OutOfBounds() { return Status(StatusCode::kOutOfBounds, "out of bounds"); }
Status Duplicate() {
  return Status(StatusCode::kDuplicateSampleForTimestamp, "duplicate sample for timestamp");
}

// Hash shard index uses other bits than U64Map's probe position.
size_t HashShardOf(uint64_t h, size_t shards) { return static_cast<size_t>(h >> 52) % shards; }
size_t RefShardOf(SeriesRef r, size_t shards) { return static_cast<size_t>(r) % shards; }
uint64_t HashKey(uint64_t h) { return h == 0 ? 1 : h; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Appender

class HeadAppender final : public storage::Appender {
 public:
  explicit HeadAppender(Head* head) : head_(head) {}
  ~HeadAppender() override {
    if (epoch_ != 0) head_->ExitBatch(epoch_);
  }

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v,
                           const storage::AppendOptions& opts) override {
    if (opts.histogram) {
      return Status(StatusCode::kUnimplemented, "native histograms are not supported yet");
    }
    if (epoch_ == 0) epoch_ = head_->EnterBatch();
    MemSeries* s = ref != 0 ? head_->GetByRef(ref) : nullptr;
    if (s == nullptr) {
      if (labels.empty()) {
        return ref != 0 ? Errorf(StatusCode::kNotFound, "unknown series ref {}", ref)
                        : Status(StatusCode::kInvalidArgument, "empty labelset");
      }
      HEARTH_ASSIGN_OR_RETURN(s, head_->GetOrCreate(labels));
    }
    if (t < head_->MinValidTime()) {
      head_->metrics_.out_of_bounds->Inc();
      return OutOfBounds();
    }
    const int64_t last = s->last_t.load(std::memory_order_relaxed);
    if (t <= last) {
      if (t < last) {
        head_->metrics_.out_of_order->Inc();
        return OutOfOrder();
      }
      std::lock_guard lock(s->mu);
      if (t == s->last_t.load(std::memory_order_relaxed)) {
        if (s->last_bits == std::bit_cast<uint64_t>(v)) return s->ref;  // same sample again
        head_->metrics_.duplicates->Inc();
        return Duplicate();
      }
    }
    pending_.push_back({s, t, v});
    return s->ref;
  }

  Status UpdateMetadata(const Labels&, const MetricMetadata&) override {
    // Metadata is kept by the DB; a head-only appender has nowhere to put it.
    return Status::Ok();
  }

  Status Commit() override {
    Status result;
    if (!pending_.empty()) result = CommitPending();
    pending_.clear();
    if (epoch_ != 0) {
      head_->ExitBatch(epoch_);
      epoch_ = 0;
    }
    return result;
  }

  Status Rollback() override {
    pending_.clear();
    if (epoch_ != 0) {
      head_->ExitBatch(epoch_);
      epoch_ = 0;
    }
    return Status::Ok();
  }

 private:
  struct Pending {
    MemSeries* s;
    int64_t t;
    double v;
  };

  Status CommitPending() {
    HeadHooks* hooks = head_->hooks();
    const int64_t now = head_->clock_.NowMs();
    uint64_t applied = 0;
    int64_t max_t = kMinTime;
    cut_.clear();
    // The gate covers logging and applying together: a checkpoint rotates the log under the
    // gate, so every commit logged before the rotation is applied before its snapshot.
    head_->gate_.EnterCommit();
    if (hooks != nullptr) {
      logged_.clear();
      logged_.reserve(pending_.size());
      for (const Pending& p : pending_) logged_.push_back({p.s->ref, p.t, p.v});
      if (Status st = hooks->OnCommit(logged_); !st.ok()) {
        head_->gate_.ExitCommit();
        return st;
      }
    }
    for (Pending& p : pending_) {
      bool cut = false;
      Status st = head_->Apply(p.s, p.t, p.v, now, &cut);
      if (st.code() == StatusCode::kUnavailable) {
        // The series left the head since Append looked it up: find (or revive) it again.
        auto again = head_->GetOrCreate(p.s->labels, nullptr, p.s->ref);
        if (!again.ok()) continue;
        p.s = *again;
        st = head_->Apply(p.s, p.t, p.v, now, &cut);
      }
      if (!st.ok()) continue;
      ++applied;
      max_t = std::max(max_t, p.t);
      if (cut) cut_.push_back(p.s);
    }
    head_->gate_.ExitCommit();
    head_->metrics_.samples_appended->Inc(static_cast<double>(applied));
    int64_t cur = head_->max_t_.load(std::memory_order_relaxed);
    while (max_t > cur && !head_->max_t_.compare_exchange_weak(cur, max_t)) {
    }
    if (!cut_.empty() && hooks != nullptr) hooks->OnChunksSealed(cut_);
    return Status::Ok();
  }

  Head* head_;
  uint64_t epoch_ = 0;
  std::vector<Pending> pending_;
  std::vector<LoggedSample> logged_;
  std::vector<MemSeries*> cut_;
};

// ---------------------------------------------------------------------------------------------
// Head

Head::Head(HeadOptions options, metrics::Registry& registry, const Clock& clock)
    : options_(options),
      clock_(clock),
      ref_shards_(new RefShard[kShards]),
      hash_shards_(new HashShard[kShards]) {
  auto typed = [&](std::string name, std::string help) {
    return &registry.NewCounterFamily(std::move(name), std::move(help), {"type"}).With({"float"});
  };
  metrics_.samples_appended =
      typed("prometheus_tsdb_head_samples_appended_total", "Total number of appended samples.");
  metrics_.out_of_order = typed("prometheus_tsdb_out_of_order_samples_total",
                                "Total number of out of order samples ingestion failed attempts "
                                "due to out of order being disabled.");
  metrics_.out_of_bounds =
      typed("prometheus_tsdb_out_of_bounds_samples_total",
            "Total number of out of bound samples ingestion failed attempts with out of order "
            "support disabled.");
  metrics_.duplicates = typed("hearth_tsdb_duplicate_samples_total",
                              "Total number of samples rejected because another value was "
                              "already stored for their series and timestamp.");
  metrics_.series_created = &registry.NewCounter("prometheus_tsdb_head_series_created_total",
                                                 "Total number of series created in the head");
  metrics_.series_removed = &registry.NewCounter("prometheus_tsdb_head_series_removed_total",
                                                 "Total number of series removed in the head");
  metrics_.chunks_created = &registry.NewCounter("prometheus_tsdb_head_chunks_created_total",
                                                 "Total number of chunks created in the head");
  std::shared_ptr<Cells> cells = cells_;
  registry.NewGaugeFunc("prometheus_tsdb_head_series", "Total number of series in the head block.",
                        [cells] { return static_cast<double>(cells->num_series.load()); });
  registry.NewGaugeFunc("prometheus_tsdb_head_max_time",
                        "Maximum timestamp of the head block. The unit is decided by the library "
                        "consumer.",
                        [cells] {
                          int64_t t = cells->max_t.load();
                          return t == kMinTime ? 0.0 : static_cast<double>(t);
                        });
  registry.NewGaugeFunc("hearth_tsdb_head_memory_bytes",
                        "Estimated heap bytes of the head: series, labels, open chunks, index "
                        "(recomputed by maintenance).",
                        [cells] { return static_cast<double>(cells->memory_bytes.load()); });
  registry.NewGaugeFunc("hearth_tsdb_head_memory_bytes_per_series",
                        "hearth_tsdb_head_memory_bytes divided by the number of head series.",
                        [cells] {
                          size_t n = cells->num_series.load();
                          return n == 0 ? 0.0
                                        : static_cast<double>(cells->memory_bytes.load()) /
                                              static_cast<double>(n);
                        });
}

Head::~Head() {
  std::vector<MemSeries*> all;
  for (size_t i = 0; i < kShards; ++i) {
    ref_shards_[i].by_ref.ForEach([&](uint64_t, MemSeries* s) { all.push_back(s); });
  }
  for (MemSeries* s : all) delete s;
  for (auto& [e, s] : removed_) delete s;
}

uint64_t Head::LabelsHash(const Labels& l) const {
  return options_.hash_for_test != nullptr ? options_.hash_for_test(l) : l.Hash();
}

std::unique_ptr<storage::Appender> Head::NewAppender() {
  return std::make_unique<HeadAppender>(this);
}

MemSeries* Head::GetByRef(SeriesRef ref) {
  RefShard& shard = ref_shards_[RefShardOf(ref, kShards)];
  std::lock_guard lock(shard.mu);
  return shard.by_ref.Get(ref);
}

void Head::Publish(MemSeries* s) {
  {
    RefShard& shard = ref_shards_[RefShardOf(s->ref, kShards)];
    std::lock_guard lock(shard.mu);
    shard.by_ref.Put(s->ref, s);
  }
  postings_.Add(s->ref, s->labels);
  num_series_.fetch_add(1, std::memory_order_relaxed);
}

Result<MemSeries*> Head::GetOrCreate(const Labels& labels, bool* created,
                                     SeriesRef preferred_ref) {
  if (created) *created = false;
  const uint64_t h = LabelsHash(labels);
  const uint64_t key = HashKey(h);
  HashShard& shard = hash_shards_[HashShardOf(h, kShards)];
  std::lock_guard lock(shard.mu);
  for (MemSeries* s = shard.by_hash.Get(key); s != nullptr; s = s->hash_next) {
    if (s->labels == labels) return s;
  }
  SeriesRef ref = 0;
  bool persisted = false;
  if (hooks_ != nullptr) {
    HEARTH_ASSIGN_OR_RETURN(ref, hooks_->LookupPersisted(labels));
    persisted = ref != 0;
  }
  if (ref == 0) ref = preferred_ref;
  if (ref == 0) ref = next_ref_.fetch_add(1);
  auto s = std::make_unique<MemSeries>(ref, labels);
  if (persisted) s->flags |= kSeriesPersisted;
  // A new series is not idle: maintenance must not remove it before its first commit.
  s->last_append_wall = clock_.NowMs();
  if (hooks_ != nullptr) HEARTH_RETURN_IF_ERROR(hooks_->OnSeriesCreated(ref, labels));
  s->hash_next = shard.by_hash.Get(key);
  shard.by_hash.Put(key, s.get());
  Publish(s.get());
  metrics_.series_created->Inc();
  if (created) *created = true;
  return s.release();
}

MemSeries* Head::Find(const Labels& labels) {
  const uint64_t h = LabelsHash(labels);
  HashShard& shard = hash_shards_[HashShardOf(h, kShards)];
  std::lock_guard lock(shard.mu);
  for (MemSeries* s = shard.by_hash.Get(HashKey(h)); s != nullptr; s = s->hash_next) {
    if (s->labels == labels) return s;
  }
  return nullptr;
}

MemSeries* Head::CreateWithRef(SeriesRef ref, const Labels& labels) {
  if (MemSeries* s = GetByRef(ref)) return s;
  const uint64_t h = LabelsHash(labels);
  const uint64_t key = HashKey(h);
  HashShard& shard = hash_shards_[HashShardOf(h, kShards)];
  std::lock_guard lock(shard.mu);
  auto* s = new MemSeries(ref, labels);
  s->hash_next = shard.by_hash.Get(key);
  shard.by_hash.Put(key, s);
  Publish(s);
  EnsureNextRefAbove(ref);
  return s;
}

void Head::EnsureNextRefAbove(SeriesRef ref) {
  SeriesRef cur = next_ref_.load();
  while (cur <= ref && !next_ref_.compare_exchange_weak(cur, ref + 1)) {
  }
}

int64_t Head::MinValidTime() const {
  int64_t floor = min_valid_t_.load(std::memory_order_relaxed);
  const int64_t max_t = max_t_.load(std::memory_order_relaxed);
  if (options_.out_of_bounds_window_ms > 0 && max_t != kMinTime &&
      max_t > kMinTime + options_.out_of_bounds_window_ms) {
    floor = std::max(floor, max_t - options_.out_of_bounds_window_ms);
  }
  return floor;
}

void Head::SetMinValidTime(int64_t t) {
  int64_t cur = min_valid_t_.load();
  while (t > cur && !min_valid_t_.compare_exchange_weak(cur, t)) {
  }
}

Status Head::Apply(MemSeries* s, int64_t t, double v, int64_t now, bool* cut) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  std::lock_guard lock(s->mu);
  if (s->flags & kSeriesRemoved) return Status(StatusCode::kUnavailable, "series removed");
  const int64_t last = s->last_t.load(std::memory_order_relaxed);
  if (t <= last) {
    if (t == last && bits == s->last_bits) return Status(StatusCode::kAlreadyExists, "");
    if (t == last) {
      metrics_.duplicates->Inc();
      return Duplicate();
    }
    metrics_.out_of_order->Inc();
    return OutOfOrder();
  }
  if (!s->open.empty() &&
      (s->open.count() >= options_.samples_per_chunk ||
       FloorDiv(t, options_.partition_ms) != FloorDiv(s->open.min_time(), options_.partition_ms))) {
    s->sealed.push_back(ChunkBlob{s->open.min_time(), s->open.max_time(),
                                  std::make_shared<const std::string>(s->open.Bytes())});
    s->hint = s->open.params();
    s->open = chunk::FloatEncoder(s->hint);
    metrics_.chunks_created->Inc();
    *cut = true;
  }
  if (s->open.empty()) {
    if (!s->have_hint) {
      s->hint = chunk::GuessParams(v);
      s->have_hint = true;
    }
    s->open = chunk::FloatEncoder(s->hint);
  }
  s->open.Append(t, v);
  s->last_t.store(t, std::memory_order_relaxed);
  s->last_bits = bits;
  s->last_append_wall = now;
  return Status::Ok();
}

bool Head::ReplaySample(MemSeries* s, int64_t t, double v, std::vector<MemSeries*>* cut) {
  bool was_cut = false;
  Status st = Apply(s, t, v, clock_.NowMs(), &was_cut);
  if (was_cut && cut != nullptr) cut->push_back(s);
  if (st.ok()) {
    int64_t cur = max_t_.load(std::memory_order_relaxed);
    while (t > cur && !max_t_.compare_exchange_weak(cur, t)) {
    }
  }
  return st.ok();
}

Result<Postings> Head::PostingsForMatchers(std::span<const Matcher> matchers) {
  MemIndexReader reader(postings_);
  return tsdb::PostingsForMatchers(reader, matchers);
}

std::vector<SeriesSnapshot> Head::Snapshot(std::span<const SeriesRef> refs, int64_t mint,
                                           int64_t maxt) {
  std::vector<SeriesSnapshot> out;
  out.reserve(refs.size());
  const uint64_t epoch = EnterBatch();
  gate_.EnterExclusive();
  for (SeriesRef ref : refs) {
    MemSeries* s = GetByRef(ref);
    if (s == nullptr) continue;
    SeriesSnapshot snap;
    {
      std::lock_guard lock(s->mu);
      for (const ChunkBlob& b : s->sealed) {
        if (b.max_t >= mint && b.min_t <= maxt) snap.chunks.push_back(b);
      }
      if (!s->open.empty() && s->open.max_time() >= mint && s->open.min_time() <= maxt) {
        snap.chunks.push_back(ChunkBlob{s->open.min_time(), s->open.max_time(),
                                        std::make_shared<const std::string>(s->open.Bytes())});
      }
    }
    if (snap.chunks.empty()) continue;
    snap.ref = ref;
    snap.labels = s->labels;
    out.push_back(std::move(snap));
  }
  gate_.ExitExclusive();
  ExitBatch(epoch);
  return out;
}

uint64_t Head::EnterBatch() {
  std::lock_guard lock(epoch_mu_);
  active_epochs_.insert(epoch_);
  return epoch_;
}

void Head::ExitBatch(uint64_t epoch) {
  std::lock_guard lock(epoch_mu_);
  auto it = active_epochs_.find(epoch);
  if (it != active_epochs_.end()) active_epochs_.erase(it);
}

size_t Head::RemoveSeries(std::span<MemSeries* const> series,
                          const std::function<bool(const MemSeries&)>& removable) {
  std::vector<MemSeries*> removed;
  for (MemSeries* s : series) {
    const uint64_t h = LabelsHash(s->labels);
    const uint64_t key = HashKey(h);
    HashShard& hs = hash_shards_[HashShardOf(h, kShards)];
    {
      // Holding the hash shard keeps GetOrCreate for these labels waiting until the series is
      // gone from the chain, so an appender that finds it removed creates a fresh one.
      std::lock_guard lock(hs.mu);
      {
        std::lock_guard slock(s->mu);
        if ((s->flags & kSeriesRemoved) || !removable(*s)) continue;
        s->flags |= kSeriesRemoved;
      }
      MemSeries* head = hs.by_hash.Get(key);
      if (head == s) {
        if (s->hash_next != nullptr) {
          hs.by_hash.Put(key, s->hash_next);
        } else {
          hs.by_hash.Erase(key);
        }
      } else {
        for (MemSeries* p = head; p != nullptr; p = p->hash_next) {
          if (p->hash_next == s) {
            p->hash_next = s->hash_next;
            break;
          }
        }
      }
    }
    RefShard& rs = ref_shards_[RefShardOf(s->ref, kShards)];
    {
      std::lock_guard lock(rs.mu);
      rs.by_ref.Erase(s->ref);
    }
    removed.push_back(s);
  }
  if (removed.empty()) return 0;
  std::sort(removed.begin(), removed.end(),
            [](const MemSeries* a, const MemSeries* b) { return a->ref < b->ref; });
  std::vector<SeriesRef> refs;
  std::vector<const Labels*> labels;
  for (MemSeries* s : removed) {
    refs.push_back(s->ref);
    labels.push_back(&s->labels);
  }
  postings_.Delete(refs, labels);
  num_series_.fetch_sub(removed.size(), std::memory_order_relaxed);
  metrics_.series_removed->Inc(static_cast<double>(removed.size()));
  std::lock_guard lock(epoch_mu_);
  for (MemSeries* s : removed) removed_.push_back({epoch_, s});
  ++epoch_;
  return removed.size();
}

void Head::Clear() {
  std::vector<MemSeries*> all;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(ref_shards_[i].mu);
    ref_shards_[i].by_ref.ForEach([&](uint64_t, MemSeries* s) { all.push_back(s); });
    ref_shards_[i].by_ref = U64Map<MemSeries>();
  }
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(hash_shards_[i].mu);
    hash_shards_[i].by_hash = U64Map<MemSeries>();
  }
  postings_.Load({}, {});
  for (MemSeries* s : all) delete s;
  num_series_.store(0);
  max_t_.store(kMinTime);
}

void Head::ObserveMaxTime(int64_t t) {
  int64_t cur = max_t_.load(std::memory_order_relaxed);
  while (t > cur && !max_t_.compare_exchange_weak(cur, t)) {
  }
}

void Head::ReclaimRemoved() {
  std::vector<MemSeries*> free;
  {
    std::lock_guard lock(epoch_mu_);
    const uint64_t min_active =
        active_epochs_.empty() ? ~uint64_t{0} : *active_epochs_.begin();
    std::erase_if(removed_, [&](const std::pair<uint64_t, MemSeries*>& r) {
      if (r.first < min_active) {
        free.push_back(r.second);
        return true;
      }
      return false;
    });
  }
  for (MemSeries* s : free) delete s;
}

void Head::UpdateMemoryStats() {
  size_t bytes = postings_.MemoryBytes();
  for (size_t i = 0; i < kShards; ++i) {
    bytes += ref_shards_[i].by_ref.MemoryBytes();
    std::lock_guard lock(hash_shards_[i].mu);
    bytes += hash_shards_[i].by_hash.MemoryBytes();
  }
  const uint64_t epoch = EnterBatch();
  ForEachSeries([&](MemSeries* s) {
    // Allocation overhead of malloc (16 bytes per block) is included.
    bytes += sizeof(MemSeries) + 16 + s->labels.ByteSize() + 16;
    std::lock_guard lock(s->mu);
    if (s->open.MemoryBytes() > 0) bytes += s->open.MemoryBytes() + 16;
    bytes += s->sealed.capacity() * sizeof(ChunkBlob);
    for (const ChunkBlob& b : s->sealed) bytes += b.bytes->capacity() + 48;
  });
  ExitBatch(epoch);
  memory_bytes_.store(bytes, std::memory_order_relaxed);
}

}  // namespace hearth::tsdb
