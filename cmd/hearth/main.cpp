// hearth: the server. This is the composition root: the only place that sees every concrete
// type. It parses flags, opens storage, starts the web server, and handles signals:
// SIGTERM/SIGINT shut down cleanly, SIGHUP reloads the configuration.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cmd/common/build_info.h"
#include "cmd/common/db_import_sink.h"
#include "cmd/common/default_config.h"
#include "cmd/common/flags.h"
#include "config/load.h"
#include "model/clock.h"
#include "model/log.h"
#include "model/metrics.h"
#include "query/engine.h"
#include "rules/engine_query.h"
#include "rules/manager.h"
#include "rules/notifier.h"
#include "scraper/manager.h"
#include "tsdb/tsdb.h"
#include "web/api.h"
#include "web/query_engine.h"
#include "web/rule_sources.h"
#include "web/scrape_targets.h"
#include "web/web.h"

namespace hearth {
namespace {

using cli::FlagSet;
using cli::FlagType;

void DefineFlags(FlagSet& f) {
  auto add = [&](std::string name, FlagType type, std::string def, std::string help,
                 std::string placeholder = "", bool repeatable = false) {
    f.Add({std::move(name), type, std::move(def), std::move(help), repeatable,
           std::move(placeholder)});
  };
  using T = FlagType;
  add("version", T::kBool, "false", "Show application version.");
  add("config.file", T::kString, "prometheus.yml", "Hearth configuration file path.",
      "<path>");
  add("config.auto-reload-interval", T::kDuration, "30s",
      "Specifies the interval for checking and automatically reloading the configuration file.",
      "<duration>");
  add("web.listen-address", T::kString, "0.0.0.0:9090",
      "Address to listen on for UI, API, and telemetry.", "<address>");
  add("web.config.file", T::kString, "",
      "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.",
      "<path>");
  add("web.read-timeout", T::kDuration, "5m",
      "Maximum duration before timing out read of the request, and closing idle connections.",
      "<duration>");
  add("web.max-connections", T::kInt, "512", "Maximum number of simultaneous connections.",
      "<int>");
  add("web.external-url", T::kString, "",
      "The URL under which Hearth is externally reachable (for example, if Hearth is served via "
      "a reverse proxy).",
      "<URL>");
  add("web.route-prefix", T::kString, "",
      "Prefix for the internal routes of web endpoints. Defaults to path of --web.external-url.",
      "<path>");
  add("web.enable-lifecycle", T::kBool, "false",
      "Enable shutdown and reload via HTTP request.");
  add("web.enable-admin-api", T::kBool, "false",
      "Enable API endpoints for admin control actions.");
  add("web.enable-remote-write-receiver", T::kBool, "false",
      "Enable API endpoint accepting remote write requests.");
  add("web.page-title", T::kString, "Hearth Time Series Collection and Processing Server",
      "Document title of Hearth instance.", "<string>");
  add("web.cors.origin", T::kString, ".*",
      "Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\\.com'",
      "<origin>");
  add("storage.tsdb.path", T::kString, "data/", "Base path for metrics storage.", "<path>");
  add("storage.tsdb.retention.time", T::kDuration, "",
      "How long to retain samples in storage. If neither this flag nor "
      "\"storage.tsdb.retention.size\" is set, the retention time defaults to 15d.",
      "<duration>");
  add("storage.tsdb.retention.size", T::kBytes, "",
      "Maximum number of bytes that can be stored for blocks. Units supported: B, KB, MB, GB, "
      "TB, PB, EB.",
      "<size>");
  add("storage.tsdb.no-lockfile", T::kBool, "false",
      "Do not create lockfile in data directory.");
  add("storage.remote.flush-deadline", T::kDuration, "1m",
      "How long to wait flushing sample on shutdown or config reload.", "<duration>");
  add("rules.alert.for-outage-tolerance", T::kDuration, "1h",
      "Max time to tolerate Hearth outage for restoring \"for\" state of alert.", "<duration>");
  add("rules.alert.for-grace-period", T::kDuration, "10m",
      "Minimum duration between alert and restored \"for\" state. This is maintained only for "
      "alerts with configured \"for\" time greater than grace period.",
      "<duration>");
  add("rules.alert.resend-delay", T::kDuration, "1m",
      "Minimum amount of time to wait before resending an alert to Alertmanager.",
      "<duration>");
  add("rules.max-concurrent-evals", T::kInt, "4",
      "Global concurrency limit for independent rules that can run concurrently.", "<int>");
  add("alertmanager.notification-queue-capacity", T::kInt, "10000",
      "The capacity of the queue for pending Alertmanager notifications.", "<int>");
  add("alertmanager.notification-batch-size", T::kInt, "256",
      "The maximum number of notifications per batch to send to the Alertmanager.", "<int>");
  add("query.lookback-delta", T::kDuration, "5m",
      "The maximum lookback duration for retrieving metrics during expression evaluations and "
      "federation.",
      "<duration>");
  add("query.timeout", T::kDuration, "2m",
      "Maximum time a query may take before being aborted.", "<duration>");
  add("query.max-concurrency", T::kInt, "20",
      "Maximum number of queries executed concurrently.", "<int>");
  add("query.max-samples", T::kInt, "50000000",
      "Maximum number of samples a single query can load into memory. Note that queries will "
      "fail if they try to load more samples than this into memory, so this also limits the "
      "number of samples a query can return.",
      "<int>");
  add("scrape.timestamp-tolerance", T::kDuration, "2ms",
      "Timestamp tolerance. See https://github.com/prometheus/prometheus/issues/7846.",
      "<duration>");
  add("enable-feature", T::kString, "",
      "Comma separated feature names to enable. Hearth accepts and ignores Prometheus' names.",
      "<name>", true);
  add("log.level", T::kString, "info",
      "Only log messages with the given severity or above. One of: [debug, info, warn, error]",
      "<level>");
  add("log.format", T::kString, "logfmt",
      "Output format of log messages. One of: [logfmt, json]", "<format>");
}

// Which configuration to run: the file given, ./prometheus.yml, or the embedded default.
struct ConfigSource {
  std::string path;  // "" for the embedded default
};

ConfigSource ResolveConfigSource(const FlagSet& flags) {
  std::string path = flags.GetString("config.file");
  std::error_code ec;
  if (!flags.IsSet("config.file") && !std::filesystem::exists(path, ec)) return ConfigSource{""};
  return ConfigSource{path};
}

Result<Config> LoadConfig(const ConfigSource& src) {
  if (src.path.empty()) return LoadConfigString(kDefaultConfigYaml, "<embedded default>", "");
  std::error_code ec;
  if (!std::filesystem::exists(src.path, ec)) {
    return Errorf(StatusCode::kNotFound, "open {}: no such file or directory", src.path);
  }
  return LoadConfigFile(src.path);
}

// The services that follow the configuration, and the reload that updates them together.
// Thread-safety: Apply is serialized by mu_ (SIGHUP and /-/reload may race).
class Reloader {
 public:
  Reloader(ConfigSource src, scraper::ScrapeManager& scrapes, rules::Notifier& notifier,
           rules::Manager& rules, metrics::Registry& registry, const Clock& clock, Logger logger)
      : src_(std::move(src)), scrapes_(scrapes), notifier_(notifier), rules_(rules),
        clock_(clock),
        logger_(std::move(logger)),
        success_(registry.NewGauge("prometheus_config_last_reload_successful",
                                   "Whether the last configuration reload attempt was successful.")),
        success_time_(registry.NewGauge(
            "prometheus_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.")) {}

