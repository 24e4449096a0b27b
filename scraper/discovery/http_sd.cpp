#include "scraper/discovery/http_sd.h"

#include <utility>  // before Boost.Asio (std::exchange in awaitable.hpp)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/format.h"
#include "model/strutil.h"
#include "scraper/internal/http_client.h"

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

namespace {

class HttpSdDiscoverer final : public Discoverer {
 public:
  HttpSdDiscoverer(HttpSdConfig cfg, Url url, std::shared_ptr<const ClientSettings> settings,
                   metrics::Counter* failures)
      : cfg_(std::move(cfg)), url_(std::move(url)), client_(io_.get_executor(), std::move(settings)),
        failures_(failures) {}

  std::string_view kind() const override { return "http"; }
  int64_t NextRefreshDelayMs() const override { return std::max<int64_t>(cfg_.refresh_interval_ms, 1); }

  Result<std::vector<TargetGroup>> Refresh() override {
    std::optional<Result<FetchResult>> got;
    FetchOptions o;
    o.accept = "application/json";
    o.timeout_ms = std::max<int64_t>(cfg_.refresh_interval_ms, 1000);
    o.headers.emplace_back("X-Prometheus-Refresh-Interval-Seconds",
                           FormatGoFloat(static_cast<double>(cfg_.refresh_interval_ms) / 1000, 'f'));
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> { got.emplace(co_await client_.Get(url_, o)); },
        [](std::exception_ptr) {});
    io_.restart();
    io_.run();
    Result<std::vector<TargetGroup>> out = Status(StatusCode::kInternal, "http_sd: no answer");
    if (!got) {
      // keep the error above
    } else if (!got->ok()) {
      out = got->status();
    } else if ((*got)->status != 200) {
      out = Status(StatusCode::kUnavailable,
                   fmt::format("server returned HTTP status {}", (*got)->status_text));
    } else {
      out = ParseHttpSdResponse((*got)->content_type, (*got)->body, cfg_.url);
    }
    if (!out.ok() && failures_) failures_->Inc();
    return out;
  }

 private:
  HttpSdConfig cfg_;
  Url url_;
  boost::asio::io_context io_;
  HttpClient client_;
  metrics::Counter* failures_;
};

}  // namespace

Result<std::unique_ptr<Discoverer>> NewHttpSdDiscoverer(const HttpSdConfig& cfg,
                                                        std::string user_agent,
                                                        metrics::Counter* failures) {
  HEARTH_ASSIGN_OR_RETURN(Url url, ParseUrl(cfg.url));
  HEARTH_ASSIGN_OR_RETURN(auto settings, ClientSettings::Make(cfg.http_client, std::move(user_agent)));
  return std::unique_ptr<Discoverer>(
      std::make_unique<HttpSdDiscoverer>(cfg, std::move(url), std::move(settings), failures));
}

}  // namespace hearth::scraper
