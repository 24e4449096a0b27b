// The bulk importer (backfill): samples of many series in any order become sealed chunks
// and postings written straight into the time partitions, bypassing the head and the log.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "tsdb/internal/db_impl.h"

namespace hearth::tsdb {

class DBImporter final : public Importer {
 public:
  DBImporter(DBImpl* db, size_t max_buffered) : db_(db), max_buffered_(max_buffered) {}
  ~DBImporter() override = default;

  Status Add(const Labels& labels, int64_t t, double v) override {
    if (labels.empty()) return Status(StatusCode::kInvalidArgument, "empty labelset");
    Entry* e = nullptr;
    if (last_ != nullptr && last_->labels == labels) {
      e = last_;
    } else {
      auto& bucket = entries_[labels.Hash()];
      for (Entry& x : bucket) {
        if (x.labels == labels) {
          e = &x;
          break;
        }
      }
      if (e == nullptr) {
        bucket.push_back(Entry{labels, {}});
        e = &bucket.back();
      }
      last_ = e;
    }
    e->samples.push_back({t, v});
    if (++buffered_ >= max_buffered_) return Flush();
    return Status::Ok();
  }

  Status SetMetadata(std::string_view metric, const MetricMetadata& meta) override {
    return db_->SetMetadata(metric, meta);
  }

  Status Flush() override {
    last_ = nullptr;
    Store* store = db_->store();
    Head& head = db_->head();
    const Options& o = db_->options();
    const int64_t cutoff = db_->RetentionCutoff();
    Store::Batch batch = store->NewBatch();
    // One consistent reader per partition for this flush, to merge with earlier imports.
    std::map<int64_t, std::unique_ptr<Store::PartitionReader>> readers;
    for (auto& [hash, bucket] : entries_) {
      for (Entry& e : bucket) {
        std::vector<Sample>& s = e.samples;
        SortDedupe(&s);
        std::erase_if(s, [&](const Sample& x) { return x.t < cutoff; });
        if (s.empty()) continue;
        HEARTH_ASSIGN_OR_RETURN(SeriesRef ref, Resolve(e.labels, batch, head, *store));
        chunk::FloatParams hint = chunk::GuessParams(s[0].v);
        for (size_t i = 0; i < s.size();) {
          const int64_t start = db_->PartitionStart(s[i].t);
          size_t j = i;
          while (j < s.size() && db_->PartitionStart(s[j].t) == start) ++j;
          HEARTH_ASSIGN_OR_RETURN(PartitionPtr p,
                                  store->GetOrCreatePartition(start, o.partition_ms));
          auto& reader = readers[start];
          if (!reader) reader = std::make_unique<Store::PartitionReader>(store, p);
          std::vector<Sample> merged(s.begin() + static_cast<ptrdiff_t>(i),
                                     s.begin() + static_cast<ptrdiff_t>(j));
          HEARTH_RETURN_IF_ERROR(MergeEarlierImports(*reader, *p, ref, &merged, batch));
          for (size_t k = 0; k < merged.size();) {
            const size_t n = std::min(merged.size() - k, static_cast<size_t>(o.samples_per_chunk));
            std::span<const Sample> part(merged.data() + k, n);
            ChunkBlob blob{part.front().t, part.back().t,
                           std::make_shared<const std::string>(
                               chunk::EncodeFloatChunkBest(part, hint, &hint)),
                           kOriginImport};
            batch.PutChunk(*p, ref, blob);
            k += n;
          }
          batch.PutPostings(*p, ref, e.labels);
          written_ += j - i;
          i = j;
          if (batch.Count() >= 20000) {
            HEARTH_RETURN_IF_ERROR(store->Write(batch));
            batch = store->NewBatch();
          }
        }
      }
    }
    HEARTH_RETURN_IF_ERROR(store->Write(batch));
    entries_.clear();
    buffered_ = 0;
    return Status::Ok();
  }

  uint64_t samples_written() const override { return written_; }

 private:
  struct Entry {
    Labels labels;
    std::vector<Sample> samples;
  };

  // Sorts by time; of equal timestamps the sample added last wins.
  static void SortDedupe(std::vector<Sample>* v) {
    std::vector<Sample>& s = *v;
    std::stable_sort(s.begin(), s.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
    size_t w = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (w > 0 && s[w - 1].t == s[i].t) {
        s[w - 1] = s[i];
      } else {
        s[w++] = s[i];
      }
    }
    s.resize(w);
  }

  // Folds chunks an earlier flush imported for `ref` into `samples` (which win on equal
  // timestamps) and deletes them, so imports never leave two chunks under one key.
  Status MergeEarlierImports(Store::PartitionReader& reader, const Partition& p, SeriesRef ref,
                             std::vector<Sample>* samples, Store::Batch& batch) {
    std::vector<ChunkBlob> chunks;
    HEARTH_RETURN_IF_ERROR(reader.Chunks(ref, kMinTime, kMaxTime, &chunks));
    std::vector<Sample> old;
    for (const ChunkBlob& c : chunks) {
      if (c.origin != kOriginImport) continue;
      HEARTH_ASSIGN_OR_RETURN(auto decoded, chunk::DecodeFloatChunk(*c.bytes));
      old.insert(old.end(), decoded.begin(), decoded.end());
      batch.DeleteChunk(p, ref, c.min_t, c.origin);
    }
    if (old.empty()) return Status::Ok();
    old.insert(old.end(), samples->begin(), samples->end());  // later entries win
    SortDedupe(&old);
    *samples = std::move(old);
    return Status::Ok();
  }

  // The series' ref: the head's, the stored one, or a new one (stored in this batch).
  Result<SeriesRef> Resolve(const Labels& labels, Store::Batch& batch, Head& head, Store& store) {
    const uint64_t epoch = head.EnterBatch();
    MemSeries* s = head.Find(labels);
    SeriesRef ref = s != nullptr ? s->ref : 0;
    head.ExitBatch(epoch);
    if (ref == 0) {
      HEARTH_ASSIGN_OR_RETURN(ref, store.FindSeries(labels));
    }
    if (ref == 0) {
      ref = head.AllocateRef();
      batch.PutSeries(ref, labels);
    } else if (s != nullptr) {
      // A head series whose labels may not be stored yet.
      batch.PutSeries(ref, labels);
    }
    return ref;
  }

  DBImpl* db_;
  size_t max_buffered_;
  std::unordered_map<uint64_t, std::vector<Entry>> entries_;
  Entry* last_ = nullptr;
  size_t buffered_ = 0;
  uint64_t written_ = 0;
};

Result<std::unique_ptr<Importer>> DBImpl::NewImporter(size_t max_buffered_samples) {
  if (options_.read_only) return Status(StatusCode::kUnavailable, "storage is read-only");
  return std::unique_ptr<Importer>(
      std::make_unique<DBImporter>(this, std::max<size_t>(max_buffered_samples, 1)));
}

}  // namespace hearth::tsdb
