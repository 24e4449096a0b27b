#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "scraper/textparse/parser.h"

namespace {

using namespace hearth;
using namespace hearth::textparse;

struct Got {
  Entry entry;
  std::string a;  // series bytes / family
  std::string b;  // labels / help / unit / comment / type name
  double v = 0;
  bool has_ts = false;
  int64_t ts = 0;
};

std::vector<Got> ParseAll(std::string_view in, Format f, std::string* err = nullptr,
                          ParserOptions opts = {}) {
  Parser p(in, f, opts);
  std::vector<Got> out;
  for (int guard = 0; guard < 100000; ++guard) {
    Entry e = p.Next();
    if (e == Entry::kEOF) break;
    if (e == Entry::kInvalid) {
      if (err) *err = p.status().message();
      break;
    }
    Got g{e, "", ""};
    switch (e) {
      case Entry::kSeries: {
        g.a = std::string(p.Series());
        auto l = p.BuildLabels();
        g.b = l.ok() ? l->ToString() : "ERR " + l.status().message();
        g.v = p.Value();
        g.has_ts = p.HasTimestamp();
        g.ts = g.has_ts ? p.Timestamp() : 0;
        break;
      }
      case Entry::kHelp: g.a = std::string(p.MetricFamily()); g.b = std::string(p.Help()); break;
      case Entry::kUnit: g.a = std::string(p.MetricFamily()); g.b = std::string(p.Unit()); break;
      case Entry::kType:
        g.a = std::string(p.MetricFamily());
        g.b = std::string(MetricTypeName(p.Type()));
        break;
      case Entry::kComment: g.b = std::string(p.Comment()); break;
      default: break;
    }
    out.push_back(g);
  }
  return out;
}

// The error message without the " (line L, column C)" suffix.
std::string Bare(const std::string& msg) {
  auto pos = msg.rfind(" (line ");
  return pos == std::string::npos ? msg : msg.substr(0, pos);
}

std::string ErrorOf(std::string_view in, Format f) {
  std::string err;
  ParseAll(in, f, &err);
  return err;
}

}  // namespace

TEST_CASE("text format parses HELP, TYPE, comments, labels, timestamps", "[scraper][textparse]") {
  std::string in =
      "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n"
      "# \tTYPE go_gc_duration_seconds summary\n"
      "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n"
      "go_gc_duration_seconds{quantile=\"0.25\",} 7.424100000000001e-05\n"
      "go_gc_duration_seconds{ quantile=\"0.9\", a=\"b\"} 8.3835e-05\n"
      "# Hrandom comment starting with prefix of HELP\n"
      "#\n"
      "wind_speed{A=\"2\",c=\"3\"} 12345\n"
      "# HELP nohelp1\n"
      "go_gc_duration_seconds { quantile = \"2.0\" a = \"b\" } 8.3835e-05\n"
      "some:aggregate:rate5m{a_b=\"c\"}\t1\n"
      "# HELP go_goroutines Number of goroutines\\nthat currently exist \\\\ \\x.\n"
      "# TYPE go_goroutines gauge\n"
      "go_goroutines 33  \t123123\n"
      "testmetric{label=\"\\\"bar\\\"\\n\\\\\"} 1\n"
      "\n"
      "nan_metric NaN\n"
      "inf_metric{x=\"y\"} -Inf\n"
      "no_newline_at_end +Inf";
  auto got = ParseAll(in, Format::kText);
  REQUIRE(got.size() == 18);
  CHECK(got[0].entry == Entry::kHelp);
  CHECK(got[0].a == "go_gc_duration_seconds");
  CHECK(got[0].b == "A summary of the GC invocation durations.");
  CHECK(got[1].entry == Entry::kType);
  CHECK(got[1].b == "summary");
  CHECK(got[2].a == "go_gc_duration_seconds{quantile=\"0\"}");
  CHECK(got[2].b == "{__name__=\"go_gc_duration_seconds\", quantile=\"0\"}");
  CHECK(got[2].v == 4.9351e-05);
  CHECK_FALSE(got[2].has_ts);
  CHECK(got[3].b == "{__name__=\"go_gc_duration_seconds\", quantile=\"0.25\"}");
  CHECK(got[4].b == "{__name__=\"go_gc_duration_seconds\", a=\"b\", quantile=\"0.9\"}");
  CHECK(got[5].entry == Entry::kComment);
  CHECK(got[5].b == "# Hrandom comment starting with prefix of HELP");
  CHECK(got[6].b == "#");
  CHECK(got[7].b == "{A=\"2\", __name__=\"wind_speed\", c=\"3\"}");
  CHECK(got[8].entry == Entry::kHelp);
  CHECK(got[8].a == "nohelp1");
  CHECK(got[8].b == "");
  CHECK(got[9].b == "{__name__=\"go_gc_duration_seconds\", a=\"b\", quantile=\"2.0\"}");
  CHECK(got[10].b == "{__name__=\"some:aggregate:rate5m\", a_b=\"c\"}");
  CHECK(got[11].b == "Number of goroutines\nthat currently exist \\ \\x.");
  CHECK(got[12].b == "gauge");
  CHECK(got[13].v == 33);
  CHECK(got[13].has_ts);
  CHECK(got[13].ts == 123123);
  CHECK(got[14].b == "{__name__=\"testmetric\", label=\"\\\"bar\\\"\\n\\\\\"}");
  CHECK(std::bit_cast<uint64_t>(got[15].v) == kNormalNaNBits);
  CHECK(got[16].v == -INFINITY);
  CHECK(got[17].entry == Entry::kSeries);
  CHECK(got[17].v == INFINITY);
  CHECK(got[17].a == "no_newline_at_end");
}

