#include "config/rules.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/internal/yaml_reader.h"
#include "model/labels.h"
#include "model/strutil.h"

namespace hearth {
namespace {

using config_internal::ParseYaml;
using config_internal::YamlReader;

// "line:col" of a node, "0:0" for a missing one (as promtool prints for absent fields).
std::string Pos(const std::optional<YAML::Node>& n) {
  if (!n || !n->IsDefined() || n->Mark().is_null()) return "0:0";
  return fmt::format("{}:{}", n->Mark().line + 1, n->Mark().column + 1);
}

struct RuleNodes {
  std::optional<YAML::Node> self, record, alert, expr;
  std::vector<std::pair<std::string, YAML::Node>> label_keys, annotation_keys;
};

class RuleParser {
 public:
  RuleParser(const RuleExprValidator& validate, RuleParseResult* out)
      : r_(""), validate_(validate), out_(out) {}

  void Run(std::string_view text) {
    auto root = ParseYaml(text, "");
    if (!root.ok()) {
      out_->errors.push_back(root.status().message());
      return;
    }
    Status st = r_.Fields(*root, "rulefmt.RuleGroups",
                          [&](const std::string& key, const YAML::Node& v,
                              const YAML::Node&) -> std::optional<Status> {
                            if (key != "groups") return std::nullopt;
                            return r_.Sequence(v, "rulefmt.RuleGroup",
                                               [&](const YAML::Node& g) { return Group(g); });
                          });
    if (!st.ok()) {
      // A structural error: the file's contents cannot be trusted, only this error counts.
      out_->file.groups.clear();
      out_->errors.clear();
      out_->errors.push_back(st.message());
      return;
    }
    ValidateAll();
  }

 private:
  Status Group(const YAML::Node& n) {
    RuleGroupConfig g;
    group_nodes_.emplace_back();
    group_nodes_.back().self.emplace(n);
    std::vector<RuleNodes>& rule_nodes = group_nodes_.back().rules;
    std::vector<std::pair<std::string, std::string>> labels;
    Status fields = r_.Fields(
        n, "rulefmt.RuleGroup",
        [&](const std::string& key, const YAML::Node& v,
            const YAML::Node& k) -> std::optional<Status> {
          if (key == "name") return r_.String(v, &g.name);
          if (key == "interval") return r_.Duration(v, &g.interval_ms);
          if (key == "query_offset") {
            int64_t ms = 0;
            Status st = r_.Duration(v, &ms);
            if (st.ok() && !v.IsNull()) g.query_offset_ms = ms;
            return st;
          }
          if (key == "limit") return r_.Int(v, &g.limit);
          if (key == "labels") {
            group_nodes_.back().labels.emplace(k);
            return StringMapWithKeys(v, &g.labels, &group_nodes_.back().label_keys);
          }
          if (key == "rules") {
            return r_.Sequence(v, "rulefmt.Rule", [&](const YAML::Node& item) {
              RuleConfig rule;
              RuleNodes nodes;
              HEARTH_RETURN_IF_ERROR(Rule(item, &rule, &nodes));
              g.rules.push_back(std::move(rule));
              rule_nodes.push_back(std::move(nodes));
              return Status::Ok();
            });
          }
          return std::nullopt;
        });
    if (!fields.ok()) return fields;
    out_->file.groups.push_back(std::move(g));
    return Status::Ok();
  }

  Status StringMapWithKeys(const YAML::Node& n, std::map<std::string, std::string>* out,
                           std::vector<std::pair<std::string, YAML::Node>>* keys) {
    return r_.Fields(n, "map[string]string",
                     [&](const std::string& key, const YAML::Node& v,
                         const YAML::Node& k) -> std::optional<Status> {
                       std::string s;
                       Status st = r_.String(v, &s);
                       if (st.ok()) {
                         (*out)[key] = std::move(s);
                         keys->emplace_back(key, k);
                       }
                       return st;
                     });
  }

  Status Rule(const YAML::Node& n, RuleConfig* rule, RuleNodes* nodes) {
    nodes->self.emplace(n);
    if (n.IsDefined() && !n.Mark().is_null()) {
      rule->line = n.Mark().line + 1;
      rule->column = n.Mark().column + 1;
    }
    return r_.Fields(n, "rulefmt.Rule",
                     [&](const std::string& key, const YAML::Node& v,
                         const YAML::Node&) -> std::optional<Status> {
                       if (key == "record") {
                         nodes->record.emplace(v);
                         return r_.String(v, &rule->record);
                       }
                       if (key == "alert") {
                         nodes->alert.emplace(v);
                         return r_.String(v, &rule->alert);
                       }
                       if (key == "expr") {
                         nodes->expr.emplace(v);
                         return r_.String(v, &rule->expr);
                       }
                       if (key == "for") return r_.Duration(v, &rule->for_ms);
                       if (key == "keep_firing_for") return r_.Duration(v, &rule->keep_firing_for_ms);
                       if (key == "labels") {
                         return StringMapWithKeys(v, &rule->labels, &nodes->label_keys);
                       }
                       if (key == "annotations") {
                         return StringMapWithKeys(v, &rule->annotations, &nodes->annotation_keys);
                       }
                       return std::nullopt;
                     });
  }

  static bool ValidLabelName(std::string_view n) { return !n.empty() && IsValidUtf8(n); }