  // Loads the configuration and applies it. On a load error the running configuration stays.
  Status Reload() {
    std::lock_guard lock(mu_);
    logger_.Info("Loading configuration file",
                 {{"filename", src_.path.empty() ? std::string("<embedded default>") : src_.path}});
    auto cfg = LoadConfig(src_);
    if (!cfg.ok()) {
      success_.Set(0);
      last_success_ = false;
      Status st = cfg.status().WithPrefix(
          fmt::format("couldn't load configuration (--config.file={})", src_.path));
      logger_.Error("Error reloading config", {{"err", st.message()}});
      return st;
    }
    // Every service takes its part; as in Prometheus, one failing does not stop the others,
    // and the reload as a whole fails. The scrape manager runs each job's service discovery
    // (static, file, DNS, HTTP) itself.
    std::vector<std::string> errors;
    auto apply = [&](std::string_view what, Status st) {
      if (!st.ok()) errors.push_back(fmt::format("{}: {}", what, st.message()));
    };
    apply("notifier", notifier_.ApplyConfig(*cfg));
    apply("scrape", scrapes_.ApplyConfig(*cfg));
    apply("rules", rules_.ApplyConfig(*cfg));
    current_ = std::make_shared<const Config>(std::move(cfg).value());
    last_success_ = errors.empty();
    if (!errors.empty()) {
      success_.Set(0);
      Status st = Errorf(StatusCode::kInvalidArgument, "one or more errors occurred while "
                         "applying the new configuration (--config.file={}): {}",
                         src_.path, fmt::join(errors, "; "));
      logger_.Error("Error applying config", {{"err", st.message()}});
      return st;
    }
    success_.Set(1);
    last_success_ms_ = clock_.NowMs();
    success_time_.Set(static_cast<double>(last_success_ms_) / 1000.0);
    logger_.Info("Completed loading of configuration file");
    return Status::Ok();
  }