TEST_CASE("text format accepts quoted UTF-8 names as Prometheus 3.x", "[scraper][textparse]") {
  std::string in =
      "# HELP \"go.gc_duration_seconds\" A summary.\n"
      "# TYPE \"go.gc_duration_seconds\" summary\n"
      "{\"go.gc_duration_seconds\",quantile=\"0\"} 4.9351e-05\n"
      "{ \"go.gc_duration_seconds\", quantile= \"1.0\", a= \"b\", } 8.3835e-05\n"
      "{q=\"0.9\",\"http.status\",\"label.x\"=\"v\"} 1\n"
      "{\"Heiz\xc3\xb6l \\\"x\\\"\",\"strange\xc2\xa9\\n\"=\"6\"} 10.0\n";
  auto got = ParseAll(in, Format::kText);
  REQUIRE(got.size() == 6);
  CHECK(got[0].a == "go.gc_duration_seconds");
  CHECK(got[1].a == "go.gc_duration_seconds");
  CHECK(got[2].a == "{\"go.gc_duration_seconds\",quantile=\"0\"}");
  CHECK(got[2].b == "{__name__=\"go.gc_duration_seconds\", quantile=\"0\"}");
  CHECK(got[3].b == "{__name__=\"go.gc_duration_seconds\", a=\"b\", quantile=\"1.0\"}");
  CHECK(got[4].b == "{__name__=\"http.status\", \"label.x\"=\"v\", q=\"0.9\"}");
  Parser p(in, Format::kText);
  for (int i = 0; i < 6; ++i) REQUIRE(p.Next() != Entry::kInvalid);
  CHECK(p.MetricName() == "Heiz\xc3\xb6l \"x\"");
  auto l = p.BuildLabels();
  REQUIRE(l.ok());
  CHECK(l->Get("strange\xc2\xa9\n") == "6");
}

