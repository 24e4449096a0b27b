#pragma once

// Number literals as Prometheus' parser converts them, with Go's strconv semantics: internal to
// query/parser/.

#include <cstdint>
#include <optional>
#include <string_view>

namespace hearth::promql {

// Go's strconv.ParseInt(s, 0, 64) for the unsigned texts the lexer produces: "0x1F" (hex),
// "0755" (octal), decimal, with `_` between digits. nullopt on bad syntax or overflow.
std::optional<int64_t> ParseIntBase0(std::string_view s);

// Go's strconv.ParseFloat(s, 64) for the texts the lexer produces: decimal with optional
// fraction, exponent and underscores; "Inf", "NaN" in any case. nullopt on bad syntax. Sets
// *range_error when the value overflows (the result is then ±Inf, as in Go).
std::optional<double> ParseFloatGo(std::string_view s, bool* range_error);

}  // namespace hearth::promql
