#include "tsdb/records.h"

#include <bit>
#include <cstring>

#include "tsdb/chunk/varint.h"

namespace hearth::tsdb {

void EncodeSeriesRecord(std::string* out, SeriesRef ref, const Labels& labels) {
  out->push_back(static_cast<char>(kRecordSeries));
  PutUvarint(out, ref);
  PutUvarint(out, labels.packed().size());
  out->append(labels.packed());
}

void EncodeSamplesRecord(std::string* out, std::span<const LoggedSample> samples) {
  out->push_back(static_cast<char>(kRecordSamples));
  PutUvarint(out, samples.size());
  const int64_t t0 = samples.empty() ? 0 : samples[0].t;
  PutVarint(out, t0);
  bool same_t = true;
  for (const LoggedSample& s : samples) same_t = same_t && s.t == t0;
  out->push_back(same_t ? 0 : 1);
  SeriesRef prev = 0;
  for (const LoggedSample& s : samples) {
    PutVarint(out, static_cast<int64_t>(s.ref - prev));
    prev = s.ref;
  }
  if (!same_t) {
    for (const LoggedSample& s : samples) {
      PutVarint(out, static_cast<int64_t>(static_cast<uint64_t>(s.t) - static_cast<uint64_t>(t0)));
    }
  }
  const size_t at = out->size();
  out->resize(at + 8 * samples.size());
  char* p = out->data() + at;
  for (const LoggedSample& s : samples) {
    uint64_t bits = std::bit_cast<uint64_t>(s.v);
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>((bits >> (8 * i)) & 0xff);
  }
}

Status DecodeLogRecord(std::string_view in, const LogRecordHandler& h,
                       std::vector<LoggedSample>* scratch) {
  auto bad = [](std::string_view what) {
    return Errorf(StatusCode::kCorruption, "log record: {}", what);
  };
  if (in.empty()) return bad("empty");
  const auto type = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (type == kRecordSeries) {
    uint64_t ref, len;
    if (!GetUvarint(&in, &ref) || ref == 0) return bad("series ref");
    if (!GetUvarint(&in, &len) || len != in.size()) return bad("series labels length");
    bool ok = false;
    Labels l = Labels::FromPacked(in, &ok);
    if (!ok || l.empty()) return bad("series labels");
    if (h.series) h.series(ref, std::move(l));
    return Status::Ok();
  }
  if (type != kRecordSamples) return Errorf(StatusCode::kCorruption, "log record: type {}", type);
  uint64_t n;
  int64_t t0;
  if (!GetUvarint(&in, &n) || n > in.size()) return bad("sample count");
  if (!GetVarint(&in, &t0) || in.empty()) return bad("timestamp");
  const bool same_t = in[0] == 0;
  if (static_cast<uint8_t>(in[0]) > 1) return bad("timestamp flag");
  in.remove_prefix(1);
  scratch->resize(n);
  SeriesRef ref = 0;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t d;
    if (!GetVarint(&in, &d)) return bad("refs");
    ref += static_cast<uint64_t>(d);
    if (ref == 0) return bad("zero ref");
    (*scratch)[i].ref = ref;
    (*scratch)[i].t = t0;
  }
  if (!same_t) {
    for (uint64_t i = 0; i < n; ++i) {
      int64_t d;
      if (!GetVarint(&in, &d)) return bad("timestamps");
      (*scratch)[i].t = static_cast<int64_t>(static_cast<uint64_t>(t0) + static_cast<uint64_t>(d));
    }
  }
  if (in.size() != 8 * n) return bad("values length");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t bits = 0;
    for (int b = 7; b >= 0; --b) bits = (bits << 8) | static_cast<uint8_t>(in[8 * i + static_cast<uint64_t>(b)]);
    (*scratch)[i].v = std::bit_cast<double>(bits);
  }
  if (h.samples) h.samples(*scratch);
  return Status::Ok();
}

}  // namespace hearth::tsdb
