#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>

#include "tsdb/chunk/varint.h"
#include "tsdb/internal/db_impl.h"
#include "tsdb/internal/querier.h"
#include "tsdb/records.h"

namespace hearth::tsdb {
namespace {

namespace fs = std::filesystem;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Forwards to the head's appender and keeps metadata in the DB.
class DBAppender final : public storage::Appender {
 public:
  DBAppender(DBImpl* db, std::unique_ptr<storage::Appender> head)
      : db_(db), head_(std::move(head)) {}
  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v,
                           const storage::AppendOptions& opts) override {
    if (db_->read_only()) return Status(StatusCode::kUnavailable, "storage is read-only");
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

std::string CheckpointName(uint64_t seq) { return fmt::format("checkpoint.{:016x}", seq); }

// Checkpoint files in `dir`, newest first.
std::vector<std::pair<uint64_t, std::string>> ListCheckpoints(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 27 || name.rfind("checkpoint.", 0) != 0) continue;
    char* end = nullptr;
    uint64_t seq = std::strtoull(name.c_str() + 11, &end, 16);
    if (end != nullptr && *end == '\0') out.push_back({seq, e.path().string()});
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

Status WriteFileDurably(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errorf(StatusCode::kIOError, "create {}: {}", tmp, std::strerror(errno));
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      Status st = Errorf(StatusCode::kIOError, "write {}: {}", tmp, std::strerror(errno));
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    Status st = Errorf(StatusCode::kIOError, "fsync {}: {}", tmp, std::strerror(errno));
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Errorf(StatusCode::kIOError, "rename {}: {}", tmp, std::strerror(errno));
  }
  const std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(8);
  *v = x;
  return true;
}

// One series of a head checkpoint (FORMAT.md section 5). REQUIRES: s->mu held.
void EncodeCheckpointSeries(std::string* out, const MemSeries& s) {
  PutUvarint(out, s.ref);
  PutUvarint(out, s.labels.packed().size());
  out->append(s.labels.packed());
  out->push_back(static_cast<char>(s.flags & kSeriesPersisted));
  out->push_back(static_cast<char>(s.have_hint ? 1 : 0));
  out->push_back(static_cast<char>(s.hint.ToByte()));
  PutVarint(out, s.last_t.load(std::memory_order_relaxed));
  PutFixed64(out, s.last_bits);
  PutVarint(out, s.indexed_partition);
  out->push_back(static_cast<char>(s.open.empty() ? 0 : 1));
  if (!s.open.empty()) s.open.SaveState(out);
  PutUvarint(out, s.sealed.size());
  for (const ChunkBlob& b : s.sealed) {
    PutVarint(out, b.min_t);
    PutVarint(out, b.max_t);
    PutUvarint(out, b.bytes->size());
    out->append(*b.bytes);
  }
}

}  // namespace

DBImpl::DBImpl(const Options& options) : options_(options) {}

DBImpl::~DBImpl() { (void)Close(); }

int64_t DBImpl::PartitionStart(int64_t t) const {
  const int64_t q = FloorDiv(t, options_.partition_ms);
  int64_t start;
  if (__builtin_mul_overflow(q, options_.partition_ms, &start)) return kMinTime;
  return start;
}

int64_t DBImpl::RetentionCutoff() const {
  if (options_.retention_time_ms <= 0) return kMinTime;
  return options_.clock.NowMs() - options_.retention_time_ms;
}

Status DBImpl::Init() {
  if (options_.partition_ms <= 0) return InvalidArgument("partition length must be positive");
  if (options_.samples_per_chunk < 2 || options_.samples_per_chunk > chunk::kMaxSamples) {
    return InvalidArgument("samples per chunk must be in [2, {}]", chunk::kMaxSamples);
  }
  auto& reg = options_.registry;
  metrics_.log_corruptions = &reg.NewCounter("prometheus_tsdb_wal_corruptions_total",
                                             "Total number of WAL corruptions.");
  metrics_.checkpoints = &reg.NewCounter("prometheus_tsdb_checkpoint_creations_total",
                                         "Total number of checkpoint creations attempted.");
  metrics_.checkpoint_failures =
      &reg.NewCounter("prometheus_tsdb_checkpoint_creations_failed_total",
                      "Total number of checkpoint creations that failed.");
  metrics_.time_retentions =
      &reg.NewCounter("prometheus_tsdb_time_retentions_total",
                      "The number of times that partitions were deleted because the maximum time "
                      "limit was exceeded.");
  metrics_.size_retentions =
      &reg.NewCounter("prometheus_tsdb_size_retentions_total",
                      "The number of times that partitions were deleted because the maximum "
                      "number of bytes was exceeded.");
  metrics_.chunks_persisted = &reg.NewCounter("hearth_tsdb_chunks_persisted_total",
                                              "Sealed chunks written to RocksDB.");
  metrics_.persist_failures =
      &reg.NewCounter("hearth_tsdb_persist_failures_total",
                      "Failed writes of sealed chunks to RocksDB (retried by maintenance).");
  metrics_.replay_seconds =
      &reg.NewGauge("prometheus_tsdb_data_replay_duration_seconds",
                    "Time taken to load the head checkpoint and replay the commit log.");
  std::shared_ptr<Cells> cells = cells_;
  reg.NewGaugeFunc("prometheus_tsdb_blocks_loaded", "Number of time partitions on disk.",
                   [cells] { return static_cast<double>(cells->partitions.load()); });
  reg.NewGaugeFunc("prometheus_tsdb_storage_blocks_bytes",
                   "The number of bytes that are currently used for local storage by all "
                   "partitions, the commit log and checkpoints.",
                   [cells] { return static_cast<double>(cells->disk_bytes.load()); });
  reg.NewGaugeFunc("prometheus_tsdb_lowest_timestamp",
                   "Lowest timestamp value stored in the database.",
                   [cells] { return static_cast<double>(cells->lowest_time.load()); });
  reg.NewGauge("prometheus_tsdb_retention_limit_bytes",
               "Max number of bytes to be retained in the tsdb blocks, configured 0 means "
               "disabled")
      .Set(static_cast<double>(options_.retention_size_bytes));

  std::error_code ec;
  if (!options_.read_only) {
    fs::create_directories(WalDir(), ec);
    if (ec) return Errorf(StatusCode::kIOError, "create {}: {}", WalDir(), ec.message());
  } else if (!fs::exists(options_.dir + "/db")) {
    return Errorf(StatusCode::kNotFound, "{}: not a Hearth data directory (no db/)",
                  options_.dir);
  }
  StoreOptions so;
  so.block_cache_bytes = options_.block_cache_bytes;
  so.write_buffer_bytes = options_.write_buffer_bytes;
  so.read_only = options_.read_only;
  HEARTH_ASSIGN_OR_RETURN(store_, Store::Open(options_.dir + "/db", so, options_.logger));
  HEARTH_RETURN_IF_ERROR(store_->LoadMetadata(&metadata_));
  HEARTH_RETURN_IF_ERROR(store_->LoadTombstones(&tombstones_));
  has_tombstones_.store(!tombstones_.empty());

  HeadOptions ho;
  ho.samples_per_chunk = options_.samples_per_chunk;
  ho.partition_ms = options_.partition_ms;
  ho.out_of_bounds_window_ms = options_.partition_ms / 2;
  head_ = std::make_unique<Head>(ho, reg, options_.clock);
  const int64_t t0 = MonotonicNowNs();
  HEARTH_RETURN_IF_ERROR(Recover());
  metrics_.replay_seconds->Set(static_cast<double>(MonotonicNowNs() - t0) / 1e9);
  head_->SetHooks(this);
  head_->SetMinValidTime(RetentionCutoff());
  cells_->partitions.store(store_->Partitions().size());
  if (options_.background_maintenance && !options_.read_only) {
    bg_ = std::thread([this] { BackgroundLoop(); });
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Recovery: newest good checkpoint, then the log segments written after it.

Status DBImpl::Recover() {
  uint64_t next_ref = 1;
  const auto checkpoints = ListCheckpoints(WalDir());
  bool loaded = false;
  head_->BeginBulkLoad();  // checkpoints list series in hash order, not ref order
  for (const auto& [seq, path] : checkpoints) {
    Status st = LoadCheckpoint(path, &next_ref);
    if (st.ok()) {
      checkpoint_seq_ = seq;
      loaded = true;
      break;
    }
    // A damaged checkpoint: fall back to the previous one (its segments are kept).
    metrics_.log_corruptions->Inc();
    options_.logger.Error("head checkpoint is damaged, trying an older one",
                          {{"file", path}, {"err", st.ToString()}});
    head_->Clear();
  }
  head_->EndBulkLoad();
  if (!loaded && !checkpoints.empty()) {
    HEARTH_ASSIGN_OR_RETURN(auto segs, ListSegments(WalDir()));
    if (segs.empty() || segs.front() > checkpoints.back().first) {
      return Errorf(StatusCode::kCorruption,
                    "{}: every head checkpoint is damaged and the log does not reach back far "
                    "enough to rebuild the head; move {} away to start without the head data",
                    options_.dir, WalDir());
    }
    checkpoint_seq_ = 0;  // replay everything there is
  }
  prev_checkpoint_seq_ = checkpoints.size() > 1 ? checkpoints[1].first : checkpoint_seq_;
  head_->EnsureNextRefAbove(next_ref - 1);
  HEARTH_ASSIGN_OR_RETURN(SeriesRef max_stored, store_->MaxSeriesRef());
  head_->EnsureNextRefAbove(max_stored);

  uint64_t last_seq = checkpoint_seq_;
  HEARTH_RETURN_IF_ERROR(ReplayLog(checkpoint_seq_, &last_seq));
  last_checkpoint_wall_ = options_.clock.NowMs();
  if (options_.read_only) return Status::Ok();

  const uint64_t new_seq = std::max(last_seq + 1, checkpoint_seq_);
  HEARTH_ASSIGN_OR_RETURN(log_, LogWriter::Create(WalDir(), new_seq));
  // Chunks sealed in the checkpoint or during replay go to RocksDB now.
  std::vector<MemSeries*> with_sealed;
  head_->ForEachSeries([&](MemSeries* s) {
    std::lock_guard lock(s->mu);
    if (!s->sealed.empty()) with_sealed.push_back(s);
  });
  return PersistSealed(with_sealed);
}

Status DBImpl::LoadCheckpoint(const std::string& path, uint64_t* next_ref) {
  bool header = false, footer = false;
  uint64_t count = 0, expected = 0;
  int64_t max_t = kMinTime;
  const int64_t now = options_.clock.NowMs();
  auto bad = [&](std::string_view what) {
    return Errorf(StatusCode::kCorruption, "checkpoint {}: {}", path, what);
  };
  auto on_record = [&](std::string_view in) -> Status {
    if (in.empty() || footer) return bad("unexpected record");
    const auto type = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (type == kRecordCheckpointHeader) {
      uint64_t version;
      if (header || !GetUvarint(&in, &version) || version != 1 || !GetUvarint(&in, next_ref) ||
          !GetVarint(&in, &max_t)) {
        return bad("bad header");
      }
      header = true;
      return Status::Ok();
    }
    if (!header) return bad("missing header");
    if (type == kRecordCheckpointFooter) {
      if (!GetUvarint(&in, &expected)) return bad("bad footer");
      footer = true;
      return Status::Ok();
    }
    if (type != kRecordCheckpointSeries) return bad("unknown record type");
    uint64_t n;
    if (!GetUvarint(&in, &n)) return bad("bad series count");
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t ref, len, lt_bits, nsealed;
      int64_t last_t, indexed;
      if (!GetUvarint(&in, &ref) || ref == 0 || !GetUvarint(&in, &len) || len > in.size()) {
        return bad("bad series entry");
      }
      bool ok = false;
      Labels labels = Labels::FromPacked(in.substr(0, len), &ok);
      in.remove_prefix(len);
      if (!ok || labels.empty() || in.size() < 3) return bad("bad series labels");
      const auto flags = static_cast<uint8_t>(in[0]);
      const bool have_hint = in[1] != 0;
      auto hint = chunk::FloatParams::FromByte(static_cast<uint8_t>(in[2]));
      in.remove_prefix(3);
      if (!hint || !GetVarint(&in, &last_t) || !GetFixed64(&in, &lt_bits) ||
          !GetVarint(&in, &indexed) || in.empty()) {
        return bad("bad series state");
      }
      const bool has_open = in[0] != 0;
      in.remove_prefix(1);
      chunk::FloatEncoder open;
      if (has_open) {
        auto e = chunk::FloatEncoder::LoadState(&in);
        if (!e.ok()) return bad(e.status().message());
        open = std::move(*e);
      }
      if (!GetUvarint(&in, &nsealed) || nsealed > in.size()) return bad("bad sealed count");
      std::vector<ChunkBlob> sealed;
      for (uint64_t k = 0; k < nsealed; ++k) {
        ChunkBlob b;
        uint64_t blen;
        if (!GetVarint(&in, &b.min_t) || !GetVarint(&in, &b.max_t) || !GetUvarint(&in, &blen) ||
            blen > in.size() || b.max_t < b.min_t) {
          return bad("bad sealed chunk");
        }
        b.bytes = std::make_shared<const std::string>(in.substr(0, blen));
        in.remove_prefix(blen);
        sealed.push_back(std::move(b));
      }
      MemSeries* s = head_->CreateWithRef(ref, labels);
      std::lock_guard lock(s->mu);
      s->flags = flags & kSeriesPersisted;
      s->have_hint = have_hint;
      s->hint = *hint;
      s->last_t.store(last_t, std::memory_order_relaxed);
      s->last_bits = lt_bits;
      s->indexed_partition = indexed;
      s->open = std::move(open);
      s->sealed = std::move(sealed);
      s->last_append_wall = now;
      ++count;
    }
    if (!in.empty()) return bad("trailing bytes in series record");
    return Status::Ok();
  };
  HEARTH_ASSIGN_OR_RETURN(ReadOutcome out, ReadRecords(path, on_record));
  if (out.damaged) return bad(out.damage);
  if (!footer) return bad("incomplete (no footer)");
  if (expected != count) return bad(fmt::format("footer says {} series, read {}", expected, count));
  head_->ObserveMaxTime(max_t);  // the out-of-bounds floor moves with the newest sample
  return Status::Ok();
}

Status DBImpl::ReplayLog(uint64_t from_seq, uint64_t* last_seq) {
  HEARTH_ASSIGN_OR_RETURN(auto segs, ListSegments(WalDir()));
  std::vector<LoggedSample> scratch;
  std::vector<MemSeries*> cut;
  uint64_t unknown_refs = 0, bad_records = 0, samples = 0;
  LogRecordHandler h;
  h.series = [&](SeriesRef ref, Labels labels) {
    if (head_->GetByRef(ref) != nullptr) return;
    const uint64_t epoch = head_->EnterBatch();
    MemSeries* other = head_->Find(labels);
    head_->ExitBatch(epoch);
    if (other != nullptr) {
      // Never expected: one label set under two refs. Keep both (queries merge nothing
      // wrongly: each ref holds its own samples) but say so.
      options_.logger.Warn("log names a second ref for a series",
                           {{"series", labels.ToString()},
                            {"ref", std::to_string(ref)},
                            {"other_ref", std::to_string(other->ref)}});
    }
    head_->CreateWithRef(ref, labels);
  };
  h.samples = [&](std::span<const LoggedSample> batch) {
    for (const LoggedSample& x : batch) {
      MemSeries* s = head_->GetByRef(x.ref);
      if (s == nullptr) {
        // A series that left the head after this record was written: its labels are stored.
        auto labels = store_->GetLabels(std::span<const SeriesRef>(&x.ref, 1));
        if (!labels.ok() || (*labels)[0].empty()) {
          ++unknown_refs;
          continue;
        }
        s = head_->CreateWithRef(x.ref, (*labels)[0]);
        std::lock_guard lock(s->mu);
        s->flags |= kSeriesPersisted;
      }
      if (head_->ReplaySample(s, x.t, x.v, &cut)) ++samples;
    }
  };
  for (uint64_t seq : segs) {
    if (seq < from_seq) continue;
    *last_seq = std::max(*last_seq, seq);
    const std::string path = SegmentPath(WalDir(), seq);
    auto outcome = ReadRecords(path, [&](std::string_view payload) {
      Status st = DecodeLogRecord(payload, h, &scratch);
      if (!st.ok()) {
        ++bad_records;
        options_.logger.Warn("skipping a malformed log record",
                             {{"segment", path}, {"err", st.message()}});
      }
      return Status::Ok();
    });
    if (!outcome.ok()) return outcome.status();
    if (outcome->damaged) {
      // A torn write (crash mid-record) or damage: keep what is good, drop the rest of the
      // segment so the next start does not count it again.
      metrics_.log_corruptions->Inc();
      options_.logger.Warn("log segment is damaged; dropping its tail",
                           {{"segment", path},
                            {"err", outcome->damage},
                            {"dropped_bytes",
                             std::to_string(outcome->total_bytes - outcome->valid_bytes)}});
      if (!options_.read_only &&
          ::truncate(path.c_str(), static_cast<off_t>(outcome->valid_bytes)) != 0) {
        return Errorf(StatusCode::kIOError, "truncate {}: {}", path, std::strerror(errno));
      }
    }
  }
  if (unknown_refs + bad_records > 0) {
    metrics_.log_corruptions->Inc();
    options_.logger.Warn("log replay skipped data",
                         {{"unknown_series_samples", std::to_string(unknown_refs)},
                          {"malformed_records", std::to_string(bad_records)}});
  }
  options_.logger.Info("head restored", {{"series", std::to_string(head_->NumSeries())},
                                         {"replayed_samples", std::to_string(samples)}});
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Hooks: durability of the head.

Status DBImpl::OnSeriesCreated(SeriesRef ref, const Labels& labels) {
  if (!log_) return Status::Ok();
  std::string rec;
  EncodeSeriesRecord(&rec, ref, labels);
  log_->AddBuffered(rec);
  return Status::Ok();
}

Status DBImpl::OnCommit(std::span<const LoggedSample> samples) {
  if (!log_) return Status(StatusCode::kUnavailable, "storage is read-only");
  std::string rec;
  rec.reserve(16 + samples.size() * 11);
  EncodeSamplesRecord(&rec, samples);
  return log_->Commit(rec, options_.sync == SyncPolicy::kEveryCommit);
}

Result<SeriesRef> DBImpl::LookupPersisted(const Labels& labels) {
  return store_->FindSeries(labels);
}

void DBImpl::OnChunksSealed(std::span<MemSeries* const> series) {
  if (Status st = PersistSealed(series); !st.ok()) {
    options_.logger.Warn("writing sealed chunks failed; maintenance retries",
                         {{"err", st.ToString()}});
  }
}

Status DBImpl::PersistSealed(std::span<MemSeries* const> series) {
  if (options_.read_only || series.empty()) return Status::Ok();
  struct Job {
    MemSeries* s;
    std::vector<ChunkBlob> blobs;  // as sealed in the head (identity used for removal)
    bool need_series;
    int64_t indexed;
    chunk::FloatParams hint;
  };
  std::vector<Job> jobs;
  std::set<MemSeries*> seen;
  for (MemSeries* s : series) {
    if (!seen.insert(s).second) continue;
    std::lock_guard lock(s->mu);
    if (s->sealed.empty()) continue;
    jobs.push_back({s, s->sealed, (s->flags & kSeriesPersisted) == 0, s->indexed_partition,
                    s->hint});
  }
  if (jobs.empty()) return Status::Ok();
  const int64_t cutoff = RetentionCutoff();
  Store::Batch batch = store_->NewBatch();
  uint64_t chunks = 0;
  for (Job& j : jobs) {
    for (const ChunkBlob& b : j.blobs) {
      const int64_t start = PartitionStart(b.min_t);
      if (start > kMinTime && start + options_.partition_ms <= cutoff) continue;  // expired
      HEARTH_ASSIGN_OR_RETURN(PartitionPtr p,
                              store_->GetOrCreatePartition(start, options_.partition_ms));
      // Re-encode with the parameters that suit these samples best (FORMAT.md 1.1).
      ChunkBlob out = b;
      if (auto samples = chunk::DecodeFloatChunk(*b.bytes); samples.ok()) {
        chunk::FloatParams chosen;
        out.bytes = std::make_shared<const std::string>(
            chunk::EncodeFloatChunkBest(*samples, j.hint, &chosen));
        j.hint = chosen;
      } else {
        options_.logger.Error("head chunk does not decode; persisting it as it is",
                              {{"series", j.s->labels.ToString()},
                               {"err", samples.status().message()}});
      }
      batch.PutChunk(*p, j.s->ref, out);
      ++chunks;
      if (j.indexed != start) {
        batch.PutPostings(*p, j.s->ref, j.s->labels);
        j.indexed = start;
      }
      if (j.need_series) {
        batch.PutSeries(j.s->ref, j.s->labels);
        j.need_series = false;
      }
    }
    if (j.need_series) {
      // Everything expired; still record the series so its ref stays known.
      batch.PutSeries(j.s->ref, j.s->labels);
      j.need_series = false;
    }
  }
  if (Status st = store_->Write(batch); !st.ok()) {
    metrics_.persist_failures->Inc();
    return st;
  }
  metrics_.chunks_persisted->Inc(static_cast<double>(chunks));
  for (Job& j : jobs) {
    std::lock_guard lock(j.s->mu);
    std::erase_if(j.s->sealed, [&](const ChunkBlob& b) {
      return std::any_of(j.blobs.begin(), j.blobs.end(),
                         [&](const ChunkBlob& x) { return x.bytes == b.bytes; });
    });
    j.s->flags |= kSeriesPersisted;
    j.s->indexed_partition = j.indexed;
    j.s->hint = j.hint;
    j.s->have_hint = true;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Storage interface

std::unique_ptr<storage::Appender> DBImpl::NewAppender() {
  return std::make_unique<DBAppender>(this, head_->NewAppender());
}

Result<std::unique_ptr<storage::Querier>> DBImpl::NewQuerier(int64_t mint, int64_t maxt) {
  return NewDBQuerier(this, mint, maxt);
}

int64_t DBImpl::StartTime() const {
  auto parts = store_->Partitions();
  if (!parts.empty()) return parts.front()->start;
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
    if (!s->sealed.empty()) {
      min_t = std::min(min_t, s->sealed.front().min_t);
      max_t = std::max(max_t, s->sealed.back().max_t);
    }
    if (!s->open.empty()) {
      min_t = std::min(min_t, s->open.min_time());
      max_t = std::max(max_t, s->open.max_time());
    }
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
  if (metric.empty()) return Status::Ok();
  {
    std::shared_lock lock(metadata_mu_);
    auto it = metadata_.find(metric);
    if (it != metadata_.end() && it->second == meta) return Status::Ok();
  }
  if (options_.read_only) return Status(StatusCode::kUnavailable, "storage is read-only");
  std::unique_lock lock(metadata_mu_);
  Store::Batch b = store_->NewBatch();
  b.PutMetadata(metric, meta);
  HEARTH_RETURN_IF_ERROR(store_->Write(b));
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
  if (options_.read_only) return Status(StatusCode::kUnavailable, "storage is read-only");
  HEARTH_ASSIGN_OR_RETURN(Postings refs, head_->PostingsForMatchers(matchers));
  std::vector<Postings> lists{std::move(refs)};
  for (const PartitionPtr& p : store_->PartitionsOverlapping(mint, maxt)) {
    Store::PartitionReader r(store_.get(), p);
    HEARTH_ASSIGN_OR_RETURN(Postings pr, tsdb::PostingsForMatchers(r, matchers));
    lists.push_back(std::move(pr));
  }
  Postings all = Merge(std::move(lists));
  std::unique_lock lock(tombstones_mu_);
  Store::Batch b = store_->NewBatch();
  std::map<SeriesRef, Intervals> updated;
  for (SeriesRef ref : all) {
    Intervals iv = tombstones_[ref];
    AddInterval(&iv, {mint, maxt});
    b.PutTombstones(ref, iv);
    updated[ref] = std::move(iv);
  }
  HEARTH_RETURN_IF_ERROR(store_->Write(b));
  for (auto& [ref, iv] : updated) tombstones_[ref] = std::move(iv);
  has_tombstones_.store(!tombstones_.empty());
  return Status::Ok();
}

Status DBImpl::CleanTombstones() {
  if (options_.read_only) return Status(StatusCode::kUnavailable, "storage is read-only");
  std::lock_guard maint(maint_mu_);
  std::map<SeriesRef, Intervals> tomb;
  {
    std::shared_lock lock(tombstones_mu_);
    tomb = tombstones_;
  }
  if (tomb.empty()) return Status::Ok();
  // The head: rewrite chunks in memory.
  head_->gate().EnterExclusive();
  Status head_status;
  for (const auto& entry : tomb) {
    const SeriesRef ref = entry.first;
    const Intervals& deleted = entry.second;  // (a named variable: lambdas capture it)
    MemSeries* s = head_->GetByRef(ref);
    if (s == nullptr) continue;
    std::lock_guard lock(s->mu);
    std::vector<ChunkBlob> kept;
    for (const ChunkBlob& b : s->sealed) {
      auto samples = chunk::DecodeFloatChunk(*b.bytes);
      if (!samples.ok()) {
        head_status = samples.status();
        kept.push_back(b);
        continue;
      }
      std::erase_if(*samples, [&](const Sample& x) { return InIntervals(deleted, x.t); });
      if (samples->empty()) continue;
      kept.push_back({samples->front().t, samples->back().t,
                      std::make_shared<const std::string>(
                          chunk::EncodeFloatChunk(*samples, s->hint))});
    }
    s->sealed = std::move(kept);
    if (!s->open.empty()) {
      auto samples = chunk::DecodeFloatChunk(s->open.Bytes());
      if (!samples.ok()) {
        head_status = samples.status();
        continue;
      }
      chunk::FloatEncoder e(s->open.params());
      for (const Sample& x : *samples) {
        if (!InIntervals(deleted, x.t)) e.Append(x.t, x.v);
      }
      s->open = std::move(e);
    }
  }
  head_->gate().ExitExclusive();
  HEARTH_RETURN_IF_ERROR(head_status);

  // The partitions: rewrite the chunks that overlap deleted ranges.
  for (const PartitionPtr& p : store_->Partitions()) {
    Store::PartitionReader r(store_.get(), p);
    Store::Batch b = store_->NewBatch();
    std::vector<SeriesRef> emptied;
    for (const auto& entry : tomb) {
      const SeriesRef ref = entry.first;
      const Intervals& deleted = entry.second;
      bool touches = false;
      for (const Interval& iv : deleted) touches |= p->Overlaps(iv.mint, iv.maxt);
      if (!touches) continue;
      std::vector<ChunkBlob> chunks;
      HEARTH_RETURN_IF_ERROR(r.Chunks(ref, kMinTime, kMaxTime, &chunks));
      size_t left = chunks.size();
      for (const ChunkBlob& c : chunks) {
        bool hit = false;
        for (const Interval& iv : deleted) hit |= iv.mint <= c.max_t && iv.maxt >= c.min_t;
        if (!hit) continue;
        HEARTH_ASSIGN_OR_RETURN(auto samples, chunk::DecodeFloatChunk(*c.bytes));
        std::erase_if(samples, [&](const Sample& x) { return InIntervals(deleted, x.t); });
        b.DeleteChunk(*p, ref, c.min_t, c.origin);
        if (samples.empty()) {
          --left;
          continue;
        }
        auto blob = ChunkBlob{samples.front().t, samples.back().t,
                              std::make_shared<const std::string>(chunk::EncodeFloatChunkBest(
                                  samples, chunk::GuessParams(samples.front().v))),
                              c.origin};
        b.PutChunk(*p, ref, blob);
      }
      if (left == 0 && !chunks.empty()) emptied.push_back(ref);
    }
    if (!emptied.empty()) {
      HEARTH_ASSIGN_OR_RETURN(auto labels, store_->GetLabels(emptied));
      for (size_t i = 0; i < emptied.size(); ++i) {
        if (!labels[i].empty()) b.DeletePostings(*p, emptied[i], labels[i]);
        // A head series writing here again must list itself in the postings again.
        if (MemSeries* s = head_->GetByRef(emptied[i])) {
          std::lock_guard lock(s->mu);
          if (s->indexed_partition == p->start) s->indexed_partition = kMinTime;
        }
      }
    }
    HEARTH_RETURN_IF_ERROR(store_->Write(b));
  }
  std::unique_lock lock(tombstones_mu_);
  Store::Batch b = store_->NewBatch();
  for (const auto& [ref, deleted] : tomb) {
    auto it = tombstones_.find(ref);
    if (it == tombstones_.end()) continue;
    if (it->second == deleted) {
      b.DeleteTombstones(ref);
      tombstones_.erase(it);
    }
  }
  HEARTH_RETURN_IF_ERROR(store_->Write(b));
  has_tombstones_.store(!tombstones_.empty());
  return Status::Ok();
}

Result<std::string> DBImpl::Snapshot(bool skip_head) {
  if (options_.read_only) return Status(StatusCode::kUnavailable, "storage is read-only");
  std::lock_guard maint(maint_mu_);
  const int64_t now = options_.clock.NowMs();
  const std::time_t secs = static_cast<std::time_t>(FloorDiv(now, 1000));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  const uint64_t rnd = (static_cast<uint64_t>(rd()) << 32) | rd();
  const std::string name = fmt::format("{}-{:016x}", ts, rnd);
  const std::string dir = options_.dir + "/snapshots/" + name;
  std::error_code ec;
  fs::create_directories(dir + "/wal", ec);
  if (ec) return Errorf(StatusCode::kIOError, "create {}: {}", dir, ec.message());
  if (!skip_head) {
    // The head first: chunks sealed in between land in both and are merged when read.
    HEARTH_RETURN_IF_ERROR(WriteHeadCheckpoint(dir + "/wal/" + CheckpointName(1)));
  }
  HEARTH_RETURN_IF_ERROR(store_->CreateCheckpoint(dir + "/db"));
  return name;
}

// ---------------------------------------------------------------------------------------------
// Maintenance

Status DBImpl::WriteHeadCheckpoint(const std::string& path) {
  std::string file, rec;
  rec.push_back(static_cast<char>(kRecordCheckpointHeader));
  PutUvarint(&rec, 1);
  PutUvarint(&rec, head_->next_ref());
  PutVarint(&rec, head_->MaxTime());
  AppendFramed(&file, rec);
  uint64_t count = 0, in_batch = 0;
  rec.clear();
  std::string entries;
  auto flush = [&] {
    if (in_batch == 0) return;
    rec.clear();
    rec.push_back(static_cast<char>(kRecordCheckpointSeries));
    PutUvarint(&rec, in_batch);
    rec.append(entries);
    AppendFramed(&file, rec);
    entries.clear();
    in_batch = 0;
  };
  const uint64_t epoch = head_->EnterBatch();
  head_->ForEachSeries([&](MemSeries* s) {
    {
      std::lock_guard lock(s->mu);
      if (s->flags & kSeriesRemoved) return;
      EncodeCheckpointSeries(&entries, *s);
    }
    ++count;
    if (++in_batch == 1000) flush();
  });
  head_->ExitBatch(epoch);
  flush();
  rec.clear();
  rec.push_back(static_cast<char>(kRecordCheckpointFooter));
  PutUvarint(&rec, count);
  AppendFramed(&file, rec);
  return WriteFileDurably(path, file);
}

Status DBImpl::Checkpoint() {
  if (options_.read_only) return Status::Ok();
  std::lock_guard maint(maint_mu_);
  return CheckpointLocked();
}

Status DBImpl::CheckpointLocked() {
  metrics_.checkpoints->Inc();
  auto fail = [&](Status st) {
    metrics_.checkpoint_failures->Inc();
    return st;
  };
  // Records from the new segment on are replayed on top of this checkpoint; samples it
  // already holds are recognised by their timestamps and skipped.
  // Under the gate: commits logged to the old segment have been applied when it opens.
  head_->gate().EnterExclusive();
  auto seq = log_->Rotate();
  head_->gate().ExitExclusive();
  if (!seq.ok()) return fail(seq.status());
  if (Status st = WriteHeadCheckpoint(WalDir() + "/" + CheckpointName(*seq)); !st.ok()) {
    return fail(st);
  }
  // Chunks persisted before now must survive a power loss before their log goes away.
  if (Status st = store_->SyncWAL(); !st.ok()) return fail(st);
  prev_checkpoint_seq_ = checkpoint_seq_;
  checkpoint_seq_ = *seq;
  last_checkpoint_wall_ = options_.clock.NowMs();
  // Keep the previous checkpoint and the segments from it on as a fallback.
  for (const auto& [cseq, path] : ListCheckpoints(WalDir())) {
    if (cseq < prev_checkpoint_seq_) ::unlink(path.c_str());
  }
  auto segs = ListSegments(WalDir());
  if (segs.ok()) {
    for (uint64_t s : *segs) {
      if (s < prev_checkpoint_seq_) ::unlink(SegmentPath(WalDir(), s).c_str());
    }
  }
  return Status::Ok();
}

Status DBImpl::RemoveIdleSeries() {
  const int64_t idle_before = options_.clock.NowMs() - options_.idle_series_ms;
  std::vector<MemSeries*> idle;
  const uint64_t epoch = head_->EnterBatch();
  head_->ForEachSeries([&](MemSeries* s) {
    std::lock_guard lock(s->mu);
    if (s->last_append_wall >= idle_before) return;
    if (!s->open.empty()) {
      s->sealed.push_back(ChunkBlob{s->open.min_time(), s->open.max_time(),
                                    std::make_shared<const std::string>(s->open.Bytes())});
      s->hint = s->open.params();
      s->open = chunk::FloatEncoder();
    }
    idle.push_back(s);
  });
  Status st = PersistSealed(idle);
  head_->ExitBatch(epoch);
  HEARTH_RETURN_IF_ERROR(st);
  // Only series still idle and fully persisted leave (a sample may have arrived meanwhile).
  head_->RemoveSeries(idle, [&](const MemSeries& s) {
    return s.last_append_wall < idle_before && s.open.empty() && s.sealed.empty();
  });
  return Status::Ok();
}

Status DBImpl::ApplyRetention() {
  const int64_t cutoff = RetentionCutoff();
  head_->SetMinValidTime(cutoff);
  auto parts = store_->Partitions();
  std::vector<PartitionPtr> expired;
  for (const PartitionPtr& p : parts) {
    if (p->end() <= cutoff) expired.push_back(p);
  }
  if (!expired.empty()) {
    options_.logger.Info("dropping partitions past retention time",
                         {{"count", std::to_string(expired.size())},
                          {"oldest_start", std::to_string(expired.front()->start)}});
    HEARTH_RETURN_IF_ERROR(store_->DropPartitions(expired));
    metrics_.time_retentions->Inc(static_cast<double>(expired.size()));
  }
  if (options_.retention_size_bytes > 0) {
    parts = store_->Partitions();
    uint64_t total = DiskBytes();
    const int64_t newest = PartitionStart(head_->MaxTime());
    std::vector<PartitionPtr> drop;
    for (const PartitionPtr& p : parts) {
      if (total <= options_.retention_size_bytes || p->start >= newest) break;
      const uint64_t bytes = store_->PartitionBytes(*p, /*with_memtables=*/true);
      drop.push_back(p);
      total = total > bytes ? total - bytes : 0;
    }
    if (!drop.empty()) {
      options_.logger.Info("dropping partitions past retention size",
                           {{"count", std::to_string(drop.size())},
                            {"limit_bytes", std::to_string(options_.retention_size_bytes)}});
      HEARTH_RETURN_IF_ERROR(store_->DropPartitions(drop));
      metrics_.size_retentions->Inc(static_cast<double>(drop.size()));
    }
  }
  // Create the next partition ahead of time, so no commit waits for it.
  if (head_->MaxTime() != kMinTime) {
    const int64_t next = PartitionStart(head_->MaxTime()) + options_.partition_ms;
    if (next - head_->MaxTime() <= options_.partition_ms / 4) {
      HEARTH_RETURN_IF_ERROR(store_->GetOrCreatePartition(next, options_.partition_ms).status());
    }
  }
  parts = store_->Partitions();
  cells_->partitions.store(parts.size());
  cells_->lowest_time.store(parts.empty() ? 0 : parts.front()->start);
  return Status::Ok();
}

Status DBImpl::RunMaintenance() {
  if (options_.read_only) return Status::Ok();
  std::lock_guard maint(maint_mu_);
  head_->UpdateMemoryStats();
  Status result;
  // Chunks a failed write left in the head.
  std::vector<MemSeries*> leftover;
  head_->ForEachSeries([&](MemSeries* s) {
    std::lock_guard lock(s->mu);
    if (!s->sealed.empty()) leftover.push_back(s);
  });
  if (Status st = PersistSealed(leftover); !st.ok()) result = st;
  if (Status st = RemoveIdleSeries(); !st.ok() && result.ok()) result = st;
  if (Status st = ApplyRetention(); !st.ok() && result.ok()) result = st;
  const int64_t now = options_.clock.NowMs();
  if (now - last_checkpoint_wall_ >= options_.checkpoint_interval_ms ||
      log_->bytes_in_segment() >= options_.checkpoint_log_bytes) {
    if (Status st = CheckpointLocked(); !st.ok() && result.ok()) result = st;
  }
  head_->ReclaimRemoved();
  cells_->disk_bytes.store(DiskBytes());
  return result;
}

void DBImpl::BackgroundLoop() {
  const int64_t tick =
      std::max<int64_t>(10, std::min(options_.sync_interval_ms, options_.maintenance_interval_ms));
  int64_t since_maintenance = 0;
  std::unique_lock lock(bg_mu_);
  while (!closing_) {
    bg_cv_.wait_for(lock, std::chrono::milliseconds(tick));
    if (closing_) break;
    lock.unlock();
    if (options_.sync == SyncPolicy::kInterval && log_) {
      if (Status st = log_->Sync(); !st.ok()) {
        options_.logger.Error("syncing the commit log failed", {{"err", st.ToString()}});
      }
    }
    since_maintenance += tick;
    if (since_maintenance >= options_.maintenance_interval_ms) {
      since_maintenance = 0;
      if (Status st = RunMaintenance(); !st.ok()) {
        options_.logger.Error("tsdb maintenance failed", {{"err", st.ToString()}});
      }
    }
    lock.lock();
  }
}

std::vector<PartitionInfo> DBImpl::Partitions() {
  std::vector<PartitionInfo> out;
  for (const PartitionPtr& p : store_->Partitions()) {
    PartitionInfo info;
    info.start = p->start;
    info.end = p->end();
    info.bytes = store_->PartitionBytes(*p);
    Store::PartitionReader r(store_.get(), p);
    auto all = r.AllPostings();
    info.num_series = all.ok() ? all->size() : 0;
    out.push_back(info);
  }
  return out;
}

uint64_t DBImpl::DiskBytes() {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == "snapshots") {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code fec;
    if (it->is_regular_file(fec)) total += it->file_size(fec);
  }
  return total;
}

Status DBImpl::Close() {
  {
    std::lock_guard lock(bg_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    closing_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  Status result;
  if (!options_.read_only && log_) {
    // A checkpoint at shutdown: the next start replays nothing.
    std::lock_guard maint(maint_mu_);
    std::vector<MemSeries*> leftover;
    head_->ForEachSeries([&](MemSeries* s) {
      std::lock_guard lock(s->mu);
      if (!s->sealed.empty()) leftover.push_back(s);
    });
    if (options_.checkpoint_on_close) {
      result = PersistSealed(leftover);
      if (Status st = CheckpointLocked(); !st.ok() && result.ok()) result = st;
    }
    if (Status st = log_->Close(); !st.ok() && result.ok()) result = st;
  }
  if (store_) {
    if (Status st = store_->SyncWAL(); !st.ok() && result.ok()) result = st;
  }
  return result;
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
