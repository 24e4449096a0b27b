#pragma once

// Reading back what the scraper stored, through the Querier.

#include <map>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/matcher.h"
#include "tsdb/storage/storage.h"

namespace hearth::scraper::testing {

// Every series matching `name` (a __name__ regex when it contains '|' or '.'), with samples.
inline std::map<std::string, std::vector<Sample>> Read(storage::Queryable& q,
                                                       const std::string& name_regex = ".+") {
  std::map<std::string, std::vector<Sample>> out;
  auto querier = q.NewQuerier(kMinTime, kMaxTime);
  if (!querier.ok()) return out;
  std::vector<Matcher> ms{Matcher::Make(MatchType::kRegexMatch, "__name__", name_regex).value()};
  auto set = (*querier)->Select(true, {}, ms);
  while (set->Next()) {
    const auto& s = set->At();
    auto it = s.Iterator();
    auto& v = out[s.labels().ToString()];
    while (it->Next()) v.push_back(it->At());
  }
  return out;
}

// The last sample of the series printed as `labels` (ToString()), or nullopt.
inline std::optional<Sample> Last(storage::Queryable& q, const std::string& labels) {
  auto all = Read(q);
  auto it = all.find(labels);
  if (it == all.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

}  // namespace hearth::scraper::testing
