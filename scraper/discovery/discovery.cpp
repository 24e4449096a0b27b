#include "scraper/discovery/discovery.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/target_groups.h"
#include "model/clock.h"
#include "model/strutil.h"

namespace hearth {

std::string JoinHostPort(std::string_view host, int port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

// Defined in dns_sd.cpp.
std::unique_ptr<Discoverer> NewDnsDiscovererImpl(DnsSdConfig cfg, Logger logger);

namespace {

// ---- static_configs ----

class StaticDiscoverer final : public Discoverer {
 public:
  explicit StaticDiscoverer(std::vector<TargetGroup> groups) : groups_(std::move(groups)) {}
  std::string_view kind() const override { return "static"; }
  Result<std::vector<TargetGroup>> Refresh() override { return groups_; }
  int64_t NextRefreshDelayMs() const override { return 0; }
  bool Periodic() const override { return false; }

 private:
  std::vector<TargetGroup> groups_;
};

// ---- file_sd_configs ----

class FileDiscoverer final : public Discoverer {
 public:
  FileDiscoverer(FileSdConfig cfg, FileSdOptions opts, Logger logger)
      : cfg_(std::move(cfg)), opts_(opts), logger_(logger.With({{"discovery", "file"}})) {}

  std::string_view kind() const override { return "file"; }

  int64_t NextRefreshDelayMs() const override {
    return std::max<int64_t>(1, std::min(opts_.watch_interval_ms, cfg_.refresh_interval_ms));
  }

  Result<std::vector<TargetGroup>> Refresh() override {
    const int64_t now = MonotonicNowNs();
    const bool full = last_full_ns_ == 0 ||
                      now - last_full_ns_ >= cfg_.refresh_interval_ms * 1'000'000;
    if (full) last_full_ns_ = now;
    std::map<std::string, FileState> next;
    for (const std::string& path : ListFiles()) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;  // vanished since the glob
      FileState state;
      state.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      state.size = static_cast<uint64_t>(st.st_size);
      auto old = files_.find(path);
      if (!full && old != files_.end() && old->second.mtime_ns == state.mtime_ns &&
          old->second.size == state.size) {
        next[path] = old->second;
        continue;
      }
      auto groups = ReadFile(path);
      if (groups.ok()) {
        state.groups = std::move(groups).value();
      } else {
        // As Prometheus: log, keep what this file gave before, retry when it changes.
        logger_.Error("Error reading file", {{"path", path}, {"err", groups.status().message()}});
        if (old != files_.end()) state.groups = old->second.groups;
      }
      next[path] = std::move(state);
    }
    files_ = std::move(next);
    std::vector<TargetGroup> out;
    for (const auto& [path, state] : files_) {
      out.insert(out.end(), state.groups.begin(), state.groups.end());
    }
    return out;
  }

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    uint64_t size = 0;
    std::vector<TargetGroup> groups;
  };

  std::vector<std::string> ListFiles() const {
    std::set<std::string> out;
    for (const std::string& pattern : cfg_.files) {
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) out.insert(g.gl_pathv[i]);
      }
      globfree(&g);
    }
    return {out.begin(), out.end()};
  }

  Result<std::vector<TargetGroup>> ReadFile(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Errorf(StatusCode::kIOError, "open {}: cannot read", path);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string ext = ToLowerAscii(path.substr(path.rfind('.') + 1));
    const auto format = ext == "json" ? TargetGroupFormat::kJson : TargetGroupFormat::kYaml;
    auto groups = ParseTargetGroups(ss.str(), format, path);
    if (!groups.ok()) return groups.status();
    for (size_t i = 0; i < groups->size(); ++i) {
      TargetGroup& g = (*groups)[i];
      g.source = fmt::format("{}:{}", path, i);
      LabelsBuilder lb(g.labels);
      lb.Set("__meta_filepath", path);
      g.labels = lb.Build();
    }
    return groups;
  }

  FileSdConfig cfg_;
  FileSdOptions opts_;
  Logger logger_;
  std::map<std::string, FileState> files_;
  int64_t last_full_ns_ = 0;
};

// http_sd_configs without an implementation: no targets, one error.
class MissingHttpDiscoverer final : public Discoverer {
 public:
  MissingHttpDiscoverer(std::string url, Logger logger) : url_(std::move(url)), logger_(logger) {}
  std::string_view kind() const override { return "http"; }
  Result<std::vector<TargetGroup>> Refresh() override {
    logger_.Error("http_sd_configs is not wired in this build", {{"url", url_}});
    return std::vector<TargetGroup>{};
  }
  int64_t NextRefreshDelayMs() const override { return 0; }
  bool Periodic() const override { return false; }

 private:
  std::string url_;
  Logger logger_;
};

}  // namespace

std::unique_ptr<Discoverer> NewStaticDiscoverer(std::vector<TargetGroup> groups) {
  return std::make_unique<StaticDiscoverer>(std::move(groups));
}

std::unique_ptr<Discoverer> NewFileDiscoverer(FileSdConfig cfg, FileSdOptions opts,
                                              Logger logger) {
  return std::make_unique<FileDiscoverer>(std::move(cfg), opts, logger);
}

std::unique_ptr<Discoverer> NewDnsDiscoverer(DnsSdConfig cfg, Logger logger) {
  return NewDnsDiscovererImpl(std::move(cfg), logger);
}

