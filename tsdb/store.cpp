#include "tsdb/internal/store.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_buffer_manager.h>

#include "tsdb/chunk/varint.h"

namespace hearth::tsdb {
namespace {

constexpr char kSeriesCF[] = "series";
constexpr char kFormatKey[] = "V";
constexpr char kFormatVersion[] = "1";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  StatusCode code = s.IsCorruption() ? StatusCode::kCorruption
                    : s.IsNotFound() ? StatusCode::kNotFound
                                     : StatusCode::kIOError;
  return Errorf(code, "{}: {}", what, s.ToString());
}

std::string ChunkCFName(int64_t start, int64_t len) { return fmt::format("c{}_{}", start, len); }
std::string IndexCFName(int64_t start, int64_t len) { return fmt::format("i{}_{}", start, len); }

// Parses "c<start>_<len>" / "i<start>_<len>".
bool ParseCFName(const std::string& name, char kind, int64_t* start, int64_t* len) {
  if (name.size() < 4 || name[0] != kind) return false;
  size_t us = name.find('_');
  if (us == std::string::npos) return false;
  try {
    size_t p1 = 0, p2 = 0;
    *start = std::stoll(name.substr(1, us - 1), &p1);
    *len = std::stoll(name.substr(us + 1), &p2);
    return p1 == us - 1 && p2 == name.size() - us - 1 && *len > 0;
  } catch (...) {
    return false;
  }
}

std::string SeriesKey(SeriesRef ref) {
  std::string k = "S";
  PutBigEndian64(&k, ref);
  return k;
}
std::string HashKey(uint64_t hash, SeriesRef ref) {
  std::string k = "H";
  PutBigEndian64(&k, hash);
  PutBigEndian64(&k, ref);
  return k;
}
std::string ChunkPrefix(SeriesRef ref) {
  std::string k = "C";
  PutBigEndian64(&k, ref);
  return k;
}
constexpr size_t kChunkKeySize = 18;
std::string ChunkKey(SeriesRef ref, int64_t min_t, uint8_t origin) {
  std::string k = ChunkPrefix(ref);
  PutOrderedInt64(&k, min_t);
  k.push_back(static_cast<char>(origin));
  return k;
}
void PutLenPrefixed(std::string* k, std::string_view s) {
  PutUvarint(k, s.size());
  k->append(s);
}
std::string NamePrefix(std::string_view name) {
  std::string k = "P";
  PutLenPrefixed(&k, name);
  return k;
}
std::string PairPrefix(std::string_view name, std::string_view value) {
  std::string k = NamePrefix(name);
  PutLenPrefixed(&k, value);
  return k;
}
std::string AllKey(SeriesRef ref) {
  std::string k = "A";
  PutBigEndian64(&k, ref);
  return k;
}

bool StartsWith(const rocksdb::Slice& s, std::string_view p) {
  return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

// Splits a postings key into name and value; false if malformed.
bool ParsePostingsKey(std::string_view k, std::string_view* name, std::string_view* value) {
  if (k.empty() || k[0] != 'P') return false;
  k.remove_prefix(1);
  uint64_t n;
  if (!GetUvarint(&k, &n) || n > k.size()) return false;
  *name = k.substr(0, n);
  k.remove_prefix(n);
  if (!GetUvarint(&k, &n) || n + 8 != k.size()) return false;
  *value = k.substr(0, n);
  return true;
}

rocksdb::CompressionType BestCompression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  }
  return rocksdb::kNoCompression;
}
rocksdb::CompressionType BottommostCompression() {
  auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kZSTD) != supported.end()) {
    return rocksdb::kZSTD;
  }
  return BestCompression();
}

}  // namespace

