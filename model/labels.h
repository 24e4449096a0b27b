#pragma once

// Labels: an immutable, sorted set of (name, value) pairs identifying a series.
//
// Representation: one contiguous buffer of (varint name length, name, varint value length,
// value) per label, sorted by name, plus a cached 64-bit hash of that buffer. One allocation per
// label set, cheap to hash, compare and copy into storage. `__name__` is an ordinary label.
// Empty values are never stored: setting a label to "" removes it (Prometheus' rule).
//
// Thread-safety: Labels is immutable; concurrent reads are safe. LabelsBuilder is not
// thread-safe.

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const Label&, const Label&) = default;
};

class Labels {
 public:
  class Iterator {
   public:
    using value_type = Label;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const char* p, const char* end) : p_(p), end_(end) { Decode(); }
    const Label& operator*() const { return cur_; }
    const Label* operator->() const { return &cur_; }
    Iterator& operator++() {
      p_ = next_;
      Decode();
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.p_ == b.p_; }

   private:
    void Decode();
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    const char* next_ = nullptr;
    Label cur_;
  };

  Labels();
  // From pairs in any order; empty values are dropped; for a repeated name the last one wins.
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  static Labels FromPairs(std::span<const std::pair<std::string_view, std::string_view>> pairs);
  static Labels FromPairs(std::span<const std::pair<std::string, std::string>> pairs);
  // From the packed form returned by packed(). Returns false in *ok (when given) and an empty
  // set if the bytes are not a valid packed, sorted label set.
  static Labels FromPacked(std::string_view packed, bool* ok = nullptr);

  Iterator begin() const { return Iterator(data_.data(), data_.data() + data_.size()); }
  Iterator end() const {
    return Iterator(data_.data() + data_.size(), data_.data() + data_.size());
  }
  bool empty() const { return data_.empty(); }
  size_t size() const;

  // The value of `name`, or "" when absent. The view lives as long as this Labels.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricName); }

  uint64_t Hash() const { return hash_; }
  // Hash of only the labels named in `names` (sorted or not), or of all except those.
  // Used for grouping in PromQL; `names` are compared exactly.
  uint64_t HashForLabels(std::span<const std::string> names) const;
  uint64_t HashWithoutLabels(std::span<const std::string> names) const;

  // The packed bytes; stable for the lifetime of this object.
  std::string_view packed() const { return data_; }
  // Heap bytes owned by this set (for memory accounting).
  size_t ByteSize() const { return data_.capacity(); }

  // `{__name__="up", job="api"}`: Prometheus' labels.String().
  std::string ToString() const;

  // Copy without __name__.
  Labels WithoutMetricName() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.hash_ == b.hash_ && a.data_ == b.data_;
  }
  // Prometheus' labels.Compare: label by label (name, then value); a prefix sorts first.
  friend std::strong_ordering operator<=>(const Labels& a, const Labels& b);

 private:
  friend class LabelsBuilder;
  explicit Labels(std::string packed);

  std::string data_;
  uint64_t hash_;
};

// Builds a Labels, optionally starting from an existing set. Set with an empty value deletes.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) { Reset(base); }

  void Reset(const Labels& base);
  void Clear() { labels_.clear(); }
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const { return !Get(name).empty(); }
  // Keeps only the named labels.
  LabelsBuilder& Keep(std::span<const std::string> names);
  // Calls f(name, value) for each current label, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [n, v] : labels_) f(std::string_view(n), std::string_view(v));
  }

  Labels Build() const;

 private:
  std::vector<std::pair<std::string, std::string>> labels_;
};

// Legacy (pre-UTF-8) name rules, used to decide when a name must be quoted in output.
bool IsLegacyMetricName(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsLegacyLabelName(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*
// Prometheus 3.x: any non-empty valid UTF-8 string is a valid metric or label name.
bool IsValidUtf8(std::string_view s);

}  // namespace hearth
