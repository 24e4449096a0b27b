#include "rules/manager.h"

#include <algorithm>

#include <fmt/format.h>

#include "config/load.h"
#include "model/strutil.h"
#include "rules/recording.h"

namespace hearth::rules {
namespace {

std::vector<std::pair<std::string, std::string>> MergeLabels(
    const std::map<std::string, std::string>& group, const std::map<std::string, std::string>& rule) {
  std::map<std::string, std::string> merged = group;
  for (const auto& [k, v] : rule) merged[k] = v;
  return {merged.begin(), merged.end()};
}

std::string RuleDisplayName(const RuleConfig& r) { return r.alert.empty() ? r.record : r.alert; }

std::string RulePrefix(const RuleGroupConfig& g, size_t index, const RuleConfig& r) {
  return fmt::format("{}:{}: group {}, rule {}, {}", r.line, r.column, QuoteGo(g.name), index + 1,
                     QuoteGo(RuleDisplayName(r)));
}

bool LessGroup(const Group& a, const Group& b) {
  if (a.file() != b.file()) return a.file() < b.file();
  return a.name() < b.name();
}

AlertInfo ToInfo(const Alert& a) {
  AlertInfo i;
  i.labels = a.labels;
  i.annotations = a.annotations;
  i.state = a.state;
  i.active_at = a.active_at;
  i.keep_firing_since = a.keep_firing_since;
  i.value = a.value;
  return i;
}

}  // namespace

std::vector<std::string> CheckRuleTemplates(const RuleFileConfig& file) {
  std::vector<std::string> errors;
  for (const auto& g : file.groups) {
    for (size_t i = 0; i < g.rules.size(); ++i) {
      const RuleConfig& r = g.rules[i];
      if (r.alert.empty()) continue;
      const std::string name = "__alert_" + r.alert;
      for (const auto& [k, v] : r.labels) {
        auto t = Template::Parse(v, name);
        if (!t.ok()) {
          errors.push_back(fmt::format("{}: label {}: {}", RulePrefix(g, i, r), QuoteGo(k),
                                       t.status().message()));
        }
      }
      for (const auto& [k, v] : r.annotations) {
        auto t = Template::Parse(v, name);
        if (!t.ok()) {
          errors.push_back(fmt::format("{}: annotation {}: {}", RulePrefix(g, i, r), QuoteGo(k),
                                       t.status().message()));
        }
      }
    }
  }
  return errors;
}

Manager::Manager(ManagerOptions options) : options_(std::move(options)) {
  if (options_.registry != nullptr) metrics_ = std::make_unique<RuleMetrics>(*options_.registry);
  auto ctx = std::make_shared<GroupContext>();
  ctx->appendable = options_.appendable;
  ctx->queryable = options_.queryable;
  ctx->query = options_.query;
  ctx->notify = options_.notify;
  ctx->clock = options_.clock;
  ctx->logger = options_.logger.With({{"component", "rule manager"}});
  ctx->metrics = metrics_.get();
  ctx->resend_delay_ms = options_.resend_delay_ms;
  ctx->outage_tolerance_ms = options_.outage_tolerance_ms;
  ctx->for_grace_period_ms = options_.for_grace_period_ms;
  ctx_ = std::move(ctx);
}

Manager::~Manager() { Stop(); }

Status Manager::ApplyConfig(const Config& config) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandRuleFiles(config));
  return Update(config.global.evaluation_interval_ms, files, config.global.external_labels,
                config.global.rule_query_offset_ms);
}

Result<std::vector<Manager::Loaded>> Manager::LoadGroups(int64_t default_interval_ms,
                                                         const std::vector<std::string>& files,
                                                         const Labels& external_labels,
                                                         int64_t default_query_offset_ms,
                                                         std::vector<std::string>* errors_out) {
  RuleExprValidator validate;
  if (options_.parse_expr) {
    validate = [this](std::string_view expr) -> Status {
      return options_.parse_expr(expr).status();
    };
  }
  bool restored;
  {
    std::lock_guard lock(mu_);
    restored = restored_;
  }
  std::vector<std::string> errors;
  std::vector<Loaded> out;
  for (const std::string& path : files) {
    RuleParseResult parsed = LoadRuleFile(path, validate);
    if (!parsed.errors.empty()) {
      // Report template problems too, in file order, as Prometheus' rulefmt does.
      std::vector<std::string> file_errors = parsed.errors;
      for (auto& e : CheckRuleTemplates(parsed.file)) file_errors.push_back(std::move(e));
      auto line_of = [](const std::string& e) {
        auto n = ParseInt64(e.substr(0, e.find(':')));
        return n ? *n : 0;
      };
      std::stable_sort(file_errors.begin(), file_errors.end(),
                       [&](const std::string& a, const std::string& b) {
                         return line_of(a) < line_of(b);
                       });
      for (const auto& e : file_errors) errors.push_back(path + ": " + e);
      continue;
    }
    for (const auto& g : parsed.file.groups) {
      GroupSpec spec;
      spec.name = g.name;
      spec.file = path;
      spec.interval_ms = g.interval_ms > 0 ? g.interval_ms : default_interval_ms;
      spec.limit = g.limit;
      spec.configured_query_offset_ms = g.query_offset_ms;
      spec.query_offset_ms = g.query_offset_ms.value_or(default_query_offset_ms);
      for (size_t i = 0; i < g.rules.size(); ++i) {
        const RuleConfig& r = g.rules[i];
        std::string query(TrimSpace(r.expr));
        if (options_.parse_expr) {
          auto canonical = options_.parse_expr(r.expr);
          if (!canonical.ok()) {
            errors.push_back(fmt::format("{}: {}: could not parse expression: {}", path,
                                         RulePrefix(g, i, r), canonical.status().message()));
            continue;
          }
          query = std::move(canonical).value();
        }
        auto labels = MergeLabels(g.labels, r.labels);
        if (!r.record.empty()) {
          spec.rules.push_back(std::make_unique<RecordingRule>(
              r.record, std::move(query),
              Labels::FromPairs(std::span<const std::pair<std::string, std::string>>(labels))));
          continue;
        }
        AlertingRuleSpec as;
        as.name = r.alert;
        as.query = std::move(query);
        as.hold_ms = r.for_ms;
        as.keep_firing_for_ms = r.keep_firing_for_ms;
        as.labels = std::move(labels);
        as.annotations.assign(r.annotations.begin(), r.annotations.end());
        as.external_labels = external_labels;
        as.external_url = options_.external_url;
        as.restored = restored;
        auto rule = AlertingRule::Make(std::move(as), ctx_->logger.With({{"alert", r.alert}}));
        if (!rule.ok()) {
          errors.push_back(
              fmt::format("{}: {}: {}", path, RulePrefix(g, i, r), rule.status().message()));
          continue;
        }
        spec.rules.push_back(std::move(rule).value());
      }
      Loaded l;
      l.group = std::make_shared<Group>(std::move(spec), ctx_);
      l.should_restore = !restored;
      out.push_back(std::move(l));
    }
  }
  if (!errors.empty()) {
    if (errors_out != nullptr) *errors_out = errors;
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
    return Status(StatusCode::kInvalidArgument, msg);
  }
  return out;
}

