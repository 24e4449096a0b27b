// JSON of query results and query statistics, byte for byte as Prometheus writes them
// (web/api/v1/json_codec.go, util/stats): sample values as strings, vector and matrix
// timestamps as seconds with three decimals, scalar and string result times as encoding/json
// floats, scalar values always in 'f' format.

#include "web/api_encode.h"

#include "model/format.h"

namespace hearth::web {
namespace {

struct ResultWriter {
  JsonWriter& w;

  void operator()(const promql::Scalar& s) {
    w.BeginArray();
    w.StdNumber(static_cast<double>(s.t) / 1000.0);
    std::string v;
    AppendGoFloat(&v, s.v, 'f');
    w.String(v);
    w.EndArray();
  }
  void operator()(const promql::String& s) {
    w.BeginArray();
    w.StdNumber(static_cast<double>(s.t) / 1000.0);
    w.String(s.v);
    w.EndArray();
  }
  void operator()(const promql::Vector& vec) {
    w.BeginArray();
    for (const auto& s : vec) {
      w.BeginObject();
      w.Key("metric");
      w.LabelSet(s.labels);
      w.Key("value");
      w.BeginArray();
      w.Timestamp(s.t);
      w.SampleValue(s.v);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  void operator()(const promql::Matrix& m) {
    w.BeginArray();
    for (const auto& series : m) {
      w.BeginObject();
      w.Key("metric");
      w.LabelSet(series.labels);
      // A series without float samples has no "values" (it would carry "histograms").
      if (!series.samples.empty()) {
        w.Key("values");
        w.BeginArray();
        for (const Sample& s : series.samples) {
          w.BeginArray();
          w.Timestamp(s.t);
          w.SampleValue(s.v);
          w.EndArray();
        }
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
  }
};

}  // namespace

std::string_view ResultTypeName(const promql::Value& v) {
  switch (v.index()) {
    case 0: return "scalar";
    case 1: return "vector";
    case 2: return "matrix";
    default: return "string";
  }
}

void WriteResult(JsonWriter& w, const promql::Value& v) { std::visit(ResultWriter{w}, v); }

void WriteQueryStats(JsonWriter& w, const promql::QueryStats& s, bool per_step) {
  w.BeginObject();
  w.Key("timings");
  w.BeginObject();
  w.Key("evalTotalTime");
  w.Number(s.eval_total_time);
  w.Key("resultSortTime");
  w.Number(s.result_sort_time);
  w.Key("queryPreparationTime");
  w.Number(s.query_preparation_time);
  w.Key("innerEvalTime");
  w.Number(s.inner_eval_time);
  w.Key("execQueueTime");
  w.Number(s.exec_queue_time);
  w.Key("execTotalTime");
  w.Number(s.exec_total_time);
  w.EndObject();
  w.Key("samples");
  w.BeginObject();
  if (per_step && !s.total_queryable_samples_per_step.empty()) {
    w.Key("totalQueryableSamplesPerStep");
    w.BeginArray();
    for (const auto& [t, n] : s.total_queryable_samples_per_step) {
      w.BeginArray();
      w.StdNumber(static_cast<double>(t) / 1000.0);
      w.Int(n);
      w.EndArray();
    }
    w.EndArray();
  }
  w.Member("totalQueryableSamples", s.total_queryable_samples);
  w.Member("samplesRead", s.samples_read);
  w.Member("peakSamples", s.peak_samples);
  w.EndObject();
  w.EndObject();
}

}  // namespace hearth::web
