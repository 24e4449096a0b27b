#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "config/target_groups.h"
#include "scraper/discovery/discovery.h"
#include "tests/config/test_util.h"

using hearth::DiscoveryManager;
using hearth::DiscoveryOptions;
using hearth::DnsRecordType;
using hearth::DnsSdConfig;
using hearth::FileSdConfig;
using hearth::Labels;
using hearth::Logger;
using hearth::ParseTargetGroups;
using hearth::ServiceDiscoveryConfigs;
using hearth::TargetGroup;
using hearth::TargetGroupFormat;
using hearth::testing::TempDir;

namespace {

// Records the updates of a manager; Wait() polls with a deadline, never forever.
class Recorder {
 public:
  DiscoveryManager::UpdateFn Fn() {
    return [this](const std::string& name, const std::vector<TargetGroup>& groups) {
      std::lock_guard<std::mutex> lk(mu_);
      latest_[name] = groups;
      ++updates_[name];
      cv_.notify_all();
    };
  }
  // Waits up to 5 s for `pred(latest groups of name)`.
  template <typename Pred>
  bool Wait(const std::string& name, Pred pred) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(5), [&] {
      auto it = latest_.find(name);
      return it != latest_.end() && pred(it->second);
    });
  }
  int Updates(const std::string& name) {
    std::lock_guard<std::mutex> lk(mu_);
    return updates_[name];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<TargetGroup>> latest_;
  std::map<std::string, int> updates_;
};

std::vector<std::string> Addresses(const std::vector<TargetGroup>& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) {
    for (const auto& t : g.targets) out.emplace_back(t.Get("__address__"));
  }
  return out;
}

DiscoveryOptions FastOptions() {
  DiscoveryOptions o;
  o.file_sd.watch_interval_ms = 20;
  return o;
}

}  // namespace

