#pragma once

// Service discovery: providers that produce target groups, and a manager that runs them per
// scrape job (or Alertmanager set) and reports every change.
//
// Implemented here: static_configs, file_sd_configs (globs, refresh_interval, and re-reading a
// file as soon as its modification time or size changes, by polling), dns_sd_configs (A, AAAA
// through the system resolver, so /etc/hosts counts; SRV, MX, NS through res_query).
// http_sd_configs is provided by the scraper's HTTP client through DiscoveryOptions::http_sd.
//
// Threads: each running provider has its own thread (DNS lookups block). The manager's
// callback runs on those threads, never two at once; it must not call back into the manager.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "model/log.h"
#include "model/status.h"

namespace hearth {

// One configured discovery (one entry of file_sd_configs, dns_sd_configs, ...).
class Discoverer {
 public:
  virtual ~Discoverer() = default;
  // The provider's name for logs and the API: "file", "dns", "static", "http".
  virtual std::string_view kind() const = 0;
  // Returns the complete current list of groups. On an error the manager keeps the previous
  // list. Called from one thread at a time.
  virtual Result<std::vector<TargetGroup>> Refresh() = 0;
  // How long to wait before the next Refresh(), in milliseconds.
  virtual int64_t NextRefreshDelayMs() const = 0;
  // Whether Refresh() needs calling again at all (static configs: no).
  virtual bool Periodic() const { return true; }
};

struct FileSdOptions {
  // How often file modification times are polled between full refreshes.
  int64_t watch_interval_ms = 1'000;
};

// static_configs: the groups as configured.
std::unique_ptr<Discoverer> NewStaticDiscoverer(std::vector<TargetGroup> groups);

// file_sd_configs. Each group gets source "<file>:<index>" and the label
// __meta_filepath="<file>". A file that fails to parse keeps its previous groups (as Prometheus).
std::unique_ptr<Discoverer> NewFileDiscoverer(FileSdConfig cfg, FileSdOptions opts, Logger logger);

// dns_sd_configs. One group per name (source = the name), each target with __address__
// ("host:port", IPv6 in brackets) and __meta_dns_name, plus __meta_dns_srv_record_target /
// __meta_dns_srv_record_port (SRV), __meta_dns_mx_record_target (MX),
// __meta_dns_ns_record_target (NS). A name whose lookup fails keeps its previous group; a name
// that does not exist gives an empty group.
std::unique_ptr<Discoverer> NewDnsDiscoverer(DnsSdConfig cfg, Logger logger);

// Builds the http_sd_configs provider (the scraper implements it with its HTTP client).
using HttpSdFactory = std::function<std::unique_ptr<Discoverer>(const HttpSdConfig&)>;

struct DiscoveryOptions {
  FileSdOptions file_sd;
  // When unset, http_sd_configs produce no targets and log one error per config.
  HttpSdFactory http_sd;
};

// All providers of one set of configs (e.g. one scrape job).
std::vector<std::unique_ptr<Discoverer>> NewDiscoverers(const ServiceDiscoveryConfigs& sd,
                                                        const DiscoveryOptions& opts,
                                                        Logger logger);

// Runs the providers of many named sets ("job" names) and calls `on_update(name, groups)` with
// the full current groups of that set whenever any of its providers reports a change.
class DiscoveryManager {
 public:
  using UpdateFn = std::function<void(const std::string& name, const std::vector<TargetGroup>&)>;

  DiscoveryManager(DiscoveryOptions opts, Logger logger, UpdateFn on_update);
  ~DiscoveryManager();  // stops every provider thread
  DiscoveryManager(const DiscoveryManager&) = delete;
  DiscoveryManager& operator=(const DiscoveryManager&) = delete;

  // Replaces the running configuration. Sets whose configs are unchanged keep their providers
  // (and their last groups); removed sets get one final on_update with no groups; new and
  // changed sets start fresh providers, each running its first Refresh() at once.
  void ApplyConfig(const std::map<std::string, ServiceDiscoveryConfigs>& sets);

  // The current groups of every set.
  std::map<std::string, std::vector<TargetGroup>> Current() const;

  // Stops all providers; no callback runs after it returns.
  void Stop();

 private:
  struct Provider;
  struct Set;
  void RunProvider(Provider* p);
  void Publish(const std::string& name);

  DiscoveryOptions opts_;
  Logger logger_;
  UpdateFn on_update_;
  mutable std::mutex mu_;            // guards sets_ and each provider's groups
  std::mutex callback_mu_;           // serializes on_update_
  std::map<std::string, std::unique_ptr<Set>> sets_;
};

// Helpers shared by the providers and their tests.
// Go's net.JoinHostPort: "[::1]:80" for IPv6 literals.
std::string JoinHostPort(std::string_view host, int port);

}  // namespace hearth
