#pragma once

// A rule manager over a MemStore with a ManualClock and a query function the test controls
// (the PromQL engine is not the unit under test here: the manager only sees a function that
// returns vectors).

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "rules/manager.h"
#include "tsdb/storage/memstore.h"

namespace hearth::rules::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("hearth-rules-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

struct SentBatch {
  std::string expr;
  std::vector<Alert> alerts;
};

struct Fixture {
  TempDir dir;
  storage::MemStore store;
  ManualClock clock{0};
  metrics::Registry registry;
  std::mutex mu;
  std::map<std::string, promql::Vector> results;  // by expression text
  std::map<std::string, std::string> errors;      // by expression text
  std::vector<SentBatch> sent;
  int64_t resend_delay_ms = 60'000;
  std::unique_ptr<Manager> manager;

  Fixture() { manager = MakeManager(); }

  std::unique_ptr<Manager> MakeManager() {
    ManagerOptions o;
    o.appendable = &store;
    o.queryable = &store;
    o.clock = &clock;
    o.registry = nullptr;
    o.external_url = "http://hearth.example:9090";
    o.resend_delay_ms = resend_delay_ms;
    o.query = [this](std::string_view q, int64_t t) -> Result<promql::Vector> {
      std::lock_guard lock(mu);
      if (auto e = errors.find(std::string(q)); e != errors.end()) {
        return Status(StatusCode::kExecution, e->second);
      }
      auto it = results.find(std::string(q));
      if (it == results.end()) return promql::Vector{};
      promql::Vector v = it->second;
      for (auto& s : v) s.t = t;
      return v;
    };
    o.notify = [this](std::string_view expr, const std::vector<Alert>& alerts) {
      std::lock_guard lock(mu);
      sent.push_back({std::string(expr), alerts});
    };
    return std::make_unique<Manager>(std::move(o));
  }

  void Set(const std::string& expr, promql::Vector v) {
    std::lock_guard lock(mu);
    results[expr] = std::move(v);
  }

  Status Load(const std::string& yaml, int64_t interval_ms = 15'000) {
    std::string path = dir.Write("rules.yml", yaml);
    return manager->Update(interval_ms, {path}, Labels{{"cluster", "eu1"}}, 0);
  }

  std::shared_ptr<Group> OnlyGroup() {
    auto gs = manager->Groups();
    REQUIRE(gs.size() == 1);
    return gs[0];
  }

  // Every sample of the series matching `name` (and optional extra equality matchers).
  std::map<Labels, std::vector<Sample>> Read(const std::string& name) {
    auto q = store.NewQuerier(kMinTime, kMaxTime);
    REQUIRE(q.ok());
    std::vector<Matcher> ms = {*Matcher::Make(MatchType::kEqual, "__name__", name)};
    auto set = (*q)->Select(true, storage::SelectHints{}, ms);
    std::map<Labels, std::vector<Sample>> out;
    while (set->Next()) {
      auto it = set->At().Iterator();
      auto& v = out[set->At().labels()];
      while (it->Next()) v.push_back(it->At());
    }
    return out;
  }
};

inline promql::VectorSample S(Labels l, double v) { return {std::move(l), 0, v}; }

}  // namespace hearth::rules::testing