  std::shared_ptr<const Config> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  web::RuntimeStatus Runtime() const {
    std::lock_guard lock(mu_);
    web::RuntimeStatus st;
    st.reload_config_success = last_success_;
    st.last_config_time_ms = last_success_ms_ / 1000 * 1000;
    return st;
  }

 private:
  ConfigSource src_;
  scraper::ScrapeManager& scrapes_;
  rules::Notifier& notifier_;
  rules::Manager& rules_;
  const Clock& clock_;
  Logger logger_;
  metrics::Gauge& success_;
  metrics::Gauge& success_time_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> current_;
  bool last_success_ = false;
  int64_t last_success_ms_ = 0;
};

int Run(int argc, char** argv) {
  FlagSet flags("hearth");
  DefineFlags(flags);
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "-h" || a == "--help" || a == "--help-long") {
      std::fputs(flags.Usage("The Hearth monitoring server: a Prometheus-compatible time-series "
                             "database and scraper.")
                     .c_str(),
                 stdout);
      return 0;
    }
  }
  if (Status st = flags.Parse(args); !st.ok()) {
    std::fprintf(stderr, "hearth: error: %s, try --help\n", st.message().c_str());
    return 2;
  }
  if (!flags.positional().empty()) {
    std::fprintf(stderr, "hearth: error: unexpected %s, try --help\n",
                 flags.positional().front().c_str());
    return 2;
  }
  if (flags.GetBool("version")) {
    std::printf("hearth, version %s (branch: %s, revision: %s)\n  build date:       %s\n"
                "  prometheus compatibility: %s\n",
                kVersion, kBranch, kRevision, kBuildDate, kCompatVersion);
    return 0;
  }
  auto level = ParseLogLevel(flags.GetString("log.level"));
  auto format = ParseLogFormat(flags.GetString("log.format"));
  if (!level.ok() || !format.ok()) {
    std::fprintf(stderr, "hearth: error: %s, try --help\n",
                 (!level.ok() ? level.status() : format.status()).message().c_str());
    return 2;
  }
  Logger logger(*level, *format);

  const ConfigSource config_source = ResolveConfigSource(flags);
  // The first load decides whether we start at all (Prometheus exits on a bad config).
  if (auto first = LoadConfig(config_source); !first.ok()) {
    logger.Error(fmt::format("Error loading config (--config.file={})", config_source.path),
                 {{"err", first.status().message()}});
    return 1;
  }
  logger.Info("Starting Hearth Server",
              {{"version", fmt::format("(version={}, branch={}, revision={})", kVersion, kBranch,
                                       kRevision)}});

