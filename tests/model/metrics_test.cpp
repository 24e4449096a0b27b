#include <catch2/catch.hpp>

#include <thread>

#include "model/metrics.h"

using namespace hearth::metrics;

namespace {
bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("registry renders counters, gauges and histograms", "[model][metrics]") {
  Registry r;
  Counter& c = r.NewCounter("hearth_test_events_total", "Events seen.");
  c.Inc();
  c.Inc(2.5);
  Gauge& g = r.NewGauge("hearth_test_queue_length", "Queue length.");
  g.Set(7);
  g.Dec();
  auto& fam = r.NewCounterFamily("hearth_test_requests_total", "Requests.", {"code", "path"});
  fam.With({"200", "/a\"b"}).Inc(3);
  Histogram& h = r.NewHistogram("hearth_test_duration_seconds", "Durations.", {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  r.NewGaugeFunc("hearth_test_answer", "The answer.", [] { return 42.0; });

  std::string out = r.Render();
  CHECK(Contains(out, "# HELP hearth_test_events_total Events seen.\n"
                      "# TYPE hearth_test_events_total counter\n"
                      "hearth_test_events_total 3.5\n"));
  CHECK(Contains(out, "hearth_test_queue_length 6\n"));
  CHECK(Contains(out, "hearth_test_requests_total{code=\"200\",path=\"/a\\\"b\"} 3\n"));
  CHECK(Contains(out, "hearth_test_duration_seconds_bucket{le=\"0.1\"} 1\n"
                      "hearth_test_duration_seconds_bucket{le=\"1\"} 2\n"
                      "hearth_test_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                      "hearth_test_duration_seconds_sum 5.55\n"
                      "hearth_test_duration_seconds_count 3\n"));
  CHECK(Contains(out, "hearth_test_answer 42\n"));
  // Families come out sorted by name.
  CHECK(out.find("hearth_test_answer") < out.find("hearth_test_duration_seconds"));
}

TEST_CASE("labelled families render nothing until a child exists", "[model][metrics]") {
  Registry r;
  r.NewCounterFamily("hearth_test_x_total", "X.", {"a"});
  CHECK(r.Render().empty());
}

TEST_CASE("counters are safe under concurrent increments", "[model][metrics]") {
  Registry r;
  Counter& c = r.NewCounter("hearth_test_c_total", "C.");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Inc();
    });
  }
  for (auto& t : ts) t.join();
  CHECK(c.Value() == 40000);
}

TEST_CASE("process metrics carry client-library names", "[model][metrics]") {
  Registry r;
  RegisterProcessMetrics(r);
  std::string out = r.Render();
  for (const char* name : {"process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                           "process_virtual_memory_bytes", "process_resident_memory_bytes",
                           "process_start_time_seconds"}) {
    INFO(name);
    CHECK(Contains(out, std::string("# TYPE ") + name));
  }
  CHECK(ProcessResidentBytes() > 0);
}

TEST_CASE("help and label values are escaped", "[model][metrics]") {
  CHECK(EscapeHelp("a\\b\nc\"") == "a\\\\b\\nc\"");
  CHECK(EscapeLabelValue("a\\b\nc\"") == "a\\\\b\\nc\\\"");
}
