#pragma once

// The commit log (FORMAT.md section 4): numbered segment files of framed records, each record
// checksummed. One Commit of an appender is one record; new series are records too. Head
// checkpoints (FORMAT.md section 5) use the same framing in their own files.
//
// Thread-safety: LogWriter is safe for concurrent use (one mutex around the buffer and the
// file; Sync works on a duplicate descriptor so commits are not held up by fdatasync).
// ReadRecords is a plain function.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "model/status.h"

namespace hearth::tsdb {

// Frames `payload` (length, checksum, payload) onto `out`.
void AppendFramed(std::string* out, std::string_view payload);

// How a sequence of framed records ended.
struct ReadOutcome {
  uint64_t records = 0;
  uint64_t valid_bytes = 0;    // bytes up to the end of the last good record
  uint64_t total_bytes = 0;
  bool damaged = false;        // a bad or torn record stopped reading before total_bytes
  std::string damage;          // what was wrong, for the log
};

// Calls f(payload) for each good record of the file at `path`, stopping at the first damaged
// one (truncated, bad length or checksum mismatch) and reporting it in the outcome rather than
// as an error. Errors are I/O failures, or whatever f returns.
Result<ReadOutcome> ReadRecords(const std::string& path,
                                const std::function<Status(std::string_view)>& f);

// Segment files are <dir>/<16 hex digits>.log; returns their numbers, ascending.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir);
std::string SegmentPath(const std::string& dir, uint64_t seq);

class LogWriter {
 public:
  // Creates segment `seq` (which must not exist) in `dir`.
  static Result<std::unique_ptr<LogWriter>> Create(std::string dir, uint64_t seq);
  ~LogWriter();

  // Adds a record to the buffer; it reaches the file with the next Commit or Rotate.
  void AddBuffered(std::string_view payload);
  // Adds a record and writes the buffer to the file (so it survives the process being
  // killed); with `sync`, also fdatasyncs. On error nothing of this call stays in the file.
  Status Commit(std::string_view payload, bool sync);
  // fdatasync of what has been written so far.
  Status Sync();
  // Writes the buffer, closes the segment (synced) and starts segment seq()+1. Returns it.
  Result<uint64_t> Rotate();
  uint64_t seq() const;
  // Bytes written to segments since the writer was created or last rotated.
  uint64_t bytes_in_segment() const;
  Status Close();

 private:
  LogWriter(std::string dir, uint64_t seq, int fd) : dir_(std::move(dir)), seq_(seq), fd_(fd) {}
  Status FlushLocked();
  Status OpenNextLocked();

  mutable std::mutex mu_;
  std::string dir_;
  uint64_t seq_;
  int fd_;
  std::string buf_;
  uint64_t written_ = 0;  // bytes in the current segment file
  bool broken_ = false;   // a failed write left the segment unusable: next write rotates
};

}  // namespace hearth::tsdb
