#pragma once

// Reading a series out of its chunks: an immutable chunk blob shared between the head, the
// persister and queries, deletion intervals (tombstones), and the sample iterator that walks a
// list of chunks within a time range.
//
// Thread-safety: ChunkBlob is immutable and shared freely. An iterator is used by one thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/sample.h"
#include "tsdb/chunk/float_chunk.h"
#include "tsdb/storage/storage.h"

namespace hearth::tsdb {

// Where a persisted chunk came from; part of its key, so chunks of one series that start at
// the same time but come from the head and from an import never overwrite each other.
enum ChunkOrigin : uint8_t { kOriginHead = 0, kOriginImport = 1 };

struct ChunkBlob {
  int64_t min_t = 0;
  int64_t max_t = 0;
  std::shared_ptr<const std::string> bytes;
  uint8_t origin = kOriginHead;
};

// A closed time range [mint, maxt].
struct Interval {
  int64_t mint = 0;
  int64_t maxt = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};
// Sorted by mint, non-overlapping, non-adjacent.
using Intervals = std::vector<Interval>;

// Adds `iv` to `set`, merging overlapping and adjacent intervals.
void AddInterval(Intervals* set, Interval iv);
bool InIntervals(const Intervals& set, int64_t t);

// The samples of `chunks` within [mint, maxt], minus `deleted`. Chunks may come in any order
// and may overlap (imports, replays): overlapping chunks are merged, and of samples with equal
// timestamps the one from the chunk that starts first is kept. A corrupt chunk ends the
// iteration with its kCorruption status.
class ChunksIterator final : public storage::SampleIterator {
 public:
  ChunksIterator(std::vector<ChunkBlob> chunks, int64_t mint, int64_t maxt, Intervals deleted);

  bool Next() override;
  bool Seek(int64_t t) override;
  Sample At() const override { return cur_; }
  size_t NextBatch(std::span<Sample> out) override;
  Status status() const override { return status_; }

 private:
  bool OpenNextChunk();
  bool Accept(int64_t t);
  void Materialize();

  std::vector<ChunkBlob> chunks_;
  int64_t mint_, maxt_;
  Intervals deleted_;
  size_t next_chunk_ = 0;
  size_t deleted_pos_ = 0;
  chunk::FloatDecoder dec_;
  bool in_chunk_ = false;
  bool chunk_inside_ = false;  // the open chunk lies within [mint, maxt] and has no deletions
  bool done_ = false;
  bool have_cur_ = false;
  Sample cur_;
  Status status_;
  // Overlapping chunks: all samples decoded and merged up front.
  bool materialized_ = false;
  std::vector<Sample> samples_;
  size_t pos_ = 0;
};

}  // namespace hearth::tsdb
