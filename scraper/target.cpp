#include "scraper/target.h"

namespace hearth::scraper {

namespace {
uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}
}  // namespace

Labels Target::TargetLabels() const {
  LabelsBuilder b;
  for (const Label& l : labels) {
    if (!l.name.starts_with("__")) b.Set(l.name, l.value);
  }
  return b.Build();
}

Target FromScrapeTarget(const ScrapeTarget& st) {
  Target t;
  t.labels = st.labels;
  t.discovered_labels = st.discovered_labels;
  t.url = st.Url();
  t.interval_ms = st.interval_ms;
  t.timeout_ms = st.timeout_ms;
  t.hash = st.Hash();
  LabelsBuilder id(st.labels);
  id.Del(kScrapeIntervalLabel).Del(kScrapeTimeoutLabel);
  t.identity = Fnv1a(t.url, id.Build().Hash() * 1099511628211ULL);
  return t;
}

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    default: return "unknown";
  }
}

}  // namespace hearth::scraper
