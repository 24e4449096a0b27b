#pragma once

// A line chart for the terminal (`hearthctl query range --chart`): one line per series, a
// y axis with unit-scaled tick labels, a time axis and a legend. With colour, lines are drawn in
// braille dots (2x4 per character cell) in one ANSI colour per series; without, each series
// draws with its own marker character so that the chart stays readable in logs and pipes.
//
// Thread-safety: pure function.

#include <cstdint>
#include <string>
#include <vector>

#include "model/sample.h"

namespace hearth::ctl {

struct ChartSeries {
  std::string name;             // legend text: up{instance="a:1"}
  std::vector<Sample> samples;  // in time order
};

struct ChartOptions {
  int width = 80;   // whole chart, in terminal columns
  int height = 16;  // plot rows
  bool color = false;
  std::string unit;  // "s", "B", "B/s", "/s", "" (plain numbers)
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t step_ms = 0;      // gaps longer than 1.5 steps break a line
  bool utc = true;          // time labels in UTC (else local time)
};

std::string RenderChart(const std::vector<ChartSeries>& series, const ChartOptions& opts);

// A value with an SI prefix (or binary prefixes for bytes) and the unit: "1.5k", "250ms",
// "3.2MiB/s", "0".
std::string FormatWithUnit(double v, const std::string& unit);

// The unit a query's values most likely have, from metric-name suffixes and functions:
// rate(x_bytes_total[5m]) -> "B/s", histogram_quantile(..., x_seconds_bucket) -> "s".
std::string GuessUnit(const std::string& query);

}  // namespace hearth::ctl