TEST_CASE("text format errors use Prometheus' wording and name the line",
          "[scraper][textparse]") {
  struct Case {
    std::string in, err;
  };
  std::vector<Case> cases = {
      {"a", "expected value after metric, got \"\\n\" (\"INVALID\") while parsing: \"a\\n\""},
      {"a{b='c'} 1\n", "expected label value, got \"'\" (\"INVALID\") while parsing: \"a{b='\""},
      {"a{b=\n", "expected label value, got \"\\n\" (\"INVALID\") while parsing: \"a{b=\\n\""},
      {"a{\xff=\"foo\"} 1\n",
       "expected label name, got \"\\xff\" (\"INVALID\") while parsing: \"a{\\xff\""},
      {"a{b=\"\xff\"} 1\n", "invalid UTF-8 label value: \"\\\"\\xff\\\"\""},
      {"{\"a\", \"b = \"c\"}",
       "expected equal, got \"c\\\"\" (\"LNAME\") while parsing: \"{\\\"a\\\", \\\"b = \\\"c\\\"\""},
      {"{\"a\",b\\nc=\"d\"} 1",
       "expected equal, got \"\\\\\" (\"INVALID\") while parsing: \"{\\\"a\\\",b\\\\\""},
      {"a true\n",
       "strconv.ParseFloat: parsing \"true\": invalid syntax while parsing: \"a true\""},
      {"something_weird{problem=\"",
       "expected label value, got \"\\\"\\n\" (\"INVALID\") while parsing: "
       "\"something_weird{problem=\\\"\\n\""},
      {"empty_label_name{=\"\"} 0",
       "expected label name, got \"=\\\"\" (\"EQUAL\") while parsing: \"empty_label_name{=\\\"\""},
      {"foo 1_2\n", "unsupported character in float while parsing: \"foo 1_2\""},
      {"foo 0x1p-3\n", "unsupported character in float while parsing: \"foo 0x1p-3\""},
      {"foo 0 1_2\n",
       "expected next entry after timestamp, got \"_\" (\"INVALID\") while parsing: \"foo 0 1_\""},
      {"{a=\"ok\"} 1", "metric name not set while parsing: \"{a=\\\"ok\\\"} 1\""},
      {"# TYPE #\n",
       "expected metric name after TYPE, got \"#\" (\"INVALID\") while parsing: \"# TYPE #\""},
      {"# HELP #\n",
       "expected metric name after HELP, got \"#\" (\"INVALID\") while parsing: \"# HELP #\""},
      {"# TYPE a untyped_not\n", "invalid metric type \"untyped_not\""},
      {"a{b=\"\\x00\"} 1 -5\n",
       "expected timestamp or new record, got \"-\" (\"INVALID\") while parsing: "
       "\"a{b=\\\"\\\\x00\\\"} 1 -\""},
      {"a 1 99999999999999999999\n",
       "strconv.ParseInt: parsing \"99999999999999999999\": value out of range while parsing: "
       "\"a 1 99999999999999999999\""},
      {"a 1e999\n",
       "strconv.ParseFloat: parsing \"1e999\": value out of range while parsing: \"a 1e999\""},
      {"a{x=\"1\",x=\"2\"} 1\n", ""},  // a duplicate is a Labels() error, checked below
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(Bare(ErrorOf(c.in, Format::kText)) == c.err);
  }
  // Line and column.
  std::string err = ErrorOf("ok 1\nok 2\nbad{b='c'} 1\n", Format::kText);
  CHECK(err.find("(line 3, column 7)") != std::string::npos);
  // Duplicate label names fail label building, naming the label.
  Parser p("a{x=\"1\",x=\"2\"} 1\n", Format::kText);
  REQUIRE(p.Next() == Entry::kSeries);
  auto l = p.BuildLabels();
  REQUIRE_FALSE(l.ok());
  CHECK(l.status().message() == "label name \"x\" is not unique: invalid sample");
  // An error is sticky.
  Parser q("a{\n", Format::kText);
  CHECK(q.Next() == Entry::kInvalid);
  CHECK(q.Next() == Entry::kInvalid);
}

TEST_CASE("OpenMetrics parses metadata, exemplars, timestamps in seconds and # EOF",
          "[scraper][textparse]") {
  std::string in =
      "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n"
      "# TYPE go_gc_duration_seconds summary\n"
      "# UNIT go_gc_duration_seconds seconds\n"
      "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n"
      "go_gc_duration_seconds{quantile=\"0.5\",a=\"b\"} 8.3835e-05\n"
      "# HELP help2 escape \\ \\n \\\\ \\\" \\x chars\n"
      "# UNIT nounit \n"
      "go_goroutines 33 123.123\n"
      "# TYPE hhh histogram\n"
      "hhh_bucket{le=\"+Inf\"} 1 # {id=\"histogram-bucket-test\"} 4\n"
      "# TYPE ggh gaugehistogram\n"
      "ggh_bucket{le=\"+Inf\"} 1 # {id=\"gaugehistogram-bucket-test\",xx=\"yy\"} 4 123.123\n"
      "# TYPE foo counter\n"
      "foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n"
      "foo_created 1000\n"
      "# TYPE ss stateset\n"
      "ss{ss=\"foo\"} 1\n"
      "# TYPE ii info\n"
      "ii_info{foo=\"bar\"} 1\n"
      "{\"go.gc\",\"label.x\"=\"v\"} 2\n"
      "# EOF\n";
  std::string err;
  auto got = ParseAll(in, Format::kOpenMetrics, &err);
  CHECK(err.empty());
  REQUIRE(got.size() == 20);
  CHECK(got[2].entry == Entry::kUnit);
  CHECK(got[2].b == "seconds");
  CHECK(got[5].entry == Entry::kHelp);
  CHECK(got[5].a == "help2");
  CHECK(got[5].b == "escape \\ \n \\ \" \\x chars");
  CHECK(got[6].entry == Entry::kUnit);
  CHECK(got[6].b == "");
  CHECK(got[7].ts == 123123);
  CHECK(got[9].a == "hhh_bucket{le=\"+Inf\"}");
  CHECK(got[9].v == 1);
  CHECK_FALSE(got[9].has_ts);
  CHECK(got[11].ts == 0);
  CHECK(got[10].b == "gaugehistogram");
  CHECK(got[13].a == "foo_total");
  CHECK(got[13].ts == 1520879607789);
  CHECK(got[14].a == "foo_created");
  CHECK(got[16].b == "{__name__=\"ss\", ss=\"foo\"}");
  CHECK(got[19].b == "{__name__=\"go.gc\", \"label.x\"=\"v\"}");

  // Exemplars are parsed.
  Parser p(in, Format::kOpenMetrics);
  Exemplar ex;
  int found = 0;
  for (Entry e; (e = p.Next()) != Entry::kEOF && e != Entry::kInvalid;) {
    if (e == Entry::kSeries && p.GetExemplar(&ex)) {
      ++found;
      if (p.Series() == "ggh_bucket{le=\"+Inf\"}") {
        CHECK(ex.labels.size() == 2);
        CHECK(ex.value == 4);
        CHECK(ex.has_timestamp);
        CHECK(ex.timestamp == 123123);
      }
    }
  }
  CHECK(found == 3);

  // _created series are kept by default and skipped on request.
  auto skipped = ParseAll(in, Format::kOpenMetrics, nullptr, ParserOptions{true});
  CHECK(skipped.size() == got.size() - 1);
}