Partition::~Partition() {
  if (db) {
    if (chunks) db->DestroyColumnFamilyHandle(chunks);
    if (index) db->DestroyColumnFamilyHandle(index);
  }
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& so,
                                           Logger logger) {
  std::unique_ptr<Store> s(new Store());
  s->read_only_ = so.read_only;
  s->logger_ = std::move(logger);

  auto cache = rocksdb::NewLRUCache(so.block_cache_bytes);
  auto table = [&](bool bloom, size_t block_size) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.block_size = block_size;
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    t.format_version = 5;
    if (bloom) {
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      t.whole_key_filtering = false;  // lookups are by prefix (series ref, label hash)
    }
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  };

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = !so.read_only;
  dbo.create_missing_column_families = !so.read_only;
  dbo.max_background_jobs = 2;
  dbo.bytes_per_sync = 1 << 20;
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  dbo.max_total_wal_size = 64 << 20;
  dbo.max_open_files = 1024;
  dbo.keep_log_file_num = 3;
  dbo.max_manifest_file_size = 64 << 20;
  dbo.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(so.write_buffer_bytes);
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  // Sealed chunks: already compressed, so no block compression; looked up by series ref,
  // so a prefix bloom filter on 'C' + ref.
  s->chunks_opts_.table_factory = table(true, 16 << 10);
  s->chunks_opts_.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(9));
  s->chunks_opts_.compression = rocksdb::kNoCompression;
  s->chunks_opts_.bottommost_compression = rocksdb::kNoCompression;
  s->chunks_opts_.write_buffer_size = 32 << 20;
  s->chunks_opts_.max_write_buffer_number = 3;
  s->chunks_opts_.level_compaction_dynamic_level_bytes = true;
  s->chunks_opts_.target_file_size_base = 64 << 20;
  // Postings: many small keys with long shared prefixes; they compress well.
  s->index_opts_.table_factory = table(false, 4 << 10);
  s->index_opts_.compression = BestCompression();
  s->index_opts_.bottommost_compression = BottommostCompression();
  s->index_opts_.write_buffer_size = 8 << 20;
  s->index_opts_.level_compaction_dynamic_level_bytes = true;
  // Series: point lookups by 'S' + ref and prefix lookups by 'H' + label hash.
  rocksdb::ColumnFamilyOptions series_opts;
  series_opts.table_factory = table(true, 4 << 10);
  series_opts.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(9));
  series_opts.compression = BestCompression();
  series_opts.bottommost_compression = BottommostCompression();
  series_opts.write_buffer_size = 16 << 20;
  series_opts.level_compaction_dynamic_level_bytes = true;
  rocksdb::ColumnFamilyOptions default_opts;
  default_opts.table_factory = table(false, 4 << 10);
  default_opts.write_buffer_size = 4 << 20;

  std::vector<std::string> names;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!ls.ok()) {
    if (so.read_only) return FromRocks(ls, "open " + path);
    names.clear();
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, default_opts);
  descs.emplace_back(kSeriesCF, series_opts);
  for (const std::string& n : names) {
    int64_t start, len;
    if (ParseCFName(n, 'c', &start, &len)) {
      descs.emplace_back(n, s->chunks_opts_);
    } else if (ParseCFName(n, 'i', &start, &len)) {
      descs.emplace_back(n, s->index_opts_);
    } else if (n != rocksdb::kDefaultColumnFamilyName && n != kSeriesCF) {
      return Errorf(StatusCode::kCorruption, "open {}: unknown column family \"{}\"", path, n);
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st =
      so.read_only ? rocksdb::DB::OpenForReadOnly(dbo, path, descs, &handles, &raw)
                   : rocksdb::DB::Open(dbo, path, descs, &handles, &raw);
  if (!st.ok()) return FromRocks(st, "open " + path);
  s->db_.reset(raw);
  s->default_cf_ = handles[0];
  s->series_cf_ = handles[1];

  // Pair up the partition column families.
  std::map<std::pair<int64_t, int64_t>, std::pair<rocksdb::ColumnFamilyHandle*,
                                                  rocksdb::ColumnFamilyHandle*>> pairs;
  for (size_t i = 2; i < handles.size(); ++i) {
    int64_t start, len;
    const std::string& n = descs[i].name;
    if (ParseCFName(n, 'c', &start, &len)) {
      pairs[{start, len}].first = handles[i];
    } else if (ParseCFName(n, 'i', &start, &len)) {
      pairs[{start, len}].second = handles[i];
    }
  }
  for (auto& [key, hs] : pairs) {
    auto p = std::make_shared<Partition>();
    p->start = key.first;
    p->len = key.second;
    p->chunks = hs.first;
    p->index = hs.second;
    p->db = s->db_;
    if (p->chunks == nullptr || p->index == nullptr) {
      // A crash between creating the two families of a partition: finish or drop it.
      if (so.read_only) continue;
      rocksdb::ColumnFamilyHandle* h = nullptr;
      auto cst = p->chunks == nullptr
                     ? s->db_->CreateColumnFamily(s->chunks_opts_, ChunkCFName(p->start, p->len), &h)
                     : s->db_->CreateColumnFamily(s->index_opts_, IndexCFName(p->start, p->len), &h);
      if (!cst.ok()) return FromRocks(cst, "complete partition");
      (p->chunks == nullptr ? p->chunks : p->index) = h;
    }
    s->partitions_[p->start] = p;
  }
  if (!so.read_only) {
    std::string v;
    auto gst = s->db_->Get(rocksdb::ReadOptions(), s->default_cf_, kFormatKey, &v);
    if (gst.IsNotFound()) {
      HEARTH_RETURN_IF_ERROR(FromRocks(
          s->db_->Put(rocksdb::WriteOptions(), s->default_cf_, kFormatKey, kFormatVersion),
          "write format version"));
    } else if (!gst.ok()) {
      return FromRocks(gst, "read format version");
    } else if (v != kFormatVersion) {
      return Errorf(StatusCode::kCorruption, "{}: unsupported storage format version \"{}\"",
                    path, v);
    }
  }
  return s;
}

Store::~Store() {
  std::unique_lock lock(mu_);
  partitions_.clear();
  if (db_) {
    if (default_cf_) db_->DestroyColumnFamilyHandle(default_cf_);
    if (series_cf_) db_->DestroyColumnFamilyHandle(series_cf_);
    default_cf_ = series_cf_ = nullptr;
    if (!read_only_) (void)db_->FlushWAL(true);
    db_.reset();  // closes when the last partition held by a query is gone
  }
}

std::vector<PartitionPtr> Store::Partitions() const {
  std::shared_lock lock(mu_);
  std::vector<PartitionPtr> out;
  for (const auto& [start, p] : partitions_) out.push_back(p);
  return out;
}

std::vector<PartitionPtr> Store::PartitionsOverlapping(int64_t mint, int64_t maxt) const {
  std::shared_lock lock(mu_);
  std::vector<PartitionPtr> out;
  for (const auto& [start, p] : partitions_) {
    if (p->Overlaps(mint, maxt)) out.push_back(p);
  }
  return out;
}

PartitionPtr Store::FindPartition(int64_t start) const {
  std::shared_lock lock(mu_);
  auto it = partitions_.find(start);
  return it == partitions_.end() ? nullptr : it->second;
}

Result<PartitionPtr> Store::GetOrCreatePartition(int64_t start, int64_t len) {
  if (PartitionPtr p = FindPartition(start)) return p;
  if (read_only_) return Status(StatusCode::kInvalidArgument, "store is read-only");
  std::unique_lock lock(mu_);
  auto it = partitions_.find(start);
  if (it != partitions_.end()) return it->second;
  auto p = std::make_shared<Partition>();
  p->start = start;
  p->len = len;
  p->db = db_;
  // Both families in one call: one OPTIONS file and manifest write instead of two.
  std::vector<rocksdb::ColumnFamilyDescriptor> descs{{ChunkCFName(start, len), chunks_opts_},
                                                     {IndexCFName(start, len), index_opts_}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  HEARTH_RETURN_IF_ERROR(
      FromRocks(db_->CreateColumnFamilies(descs, &handles), "create partition"));
  p->chunks = handles[0];
  p->index = handles[1];
  partitions_[start] = p;
  return p;
}

Status Store::DropPartitions(std::span<const PartitionPtr> parts) {
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  {
    std::unique_lock lock(mu_);
    for (const PartitionPtr& p : parts) {
      auto it = partitions_.find(p->start);
      if (it == partitions_.end() || it->second != p) continue;
      partitions_.erase(it);
      p->dropped.store(true);
      cfs.push_back(p->chunks);
      cfs.push_back(p->index);
    }
  }
  if (cfs.empty()) return Status::Ok();
  // The files go when the last handle does (queries may still hold the partition).
  return FromRocks(db_->DropColumnFamilies(cfs), "drop partitions");
}

uint64_t Store::PartitionBytes(const Partition& p, bool with_memtables) {
  uint64_t total = 0;
  for (auto* cf : {p.chunks, p.index}) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, "rocksdb.total-sst-files-size", &v)) total += v;
    if (with_memtables && db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) {
      total += v;
    }
  }
  return total;
}

