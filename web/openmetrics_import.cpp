// The OpenMetrics import shared by POST /api/v1/import/openmetrics and hearthctl tsdb import.
//
// Input is cut into batches of whole lines and each batch is parsed on its own by the
// OpenMetrics pull parser (a batch that is not the last gets a "# EOF" line of its own). A line
// the parser refuses is reported with its line number in the whole input and parsing resumes at
// the next line, so one bad line costs that line only. Memory: two batches plus what the sink
// buffers.

#include "web/openmetrics_import.h"

#include <map>

#include <fmt/format.h>

#include "model/strutil.h"
#include "scraper/textparse/parser.h"

namespace hearth::web {
namespace {

constexpr size_t kBatchBytes = 1 << 20;
constexpr size_t kReadBytes = 256 << 10;

bool IsSampleRejection(StatusCode c) {
  return c == StatusCode::kOutOfOrderSample || c == StatusCode::kOutOfBounds ||
         c == StatusCode::kDuplicateSampleForTimestamp || c == StatusCode::kInvalidArgument;
}

}  // namespace

class OpenMetricsImport::Impl {
 public:
  explicit Impl(ImportSink& sink) : sink_(sink) {}

  // Parses one batch of whole lines; `last` when it ends the body. Returns a fatal error
  // (the sink failed); parse errors are recorded and parsing goes on.
  Status Batch(std::string_view lines, bool last) {
    if (stopped_) {
      if (!TrimSpace(lines).empty()) {
        Error(line_base_ + 1, "unexpected data after # EOF");
        stopped_ = false;  // reported once
        after_eof_ = true;
      }
      line_base_ += CountLines(lines);
      return Status::Ok();
    }
    if (after_eof_) return Status::Ok();
    int64_t batch_lines = CountLines(lines);
    std::string_view rest = lines;
    int64_t rest_first = line_base_ + 1;  // global number of rest's first line
    while (true) {
      std::string text(rest);
      if (!last) text += "# EOF\n";
      textparse::Parser p(text, textparse::Format::kOpenMetrics);
      int64_t own_lines = CountLines(rest);
      bool restart = false;
      while (true) {
        // The parser's line is that of the entry about to be read (after an error: of the
        // bad entry).
        int64_t global = rest_first + p.line() - 1;
        textparse::Entry e = p.Next();
        if (e == textparse::Entry::kEOF) break;
        if (e == textparse::Entry::kInvalid) {
          global = rest_first + p.line() - 1;
          if (p.line() > own_lines && !last) break;  // only our own "# EOF" line is left
          const std::string& msg = p.status().message();
          bool data_after_eof = msg.rfind("unexpected data after # EOF", 0) == 0;
          if (data_after_eof && !last && p.line() == own_lines) {
            // The body's "# EOF" ends this batch; only our own "# EOF" follows it.
            stopped_ = true;
            break;
          }
          Error(global, Relocate(msg, global));
          if (data_after_eof) {
            after_eof_ = true;
            break;
          }
          if (msg.rfind("data does not end with # EOF", 0) == 0) break;
          // Resume after the bad line; a sample line counts as rejected.
          if (LooksLikeSample(rest, p.line())) ++rejected_;
          size_t next = LineStart(rest, p.line() + 1);
          if (next >= rest.size()) break;
          rest_first += p.line();
          rest = rest.substr(next);
          restart = true;
          break;
        }
        if (e == textparse::Entry::kSeries) {
          HEARTH_RETURN_IF_ERROR(Sample(p, global));
        } else if (e == textparse::Entry::kType) {
          meta_[std::string(p.MetricFamily())].type = p.Type();
        } else if (e == textparse::Entry::kHelp) {
          meta_[std::string(p.MetricFamily())].help = std::string(p.Help());
        } else if (e == textparse::Entry::kUnit) {
          meta_[std::string(p.MetricFamily())].unit = std::string(p.Unit());
        }
      }
      if (!restart) {
        // kEOF on a line of the body itself is the real end: nothing may follow.
        if (p.status().ok() && p.line() <= own_lines && !last) stopped_ = true;
        break;
      }
    }
    line_base_ += batch_lines;
    return Status::Ok();
  }

  Status Finish() {
    for (const auto& [family, meta] : meta_) HEARTH_RETURN_IF_ERROR(sink_.SetMetadata(family, meta));
    HEARTH_RETURN_IF_ERROR(sink_.Flush());
    if (auto written = sink_.Written(); written && *written < imported_) {
      uint64_t dropped = imported_ - *written;
      imported_ = *written;
      rejected_ += dropped;
      if (errors_.size() < OpenMetricsImport::kMaxErrors) {
        errors_.push_back({0, fmt::format("{} samples were not written: older than the retention "
                                          "time or repeating a timestamp",
                                          dropped)});
      }
    }
    return Status::Ok();
  }

