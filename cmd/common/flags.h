#pragma once

// Command-line flags in the style of Prometheus (kingpin): `--name=value`, `--name value`,
// booleans as `--name` / `--no-name`, repeatable flags, `--help` with defaults. Values are
// validated by type when parsed, so a bad value fails at startup naming the flag.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "model/status.h"

namespace hearth::cli {

enum class FlagType { kString, kBool, kDuration, kInt, kFloat, kBytes };

struct FlagSpec {
  std::string name;       // without dashes: "config.file"
  FlagType type = FlagType::kString;
  std::string default_value;
  std::string help;
  bool repeatable = false;
  std::string placeholder;  // shown in --help: "<path>"
};

class FlagSet {
 public:
  explicit FlagSet(std::string program) : program_(std::move(program)) {}

  void Add(FlagSpec spec);

  // Parses argv (without argv[0]); positional arguments are collected in order. `--` ends
  // flags. Errors read like kingpin's: "unknown long flag '--foo'", "invalid value ...".
  Status Parse(const std::vector<std::string>& args);

  bool IsSet(std::string_view name) const;
  std::string GetString(std::string_view name) const;
  std::vector<std::string> GetStrings(std::string_view name) const;
  bool GetBool(std::string_view name) const;
  int64_t GetDurationMs(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;
  double GetFloat(std::string_view name) const;
  int64_t GetBytes(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  // Every flag with its current value as a string (for /api/v1/status/flags).
  std::map<std::string, std::string> Values() const;
  std::string Usage(std::string_view summary) const;

 private:
  const FlagSpec* Find(std::string_view name) const;
  Status Set(const FlagSpec& spec, std::string_view value);

  std::string program_;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positional_;
};

// Prometheus' byte sizes: "512MB", "1GB", "0" (units B, KB, MB, GB, TB, PB, EB; base 1024).
Result<int64_t> ParseByteSize(std::string_view s);

}  // namespace hearth::cli
