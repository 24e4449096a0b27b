#pragma once

// Inspection for `hearthctl tsdb analyze` and `hearthctl tsdb dump` (promtool's tsdb analyze
// and tsdb dump): cardinality and churn of a time partition, and every sample matching
// selectors. Both work on a DB opened read-only.
//
// Thread-safety: plain functions over a DB, which is itself thread-safe.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "model/matcher.h"
#include "model/status.h"
#include "tsdb/storage/storage.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {

struct AnalyzeOptions {
  // The partition to analyze, by its start (ms); kMinTime means the newest one with data.
  int64_t partition_start = kMinTime;
  size_t limit = 20;  // entries per list
};

struct AnalyzeReport {
  int64_t start = 0;  // the partition, [start, end)
  int64_t end = 0;
  int64_t min_time = 0;  // of the samples in it
  int64_t max_time = 0;
  uint64_t series = 0;
  uint64_t chunks = 0;
  uint64_t chunk_bytes = 0;
  uint64_t samples = 0;
  uint64_t label_names = 0;
  uint64_t postings = 0;          // unique label pairs
  uint64_t postings_entries = 0;  // total label pairs
  // Churn against the previous partition: series that appeared and that went away.
  bool have_previous = false;
  uint64_t series_added = 0;
  uint64_t series_removed = 0;
  // promtool's lists.
  std::vector<storage::NameCount> churn_label_pairs;   // pairs of series not spanning it all
  std::vector<storage::NameCount> churn_label_names;
  std::vector<storage::NameCount> common_label_pairs;
  std::vector<storage::NameCount> label_value_lengths;  // cumulative value length by name
  std::vector<storage::NameCount> label_cardinality;    // values per name
  std::vector<storage::NameCount> metric_cardinality;   // series per metric name
  // The head (active series) at open.
  uint64_t head_series = 0;
};

Result<AnalyzeReport> Analyze(DB& db, const AnalyzeOptions& options);
// The report as promtool prints it.
std::string FormatAnalyzeReport(const AnalyzeReport& r);

// Writes every sample of the series matching all `matchers` (all series when empty) within
// [mint, maxt] to `out`, one per line as promtool tsdb dump does:
//   {__name__="up", job="api"} 1 1700000000000
// Series in label order, samples in time order. Returns the number of samples written.
Result<uint64_t> Dump(DB& db, std::span<const Matcher> matchers, int64_t mint, int64_t maxt,
                      std::FILE* out);

}  // namespace hearth::tsdb
