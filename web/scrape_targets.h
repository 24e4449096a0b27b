#pragma once

// The API's TargetRetriever over the scrape manager (scraper/manager.h).
//
// Thread-safety: as the scrape manager's read API: any thread.

#include <memory>
#include <string>

#include "scraper/manager.h"
#include "web/api_sources.h"

namespace hearth::web {

// `external_url` (--web.external-url, resolved) gives the host of targets' globalUrl: a target
// scraped on a loopback address is shown as reachable on the server's external host, as
// Prometheus does. `scrapes` must outlive the result.
std::unique_ptr<TargetRetriever> NewScrapeTargetRetriever(const scraper::ScrapeManager& scrapes,
                                                          std::string external_url);

// The globalUrl of a scrape URL: loopback hosts (127.0.0.1, localhost, [::1]) replaced with the
// host of `external_url`; other URLs unchanged.
std::string GlobalTargetUrl(const std::string& scrape_url, const std::string& external_url);

}  // namespace hearth::web
