// /api/v1/admin/tsdb/*: only with --web.enable-admin-api.

#include "query/parser/parser.h"
#include "web/internal/api_impl.h"

namespace hearth::web {

void ApiImpl::AdminDeleteSeries(const HttpRequest&, const Form& form, ApiResponse& resp) {
  if (!CheckAdmin(resp)) return;
  std::vector<std::string_view> selectors = form.Values("match[]");
  if (selectors.empty()) return resp.Fail(ErrorType::kBadData, "no match[] parameter provided");
  auto start = ParseTimeParam(form, "start", kApiMinTime);
  if (!start.ok()) return resp.InvalidParam("start", start.status());
  auto end = ParseTimeParam(form, "end", kApiMaxTime);
  if (!end.ok()) return resp.InvalidParam("end", end.status());
  for (std::string_view s : selectors) {
    auto matchers = promql::ParseMetricSelector(s);
    if (!matchers.ok()) return resp.InvalidParam("match[]", matchers.status());
    if (Status st = storage_.DeleteSeries(*matchers, *start, *end); !st.ok()) {
      return resp.Fail(ErrorType::kInternal, st.message());
    }
  }
  // No data: 204.
}

void ApiImpl::AdminCleanTombstones(const HttpRequest&, const Form&, ApiResponse& resp) {
  if (!CheckAdmin(resp)) return;
  if (Status st = storage_.CleanTombstones(); !st.ok()) {
    return resp.Fail(ErrorType::kInternal, st.message());
  }
}

void ApiImpl::AdminSnapshot(const HttpRequest&, const Form& form, ApiResponse& resp) {
  if (!CheckAdmin(resp)) return;
  bool skip_head = false;
  if (std::string_view s = form.Value("skip_head"); !s.empty()) {
    auto b = ParseGoBool(s);
    if (!b.ok()) return resp.InvalidParam("skip_head", b.status());
    skip_head = *b;
  }
  auto name = storage_.Snapshot(skip_head);
  if (!name.ok()) {
    return resp.Fail(ErrorType::kInternal, "create snapshot: " + name.status().message());
  }
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Member("name", *name);
  w.EndObject();
}

}  // namespace hearth::web
