#include "rules/notifier.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/target_groups.h"
#include "model/format.h"
#include "model/relabel.h"
#include "model/strutil.h"
#include "rules/internal/http_post.h"

namespace hearth::rules {
namespace {

constexpr std::string_view kSchemeLabel = "__scheme__";
constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kAlertsPathLabel = "__alerts_path__";

// Go's encoding/json string escaping (with its default HTML escaping of <, > and &).
void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = u[i];
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        case '<': *out += "\\u003c"; break;
        case '>': *out += "\\u003e"; break;
        case '&': *out += "\\u0026"; break;
        default:
          if (c < 0x20) {
            *out += fmt::format("\\u{:04x}", c);
          } else {
            *out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool valid = n != 0 && i + n <= s.size();
    for (size_t k = 1; valid && k < n; ++k) valid = (u[i + k] & 0xc0) == 0x80;
    if (!valid) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    std::string_view rune = s.substr(i, n);
    if (rune == "\u2028") {
      *out += "\\u2028";
    } else if (rune == "\u2029") {
      *out += "\\u2029";
    } else {
      out->append(rune);
    }
    i += n;
  }
  *out += '"';
}

std::string Rfc3339Millis(int64_t ms) {
  if (ms == kNoTime) return "0001-01-01T00:00:00.000Z";
  return FormatRFC3339Millis(ms);
}

// path.Join("/", prefix, "/api/v2/alerts").
std::string AlertsPath(std::string_view prefix) {
  std::string p;
  for (auto part : SplitString(prefix, '/')) {
    if (part.empty() || part == ".") continue;
    p += "/";
    p += part;
  }
  return p + "/api/v2/alerts";
}

std::string AmUrl(const Labels& l) {
  return std::string(l.Get(kSchemeLabel)) + "://" + std::string(l.Get(kAddressLabel)) +
         std::string(l.Get(kAlertsPathLabel));
}

std::vector<NotifierAlert> RelabelAlerts(std::span<const RelabelConfig> configs,
                                         const Labels& external, std::vector<NotifierAlert> in) {
  std::vector<NotifierAlert> out;
  out.reserve(in.size());
  LabelsBuilder lb;
  for (auto& a : in) {
    lb.Reset(a.labels);
    for (const auto& l : external) {
      if (a.labels.Get(l.name).empty()) lb.Set(l.name, l.value);
    }
    if (!Relabel(configs, lb)) continue;
    a.labels = lb.Build();
    out.push_back(std::move(a));
  }
  return out;
}

int64_t FileMtimeNs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<TargetGroup>> ReadTargetGroupsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kIOError, fmt::format("open {}: no such file or directory", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  TargetGroupFormat format = TargetGroupFormat::kYaml;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    format = TargetGroupFormat::kJson;
  }
  return ParseTargetGroups(ss.str(), format, path);
}

}  // namespace

std::string EncodeAlertsV2(const std::vector<NotifierAlert>& alerts) {
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const NotifierAlert& a = alerts[i];
    if (i > 0) out += ',';
    out += '{';
    if (!a.annotations.empty()) {
      out += "\"annotations\":{";
      // Go marshals maps with sorted keys; annotations are kept sorted.
      for (size_t k = 0; k < a.annotations.size(); ++k) {
        if (k > 0) out += ',';
        AppendJsonString(&out, a.annotations[k].first);
        out += ':';
        AppendJsonString(&out, a.annotations[k].second);
      }
      out += "},";
    }
    out += "\"endsAt\":\"" + Rfc3339Millis(a.ends_at) + "\",";
    out += "\"startsAt\":\"" + Rfc3339Millis(a.starts_at) + "\",";
    if (!a.generator_url.empty()) {
      out += "\"generatorURL\":";
      AppendJsonString(&out, a.generator_url);
      out += ',';
    }
    out += "\"labels\":{";
    bool first = true;
    for (const auto& l : a.labels) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(&out, l.name);
      out += ':';
      AppendJsonString(&out, l.value);
    }
    out += "}}";
  }
  out += ']';
  return out;
}

