#pragma once

// Postings: sorted lists of series refs per label pair, and the matcher logic that turns a
// selector into a postings list against any index (the head's in-memory postings, or a time
// partition's postings in RocksDB).
//
// Thread-safety: MemPostings is safe for concurrent use (one shared_mutex: writes happen on
// series creation and removal, never per sample). The free functions are pure.

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/labels.h"
#include "model/matcher.h"
#include "model/status.h"
#include "tsdb/storage/storage.h"

namespace hearth::tsdb {

using storage::SeriesRef;
using Postings = std::vector<SeriesRef>;  // sorted ascending, unique

Postings Intersect(const Postings& a, const Postings& b);
Postings Subtract(const Postings& a, const Postings& b);
Postings Merge(std::vector<Postings> lists);  // union

// What PostingsForMatchers needs from an index.
class IndexReader {
 public:
  virtual ~IndexReader() = default;
  // Union of the postings of name=v for each v in `values` (sorted, unique).
  virtual Result<Postings> PostingsFor(std::string_view name,
                                       std::span<const std::string> values) = 0;
  // Sorted values of `name` present in the index.
  virtual Result<std::vector<std::string>> LabelValues(std::string_view name) = 0;
  // Every series of the index (only needed when no matcher selects positively).
  virtual Result<Postings> AllPostings() = 0;
};

// Refs of the series whose labels satisfy every matcher (Prometheus' PostingsForMatchers).
Result<Postings> PostingsForMatchers(IndexReader& index, std::span<const Matcher> matchers);

// The head's postings: label name -> value -> sorted refs, plus the list of all refs.
class MemPostings {
 public:
  void Add(SeriesRef ref, const Labels& labels);
  // REQUIRES: `refs` sorted; labels[i] are the labels of refs[i].
  void Delete(std::span<const SeriesRef> refs, std::span<const Labels* const> labels);

  Postings Get(std::string_view name, std::string_view value) const;
  Postings GetAny(std::string_view name, std::span<const std::string> values) const;
  Postings All() const;
  std::vector<std::string> LabelNames() const;  // sorted
  std::vector<std::string> LabelValues(std::string_view name) const;  // sorted
  size_t NumSeries() const;

  // Calls f(name, value, number of series) for every label pair, under the lock.
  void ForEach(const std::function<void(std::string_view, std::string_view, size_t)>& f) const;
  // Approximate heap bytes used.
  size_t MemoryBytes() const;

  // Direct load (checkpoint recovery): replaces everything. REQUIRES: lists sorted.
  void Load(std::unordered_map<std::string, std::unordered_map<std::string, Postings>> m,
            Postings all);

  // Bulk loading (head recovery, where series come back in no particular ref order): between
  // BeginBulk and EndBulk, Add appends without keeping the lists sorted, and EndBulk sorts each
  // list once, so loading n series costs O(n log n) instead of O(n^2) element moves.
  // REQUIRES: nothing reads or deletes in between.
  void BeginBulk();
  void EndBulk();

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::unordered_map<std::string, Postings>> m_;
  Postings all_;
  bool bulk_ = false;
};

// An IndexReader over MemPostings.
class MemIndexReader final : public IndexReader {
 public:
  explicit MemIndexReader(const MemPostings& p) : p_(p) {}
  Result<Postings> PostingsFor(std::string_view name,
                               std::span<const std::string> values) override {
    return p_.GetAny(name, values);
  }
  Result<std::vector<std::string>> LabelValues(std::string_view name) override {
    return p_.LabelValues(name);
  }
  Result<Postings> AllPostings() override { return p_.All(); }

 private:
  const MemPostings& p_;
};

}  // namespace hearth::tsdb