  // Block the signals we handle in every thread; one thread waits for them with sigwait.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  registry.NewInfo("hearth_build_info",
                   "A metric with a constant '1' value labeled by version, revision, branch, "
                   "and the Prometheus version Hearth is compatible with.",
                   Labels{{"version", kVersion},
                          {"revision", kRevision},
                          {"branch", kBranch},
                          {"compat_version", kCompatVersion}});

  RealClock clock;

  // Storage. Retention: when neither flag is given, time defaults to 15d (Prometheus).
  tsdb::Options topts(flags.GetString("storage.tsdb.path"), clock, registry,
                      logger.With({{"component", "tsdb"}}));
  const bool time_set = flags.IsSet("storage.tsdb.retention.time");
  const bool size_set = flags.IsSet("storage.tsdb.retention.size");
  topts.retention_time_ms = time_set || !size_set
                                ? (time_set ? flags.GetDurationMs("storage.tsdb.retention.time")
                                            : 15 * kMillisPerDay)
                                : 0;
  topts.retention_size_bytes = static_cast<uint64_t>(flags.GetBytes("storage.tsdb.retention.size"));
  // The external URL decides the route prefix and the links in alerts and the API.
  auto external = web::ResolveExternalUrl(flags.GetString("web.external-url"),
                                          flags.GetString("web.route-prefix"),
                                          flags.GetString("web.listen-address"));
  if (!external.ok()) {
    logger.Error("parse external URL", {{"err", external.status().message()}});
    return 2;
  }
  auto opened = tsdb::OpenDB(topts);
  if (!opened.ok()) {
    logger.Error("Opening storage failed", {{"err", opened.status().message()}});
    return 1;
  }
  std::unique_ptr<tsdb::DB> db = std::move(opened).value();
  logger.Info("TSDB started", {{"path", topts.dir}});

  promql::EngineOptions eo;
  eo.lookback_delta_ms = flags.GetDurationMs("query.lookback-delta");
  eo.timeout_ms = flags.GetDurationMs("query.timeout");
  eo.max_samples = flags.GetInt("query.max-samples");
  eo.max_concurrency = static_cast<int>(flags.GetInt("query.max-concurrency"));
  eo.registry = &registry;
  eo.logger = logger.With({{"component", "query engine"}});
  promql::Engine engine(eo);

  scraper::ScrapeManagerOptions so;
  so.clock = &clock;
  so.registry = &registry;
  so.logger = logger.With({{"component", "scrape manager"}});
  scraper::ScrapeManager scrapes(*db, so);

  rules::NotifierOptions no;
  no.queue_capacity = static_cast<size_t>(flags.GetInt("alertmanager.notification-queue-capacity"));
  no.max_batch_size = static_cast<size_t>(flags.GetInt("alertmanager.notification-batch-size"));
  no.user_agent = fmt::format("Hearth/{}", kVersion);
  no.clock = &clock;
  no.logger = logger.With({{"component", "notifier"}});
  no.registry = &registry;
  rules::Notifier notifier(no);

  rules::ManagerOptions ro;
  ro.appendable = db.get();
  ro.queryable = db.get();
  ro.query = rules::EngineQueryFunc(engine, *db);
  ro.notify = rules::SendAlertsTo(&notifier, external->url);
  ro.clock = &clock;
  ro.logger = logger.With({{"component", "rule manager"}});
  ro.registry = &registry;
  ro.parse_expr = rules::PromQLExprParser();
  ro.external_url = external->url;
  ro.resend_delay_ms = flags.GetDurationMs("rules.alert.resend-delay");
  ro.outage_tolerance_ms = flags.GetDurationMs("rules.alert.for-outage-tolerance");
  ro.for_grace_period_ms = flags.GetDurationMs("rules.alert.for-grace-period");
  rules::Manager rule_manager(std::move(ro));

  Reloader reloader(config_source, scrapes, notifier, rule_manager, registry, clock, logger);

  // The API v1 reads every service through the small interfaces of web/api_sources.h.
  auto query_engine = web::NewQueryEngine(engine);
  auto target_source = web::NewScrapeTargetRetriever(scrapes, external->url);
  auto rules_source = web::NewRulesRetriever(rule_manager);
  auto alertmanager_source = web::NewAlertmanagerRetriever(notifier);
  web::ApiOptions ao;
  ao.enable_admin_api = flags.GetBool("web.enable-admin-api");
  ao.cors_origin = flags.GetString("web.cors.origin");
  ao.lookback_delta_ms = eo.lookback_delta_ms;
  ao.build_info = {kCompatVersion, kRevision, kBranch, "hearth", kBuildDate,
                   std::string("g++ ") + __VERSION__};
  ao.start_time_ms = clock.NowMs();
  web::ApiSources sources;
  sources.targets = target_source.get();
  sources.rules = rules_source.get();
  sources.alertmanagers = alertmanager_source.get();
  sources.flags = flags.Values();
  sources.config_yaml = [&reloader] {
    auto cfg = reloader.current();
    return cfg == nullptr ? std::string() : cfg->original_yaml;
  };
  sources.external_labels = [&reloader] {
    auto cfg = reloader.current();
    return cfg == nullptr ? Labels() : cfg->global.external_labels;
  };
  // /status/runtimeinfo's storageRetention, as Prometheus words it: "15d", "10GB", "15d or 10GB".
  std::string retention = time_set || !size_set
                              ? (time_set ? flags.GetString("storage.tsdb.retention.time")
                                          : std::string("15d"))
                              : std::string();
  if (size_set) {
    const std::string size = flags.GetString("storage.tsdb.retention.size");
    retention = retention.empty() ? size : retention + " or " + size;
  }
  sources.runtime_status = [&reloader, retention] {
    web::RuntimeStatus st = reloader.Runtime();
    st.storage_retention = retention;
    return st;
  };
  sources.new_import_sink = [&db] { return DbImportSink::Make(*db); };
  auto api = web::Api::Make(ao, *db, *query_engine, std::move(sources), clock,
                            logger.With({{"component", "api"}}));
  if (!api.ok()) {
    logger.Error(api.status().message());
    return 2;
  }

  web::WebOptions wo;
  wo.listen_address = flags.GetString("web.listen-address");
  wo.enable_lifecycle = flags.GetBool("web.enable-lifecycle");
  wo.enable_admin_api = flags.GetBool("web.enable-admin-api");
  wo.route_prefix = external->route_prefix;
  wo.max_connections = static_cast<size_t>(flags.GetInt("web.max-connections"));
  wo.read_timeout_ms = flags.GetDurationMs("web.read-timeout");
  web::WebServer web(wo, registry, logger.With({{"component", "web"}}));
  (*api)->Register(web);
  web.SetQuitHandler([] { kill(getpid(), SIGTERM); });
  web.SetReloadHandler([&reloader] { return reloader.Reload(); });

  // Stops what runs, in Prometheus' order: no new requests, no new rule evaluations, scrapes
  // end with staleness markers, queued alerts are sent, then storage closes.
  auto shutdown = [&] {
    web.SetReady(false);
    web.Stop();
    rule_manager.Stop();
    scrapes.Stop();
    notifier.Stop();
    if (Status st = db->Close(); !st.ok()) {
      logger.Error("Closing storage failed", {{"err", st.message()}});
    }
  };
  if (Status st = web.Start(); !st.ok()) {
    logger.Error("Unable to start web listener", {{"err", st.message()}});
    shutdown();
    return 1;
  }
  logger.Info("Listening on", {{"address", wo.listen_address}});
  if (Status st = reloader.Reload(); !st.ok()) {
    shutdown();
    return 1;
  }
  notifier.Start();
  rule_manager.Start();
  web.SetReady(true);
  logger.Info("Server is ready to receive web requests.");

  while (true) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)reloader.Reload();  // errors are logged and counted; the old config keeps running
      continue;
    }
    logger.Warn("Received an OS signal, exiting gracefully...",
                {{"signal", sig == SIGINT ? "interrupt" : "terminated"}});
    break;
  }
  shutdown();
  logger.Info("See you next time!");
  return 0;
}

}  // namespace
}  // namespace hearth

int main(int argc, char** argv) { return hearth::Run(argc, argv); }
