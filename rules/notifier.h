#pragma once

// The Alertmanager notifier (Prometheus' notifier.Manager): alerts are relabeled (external
// labels added, alert_relabel_configs applied), put in a bounded queue, and sent in batches to
// every Alertmanager of every `alerting.alertmanagers` entry with Alertmanager's API v2:
//
//   POST <scheme>://<address><path_prefix>/api/v2/alerts
//   [{"annotations":{...},"endsAt":"2026-01-02T03:08:05.678Z","startsAt":"...",
//     "generatorURL":"http://hearth:9090/graph?g0.expr=...&g0.tab=1","labels":{...}}]
//
// Alertmanagers come from static_configs and file_sd_configs (files re-read when they change
// and every refresh_interval), after relabel_configs on their __address__, __scheme__ and
// __alerts_path__ labels. dns_sd_configs and http_sd_configs are not used yet (a warning is
// logged); proxy settings are ignored. A batch is delivered when at least one Alertmanager took it;
// otherwise its alerts are counted as dropped, as are alerts pushed out of a full queue.
//
// Thread-safety: every public method may be called from any thread. One sender thread and one
// discovery thread run between Start and Stop.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "model/clock.h"
#include "model/log.h"
#include "model/metrics.h"
#include "rules/rule.h"

namespace hearth::rules {

// An alert as sent to Alertmanager (Prometheus' notifier.Alert).
struct NotifierAlert {
  Labels labels;
  Annotations annotations;
  int64_t starts_at = kNoTime;  // kNoTime is sent as Go's zero time
  int64_t ends_at = kNoTime;
  std::string generator_url;
};

struct NotifierOptions {
  size_t queue_capacity = 10'000;  // --alertmanager.notification-queue-capacity
  size_t max_batch_size = 256;     // Prometheus' maxBatchSize
  bool drain_on_shutdown = true;   // --alertmanager.drain-notification-queue-on-shutdown
  std::string user_agent = "Hearth";  // Prometheus sends "Prometheus/<version>"
  const Clock* clock = nullptr;    // required
  Logger logger = Logger::Discard();
  metrics::Registry* registry = nullptr;  // prometheus_notifications_*; may be null
  int64_t file_sd_poll_ms = 5'000;  // how often file_sd files are checked for changes
};

// The JSON body of one POST: Alertmanager API v2 PostableAlerts, keys in Go's order, times as
// RFC 3339 with milliseconds.
std::string EncodeAlertsV2(const std::vector<NotifierAlert>& alerts);

class Notifier {
 public:
  explicit Notifier(NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Takes external labels, alert_relabel_configs and the Alertmanager sets from `config`.
  // Fails (changing nothing) when TLS material or an address is invalid.
  Status ApplyConfig(const Config& config);

  // Queues alerts after adding external labels (where absent) and applying
  // alert_relabel_configs; alerts relabeled away are dropped silently. When the queue would
  // overflow, the oldest alerts are dropped and counted.
  void Send(std::vector<NotifierAlert> alerts);

  void Start();
  // Stops the threads; with drain_on_shutdown, sends what is queued first (one attempt each).
  void Stop();

  // URLs of the Alertmanagers alerts go to, and of those dropped by relabeling
  // (/api/v1/alertmanagers).
  std::vector<std::string> ActiveAlertmanagers() const;
  std::vector<std::string> DroppedAlertmanagers() const;
  size_t QueueLength() const;

  // Sends one batch from the queue now, on the caller's thread; false when the queue is empty.
  // For tests and shutdown.
  bool SendOneBatch();

  struct AmSet;

 private:
  void SenderLoop();
  void DiscoveryLoop();
  // Re-reads file_sd files that changed (all when `force`) and rebuilds the Alertmanager lists.
  void RefreshDiscovery(bool force);
  // Sends to every Alertmanager; true when at least one accepted the batch.
  bool SendAll(const std::vector<NotifierAlert>& alerts);

  const NotifierOptions options_;
  metrics::Counter* dropped_ = nullptr;
  metrics::Family<metrics::Counter>* errors_ = nullptr;
  metrics::Family<metrics::Counter>* sent_ = nullptr;
  metrics::Gauge* queue_length_ = nullptr;
  metrics::Gauge* discovered_ = nullptr;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::deque<NotifierAlert> queue_;
  std::vector<std::shared_ptr<AmSet>> sets_;
  Labels external_labels_;
  std::vector<RelabelConfig> relabel_configs_;
  bool stop_ = false;
  bool started_ = false;
  std::thread sender_;
  std::thread discovery_;
  std::mutex send_mu_;  // one batch in flight at a time
};

// The rules' NotifyFunc for a notifier (Prometheus' sendAlerts in main): startsAt is when the
// alert fired, endsAt its resolution time or, while firing, its validity; generatorURL is
// <external_url>/graph?g0.expr=<expr>&g0.tab=1. `notifier` must outlive the returned function.
NotifyFunc SendAlertsTo(Notifier* notifier, std::string external_url);

}  // namespace hearth::rules