TEST_CASE("target group documents parse from JSON and YAML", "[discovery]") {
  auto json = ParseTargetGroups(
      R"([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}, "extra": 1}, {"targets": []}])",
      TargetGroupFormat::kJson, "t.json");
  REQUIRE(json.ok());
  REQUIRE(json->size() == 2);
  CHECK(Addresses(*json) == std::vector<std::string>{"a:1", "b:2"});
  CHECK((*json)[0].labels.Get("env") == "prod");

  auto yaml = ParseTargetGroups("- targets: ['c:3']\n  labels: {team: x}\n",
                                TargetGroupFormat::kYaml, "t.yml");
  REQUIRE(yaml.ok());
  CHECK(Addresses(*yaml) == std::vector<std::string>{"c:3"});

  auto bad_json = ParseTargetGroups("[{\"targets\": [1]}]", TargetGroupFormat::kJson, "t.json");
  REQUIRE_FALSE(bad_json.ok());
  CHECK(bad_json.status().message() ==
        "t.json: json: cannot unmarshal number into Go struct field .targets of type string");
  auto syntax = ParseTargetGroups("[{", TargetGroupFormat::kJson, "t.json");
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(syntax.status().message(), Catch::StartsWith("t.json: [json.exception.parse_error"));
  auto bad_label = ParseTargetGroups(R"([{"labels": {"": "x"}}])", TargetGroupFormat::kJson, "t");
  REQUIRE_FALSE(bad_label.ok());
  CHECK(bad_label.status().message() == "t: \"\" is not a valid label name");
  auto unknown = ParseTargetGroups("- target: ['c:3']\n", TargetGroupFormat::kYaml, "t.yml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() == "t.yml:1:3: field target not found in type targetgroup.Group");
}

TEST_CASE("file_sd reads globbed files and follows changes", "[discovery][file_sd]") {
  TempDir dir;
  dir.Write("targets/a.json", R"([{"targets": ["a:1"], "labels": {"team": "x"}}])");
  dir.Write("targets/b.yml", "- targets: ['b:1', 'b:2']\n");
  dir.Write("targets/ignored.txt", "not matched");
  Recorder rec;
  DiscoveryManager m(FastOptions(), Logger::Discard(), rec.Fn());
  ServiceDiscoveryConfigs sd;
  FileSdConfig f;
  f.files = {dir.File("targets/*.json"), dir.File("targets/*.yml")};
  sd.file_sd_configs.push_back(f);
  m.ApplyConfig({{"job", sd}});

  REQUIRE(rec.Wait("job", [](const auto& g) { return g.size() == 2; }));
  auto current = m.Current().at("job");
  CHECK(Addresses(current) == std::vector<std::string>{"a:1", "b:1", "b:2"});
  CHECK(current[0].source == dir.File("targets/a.json") + ":0");
  CHECK(current[0].labels.Get("__meta_filepath") == dir.File("targets/a.json"));
  CHECK(current[0].labels.Get("team") == "x");

  SECTION("a changed file is re-read") {
    dir.Write("targets/a.json", R"([{"targets": ["a:1", "a:2"]}])");
    REQUIRE(rec.Wait("job", [](const auto& g) { return Addresses(g).size() == 4; }));
  }
  SECTION("a new file matching the glob is picked up") {
    dir.Write("targets/c.json", R"([{"targets": ["c:1"]}])");
    REQUIRE(rec.Wait("job", [](const auto& g) { return g.size() == 3; }));
  }
  SECTION("a removed file removes its targets") {
    std::filesystem::remove(dir.File("targets/b.yml"));
    REQUIRE(rec.Wait("job", [](const auto& g) {
      return Addresses(g) == std::vector<std::string>{"a:1"};
    }));
  }
  SECTION("a broken file keeps its previous targets") {
    int before = rec.Updates("job");
    dir.Write("targets/a.json", R"([{"targets": ["a:1",)");
    // Give the watcher several polls; nothing may change.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(rec.Updates("job") == before);
    CHECK(Addresses(m.Current().at("job")).size() == 3);
    dir.Write("targets/a.json", R"([{"targets": ["fixed:1"]}])");
    REQUIRE(rec.Wait("job", [](const auto& g) {
      return Addresses(g) == std::vector<std::string>{"fixed:1", "b:1", "b:2"};
    }));
  }
}

TEST_CASE("dns_sd resolves localhost through the system resolver", "[discovery][dns_sd]") {
  DnsSdConfig cfg;
  cfg.names = {"localhost"};
  cfg.type = DnsRecordType::kA;
  cfg.port = 9100;
  auto d = hearth::NewDnsDiscoverer(cfg, Logger::Discard());
  auto groups = d->Refresh();
  REQUIRE(groups.ok());
  REQUIRE(groups->size() == 1);
  const TargetGroup& g = (*groups)[0];
  CHECK(g.source == "localhost");
  REQUIRE_FALSE(g.targets.empty());
  CHECK(g.targets[0].Get("__address__") == "127.0.0.1:9100");
  CHECK(g.targets[0].Get("__meta_dns_name") == "localhost");
  CHECK(d->NextRefreshDelayMs() == 30'000);
}

TEST_CASE("dns_sd AAAA brackets IPv6 addresses", "[discovery][dns_sd]") {
  DnsSdConfig cfg;
  cfg.names = {"::1"};  // a literal resolves without any DNS traffic
  cfg.type = DnsRecordType::kAaaa;
  cfg.port = 80;
  auto groups = hearth::NewDnsDiscoverer(cfg, Logger::Discard())->Refresh();
  REQUIRE(groups.ok());
  REQUIRE(groups->size() == 1);
  CHECK(Addresses(*groups) == std::vector<std::string>{"[::1]:80"});
  CHECK(hearth::JoinHostPort("10.0.0.1", 9) == "10.0.0.1:9");
}

TEST_CASE("the manager keeps unchanged sets and reports removed ones empty", "[discovery]") {
  Recorder rec;
  DiscoveryManager m(FastOptions(), Logger::Discard(), rec.Fn());
  ServiceDiscoveryConfigs a, b;
  TargetGroup g;
  g.source = "0";
  g.targets = {Labels{{"__address__", "a:1"}}};
  a.static_configs = {g};
  g.targets = {Labels{{"__address__", "b:1"}}};
  b.static_configs = {g};
  m.ApplyConfig({{"a", a}, {"b", b}});
  REQUIRE(rec.Wait("a", [](const auto& gs) { return Addresses(gs).size() == 1; }));
  REQUIRE(rec.Wait("b", [](const auto& gs) { return Addresses(gs).size() == 1; }));
  CHECK(rec.Updates("a") == 1);

  m.ApplyConfig({{"a", a}, {"c", ServiceDiscoveryConfigs{}}});
  REQUIRE(rec.Wait("b", [](const auto& gs) { return gs.empty(); }));
  REQUIRE(rec.Wait("c", [](const auto& gs) { return gs.empty(); }));
  CHECK(rec.Updates("a") == 1);  // unchanged: not restarted, not re-reported
  auto current = m.Current();
  CHECK(current.count("b") == 0);
  CHECK(Addresses(current.at("a")) == std::vector<std::string>{"a:1"});

  // A changed set restarts with its new targets.
  a.static_configs[0].targets = {Labels{{"__address__", "a:2"}}};
  m.ApplyConfig({{"a", a}});
  REQUIRE(rec.Wait("a", [](const auto& gs) {
    return Addresses(gs) == std::vector<std::string>{"a:2"};
  }));
  m.Stop();
  CHECK(m.Current().empty());
}
