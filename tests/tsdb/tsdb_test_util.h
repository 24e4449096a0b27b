#pragma once

// Helpers shared by the tsdb tests: temporary directories, reading whole selects back.

#include <unistd.h>

#include <atomic>
#include <bit>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "model/labels.h"
#include "model/matcher.h"
#include "model/sample.h"
#include "tsdb/storage/storage.h"

namespace hearth::tsdb::testing {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("hearth_tsdb_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter.fetch_add(1)) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& p) const { return (path_ / p).string(); }

 private:
  std::filesystem::path path_;
};

using SeriesMap = std::map<Labels, std::vector<Sample>>;

inline Matcher M(MatchType t, std::string name, std::string value) {
  auto m = Matcher::Make(t, std::move(name), std::move(value));
  REQUIRE(m.ok());
  return *m;
}
inline Matcher Eq(std::string n, std::string v) { return M(MatchType::kEqual, n, v); }

// Every series and sample a select returns, checking order and iterator status on the way.
inline SeriesMap ReadAll(storage::Queryable& q, int64_t mint, int64_t maxt,
                         std::vector<Matcher> matchers, bool sorted = true) {
  auto querier = q.NewQuerier(mint, maxt);
  REQUIRE(querier.ok());
  auto set = (*querier)->Select(sorted, storage::SelectHints{}, matchers);
  SeriesMap out;
  const Labels* prev = nullptr;
  Labels prev_copy;
  while (set->Next()) {
    const storage::Series& s = set->At();
    if (sorted && prev != nullptr) REQUIRE(prev_copy < s.labels());
    prev_copy = s.labels();
    prev = &prev_copy;
    auto it = s.Iterator();
    std::vector<Sample> samples;
    while (it->Next()) {
      Sample x = it->At();
      if (!samples.empty()) REQUIRE(x.t > samples.back().t);
      samples.push_back(x);
    }
    REQUIRE(it->status().ok());
    REQUIRE(!out.count(s.labels()));
    out[s.labels()] = std::move(samples);
  }
  REQUIRE(set->status().ok());
  return out;
}

inline bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t || std::bit_cast<uint64_t>(a[i].v) != std::bit_cast<uint64_t>(b[i].v)) {
      return false;
    }
  }
  return true;
}

inline void RequireSameSeries(const SeriesMap& got, const SeriesMap& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [l, samples] : want) {
    INFO("series " << l.ToString());
    auto it = got.find(l);
    REQUIRE(it != got.end());
    REQUIRE(it->second.size() == samples.size());
    REQUIRE(SameSamples(it->second, samples));
  }
}

}  // namespace hearth::tsdb::testing
