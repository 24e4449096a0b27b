#pragma once

// Payloads of commit-log records (FORMAT.md section 4). The framing (length, checksum) is
// log.h's; these are the bytes inside.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "model/status.h"
#include "tsdb/head.h"

namespace hearth::tsdb {

enum RecordType : uint8_t {
  kRecordSeries = 1,
  kRecordSamples = 2,
  kRecordCheckpointHeader = 10,
  kRecordCheckpointSeries = 11,
  kRecordCheckpointFooter = 12,
};

void EncodeSeriesRecord(std::string* out, SeriesRef ref, const Labels& labels);
void EncodeSamplesRecord(std::string* out, std::span<const LoggedSample> samples);

struct LogRecordHandler {
  std::function<void(SeriesRef, Labels)> series;
  std::function<void(std::span<const LoggedSample>)> samples;
};
// Decodes one log record payload; malformed payloads give kCorruption naming the problem.
Status DecodeLogRecord(std::string_view payload, const LogRecordHandler& h,
                       std::vector<LoggedSample>* scratch);

}  // namespace hearth::tsdb
