#include "rules/recording.h"

#include <algorithm>

#include <fmt/format.h>

namespace hearth::rules {

Result<promql::Vector> RecordingRule::Eval(int64_t ts, int64_t query_offset_ms,
                                           const QueryFunc& query, int64_t limit) {
  const int64_t t = ts - query_offset_ms;
  HEARTH_ASSIGN_OR_RETURN(promql::Vector vector, query(this->query(), t));
  LabelsBuilder lb;
  for (auto& s : vector) {
    lb.Reset(s.labels);
    lb.Set(kMetricName, name());
    for (const auto& l : labels()) lb.Set(l.name, l.value);
    s.labels = lb.Build();
    s.t = t;
  }
  if (vector.size() > 1) {
    std::vector<const Labels*> sorted;
    sorted.reserve(vector.size());
    for (const auto& s : vector) sorted.push_back(&s.labels);
    std::sort(sorted.begin(), sorted.end(), [](const Labels* a, const Labels* b) { return *a < *b; });
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (*sorted[i] == *sorted[i - 1]) {
        return Status(StatusCode::kExecution,
                      "vector contains metrics with the same labelset after applying rule labels");
      }
    }
  }
  if (limit > 0 && static_cast<int64_t>(vector.size()) > limit) {
    return Errorf(StatusCode::kExecution, "exceeded limit of {} with {} series", limit,
                  vector.size());
  }
  return vector;
}

std::string RecordingRule::Definition() const {
  return fmt::format("record: {}\nexpr: {}\nlabels: {}\n", name(), query(), labels().ToString());
}

}  // namespace hearth::rules
