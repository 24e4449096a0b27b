#include "tsdb/inspect.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/format.h"
#include "tsdb/internal/db_impl.h"

namespace hearth::tsdb {
namespace {

std::vector<storage::NameCount> Top(const std::map<std::string, uint64_t, std::less<>>& m,
                                    size_t limit) {
  std::vector<storage::NameCount> out;
  for (const auto& [k, v] : m) out.push_back({k, v});
  std::sort(out.begin(), out.end(), [](const storage::NameCount& a, const storage::NameCount& b) {
    return a.value != b.value ? a.value > b.value : a.name < b.name;
  });
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

Result<std::set<SeriesRef>> SeriesOf(Store* store, const PartitionPtr& p) {
  Store::PartitionReader r(store, p);
  HEARTH_ASSIGN_OR_RETURN(Postings all, r.AllPostings());
  return std::set<SeriesRef>(all.begin(), all.end());
}

}  // namespace

Result<AnalyzeReport> Analyze(DB& db, const AnalyzeOptions& options) {
  auto* impl = dynamic_cast<DBImpl*>(&db);
  if (impl == nullptr) return Status(StatusCode::kInvalidArgument, "not a Hearth TSDB");
  Store* store = impl->store();
  AnalyzeReport rep;
  rep.head_series = impl->head().NumSeries();
  auto parts = store->Partitions();
  PartitionPtr part, prev;
  for (size_t i = parts.size(); i-- > 0;) {
    if (options.partition_start != kMinTime) {
      if (parts[i]->start != options.partition_start) continue;
    } else {
      auto s = SeriesOf(store, parts[i]);
      if (!s.ok()) return s.status();
      if (s->empty()) continue;
    }
    part = parts[i];
    if (i > 0) prev = parts[i - 1];
    break;
  }
  if (!part) {
    if (options.partition_start != kMinTime) {
      return Errorf(StatusCode::kNotFound, "no partition starts at {}", options.partition_start);
    }
    return rep;  // nothing persisted yet: only head figures
  }
  rep.start = part->start;
  rep.end = part->end();

  // Each series' time coverage in the partition.
  struct Cover {
    int64_t min_t = kMaxTime, max_t = kMinTime;
  };
  std::unordered_map<SeriesRef, Cover> cover;
  rep.min_time = kMaxTime;
  rep.max_time = kMinTime;
  Store::PartitionReader r(store, part);
  HEARTH_RETURN_IF_ERROR(r.ForEachChunk(
      [&](SeriesRef ref, int64_t min_t, int64_t max_t, std::string_view bytes) -> Status {
        Cover& c = cover[ref];
        c.min_t = std::min(c.min_t, min_t);
        c.max_t = std::max(c.max_t, max_t);
        rep.min_time = std::min(rep.min_time, min_t);
        rep.max_time = std::max(rep.max_time, max_t);
        ++rep.chunks;
        rep.chunk_bytes += bytes.size();
        auto n = chunk::ChunkSampleCount(bytes);
        if (n.ok()) rep.samples += static_cast<uint64_t>(*n);
        return Status::Ok();
      }));
  // A series "churns" when it does not span the partition's data (started or stopped in it);
  // 5% of the range is allowed for scrape offsets.
  const int64_t slack = (rep.max_time - rep.min_time) / 20;
  auto churned = [&](SeriesRef ref) {
    auto it = cover.find(ref);
    if (it == cover.end()) return false;
    return it->second.min_t > rep.min_time + slack || it->second.max_t < rep.max_time - slack;
  };

  std::map<std::string, uint64_t, std::less<>> pairs, churn_pairs, churn_names, value_len,
      cardinality, metrics;
  std::set<std::string, std::less<>> names;
  std::set<SeriesRef> series;
  HEARTH_RETURN_IF_ERROR(
      r.ForEachPosting([&](std::string_view name, std::string_view value, SeriesRef ref) {
        series.insert(ref);
        ++rep.postings_entries;
        const std::string pair = fmt::format("{}={}", name, value);
        auto [it, inserted] = pairs.emplace(pair, 0);
        ++it->second;
        if (inserted) {
          ++rep.postings;
          value_len[std::string(name)] += value.size();
          ++cardinality[std::string(name)];
        }
        if (names.find(name) == names.end()) names.emplace(name);
        if (name == kMetricName) ++metrics[std::string(value)];
        if (churned(ref)) {
          ++churn_pairs[pair];
          ++churn_names[std::string(name)];
        }
      }));
  rep.series = series.size();
  rep.label_names = names.size();
  if (rep.min_time == kMaxTime) rep.min_time = rep.max_time = 0;
  if (prev) {
    HEARTH_ASSIGN_OR_RETURN(auto before, SeriesOf(store, prev));
    rep.have_previous = true;
    for (SeriesRef ref : series) rep.series_added += before.count(ref) ? 0 : 1;
    for (SeriesRef ref : before) rep.series_removed += series.count(ref) ? 0 : 1;
  }
  rep.churn_label_pairs = Top(churn_pairs, options.limit);
  rep.churn_label_names = Top(churn_names, options.limit);
  rep.common_label_pairs = Top(pairs, options.limit);
  rep.label_value_lengths = Top(value_len, options.limit);
  rep.label_cardinality = Top(cardinality, options.limit);
  rep.metric_cardinality = Top(metrics, options.limit);
  return rep;
}

std::string FormatAnalyzeReport(const AnalyzeReport& r) {
  std::string out;
  auto list = [&](std::string_view title, const std::vector<storage::NameCount>& l) {
    out += fmt::format("\n{}:\n", title);
    for (const auto& x : l) out += fmt::format("{} {}\n", x.value, x.name);
  };
  out += fmt::format("Head series: {}\n", r.head_series);
  if (r.end == 0 && r.start == 0) {
    out += "No persisted partitions yet.\n";
    return out;
  }
  out += fmt::format("Partition: {} to {}\n", FormatRFC3339Millis(r.start),
                     FormatRFC3339Millis(r.end));
  out += fmt::format("Duration: {}\n", FormatDuration(r.max_time - r.min_time));
  out += fmt::format("Series: {}\n", r.series);
  out += fmt::format("Chunks: {} ({} samples, {} bytes, {:.3f} bytes/sample)\n", r.chunks,
                     r.samples, r.chunk_bytes,
                     r.samples == 0 ? 0.0
                                    : static_cast<double>(r.chunk_bytes) /
                                          static_cast<double>(r.samples));
  out += fmt::format("Label names: {}\n", r.label_names);
  out += fmt::format("Postings (unique label pairs): {}\n", r.postings);
  out += fmt::format("Postings entries (total label pairs): {}\n", r.postings_entries);
  if (r.have_previous) {
    out += fmt::format("Series churn against the previous partition: {} added, {} removed\n",
                       r.series_added, r.series_removed);
  }
  list("Label pairs most involved in churning", r.churn_label_pairs);
  list("Label names most involved in churning", r.churn_label_names);
  list("Most common label pairs", r.common_label_pairs);
  list("Label names with highest cumulative label value length", r.label_value_lengths);
  list("Highest cardinality labels", r.label_cardinality);
  list("Highest cardinality metric names", r.metric_cardinality);
  return out;
}

Result<uint64_t> Dump(DB& db, std::span<const Matcher> matchers, int64_t mint, int64_t maxt,
                      std::FILE* out) {
  std::vector<Matcher> ms(matchers.begin(), matchers.end());
  if (ms.empty()) {
    HEARTH_ASSIGN_OR_RETURN(Matcher any, Matcher::Make(MatchType::kRegexMatch, "__name__", ".*"));
    ms.push_back(std::move(any));
  }
  HEARTH_ASSIGN_OR_RETURN(auto q, db.NewQuerier(mint, maxt));
  auto set = q->Select(true, storage::SelectHints{}, ms);
  uint64_t n = 0;
  std::string buf;
  while (set->Next()) {
    const storage::Series& s = set->At();
    const std::string labels = s.labels().ToString();
    auto it = s.Iterator();
    while (it->Next()) {
      const Sample x = it->At();
      buf += fmt::format("{} {} {}\n", labels, FormatGoFloat(x.v, 'g'), x.t);
      ++n;
      if (buf.size() > (1 << 16)) {
        if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
          return Status(StatusCode::kIOError, "write failed");
        }
        buf.clear();
      }
    }
    HEARTH_RETURN_IF_ERROR(it->status());
  }
  HEARTH_RETURN_IF_ERROR(set->status());
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
    return Status(StatusCode::kIOError, "write failed");
  }
  return n;
}

}  // namespace hearth::tsdb
