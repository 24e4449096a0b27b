// hearth: the server. This is the composition root: the only place that sees every concrete
// type. It parses flags, opens storage, starts the web server, and handles signals:
// SIGTERM/SIGINT shut down cleanly, SIGHUP reloads the configuration.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cmd/common/build_info.h"
#include "cmd/common/default_config.h"
#include "cmd/common/flags.h"
#include "model/log.h"
#include "model/metrics.h"
#include "query/engine.h"
#include "tsdb/tsdb.h"
#include "web/api.h"
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
  std::string yaml;
};

Result<ConfigSource> ResolveConfig(const FlagSet& flags) {
  std::string path = flags.GetString("config.file");
  bool given = flags.IsSet("config.file");
  std::error_code ec;
  if (!given && !std::filesystem::exists(path, ec)) {
    return ConfigSource{"", kDefaultConfigYaml};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Errorf(StatusCode::kNotFound, "Error loading config (--config.file={}): open {}: {}",
                  path, path, std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ConfigSource{path, ss.str()};
}

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

  auto config = ResolveConfig(flags);
  if (!config.ok()) {
    logger.Error(config.status().message());
    return 1;
  }
  logger.Info("Starting Hearth Server",
              {{"version", fmt::format("(version={}, branch={}, revision={})", kVersion, kBranch,
                                       kRevision)}});
  logger.Info("Loading configuration file",
              {{"filename", config->path.empty() ? std::string("<embedded default>")
                                                 : config->path}});

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

  web::WebOptions wo;
  wo.listen_address = flags.GetString("web.listen-address");
  wo.enable_lifecycle = flags.GetBool("web.enable-lifecycle");
  wo.enable_admin_api = flags.GetBool("web.enable-admin-api");
  wo.route_prefix = flags.GetString("web.route-prefix");
  wo.max_connections = static_cast<size_t>(flags.GetInt("web.max-connections"));
  wo.read_timeout_ms = flags.GetDurationMs("web.read-timeout");

  // ---- API v1 (issue 6). Opens the TSDB and the PromQL engine for it: when the composition
  // root opens them itself, keep only the ApiOptions/ApiSources/Api part and pass its storage
  // and engine in. `api->Register(web)` below is the only other line.
  auto external = web::ResolveExternalUrl(flags.GetString("web.external-url"),
                                          flags.GetString("web.route-prefix"), wo.listen_address);
  if (!external.ok()) {
    logger.Error("parse external URL", {{"err", external.status().message()}});
    return 2;
  }
  wo.route_prefix = external->route_prefix;
  RealClock clock;
  tsdb::Options topts(flags.GetString("storage.tsdb.path"), clock, registry,
                      logger.With({{"component", "tsdb"}}));
  int64_t retention_ms = flags.GetDurationMs("storage.tsdb.retention.time");
  int64_t retention_bytes = flags.GetBytes("storage.tsdb.retention.size");
  topts.retention_time_ms = retention_ms > 0 || retention_bytes > 0 ? retention_ms
                                                                     : 15 * kMillisPerDay;
  topts.retention_size_bytes = static_cast<uint64_t>(retention_bytes);
  auto db = tsdb::OpenDB(topts);
  if (!db.ok()) {
    logger.Error("Opening storage failed", {{"err", db.status().message()}});
    return 1;
  }
  promql::EngineOptions eo;
  eo.lookback_delta_ms = flags.GetDurationMs("query.lookback-delta");
  eo.timeout_ms = flags.GetDurationMs("query.timeout");
  eo.max_samples = flags.GetInt("query.max-samples");
  eo.max_concurrency = static_cast<int>(flags.GetInt("query.max-concurrency"));
  eo.registry = &registry;
  eo.logger = logger.With({{"component", "query engine"}});
  promql::Engine engine(eo);
  auto query_engine = web::NewQueryEngine(engine);
  web::ApiOptions ao;
  ao.enable_admin_api = flags.GetBool("web.enable-admin-api");
  ao.cors_origin = flags.GetString("web.cors.origin");
  ao.lookback_delta_ms = eo.lookback_delta_ms;
  ao.build_info = {kCompatVersion, kRevision, kBranch, "hearth", kBuildDate,
                   std::string("g++ ") + __VERSION__};
  ao.start_time_ms = clock.NowMs();
  web::ApiSources sources;
  sources.flags = flags.Values();
  sources.config_yaml = [yaml = config->yaml] { return yaml; };
  sources.runtime_status = [&flags, t = clock.NowMs()] {
    web::RuntimeStatus st;
    st.last_config_time_ms = t / 1000 * 1000;
    st.storage_retention = flags.IsSet("storage.tsdb.retention.time")
                               ? flags.GetString("storage.tsdb.retention.time")
                               : std::string("15d");
    return st;
  };
  class DbImportSink final : public web::ImportSink {
   public:
    explicit DbImportSink(std::unique_ptr<tsdb::Importer> imp) : imp_(std::move(imp)) {}
    Status Add(const Labels& l, int64_t t, double v) override { return imp_->Add(l, t, v); }
    Status SetMetadata(std::string_view m, const MetricMetadata& md) override {
      return imp_->SetMetadata(m, md);
    }
    Status Flush() override { return imp_->Flush(); }
    std::optional<uint64_t> Written() const override { return imp_->samples_written(); }

   private:
    std::unique_ptr<tsdb::Importer> imp_;
  };
  sources.new_import_sink = [&db]() -> Result<std::unique_ptr<web::ImportSink>> {
    HEARTH_ASSIGN_OR_RETURN(auto imp, (*db)->NewImporter(size_t{1} << 21));
    return std::unique_ptr<web::ImportSink>(std::make_unique<DbImportSink>(std::move(imp)));
  };
  auto api = web::Api::Make(ao, **db, *query_engine, std::move(sources), clock,
                            logger.With({{"component", "api"}}));
  if (!api.ok()) {
    logger.Error(api.status().message());
    return 2;
  }
  // ---- end of API v1 wiring.

  web::WebServer web(wo, registry, logger.With({{"component", "web"}}));
  (*api)->Register(web);
  web.SetQuitHandler([] { kill(getpid(), SIGTERM); });
  web.SetReloadHandler([&logger] {
    logger.Info("Reloading configuration requested over HTTP");
    return Status::Ok();
  });
  if (Status st = web.Start(); !st.ok()) {
    logger.Error("Unable to start web listener", {{"err", st.message()}});
    return 1;
  }
  logger.Info("Listening on", {{"address", wo.listen_address}});
  web.SetReady(true);
  logger.Info("Server is ready to receive web requests.");

  while (true) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      logger.Info("Reloading configuration file", {{"signal", "SIGHUP"}});
      continue;
    }
    logger.Warn("Received an OS signal, exiting gracefully...",
                {{"signal", sig == SIGINT ? "interrupt" : "terminated"}});
    break;
  }
  web.SetReady(false);
  web.Stop();
  if (Status st = (*db)->Close(); !st.ok()) {
    logger.Error("Error stopping storage", {{"err", st.message()}});
  }
  logger.Info("See you next time!");
  return 0;
}

}  // namespace
}  // namespace hearth

int main(int argc, char** argv) { return hearth::Run(argc, argv); }