TEST_CASE("OpenMetrics errors use Prometheus' wording", "[scraper][textparse]") {
  struct Case {
    std::string in, err;
  };
  std::vector<Case> cases = {
      {"", "data does not end with # EOF"},
      {"\n", "expected a valid start token, got \"\\n\" (\"INVALID\") while parsing: \"\\n\""},
      {"metric", "expected value after metric, got \"metric\" (\"EOF\") while parsing: \"metric\""},
      {"metric 1", "data does not end with # EOF"},
      {"metric 1\n", "data does not end with # EOF"},
      {"metric_total 1 # {aa=\"bb\"} 4", "data does not end with # EOF"},
      {"a\n#EOF\n", "expected value after metric, got \"\\n\" (\"INVALID\") while parsing: \"a\\n\""},
      {" a 1\n#EOF\n", "expected a valid start token, got \" \" (\"INVALID\") while parsing: \" \""},
      {"9\n#EOF\n", "expected a valid start token, got \"9\" (\"INVALID\") while parsing: \"9\""},
      {"# TYPE u untyped\n#EOF\n", "invalid metric type \"untyped\""},
      {"# TYPE c counter \n#EOF\n", "invalid metric type \"counter \""},
      {"#  TYPE c counter\n#EOF\n",
       "expected a valid start token, got \"#  \" (\"INVALID\") while parsing: \"#  \""},
      {"# TYPE \n#EOF\n",
       "expected metric name after TYPE, got \"\\n\" (\"INVALID\") while parsing: \"# TYPE \\n\""},
      {"# TYPE m\n#EOF\n", "expected text in TYPE"},
      {"# UNIT metric suffix\n#EOF\n", "unit \"suffix\" not a suffix of metric \"metric\""},
      {"# UNIT metricsuffix suffix\n#EOF\n",
       "unit \"suffix\" not a suffix of metric \"metricsuffix\""},
      {"# HELP m\n#EOF\n", "expected text in HELP"},
      {"a\t1\n#EOF\n", "expected value after metric, got \"\\t\" (\"INVALID\") while parsing: \"a\\t\""},
      {"a 1\t2\n#EOF\n",
       "strconv.ParseFloat: parsing \"1\\t2\": invalid syntax while parsing: \"a 1\\t2\""},
      {"a 1 2 \n#EOF\n",
       "expected next entry after timestamp, got \" \\n\" (\"INVALID\") while parsing: \"a 1 2 \\n\""},
      {"a 1 2 #\n#EOF\n",
       "expected next entry after timestamp, got \" #\\n\" (\"TIMESTAMP\") while parsing: "
       "\"a 1 2 #\\n\""},
      {"a 1 1z\n#EOF\n",
       "strconv.ParseFloat: parsing \"1z\": invalid syntax while parsing: \"a 1 1z\""},
      {"# EOF\na 1", "unexpected data after # EOF"},
      {"# EOF\n\n", "unexpected data after # EOF"},
      {"# EOFa 1", "unexpected data after # EOF"},
      {"#\tTYPE c counter\n",
       "expected a valid start token, got \"#\\t\" (\"INVALID\") while parsing: \"#\\t\""},
      {"# TYPE c  counter\n", "invalid metric type \" counter\""},
      {"a 1 1 1\n# EOF\n",
       "expected next entry after timestamp, got \" 1\\n\" (\"TIMESTAMP\") while parsing: "
       "\"a 1 1 1\\n\""},
      {"a{,b=\"c\"} 1\n# EOF\n",
       "expected label name, got \",b\" (\"COMMA\") while parsing: \"a{,b\""},
      {"a{b=\"c\"d=\"e\"} 1\n# EOF\n",
       "expected comma or brace close, got \"d=\" (\"LNAME\") while parsing: \"a{b=\\\"c\\\"d=\""},
      {"a{b=\"c\",,d=\"e\"} 1\n# EOF\n",
       "expected label name, got \",d\" (\"COMMA\") while parsing: \"a{b=\\\"c\\\",,d\""},
      {"something_weird{problem=\"\n# EOF\n",
       "expected label value, got \"\\\"\\n\" (\"INVALID\") while parsing: "
       "\"something_weird{problem=\\\"\\n\""},
      {"custom_metric_total 1 # {aa=bb}\n# EOF\n",
       "expected label value, got \"b\" (\"INVALID\") while parsing: "
       "\"custom_metric_total 1 # {aa=b\""},
      {"custom_metric_total 1 # {aa=\"bb\"}\n# EOF\n",
       "expected value after exemplar labels, got \"\\n\" (\"INVALID\") while parsing: "
       "\"custom_metric_total 1 # {aa=\\\"bb\\\"}\\n\""},
      {"custom_metric_total 1 # {aa=\"bb\"}",
       "expected value after exemplar labels, got \"}\" (\"EOF\") while parsing: "
       "\"custom_metric_total 1 # {aa=\\\"bb\\\"}\""},
      {"custom_metric_total 1 # {bb}",
       "expected label name, got \"}\" (\"BCLOSE\") while parsing: \"custom_metric_total 1 # {bb}\""},
      {"custom_metric_total 1 # {aa=\"bb\"} true",
       "strconv.ParseFloat: parsing \"true\": invalid syntax while parsing: "
       "\"custom_metric_total 1 # {aa=\\\"bb\\\"} true\""},
      {"{b=\"c\",} 1", "metric name not set while parsing: \"{b=\\\"c\\\",} 1\""},
      {"a 1 NaN", "invalid timestamp NaN"},
      {"a 1 -Inf", "invalid timestamp -Inf"},
      {"a 1 Inf", "invalid timestamp +Inf"},
      {"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 NaN",
       "invalid exemplar timestamp NaN"},
      {"#", "expected a valid start token, got \"#\" (\"INVALID\") while parsing: \"#\""},
      {"# H", "expected a valid start token, got \"# H\" (\"INVALID\") while parsing: \"# H\""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(Bare(ErrorOf(c.in, Format::kOpenMetrics)) == c.err);
  }
  CHECK(ParseAll("# EOF", Format::kOpenMetrics).empty());
  std::string err;
  ParseAll("a{b=\"\\x00\"} 1\n# EOF", Format::kOpenMetrics, &err);
  CHECK(err.empty());
}

TEST_CASE("content type selects the parser as Prometheus does", "[scraper][textparse]") {
  CHECK(*FormatForContentType("text/plain; version=0.0.4; charset=utf-8", "") == Format::kText);
  CHECK(*FormatForContentType("application/openmetrics-text; version=1.0.0; charset=utf-8", "") ==
        Format::kOpenMetrics);
  CHECK(FormatForContentType("", "").status().message() ==
        "non-compliant scrape target sending blank Content-Type and no "
        "fallback_scrape_protocol specified for target");
  CHECK(FormatForContentType("application/json", "").status().message() ==
        "received unsupported Content-Type \"application/json\" and no "
        "fallback_scrape_protocol specified for target");
  CHECK(*FormatForContentType("application/json", "PrometheusText0.0.4") == Format::kText);
  CHECK(*FormatForContentType("", "OpenMetricsText1.0.0") == Format::kOpenMetrics);
}

TEST_CASE("metric family names drop the suffixes of their type", "[scraper][textparse]") {
  CHECK(MetricFamilyName("foo_total", MetricType::kCounter) == "foo");
  CHECK(MetricFamilyName("foo_bucket", MetricType::kHistogram) == "foo");
  CHECK(MetricFamilyName("foo_count", MetricType::kSummary) == "foo");
  CHECK(MetricFamilyName("foo_count", MetricType::kGauge) == "foo_count");
  CHECK(MetricFamilyName("build_info", MetricType::kInfo) == "build");
}
