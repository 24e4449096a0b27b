// Fuzz target: the PromQL parser and printer on untrusted query text. Invariants: no crash;
// what parses prints (Format) to text that parses back to the same tree (compared field by
// field, tests/query/ast_dump.h) and prints the same again; the pretty form parses back to the
// same tree too; ParseMetricSelector never crashes.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "query/parser/parser.h"
#include "tests/query/ast_dump.h"

namespace {

[[noreturn]] void Violation(const char* what, std::string_view in, const std::string& a,
                            const std::string& b) {
  std::fprintf(stderr, "promql_parse invariant violated: %s\ninput: %.*s\nfirst:  %s\nsecond: %s\n",
               what, static_cast<int>(in.size()), in.data(), a.c_str(), b.c_str());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth::promql;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseMetricSelector(in);
  auto r = ParseExpr(in);
  if (!r.ok()) return 0;
  const Expr& e = **r;
  const std::string canonical = Format(e);
  const std::string dump = testing::Dump(e);
  auto again = ParseExpr(canonical);
  if (!again.ok()) Violation("Format output does not parse", in, canonical, again.status().message());
  const std::string dump2 = testing::Dump(**again);
  if (dump2 != dump) Violation("Format output parses to another tree", in, dump, dump2);
  if (!testing::HasHugeTimestamp(e) && Format(**again) != canonical) {
    Violation("Format is not a fixed point", in, canonical, Format(**again));
  }
  const std::string pretty = Prettify(e);
  auto from_pretty = ParseExpr(pretty);
  if (!from_pretty.ok()) Violation("Prettify output does not parse", in, pretty, from_pretty.status().message());
  if (testing::Dump(**from_pretty) != dump) {
    Violation("Prettify output parses to another tree", in, dump, testing::Dump(**from_pretty));
  }
  return 0;
}
