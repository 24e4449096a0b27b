#include "config/target_groups.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/internal/yaml_reader.h"
#include "model/strutil.h"

namespace hearth {
namespace {

Status CheckLabel(std::string_view name, std::string_view value) {
  if (name.empty() || !IsValidUtf8(name)) {
    return InvalidArgument("{} is not a valid label name", QuoteGo(name));
  }
  if (!IsValidUtf8(value)) return InvalidArgument("{} is not a valid label value", QuoteGo(value));
  return Status::Ok();
}

Result<std::vector<TargetGroup>> ParseJson(std::string_view text, std::string_view source) {
  auto prefix = [&](const std::string& msg) {
    return source.empty() ? msg : fmt::format("{}: {}", source, msg);
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // e.what() names the byte position and what was expected.
    return InvalidArgument("{}", prefix(e.what()));
  }
  std::vector<TargetGroup> out;
  if (doc.is_null()) return out;
  if (!doc.is_array()) {
    return InvalidArgument("{}", prefix("json: cannot unmarshal " + std::string(doc.type_name()) +
                                        " into Go value of type []*targetgroup.Group"));
  }
  for (const auto& g : doc) {
    if (g.is_null()) continue;
    if (!g.is_object()) {
      return InvalidArgument("{}", prefix("json: cannot unmarshal " + std::string(g.type_name()) +
                                          " into Go value of type targetgroup.Group"));
    }
    TargetGroup tg;
    if (auto it = g.find("targets"); it != g.end() && !it->is_null()) {
      if (!it->is_array()) {
        return InvalidArgument("{}", prefix("json: cannot unmarshal " +
                                            std::string(it->type_name()) +
                                            " into Go struct field .targets of type []string"));
      }
      for (const auto& t : *it) {
        if (!t.is_string()) {
          return InvalidArgument("{}", prefix("json: cannot unmarshal " +
                                              std::string(t.type_name()) +
                                              " into Go struct field .targets of type string"));
        }
        tg.targets.push_back(Labels{{"__address__", t.get<std::string>()}});
      }
    }
    if (auto it = g.find("labels"); it != g.end() && !it->is_null()) {
      if (!it->is_object()) {
        return InvalidArgument("{}", prefix("json: cannot unmarshal " +
                                            std::string(it->type_name()) +
                                            " into Go struct field .labels of type "
                                            "model.LabelSet"));
      }
      LabelsBuilder lb;
      for (const auto& [name, value] : it->items()) {
        if (!value.is_string()) {
          return InvalidArgument("{}", prefix("json: cannot unmarshal " +
                                              std::string(value.type_name()) +
                                              " into Go value of type model.LabelValue"));
        }
        const std::string v = value.get<std::string>();
        Status st = CheckLabel(name, v);
        if (!st.ok()) return InvalidArgument("{}", prefix(st.message()));
        lb.Set(name, v);
      }
      tg.labels = lb.Build();
    }
    out.push_back(std::move(tg));
  }
  return out;
}

Result<std::vector<TargetGroup>> ParseYamlGroups(std::string_view text, std::string_view source) {
  using config_internal::YamlReader;
  auto root = config_internal::ParseYaml(text, source);
  if (!root.ok()) return root.status();
  YamlReader r{std::string(source)};
  std::vector<TargetGroup> out;
  Status st = r.Sequence(*root, "*targetgroup.Group", [&](const YAML::Node& g) {
    TargetGroup tg;
    std::vector<std::pair<std::string, std::string>> labels;
    Status fields = r.Fields(g, "targetgroup.Group",
                             [&](const std::string& key, const YAML::Node& v,
                                 const YAML::Node&) -> std::optional<Status> {
                               if (key == "targets") {
                                 std::vector<std::string> targets;
                                 Status s = r.StringList(v, &targets);
                                 for (auto& t : targets) {
                                   tg.targets.push_back(Labels{{"__address__", t}});
                                 }
                                 return s;
                               }
                               if (key == "labels") return r.LabelSet(v, &labels);
                               return std::nullopt;
                             });
    if (!fields.ok()) return fields;
    tg.labels = Labels::FromPairs(labels);
    out.push_back(std::move(tg));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace

Result<std::vector<TargetGroup>> ParseTargetGroups(std::string_view text, TargetGroupFormat format,
                                                   std::string_view source_name) {
  if (format == TargetGroupFormat::kJson) return ParseJson(text, source_name);
  return ParseYamlGroups(text, source_name);
}

}  // namespace hearth