// ---- batches

void Store::Batch::PutChunk(const Partition& p, SeriesRef ref, const ChunkBlob& c) {
  std::string v;
  PutUvarint(&v, static_cast<uint64_t>(c.max_t) - static_cast<uint64_t>(c.min_t));
  v.append(*c.bytes);
  wb_.Put(p.chunks, ChunkKey(ref, c.min_t, c.origin), v);
}

void Store::Batch::DeleteChunk(const Partition& p, SeriesRef ref, int64_t min_t, uint8_t origin) {
  wb_.Delete(p.chunks, ChunkKey(ref, min_t, origin));
}

void Store::Batch::PutPostings(const Partition& p, SeriesRef ref, const Labels& labels) {
  for (const Label& l : labels) {
    std::string k = PairPrefix(l.name, l.value);
    PutBigEndian64(&k, ref);
    wb_.Put(p.index, k, rocksdb::Slice());
  }
  wb_.Put(p.index, AllKey(ref), rocksdb::Slice());
}

void Store::Batch::DeletePostings(const Partition& p, SeriesRef ref, const Labels& labels) {
  for (const Label& l : labels) {
    std::string k = PairPrefix(l.name, l.value);
    PutBigEndian64(&k, ref);
    wb_.Delete(p.index, k);
  }
  wb_.Delete(p.index, AllKey(ref));
}