  void ValidateAll() {
    std::set<std::string> names;
    for (size_t gi = 0; gi < out_->file.groups.size(); ++gi) {
      const RuleGroupConfig& g = out_->file.groups[gi];
      const GroupNodes& gn = group_nodes_[gi];
      if (g.name.empty()) {
        out_->errors.push_back(fmt::format("{}: Groupname must not be empty", Pos(gn.self)));
      }
      if (!names.insert(g.name).second) {
        out_->errors.push_back(fmt::format("{}: groupname: \"{}\" is repeated in the same file",
                                           Pos(gn.self), g.name));
      }
      for (const auto& [k, node] : gn.label_keys) {
        if (!ValidLabelName(k) || k == kMetricName) {
          out_->errors.push_back(fmt::format("{}: invalid label name: {}", Pos(node), k));
        } else if (!IsValidUtf8(g.labels.at(k))) {
          out_->errors.push_back(
              fmt::format("{}: invalid label value: {}", Pos(node), g.labels.at(k)));
        }
      }
      for (size_t ri = 0; ri < g.rules.size(); ++ri) ValidateRule(g, ri, gn.rules[ri]);
    }
  }

  void ValidateRule(const RuleGroupConfig& g, size_t index, const RuleNodes& nodes) {
    const RuleConfig& r = g.rules[index];
    const std::string name = r.alert.empty() ? r.record : r.alert;
    auto add = [&](const std::string& where, const std::string& msg) {
      out_->errors.push_back(fmt::format("{}: group {}, rule {}, {}: {}", where, QuoteGo(g.name),
                                         index + 1, QuoteGo(name), msg));
    };
    const std::string both = Pos(nodes.record) + ": " + Pos(nodes.alert);
    if (!r.record.empty() && !r.alert.empty()) {
      add(both, "only one of 'record' and 'alert' must be set");
    }
    if (r.record.empty() && r.alert.empty()) add(both, "one of 'record' or 'alert' must be set");
    if (r.expr.empty()) {
      add(Pos(nodes.expr), "field 'expr' must be set in rule");
    } else if (validate_) {
      Status st = validate_(r.expr);
      if (!st.ok()) add(Pos(nodes.expr), "could not parse expression: " + st.message());
    }
    if (!r.record.empty()) {
      const std::string at = Pos(nodes.record);
      if (!r.annotations.empty()) add(at, "invalid field 'annotations' in recording rule");
      if (r.for_ms != 0) add(at, "invalid field 'for' in recording rule");
      if (r.keep_firing_for_ms != 0) add(at, "invalid field 'keep_firing_for' in recording rule");
      if (!IsValidUtf8(r.record)) add(at, "invalid recording rule name: " + r.record);
      if (r.record.find_first_of("{}") != std::string::npos) {
        add(at, "braces present in the recording rule name; should it be in expr?: " + r.record);
      }
    }
    for (const auto& [k, node] : nodes.label_keys) {
      if (!ValidLabelName(k) || k == kMetricName) {
        add(Pos(node), "invalid label name: " + k);
      } else if (!IsValidUtf8(r.labels.at(k))) {
        add(Pos(node), "invalid label value: " + r.labels.at(k));
      }
    }
    for (const auto& [k, node] : nodes.annotation_keys) {
      if (!ValidLabelName(k)) add(Pos(node), "invalid annotation name: " + k);
    }
  }

  struct GroupNodes {
    std::optional<YAML::Node> self;
    std::optional<YAML::Node> labels;
    std::vector<std::pair<std::string, YAML::Node>> label_keys;
    std::vector<RuleNodes> rules;
  };

  YamlReader r_;
  const RuleExprValidator& validate_;
  RuleParseResult* out_;
  std::vector<GroupNodes> group_nodes_;
};

}  // namespace

RuleParseResult ParseRuleFile(std::string_view text, std::string_view path,
                              const RuleExprValidator& validate_expr) {
  RuleParseResult out;
  out.file.path = std::string(path);
  RuleParser p(validate_expr, &out);
  p.Run(text);
  return out;
}

RuleParseResult LoadRuleFile(const std::string& path, const RuleExprValidator& validate_expr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    RuleParseResult out;
    out.file.path = path;
    out.errors.push_back(fmt::format("open {}: {}", path, std::strerror(errno)));
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseRuleFile(ss.str(), path, validate_expr);
}

Result<RuleFileConfig> LoadRuleFileOrError(const std::string& path,
                                           const RuleExprValidator& validate_expr) {
  RuleParseResult r = LoadRuleFile(path, validate_expr);
  if (r.errors.empty()) return std::move(r.file);
  std::string msg;
  for (const std::string& e : r.errors) {
    if (!msg.empty()) msg += "; ";
    msg += path + ": " + e;
  }
  return InvalidArgument("{}", msg);
}

std::vector<DuplicateRule> FindDuplicateRules(const RuleFileConfig& file) {
  std::map<std::pair<std::string, std::map<std::string, std::string>>, int> seen;
  std::vector<DuplicateRule> out;
  for (const RuleGroupConfig& g : file.groups) {
    for (const RuleConfig& r : g.rules) {
      if (r.record.empty()) continue;
      if (++seen[{r.record, r.labels}] == 2) out.push_back({r.record, r.labels});
    }
  }
  return out;
}

}  // namespace hearth
