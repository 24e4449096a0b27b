// Fuzz target: the alert template language on untrusted rule-file text. Invariants: no crash;
// a template that parses executes to a result or a clean error within the step and output
// bounds; a constant template expands to itself.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "rules/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth;
  using namespace hearth::rules;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = Template::Parse(in, "__alert_Fuzz");
  if (!t.ok()) return 0;
  AlertTemplateData d;
  d.labels = Labels{{"__name__", "up"}, {"instance", "a:9090"}, {"job", "api"}};
  d.external_labels = Labels{{"cluster", "eu1"}};
  d.external_url = "http://hearth:9090/prefix";
  d.value = 1234.5;
  TemplateEnv env;
  env.time_ms = 1'700'000'000'000;
  env.external_url = d.external_url;
  env.max_steps = 100'000;
  env.max_output_bytes = 1 << 20;
  env.query = [](std::string_view q, int64_t ts) -> Result<promql::Vector> {
    if (q.empty()) return Status(StatusCode::kInvalidArgument, "1:1: parse error: empty");
    return promql::Vector{{Labels{{"__name__", "up"}, {"job", std::string(q.substr(0, 8))}}, ts, 1},
                          {Labels{{"__name__", "up"}, {"job", "b"}}, ts, 0}};
  };
  auto r = t->Execute(d, env);
  if (r.ok() && t->IsConstant() && *r != in) {
    std::fprintf(stderr, "constant template changed on expansion\n");
    __builtin_trap();
  }
  (void)ExpandAlertTemplate(*t, d, env);
  return 0;
}
