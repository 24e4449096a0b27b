#include "tsdb/chunk_iterator.h"

#include <algorithm>

namespace hearth::tsdb {

namespace {
// Whether [.., a_max] ends before [b_min, ..] starts with a gap of at least one millisecond.
bool Separated(int64_t a_max, int64_t b_min) {
  return a_max < b_min && static_cast<uint64_t>(b_min) - static_cast<uint64_t>(a_max) > 1;
}
}  // namespace

void AddInterval(Intervals* set, Interval iv) {
  Intervals out;
  out.reserve(set->size() + 1);
  bool placed = false;
  for (const Interval& x : *set) {
    const bool before = Separated(x.maxt, iv.mint);
    const bool after = Separated(iv.maxt, x.mint);
    if (before) {
      out.push_back(x);
    } else if (after) {
      if (!placed) {
        out.push_back(iv);
        placed = true;
      }
      out.push_back(x);
    } else {
      iv.mint = std::min(iv.mint, x.mint);
      iv.maxt = std::max(iv.maxt, x.maxt);
    }
  }
  if (!placed) out.push_back(iv);
  *set = std::move(out);
}

bool InIntervals(const Intervals& set, int64_t t) {
  auto it = std::upper_bound(set.begin(), set.end(), t,
                             [](int64_t x, const Interval& iv) { return x < iv.mint; });
  return it != set.begin() && std::prev(it)->maxt >= t;
}

ChunksIterator::ChunksIterator(std::vector<ChunkBlob> chunks, int64_t mint, int64_t maxt,
                               Intervals deleted)
    : chunks_(std::move(chunks)), mint_(mint), maxt_(maxt), deleted_(std::move(deleted)) {
  std::erase_if(chunks_, [&](const ChunkBlob& c) { return c.max_t < mint_ || c.min_t > maxt_; });
  std::stable_sort(chunks_.begin(), chunks_.end(),
                   [](const ChunkBlob& a, const ChunkBlob& b) { return a.min_t < b.min_t; });
  for (size_t i = 1; i < chunks_.size(); ++i) {
    if (chunks_[i].min_t <= chunks_[i - 1].max_t) {
      Materialize();
      break;
    }
  }
}

void ChunksIterator::Materialize() {
  materialized_ = true;
  for (const ChunkBlob& c : chunks_) {
    chunk::FloatDecoder d;
    status_ = d.Init(*c.bytes);
    while (status_.ok() && d.Next()) {
      if (d.t() >= mint_ && d.t() <= maxt_ && !InIntervals(deleted_, d.t())) {
        samples_.push_back({d.t(), d.v()});
      }
    }
    if (status_.ok()) status_ = d.status();
    if (!status_.ok()) {
      samples_.clear();
      return;
    }
  }
  std::stable_sort(samples_.begin(), samples_.end(),
                   [](const Sample& a, const Sample& b) { return a.t < b.t; });
  samples_.erase(std::unique(samples_.begin(), samples_.end(),
                             [](const Sample& a, const Sample& b) { return a.t == b.t; }),
                 samples_.end());
}

bool ChunksIterator::OpenNextChunk() {
  if (next_chunk_ >= chunks_.size()) {
    done_ = true;
    return false;
  }
  const ChunkBlob& c = chunks_[next_chunk_++];
  if (Status st = dec_.Init(*c.bytes); !st.ok()) {
    status_ = st;
    done_ = true;
    return false;
  }
  in_chunk_ = true;
  bool deleted = false;
  if (!deleted_.empty()) {
    for (const Interval& iv : deleted_) {
      if (iv.mint <= c.max_t && iv.maxt >= c.min_t) deleted = true;
    }
  }
  chunk_inside_ = c.min_t >= mint_ && c.max_t <= maxt_ && !deleted;
  return true;
}

bool ChunksIterator::Accept(int64_t t) {
  if (t < mint_) return false;
  if (deleted_.empty()) return true;
  while (deleted_pos_ < deleted_.size() && deleted_[deleted_pos_].maxt < t) ++deleted_pos_;
  return !(deleted_pos_ < deleted_.size() && deleted_[deleted_pos_].mint <= t);
}

bool ChunksIterator::Next() {
  if (materialized_) {
    if (!status_.ok() || pos_ >= samples_.size()) return false;
    cur_ = samples_[pos_++];
    return true;
  }
  while (!done_) {
    if (!in_chunk_ && !OpenNextChunk()) return false;
    if (!dec_.Next()) {
      if (!dec_.status().ok()) {
        status_ = dec_.status();
        done_ = true;
        return false;
      }
      in_chunk_ = false;
      continue;
    }
    const int64_t t = dec_.t();
    if (t > maxt_) {
      done_ = true;
      return false;
    }
    if (!Accept(t)) continue;
    cur_ = Sample{t, dec_.v()};
    have_cur_ = true;
    return true;
  }
  return false;
}

bool ChunksIterator::Seek(int64_t t) {
  if (materialized_) {
    if (pos_ > 0 && samples_[pos_ - 1].t >= t) return true;
    auto it = std::lower_bound(samples_.begin() + static_cast<ptrdiff_t>(pos_), samples_.end(), t,
                               [](const Sample& s, int64_t x) { return s.t < x; });
    pos_ = static_cast<size_t>(it - samples_.begin());
    return Next();
  }
  if (have_cur_ && cur_.t >= t) return true;
  if (done_) return false;
  // Skip whole chunks that end before t without decoding them.
  if (!in_chunk_) {
    while (next_chunk_ < chunks_.size() && chunks_[next_chunk_].max_t < t) ++next_chunk_;
  }
  while (Next()) {
    if (cur_.t >= t) return true;
    if (!in_chunk_) continue;
    // Still in a chunk that ends before t: drop it.
    if (chunks_[next_chunk_ - 1].max_t < t) {
      in_chunk_ = false;
      while (next_chunk_ < chunks_.size() && chunks_[next_chunk_].max_t < t) ++next_chunk_;
    }
  }
  return false;
}

size_t ChunksIterator::NextBatch(std::span<Sample> out) {
  if (materialized_) {
    if (!status_.ok()) return 0;
    size_t n = std::min(out.size(), samples_.size() - pos_);
    std::copy_n(samples_.begin() + static_cast<ptrdiff_t>(pos_), n, out.begin());
    pos_ += n;
    return n;
  }
  size_t n = 0;
  while (n < out.size() && !done_) {
    if (!in_chunk_ && !OpenNextChunk()) break;
    if (chunk_inside_) {
      // The whole chunk is wanted: decode straight into the output.
      size_t got = dec_.NextBatch(out.data() + n, out.size() - n);
      n += got;
      if (got == 0) {
        if (!dec_.status().ok()) {
          status_ = dec_.status();
          done_ = true;
          break;
        }
        in_chunk_ = false;
      } else {
        cur_ = out[n - 1];
        have_cur_ = true;
      }
      continue;
    }
    if (!Next()) break;
    out[n++] = cur_;
  }
  return n;
}

}  // namespace hearth::tsdb
