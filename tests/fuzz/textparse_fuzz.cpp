// Fuzz target: the exposition-format parsers (text 0.0.4 and OpenMetrics 1.0) on untrusted
// bytes. Invariants: no crash, no endless loop; Series() is a view into the body; decoding the
// labels of a series either fails with a message or yields __name__ == MetricName().
#include <cstdint>
#include <string_view>

#include "scraper/textparse/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearth::textparse;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (Format f : {Format::kText, Format::kOpenMetrics}) {
    for (bool skip : {false, true}) {
      Parser p(in, f, ParserOptions{skip});
      // Every entry consumes at least one byte, so size + 2 calls suffice.
      for (size_t guard = 0; guard < size + 2; ++guard) {
        Entry e = p.Next();
        if (e == Entry::kEOF) break;
        if (e == Entry::kInvalid) {
          if (p.status().ok() || p.status().message().empty()) __builtin_trap();
          break;
        }
        if (e == Entry::kSeries) {
          std::string_view s = p.Series();
          if (s.empty()) __builtin_trap();
          auto l = p.BuildLabels();
          if (l.ok() && l->Get("__name__") != p.MetricName()) __builtin_trap();
          Exemplar ex;
          (void)p.GetExemplar(&ex);
        } else if (e == Entry::kHelp || e == Entry::kType || e == Entry::kUnit) {
          (void)p.MetricFamily();
        }
      }
    }
  }
  return 0;
}
