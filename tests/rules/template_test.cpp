#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "rules/template.h"
#include "tests/common/test_paths.h"

namespace hearth::rules {
namespace {

// The data the oracle's alert sees (tests/rules/tools/template_oracle.py).
AlertTemplateData OracleData() {
  AlertTemplateData d;
  d.labels = Labels{{"__name__", "m"}, {"instance", "a:9090"}, {"job", "api"}};
  d.value = 1234567;
  return d;
}

// Answers the queries the cases use, as Prometheus did against the oracle's series.
Result<promql::Vector> FakeQuery(std::string_view q, int64_t t) {
  promql::Vector up = {
      {Labels{{"__name__", "up"}, {"instance", "h1:1"}, {"job", "a"}}, t, 1},
      {Labels{{"__name__", "up"}, {"instance", "h2:1"}, {"job", "b"}}, t, 0},
  };
  if (q == "up" || q == "sort_desc(up)") return up;
  if (q == "up{job='a'}") return promql::Vector{up[0]};
  if (q == "nothing_here") return promql::Vector{};
  if (q == "up{") {
    return Status(StatusCode::kInvalidArgument,
                  "1:4: parse error: unexpected end of input inside braces");
  }
  return Status(StatusCode::kInvalidArgument, "unexpected query " + std::string(q));
}

TemplateEnv OracleEnv() {
  TemplateEnv env;
  env.time_ms = 0;
  env.query = FakeQuery;
  return env;
}

std::string Expand(std::string_view text, const AlertTemplateData& data = OracleData(),
                   const TemplateEnv& env = OracleEnv()) {
  auto t = Template::Parse(text, "__alert_T");
  if (!t.ok()) return "PARSE: " + t.status().message();
  return ExpandAlertTemplate(*t, data, env);
}

// Decodes a JSON string literal (the oracle's output format).
std::string JsonUnquote(const std::string& q) {
  REQUIRE(q.size() >= 2);
  std::string out;
  for (size_t i = 1; i + 1 < q.size(); ++i) {
    char c = q[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = q[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned cp = static_cast<unsigned>(std::stoul(q.substr(i + 1, 4), nullptr, 16));
        i += 4;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xc0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          out += static_cast<char>(0xe0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        }
        break;
      }
      default: out += e;
    }
  }
  return out;
}

TEST_CASE("alert templates expand exactly as Prometheus 2.42 expanded them", "[rules][template]") {
  std::ifstream in(std::string(hearth::testing::kSourceDir) + "/tests/rules/testdata/template_cases.txt");
  REQUIRE(in.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) continue;
    lines.push_back(line);
  }
  REQUIRE(lines.size() % 2 == 0);
  REQUIRE(lines.size() > 100);
  for (size_t i = 0; i < lines.size(); i += 2) {
    INFO("template: " << lines[i]);
    std::string want = JsonUnquote(lines[i + 1]);
    // The oracle ran with Prometheus' numbered alert names; ours is __alert_T.
    std::string got = Expand(lines[i]);
    size_t at = want.find("__alert_T");
    while (at != std::string::npos) {
      size_t e = at + 9;
      while (e < want.size() && isdigit(static_cast<unsigned char>(want[e]))) ++e;
      want.erase(at + 9, e - at - 9);
      at = want.find("__alert_T", at + 9);
    }
    CHECK(got == want);
  }
}

TEST_CASE("humanize family matches Prometheus' tables", "[rules][template]") {
  CHECK(Humanize(1234567.0) == "1.235M");
  CHECK(Humanize(0) == "0");
  CHECK(Humanize(-0.5) == "-500m");
  CHECK(Humanize1024(1048576.0) == "1Mi");
  CHECK(HumanizeDuration(899.99) == "14m 59s");
  CHECK(HumanizeDuration(-(86400 * 2 + 3600 * 3 + 60 * 4 + 5)) == "-2d 3h 4m 5s");
  CHECK(HumanizeDuration(60.1) == "1m 0s");
  CHECK(HumanizeDuration(std::nan("")) == "NaN");
  CHECK(HumanizePercentage(0.1234567) == "12.35%");
  CHECK(*HumanizeTimestamp(1435065584.128) == "2015-06-23 13:19:44.128 +0000 UTC");
  CHECK(*HumanizeTimestamp(-1) == "1969-12-31 23:59:59 +0000 UTC");
  CHECK(*HumanizeTimestamp(9223372036.0) == "2262-04-11 23:47:16 +0000 UTC");
  CHECK_FALSE(HumanizeTimestamp(9223372036854775807.0).ok());
  CHECK(*HumanizeTimestamp(std::numeric_limits<double>::infinity()) == "+Inf");
}

TEST_CASE("external labels, external URL and pathPrefix reach the template", "[rules][template]") {
  AlertTemplateData d = OracleData();
  d.external_labels = Labels{{"cluster", "eu1"}};
  d.external_url = "http://prom.example:9090/prefix";
  TemplateEnv env = OracleEnv();
  env.external_url = d.external_url;
  CHECK(Expand("{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}", d, env) ==
        "eu1 eu1");
  CHECK(Expand("{{ $externalURL }}|{{ externalURL }}|{{ pathPrefix }}", d, env) ==
        "http://prom.example:9090/prefix|http://prom.example:9090/prefix|/prefix");
  CHECK(Expand("<a href=\"{{ externalURL }}{{ graphLink \"up\" }}\">", d, env) ==
        "<a href=\"http://prom.example:9090/prefix/graph?g0.expr=up&g0.tab=0\">");
}

TEST_CASE("range over an integer works as in Go 1.22 (Prometheus 3.x)", "[rules][template]") {
  CHECK(Expand("{{ range 3 }}{{ . }}{{ end }}") == "012");
  CHECK(Expand("{{ range $i := 2 }}[{{ $i }}]{{ end }}") == "[0][1]");
}

TEST_CASE("constant templates are returned unchanged without parsing work", "[rules][template]") {
  auto t = Template::Parse("High request latency detected", "__alert_X");
  REQUIRE(t.ok());
  CHECK(t->IsConstant());
  CHECK(*t->Execute({}, {}) == "High request latency detected");
}

TEST_CASE("query fails cleanly without a query function", "[rules][template]") {
  TemplateEnv env;
  CHECK(Expand("{{ query \"up\" }}", OracleData(), env).find("error calling query") !=
        std::string::npos);
}

// Parse errors name the template, line and column, and are worded like Go's.
TEST_CASE("template parse errors name the position", "[rules][template]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"{{ humanise $value }}", "template: __alert_T:1:3: function \"humanise\" not defined"},
      {"{{ $nope }}", "template: __alert_T:1:3: undefined variable \"$nope\""},
      {"{{ if true }}x", "template: __alert_T:1:14: unexpected EOF"},
      {"x {{ end }}", "template: __alert_T:1:5: unexpected {{end}}"},
      {"{{ $value ", "template: __alert_T:1:10: unclosed action"},
      {"a\nb {{ .x | 3 }}", "template: __alert_T:2:10: non executable command in pipeline stage 2"},
      {"{{ if }}{{ end }}", "template: __alert_T:1:6: missing value for if"},
      {"{{ define \"x\" }}{{ end }}",
       "template: __alert_T:1:3: {{define}} is not supported in rule templates"},
      {"{{ template \"x\" }}",
       "template: __alert_T:1:3: {{template}} is not supported in rule templates"},
      {"{{ \"unterminated }}", "template: __alert_T:1:3: unterminated quoted string"},
      {"{{ break }}", "template: __alert_T:1:3: {{break}} outside {{range}}"},
      {"{{/* open", "template: __alert_T:1:0: unclosed comment"},
      {"{{ 3x }}", "template: __alert_T:1:3: bad number syntax: \"3x\""},
      {"{{ (1 }}", "template: __alert_T:1:6: unclosed left paren"},
      {"{{ 1) }}", "template: __alert_T:1:4: unexpected \")\" in command"},
      {"{{ else }}", "template: __alert_T:1:3: unexpected {{else}}"},
      {"{{ range $a, $b, $c := 1 }}{{end}}",
       "template: __alert_T:1:13: too many declarations in range"},
      {"{{ with }}{{end}}", "template: __alert_T:1:8: missing value for with"},
      {"{{ if 1 }}{{ else }}{{ else }}{{ end }}",
       "template: __alert_T:1:23: expected end; found {{else}}"},
      {"{{ .a.b.c | call }}", "template: __alert_T:1:12: function \"call\" not defined"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto t = Template::Parse(c.text, "__alert_T");
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message() == c.error);
  }
}

// What Go accepts at parse time and rejects when executing.
TEST_CASE("template execution errors read like Go's", "[rules][template]") {
  CHECK(Expand("{{ 1 2 }}") ==
        "<error expanding template: error executing template __alert_T: template: "
        "__alert_T:1:115: executing \"__alert_T\" at <1>: can't give argument to non-function 1>");
  CHECK(Expand("{{ . | }}x") != "");
  CHECK(Expand("{{ 1 | printf \"%d\" }}") == "1");
  CHECK(Expand("{{ $x = 1 }}").find("undefined variable: $x") != std::string::npos);
}

TEST_CASE("templates nested too deeply fail instead of overflowing the stack",
          "[rules][template]") {
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  auto t = Template::Parse(deep, "__alert_T");
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().find("nested too deeply") != std::string::npos);
}

TEST_CASE("runaway templates are stopped", "[rules][template]") {
  std::string out = Expand("{{ range 1000000000 }}x{{ end }}");
  CHECK(out.find("<error expanding template:") == 0);
}

}  // namespace
}  // namespace hearth::rules
