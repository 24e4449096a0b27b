#pragma once

// The storage seam: the only part of tsdb/ that other modules see. The scraper and the rule
// engine write through an Appender; the PromQL engine and the API read through a Querier. main
// wires the concrete engine (tsdb/) behind these interfaces.
//
// Time is int64 milliseconds; ranges are inclusive on both ends unless stated.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "model/matcher.h"
#include "model/sample.h"
#include "model/status.h"

namespace hearth::storage {

// A series reference handed out by an Appender. 0 means "unknown, look the labels up".
// A ref stays valid while the series is in the head; an Append with a stale ref falls back to
// the labels, so callers may cache refs freely.
using SeriesRef = uint64_t;

// Room for native histograms and exemplars (later issues); floats only for now.
struct AppendOptions {
  // Reserved: when set, the sample belongs to a native histogram series.
  bool histogram = false;
};

// Collects samples of one batch (one scrape, one rule evaluation) and makes them visible and
// durable at once on Commit.
//
// Thread-safety: an Appender is used by one thread at a time. Many appenders (one per scrape
// loop) may be live concurrently, alongside queriers.
class Appender {
 public:
  virtual ~Appender() = default;

  // Appends a float sample. `ref` is a ref returned earlier by this storage, or 0; `labels`
  // must be given when ref is 0 (and is used when the ref is no longer valid). On success
  // returns the ref for the series. Errors with code kOutOfOrderSample, kOutOfBounds or
  // kDuplicateSampleForTimestamp reject this sample only: the batch goes on.
  virtual Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v,
                                   const AppendOptions& opts = {}) = 0;

  // Records HELP/TYPE/UNIT for the metric family of `labels` (kept per metric name).
  virtual Status UpdateMetadata(const Labels& labels, const MetricMetadata& meta) = 0;

  // Makes every sample appended since the last Commit/Rollback visible and durable (per the
  // storage's sync policy), as one log record. The appender may be reused afterwards.
  virtual Status Commit() = 0;
  // Drops every sample appended since the last Commit/Rollback.
  virtual Status Rollback() = 0;
};

class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

// Iterates the samples of one series in increasing time order.
//
// Usage: while (it->Next()) { auto [t, v] = it->At(); }  then check it->status().
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  // Advances to the next sample; false at the end or on error.
  virtual bool Next() = 0;
  // Advances to the first sample with timestamp >= t (may stay on the current one if it
  // qualifies); false when there is none. Never moves backwards.
  virtual bool Seek(int64_t t) = 0;
  // REQUIRES: the last Next/Seek returned true.
  virtual Sample At() const = 0;
  // Decodes up to out.size() samples starting with the next one (as if by Next) into `out`;
  // returns how many. 0 means the end (or an error: check status()). Faster than Next/At for
  // engines that consume whole ranges.
  virtual size_t NextBatch(std::span<Sample> out);
  virtual Status status() const { return Status::Ok(); }
};

// A series returned by a select: its labels and a fresh iterator over its samples within the
// querier's time range (further narrowed by the select hints).
class Series {
 public:
  virtual ~Series() = default;
  virtual const Labels& labels() const = 0;
  virtual std::unique_ptr<SampleIterator> Iterator() const = 0;
};

// Iterates the series of a select. Series objects stay valid until the SeriesSet is destroyed.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  // REQUIRES: the last Next returned true.
  virtual const Series& At() const = 0;
  virtual Status status() const { return Status::Ok(); }
  // Non-fatal problems to pass on as warnings.
  virtual std::vector<std::string> Warnings() const { return {}; }
};

// What a select is for, so the storage can skip what it need not decode. All optional.
struct SelectHints {
  int64_t start = kMinTime;  // samples needed from here (ms, inclusive)
  int64_t end = kMaxTime;    // up to here (ms, inclusive)
  int64_t step = 0;          // query resolution step, 0 for instant queries
  int64_t range = 0;         // range of a range selector, 0 for instant selectors
  std::string func;          // surrounding function ("rate", "series" for label-only queries)
  bool by = false;           // aggregation grouping
  std::vector<std::string> grouping;
  size_t limit = 0;          // at most this many series (0: no limit)
};

struct LabelHints {
  size_t limit = 0;  // 0: no limit
};

// A read view over [mint, maxt]. Selects see the data committed when the querier was made or
// later (never a half-committed batch).
//
// Thread-safety: one querier may serve concurrent selects; it must be destroyed after every
// SeriesSet it returned.
class Querier {
 public:
  virtual ~Querier() = default;

  // Series matching all matchers (at least one matcher must not match ""), sorted by labels
  // when `sorted`.
  virtual std::unique_ptr<SeriesSet> Select(bool sorted, const SelectHints& hints,
                                            std::span<const Matcher> matchers) = 0;
  // Sorted, unique label names of series that match all matchers (all series when none).
  virtual Result<std::vector<std::string>> LabelNames(const LabelHints& hints,
                                                      std::span<const Matcher> matchers) = 0;
  // Sorted, unique values of label `name` in series that match all matchers.
  virtual Result<std::vector<std::string>> LabelValues(std::string_view name,
                                                       const LabelHints& hints,
                                                       std::span<const Matcher> matchers) = 0;
};

class Queryable {
 public:
  virtual ~Queryable() = default;
  virtual Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) = 0;
};

// Figures for /api/v1/status/tsdb.
struct NameCount {
  std::string name;
  uint64_t value = 0;
};
struct HeadStats {
  uint64_t num_series = 0;
  uint64_t num_label_pairs = 0;
  uint64_t chunk_count = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
};
struct TsdbStats {
  HeadStats head;
  std::vector<NameCount> series_count_by_metric_name;
  std::vector<NameCount> label_value_count_by_label_name;
  std::vector<NameCount> memory_in_bytes_by_label_name;
  std::vector<NameCount> series_count_by_label_value_pair;
};

// The whole storage as the server sees it.
class Storage : public Appendable, public Queryable {
 public:
  // Oldest timestamp stored (ms), or kMaxTime when empty.
  virtual int64_t StartTime() const = 0;
  // Stats for the API; `limit` entries per list.
  virtual Result<TsdbStats> Stats(size_t limit) = 0;
  // Metadata per metric name ("" = all), as recorded by Appender::UpdateMetadata.
  virtual std::vector<std::pair<std::string, MetricMetadata>> Metadata(std::string_view metric,
                                                                       size_t limit) = 0;
  // Admin operations.
  virtual Status DeleteSeries(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) = 0;
  virtual Status CleanTombstones() = 0;
  // Writes a consistent copy under <data dir>/snapshots/<name>; returns the name.
  virtual Result<std::string> Snapshot(bool skip_head) = 0;
  // Flushes and closes; no call is valid afterwards.
  virtual Status Close() = 0;
};

}  // namespace hearth::storage