Status Manager::Update(int64_t default_interval_ms, const std::vector<std::string>& files,
                       const Labels& external_labels, int64_t default_query_offset_ms,
                       std::vector<std::string>* errors) {
  std::lock_guard update_lock(update_mu_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Status(StatusCode::kUnavailable, "rule manager stopped");
  }
  HEARTH_ASSIGN_OR_RETURN(
      auto loaded,
      LoadGroups(default_interval_ms, files, external_labels, default_query_offset_ms, errors));

  std::map<std::string, Loaded> old;
  bool started;
  {
    std::lock_guard lock(mu_);
    old = groups_;
    started = started_;
  }
  std::map<std::string, Loaded> next;
  for (auto& l : loaded) {
    const std::string key = l.group->Key();
    if (next.count(key) != 0) continue;  // the same group twice (a file named twice)
    auto it = old.find(key);
    if (it != old.end()) {
      if (it->second.group->Equals(*l.group)) {
        // Unchanged: the running group stays, with all its state.
        next[key] = it->second;
        old.erase(it);
        continue;
      }
      it->second.group->Stop();
      l.group->CopyState(*it->second.group);
      old.erase(it);
    }
    next[key] = l;
  }
  // Groups that are gone: stop them and mark what they wrote stale.
  const int64_t now = options_.clock->NowMs();
  for (auto& [key, l] : old) {
    l.group->Stop();
    l.group->MarkAllStale(now);
    if (metrics_) metrics_->RemoveGroup(key);
  }
  {
    std::lock_guard lock(mu_);
    groups_ = next;
    restored_ = true;
  }
  if (started) {
    for (auto& [key, l] : next) l.group->Start(l.should_restore);
  }
  return Status::Ok();
}

void Manager::Start() {
  std::map<std::string, Loaded> groups;
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    groups = groups_;
  }
  for (auto& [key, l] : groups) l.group->Start(l.should_restore);
}

void Manager::Stop() {
  std::lock_guard update_lock(update_mu_);
  std::map<std::string, Loaded> groups;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    groups = groups_;
  }
  for (auto& [key, l] : groups) l.group->Stop();
}

std::vector<std::shared_ptr<Group>> Manager::Groups() const {
  std::vector<std::shared_ptr<Group>> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, l] : groups_) out.push_back(l.group);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return LessGroup(*a, *b); });
  return out;
}

std::vector<GroupInfo> Manager::RuleGroups() const {
  std::vector<GroupInfo> out;
  for (const auto& g : Groups()) {
    GroupInfo gi;
    gi.name = g->name();
    gi.file = g->file();
    gi.interval_ms = g->interval_ms();
    gi.limit = g->limit();
    gi.evaluation_seconds = g->evaluation_seconds();
    gi.last_evaluation = g->last_evaluation();
    for (const auto& r : g->rules()) {
      RuleInfo ri;
      ri.type = r->type();
      ri.name = r->name();
      ri.query = r->query();
      ri.labels = r->labels();
      ri.health = r->health();
      ri.last_error = r->last_error();
      ri.evaluation_seconds = r->evaluation_seconds();
      ri.last_evaluation = r->last_evaluation();
      if (r->type() == RuleType::kAlerting) {
        const auto& ar = static_cast<const AlertingRule&>(*r);
        ri.state = ri.last_evaluation == kNoTime ? AlertState::kUnknown : ar.State();
        ri.duration_ms = ar.hold_ms();
        ri.keep_firing_for_ms = ar.keep_firing_for_ms();
        ri.annotations = ar.annotation_templates();
        for (const auto& a : ar.ActiveAlerts()) ri.alerts.push_back(ToInfo(a));
      }
      gi.rules.push_back(std::move(ri));
    }
    out.push_back(std::move(gi));
  }
  return out;
}

std::vector<AlertInfo> Manager::Alerts() const {
  std::vector<AlertInfo> out;
  for (const auto& g : Groups()) {
    for (const auto& r : g->rules()) {
      if (r->type() != RuleType::kAlerting) continue;
      for (const auto& a : static_cast<const AlertingRule&>(*r).ActiveAlerts()) {
        out.push_back(ToInfo(a));
      }
    }
  }
  return out;
}

}  // namespace hearth::rules
