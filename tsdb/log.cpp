#include "tsdb/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <xxhash.h>

namespace hearth::tsdb {
namespace {

constexpr size_t kHeader = 8;                  // u32 length, u32 checksum (little-endian)
constexpr uint32_t kMaxRecord = 256u << 20;    // larger lengths are damage, not records

uint32_t Checksum(std::string_view p) {
  return static_cast<uint32_t>(XXH3_64bits(p.data(), p.size()));
}

void PutFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Errorf(StatusCode::kIOError, "{} {}: {}", what, path, std::strerror(errno));
}

Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", dir);
  return Status::Ok();
}

}  // namespace

void AppendFramed(std::string* out, std::string_view payload) {
  char h[kHeader];
  PutFixed32(h, static_cast<uint32_t>(payload.size()));
  PutFixed32(h + 4, Checksum(payload));
  out->append(h, kHeader);
  out->append(payload);
}

Result<ReadOutcome> ReadRecords(const std::string& path,
                                const std::function<Status(std::string_view)>& f) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path);
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);

  ReadOutcome out;
  out.total_bytes = data.size();
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kHeader) {
      out.damaged = true;
      out.damage = fmt::format("truncated record header at offset {}", pos);
      break;
    }
    const uint32_t len = GetFixed32(data.data() + pos);
    const uint32_t sum = GetFixed32(data.data() + pos + 4);
    if (len == 0 && sum == 0) {
      // Zeros (a preallocated or torn tail): the end unless something follows.
      bool all_zero = std::all_of(data.begin() + static_cast<ptrdiff_t>(pos), data.end(),
                                  [](char c) { return c == 0; });
      out.damaged = !all_zero;
      if (!all_zero) out.damage = fmt::format("zeroed record at offset {}", pos);
      break;
    }
    if (len > kMaxRecord || data.size() - pos - kHeader < len) {
      out.damaged = true;
      out.damage = fmt::format("record at offset {} claims {} bytes, {} left", pos, len,
                               data.size() - pos - kHeader);
      break;
    }
    std::string_view payload(data.data() + pos + kHeader, len);
    if (Checksum(payload) != sum) {
      out.damaged = true;
      out.damage = fmt::format("checksum mismatch in record at offset {}", pos);
      break;
    }
    HEARTH_RETURN_IF_ERROR(f(payload));
    pos += kHeader + len;
    ++out.records;
    out.valid_bytes = pos;
  }
  return out;
}

std::string SegmentPath(const std::string& dir, uint64_t seq) {
  return fmt::format("{}/{:016x}.log", dir, seq);
}

Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 20 || name.substr(16) != ".log") continue;
    char* end = nullptr;
    uint64_t seq = std::strtoull(name.substr(0, 16).c_str(), &end, 16);
    if (end != nullptr && *end == '\0') out.push_back(seq);
  }
  if (ec) return Errorf(StatusCode::kIOError, "list {}: {}", dir, ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::unique_ptr<LogWriter>> LogWriter::Create(std::string dir, uint64_t seq) {
  const std::string path = SegmentPath(dir, seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path);
  HEARTH_RETURN_IF_ERROR(SyncDir(dir));
  return std::unique_ptr<LogWriter>(new LogWriter(std::move(dir), seq, fd));
}

LogWriter::~LogWriter() { (void)Close(); }

void LogWriter::AddBuffered(std::string_view payload) {
  std::lock_guard lock(mu_);
  AppendFramed(&buf_, payload);
}

Status LogWriter::FlushLocked() {
  if (buf_.empty()) return Status::Ok();
  if (fd_ < 0) return Status(StatusCode::kIOError, "log is closed");
  if (broken_) HEARTH_RETURN_IF_ERROR(OpenNextLocked());
  const std::string path = SegmentPath(dir_, seq_);
  Status st = WriteAll(fd_, buf_.data(), buf_.size(), path);
  if (!st.ok()) {
    // Take back whatever part reached the file, so later records stay readable; if that
    // fails too, the next write starts a fresh segment.
    if (::ftruncate(fd_, static_cast<off_t>(written_)) != 0 ||
        ::lseek(fd_, static_cast<off_t>(written_), SEEK_SET) < 0) {
      broken_ = true;
    }
    return st;
  }
  written_ += buf_.size();
  buf_.clear();
  return Status::Ok();
}

Status LogWriter::OpenNextLocked() {
  if (fd_ >= 0) {
    (void)::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  const std::string path = SegmentPath(dir_, seq_ + 1);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path);
  fd_ = fd;
  ++seq_;
  written_ = 0;
  broken_ = false;
  return SyncDir(dir_);
}

Status LogWriter::Commit(std::string_view payload, bool sync) {
  std::lock_guard lock(mu_);
  const size_t before = buf_.size();
  AppendFramed(&buf_, payload);
  Status st = FlushLocked();
  if (!st.ok()) {
    buf_.resize(before);  // this record is not committed; buffered series records stay
    return st;
  }
  if (sync && ::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", SegmentPath(dir_, seq_));
  return Status::Ok();
}

Status LogWriter::Sync() {
  int fd;
  {
    std::lock_guard lock(mu_);
    if (fd_ < 0) return Status::Ok();
    fd = ::dup(fd_);
  }
  if (fd < 0) return ErrnoStatus("dup", dir_);
  int rc = ::fdatasync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fdatasync", dir_);
  return Status::Ok();
}

Result<uint64_t> LogWriter::Rotate() {
  std::lock_guard lock(mu_);
  HEARTH_RETURN_IF_ERROR(FlushLocked());
  HEARTH_RETURN_IF_ERROR(OpenNextLocked());
  return seq_;
}

uint64_t LogWriter::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

uint64_t LogWriter::bytes_in_segment() const {
  std::lock_guard lock(mu_);
  return written_;
}

Status LogWriter::Close() {
  std::lock_guard lock(mu_);
  if (fd_ < 0) return Status::Ok();
  Status st = FlushLocked();
  if (::fdatasync(fd_) != 0 && st.ok()) st = ErrnoStatus("fdatasync", SegmentPath(dir_, seq_));
  ::close(fd_);
  fd_ = -1;
  return st;
}

}  // namespace hearth::tsdb
