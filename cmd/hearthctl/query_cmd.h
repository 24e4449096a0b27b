#pragma once

// `hearthctl query instant|range|series|labels`: promtool's argument shape
// (`query instant <server> <expr> [--time]`, `query range <server> <expr> [--start] [--end]
// [--step]`, `query series <server> --match ...`, `query labels <server> <name> [--match]`),
// output as a table (default), `--format json` or `--format csv`, and `--chart` for range
// queries. `--data-dir DIR` in place of the server queries a data directory directly.
//
// Each function takes the arguments after the command words and returns the exit code:
// 0 success, 1 query or connection error, 2 bad usage.

#include <string>
#include <vector>

namespace hearth::ctl {

int QueryInstantCommand(const std::vector<std::string>& args);
int QueryRangeCommand(const std::vector<std::string>& args);
int QuerySeriesCommand(const std::vector<std::string>& args);
int QueryLabelsCommand(const std::vector<std::string>& args);

}  // namespace hearth::ctl
