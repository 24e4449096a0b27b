// Test helper for the side-by-side e2e test: scrapes one target once with Hearth's scraper
// (the whole path: HTTP, parse, cache, relabel, append, commit) into a MemStore and prints
// each stored series as a JSON object of its labels, one per line.
//
//   scraper_scrape_once URL JOB
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "scraper/internal/http_client.h"
#include "scraper/manager.h"
#include "tsdb/storage/memstore.h"

int main(int argc, char** argv) {
  using namespace hearth;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s URL JOB\n", argv[0]);
    return 2;
  }
  auto url = scraper::ParseUrl(argv[1]);
  if (!url.ok()) {
    std::fprintf(stderr, "%s\n", url.status().message().c_str());
    return 2;
  }
  storage::MemStore store;
  scraper::ScrapeManagerOptions o;
  o.offset_scrapes = false;
  scraper::ScrapeManager mgr(store, o);
  Config cfg;
  ScrapeConfig job;
  job.job_name = argv[2];
  job.scrape_interval_ms = 3600'000;
  job.scrape_timeout_ms = 10'000;
  job.scheme = url->scheme;
  job.metrics_path = url->target;
  TargetGroup g;
  g.targets.push_back(Labels{{"__address__", url->HostHeader()}});
  job.service_discovery.static_configs.push_back(g);
  cfg.scrape_configs.push_back(job);
  if (auto st = mgr.ApplyConfig(cfg); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  for (int i = 0; i < 300; ++i) {
    auto t = mgr.ActiveTargets();
    if (!t.empty() && t[0].health != scraper::TargetHealth::kUnknown) {
      if (t[0].health == scraper::TargetHealth::kDown) {
        std::fprintf(stderr, "scrape failed: %s\n", t[0].last_error.c_str());
        return 1;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto q = store.NewQuerier(kMinTime, kMaxTime);
  std::vector<Matcher> ms{Matcher::Make(MatchType::kRegexMatch, "__name__", ".+").value()};
  auto set = (*q)->Select(true, {}, ms);
  while (set->Next()) {
    nlohmann::json j = nlohmann::json::object();
    for (const Label& l : set->At().labels()) j[std::string(l.name)] = std::string(l.value);
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}
