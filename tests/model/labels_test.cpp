#include <catch2/catch.hpp>

#include "model/labels.h"

using hearth::Labels;
using hearth::LabelsBuilder;

TEST_CASE("labels are sorted by name and drop empty values", "[model][labels]") {
  Labels l{{"job", "api"}, {"__name__", "up"}, {"empty", ""}, {"instance", "a:1"}};
  std::vector<std::string> names;
  for (const auto& x : l) names.emplace_back(x.name);
  CHECK(names == std::vector<std::string>{"__name__", "instance", "job"});
  CHECK(l.size() == 3);
  CHECK(l.Get("job") == "api");
  CHECK(l.Get("empty").empty());
  CHECK_FALSE(l.Has("empty"));
  CHECK(l.MetricName() == "up");
}

TEST_CASE("labels equality and hash ignore construction order", "[model][labels]") {
  Labels a{{"a", "1"}, {"b", "2"}};
  Labels b{{"b", "2"}, {"a", "1"}};
  Labels c{{"a", "1"}, {"b", "3"}};
  CHECK(a == b);
  CHECK(a.Hash() == b.Hash());
  CHECK_FALSE(a == c);
  CHECK(a.Hash() != c.Hash());
}

TEST_CASE("repeated names keep the last value", "[model][labels]") {
  Labels l{{"a", "1"}, {"a", "2"}};
  CHECK(l.size() == 1);
  CHECK(l.Get("a") == "2");
}

TEST_CASE("labels order like Prometheus' labels.Compare", "[model][labels]") {
  Labels a{{"a", "1"}};
  Labels ab{{"a", "1"}, {"b", "1"}};
  Labels a2{{"a", "2"}};
  Labels b{{"b", "0"}};
  CHECK(a < ab);   // a prefix sorts first
  CHECK(ab < a2);  // values compare before length
  CHECK(a2 < b);   // names compare first
  CHECK((a <=> Labels{{"a", "1"}}) == std::strong_ordering::equal);
}

TEST_CASE("labels print as Prometheus does", "[model][labels]") {
  Labels l{{"__name__", "up"}, {"job", "a\"b\\c\nd"}, {"ünï", "x"}};
  CHECK(l.ToString() == R"({__name__="up", job="a\"b\\c\nd", "ünï"="x"})");
  CHECK(Labels().ToString() == "{}");
}

TEST_CASE("labels builder sets, deletes and keeps", "[model][labels]") {
  Labels base{{"__name__", "x"}, {"a", "1"}, {"b", "2"}};
  LabelsBuilder b(base);
  b.Set("c", "3").Del("a").Set("b", "");
  CHECK(b.Build() == Labels{{"__name__", "x"}, {"c", "3"}});
  std::vector<std::string> keep{"c"};
  b.Keep(keep);
  CHECK(b.Build() == Labels{{"c", "3"}});
  CHECK(base.WithoutMetricName() == Labels{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("packed labels round-trip and bad bytes are refused", "[model][labels]") {
  Labels l{{"__name__", "http_requests_total"}, {"code", "200"}, {"path", std::string(300, 'p')}};
  bool ok = false;
  Labels back = Labels::FromPacked(l.packed(), &ok);
  CHECK(ok);
  CHECK(back == l);
  std::string bad(l.packed());
  bad.pop_back();
  CHECK(Labels::FromPacked(bad, &ok).empty());
  CHECK_FALSE(ok);
  // Unsorted names are not a valid packed set.
  std::string unsorted = "\x01" "b" "\x01" "1" "\x01" "a" "\x01" "1";
  Labels::FromPacked(unsorted, &ok);
  CHECK_FALSE(ok);
  // A length that runs past the end.
  Labels::FromPacked(std::string("\x7f" "abc"), &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("grouping hashes select labels", "[model][labels]") {
  Labels a{{"__name__", "x"}, {"job", "j"}, {"instance", "1"}};
  Labels b{{"__name__", "y"}, {"job", "j"}, {"instance", "2"}};
  std::vector<std::string> by{"job"};
  CHECK(a.HashForLabels(by) == b.HashForLabels(by));
  std::vector<std::string> without{"instance"};
  CHECK(a.HashWithoutLabels(without) == b.HashWithoutLabels(without));  // __name__ ignored
  std::vector<std::string> none;
  CHECK(a.HashWithoutLabels(none) != b.HashWithoutLabels(none));
}

TEST_CASE("name validity follows legacy and UTF-8 rules", "[model][labels]") {
  CHECK(hearth::IsLegacyMetricName("http_requests:rate5m"));
  CHECK_FALSE(hearth::IsLegacyMetricName("0abc"));
  CHECK_FALSE(hearth::IsLegacyMetricName("my.metric"));
  CHECK(hearth::IsLegacyLabelName("_a1"));
  CHECK_FALSE(hearth::IsLegacyLabelName("a:b"));
  CHECK(hearth::IsValidUtf8("my.metric ünïcödé 日本"));
  CHECK_FALSE(hearth::IsValidUtf8("\xff"));
  CHECK_FALSE(hearth::IsValidUtf8("\xc3"));          // truncated
  CHECK_FALSE(hearth::IsValidUtf8("\xc0\xaf"));      // overlong
  CHECK_FALSE(hearth::IsValidUtf8("\xed\xa0\x80"));  // surrogate
}
