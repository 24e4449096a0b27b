#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/rules.h"
#include "tests/config/test_util.h"

using hearth::LoadRuleFile;
using hearth::ParseRuleFile;
using hearth::RuleExprValidator;
using hearth::Status;
using hearth::testing::SourceFile;
using hearth::testing::TempDir;

TEST_CASE("the seed alert.rules.yml parses into two alerting rules", "[config][rules][seed]") {
  auto r = LoadRuleFile(SourceFile("tests/fixtures/seed/alert.rules.yml"));
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.errors.empty());
  REQUIRE(r.file.groups.size() == 1);
  const auto& g = r.file.groups[0];
  CHECK(g.name == "example-alerts");
  CHECK(g.interval_ms == 0);
  REQUIRE(g.rules.size() == 2);
  CHECK(g.rules[0].alert == "HighRequestLatency");
  CHECK(g.rules[0].expr ==
        "histogram_quantile(0.99, sum(rate(app_request_latency_seconds_bucket[5m])) by (le)) > "
        "0.5");
  CHECK(g.rules[0].for_ms == 120'000);
  CHECK(g.rules[0].labels.at("severity") == "warning");
  CHECK(g.rules[0].annotations.at("summary") == "High request latency detected");
  CHECK(g.rules[0].line == 6);
  CHECK(g.rules[1].alert == "ServiceDown");
  CHECK(g.rules[1].expr == "up{job=\"fastapi\"} == 0");
  CHECK(g.rules[1].for_ms == 300'000);
  CHECK(g.rules[1].labels.at("severity") == "critical");
}

TEST_CASE("rule groups read every field", "[config][rules]") {
  auto r = ParseRuleFile(R"(
groups:
  - name: rec
    interval: 30s
    query_offset: 1m
    limit: 10
    labels: {team: a}
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {kind: rec}
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 10m
        annotations: {summary: "{{ $labels.job }} down"}
)",
                         "r.yml");
  INFO((r.errors.empty() ? "" : r.errors[0]));
  REQUIRE(r.errors.empty());
  const auto& g = r.file.groups.at(0);
  CHECK(g.interval_ms == 30'000);
  CHECK(g.query_offset_ms == 60'000);
  CHECK(g.limit == 10);
  CHECK(g.labels.at("team") == "a");
  CHECK(g.rules.at(0).record == "job:up:sum");
  CHECK(g.rules.at(0).labels.at("kind") == "rec");
  CHECK(g.rules.at(1).keep_firing_for_ms == 600'000);
  CHECK(g.rules.at(1).annotations.at("summary") == "{{ $labels.job }} down");
}

TEST_CASE("rule file errors are listed as promtool lists them", "[config][rules]") {
  const char* bad = R"(groups:
  - name: g
    rules:
      - record: 'foo{bar}'
        expr: up
        for: 1m
      - alert: A
        record: b
        expr: sum(
      - alert: B
  - name: g
    rules: []
)";
  RuleExprValidator validator = [](std::string_view expr) {
    if (expr == "sum(") {
      return Status(hearth::StatusCode::kInvalidArgument,
                    "1:5: parse error: unclosed left parenthesis");
    }
    return Status::Ok();
  };
  auto r = ParseRuleFile(bad, "bad.yml", validator);
  // promtool 2.42 prints these (3.x allows UTF-8 record names but refuses braces in them).
  CHECK(r.errors == std::vector<std::string>{
                        "4:17: group \"g\", rule 1, \"foo{bar}\": invalid field 'for' in "
                        "recording rule",
                        "4:17: group \"g\", rule 1, \"foo{bar}\": braces present in the recording "
                        "rule name; should it be in expr?: foo{bar}",
                        "8:17: 7:16: group \"g\", rule 2, \"A\": only one of 'record' and 'alert' "
                        "must be set",
                        "9:15: group \"g\", rule 2, \"A\": could not parse expression: 1:5: parse "
                        "error: unclosed left parenthesis",
                        "0:0: group \"g\", rule 3, \"B\": field 'expr' must be set in rule",
                        "11:5: groupname: \"g\" is repeated in the same file",
                    });
  // Without a validator the expression is not checked.
  auto unchecked = ParseRuleFile(bad, "bad.yml");
  CHECK(unchecked.errors.size() == 5);
}

TEST_CASE("rule file structure errors name the position", "[config][rules]") {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        bogus: 1\n",
       "6:9: field bogus not found in type rulefmt.Rule"},
      {"group:\n  - name: x\n", "1:1: field group not found in type rulefmt.RuleGroups"},
      {"groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        for: 5x\n",
       "6:14: unknown unit \"x\" in duration \"5x\""},
      {"groups:\n  - name: x\n    limit: many\n", "3:12: cannot unmarshal !!str `many` into int"},
      {"groups: [\n", "yaml: end of sequence flow not found"},
      {"groups:\n  - rules: []\n", "2:5: Groupname must not be empty"},
      {"groups:\n  - name: x\n    rules:\n      - expr: up\n",
       "0:0: 0:0: group \"x\", rule 1, \"\": one of 'record' or 'alert' must be set"},
      {"groups:\n  - name: x\n    rules:\n      - record: r\n        expr: up\n        "
       "annotations: {a: b}\n",
       "4:17: group \"x\", rule 1, \"r\": invalid field 'annotations' in recording rule"},
      {"groups:\n  - name: x\n    rules:\n      - alert: a\n        expr: up\n        "
       "labels: {__name__: b}\n",
       "6:18: group \"x\", rule 1, \"a\": invalid label name: __name__"},
  };
  for (const Case& c : cases) {
    auto r = ParseRuleFile(c.yaml, "f.yml");
    INFO(c.yaml);
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0], Catch::Contains(c.want));
  }
}

TEST_CASE("an empty rule file is valid with no groups", "[config][rules]") {
  auto r = ParseRuleFile("", "e.yml");
  CHECK(r.errors.empty());
  CHECK(r.file.groups.empty());
}

TEST_CASE("a missing rule file is one error naming it", "[config][rules]") {
  auto r = LoadRuleFile("/nonexistent/rules.yml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "open /nonexistent/rules.yml: No such file or directory");
  auto joined = hearth::LoadRuleFileOrError("/nonexistent/rules.yml");
  REQUIRE_FALSE(joined.ok());
  CHECK_THAT(joined.status().message(), Catch::StartsWith("/nonexistent/rules.yml: open "));
}

TEST_CASE("duplicate recording rules are found", "[config][rules]") {
  auto r = ParseRuleFile(
      "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n  - record: x\n    expr: "
      "up\n  - record: x\n    expr: up\n    labels: {a: b}\n",
      "d.yml");
  REQUIRE(r.errors.empty());
  auto dups = hearth::FindDuplicateRules(r.file);
  REQUIRE(dups.size() == 1);
  CHECK(dups[0].metric == "x");
  CHECK(dups[0].labels.empty());
}
