#pragma once

// Loading prometheus.yml strictly, as Prometheus does: an unknown field, a value of the wrong
// type, a duplicate job name or a bad value fails the whole load with an error that names the
// file, line and column, worded like Prometheus' own errors, e.g.
//
//   parsing YAML file prometheus.yml: prometheus.yml:4:3: field scrape_intervl not found in
//   type config.GlobalConfig
//
// Service discoveries Hearth does not implement (kubernetes_sd_configs, consul_sd_configs, ...)
// are refused with a message naming them.
//
// Thread-safety: the functions are reentrant; they read the file system and the environment.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "model/status.h"

namespace hearth {

// Reads and validates `path`, then the files matched by its scrape_config_files. Relative paths
// in the config are joined with the directory of `path`.
Result<Config> LoadConfigFile(const std::string& path);

// Parses `yaml`. `source_name` names it in errors (e.g. "prometheus.yml"; "" for none);
// relative paths are joined with `base_dir` ("" leaves them as written). scrape_config_files
// are read relative to `base_dir`.
Result<Config> LoadConfigString(std::string_view yaml, std::string_view source_name = "",
                                std::string_view base_dir = "");

// The rule files the config names: each pattern of rule_files expanded with glob(3), sorted,
// duplicates removed. A pattern that matches nothing contributes nothing (as Prometheus).
Result<std::vector<std::string>> ExpandRuleFiles(const Config& config);

// The loaded configuration as YAML with Prometheus' field names and every default filled in
// (what /api/v1/status/config shows). Secrets (passwords, credentials, bearer tokens, TLS keys)
// are printed as <secret>.
std::string RenderConfigYaml(const Config& config);

// Prometheus' units.Base2Bytes: "0", "512", "10KB", "10KiB", "1.5MB", "1GB", ... (powers of 1024).
Result<uint64_t> ParseBase2Bytes(std::string_view s);
std::string FormatBase2Bytes(uint64_t bytes);

}  // namespace hearth
