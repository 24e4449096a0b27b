#pragma once

// Relabeling: Prometheus' relabel_config. Applied to targets (relabel_configs), to scraped
// series (metric_relabel_configs), to alerts and to remote-write series.
//
// Semantics follow Prometheus 3.x (model/relabel): regexes are RE2, fully anchored and with `.`
// matching newlines; the source label values are joined with `separator`; `replacement` and
// `target_label` expand `$1`, `${1}`, `$name`, `${name}` and `$$` like Go's Regexp.Expand.
// Label names are valid when they are non-empty UTF-8 (3.x's default validation scheme).
//
// Thread-safety: RelabelRegex and RelabelConfig are immutable once built and safe to share;
// Relabel() only reads its configs.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "model/status.h"

namespace hearth {

enum class RelabelAction : uint8_t {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// "replace", "keep", ... as written in YAML.
std::string_view RelabelActionName(RelabelAction a);
// Case-insensitive, as Prometheus. Error: `unknown relabel action "foo"`.
Result<RelabelAction> ParseRelabelAction(std::string_view s);

// A compiled relabel regex. Default-constructed it is Prometheus' default "(.*)".
class RelabelRegex {
 public:
  RelabelRegex();
  // Compiles `^(?s:pattern)$`. Error: `error parsing regexp: <RE2's reason>`.
  static Result<RelabelRegex> Make(std::string_view pattern);

  // The pattern as written (without the anchors).
  const std::string& pattern() const;
  // True for the shared default "(.*)" regex (the fast path of replace).
  bool IsDefault() const;

  // Whether the whole of `s` matches.
  bool Matches(std::string_view s) const;
  // When the whole of `s` matches, fills *groups with the submatches (group 0 is `s`, an
  // unmatched group is a null view) and returns true. The views point into `s`.
  bool Match(std::string_view s, std::vector<std::string_view>* groups) const;
  // Go's Regexp.Expand: appends `tmpl` to *out with `$1`, `${1}`, `$name`, `${name}` replaced
  // by the submatches of a Match() and `$$` by `$`. Unknown groups expand to nothing.
  void Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
              std::string* out) const;

  friend bool operator==(const RelabelRegex& a, const RelabelRegex& b) {
    return a.pattern() == b.pattern();
  }

  struct Impl;

 private:
  explicit RelabelRegex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// One relabel_config with Prometheus' defaults.
struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  RelabelRegex regex;
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  friend bool operator==(const RelabelConfig&, const RelabelConfig&) = default;
};

// Prometheus' relabel.Config.Validate, with its wording, e.g.
// `relabel configuration for hashmod requires non-zero modulus`,
// `"" is invalid 'target_label' for replace action`.
Status ValidateRelabelConfig(const RelabelConfig& cfg);

// Applies `cfgs` in order to the labels in `lb`. Returns false as soon as a keep/drop-like
// action drops the set (lb is then left part-way). Prometheus' relabel.ProcessBuilder.
bool Relabel(std::span<const RelabelConfig> cfgs, LabelsBuilder& lb);

// Convenience form: the relabeled set, or nullopt when it was dropped.
std::optional<Labels> Relabel(std::span<const RelabelConfig> cfgs, const Labels& in);

// MD5 of `data` (RFC 1321). Used by hashmod; exposed for tests.
void Md5(std::string_view data, uint8_t digest[16]);

}  // namespace hearth
