#pragma once

// The constant table of PromQL function signatures (name, argument types, variadic, return
// type). The parser type-checks calls against it; the engine looks implementations up by name.

#include <span>
#include <string_view>

#include "query/parser/ast.h"

namespace hearth::promql {

// The signature of `name`, or nullptr for an unknown function.
const FunctionSpec* LookupFunction(std::string_view name);
// Every function, in table order.
std::span<const FunctionSpec> AllFunctions();

}  // namespace hearth::promql
