#include "tsdb/internal/querier.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "tsdb/internal/db_impl.h"

namespace hearth::tsdb {

bool SelectedSeries::SurelyNonEmpty() const {
  if (!deleted_.empty()) return false;
  for (const ChunkBlob& c : chunks_) {
    if (c.min_t >= mint_ && c.max_t <= maxt_) return true;
    // A chunk's first and last samples are at min_t and max_t.
    if ((c.min_t >= mint_ && c.min_t <= maxt_) || (c.max_t >= mint_ && c.max_t <= maxt_)) {
      return true;
    }
  }
  return false;
}

bool ListSeriesSet::Next() {
  if (!status_.ok()) return false;
  while (++pos_ < series_.size()) {
    if (limit_ != 0 && returned_ >= limit_) {
      pos_ = series_.size();
      return false;
    }
    const SelectedSeries& s = series_[pos_];
    if (!labels_only_ && !s.SurelyNonEmpty()) {
      auto it = s.Iterator();
      if (!it->Next() && it->status().ok()) continue;
    }
    ++returned_;
    return true;
  }
  return false;
}

namespace {

// Drops chunks that appear twice (a sealed chunk seen in the head and already in RocksDB).
void DedupeChunks(std::vector<ChunkBlob>* chunks) {
  if (chunks->size() < 2) return;
  std::sort(chunks->begin(), chunks->end(), [](const ChunkBlob& a, const ChunkBlob& b) {
    return a.min_t != b.min_t ? a.min_t < b.min_t : a.max_t < b.max_t;
  });
  chunks->erase(std::unique(chunks->begin(), chunks->end(),
                            [](const ChunkBlob& a, const ChunkBlob& b) {
                              return a.min_t == b.min_t && a.max_t == b.max_t &&
                                     *a.bytes == *b.bytes;
                            }),
                chunks->end());
}

class DBQuerier final : public storage::Querier {
 public:
  DBQuerier(DBImpl* db, int64_t mint, int64_t maxt) : db_(db), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints& hints,
                                             std::span<const Matcher> matchers) override {
    const int64_t lo = std::max(mint_, hints.start), hi = std::min(maxt_, hints.end);
    const bool labels_only = hints.func == "series";
    if (lo > hi) return std::make_unique<ListSeriesSet>(std::vector<SelectedSeries>{}, true, 0);
    // The head first, then RocksDB: a chunk leaves the head only after it is written, so
    // reading in this order never misses one (FORMAT.md section 3).
    auto refs = db_->head().PostingsForMatchers(matchers);
    if (!refs.ok()) return std::make_unique<ListSeriesSet>(refs.status());
    struct Entry {
      Labels labels;
      bool have_labels = false;
      std::vector<ChunkBlob> chunks;
    };
    std::unordered_map<SeriesRef, Entry> entries;
    for (SeriesSnapshot& s : db_->head().Snapshot(*refs, lo, hi)) {
      Entry& e = entries[s.ref];
      e.labels = std::move(s.labels);
      e.have_labels = true;
      e.chunks = std::move(s.chunks);
    }
    if (Store* store = db_->store()) {
      for (const PartitionPtr& p : store->PartitionsOverlapping(lo, hi)) {
        Store::PartitionReader reader(store, p);
        auto prefs = tsdb::PostingsForMatchers(reader, matchers);
        if (!prefs.ok()) return std::make_unique<ListSeriesSet>(prefs.status());
        for (SeriesRef ref : *prefs) {
          std::vector<ChunkBlob> chunks;
          if (!labels_only || !entries.count(ref)) {
            Status st = reader.Chunks(ref, lo, hi, &chunks);
            if (!st.ok()) return std::make_unique<ListSeriesSet>(st);
          }
          if (chunks.empty() && !labels_only) continue;
          Entry& e = entries[ref];
          e.chunks.insert(e.chunks.end(), chunks.begin(), chunks.end());
        }
      }
      std::vector<SeriesRef> missing;
      for (const auto& [ref, e] : entries) {
        if (!e.have_labels) missing.push_back(ref);
      }
      if (!missing.empty()) {
        auto labels = store->GetLabels(missing);
        if (!labels.ok()) return std::make_unique<ListSeriesSet>(labels.status());
        for (size_t i = 0; i < missing.size(); ++i) {
          Entry& e = entries[missing[i]];
          e.labels = std::move((*labels)[i]);
          e.have_labels = !e.labels.empty();
        }
      }
    }
    std::vector<SelectedSeries> out;
    out.reserve(entries.size());
    const bool tombstones = db_->HasTombstones();
    // One label set should have one ref; should two refs ever carry the same labels (a
    // damaged log replayed), show them as one series rather than twice.
    std::unordered_map<uint64_t, std::vector<size_t>> by_hash;
    for (auto& [ref, e] : entries) {
      if (!e.have_labels) continue;  // refs whose labels are gone: nothing to show
      auto& same = by_hash[e.labels.Hash()];
      bool merged = false;
      for (size_t i : same) {
        if (out[i].labels() == e.labels) {
          auto& c = out[i].chunks();
          c.insert(c.end(), e.chunks.begin(), e.chunks.end());
          DedupeChunks(&c);
          merged = true;
          break;
        }
      }
      if (merged) continue;
      DedupeChunks(&e.chunks);
      same.push_back(out.size());
      out.emplace_back(std::move(e.labels), std::move(e.chunks), lo, hi,
                       tombstones ? db_->TombstonesFor(ref) : Intervals{});
    }
    if (sorted) {
      std::sort(out.begin(), out.end(), [](const SelectedSeries& a, const SelectedSeries& b) {
        return a.labels() < b.labels();
      });
    }
    return std::make_unique<ListSeriesSet>(std::move(out), labels_only, hints.limit);
  }

