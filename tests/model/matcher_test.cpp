#include <catch2/catch.hpp>

#include "model/matcher.h"

using hearth::Labels;
using hearth::Matcher;
using hearth::MatchType;

namespace {
Matcher M(MatchType t, std::string name, std::string value) {
  auto m = Matcher::Make(t, std::move(name), std::move(value));
  REQUIRE(m.ok());
  return *m;
}
}  // namespace

TEST_CASE("equality matchers", "[model][matcher]") {
  auto eq = M(MatchType::kEqual, "job", "api");
  CHECK(eq.Matches("api"));
  CHECK_FALSE(eq.Matches("apis"));
  CHECK_FALSE(eq.MatchesEmpty());
  auto ne = M(MatchType::kNotEqual, "job", "api");
  CHECK(ne.Matches(""));
  CHECK(ne.MatchesEmpty());
  CHECK(M(MatchType::kEqual, "job", "").MatchesEmpty());
}

TEST_CASE("regex matchers are fully anchored", "[model][matcher]") {
  auto re = M(MatchType::kRegexMatch, "path", "/api/.*");
  CHECK(re.Matches("/api/v1"));
  CHECK_FALSE(re.Matches("x/api/v1"));
  auto mid = M(MatchType::kRegexMatch, "a", "b+");
  CHECK(mid.Matches("bbb"));
  CHECK_FALSE(mid.Matches("abbb"));
  CHECK_FALSE(mid.Matches("bbba"));
  auto nre = M(MatchType::kRegexNoMatch, "a", "b+");
  CHECK(nre.Matches("abbb"));
  CHECK(nre.MatchesEmpty());
}

TEST_CASE("dot matches newline as in Prometheus 3", "[model][matcher]") {
  CHECK(M(MatchType::kRegexMatch, "a", "x.y").Matches("x\ny"));
  CHECK(M(MatchType::kRegexMatch, "a", ".*").Matches("multi\nline"));
  CHECK(M(MatchType::kRegexMatch, "a", "fo.*").Matches("fo\no"));
}

TEST_CASE("fast paths agree with RE2", "[model][matcher]") {
  auto set = M(MatchType::kRegexMatch, "code", "200|404|500");
  CHECK(set.SetMatches() == std::vector<std::string>{"200", "404", "500"});
  CHECK(set.Matches("404"));
  CHECK_FALSE(set.Matches("40"));
  CHECK_FALSE(set.Matches("2004"));
  auto any = M(MatchType::kRegexMatch, "a", ".*");
  CHECK(any.MatchesEmpty());
  auto nonempty = M(MatchType::kRegexMatch, "a", ".+");
  CHECK_FALSE(nonempty.MatchesEmpty());
  CHECK(nonempty.Matches("x"));
  auto prefix = M(MatchType::kRegexMatch, "a", "foo.*");
  CHECK(prefix.Matches("foo"));
  CHECK(prefix.Matches("foobar"));
  CHECK_FALSE(prefix.Matches("fo"));
  // A quantified last literal is not part of the required prefix.
  auto q = M(MatchType::kRegexMatch, "a", "abc?d");
  CHECK(q.Matches("abd"));
  CHECK(q.Matches("abcd"));
  auto alt = M(MatchType::kRegexMatch, "a", "ab(c|d)");
  CHECK(alt.Matches("abd"));
  auto fold = M(MatchType::kRegexMatch, "a", "(?i)foo");
  CHECK(fold.Matches("FOO"));
  auto empty_alt = M(MatchType::kRegexMatch, "a", "|x");
  CHECK(empty_alt.MatchesEmpty());
}

TEST_CASE("invalid regexes are errors, not crashes", "[model][matcher]") {
  auto bad = Matcher::Make(MatchType::kRegexMatch, "a", "(abc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("error parsing regexp") == 0);
}

TEST_CASE("matchers print and match label sets", "[model][matcher]") {
  CHECK(M(MatchType::kRegexMatch, "job", "a\"b").ToString() == R"(job=~"a\"b")");
  CHECK(M(MatchType::kEqual, "my.label", "x").ToString() == R"("my.label"="x")");
  Labels l{{"__name__", "up"}, {"job", "api"}};
  std::vector<Matcher> ms{M(MatchType::kEqual, "__name__", "up"),
                          M(MatchType::kRegexMatch, "job", "a.*"),
                          M(MatchType::kEqual, "missing", "")};
  CHECK(hearth::MatchesAll(ms, l));
  ms.push_back(M(MatchType::kNotEqual, "job", "api"));
  CHECK_FALSE(hearth::MatchesAll(ms, l));
}
