#pragma once

// Prometheus' alert template language: Go's text/template with Prometheus' functions, as used in
// the labels and annotations of alerting rules.
//
// Supported: text, {{- -}} trimming, comments, pipelines, variables ($labels, $externalLabels,
// $externalURL, $value predeclared; `:=` and `=`), fields (.Labels.x, $labels.x, (pipeline).x),
// if / else if / else, range (over query results, maps and ints; `$i, $e :=`; break/continue),
// with / else with, and the functions:
//   Go builtins: and or not len index slice print printf println html js urlquery
//                eq ne lt le gt ge
//   Prometheus:  query first label value strvalue sortByLabel args reReplaceAll match title
//                toUpper toLower safeHtml graphLink tableLink stripPort stripDomain humanize
//                humanize1024 humanizeDuration humanizePercentage humanizeTimestamp toTime
//                pathPrefix externalURL parseDuration
// Not supported (a parse error naming the position): {{define}}, {{template}}, {{block}},
// `call`, method calls with arguments.
//
// Output matches Go byte for byte where rule files depend on it: fmt's verbs and its error forms
// ("%!d(float64=1.5)"), floats in Go's shortest form ("1e+06"), humanize* exactly as Prometheus.
//
// Thread-safety: a parsed Template is immutable; Execute may run concurrently.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "model/labels.h"
#include "model/status.h"
#include "query/value.h"

namespace hearth::rules {

// Runs a PromQL instant query at t (ms) for the template function `query`. A scalar result is
// returned as a one-element vector with no labels (as Prometheus' rule query function does).
using TemplateQueryFunc =
    std::function<Result<promql::Vector>(std::string_view query, int64_t t_ms)>;

// What `.` is in an alert template (Prometheus' AlertTemplateData).
struct AlertTemplateData {
  Labels labels;            // the alert's labels (the query result's series)
  Labels external_labels;
  std::string external_url;
  double value = 0;
};

// AlertTemplateData converted once into the template's values, for expanding several templates
// (an alert's labels and annotations) over the same data. Immutable; cheap to copy.
class TemplateInput {
 public:
  explicit TemplateInput(const AlertTemplateData& data);
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// The environment of one expansion.
struct TemplateEnv {
  int64_t time_ms = 0;       // `query` evaluates at this time
  TemplateQueryFunc query;   // empty: `query` fails with an error
  std::string external_url;  // `externalURL` and `pathPrefix`
  // Bounds on one expansion (a runaway `range` fails instead of hanging the rule group).
  int64_t max_steps = 10'000'000;
  size_t max_output_bytes = 16 << 20;
};

class Template {
 public:
  // Parses `text`. `name` is used in error messages (Prometheus names alert templates
  // "__alert_<alertname>"). Parse errors read like Go's, with the column added:
  //   template: __alert_X:1:15: function "humanise" not defined
  static Result<Template> Parse(std::string_view text, std::string_view name);

  // Expands the template. Errors read like Go's execution errors:
  //   template: __alert_X:1:133: executing "__alert_X" at <humanize "x">: error calling
  //   humanize: strconv.ParseFloat: parsing "x": invalid syntax
  // (columns on the first line count Prometheus' 112-byte variable prefix, as Go reports them).
  Result<std::string> Execute(const AlertTemplateData& data, const TemplateEnv& env) const;
  Result<std::string> Execute(const TemplateInput& input, const TemplateEnv& env) const;

  // True when the text has no actions: Execute returns it unchanged.
  bool IsConstant() const;
  const std::string& text() const;
  const std::string& name() const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  Template(const Template&);
  Template& operator=(const Template&);
  ~Template();

 private:
  struct Impl;
  explicit Template(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Expands `text` as Prometheus' rules do for one alert: on any error (parse or execution) the
// result is "<error expanding template: error executing template NAME: ...>" (or "error parsing
// template NAME: ..."), so a broken annotation never stops the alert.
std::string ExpandAlertTemplate(const Template& t, const AlertTemplateData& data,
                                const TemplateEnv& env);
std::string ExpandAlertTemplate(const Template& t, const TemplateInput& input,
                                const TemplateEnv& env);

// The humanize family exactly as Prometheus formats (exposed for tests and other users).
std::string Humanize(double v);
std::string Humanize1024(double v);
std::string HumanizeDuration(double seconds);
std::string HumanizePercentage(double ratio);
// Fails when v * 1e9 overflows int64 nanoseconds.
Result<std::string> HumanizeTimestamp(double unix_seconds);

// Prometheus' util/strutil links: "/graph?g0.expr=<QueryEscape(expr)>&g0.tab=1" (table) and
// "...&g0.tab=0" (graph).
std::string TableLinkForExpression(std::string_view expr);
std::string GraphLinkForExpression(std::string_view expr);
// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s);

}  // namespace hearth::rules
