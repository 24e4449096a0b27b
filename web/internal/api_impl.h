#pragma once

// The API's handlers, shared by web/api*.cpp. Not part of web/'s public interface.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/clock.h"
#include "model/log.h"
#include "model/matcher.h"
#include "query/engine.h"
#include "tsdb/storage/storage.h"
#include "web/api.h"
#include "web/api_encode.h"
#include "web/api_params.h"
#include "web/json_writer.h"

namespace hearth::web {

// Prometheus' errorType values.
enum class ErrorType {
  kNone,
  kTimeout,        // 503
  kCanceled,       // 499
  kExecution,      // 422
  kBadData,        // 400
  kInternal,       // 500
  kUnavailable,    // 500
  kNotFound,       // 404
  kNotAcceptable,  // 406
};
std::string_view ErrorTypeName(ErrorType t);
int ErrorTypeHttpStatus(ErrorType t);

// What a handler produces: an error, or `data` (written with Data()) plus warnings. A handler
// that writes no data answers 204 No Content.
class ApiResponse {
 public:
  ApiResponse();
  // The writer for the `data` member. Call once.
  JsonWriter Data();
  bool has_data() const { return has_data_; }

  void Fail(ErrorType type, std::string message);
  // `invalid parameter "<name>": <message>` (bad_data).
  void InvalidParam(std::string_view name, const Status& st);
  bool failed() const { return error_ != ErrorType::kNone; }

  void Warn(std::string w) { warnings_.push_back(std::move(w)); }
  void Info(std::string i) { infos_.push_back(std::move(i)); }

  // Writes the envelope into `out`: status, headers and body.
  void Finish(HttpResponse& out);

 private:
  std::string body_;  // starts with the success envelope's opening
  bool has_data_ = false;
  ErrorType error_ = ErrorType::kNone;
  std::string error_message_;
  std::vector<std::string> warnings_;
  std::vector<std::string> infos_;
};

// Parses match[] selectors; at least one matcher of each must not match "". Errors are the
// message only (callers add `invalid parameter "match[]"`).
Result<std::vector<Matchers>> ParseMatchers(const std::vector<std::string_view>& selectors);


// JSON of a PromQL syntax tree as /api/v1/parse_query returns it (web/api_parse_query.cpp).
void WriteAstJson(JsonWriter& w, const promql::Expr& e);

class ApiImpl {
 public:
  using Handler = void (ApiImpl::*)(const HttpRequest&, const Form&, ApiResponse&);

  ApiImpl(ApiOptions options, storage::Storage& storage, QueryEngine& engine,
          ApiSources sources, const Clock& clock, Logger logger, Matcher cors);

  void Register(WebServer& web);

  // Handlers (api.cpp: queries; api_metadata.cpp: series, labels, metadata; api_status.cpp:
  // targets, rules, status; api_admin.cpp; federate.cpp).
  void Query(const HttpRequest&, const Form&, ApiResponse&);
  void QueryRange(const HttpRequest&, const Form&, ApiResponse&);
  void QueryExemplars(const HttpRequest&, const Form&, ApiResponse&);
  void FormatQuery(const HttpRequest&, const Form&, ApiResponse&);
  void ParseQuery(const HttpRequest&, const Form&, ApiResponse&);
  void Series(const HttpRequest&, const Form&, ApiResponse&);
  void DropSeries(const HttpRequest&, const Form&, ApiResponse&);
  void LabelNames(const HttpRequest&, const Form&, ApiResponse&);
  void LabelValues(const HttpRequest&, const Form&, ApiResponse&);
  void Metadata(const HttpRequest&, const Form&, ApiResponse&);
  void Targets(const HttpRequest&, const Form&, ApiResponse&);
  void TargetsMetadata(const HttpRequest&, const Form&, ApiResponse&);
  void ScrapePools(const HttpRequest&, const Form&, ApiResponse&);
  void Notifications(const HttpRequest&, const Form&, ApiResponse&);
  void Rules(const HttpRequest&, const Form&, ApiResponse&);
  void Alerts(const HttpRequest&, const Form&, ApiResponse&);
  void Alertmanagers(const HttpRequest&, const Form&, ApiResponse&);
  void StatusConfig(const HttpRequest&, const Form&, ApiResponse&);
  void StatusFlags(const HttpRequest&, const Form&, ApiResponse&);
  void StatusRuntimeInfo(const HttpRequest&, const Form&, ApiResponse&);
  void StatusBuildInfo(const HttpRequest&, const Form&, ApiResponse&);
  void StatusTsdb(const HttpRequest&, const Form&, ApiResponse&);
  void StatusWalReplay(const HttpRequest&, const Form&, ApiResponse&);
  void AdminDeleteSeries(const HttpRequest&, const Form&, ApiResponse&);
  void AdminCleanTombstones(const HttpRequest&, const Form&, ApiResponse&);
  void AdminSnapshot(const HttpRequest&, const Form&, ApiResponse&);
  void ImportOpenMetrics(const HttpRequest&, const Form&, ApiResponse&);  // web/import.cpp
  // Plain HTTP handlers.
  void Federate(const HttpRequest&, HttpResponse&);

 private:
  // Wraps an API handler: readiness, CORS, OPTIONS, form parsing, envelope.
  HttpHandler Wrap(Handler h);
  void SetCors(const HttpRequest& req, HttpResponse& resp) const;
  bool CheckAdmin(ApiResponse& resp) const;
  // Maps an engine/storage error to the API error types.
  void FailQuery(ApiResponse& resp, const Status& st);
  // /labels and /label/<name>/values: `fetch` runs once per match[] set (or once without);
  // the answer is the sorted union, cut at `limit` with a warning.
  using LabelFetch = std::function<Result<std::vector<std::string>>(
      storage::Querier&, const storage::LabelHints&, const Matchers&)>;
  void AnswerLabelStrings(const Form& form, ApiResponse& resp, const LabelFetch& fetch);

  ApiOptions options_;
  storage::Storage& storage_;
  QueryEngine& engine_;
  ApiSources sources_;
  const Clock& clock_;
  Logger logger_;
  Matcher cors_;
  bool cors_any_;  // the origin regex is ".*": answer "*"
  WebServer* web_ = nullptr;
};

}  // namespace hearth::web