struct Notifier::AmSet {
  AlertmanagerConfig cfg;
  std::shared_ptr<const HttpPoster> poster;
  struct FileState {
    int64_t mtime_ns = -2;
    std::vector<TargetGroup> groups;
  };
  // Guarded by the notifier's mu_ (discovery rebuilds them; senders read a copy).
  std::map<std::string, FileState> files;  // by expanded path
  std::vector<std::string> active;
  std::vector<std::string> dropped;
  int64_t last_full_refresh_ms = 0;

  // Rebuilds `active` and `dropped` from the static and file target groups.
  void Resolve(const Logger& logger) {
    std::vector<const TargetGroup*> groups;
    for (const auto& g : cfg.service_discovery.static_configs) groups.push_back(&g);
    for (const auto& [path, f] : files) {
      for (const auto& g : f.groups) groups.push_back(&g);
    }
    std::vector<std::string> new_active, new_dropped;
    std::set<std::string> seen;
    const std::string path = AlertsPath(cfg.path_prefix);
    for (const TargetGroup* g : groups) {
      for (const Labels& target : g->targets) {
        LabelsBuilder lb(target);
        lb.Set(kSchemeLabel, cfg.scheme);
        lb.Set(kAlertsPathLabel, path);
        for (const auto& l : g->labels) {
          if (!target.Has(l.name)) lb.Set(l.name, l.value);
        }
        Labels before = lb.Build();
        if (!Relabel(cfg.relabel_configs, lb)) {
          new_dropped.push_back(AmUrl(before));
          continue;
        }
        Labels after = lb.Build();
        std::string_view addr = after.Get(kAddressLabel);
        if (addr.find('/') != std::string_view::npos) {
          logger.Error("Invalid Alertmanager address",
                       {{"err", fmt::format("{} is not a valid hostname", QuoteGo(addr))}});
          continue;
        }
        std::string url = AmUrl(after);
        if (seen.insert(url).second) new_active.push_back(url);
      }
    }
    active = std::move(new_active);
    dropped = std::move(new_dropped);
  }
};

Notifier::Notifier(NotifierOptions options) : options_(std::move(options)) {
  if (options_.registry != nullptr) {
    auto& r = *options_.registry;
    dropped_ = &r.NewCounter("prometheus_notifications_dropped_total",
                             "Total number of alerts dropped due to errors when sending to "
                             "Alertmanager.");
    errors_ = &r.NewCounterFamily("prometheus_notifications_errors_total",
                                  "Total number of sent alerts affected by errors.",
                                  {"alertmanager"});
    sent_ = &r.NewCounterFamily("prometheus_notifications_sent_total",
                                "Total number of alerts sent.", {"alertmanager"});
    queue_length_ = &r.NewGauge("prometheus_notifications_queue_length",
                                "The number of alert notifications in the queue.");
    r.NewGauge("prometheus_notifications_queue_capacity",
               "The capacity of the alert notifications queue.")
        .Set(static_cast<double>(options_.queue_capacity));
    discovered_ = &r.NewGauge("prometheus_notifications_alertmanagers_discovered",
                              "The number of alertmanagers discovered and active.");
  }
}

Notifier::~Notifier() { Stop(); }

Status Notifier::ApplyConfig(const Config& config) {
  std::vector<std::shared_ptr<AmSet>> sets;
  for (const AlertmanagerConfig& am : config.alerting.alertmanagers) {
    if (am.api_version != "v2") {
      return InvalidArgument("unsupported Alertmanager API version {}", QuoteGo(am.api_version));
    }
    if (!am.service_discovery.dns_sd_configs.empty() ||
        !am.service_discovery.http_sd_configs.empty()) {
      options_.logger.Warn(
          "dns_sd_configs and http_sd_configs are not supported for Alertmanagers yet; only "
          "static_configs and file_sd_configs are used");
    }
    auto set = std::make_shared<AmSet>();
    set->cfg = am;
    HEARTH_ASSIGN_OR_RETURN(set->poster, HttpPoster::Make(am.http_client, options_.user_agent));
    sets.push_back(std::move(set));
  }
  {
    std::lock_guard lock(mu_);
    sets_ = std::move(sets);
    external_labels_ = config.global.external_labels;
    relabel_configs_ = config.alerting.alert_relabel_configs;
  }
  RefreshDiscovery(/*force=*/true);
  return Status::Ok();
}

