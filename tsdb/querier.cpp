#include "tsdb/internal/querier.h"

#include <algorithm>
#include <set>

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

class DBQuerier final : public storage::Querier {
 public:
  DBQuerier(DBImpl* db, int64_t mint, int64_t maxt) : db_(db), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<storage::SeriesSet> Select(bool sorted, const storage::SelectHints& hints,
                                             std::span<const Matcher> matchers) override {
    const int64_t lo = std::max(mint_, hints.start), hi = std::min(maxt_, hints.end);
    const bool labels_only = hints.func == "series";
    if (lo > hi) return std::make_unique<ListSeriesSet>(std::vector<SelectedSeries>{}, true, 0);
    auto refs = db_->head().PostingsForMatchers(matchers);
    if (!refs.ok()) return std::make_unique<ListSeriesSet>(refs.status());
    auto snaps = db_->head().Snapshot(*refs, lo, hi);
    std::vector<SelectedSeries> out;
    out.reserve(snaps.size());
    const bool tombstones = db_->HasTombstones();
    for (SeriesSnapshot& s : snaps) {
      out.emplace_back(std::move(s.labels), std::move(s.chunks), lo, hi,
                       tombstones ? db_->TombstonesFor(s.ref) : Intervals{});
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
    std::vector<std::string> out;
    if (matchers.empty()) {
      out = db_->head().postings().LabelNames();
    } else {
      std::set<std::string, std::less<>> names;
      HEARTH_RETURN_IF_ERROR(ForEachLabels(matchers, [&](const Labels& l) {
        for (const Label& x : l) {
          if (names.find(x.name) == names.end()) names.emplace(x.name);
        }
      }));
      out.assign(names.begin(), names.end());
    }
    if (hints.limit != 0 && out.size() > hints.limit) out.resize(hints.limit);
    return out;
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name,
                                               const storage::LabelHints& hints,
                                               std::span<const Matcher> matchers) override {
    std::vector<std::string> out;
    if (matchers.empty()) {
      out = db_->head().postings().LabelValues(name);
    } else {
      std::set<std::string, std::less<>> values;
      HEARTH_RETURN_IF_ERROR(ForEachLabels(matchers, [&](const Labels& l) {
        std::string_view v = l.Get(name);
        if (!v.empty() && values.find(v) == values.end()) values.emplace(v);
      }));
      out.assign(values.begin(), values.end());
    }
    if (hints.limit != 0 && out.size() > hints.limit) out.resize(hints.limit);
    return out;
  }

 private:
  template <typename F>
  Status ForEachLabels(std::span<const Matcher> matchers, F&& f) {
    HEARTH_ASSIGN_OR_RETURN(auto refs, db_->head().PostingsForMatchers(matchers));
    for (const SeriesSnapshot& s : db_->head().Snapshot(refs, mint_, maxt_)) f(s.labels);
    return Status::Ok();
  }

  DBImpl* db_;
  int64_t mint_, maxt_;
};

}  // namespace

std::unique_ptr<storage::Querier> NewDBQuerier(DBImpl* db, int64_t mint, int64_t maxt) {
  return std::make_unique<DBQuerier>(db, mint, maxt);
}

}  // namespace hearth::tsdb
