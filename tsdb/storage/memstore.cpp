#include "tsdb/storage/memstore.h"

#include <algorithm>
#include <set>

namespace hearth::storage {
namespace {

class VectorIterator final : public SampleIterator {
 public:
  VectorIterator(std::shared_ptr<const MemStore::SeriesData> data, int64_t mint, int64_t maxt)
      : data_(std::move(data)) {
    const auto& s = data_->samples;
    begin_ = std::lower_bound(s.begin(), s.end(), mint,
                              [](const Sample& a, int64_t t) { return a.t < t; }) - s.begin();
    end_ = std::upper_bound(s.begin(), s.end(), maxt,
                            [](int64_t t, const Sample& a) { return t < a.t; }) - s.begin();
    pos_ = begin_ - 1;
  }
  bool Next() override {
    if (pos_ + 1 >= end_) {
      pos_ = end_;
      return false;
    }
    ++pos_;
    return true;
  }
  bool Seek(int64_t t) override {
    if (pos_ < begin_) pos_ = begin_;
    while (pos_ < end_ && data_->samples[pos_].t < t) ++pos_;
    return pos_ < end_;
  }
  Sample At() const override { return data_->samples[pos_]; }

 private:
  std::shared_ptr<const MemStore::SeriesData> data_;
  ptrdiff_t begin_, end_, pos_;
};

class MemSeries final : public Series {
 public:
  MemSeries(std::shared_ptr<const MemStore::SeriesData> d, int64_t mint, int64_t maxt)
      : d_(std::move(d)), mint_(mint), maxt_(maxt) {}
  const Labels& labels() const override { return d_->labels; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return std::make_unique<VectorIterator>(d_, mint_, maxt_);
  }

 private:
  std::shared_ptr<const MemStore::SeriesData> d_;
  int64_t mint_, maxt_;
};

class VectorSeriesSet final : public SeriesSet {
 public:
  explicit VectorSeriesSet(std::vector<MemSeries> s) : series_(std::move(s)) {}
  bool Next() override { return ++pos_ < series_.size(); }
  const Series& At() const override { return series_[pos_]; }

 private:
  std::vector<MemSeries> series_;
  size_t pos_ = static_cast<size_t>(-1);
};

}  // namespace

class MemAppender final : public Appender {
 public:
  explicit MemAppender(MemStore* store) : store_(store) {}
  Result<SeriesRef> Append(SeriesRef, const Labels& labels, int64_t t, double v,
                           const AppendOptions&) override {
    pending_.push_back({labels, {t, v}});
    return SeriesRef{labels.Hash() | 1};
  }
  Status UpdateMetadata(const Labels& labels, const MetricMetadata& meta) override {
    std::lock_guard lock(store_->mu_);
    store_->metadata_[std::string(labels.MetricName())] = meta;
    return Status::Ok();
  }
  Status Commit() override {
    std::lock_guard lock(store_->mu_);
    for (auto& [labels, s] : pending_) {
      auto& slot = store_->series_[labels];
      auto copy = slot ? std::make_shared<MemStore::SeriesData>(*slot)
                       : std::make_shared<MemStore::SeriesData>(MemStore::SeriesData{labels, {}});
      auto& v = copy->samples;
      auto it = std::lower_bound(v.begin(), v.end(), s.t,
                                 [](const Sample& a, int64_t t) { return a.t < t; });
      if (it != v.end() && it->t == s.t) {
        *it = s;  // the reference model lets a later value replace an earlier one
      } else {
        v.insert(it, s);
      }
      slot = std::move(copy);
    }
    pending_.clear();
    return Status::Ok();
  }
  Status Rollback() override {
    pending_.clear();
    return Status::Ok();
  }

 private:
  MemStore* store_;
  std::vector<std::pair<Labels, Sample>> pending_;
};

class MemQuerier final : public Querier {
 public:
  MemQuerier(MemStore* store, int64_t mint, int64_t maxt)
      : store_(store), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<SeriesSet> Select(bool, const SelectHints& hints,
                                    std::span<const Matcher> matchers) override {
    int64_t lo = std::max(mint_, hints.start), hi = std::min(maxt_, hints.end);
    std::vector<MemSeries> out;
    std::lock_guard lock(store_->mu_);
    for (const auto& [labels, data] : store_->series_) {  // std::map: already sorted
      if (!MatchesAll(matchers, labels)) continue;
      const auto& s = data->samples;
      auto it = std::lower_bound(s.begin(), s.end(), lo,
                                 [](const Sample& a, int64_t t) { return a.t < t; });
      if (it == s.end() || it->t > hi) continue;
      out.emplace_back(data, lo, hi);
      if (hints.limit != 0 && out.size() >= hints.limit) break;
    }
    return std::make_unique<VectorSeriesSet>(std::move(out));
  }

