#include "scraper/discovery/http_sd.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/strutil.h"

namespace hearth::scraper {

Result<std::vector<TargetGroup>> ParseHttpSdResponse(std::string_view content_type,
                                                     std::string_view body, std::string_view url) {
  std::string media = ToLowerAscii(TrimSpace(content_type.substr(0, content_type.find(';'))));
  if (media != "application/json") {
    return InvalidArgument("unsupported content type {}", QuoteGo(content_type));
  }
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("invalid JSON in the http_sd answer from {}", url);
  if (!doc.is_array()) {
    return InvalidArgument("json: cannot unmarshal {} into Go value of type []*targetgroup.Group",
                           doc.type_name());
  }
  std::vector<TargetGroup> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& g = doc[i];
    if (!g.is_object()) return InvalidArgument("target group {} is not an object", i);
    TargetGroup tg;
    tg.source = fmt::format("{}:{}", url, i);
    LabelsBuilder lb;
    if (auto it = g.find("labels"); it != g.end() && !it->is_null()) {
      if (!it->is_object()) return InvalidArgument("labels of target group {} are not an object", i);
      for (auto kv = it->begin(); kv != it->end(); ++kv) {
        if (!kv.value().is_string()) {
          return InvalidArgument("label {} of target group {} is not a string", QuoteGo(kv.key()), i);
        }
        if (kv.key().empty() || !IsValidUtf8(kv.key())) {
          return InvalidArgument("{} is not a valid label name", QuoteGo(kv.key()));
        }
        lb.Set(kv.key(), kv.value().get<std::string>());
      }
    }
    lb.Set("__meta_url", url);
    tg.labels = lb.Build();
    if (auto it = g.find("targets"); it != g.end() && !it->is_null()) {
      if (!it->is_array()) return InvalidArgument("targets of target group {} are not a list", i);
      for (const auto& t : *it) {
        if (!t.is_string()) return InvalidArgument("a target of group {} is not a string", i);
        tg.targets.push_back(Labels{{"__address__", t.get<std::string>()}});
      }
    }
    out.push_back(std::move(tg));
  }
  return out;
}

}  // namespace hearth::scraper
