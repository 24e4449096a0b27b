#pragma once

// Runs Prometheus' PromQL test scripts against Hearth's engine, as upstream's promqltest does:
// every instant eval is also run with `@ <eval time>` added to its selectors (at several
// evaluation times) and re-checked as a range query around the evaluation time.
//
// Each eval ends up passed, failed (with the reason) or unsupported: it needs native histograms
// (an expected histogram value, or a selector that matches a series loaded with histogram
// samples, which the float-only storage sets aside).

#include <string>
#include <string_view>
#include <vector>

namespace hearth::promqltest {

struct EvalOutcome {
  enum class Status { kPassed, kFailed, kUnsupported };
  int line = 0;
  std::string expr;
  Status status = Status::kPassed;
  std::string message;  // why it failed / is unsupported
};

struct FileReport {
  std::string file;
  std::string error;  // the script itself could not be parsed
  std::vector<EvalOutcome> evals;
  int Count(EvalOutcome::Status s) const;
};

// Runs one script (its text); `file` names it in the report.
FileReport RunScript(std::string_view file, std::string_view text);

}  // namespace hearth::promqltest
