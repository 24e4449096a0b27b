// /federate: the latest sample (within the lookback delta) of every series matching any
// match[], in the text exposition format with timestamps, as Prometheus' web/federate.go.

#include <algorithm>

#include "model/format.h"
#include "query/parser/parser.h"
#include "web/internal/api_impl.h"

namespace hearth::web {
namespace {

struct FederatedSample {
  Labels labels;
  Sample sample;
};

void AppendLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '"': *out += "\\\""; break;
      case '\n': *out += "\\n"; break;
      default: out->push_back(c);
    }
  }
}

void PlainError(HttpResponse& resp, int status, std::string msg) {
  resp.status = status;
  resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
  resp.SetHeader("X-Content-Type-Options", "nosniff");
  resp.body = std::move(msg) + "\n";
}

}  // namespace

void ApiImpl::Federate(const HttpRequest& req, HttpResponse& out) {
  if (web_ != nullptr && !web_->ready()) {
    PlainError(out, 503, "Service Unavailable");
    return;
  }
  auto form = Form::Parse(req);
  if (!form.ok()) {
    PlainError(out, 400, "error parsing form values: " + form.status().message());
    return;
  }
  std::vector<Matchers> sets;
  for (std::string_view s : form->Values("match[]")) {
    auto ms = promql::ParseMetricSelector(s);
    if (!ms.ok()) {
      PlainError(out, 400, ms.status().message());
      return;
    }
    sets.push_back(std::move(ms).value());
  }
  int64_t maxt = clock_.NowMs();
  int64_t mint = maxt - options_.lookback_delta_ms;
  std::vector<FederatedSample> samples;
  if (!sets.empty()) {
    auto querier = storage_.NewQuerier(mint, maxt);
    if (!querier.ok()) {
      PlainError(out, 500, querier.status().message());
      return;
    }
    storage::SelectHints hints;
    hints.start = mint;
    hints.end = maxt;
    std::vector<Labels> seen;
    for (const Matchers& ms : sets) {
      auto set = (*querier)->Select(true, hints, ms);
      while (set->Next()) {
        const storage::Series& s = set->At();
        auto it = s.Iterator();
        bool found = false;
        Sample last;
        if (it->Seek(mint)) {
          do {
            Sample x = it->At();
            if (x.t > maxt) break;
            last = x;
            found = true;
          } while (it->Next());
        }
        if (!found || IsStaleNaN(last.v)) continue;
        samples.push_back({s.labels(), last});
      }
      if (Status st = set->status(); !st.ok()) {
        PlainError(out, 500, st.message());
        return;
      }
    }
    // Several match[] may select the same series.
    std::sort(samples.begin(), samples.end(),
              [](const FederatedSample& a, const FederatedSample& b) { return a.labels < b.labels; });
    samples.erase(std::unique(samples.begin(), samples.end(),
                              [](const FederatedSample& a, const FederatedSample& b) {
                                return a.labels == b.labels;
                              }),
                  samples.end());
    std::stable_sort(samples.begin(), samples.end(),
                     [](const FederatedSample& a, const FederatedSample& b) {
                       return a.labels.MetricName() < b.labels.MetricName();
                     });
  }

  // External labels are added unless the series has them; `instance` always, empty when
  // absent, so that the federating server does not attach its own.
  std::vector<std::pair<std::string, std::string>> external;
  if (sources_.external_labels) {
    for (const Label& l : sources_.external_labels()) external.emplace_back(l.name, l.value);
  }
  if (std::none_of(external.begin(), external.end(),
                   [](const auto& p) { return p.first == "instance"; })) {
    external.emplace_back("instance", "");
  }
  std::sort(external.begin(), external.end());

  std::string body;
  std::string_view family;
  bool first_family = true;
  for (const FederatedSample& fs : samples) {
    std::string_view name = fs.labels.MetricName();
    if (first_family || name != family) {
      body += "# TYPE ";
      body += name;
      body += " untyped\n";
      family = name;
      first_family = false;
    }
    body += name;
    bool any = false;
    auto label = [&](std::string_view n, std::string_view v) {
      body.push_back(any ? ',' : '{');
      any = true;
      body += n;
      body += "=\"";
      AppendLabelValue(&body, v);
      body.push_back('"');
    };
    for (const Label& l : fs.labels) {
      if (l.name == kMetricName) continue;
      label(l.name, l.value);
    }
    for (const auto& [n, v] : external) {
      if (!fs.labels.Has(n)) label(n, v);
    }
    if (any) body.push_back('}');
    body.push_back(' ');
    body += FormatExpositionValue(fs.sample.v);
    body.push_back(' ');
    body += std::to_string(fs.sample.t);
    body.push_back('\n');
  }
  out.status = 200;
  out.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  out.body = std::move(body);
}

}  // namespace hearth::web
