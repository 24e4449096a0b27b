#include <algorithm>
#include <filesystem>

#include "tsdb/internal/db_impl.h"
#include "tsdb/internal/querier.h"

namespace hearth::tsdb {
namespace {

// Forwards to the head's appender and keeps metadata in the DB.
class DBAppender final : public storage::Appender {
 public:
  DBAppender(DBImpl* db, std::unique_ptr<storage::Appender> head)
      : db_(db), head_(std::move(head)) {}
  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v,
                           const storage::AppendOptions& opts) override {
    return head_->Append(ref, labels, t, v, opts);
  }
  Status UpdateMetadata(const Labels& labels, const MetricMetadata& meta) override {
    return db_->SetMetadata(labels.MetricName(), meta);
  }
  Status Commit() override { return head_->Commit(); }
  Status Rollback() override { return head_->Rollback(); }

 private:
  DBImpl* db_;
  std::unique_ptr<storage::Appender> head_;
};

template <typename Map>
std::vector<storage::NameCount> TopN(const Map& m, size_t limit) {
  std::vector<storage::NameCount> out;
  out.reserve(m.size());
  for (const auto& [k, v] : m) out.push_back({std::string(k), v});
  std::sort(out.begin(), out.end(), [](const storage::NameCount& a, const storage::NameCount& b) {
    return a.value != b.value ? a.value > b.value : a.name < b.name;
  });
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace

DBImpl::DBImpl(const Options& options) : options_(options) {}

DBImpl::~DBImpl() { (void)Close(); }

Status DBImpl::Init() {
  if (options_.partition_ms <= 0) return InvalidArgument("partition length must be positive");
  if (options_.samples_per_chunk < 2 || options_.samples_per_chunk > chunk::kMaxSamples) {
    return InvalidArgument("samples per chunk must be in [2, {}]", chunk::kMaxSamples);
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return Errorf(StatusCode::kIOError, "create {}: {}", options_.dir, ec.message());
  HeadOptions ho;
  ho.samples_per_chunk = options_.samples_per_chunk;
  ho.partition_ms = options_.partition_ms;
  ho.out_of_bounds_window_ms = options_.partition_ms / 2;
  head_ = std::make_unique<Head>(ho, options_.registry, options_.clock);
  if (options_.background_maintenance) bg_ = std::thread([this] { BackgroundLoop(); });
  return Status::Ok();
}

void DBImpl::BackgroundLoop() {
  std::unique_lock lock(bg_mu_);
  while (!closing_) {
    bg_cv_.wait_for(lock, std::chrono::milliseconds(options_.maintenance_interval_ms));
    if (closing_) break;
    lock.unlock();
    if (Status st = RunMaintenance(); !st.ok()) {
      options_.logger.Error("tsdb maintenance failed", {{"err", st.ToString()}});
    }
    lock.lock();
  }
}

std::unique_ptr<storage::Appender> DBImpl::NewAppender() {
  return std::make_unique<DBAppender>(this, head_->NewAppender());
}

Result<std::unique_ptr<storage::Querier>> DBImpl::NewQuerier(int64_t mint, int64_t maxt) {
  return NewDBQuerier(this, mint, maxt);
}

int64_t DBImpl::StartTime() const {
  int64_t t = kMaxTime;
  head_->ForEachSeries([&](MemSeries* s) {
    std::lock_guard lock(s->mu);
    if (!s->sealed.empty()) t = std::min(t, s->sealed.front().min_t);
    if (!s->open.empty()) t = std::min(t, s->open.min_time());
  });
  return t;
}

Result<storage::TsdbStats> DBImpl::Stats(size_t limit) {
  storage::TsdbStats st;
  std::map<std::string, uint64_t, std::less<>> by_metric, values_by_name, bytes_by_name, pairs;
  uint64_t num_pairs = 0;
  head_->postings().ForEach([&](std::string_view name, std::string_view value, size_t n) {
    ++num_pairs;
    if (name == kMetricName) by_metric[std::string(value)] += n;
    auto vit = values_by_name.find(name);
    if (vit == values_by_name.end()) vit = values_by_name.emplace(std::string(name), 0).first;
    vit->second++;
    bytes_by_name[std::string(name)] += value.size() * n;
    pairs[std::string(name) + "=" + std::string(value)] += n;
  });
  st.head.num_series = head_->NumSeries();
  st.head.num_label_pairs = num_pairs;
  int64_t min_t = kMaxTime, max_t = kMinTime;
  uint64_t chunks = 0;
  head_->ForEachSeries([&](MemSeries* s) {
    std::lock_guard lock(s->mu);
    chunks += s->sealed.size() + (s->open.empty() ? 0 : 1);
    if (!s->sealed.empty()) min_t = std::min(min_t, s->sealed.front().min_t);
    if (!s->open.empty()) {
      min_t = std::min(min_t, s->open.min_time());
      max_t = std::max(max_t, s->open.max_time());
    }
    if (!s->sealed.empty()) max_t = std::max(max_t, s->sealed.back().max_t);
  });
  st.head.chunk_count = chunks;
  st.head.min_time = min_t == kMaxTime ? 0 : min_t;
  st.head.max_time = max_t == kMinTime ? 0 : max_t;
  st.series_count_by_metric_name = TopN(by_metric, limit);
  st.label_value_count_by_label_name = TopN(values_by_name, limit);
  st.memory_in_bytes_by_label_name = TopN(bytes_by_name, limit);
  st.series_count_by_label_value_pair = TopN(pairs, limit);
  return st;
}

Status DBImpl::SetMetadata(std::string_view metric, const MetricMetadata& meta) {
  {
    std::shared_lock lock(metadata_mu_);
    auto it = metadata_.find(metric);
    if (it != metadata_.end() && it->second == meta) return Status::Ok();
  }
  std::unique_lock lock(metadata_mu_);
  metadata_[std::string(metric)] = meta;
  return Status::Ok();
}

std::vector<std::pair<std::string, MetricMetadata>> DBImpl::Metadata(std::string_view metric,
                                                                     size_t limit) {
  std::shared_lock lock(metadata_mu_);
  std::vector<std::pair<std::string, MetricMetadata>> out;
  for (const auto& [n, m] : metadata_) {
    if (!metric.empty() && n != metric) continue;
    out.emplace_back(n, m);
    if (limit != 0 && out.size() >= limit) break;
  }
  return out;
}

Intervals DBImpl::TombstonesFor(SeriesRef ref) const {
  std::shared_lock lock(tombstones_mu_);
  auto it = tombstones_.find(ref);
  return it == tombstones_.end() ? Intervals{} : it->second;
}

Status DBImpl::DeleteSeries(std::span<const Matcher> matchers, int64_t mint, int64_t maxt) {
  if (mint > maxt) return Status::Ok();
  HEARTH_ASSIGN_OR_RETURN(auto refs, head_->PostingsForMatchers(matchers));
  std::unique_lock lock(tombstones_mu_);
  for (SeriesRef ref : refs) AddInterval(&tombstones_[ref], {mint, maxt});
  if (!tombstones_.empty()) has_tombstones_.store(true);
  return Status::Ok();
}

Status DBImpl::CleanTombstones() {
  std::unordered_map<SeriesRef, Intervals> tomb;
  {
    std::shared_lock lock(tombstones_mu_);
    tomb = tombstones_;
  }
  head_->gate().EnterExclusive();
  for (const auto& [ref, deleted] : tomb) {
    MemSeries* s = head_->GetByRef(ref);
    if (s == nullptr) continue;
    std::lock_guard lock(s->mu);
    std::vector<ChunkBlob> kept;
    for (const ChunkBlob& b : s->sealed) {
      auto samples = chunk::DecodeFloatChunk(*b.bytes);
      if (!samples.ok()) return samples.status();
      std::erase_if(*samples, [&](const Sample& x) { return InIntervals(deleted, x.t); });
      if (samples->empty()) continue;
      kept.push_back({samples->front().t, samples->back().t,
                      std::make_shared<const std::string>(
                          chunk::EncodeFloatChunk(*samples, s->hint))});
    }
    s->sealed = std::move(kept);
    if (!s->open.empty()) {
      auto samples = chunk::DecodeFloatChunk(s->open.Bytes());
      if (!samples.ok()) return samples.status();
      chunk::FloatEncoder e(s->open.params());
      for (const Sample& x : *samples) {
        if (!InIntervals(deleted, x.t)) e.Append(x.t, x.v);
      }
      s->open = std::move(e);
    }
  }
  head_->gate().ExitExclusive();
  std::unique_lock lock(tombstones_mu_);
  for (const auto& [ref, deleted] : tomb) tombstones_.erase(ref);
  has_tombstones_.store(!tombstones_.empty());
  return Status::Ok();
}

Result<std::string> DBImpl::Snapshot(bool) {
  return Status(StatusCode::kUnimplemented, "snapshots need the persistent engine");
}

Status DBImpl::RunMaintenance() {
  head_->UpdateMemoryStats();
  head_->ReclaimRemoved();
  return Status::Ok();
}

Status DBImpl::Checkpoint() { return Status::Ok(); }

std::vector<PartitionInfo> DBImpl::Partitions() { return {}; }

Result<std::unique_ptr<Importer>> DBImpl::NewImporter(size_t) {
  return Status(StatusCode::kUnimplemented, "import needs the persistent engine");
}

uint64_t DBImpl::DiskBytes() { return 0; }

Status DBImpl::Close() {
  {
    std::lock_guard lock(bg_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    closing_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  return Status::Ok();
}

Result<std::unique_ptr<DB>> OpenDB(const Options& options) {
  auto db = std::make_unique<DBImpl>(options);
  HEARTH_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<DB>(std::move(db));
}

Result<std::unique_ptr<storage::Storage>> Open(const Options& options) {
  HEARTH_ASSIGN_OR_RETURN(auto db, OpenDB(options));
  return std::unique_ptr<storage::Storage>(std::move(db));
}

}  // namespace hearth::tsdb