void Store::Batch::PutSeries(SeriesRef ref, const Labels& labels) {
  wb_.Put(s_->series_cf_, SeriesKey(ref), labels.packed());
  wb_.Put(s_->series_cf_, HashKey(labels.Hash(), ref), rocksdb::Slice());
}

void Store::Batch::PutMetadata(std::string_view metric, const MetricMetadata& m) {
  std::string v;
  v.push_back(static_cast<char>(m.type));
  PutLenPrefixed(&v, m.help);
  PutLenPrefixed(&v, m.unit);
  wb_.Put(s_->default_cf_, "M" + std::string(metric), v);
}

void Store::Batch::PutTombstones(SeriesRef ref, const Intervals& iv) {
  std::string k = "T", v;
  PutBigEndian64(&k, ref);
  PutUvarint(&v, iv.size());
  for (const Interval& i : iv) {
    PutVarint(&v, i.mint);
    PutVarint(&v, i.maxt);
  }
  wb_.Put(s_->default_cf_, k, v);
}

void Store::Batch::DeleteTombstones(SeriesRef ref) {
  std::string k = "T";
  PutBigEndian64(&k, ref);
  wb_.Delete(s_->default_cf_, k);
}

Status Store::Write(Batch& b) {
  if (read_only_) return Status(StatusCode::kInvalidArgument, "store is read-only");
  if (b.wb_.Count() == 0) return Status::Ok();
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &b.wb_), "write");
}

// ---- series

Result<SeriesRef> Store::FindSeries(const Labels& labels) {
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, series_cf_));
  std::string prefix = "H";
  PutBigEndian64(&prefix, labels.Hash());
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (it->key().size() != 17) continue;
    SeriesRef ref = GetBigEndian64(it->key().data() + 9);
    std::string packed;
    auto st = db_->Get(rocksdb::ReadOptions(), series_cf_, SeriesKey(ref), &packed);
    if (st.IsNotFound()) continue;
    HEARTH_RETURN_IF_ERROR(FromRocks(st, "read series"));
    if (packed == labels.packed()) return ref;
  }
  HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "find series"));
  return SeriesRef{0};
}

Result<std::vector<Labels>> Store::GetLabels(std::span<const SeriesRef> refs) {
  std::vector<Labels> out(refs.size());
  if (refs.empty()) return out;
  std::vector<std::string> keys;
  keys.reserve(refs.size());
  for (SeriesRef r : refs) keys.push_back(SeriesKey(r));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(refs.size());
  std::vector<rocksdb::Status> statuses(refs.size());
  db_->MultiGet(rocksdb::ReadOptions(), series_cf_, refs.size(), slices.data(), values.data(),
                statuses.data());
  for (size_t i = 0; i < refs.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    HEARTH_RETURN_IF_ERROR(FromRocks(statuses[i], "read series"));
    bool ok = false;
    out[i] = Labels::FromPacked(values[i].ToStringView(), &ok);
    if (!ok) return Errorf(StatusCode::kCorruption, "series {}: stored labels are corrupt", refs[i]);
  }
  return out;
}

Result<SeriesRef> Store::MaxSeriesRef() {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, series_cf_));
  it->SeekForPrev(SeriesKey(~SeriesRef{0}));
  if (it->Valid() && it->key().size() == 9 && it->key()[0] == 'S') {
    return GetBigEndian64(it->key().data() + 1);
  }
  HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "scan series"));
  return SeriesRef{0};
}

