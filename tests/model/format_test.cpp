#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "model/format.h"
#include "model/sample.h"

using namespace hearth;

TEST_CASE("sample values format as Prometheus' JSON", "[model][format]") {
  CHECK(FormatJsonSampleValue(2) == "2");
  CHECK(FormatJsonSampleValue(0.1) == "0.1");
  CHECK(FormatJsonSampleValue(1.0 / 3) == "0.3333333333333333");
  CHECK(FormatJsonSampleValue(1234567890123.5) == "1234567890123.5");
  CHECK(FormatJsonSampleValue(1e20) == "100000000000000000000");
  CHECK(FormatJsonSampleValue(1e21) == "1e+21");
  CHECK(FormatJsonSampleValue(1.5e21) == "1.5e+21");
  CHECK(FormatJsonSampleValue(1e-6) == "0.000001");
  CHECK(FormatJsonSampleValue(1e-7) == "1e-07");
  CHECK(FormatJsonSampleValue(-2.5e-7) == "-2.5e-07");
  CHECK(FormatJsonSampleValue(0) == "0");
  CHECK(FormatJsonSampleValue(-0.0) == "-0");
  CHECK(FormatJsonSampleValue(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(FormatJsonSampleValue(StaleNaN()) == "NaN");
  CHECK(FormatJsonSampleValue(INFINITY) == "+Inf");
  CHECK(FormatJsonSampleValue(-INFINITY) == "-Inf");
  CHECK(FormatJsonSampleValue(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
}

TEST_CASE("Go float formats f, e and g", "[model][format]") {
  CHECK(FormatGoFloat(1e21, 'f') == "1000000000000000000000");
  CHECK(FormatGoFloat(123.456, 'e') == "1.23456e+02");
  CHECK(FormatGoFloat(1e6, 'g') == "1e+06");
  CHECK(FormatGoFloat(1048576, 'g') == "1.048576e+06");
  CHECK(FormatGoFloat(123456, 'g') == "123456");
  CHECK(FormatGoFloat(0.0001, 'g') == "0.0001");
  CHECK(FormatGoFloat(0.00001, 'g') == "1e-05");
  CHECK(FormatGoFloat(0.005, 'g') == "0.005");
  CHECK(FormatGoFloat(1, 'e') == "1e+00");  // alert values in /api/v1/alerts
  CHECK(FormatExpositionValue(INFINITY) == "+Inf");
}

TEST_CASE("timestamps format as MarshalTimestamp", "[model][format]") {
  CHECK(FormatJsonTimestamp(1435781451000) == "1435781451");
  CHECK(FormatJsonTimestamp(1435781451005) == "1435781451.005");
  CHECK(FormatJsonTimestamp(1435781451780) == "1435781451.780");
  CHECK(FormatJsonTimestamp(4000) == "4");
  CHECK(FormatJsonTimestamp(0) == "0");
  CHECK(FormatJsonTimestamp(-1500) == "-1.500");
  CHECK(FormatJsonTimestamp(-5) == "-0.005");
  CHECK(FormatJsonTimestamp(std::numeric_limits<int64_t>::min()) == "-9223372036854775.808");
}

TEST_CASE("encoding/json numbers", "[model][format]") {
  CHECK(FormatJsonNumber(1435781451.78) == "1435781451.78");
  CHECK(FormatJsonNumber(4) == "4");
  CHECK(FormatJsonNumber(1e-7) == "1e-7");
  CHECK(FormatJsonNumber(1e21) == "1e+21");
}

TEST_CASE("RFC 3339 formatting and parsing", "[model][format]") {
  CHECK(FormatRFC3339Nano(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatRFC3339Nano(1704164645100) == "2024-01-02T03:04:05.1Z");
  CHECK(FormatRFC3339Millis(1704164645100) == "2024-01-02T03:04:05.100Z");
  CHECK(FormatRFC3339Millis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(*ParseRFC3339("2024-01-02T03:04:05.1Z") == 1704164645100);
  CHECK(*ParseRFC3339("2024-01-02T03:04:05Z") == 1704164645000);
  CHECK(*ParseRFC3339("2024-01-02T04:04:05.123456789+01:00") == 1704164645123);
  CHECK(*ParseRFC3339("2000-02-29T00:00:00Z") == 951782400000);
  CHECK_FALSE(ParseRFC3339("2024-01-02 03:04:05Z").ok());
  CHECK_FALSE(ParseRFC3339("2024-13-02T03:04:05Z").ok());
  CHECK_FALSE(ParseRFC3339("2024-01-02T03:04:05").ok());
  CHECK_FALSE(ParseRFC3339("2024-01-02T03:04:05.Z").ok());
}

TEST_CASE("API time parameters", "[model][format]") {
  CHECK(*ParseApiTime("4") == 4000);
  CHECK(*ParseApiTime("1712345678.123") == 1712345678123);
  CHECK(*ParseApiTime("1712345678.1234567") == 1712345678123);
  CHECK(*ParseApiTime("2024-01-02T03:04:05.1Z") == 1704164645100);
  CHECK(*ParseApiTime("-1.5") == -1500);
  // Exemplar probe: milliseconds sent as seconds must not fail.
  CHECK(ParseApiTime("1712345678123").ok());
  CHECK(ParseApiTime("1e300").ok());
  CHECK(ParseApiTime("abc").status().message() == R"(cannot parse "abc" to a valid timestamp)");
}

TEST_CASE("the stale marker is a NaN compared by bits", "[model][sample]") {
  double stale = StaleNaN();
  CHECK(std::isnan(stale));
  CHECK(IsStaleNaN(stale));
  CHECK_FALSE(IsStaleNaN(std::numeric_limits<double>::quiet_NaN()));
  CHECK_FALSE(IsStaleNaN(stale + 1));  // arithmetic yields an ordinary NaN
}
