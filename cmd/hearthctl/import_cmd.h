#pragma once

// hearthctl tsdb import openmetrics <input file> [<data dir>] [--server URL]: backfill from
// OpenMetrics text, the input of `promtool tsdb create-blocks-from openmetrics`.

#include <string>
#include <vector>

namespace hearth::ctl {

int RunTsdbImportOpenMetrics(const std::vector<std::string>& args);

}  // namespace hearth::ctl
