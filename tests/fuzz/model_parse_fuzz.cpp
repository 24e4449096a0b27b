// Fuzz target: the model's parsers of untrusted text (durations, floats, times, packed label
// sets, regex matchers). Invariants: no crash; what parses re-prints and re-parses the same.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/duration.h"
#include "model/format.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/strutil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace hearth;
  if (auto d = ParseDuration(in); d.ok()) {
    auto again = ParseDuration(FormatDuration(*d));
    if (!again.ok() || *again != *d) __builtin_trap();
  }
  (void)ParseGoFloat(in);
  (void)ParseApiTime(in);
  (void)ParseRFC3339(in);
  bool ok = false;
  Labels l = Labels::FromPacked(in, &ok);
  if (ok) {
    Labels copy = Labels::FromPacked(l.packed(), &ok);
    if (!ok || !(copy == l)) __builtin_trap();
    (void)l.ToString();
  }
  if (auto m = Matcher::Make(MatchType::kRegexMatch, "x", std::string(in)); m.ok()) {
    (void)m->Matches(in);
    (void)m->Matches("");
  }
  return 0;
}
