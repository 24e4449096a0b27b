#pragma once

// The dense chunk codec (encoding byte 0x03): a columnar format for chunks that are complete,
// written when a chunk is sealed (and by the importer), never appended to. Timestamps and
// values are separate sections, each coded the way that suits the whole chunk best:
// timestamps as one interval (regular scrapes cost nothing per sample), as offsets from a
// regular grid, or as delta of delta; values as one constant, as scaled integers (deltas or
// deltas of deltas divided by their common factor, Rice-coded with a per-chunk parameter, with
// NaNs and other odd values as exceptions), or as Gorilla XOR. The bit format is in
// tsdb/FORMAT.md section 1.2.
//
// Thread-safety: pure functions.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/sample.h"
#include "model/status.h"

namespace hearth::tsdb::chunk {

inline constexpr uint8_t kEncodingDense = 0x03;

// Encodes 1..kMaxSamples samples with strictly increasing timestamps.
std::string EncodeDenseChunk(std::span<const Sample> samples);

// Decodes a whole dense chunk into *out (replacing its contents). Malformed input gives a
// kCorruption status; the decoder never reads outside `chunk`.
Status DecodeDenseChunk(std::string_view chunk, std::vector<Sample>* out);

}  // namespace hearth::tsdb::chunk
