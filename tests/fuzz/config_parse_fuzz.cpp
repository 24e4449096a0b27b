// Fuzz target: config/'s parsers of untrusted text: prometheus.yml, rule files and target-group
// documents (file_sd / http_sd). Invariants: no crash; a config that loads renders to YAML that
// loads again and renders the same.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/load.h"
#include "config/rules.h"
#include "config/target_groups.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace hearth;
  // scrape_config_files would make the loader read files named by the input.
  if (in.find("scrape_config_files") == std::string_view::npos) {
    if (auto c = LoadConfigString(in, "fuzz.yml"); c.ok()) {
      std::string yaml = RenderConfigYaml(*c);
      auto again = LoadConfigString(yaml, "rendered.yml");
      if (!again.ok()) __builtin_trap();
      if (RenderConfigYaml(*again) != yaml) __builtin_trap();
    }
  }
  (void)ParseRuleFile(in, "fuzz.rules.yml");
  (void)ParseTargetGroups(in, TargetGroupFormat::kJson, "fuzz.json");
  (void)ParseTargetGroups(in, TargetGroupFormat::kYaml, "fuzz.yml");
  return 0;
}