  uint64_t imported() const { return imported_; }
  uint64_t rejected() const { return rejected_; }
  const std::vector<ImportError>& errors() const { return errors_; }

 private:
  Status Sample(textparse::Parser& p, int64_t line) {
    auto labels = p.BuildLabels();
    if (!labels.ok()) {
      ++rejected_;
      Error(line, Relocate(labels.status().message(), line));
      return Status::Ok();
    }
    if (!p.HasTimestamp()) {
      ++rejected_;
      Error(line, fmt::format("expected timestamp for series {}, got none", labels->ToString()));
      return Status::Ok();
    }
    Status st = sink_.Add(*labels, p.Timestamp(), p.Value());
    if (st.ok()) {
      ++imported_;
      return Status::Ok();
    }
    if (!IsSampleRejection(st.code())) return st;
    ++rejected_;
    Error(line, fmt::format("{}: {}", labels->ToString(), st.message()));
    return Status::Ok();
  }

  void Error(int64_t line, std::string message) {
    if (errors_.size() < OpenMetricsImport::kMaxErrors) errors_.push_back({line, std::move(message)});
  }

  // The parser numbers lines within a batch: "(line 3, column 5)" -> the body's line.
  static std::string Relocate(const std::string& msg, int64_t global) {
    size_t at = msg.rfind(" (line ");
    if (at == std::string::npos) return msg;
    size_t comma = msg.find(',', at);
    if (comma == std::string::npos) return msg;
    return msg.substr(0, at) + fmt::format(" (line {}", global) + msg.substr(comma);
  }

  static int64_t CountLines(std::string_view s) {
    int64_t n = 0;
    for (char c : s) n += c == '\n';
    if (!s.empty() && s.back() != '\n') ++n;
    return n;
  }

  // Byte offset of 1-based line `line` in `s` (s.size() when past the end).
  static size_t LineStart(std::string_view s, int64_t line) {
    size_t pos = 0;
    for (int64_t l = 1; l < line; ++l) {
      size_t nl = s.find('\n', pos);
      if (nl == std::string_view::npos) return s.size();
      pos = nl + 1;
    }
    return pos;
  }

  static bool LooksLikeSample(std::string_view s, int64_t line) {
    size_t start = LineStart(s, line);
    return start < s.size() && s[start] != '#' && s[start] != '\n';
  }

  ImportSink& sink_;
  std::map<std::string, MetricMetadata> meta_;
  uint64_t imported_ = 0;
  uint64_t rejected_ = 0;
  std::vector<ImportError> errors_;
  int64_t line_base_ = 0;   // lines of the body before the current batch
  bool stopped_ = false;    // the body's "# EOF" was seen at a batch end
  bool after_eof_ = false;  // data after "# EOF" was reported: ignore the rest
};


OpenMetricsImport::OpenMetricsImport(ImportSink& sink) : impl_(std::make_unique<Impl>(sink)) {}
OpenMetricsImport::~OpenMetricsImport() = default;

Status OpenMetricsImport::Batch(std::string_view lines, bool last) {
  return impl_->Batch(lines, last);
}
Status OpenMetricsImport::Finish() { return impl_->Finish(); }
uint64_t OpenMetricsImport::imported() const { return impl_->imported(); }
uint64_t OpenMetricsImport::rejected() const { return impl_->rejected(); }
const std::vector<ImportError>& OpenMetricsImport::errors() const { return impl_->errors(); }

Status OpenMetricsImport::Run(const ReadFunc& read, const ProgressFunc& progress) {
  std::string pending;  // bytes not yet parsed: at most one batch plus one read
  std::string buf(kReadBytes, '\0');
  uint64_t total = 0;
  while (true) {
    HEARTH_ASSIGN_OR_RETURN(size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
    total += n;
    pending.append(buf.data(), n);
    if (pending.size() >= kBatchBytes) {
      size_t cut = pending.rfind('\n');
      if (cut != std::string::npos) {
        HEARTH_RETURN_IF_ERROR(Batch(std::string_view(pending).substr(0, cut + 1), false));
        pending.erase(0, cut + 1);
        if (progress) progress(total - pending.size(), imported());
      }
    }
  }
  HEARTH_RETURN_IF_ERROR(Batch(pending, true));
  HEARTH_RETURN_IF_ERROR(Finish());
  if (progress) progress(total, imported());
  return Status::Ok();
}

}  // namespace hearth::web