void Notifier::RefreshDiscovery(bool force) {
  std::vector<std::shared_ptr<AmSet>> sets;
  {
    std::lock_guard lock(mu_);
    sets = sets_;
  }
  const int64_t now = options_.clock->NowMs();
  // Read files outside the lock; apply under it.
  for (const auto& set : sets) {
    std::map<std::string, AmSet::FileState> current;
    {
      std::lock_guard lock(mu_);
      current = set->files;
    }
    bool full = force;
    for (const auto& sd : set->cfg.service_discovery.file_sd_configs) {
      if (now - set->last_full_refresh_ms >= sd.refresh_interval_ms) full = true;
    }
    std::map<std::string, AmSet::FileState> next;
    bool changed = false;
    for (const auto& sd : set->cfg.service_discovery.file_sd_configs) {
      for (const auto& pattern : sd.files) {
        for (const auto& path : Glob(pattern)) {
          int64_t mtime = FileMtimeNs(path);
          auto it = current.find(path);
          if (!full && it != current.end() && it->second.mtime_ns == mtime) {
            next[path] = it->second;
            continue;
          }
          auto groups = ReadTargetGroupsFile(path);
          if (!groups.ok()) {
            options_.logger.Error("Error reading file",
                                  {{"path", path}, {"err", groups.status().message()}});
            if (it != current.end()) next[path] = it->second;  // keep the last good state
            continue;
          }
          for (size_t i = 0; i < groups->size(); ++i) {
            (*groups)[i].source = fmt::format("{}:{}", path, i);
          }
          next[path] = AmSet::FileState{mtime, std::move(groups).value()};
          changed = true;
        }
      }
    }
    if (next.size() != current.size()) changed = true;
    std::lock_guard lock(mu_);
    if (full) set->last_full_refresh_ms = now;
    if (changed || force) {
      set->files = std::move(next);
      set->Resolve(options_.logger);
    }
  }
  if (discovered_ != nullptr) discovered_->Set(static_cast<double>(ActiveAlertmanagers().size()));
}

void Notifier::Send(std::vector<NotifierAlert> alerts) {
  std::lock_guard lock(mu_);
  alerts = RelabelAlerts(relabel_configs_, external_labels_, std::move(alerts));
  const size_t cap = options_.queue_capacity;
  if (alerts.size() > cap) {
    size_t d = alerts.size() - cap;
    alerts.erase(alerts.begin(), alerts.begin() + static_cast<ptrdiff_t>(d));
    options_.logger.Warn("Alert batch larger than queue capacity, dropping alerts",
                         {{"num_dropped", std::to_string(d)}});
    if (dropped_) dropped_->Inc(static_cast<double>(d));
  }
  if (queue_.size() + alerts.size() > cap) {
    size_t d = queue_.size() + alerts.size() - cap;
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(d));
    options_.logger.Warn("Alert notification queue full, dropping alerts",
                         {{"num_dropped", std::to_string(d)}});
    if (dropped_) dropped_->Inc(static_cast<double>(d));
  }
  for (auto& a : alerts) queue_.push_back(std::move(a));
  if (queue_length_) queue_length_->Set(static_cast<double>(queue_.size()));
  cv_.notify_all();
}

size_t Notifier::QueueLength() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::vector<std::string> Notifier::ActiveAlertmanagers() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& s : sets_) out.insert(out.end(), s->active.begin(), s->active.end());
  return out;
}

std::vector<std::string> Notifier::DroppedAlertmanagers() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& s : sets_) out.insert(out.end(), s->dropped.begin(), s->dropped.end());
  return out;
}

