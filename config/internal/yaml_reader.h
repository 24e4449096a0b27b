#pragma once

// Strict reading of yaml-cpp nodes with go-yaml's rules and Prometheus-like errors, shared by
// the prometheus.yml and rule-file parsers. Internal to config/: yaml-cpp never leaks into a
// public header.
//
// Every error names "<file>:<line>:<column>: " (1-based, from the node's yaml-cpp Mark) when the
// node has a position. A `null` value reads as the zero value of the field, as go-yaml does.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "model/labels.h"
#include "model/status.h"

namespace hearth::config_internal {

// Parses `text`; a syntax error comes back with its position.
Result<YAML::Node> ParseYaml(std::string_view text, std::string_view file);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // "file:line:col: msg" (or "line:col: msg" without a file name, or just msg without a mark).
  Status Error(const YAML::Node& at, std::string_view msg) const;
  Status Error(const YAML::Mark& mark, std::string_view msg) const;
  std::string Where(const YAML::Mark& mark) const;

  // Calls `fn(key, value, key_node)` for every pair of mapping `n`, with go-yaml's merge keys
  // (`<<: *anchor`) resolved. `fn` returns nullopt for a key it does not know, which becomes
  // `field <key> not found in type <type>`. A repeated key is an error. A null `n` is an empty
  // mapping.
  using FieldFn = std::function<std::optional<Status>(const std::string& key,
                                                      const YAML::Node& value,
                                                      const YAML::Node& key_node)>;
  Status Fields(const YAML::Node& n, std::string_view type, const FieldFn& fn) const;

  Status String(const YAML::Node& n, std::string* out) const;
  Status Bool(const YAML::Node& n, bool* out) const;
  Status Int(const YAML::Node& n, int64_t* out) const;
  Status Int(const YAML::Node& n, int* out) const;
  Status Uint(const YAML::Node& n, uint64_t* out) const;
  Status Float(const YAML::Node& n, double* out) const;
  // A Prometheus duration ("15s", "1h30m").
  Status Duration(const YAML::Node& n, int64_t* out_ms) const;
  // units.Base2Bytes ("10MB").
  Status Size(const YAML::Node& n, uint64_t* out) const;
  Status StringList(const YAML::Node& n, std::vector<std::string>* out) const;
  Status StringMap(const YAML::Node& n, std::map<std::string, std::string>* out) const;
  Status StringListMap(const YAML::Node& n,
                       std::map<std::string, std::vector<std::string>>* out) const;
  // A model.LabelSet: names must be valid (non-empty UTF-8), values valid UTF-8.
  Status LabelSet(const YAML::Node& n, std::vector<std::pair<std::string, std::string>>* out) const;
  // Calls fn(item) for every element of sequence `n` (null: none).
  Status Sequence(const YAML::Node& n, std::string_view type,
                  const std::function<Status(const YAML::Node& item)>& fn) const;

  // go-yaml's "cannot unmarshal !!seq into string" for `n` and a Go type name.
  Status TypeError(const YAML::Node& n, std::string_view go_type) const;

 private:
  std::string file_;
};

// go-yaml's description of a node's kind: "!!str `abc`", "!!seq", "!!map", "!!int `5`".
std::string DescribeNode(const YAML::Node& n);

}  // namespace hearth::config_internal
