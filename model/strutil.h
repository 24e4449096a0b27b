#pragma once

// Small string helpers with Go's semantics where Prometheus' behaviour depends on them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// Go's strconv.Quote for the characters that matter: `"`, `\`, control characters and invalid
// UTF-8 are escaped; valid UTF-8 is kept.
std::string QuoteGo(std::string_view s);

// Go's strconv.ParseFloat(s, 64): decimal, exponent, hex floats ("0x1p-2"), "Inf", "+Inf",
// "-Inf", "Infinity", "NaN" in any case, optional sign. The whole string must be consumed.
// Out-of-range values become ±Inf as Go does (Go also returns an error; callers here accept it).
std::optional<double> ParseGoFloat(std::string_view s);

// Decimal int64 with optional sign; the whole string must be consumed and fit.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUint64(std::string_view s);

std::vector<std::string_view> SplitString(std::string_view s, char sep);
std::string_view TrimSpace(std::string_view s);
std::string ToLowerAscii(std::string_view s);
std::string ToUpperAscii(std::string_view s);

// Appends the UTF-8 encoding of `rune`; invalid code points (surrogates, beyond U+10FFFF,
// negative) become U+FFFD, as Go's utf8.AppendRune does.
void AppendUtf8(std::string* out, int64_t rune);

}  // namespace hearth
