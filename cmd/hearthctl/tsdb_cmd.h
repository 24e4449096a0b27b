#pragma once

// hearthctl tsdb analyze / tsdb dump (promtool's counterparts). Each takes the arguments after
// the command words and returns the process exit status.

#include <string>
#include <vector>

namespace hearth {

int RunTsdbAnalyze(const std::vector<std::string>& args);
int RunTsdbDump(const std::vector<std::string>& args);

}  // namespace hearth