Status Store::ForEachSeries(const std::function<void(SeriesRef, const Labels&)>& f) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, series_cf_));
  for (it->Seek("S"); it->Valid() && it->key()[0] == 'S'; it->Next()) {
    if (it->key().size() != 9) continue;
    bool ok = false;
    Labels l = Labels::FromPacked(it->value().ToStringView(), &ok);
    if (!ok) return Status(StatusCode::kCorruption, "stored series labels are corrupt");
    f(GetBigEndian64(it->key().data() + 1), l);
  }
  return FromRocks(it->status(), "scan series");
}

// ---- partition reader

Store::PartitionReader::PartitionReader(Store* s, PartitionPtr p)
    : s_(s), p_(std::move(p)), snap_(s->db_->GetSnapshot()) {}

Store::PartitionReader::~PartitionReader() {
  chunk_it_.reset();
  s_->db_->ReleaseSnapshot(snap_);
}

Result<Postings> Store::PartitionReader::PostingsFor(std::string_view name,
                                                     std::span<const std::string> values) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(s_->db_->NewIterator(ro, p_->index));
  std::vector<Postings> lists;
  for (const std::string& v : values) {
    const std::string prefix = PairPrefix(name, v);
    Postings p;
    for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
      if (it->key().size() != prefix.size() + 8) continue;
      p.push_back(GetBigEndian64(it->key().data() + prefix.size()));
    }
    HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "read postings"));
    if (!p.empty()) lists.push_back(std::move(p));
  }
  return Merge(std::move(lists));
}

Result<std::vector<std::string>> Store::PartitionReader::LabelValues(std::string_view name) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(s_->db_->NewIterator(ro, p_->index));
  const std::string prefix = NamePrefix(name);
  std::vector<std::string> out;
  it->Seek(prefix);
  while (it->Valid() && StartsWith(it->key(), prefix)) {
    std::string_view n, v;
    if (!ParsePostingsKey(it->key().ToStringView(), &n, &v)) {
      return Status(StatusCode::kCorruption, "malformed postings key");
    }
    out.emplace_back(v);
    // Skip the rest of this value's refs: past prefix+value, every ref is 8 bytes.
    it->Seek(PairPrefix(n, v) + std::string(9, '\xff'));
  }
  HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "read label values"));
  return out;  // ascending by (length, bytes); callers sort
}

Result<std::vector<std::string>> Store::PartitionReader::LabelNames() {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(s_->db_->NewIterator(ro, p_->index));
  std::vector<std::string> out;
  it->Seek("P");
  while (it->Valid() && it->key()[0] == 'P') {
    std::string_view n, v;
    if (!ParsePostingsKey(it->key().ToStringView(), &n, &v)) {
      return Status(StatusCode::kCorruption, "malformed postings key");
    }
    out.emplace_back(n);
    // Past every key of this name: the value length varint has at most 5 bytes.
    it->Seek(NamePrefix(n) + std::string(6, '\xff'));
  }
  HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "read label names"));
  return out;
}

Result<Postings> Store::PartitionReader::AllPostings() {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(s_->db_->NewIterator(ro, p_->index));
  Postings out;
  for (it->Seek("A"); it->Valid() && it->key()[0] == 'A'; it->Next()) {
    if (it->key().size() == 9) out.push_back(GetBigEndian64(it->key().data() + 1));
  }
  HEARTH_RETURN_IF_ERROR(FromRocks(it->status(), "read postings"));
  return out;
}

Status Store::PartitionReader::Chunks(SeriesRef ref, int64_t mint, int64_t maxt,
                                      std::vector<ChunkBlob>* out) {
  if (!chunk_it_) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    ro.prefix_same_as_start = true;
    chunk_it_.reset(s_->db_->NewIterator(ro, p_->chunks));
  }
  const std::string prefix = ChunkPrefix(ref);
  for (chunk_it_->Seek(prefix); chunk_it_->Valid() && StartsWith(chunk_it_->key(), prefix);
       chunk_it_->Next()) {
    if (chunk_it_->key().size() != kChunkKeySize) {
      return Errorf(StatusCode::kCorruption, "series {}: malformed chunk key", ref);
    }
    const auto origin = static_cast<uint8_t>(chunk_it_->key()[17]);
    const int64_t min_t = GetOrderedInt64(chunk_it_->key().data() + 9);
    if (min_t > maxt) break;
    std::string_view v = chunk_it_->value().ToStringView();
    uint64_t span;
    if (!GetUvarint(&v, &span)) {
      return Errorf(StatusCode::kCorruption, "series {}: malformed chunk at {}", ref, min_t);
    }
    const auto max_t = static_cast<int64_t>(static_cast<uint64_t>(min_t) + span);
    if (max_t < min_t) {
      return Errorf(StatusCode::kCorruption, "series {}: malformed chunk at {}", ref, min_t);
    }
    if (max_t < mint) continue;
    out->push_back(ChunkBlob{min_t, max_t, std::make_shared<const std::string>(v), origin});
  }
  return FromRocks(chunk_it_->status(), "read chunks");
}

