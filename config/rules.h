#pragma once

// Rule files (Prometheus' rulefmt): groups of recording and alerting rules, parsed strictly and
// validated as Prometheus does. Errors are worded and positioned like promtool's:
//
//   4:17: group "g", rule 1, "foo{bar}": invalid recording rule name: foo{bar}
//   11:5: groupname: "g" is repeated in the same file
//
// PromQL expressions are kept as text. Checking them needs the PromQL parser (query/), which
// config/ may not depend on: callers pass a RuleExprValidator (hearthctl and the rules manager
// wire in the parser); without one only emptiness is checked.
//
// Thread-safety: plain values and reentrant functions.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/status.h"

namespace hearth {

struct RuleConfig {
  std::string record;  // exactly one of record / alert is set
  std::string alert;
  std::string expr;
  int64_t for_ms = 0;              // alerting rules only
  int64_t keep_firing_for_ms = 0;  // alerting rules only
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;  // alerting rules only
  int line = 0;  // 1-based position of the rule in its file
  int column = 0;
};

struct RuleGroupConfig {
  std::string name;
  int64_t interval_ms = 0;  // 0: the global evaluation_interval
  std::optional<int64_t> query_offset_ms;  // unset: the global rule_query_offset
  int64_t limit = 0;        // 0: no limit
  std::map<std::string, std::string> labels;
  std::vector<RuleConfig> rules;
};

struct RuleFileConfig {
  std::string path;
  std::vector<RuleGroupConfig> groups;
};

// Returns a non-ok Status (its message is the parser's error, e.g.
// "1:5: parse error: unclosed left parenthesis") when `expr` is not valid PromQL.
using RuleExprValidator = std::function<Status(std::string_view expr)>;

struct RuleParseResult {
  RuleFileConfig file;
  // Every problem found, in file order, each "line:col: message" as promtool prints it after
  // "<file>: ". Empty means the file is valid.
  std::vector<std::string> errors;
};

// Parses rule-file text. `path` is recorded in the result, not read.
RuleParseResult ParseRuleFile(std::string_view text, std::string_view path,
                              const RuleExprValidator& validate_expr = nullptr);

// Reads and parses `path`. A file that cannot be read yields one error naming it.
RuleParseResult LoadRuleFile(const std::string& path,
                             const RuleExprValidator& validate_expr = nullptr);

// Convenience for servers: the parsed file, or the errors joined as "<path>: <error>; ...".
Result<RuleFileConfig> LoadRuleFileOrError(const std::string& path,
                                           const RuleExprValidator& validate_expr = nullptr);

// Recording rules with the same name and labels in one file (promtool's duplicate-rules lint):
// each entry is the metric name and its labels as "{a=\"b\"}"-less text, as promtool prints.
struct DuplicateRule {
  std::string metric;
  std::map<std::string, std::string> labels;
};
std::vector<DuplicateRule> FindDuplicateRules(const RuleFileConfig& file);

}  // namespace hearth
