#include "cmd/hearthctl/chart.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace hearth::ctl {
namespace {

constexpr const char* kColors[] = {"\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m",
                                   "\x1b[36m", "\x1b[31m", "\x1b[92m", "\x1b[94m"};
constexpr char kMarkers[] = {'*', '+', 'o', 'x', '#', '%', '@', '&'};
constexpr int kPalette = 8;
constexpr const char* kReset = "\x1b[0m";

// Terminal columns taken by a UTF-8 string (every code point counts one).
size_t Columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string PadLeft(const std::string& s, size_t width) {
  size_t w = Columns(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A number with at most three significant digits, trailing zeros dropped: 1.5, 250, 0.125.
std::string Short(double v) {
  double a = std::fabs(v);
  int decimals = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// "Nice" step (1, 2, 5 x 10^k) for about `target` intervals over `range`.
double NiceStep(double range, int target) {
  double raw = range / std::max(1, target);
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

struct TimeTick {
  int64_t interval_ms;
  const char* format;  // strftime
};

TimeTick ChooseTimeTick(int64_t range_ms, int max_ticks) {
  static constexpr TimeTick kTicks[] = {
      {1000, "%H:%M:%S"},         {2000, "%H:%M:%S"},         {5000, "%H:%M:%S"},
      {10000, "%H:%M:%S"},        {15000, "%H:%M:%S"},        {30000, "%H:%M:%S"},
      {60000, "%H:%M"},           {120000, "%H:%M"},          {300000, "%H:%M"},
      {600000, "%H:%M"},          {900000, "%H:%M"},          {1800000, "%H:%M"},
      {3600000, "%H:%M"},         {7200000, "%H:%M"},         {10800000, "%H:%M"},
      {21600000, "%m-%d %H:%M"},  {43200000, "%m-%d %H:%M"},  {86400000, "%Y-%m-%d"},
      {172800000, "%Y-%m-%d"},    {604800000, "%Y-%m-%d"},    {2592000000, "%Y-%m-%d"},
      {31536000000, "%Y"}};
  for (const TimeTick& t : kTicks) {
    if (range_ms / t.interval_ms <= max_ticks) return t;
  }
  return kTicks[sizeof(kTicks) / sizeof(kTicks[0]) - 1];
}

std::string FormatTime(int64_t ms, const char* format, bool utc) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (utc) {
    gmtime_r(&secs, &tm);
  } else {
    localtime_r(&secs, &tm);
  }
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

int64_t ZoneOffsetMs(int64_t ms, bool utc) {
  if (utc) return 0;
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return static_cast<int64_t>(tm.tm_gmtoff) * 1000;
}

// The plot area: braille dots with a colour per cell, or marker characters.
class Canvas {
 public:
  Canvas(int cols, int rows, bool braille)
      : cols_(cols), rows_(rows), braille_(braille),
        dots_(static_cast<size_t>(cols * rows), 0), owner_(static_cast<size_t>(cols * rows), -1) {}

  int width_px() const { return braille_ ? cols_ * 2 : cols_; }
  int height_px() const { return braille_ ? rows_ * 4 : rows_; }

  void Set(int x, int y, int series) {
    if (x < 0 || y < 0 || x >= width_px() || y >= height_px()) return;
    int cx = braille_ ? x / 2 : x, cy = braille_ ? y / 4 : y;
    size_t i = static_cast<size_t>(cy * cols_ + cx);
    if (braille_) {
      static constexpr uint8_t kBits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
      dots_[i] |= kBits[x % 2][y % 4];
    } else {
      dots_[i] = 1;
    }
    owner_[i] = static_cast<int16_t>(series);
  }

  void Line(int x0, int y0, int x1, int y1, int series) {
    int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    while (true) {
      Set(x0, y0, series);
      if (x0 == x1 && y0 == y1) break;
      int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  // Row `r` of the plot, with colours when `color`.
  std::string Row(int r, bool color) const {
    std::string out;
    int current = -1;
    for (int c = 0; c < cols_; ++c) {
      size_t i = static_cast<size_t>(r * cols_ + c);
      if (dots_[i] == 0) {
        if (color && current != -1) {
          out += kReset;
          current = -1;
        }
        out.push_back(' ');
        continue;
      }
      int s = owner_[i] % kPalette;
      if (color && s != current) {
        out += kColors[s];
        current = s;
      }
      if (braille_) {
        AppendUtf8(&out, 0x2800 + dots_[i]);
      } else {
        out.push_back(kMarkers[s]);
      }
    }
    if (color && current != -1) out += kReset;
    return out;
  }

 private:
  int cols_, rows_;
  bool braille_;
  std::vector<uint8_t> dots_;
  std::vector<int16_t> owner_;
};

}  // namespace

std::string FormatWithUnit(double v, const std::string& unit) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0" + (unit.empty() || unit[0] == '/' ? "" : unit);
  double a = std::fabs(v);
  bool bytes = unit.rfind("B", 0) == 0;
  bool seconds = unit.rfind("s", 0) == 0;
  std::string rest = unit;  // unit without the base, e.g. "/s" of "B/s"
  if (bytes || seconds) rest = unit.substr(1);
  if (bytes) {
    static constexpr const char* kBin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    while (a >= 1024 && i < 6) {
      a /= 1024;
      v /= 1024;
      ++i;
    }
    if (Short(std::fabs(v)) == "1024" && i < 6) {
      v /= 1024;
      ++i;
    }
    return Short(v) + kBin[i] + rest;
  }
  static constexpr const char* kBig[] = {"", "k", "M", "G", "T", "P", "E"};
  static constexpr const char* kSmall[] = {"", "m", "µ", "n", "p"};
  std::string base = seconds ? "s" : "";
  if (a >= 1000 && !seconds) {
    int i = 0;
    while (a >= 1000 && i < 6) {
      a /= 1000;
      v /= 1000;
      ++i;
    }
    if (Short(std::fabs(v)) == "1000" && i < 6) {
      v /= 1000;
      ++i;
    }
    return Short(v) + kBig[i] + base + rest;
  }
  if (a < 1 && seconds) {
    int i = 0;
    while (a < 1 && i < 4) {
      a *= 1000;
      v *= 1000;
      ++i;
    }
    return Short(v) + kSmall[i] + base + rest;
  }
  if (a < 0.01) return fmt::format("{:.2g}", v) + base + rest;
  if (a < 1) return fmt::format("{:.3g}", v) + base + rest;
  return Short(v) + base + rest;
}

std::string GuessUnit(const std::string& query) {
  std::string base;
  if (query.find("_bytes") != std::string::npos) {
    base = "B";
  } else if (query.find("_seconds") != std::string::npos) {
    base = "s";
  } else if (query.find("_celsius") != std::string::npos) {
    base = "°C";
  } else if (query.find("_percent") != std::string::npos) {
    base = "%";
  }
  bool per_second = query.find("rate(") != std::string::npos ||
                    query.find("deriv(") != std::string::npos;
  if (query.find("histogram_quantile(") != std::string::npos) per_second = false;
  if (per_second) return base == "s" ? "" : base + "/s";  // seconds per second: a ratio
  return base;
}

std::string RenderChart(const std::vector<ChartSeries>& series, const ChartOptions& opts) {
  double lo = INFINITY, hi = -INFINITY;
  int64_t t0 = opts.start_ms, t1 = opts.end_ms;
  for (const auto& s : series) {
    for (const Sample& p : s.samples) {
      if (!std::isfinite(p.v)) continue;
      lo = std::min(lo, p.v);
      hi = std::max(hi, p.v);
      if (opts.start_ms == opts.end_ms) {
        t0 = std::min(t0, p.t);
        t1 = std::max(t1, p.t);
      }
    }
  }
  if (lo > hi) return "no data points to chart\n";
  if (t1 <= t0) t1 = t0 + 1;
  if (lo == hi) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  int rows = std::max(4, opts.height);
  double step = NiceStep(hi - lo, std::max(2, rows / 4));
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;

  // Y tick labels decide the left margin.
  std::vector<std::pair<int, std::string>> yticks;  // row, label
  size_t label_width = 1;
  for (double v = lo; v <= hi + step / 2; v += step) {
    double frac = (hi - v) / (hi - lo);
    int row = static_cast<int>(std::lround(frac * (rows - 1)));
    std::string label = FormatWithUnit(std::fabs(v) < step / 1e6 ? 0 : v, opts.unit);
    label_width = std::max(label_width, Columns(label));
    yticks.emplace_back(row, label);
  }
  int cols = std::max(10, opts.width - static_cast<int>(label_width) - 2);
  bool braille = opts.color;
  Canvas canvas(cols, rows, braille);
  auto px = [&](int64_t t) {
    return static_cast<int>(std::lround(static_cast<double>(t - t0) / static_cast<double>(t1 - t0) *
                                        (canvas.width_px() - 1)));
  };
  auto py = [&](double v) {
    return static_cast<int>(std::lround((hi - v) / (hi - lo) * (canvas.height_px() - 1)));
  };
  int64_t max_gap = opts.step_ms > 0 ? opts.step_ms * 3 / 2 : INT64_MAX;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& ss = series[i].samples;
    for (size_t j = 0; j < ss.size(); ++j) {
      if (!std::isfinite(ss[j].v)) continue;
      int x = px(ss[j].t), y = py(ss[j].v);
      if (j > 0 && std::isfinite(ss[j - 1].v) && ss[j].t - ss[j - 1].t <= max_gap) {
        canvas.Line(px(ss[j - 1].t), py(ss[j - 1].v), x, y, static_cast<int>(i));
      } else {
        canvas.Set(x, y, static_cast<int>(i));
      }
    }
  }

  std::string out;
  for (int r = 0; r < rows; ++r) {
    std::string label;
    bool tick = false;
    for (const auto& [row, l] : yticks) {
      if (row == r) {
        label = l;
        tick = true;
      }
    }
    out += PadLeft(label, label_width);
    out += tick ? " ┤" : " │";
    out += canvas.Row(r, opts.color);
    out += '\n';
  }

  // Time axis: ticks at round times in the display zone.
  TimeTick tt = ChooseTimeTick(t1 - t0, std::max(1, cols / 12));
  int64_t off = ZoneOffsetMs(t0, opts.utc);
  int64_t first = ((t0 + off + tt.interval_ms - 1) / tt.interval_ms) * tt.interval_ms - off;
  if (t0 + off < 0) first = ((t0 + off) / tt.interval_ms) * tt.interval_ms - off;
  std::string axis(label_width + 1, ' ');
  axis += "└";
  std::string labels(label_width + 2 + static_cast<size_t>(cols) + 16, ' ');
  std::vector<bool> tick_at(static_cast<size_t>(cols), false);
  size_t next_free = 0;
  for (int64_t t = first; t <= t1; t += tt.interval_ms) {
    int c = static_cast<int>(std::lround(static_cast<double>(t - t0) /
                                         static_cast<double>(t1 - t0) * (cols - 1)));
    if (c < 0 || c >= cols) continue;
    tick_at[static_cast<size_t>(c)] = true;
    std::string text = FormatTime(t, tt.format, opts.utc);
    size_t pos = label_width + 2 + static_cast<size_t>(c);
    if (pos < next_free || pos + text.size() > labels.size()) continue;
    labels.replace(pos, text.size(), text);
    next_free = pos + text.size() + 1;
  }
  for (int c = 0; c < cols; ++c) axis += tick_at[static_cast<size_t>(c)] ? "┬" : "─";
  while (!labels.empty() && labels.back() == ' ') labels.pop_back();
  out += axis + '\n' + labels + '\n';
  std::string zone = opts.utc ? "UTC" : FormatTime(t0, "%Z", false);
  out += std::string(label_width + 2, ' ') + "time (" + zone + ")";
  if (opts.step_ms > 0) out += ", step " + FormatWithUnit(opts.step_ms / 1000.0, "s");
  if (!opts.unit.empty()) out += ", values in " + opts.unit;
  out += '\n';

  // Legend.
  constexpr size_t kMaxLegend = 20;
  for (size_t i = 0; i < series.size() && i < kMaxLegend; ++i) {
    int s = static_cast<int>(i % kPalette);
    out += "  ";
    if (opts.color) {
      out += kColors[s];
      out += "━━";
      out += kReset;
    } else {
      out += std::string(2, kMarkers[s]);
    }
    out += ' ';
    out += series[i].name.empty() ? "{}" : series[i].name;
    out += '\n';
  }
  if (series.size() > kMaxLegend) {
    out += fmt::format("  ... and {} more series\n", series.size() - kMaxLegend);
  }
  return out;
}

}  // namespace hearth::ctl
