#pragma once

// The target-group documents of file_sd_configs (JSON or YAML files) and http_sd_configs (a
// JSON answer):
//
//   [ { "targets": ["host:port", ...], "labels": { "name": "value", ... } }, ... ]
//
// Each target becomes a label set {__address__="host:port"}. Label names must be valid
// (non-empty UTF-8), values valid UTF-8. YAML is strict (unknown fields are errors, as
// Prometheus' yaml.UnmarshalStrict); JSON ignores unknown fields, as Go's encoding/json.
//
// Thread-safety: reentrant.

#include <string_view>
#include <vector>

#include "config/config.h"
#include "model/status.h"

namespace hearth {

enum class TargetGroupFormat { kJson, kYaml };

// `source_name` prefixes errors ("targets.json: ..."); each group's `source` is left empty for
// the caller (file SD uses "<file>:<index>", http SD "<url>:<index>").
Result<std::vector<TargetGroup>> ParseTargetGroups(std::string_view text, TargetGroupFormat format,
                                                   std::string_view source_name);

}  // namespace hearth