  Result<std::vector<std::string>> LabelNames(const storage::LabelHints& hints,
                                              std::span<const Matcher> matchers) override {
    std::set<std::string, std::less<>> names;
    if (matchers.empty()) {
      for (std::string& n : db_->head().postings().LabelNames()) names.insert(std::move(n));
      if (Store* store = db_->store()) {
        for (const PartitionPtr& p : store->PartitionsOverlapping(mint_, maxt_)) {
          Store::PartitionReader reader(store, p);
          HEARTH_ASSIGN_OR_RETURN(auto pn, reader.LabelNames());
          for (std::string& n : pn) names.insert(std::move(n));
        }
      }
    } else {
      HEARTH_RETURN_IF_ERROR(ForEachLabels(matchers, [&](const Labels& l) {
        for (const Label& x : l) {
          if (names.find(x.name) == names.end()) names.emplace(x.name);
        }
      }));
    }
    std::vector<std::string> out(names.begin(), names.end());
    if (hints.limit != 0 && out.size() > hints.limit) out.resize(hints.limit);
    return out;
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name,
                                               const storage::LabelHints& hints,
                                               std::span<const Matcher> matchers) override {
    std::set<std::string, std::less<>> values;
    if (matchers.empty()) {
      for (std::string& v : db_->head().postings().LabelValues(name)) values.insert(std::move(v));
      if (Store* store = db_->store()) {
        for (const PartitionPtr& p : store->PartitionsOverlapping(mint_, maxt_)) {
          Store::PartitionReader reader(store, p);
          HEARTH_ASSIGN_OR_RETURN(auto pv, reader.LabelValues(name));
          for (std::string& v : pv) values.insert(std::move(v));
        }
      }
    } else {
      HEARTH_RETURN_IF_ERROR(ForEachLabels(matchers, [&](const Labels& l) {
        std::string_view v = l.Get(name);
        if (!v.empty() && values.find(v) == values.end()) values.emplace(v);
      }));
    }
    std::vector<std::string> out(values.begin(), values.end());
    if (hints.limit != 0 && out.size() > hints.limit) out.resize(hints.limit);
    return out;
  }

 private:
  // Calls f with the labels of every series matching `matchers` with data in range.
  template <typename F>
  Status ForEachLabels(std::span<const Matcher> matchers, F&& f) {
    storage::SelectHints hints;
    hints.func = "series";
    auto set = Select(false, hints, matchers);
    while (set->Next()) f(set->At().labels());
    return set->status();
  }

  DBImpl* db_;
  int64_t mint_, maxt_;
};

}  // namespace

std::unique_ptr<storage::Querier> NewDBQuerier(DBImpl* db, int64_t mint, int64_t maxt) {
  return std::make_unique<DBQuerier>(db, mint, maxt);
}

}  // namespace hearth::tsdb
