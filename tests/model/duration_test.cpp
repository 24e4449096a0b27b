#include <catch2/catch.hpp>

#include "model/duration.h"

using hearth::FormatDuration;
using hearth::ParseDuration;

TEST_CASE("durations parse as Prometheus' model.ParseDuration", "[model][duration]") {
  CHECK(*ParseDuration("0") == 0);
  CHECK(*ParseDuration("0s") == 0);
  CHECK(*ParseDuration("500ms") == 500);
  CHECK(*ParseDuration("15s") == 15000);
  CHECK(*ParseDuration("1h30m") == 5400000);
  CHECK(*ParseDuration("1d") == 86400000);
  CHECK(*ParseDuration("1w") == 7 * 86400000LL);
  CHECK(*ParseDuration("1y") == 365 * 86400000LL);
  CHECK(*ParseDuration("1m0s") == 60000);        // Grafana's $__rate_interval
  CHECK(*ParseDuration("1h0m0s") == 3600000);
  CHECK(*ParseDuration("1y2w3d4h5m6s7ms") ==
        365 * 86400000LL + 14 * 86400000LL + 3 * 86400000LL + 4 * 3600000LL + 5 * 60000 + 6007);
}

TEST_CASE("bad durations fail with Prometheus' wording", "[model][duration]") {
  // Prometheus 3.x (prometheus/common's hand-written parser) reads "." as the unit.
  CHECK(ParseDuration("1.5h").status().message() == R"(unknown unit "." in duration "1.5h")");
  CHECK(ParseDuration("-1m").status().message() == R"(not a valid duration string: "-1m")");
  CHECK(ParseDuration("").status().message() == "empty duration string");
  CHECK(ParseDuration("5x").status().message() == R"(unknown unit "x" in duration "5x")");
  CHECK(ParseDuration("1m1h").status().message() == R"(not a valid duration string: "1m1h")");
  CHECK(ParseDuration("1s1s").status().message() == R"(not a valid duration string: "1s1s")");
  CHECK(ParseDuration("h").status().message() == R"(not a valid duration string: "h")");
  CHECK(ParseDuration("300y").status().message() == "duration out of range");
  CHECK(ParseDuration("99999999999999999999s").status().message() ==
        R"(not a valid duration string: "99999999999999999999s")");
  CHECK(ParseDuration("292y").ok());
}

TEST_CASE("durations print as model.Duration.String()", "[model][duration]") {
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(500) == "500ms");
  CHECK(FormatDuration(90 * 60000) == "1h30m");
  CHECK(FormatDuration(14 * 86400000LL) == "2w");
  CHECK(FormatDuration(90 * 86400000LL) == "90d");  // not 12w6d
  CHECK(FormatDuration(365 * 86400000LL) == "1y");
  CHECK(FormatDuration(60000) == "1m");
  CHECK(FormatDuration(61001) == "1m1s1ms");
}

TEST_CASE("API duration parameters accept seconds or durations", "[model][duration]") {
  CHECK(*hearth::ParseDurationOrSeconds("15") == 15000);
  CHECK(*hearth::ParseDurationOrSeconds("0.5") == 500);
  CHECK(*hearth::ParseDurationOrSeconds("1m0s") == 60000);
  CHECK_FALSE(hearth::ParseDurationOrSeconds("abc").ok());
  CHECK_FALSE(hearth::ParseDurationOrSeconds("1e30").ok());
}
