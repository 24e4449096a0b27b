#pragma once

// `hearthctl test rules FILE...`: promtool's rule unit tests, with its file format, output and
// exit codes (0 all passed, 1 a failure or a usage error).
//
// File format (promtool's):
//   rule_files: [globs relative to the test file]
//   evaluation_interval: 1m          # default 1m
//   group_eval_order: [group names]
//   fuzzy_compare: false             # compare floats within one ULP
//   tests:
//     - name: optional
//       interval: 1m                 # of input_series; default: evaluation_interval
//       external_labels: {k: v}
//       external_url: http://...
//       input_series:
//         - series: 'up{job="a"}'
//           values: '0+10x100 _ stale 1x3 _x2'
//       alert_rule_test:
//         - eval_time: 10m
//           alertname: X
//           exp_alerts: [{exp_labels: {...}, exp_annotations: {...}}]
//       promql_expr_test:
//         - expr: ...
//           eval_time: 5m
//           exp_samples: [{labels: 'metric{a="b"}', value: 1}]
//
// Output: "Unit Testing:  FILE" and "  SUCCESS" on stdout; "  FAILED:" and each problem on
// stderr, each followed by an empty line on stdout, as promtool 2.42 prints them.

#include <cstdio>
#include <string>
#include <vector>

namespace hearth::ctl {

struct TestRulesIo {
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

int RunTestRules(const std::vector<std::string>& args, const TestRulesIo& io = {});

}  // namespace hearth::ctl
