#pragma once

// A recording rule: evaluates its expression and records the result under a new metric name
// (Prometheus' rules.RecordingRule).

#include <memory>
#include <string>

#include "rules/rule.h"

namespace hearth::rules {

class RecordingRule final : public Rule {
 public:
  // `labels` are the group's labels merged with the rule's (the rule's win).
  RecordingRule(std::string name, std::string query, Labels labels)
      : Rule(RuleType::kRecording, std::move(name), std::move(query), std::move(labels)) {}

  // The query's samples renamed to the rule's name with its labels set, at ts - query_offset.
  // Errors: the query's error; "vector contains metrics with the same labelset after applying
  // rule labels"; "exceeded limit of N with M series".
  Result<promql::Vector> Eval(int64_t ts, int64_t query_offset_ms, const QueryFunc& query,
                              int64_t limit) override;
  std::string Definition() const override;
};

}  // namespace hearth::rules
