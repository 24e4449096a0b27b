#include <catch2/catch.hpp>

#include <cmath>

#include "model/strutil.h"

using namespace hearth;

TEST_CASE("floats parse as Go's strconv.ParseFloat", "[model][strutil]") {
  CHECK(*ParseGoFloat("1.5") == 1.5);
  CHECK(*ParseGoFloat("+1.5") == 1.5);
  CHECK(*ParseGoFloat("-1e3") == -1000);
  CHECK(*ParseGoFloat(".5") == 0.5);
  CHECK(*ParseGoFloat("0x1p-2") == 0.25);
  CHECK(*ParseGoFloat("0x10") == 16);
  CHECK(std::isinf(*ParseGoFloat("+Inf")));
  CHECK(*ParseGoFloat("-inf") < 0);
  CHECK(std::isinf(*ParseGoFloat("Infinity")));
  CHECK(std::isnan(*ParseGoFloat("NaN")));
  CHECK(std::isnan(*ParseGoFloat("nan")));
  CHECK(std::isinf(*ParseGoFloat("1e400")));
  CHECK(*ParseGoFloat("1e-400") == 0);
  CHECK_FALSE(ParseGoFloat(""));
  CHECK_FALSE(ParseGoFloat("1.5x"));
  CHECK_FALSE(ParseGoFloat("x"));
  CHECK_FALSE(ParseGoFloat("+"));
  CHECK_FALSE(ParseGoFloat("1 "));
  CHECK_FALSE(ParseGoFloat("--1"));
}

TEST_CASE("integers parse whole", "[model][strutil]") {
  CHECK(*ParseInt64("-42") == -42);
  CHECK(*ParseInt64("+42") == 42);
  CHECK_FALSE(ParseInt64("9223372036854775808"));
  CHECK_FALSE(ParseInt64("1.0"));
  CHECK(*ParseUint64("18446744073709551615") == 18446744073709551615ULL);
}

TEST_CASE("Go quoting", "[model][strutil]") {
  CHECK(QuoteGo("a\"b") == R"("a\"b")");
  CHECK(QuoteGo("tab\there") == R"("tab\there")");
  CHECK(QuoteGo("\x01") == R"("\x01")");
  CHECK(QuoteGo("日本") == "\"日本\"");
  CHECK(QuoteGo("\xff") == R"("\xff")");
}

TEST_CASE("splitting and trimming", "[model][strutil]") {
  CHECK(SplitString("a,b,,c", ',') == std::vector<std::string_view>{"a", "b", "", "c"});
  CHECK(TrimSpace("  x y\t\n") == "x y");
  CHECK(ToLowerAscii("AbC") == "abc");
}

TEST_CASE("UTF-8 encoding of runes, invalid ones as U+FFFD", "[model][strutil]") {
  auto enc = [](int64_t r) {
    std::string s;
    AppendUtf8(&s, r);
    return s;
  };
  CHECK(enc('a') == "a");
  CHECK(enc(0xE9) == "\xC3\xA9");             // é
  CHECK(enc(0x20AC) == "\xE2\x82\xAC");       // €
  CHECK(enc(0x1F600) == "\xF0\x9F\x98\x80");  // 😀
  CHECK(enc(0x7FF) == "\xDF\xBF");
  CHECK(enc(0x10FFFF) == "\xF4\x8F\xBF\xBF");
  CHECK(enc(0xD800) == "\xEF\xBF\xBD");
  CHECK(enc(0x110000) == "\xEF\xBF\xBD");
  CHECK(enc(-1) == "\xEF\xBF\xBD");
}
