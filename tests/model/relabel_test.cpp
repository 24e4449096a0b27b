#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/relabel.h"

using hearth::Labels;
using hearth::LabelsBuilder;
using hearth::Md5;
using hearth::ParseRelabelAction;
using hearth::Relabel;
using hearth::RelabelAction;
using hearth::RelabelConfig;
using hearth::RelabelRegex;
using hearth::ValidateRelabelConfig;

namespace {

RelabelRegex Re(std::string_view p) {
  auto r = RelabelRegex::Make(p);
  REQUIRE(r.ok());
  return r.value();
}

struct Rc {
  std::vector<std::string> source{};
  std::string regex = "(.*)";
  std::string target{};
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  uint64_t modulus = 0;
  std::string separator = ";";
};

RelabelConfig Make(const Rc& r) {
  RelabelConfig c;
  c.source_labels = r.source;
  c.regex = Re(r.regex);
  c.target_label = r.target;
  c.replacement = r.replacement;
  c.action = r.action;
  c.modulus = r.modulus;
  c.separator = r.separator;
  return c;
}

struct Case {
  const char* name;
  Labels input;
  std::vector<Rc> configs;
  std::optional<Labels> output;  // nullopt: dropped
};

}  // namespace

// The cases of Prometheus' model/relabel/relabel_test.go (TestRelabel), plus the actions as
// the configuration documentation describes them.
TEST_CASE("relabel table: every action with Prometheus' examples", "[model][relabel]") {
  using A = RelabelAction;
  const std::vector<Case> cases = {
      {"replace with ${1}",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source = {"a"}, .regex = "f(.*)", .target = "d", .replacement = "ch${1}-ch${1}"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}},
      {"two replaces, the second sees the first",
       {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source = {"a", "b"}, .regex = "f(.*);(.*)r", .target = "a", .replacement = "b${1}${2}m"},
        {.source = {"c", "a"}, .regex = "(b).*b(.*)ba(.*)", .target = "d",
         .replacement = "$1$2$2$3"}},
       Labels{{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}, {"d", "boooom"}}},
      {"drop stops the chain",
       {{"a", "foo"}},
       {{.source = {"a"}, .regex = ".*o.*", .action = A::kDrop},
        {.source = {"a"}, .regex = "f(.*)", .target = "d", .replacement = "ch$1-ch$1"}},
       std::nullopt},
      {"drop matching", {{"a", "foo"}, {"b", "bar"}},
       {{.source = {"a"}, .regex = ".*o.*", .action = A::kDrop}}, std::nullopt},
      {"replace with a group in the middle", {{"a", "abc"}},
       {{.source = {"a"}, .regex = ".*(b).*", .target = "d"}},
       Labels{{"a", "abc"}, {"d", "b"}}},
      {"drop not matching keeps", {{"a", "foo"}},
       {{.source = {"a"}, .regex = "no-match", .action = A::kDrop}}, Labels{{"a", "foo"}}},
      {"regex is anchored: f|o does not match foo", {{"a", "foo"}},
       {{.source = {"a"}, .regex = "f|o", .action = A::kDrop}}, Labels{{"a", "foo"}}},
      {"keep not matching drops", {{"a", "foo"}},
       {{.source = {"a"}, .regex = "no-match", .action = A::kKeep}}, std::nullopt},
      {"keep matching keeps", {{"a", "foo"}},
       {{.source = {"a"}, .regex = "f.*", .action = A::kKeep}}, Labels{{"a", "foo"}}},
      {"no match, no replacement", {{"a", "boo"}},
       {{.source = {"a"}, .regex = "f", .target = "b", .replacement = "bar"}},
       Labels{{"a", "boo"}}},
      {"blank replacement deletes the target label", {{"a", "foo"}, {"f", "baz"}},
       {{.source = {"a"}, .regex = "(f).*", .target = "$1", .replacement = "$2"}},
       Labels{{"a", "foo"}}},
      {"hashmod 1000 of baz", {{"a", "foo"}, {"b", "bar"}, {"c", "baz"}},
       {{.source = {"c"}, .target = "d", .action = A::kHashMod, .modulus = 1000}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}},
      {"hashmod of a value with a newline", {{"a", "foo\nbar"}},
       {{.source = {"a"}, .target = "b", .action = A::kHashMod, .modulus = 1000}},
       Labels{{"a", "foo\nbar"}, {"b", "734"}}},
      {"labelmap copies matching names", {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .replacement = "bar_${1}", .action = A::kLabelMap}},
       Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}, {"bar_b1", "bar"}, {"bar_b2", "baz"}}},
      {"labelmap of __meta_ labels",
       {{"a", "foo"}, {"__meta_my_bar", "aaa"}, {"__meta_my_baz", "bbb"}, {"__meta_other", "ccc"}},
       {{.regex = "__meta_(my.*)", .replacement = "${1}", .action = A::kLabelMap}},
       Labels{{"a", "foo"},
              {"__meta_my_bar", "aaa"},
              {"__meta_my_baz", "bbb"},
              {"__meta_other", "ccc"},
              {"my_bar", "aaa"},
              {"my_baz", "bbb"}}},
      {"target label from a group", {{"a", "some-name-value"}},
       {{.source = {"a"}, .regex = "some-([^-]+)-([^,]+)", .target = "${1}",
         .replacement = "${2}"}},
       Labels{{"a", "some-name-value"}, {"name", "value"}}},
      {"replacement of a missing group is empty: nothing set", {{"a", "some-name-value"}},
       {{.source = {"a"}, .regex = "some-([^-]+)-([^,]+)", .target = "${1}",
         .replacement = "${3}"}},
       Labels{{"a", "some-name-value"}}},
      {"a target that expands to nothing is skipped", {{"a", "some-name-0"}},
       {{.source = {"a"}, .regex = "some-([^-]+)-([^,]+)", .target = "${3}",
         .replacement = "${1}"},
        {.source = {"a"}, .regex = "some-([^-]+)(-[^,]+)", .target = "${3}",
         .replacement = "${1}"}},
       Labels{{"a", "some-name-0"}}},
      {"real-life tags",
       {{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"}},
       {{.source = {"__meta_sd_tags"}, .regex = "(?:.+,|^)path:(/[^,]+).*",
         .target = "__metrics_path__", .replacement = "${1}"},
        {.source = {"__meta_sd_tags"}, .regex = "(?:.+,|^)job:([^,]+).*", .target = "job",
         .replacement = "${1}"},
        {.source = {"__meta_sd_tags"}, .regex = "(?:.+,|^)label:([^=]+)=([^,]+).*",
         .target = "${1}", .replacement = "${2}"}},
       Labels{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"},
              {"__metrics_path__", "/secret"},
              {"job", "some-job"},
              {"foo", "bar"}}},
      {"labeldrop then replace then keep (prometheus#12283)",
       {{"__meta_kubernetes_pod_container_port_name", "foo"},
        {"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"}},
       {{.regex = "^__meta_kubernetes_pod_container_port_name$", .action = A::kLabelDrop},
        {.source = {"__meta_kubernetes_pod_annotation_XXX_metrics_port"}, .regex = "(.+)",
         .target = "__meta_kubernetes_pod_container_port_name", .replacement = "metrics"},
        {.source = {"__meta_kubernetes_pod_container_port_name"}, .regex = "^metrics$",
         .action = A::kKeep}},
       Labels{{"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"},
              {"__meta_kubernetes_pod_container_port_name", "metrics"}}},
      {"labelkeep", {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .action = A::kLabelKeep}}, Labels{{"b1", "bar"}, {"b2", "baz"}}},
      {"labeldrop", {{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .action = A::kLabelDrop}}, Labels{{"a", "foo"}}},
      {"upper and lower case", {{"foo", "bAr123Foo"}},
       {{.source = {"foo"}, .target = "foo_uppercase", .action = A::kUppercase},
        {.source = {"foo"}, .target = "foo_lowercase", .action = A::kLowercase}},
       Labels{{"foo", "bAr123Foo"}, {"foo_lowercase", "bar123foo"},
              {"foo_uppercase", "BAR123FOO"}}},
      {"case mapping covers Latin-1, Greek and Cyrillic", {{"foo", "ÄÖÜ-Straße ΣΟΦΙΑ Москва İı"}},
       {{.source = {"foo"}, .target = "lower", .action = A::kLowercase},
        {.source = {"foo"}, .target = "upper", .action = A::kUppercase}},
       Labels{{"foo", "ÄÖÜ-Straße ΣΟΦΙΑ Москва İı"}, {"lower", "äöü-straße σοφια москва iı"},
              {"upper", "ÄÖÜ-STRAßE ΣΟΦΙΑ МОСКВА İI"}}},
      {"keepequal equal keeps", {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
       {{.source = {"__tmp_port"}, .target = "__port1", .action = A::kKeepEqual}},
       Labels{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
      {"dropequal equal drops", {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
       {{.source = {"__tmp_port"}, .target = "__port1", .action = A::kDropEqual}},
       std::nullopt},
      {"dropequal different keeps",
       {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
       {{.source = {"__tmp_port"}, .target = "__port2", .action = A::kDropEqual}},
       Labels{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}}},
      {"keepequal different drops",
       {{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}},
       {{.source = {"__tmp_port"}, .target = "__port2", .action = A::kKeepEqual}},
       std::nullopt},
      {"dot matches newline", {{"a", "line1\nline2"}, {"b", "bar"}},
       {{.source = {"a"}, .regex = "line1.*line2", .target = "d", .replacement = "match${1}"}},
       Labels{{"a", "line1\nline2"}, {"b", "bar"}, {"d", "match"}}},
      {"UTF-8 target label", {{"a", "line1\nline2"}},
       {{.source = {"a"}, .regex = "line1.*line2", .target = "utf-8.label${1}",
         .replacement = "match${1}"}},
       Labels{{"a", "line1\nline2"}, {"utf-8.label", "match"}}},
      {"named groups, both syntaxes", {{"a", "line1\nline2"}},
       {{.source = {"a"}, .regex = "(line1).*(?<second>line2)", .target = "label1_${1}",
         .replacement = "val_${second}"},
        {.source = {"a"}, .regex = "(line1).*(?P<second>line2)", .target = "label2_$1",
         .replacement = "val_$second"}},
       Labels{{"a", "line1\nline2"}, {"label1_line1", "val_line2"},
              {"label2_line1", "val_line2"}}},
      {"static label pair (fast path)", {{"job", "foo"}},
       {{.target = "cluster", .replacement = "dev-us-central-0"}},
       Labels{{"job", "foo"}, {"cluster", "dev-us-central-0"}}},
      {"source label missing still sets with the default regex", {{"job", "foo"}},
       {{.source = {"something"}, .target = "with_source_labels", .replacement = "value"}},
       Labels{{"job", "foo"}, {"with_source_labels", "value"}}},
      {"separator joins several sources", {{"a", "x"}, {"b", "y"}},
       {{.source = {"a", "missing", "b"}, .target = "c", .separator = "/"}},
       Labels{{"a", "x"}, {"b", "y"}, {"c", "x//y"}}},
      {"address rewrite with a port annotation",
       {{"__address__", "10.0.0.1:80"}, {"__meta_port", "9102"}},
       {{.source = {"__address__", "__meta_port"}, .regex = R"((.+?)(\:\d+)?;(\d+))",
         .target = "__address__", .replacement = "$1:$3"}},
       Labels{{"__address__", "10.0.0.1:9102"}, {"__meta_port", "9102"}}},
      {"$$ is a literal dollar and $1x names group 1x", {{"a", "v"}},
       {{.source = {"a"}, .regex = "(v)", .target = "b", .replacement = "$$1-$1x-${1}x"}},
       Labels{{"a", "v"}, {"b", "$1--vx"}}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      std::vector<RelabelConfig> cfgs;
      for (const Rc& r : c.configs) {
        cfgs.push_back(Make(r));
        INFO("config of " << c.name);
        REQUIRE(ValidateRelabelConfig(cfgs.back()).ok());
      }
      std::optional<Labels> got = Relabel(cfgs, c.input);
      if (!c.output.has_value()) {
        CHECK_FALSE(got.has_value());
      } else {
        REQUIRE(got.has_value());
        CHECK(got->ToString() == c.output->ToString());
      }
    }
  }
}

TEST_CASE("relabel validation errors use Prometheus' wording", "[model][relabel]") {
  using A = RelabelAction;
  struct V {
    Rc rc;
    const char* want;
  };
  const std::vector<V> cases = {
      {{.action = A::kReplace}, "relabel configuration for replace action requires 'target_label' value"},
      {{.action = A::kLowercase}, "relabel configuration for lowercase action requires 'target_label' value"},
      {{.target = "x", .action = A::kHashMod}, "relabel configuration for hashmod requires non-zero modulus"},
      {{.target = "x", .replacement = "y", .action = A::kUppercase},
       "'replacement' can not be set for uppercase action"},
      {{.replacement = "", .action = A::kLabelMap}, "\"\" is invalid 'replacement' for labelmap action"},
      {{.regex = "x", .target = "t", .action = A::kKeepEqual},
       "keepequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {{.source = {"a"}, .regex = "x", .action = A::kLabelDrop},
       "labeldrop action requires only 'regex', and no other fields"},
      {{.regex = "x", .target = "t", .action = A::kLabelKeep},
       "labelkeep action requires only 'regex', and no other fields"},
      {{.target = "\xff", .action = A::kReplace}, "\"\\xff\" is invalid 'target_label' for replace action"},
  };
  for (const V& v : cases) {
    hearth::Status st = ValidateRelabelConfig(Make(v.rc));
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == v.want);
  }
  // UTF-8 names are valid targets in 3.x, with or without variables.
  CHECK(ValidateRelabelConfig(Make({.target = "0${3}"})).ok());
  CHECK(ValidateRelabelConfig(Make({.target = "-${3}"})).ok());
  CHECK(ValidateRelabelConfig(Make({.target = "${3}", .action = A::kLowercase})).ok());
}

TEST_CASE("relabel actions parse case-insensitively", "[model][relabel]") {
  CHECK(ParseRelabelAction("Replace").value() == RelabelAction::kReplace);
  CHECK(ParseRelabelAction("LABELMAP").value() == RelabelAction::kLabelMap);
  CHECK(ParseRelabelAction("dropequal").value() == RelabelAction::kDropEqual);
  auto bad = ParseRelabelAction("remove");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unknown relabel action \"remove\"");
}

TEST_CASE("relabel regexes: bad ones fail, defaults are shared", "[model][relabel]") {
  auto bad = RelabelRegex::Make("a(b");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().starts_with("error parsing regexp: "));
  CHECK(RelabelRegex().IsDefault());
  CHECK(RelabelRegex().pattern() == "(.*)");
  CHECK(Re("(.*)").IsDefault());
  CHECK_FALSE(Re("foo").IsDefault());
  CHECK(Re("").Matches(""));
  CHECK_FALSE(Re("").Matches("x"));
  CHECK(Re("foo").Matches("foo"));
  CHECK_FALSE(Re("foo").Matches("foox"));
  CHECK(Re("[a]]").Matches("a]"));  // a literal ']' right after a class is fine
}

TEST_CASE("md5 matches RFC 1321 test vectors", "[model][relabel]") {
  auto hex = [](std::string_view s) {
    uint8_t d[16];
    Md5(s, d);
    std::string out;
    for (uint8_t b : d) out += fmt::format("{:02x}", b);
    return out;
  };
  CHECK(hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(hex("a") == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
  // 55 and 56 bytes: the padding boundary.
  CHECK(hex(std::string(55, 'x')).size() == 32);
  CHECK(hex(std::string(56, 'x')) != hex(std::string(55, 'x')));
}

TEST_CASE("relabel on a builder leaves unrelated labels alone", "[model][relabel]") {
  LabelsBuilder lb(Labels{{"__name__", "up"}, {"job", "a"}});
  std::vector<RelabelConfig> cfgs{Make({.source = {"job"}, .target = "team", .replacement = "t-$1"})};
  REQUIRE(Relabel(cfgs, lb));
  CHECK(lb.Build().ToString() == R"({__name__="up", job="a", team="t-a"})");
}
