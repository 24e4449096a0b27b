#pragma once

// `hearthctl check config FILE...` and `hearthctl check rules FILE...`: promtool's checks, with
// its output shape and exit codes (0 valid, 1 invalid or usage error, 3 lint problems with
// --lint-fatal).

#include <cstdio>
#include <string>
#include <vector>

#include "config/rules.h"

namespace hearth::ctl {

struct CheckIo {
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  // Validates PromQL expressions of rules; nullptr checks only that they are present.
  RuleExprValidator validate_expr;
};

// The expression check hearthctl uses: PromQL parsing once query/parser is linked in (the one
// place to wire it); until then nullptr, so only the presence of `expr` is checked.
RuleExprValidator DefaultExprValidator();

int RunCheckConfig(const std::vector<std::string>& args, const CheckIo& io);
int RunCheckRules(const std::vector<std::string>& args, const CheckIo& io);

}  // namespace hearth::ctl
