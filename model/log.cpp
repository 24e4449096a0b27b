#include "model/log.h"

#include <chrono>
#include <mutex>

#include "model/clock.h"
#include "model/format.h"
#include "model/strutil.h"

namespace hearth {

struct Logger::Sink {
  std::FILE* out = nullptr;
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kLogfmt;
  std::mutex mu;
};

namespace {

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) >= 0x7f) return true;
  }
  return false;
}

void AppendLogfmt(std::string* out, std::string_view k, std::string_view v) {
  if (!out->empty()) *out += ' ';
  *out += k;
  *out += '=';
  if (NeedsQuoting(v)) {
    *out += QuoteGo(v);
  } else {
    *out += v;
  }
}

void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

void AppendJsonField(std::string* out, std::string_view k, std::string_view v) {
  *out += out->size() > 1 ? "," : "";
  AppendJsonString(out, k);
  *out += ':';
  AppendJsonString(out, v);
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return InvalidArgument("unrecognized log level {}", s);
}

Result<LogFormat> ParseLogFormat(std::string_view s) {
  if (s == "logfmt") return LogFormat::kLogfmt;
  if (s == "json") return LogFormat::kJson;
  return InvalidArgument("unrecognized log format {}", s);
}

Logger::Logger(LogLevel level, LogFormat format) : Logger(level, format, stderr) {}

Logger::Logger(LogLevel level, LogFormat format, std::FILE* out) : sink_(std::make_shared<Sink>()) {
  sink_->out = out;
  sink_->level = level;
  sink_->format = format;
}

Logger Logger::Discard() { return Logger(LogLevel::kError, LogFormat::kLogfmt, nullptr); }

Logger Logger::With(std::initializer_list<LogField> fields) const {
  Logger copy = *this;
  for (const auto& [k, v] : fields) copy.base_.emplace_back(std::string(k), v);
  return copy;
}

bool Logger::Enabled(LogLevel level) const {
  return sink_->out != nullptr && level >= sink_->level;
}

void Logger::Log(LogLevel level, std::string_view msg,
                 std::initializer_list<LogField> fields) const {
  if (!Enabled(level)) return;
  RealClock clock;
  std::string ts = FormatRFC3339Millis(clock.NowMs());
  std::string line;
  if (sink_->format == LogFormat::kLogfmt) {
    AppendLogfmt(&line, "time", ts);
    AppendLogfmt(&line, "level", LevelName(level));
    for (const auto& [k, v] : base_) AppendLogfmt(&line, k, v);
    AppendLogfmt(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendLogfmt(&line, k, v);
  } else {
    line = "{";
    AppendJsonField(&line, "time", ts);
    AppendJsonField(&line, "level", LevelName(level));
    for (const auto& [k, v] : base_) AppendJsonField(&line, k, v);
    AppendJsonField(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendJsonField(&line, k, v);
    line += '}';
  }
  line += '\n';
  std::lock_guard lock(sink_->mu);
  std::fwrite(line.data(), 1, line.size(), sink_->out);
  std::fflush(sink_->out);
}

}  // namespace hearth
