#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "web/json_writer.h"

using namespace hearth;
using hearth::web::JsonWriter;

namespace {
std::string Str(std::string_view s) {
  std::string out;
  web::AppendJsonString(&out, s);
  return out;
}
}  // namespace

TEST_CASE("json strings escape as Go's encoding/json does", "[web][json]") {
  CHECK(Str("plain") == "\"plain\"");
  CHECK(Str("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(Str("\n\r\t") == "\"\\n\\r\\t\"");
  CHECK(Str(std::string_view("\x01\x08\x0c\x1f", 4)) == "\"\\u0001\\u0008\\u000c\\u001f\"");
  // HTML characters, as Prometheus (jsoniter compatible with the standard library) writes them.
  CHECK(Str("<a&b>") == "\"\\u003ca\\u0026b\\u003e\"");
  // Valid UTF-8 stays; U+2028/2029 are escaped; invalid bytes become U+FFFD.
  CHECK(Str("é日本🙂") == "\"é日本🙂\"");
  CHECK(Str("x\u2028y\u2029") == "\"x\\u2028y\\u2029\"");
  CHECK(Str("a\xff" "b") == "\"a\\ufffdb\"");
  CHECK(Str("\xc3") == "\"\\ufffd\"");                 // truncated sequence
  CHECK(Str("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  CHECK(Str("\x7f") == "\"\x7f\"");
  CHECK(Str(std::string_view("\0", 1)) == "\"\\u0000\"");
}

TEST_CASE("json writer places commas and formats numbers", "[web][json]") {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Member("status", "success");
  w.Key("list");
  w.BeginArray();
  w.Int(-3);
  w.Uint(18446744073709551615ULL);
  w.Bool(true);
  w.Null();
  w.BeginArray();
  w.EndArray();
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.Key("n");
  w.Number(6.21e-07);
  w.Key("m");
  w.Number(0.000141596);
  w.Key("s");
  w.StdNumber(1e-7);
  w.EndObject();
  CHECK(out ==
        R"({"status":"success","list":[-3,18446744073709551615,true,null,[],{}],)"
        R"("n":6.21e-07,"m":0.000141596,"s":1e-7})");
}

TEST_CASE("json sample values and timestamps match Prometheus", "[web][json]") {
  auto sample = [](double v) {
    std::string out;
    JsonWriter(&out).SampleValue(v);
    return out;
  };
  CHECK(sample(1) == "\"1\"");
  CHECK(sample(0.1) == "\"0.1\"");
  CHECK(sample(1e-7) == "\"1e-07\"");
  CHECK(sample(1.5e21) == "\"1.5e+21\"");
  CHECK(sample(123456789012345678.0) == "\"123456789012345680\"");
  CHECK(sample(std::numeric_limits<double>::quiet_NaN()) == "\"NaN\"");
  CHECK(sample(std::numeric_limits<double>::infinity()) == "\"+Inf\"");
  CHECK(sample(-std::numeric_limits<double>::infinity()) == "\"-Inf\"");
  CHECK(sample(-0.0) == "\"-0\"");
  auto ts = [](int64_t ms) {
    std::string out;
    JsonWriter(&out).Timestamp(ms);
    return out;
  };
  CHECK(ts(1435781451000) == "1435781451");
  CHECK(ts(1435781451005) == "1435781451.005");
  CHECK(ts(1435781451780) == "1435781451.780");
  CHECK(ts(-1500) == "-1.500");
  CHECK(ts(0) == "0");

  std::string labels;
  JsonWriter(&labels).LabelSet(Labels{{"job", "a<b"}, {"__name__", "up"}});
  CHECK(labels == R"({"__name__":"up","job":"a\u003cb"})");
  std::string empty;
  JsonWriter(&empty).LabelSet(Labels{});
  CHECK(empty == "{}");
}