  Result<std::vector<std::string>> LabelNames(const LabelHints& hints,
                                              std::span<const Matcher> matchers) override {
    std::set<std::string> names;
    ForEachMatching(matchers, [&](const Labels& l) {
      for (const Label& x : l) names.emplace(x.name);
    });
    return Limit(names, hints.limit);
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name, const LabelHints& hints,
                                               std::span<const Matcher> matchers) override {
    std::set<std::string> values;
    ForEachMatching(matchers, [&](const Labels& l) {
      if (auto v = l.Get(name); !v.empty()) values.emplace(v);
    });
    return Limit(values, hints.limit);
  }

 private:
  template <typename F>
  void ForEachMatching(std::span<const Matcher> matchers, F&& f) {
    std::lock_guard lock(store_->mu_);
    for (const auto& [labels, data] : store_->series_) {
      if (!MatchesAll(matchers, labels)) continue;
      const auto& s = data->samples;
      bool in_range = std::any_of(s.begin(), s.end(),
                                  [&](const Sample& x) { return x.t >= mint_ && x.t <= maxt_; });
      if (in_range) f(labels);
    }
  }
  static std::vector<std::string> Limit(const std::set<std::string>& s, size_t limit) {
    std::vector<std::string> out(s.begin(), s.end());
    if (limit != 0 && out.size() > limit) out.resize(limit);
    return out;
  }

  MemStore* store_;
  int64_t mint_, maxt_;
};

MemStore::MemStore() = default;
MemStore::~MemStore() = default;

std::unique_ptr<Appender> MemStore::NewAppender() { return std::make_unique<MemAppender>(this); }

Result<std::unique_ptr<Querier>> MemStore::NewQuerier(int64_t mint, int64_t maxt) {
  return std::unique_ptr<Querier>(std::make_unique<MemQuerier>(this, mint, maxt));
}

int64_t MemStore::StartTime() const {
  std::lock_guard lock(mu_);
  int64_t t = kMaxTime;
  for (const auto& [l, d] : series_) {
    if (!d->samples.empty()) t = std::min(t, d->samples.front().t);
  }
  return t;
}

Result<TsdbStats> MemStore::Stats(size_t limit) {
  std::lock_guard lock(mu_);
  TsdbStats st;
  st.head.num_series = series_.size();
  std::map<std::string, uint64_t> by_name;
  for (const auto& [l, d] : series_) by_name[std::string(l.MetricName())]++;
  for (const auto& [n, c] : by_name) st.series_count_by_metric_name.push_back({n, c});
  std::sort(st.series_count_by_metric_name.begin(), st.series_count_by_metric_name.end(),
            [](const NameCount& a, const NameCount& b) { return a.value > b.value; });
  if (st.series_count_by_metric_name.size() > limit) st.series_count_by_metric_name.resize(limit);
  return st;
}

std::vector<std::pair<std::string, MetricMetadata>> MemStore::Metadata(std::string_view metric,
                                                                       size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, MetricMetadata>> out;
  for (const auto& [n, m] : metadata_) {
    if (!metric.empty() && n != metric) continue;
    out.emplace_back(n, m);
    if (limit != 0 && out.size() >= limit) break;
  }
  return out;
}

Status MemStore::DeleteSeries(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) {
  std::lock_guard lock(mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    if (!MatchesAll(matchers, it->first)) {
      ++it;
      continue;
    }
    auto copy = std::make_shared<SeriesData>(*it->second);
    std::erase_if(copy->samples, [&](const Sample& s) { return s.t >= mint && s.t <= maxt; });
    if (copy->samples.empty()) {
      it = series_.erase(it);
    } else {
      it->second = std::move(copy);
      ++it;
    }
  }
  return Status::Ok();
}

void MemStore::Clear() {
  std::lock_guard lock(mu_);
  series_.clear();
  metadata_.clear();
}

}  // namespace hearth::storage
