#pragma once

// Structured logging in logfmt (default) or JSON, as Prometheus' --log.format offers.
// A Logger is a cheap value: copies share the sink; With() adds fixed key/value pairs
// (component=scrape, ...). No global logger: it is passed down like the clock.
//
// Thread-safety: Log() may be called from any thread; each line is written whole.

#include <cstdio>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/status.h"

namespace hearth {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

Result<LogLevel> ParseLogLevel(std::string_view s);     // debug, info, warn, error
Result<LogFormat> ParseLogFormat(std::string_view s);   // logfmt, json

using LogField = std::pair<std::string_view, std::string>;

class Logger {
 public:
  // Writes to stderr.
  Logger(LogLevel level = LogLevel::kInfo, LogFormat format = LogFormat::kLogfmt);
  // Writes to `out` (not owned; must outlive every copy of the logger).
  Logger(LogLevel level, LogFormat format, std::FILE* out);
  // A logger that drops everything (tests, tools).
  static Logger Discard();

  Logger With(std::initializer_list<LogField> fields) const;
  bool Enabled(LogLevel level) const;

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void Debug(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kDebug, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kInfo, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kWarn, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    Log(LogLevel::kError, msg, f);
  }

 private:
  struct Sink;
  std::shared_ptr<Sink> sink_;
  std::vector<std::pair<std::string, std::string>> base_;
};

}  // namespace hearth
