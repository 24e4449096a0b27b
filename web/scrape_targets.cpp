#include "web/scrape_targets.h"

namespace hearth::web {
namespace {

// The host part of "scheme://host:port/path" ("[::1]" kept with brackets), and where it is.
bool HostSpan(const std::string& url, size_t* begin, size_t* end) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  *begin = scheme + 3;
  size_t stop = url.find_first_of("/?#", *begin);
  if (stop == std::string::npos) stop = url.size();
  size_t at = url.rfind('@', stop);
  if (at != std::string::npos && at >= *begin) *begin = at + 1;
  if (*begin < url.size() && url[*begin] == '[') {
    size_t close = url.find(']', *begin);
    if (close == std::string::npos || close > stop) return false;
    *end = close + 1;
    return true;
  }
  size_t colon = url.find(':', *begin);
  *end = colon != std::string::npos && colon < stop ? colon : stop;
  return true;
}

class ScrapeTargets final : public TargetRetriever {
 public:
  ScrapeTargets(const scraper::ScrapeManager& s, std::string external_url)
      : scrapes_(s), external_url_(std::move(external_url)) {}

  std::vector<ActiveTarget> ActiveTargets() override {
    std::vector<ActiveTarget> out;
    for (const scraper::TargetState& t : scrapes_.ActiveTargets()) {
      ActiveTarget a;
      a.scrape_pool = t.scrape_pool;
      a.discovered_labels = t.discovered_labels;
      a.labels = t.labels;
      a.scrape_url = t.scrape_url;
      a.global_url = GlobalTargetUrl(t.scrape_url, external_url_);
      a.last_error = t.last_error;
      if (t.last_scrape_ms != 0) a.last_scrape_ms = t.last_scrape_ms;
      a.last_scrape_duration_s = t.last_scrape_duration_s;
      a.health = t.health == scraper::TargetHealth::kUp     ? TargetHealth::kUp
                 : t.health == scraper::TargetHealth::kDown ? TargetHealth::kDown
                                                            : TargetHealth::kUnknown;
      a.scrape_interval_ms = t.scrape_interval_ms;
      a.scrape_timeout_ms = t.scrape_timeout_ms;
      out.push_back(std::move(a));
    }
    return out;
  }

  std::vector<DroppedTarget> DroppedTargets() override {
    std::vector<DroppedTarget> out;
    for (const scraper::DroppedTarget& d : scrapes_.DroppedTargets()) {
      out.push_back({d.scrape_pool, d.discovered_labels});
    }
    return out;
  }

  std::map<std::string, size_t> DroppedTargetCounts() override {
    std::map<std::string, size_t> out;
    for (const std::string& pool : scrapes_.ScrapePools()) out[pool] = 0;
    for (const scraper::DroppedTarget& d : scrapes_.DroppedTargets()) ++out[d.scrape_pool];
    return out;
  }

  std::vector<std::string> ScrapePools() override { return scrapes_.ScrapePools(); }

  std::vector<TargetMetricMetadata> TargetsMetadata() override {
    std::vector<TargetMetricMetadata> out;
    for (const scraper::TargetMetadata& m : scrapes_.TargetsMetadata()) {
      out.push_back({m.target, m.metric, MetricMetadata{m.type, m.help, m.unit}});
    }
    return out;
  }

 private:
  const scraper::ScrapeManager& scrapes_;
  std::string external_url_;
};

}  // namespace

std::string GlobalTargetUrl(const std::string& scrape_url, const std::string& external_url) {
  size_t b = 0, e = 0, xb = 0, xe = 0;
  if (!HostSpan(scrape_url, &b, &e) || !HostSpan(external_url, &xb, &xe)) return scrape_url;
  std::string host = scrape_url.substr(b, e - b);
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") return scrape_url;
  return scrape_url.substr(0, b) + external_url.substr(xb, xe - xb) + scrape_url.substr(e);
}

std::unique_ptr<TargetRetriever> NewScrapeTargetRetriever(const scraper::ScrapeManager& scrapes,
                                                          std::string external_url) {
  return std::make_unique<ScrapeTargets>(scrapes, std::move(external_url));
}

}  // namespace hearth::web