bool Notifier::SendOneBatch() {
  std::lock_guard send_lock(send_mu_);
  std::vector<NotifierAlert> batch;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return false;
    size_t n = std::min(queue_.size(), options_.max_batch_size);
    batch.assign(std::make_move_iterator(queue_.begin()),
                 std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
    if (queue_length_) queue_length_->Set(static_cast<double>(queue_.size()));
  }
  if (!SendAll(batch) && dropped_ != nullptr) dropped_->Inc(static_cast<double>(batch.size()));
  return true;
}

bool Notifier::SendAll(const std::vector<NotifierAlert>& alerts) {
  if (alerts.empty()) return true;
  struct Job {
    std::shared_ptr<const HttpPoster> poster;
    std::string url;
    std::shared_ptr<const std::string> body;
    int64_t timeout_ms;
    size_t count;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    for (const auto& set : sets_) {
      if (set->active.empty()) continue;
      std::vector<NotifierAlert> mine;
      const std::vector<NotifierAlert>* to_send = &alerts;
      if (!set->cfg.alert_relabel_configs.empty()) {
        mine = RelabelAlerts(set->cfg.alert_relabel_configs, Labels{}, alerts);
        if (mine.empty()) continue;
        to_send = &mine;
      }
      auto body = std::make_shared<const std::string>(EncodeAlertsV2(*to_send));
      for (const auto& url : set->active) {
        jobs.push_back({set->poster, url, body, set->cfg.timeout_ms, to_send->size()});
      }
    }
  }
  std::atomic<int> successes{0};
  auto run = [&](const Job& j) {
    auto r = j.poster->Post(j.url, *j.body, "application/json", j.timeout_ms);
    std::string err;
    if (!r.ok()) {
      err = r.status().message();
    } else if (r->status / 100 != 2) {
      err = "bad response status " + r->status_text;
    }
    if (err.empty()) {
      ++successes;
    } else {
      options_.logger.Error("Error sending alerts", {{"alertmanager", j.url},
                                                     {"count", std::to_string(j.count)},
                                                     {"err", err}});
      if (errors_) errors_->With({j.url}).Inc(static_cast<double>(j.count));
    }
    if (sent_) sent_->With({j.url}).Inc(static_cast<double>(j.count));
  };
  if (jobs.size() == 1) {
    run(jobs[0]);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(jobs.size());
    for (const auto& j : jobs) threads.emplace_back([&run, &j] { run(j); });
    for (auto& t : threads) t.join();
  }
  return successes.load() > 0;
}

void Notifier::SenderLoop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) break;
    }
    SendOneBatch();
  }
  if (options_.drain_on_shutdown) {
    while (SendOneBatch()) {
    }
  }
}

void Notifier::DiscoveryLoop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.file_sd_poll_ms),
                   [&] { return stop_; });
      if (stop_) return;
    }
    RefreshDiscovery(/*force=*/false);
  }
}

void Notifier::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  sender_ = std::thread([this] { SenderLoop(); });
  discovery_ = std::thread([this] { DiscoveryLoop(); });
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  if (discovery_.joinable()) discovery_.join();
}

NotifyFunc SendAlertsTo(Notifier* notifier, std::string external_url) {
  return [notifier, url = std::move(external_url)](std::string_view expr,
                                                   const std::vector<Alert>& alerts) {
    std::vector<NotifierAlert> out;
    out.reserve(alerts.size());
    const std::string generator = url + TableLinkForExpression(expr);
    for (const Alert& a : alerts) {
      NotifierAlert n;
      n.labels = a.labels;
      n.annotations = a.annotations;
      n.starts_at = a.fired_at;
      n.ends_at = a.resolved_at != kNoTime ? a.resolved_at : a.valid_until;
      n.generator_url = generator;
      out.push_back(std::move(n));
    }
    if (!out.empty()) notifier->Send(std::move(out));
  };
}

}  // namespace hearth::rules