std::vector<std::unique_ptr<Discoverer>> NewDiscoverers(const ServiceDiscoveryConfigs& sd,
                                                        const DiscoveryOptions& opts,
                                                        Logger logger) {
  std::vector<std::unique_ptr<Discoverer>> out;
  if (!sd.static_configs.empty()) out.push_back(NewStaticDiscoverer(sd.static_configs));
  for (const FileSdConfig& f : sd.file_sd_configs) {
    out.push_back(NewFileDiscoverer(f, opts.file_sd, logger));
  }
  for (const DnsSdConfig& d : sd.dns_sd_configs) out.push_back(NewDnsDiscoverer(d, logger));
  for (const HttpSdConfig& h : sd.http_sd_configs) {
    if (opts.http_sd) {
      out.push_back(opts.http_sd(h));
    } else {
      out.push_back(std::make_unique<MissingHttpDiscoverer>(h.url, logger));
    }
  }
  return out;
}

// ---- Manager ----

struct DiscoveryManager::Provider {
  std::string set_name;
  std::unique_ptr<Discoverer> discoverer;
  std::vector<TargetGroup> groups;  // guarded by the manager's mu_
  std::mutex mu;                    // guards stop
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;

  void Stop() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }
};

struct DiscoveryManager::Set {
  ServiceDiscoveryConfigs cfg;
  std::vector<std::unique_ptr<Provider>> providers;
};

DiscoveryManager::DiscoveryManager(DiscoveryOptions opts, Logger logger, UpdateFn on_update)
    : opts_(std::move(opts)),
      logger_(logger.With({{"component", "discovery manager"}})),
      on_update_(std::move(on_update)) {}

DiscoveryManager::~DiscoveryManager() { Stop(); }

void DiscoveryManager::RunProvider(Provider* p) {
  while (true) {
    auto groups = p->discoverer->Refresh();
    if (groups.ok()) {
      bool changed;
      {
        std::lock_guard<std::mutex> lk(mu_);
        changed = p->groups != *groups;
        p->groups = std::move(groups).value();
      }
      if (changed) Publish(p->set_name);
    } else {
      logger_.Error("Discovery refresh failed",
                    {{"name", p->set_name},
                     {"discovery", std::string(p->discoverer->kind())},
                     {"err", groups.status().message()}});
    }
    if (!p->discoverer->Periodic()) return;
    std::unique_lock<std::mutex> lk(p->mu);
    if (p->cv.wait_for(lk, std::chrono::milliseconds(p->discoverer->NextRefreshDelayMs()),
                       [p] { return p->stop; })) {
      return;
    }
  }
}

void DiscoveryManager::Publish(const std::string& name) {
  std::lock_guard<std::mutex> cb(callback_mu_);
  std::vector<TargetGroup> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = sets_.find(name);
    if (it == sets_.end()) return;
    for (const auto& p : it->second->providers) {
      all.insert(all.end(), p->groups.begin(), p->groups.end());
    }
  }
  on_update_(name, all);
}

void DiscoveryManager::ApplyConfig(const std::map<std::string, ServiceDiscoveryConfigs>& sets) {
  std::vector<std::unique_ptr<Set>> retired;
  std::vector<std::string> removed;
  std::vector<std::string> started;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = sets_.begin(); it != sets_.end();) {
      auto want = sets.find(it->first);
      if (want != sets.end() && want->second == it->second->cfg) {
        ++it;
        continue;
      }
      if (want == sets.end()) removed.push_back(it->first);
      retired.push_back(std::move(it->second));
      it = sets_.erase(it);
    }
  }
  // Join retired providers outside mu_: they may be waiting for it in Publish.
  for (auto& s : retired) {
    for (auto& p : s->providers) p->Stop();
  }
  for (const std::string& name : removed) {
    std::lock_guard<std::mutex> cb(callback_mu_);
    on_update_(name, {});
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& [name, cfg] : sets) {
      if (sets_.count(name) != 0) continue;
      auto set = std::make_unique<Set>();
      set->cfg = cfg;
      for (auto& d : NewDiscoverers(cfg, opts_, logger_)) {
        auto p = std::make_unique<Provider>();
        p->set_name = name;
        p->discoverer = std::move(d);
        set->providers.push_back(std::move(p));
      }
      Set* raw = set.get();
      sets_[name] = std::move(set);
      if (raw->providers.empty()) {
        started.push_back(name);
        continue;
      }
      // The threads block on mu_ until this returns if they publish at once.
      for (auto& p : raw->providers) {
        Provider* pp = p.get();
        pp->thread = std::thread([this, pp] { RunProvider(pp); });
      }
    }
  }
  // A set with nothing to discover still gets one (empty) update so that its consumer knows it.
  for (const std::string& name : started) Publish(name);
}

std::map<std::string, std::vector<TargetGroup>> DiscoveryManager::Current() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::map<std::string, std::vector<TargetGroup>> out;
  for (const auto& [name, set] : sets_) {
    auto& groups = out[name];
    for (const auto& p : set->providers) {
      groups.insert(groups.end(), p->groups.begin(), p->groups.end());
    }
  }
  return out;
}

void DiscoveryManager::Stop() {
  std::map<std::string, std::unique_ptr<Set>> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    all.swap(sets_);
  }
  for (auto& [name, s] : all) {
    for (auto& p : s->providers) p->Stop();
  }
}

}  // namespace hearth