Status Store::PartitionReader::ForEachChunk(
    const std::function<Status(SeriesRef, int64_t, int64_t, std::string_view)>& f) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(s_->db_->NewIterator(ro, p_->chunks));
  for (it->Seek("C"); it->Valid(); it->Next()) {
    if (it->key().size() != kChunkKeySize || it->key()[0] != 'C') {
      return Status(StatusCode::kCorruption, "malformed chunk key");
    }
    const SeriesRef ref = GetBigEndian64(it->key().data() + 1);
    const int64_t min_t = GetOrderedInt64(it->key().data() + 9);
    std::string_view v = it->value().ToStringView();
    uint64_t span;
    if (!GetUvarint(&v, &span)) {
      return Errorf(StatusCode::kCorruption, "series {}: malformed chunk at {}", ref, min_t);
    }
    HEARTH_RETURN_IF_ERROR(
        f(ref, min_t, static_cast<int64_t>(static_cast<uint64_t>(min_t) + span), v));
  }
  return FromRocks(it->status(), "scan chunks");
}

// ---- metadata, tombstones

Status Store::LoadMetadata(std::map<std::string, MetricMetadata, std::less<>>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_cf_));
  for (it->Seek("M"); it->Valid() && it->key()[0] == 'M'; it->Next()) {
    std::string_view v = it->value().ToStringView();
    MetricMetadata m;
    uint64_t n;
    if (v.empty()) return Status(StatusCode::kCorruption, "malformed metadata");
    m.type = static_cast<MetricType>(static_cast<uint8_t>(v[0]));
    v.remove_prefix(1);
    if (!GetUvarint(&v, &n) || n > v.size()) return Status(StatusCode::kCorruption, "malformed metadata");
    m.help.assign(v.substr(0, n));
    v.remove_prefix(n);
    if (!GetUvarint(&v, &n) || n != v.size()) return Status(StatusCode::kCorruption, "malformed metadata");
    m.unit.assign(v);
    (*out)[std::string(it->key().ToStringView().substr(1))] = std::move(m);
  }
  return FromRocks(it->status(), "read metadata");
}

Status Store::LoadTombstones(std::map<SeriesRef, Intervals>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_cf_));
  for (it->Seek("T"); it->Valid() && it->key()[0] == 'T'; it->Next()) {
    if (it->key().size() != 9) return Status(StatusCode::kCorruption, "malformed tombstone key");
    std::string_view v = it->value().ToStringView();
    uint64_t n;
    if (!GetUvarint(&v, &n) || n > v.size()) return Status(StatusCode::kCorruption, "malformed tombstones");
    Intervals iv;
    for (uint64_t i = 0; i < n; ++i) {
      Interval x;
      if (!GetVarint(&v, &x.mint) || !GetVarint(&v, &x.maxt) || x.mint > x.maxt) {
        return Status(StatusCode::kCorruption, "malformed tombstones");
      }
      AddInterval(&iv, x);
    }
    (*out)[GetBigEndian64(it->key().data() + 1)] = std::move(iv);
  }
  return FromRocks(it->status(), "read tombstones");
}

// ---- admin

Status Store::CreateCheckpoint(const std::string& dir) {
  rocksdb::Checkpoint* cp = nullptr;
  HEARTH_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &cp), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> owned(cp);
  return FromRocks(owned->CreateCheckpoint(dir), "checkpoint " + dir);
}

Status Store::SyncWAL() {
  if (read_only_) return Status::Ok();
  return FromRocks(db_->FlushWAL(true), "sync RocksDB WAL");
}

Status Store::Flush() {
  if (read_only_) return Status::Ok();
  std::vector<rocksdb::ColumnFamilyHandle*> cfs{default_cf_, series_cf_};
  for (const PartitionPtr& p : Partitions()) {
    cfs.push_back(p->chunks);
    cfs.push_back(p->index);
  }
  return FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs), "flush");
}

}  // namespace hearth::tsdb
