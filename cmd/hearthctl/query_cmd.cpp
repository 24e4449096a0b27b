#include "cmd/hearthctl/query_cmd.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cmd/common/flags.h"
#include "cmd/hearthctl/api_client.h"
#include "cmd/hearthctl/chart.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/format.h"
#include "model/strutil.h"
#include "query/engine.h"
#include "query/parser/parser.h"
#include "tsdb/tsdb.h"
#include "web/api_encode.h"

namespace hearth::ctl {
namespace {

using cli::FlagSet;
using cli::FlagType;
using json = nlohmann::ordered_json;

enum class Kind { kInstant, kRange, kSeries, kLabels };

struct Usage {
  const char* command;
  const char* args;
  const char* summary;
};

Usage UsageOf(Kind k) {
  switch (k) {
    case Kind::kInstant:
      return {"query instant", "<server> <expr>", "Run instant query."};
    case Kind::kRange:
      return {"query range", "<server> <expr>", "Run range query."};
    case Kind::kSeries:
      return {"query series", "<server>", "Run series query."};
    case Kind::kLabels:
      return {"query labels", "<server> <name>", "Run labels query."};
  }
  return {"", "", ""};
}

void DefineFlags(FlagSet& f, Kind kind) {
  auto add = [&](std::string name, FlagType type, std::string def, std::string help,
                 std::string placeholder = "", bool repeatable = false) {
    f.Add({std::move(name), type, std::move(def), std::move(help), repeatable,
           std::move(placeholder)});
  };
  using T = FlagType;
  add("format", T::kString, "table", "Output format: table, json or csv. Also -o.", "<format>");
  add("header", T::kString, "", "Extra HTTP header name=value to send (repeatable).",
      "<name=value>", true);
  add("timeout", T::kDuration, "2m", "Timeout of the HTTP request.", "<duration>");
  add("data-dir", T::kString, "",
      "Query this data directory directly instead of a server (read-only).", "<dir>");
  switch (kind) {
    case Kind::kInstant:
      add("time", T::kString, "", "Query evaluation time (RFC3339 or Unix timestamp).",
          "<time>");
      break;
    case Kind::kRange:
      add("start", T::kString, "", "Query range start time (RFC3339 or Unix timestamp).",
          "<time>");
      add("end", T::kString, "", "Query range end time (RFC3339 or Unix timestamp).", "<time>");
      add("step", T::kString, "", "Query step size (duration or seconds).", "<duration>");
      add("chart", T::kBool, "false", "Draw the result as a line chart in the terminal.");
      add("chart-height", T::kInt, "16", "Rows of the chart.", "<rows>");
      add("chart-width", T::kInt, "0", "Columns of the chart (default: the terminal's).",
          "<cols>");
      add("unit", T::kString, "",
          "Unit of the values on the chart's y axis (s, B, B/s, /s; default: guessed from the "
          "query).",
          "<unit>");
      add("color", T::kString, "auto", "Colours in the chart: auto, always or never.",
          "<when>");
      add("local-time", T::kBool, "false", "Chart times in the local time zone (default UTC).");
      break;
    case Kind::kSeries:
      add("match", T::kString, "", "Series selector. Can be specified multiple times.",
          "<selector>", true);
      add("start", T::kString, "", "Start time (RFC3339 or Unix timestamp).", "<time>");
      add("end", T::kString, "", "End time (RFC3339 or Unix timestamp).", "<time>");
      break;
    case Kind::kLabels:
      add("match", T::kString, "", "Series selector. Can be specified multiple times.",
          "<selector>", true);
      add("start", T::kString, "", "Start time (RFC3339 or Unix timestamp).", "<time>");
      add("end", T::kString, "", "End time (RFC3339 or Unix timestamp).", "<time>");
      break;
  }
}

// A time flag: RFC 3339, Unix seconds, or "now".
Result<int64_t> ParseTimeFlag(const std::string& name, const std::string& v, int64_t now) {
  if (v == "now") return now;
  auto t = ParseApiTime(v);
  if (!t.ok()) return InvalidArgument("invalid value {} for --{}: {}", QuoteGo(v), name, t.status().message());
  return t;
}

std::string Seconds(int64_t ms) { return FormatJsonTimestamp(ms); }

// A time flag when given, else `fallback`.
Result<int64_t> TimeFlagOr(const FlagSet& flags, const std::string& name, int64_t now,
                           int64_t fallback) {
  std::string v = flags.GetString(name);
  return v.empty() ? Result<int64_t>(fallback) : ParseTimeFlag(name, v, now);
}

std::string LabelsText(const json& metric) {
  std::string name;
  std::string rest;
  for (auto it = metric.begin(); it != metric.end(); ++it) {
    if (it.key() == "__name__") {
      name = it.value().get<std::string>();
      continue;
    }
    rest += (rest.empty() ? "" : ", ") + it.key() + "=" + QuoteGo(it.value().get<std::string>());
  }
  if (rest.empty()) return name.empty() ? "{}" : name;
  return name + "{" + rest + "}";
}

// Label names over all series: __name__ first, then sorted.
std::vector<std::string> LabelColumns(const json& series_list, const char* metric_key) {
  std::set<std::string> names;
  bool has_name = false;
  for (const auto& s : series_list) {
    const json& m = metric_key ? s.at(metric_key) : s;
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (it.key() == "__name__") {
        has_name = true;
      } else {
        names.insert(it.key());
      }
    }
  }
  std::vector<std::string> out;
  if (has_name) out.push_back("__name__");
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

std::string Get(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it == obj.end() ? std::string() : it->get<std::string>();
}

int64_t JsonTimeMs(const json& t) { return std::llround(t.get<double>() * 1000.0); }

std::string HumanTime(int64_t ms) {
  std::string s = FormatRFC3339Millis(ms);
  return s;
}

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const {
    std::vector<size_t> w(header_.size(), 0);
    auto width = [](const std::string& s) {
      size_t n = 0;
      for (unsigned char c : s) n += (c & 0xC0) != 0x80;
      return n;
    };
    for (size_t i = 0; i < header_.size(); ++i) w[i] = width(header_[i]);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      std::string l;
      for (size_t i = 0; i < r.size(); ++i) {
        l += r[i];
        if (i + 1 < r.size()) l += std::string(w[i] - width(r[i]) + 2, ' ');
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + '\n';
    };
    line(header_);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += CsvField(fields[i]);
  }
  return out + '\n';
}

std::string Header(const std::string& label) { return label == "__name__" ? "METRIC" : label; }

// Renders the `data` of /query and /query_range.
Result<std::string> RenderQueryData(const json& data, const std::string& format) {
  std::string type = Get(data, "resultType");
  const json& result = data.at("result");
  bool csv = format == "csv";
  std::string out;
  if (type == "scalar" || type == "string") {
    std::string t = Seconds(JsonTimeMs(result.at(0)));
    std::string v = result.at(1).get<std::string>();
    if (csv) return CsvLine({"timestamp", "value"}) + CsvLine({t, v});
    Table tab({"VALUE", "TIME"});
    tab.Add({v, HumanTime(JsonTimeMs(result.at(0)))});
    return tab.Render();
  }
  if (type != "vector" && type != "matrix") {
    return InvalidArgument("unexpected result type {}", QuoteGo(type));
  }
  std::vector<std::string> cols = LabelColumns(result, "metric");
  std::vector<std::string> header;
  for (const auto& c : cols) header.push_back(csv ? c : Header(c));
  if (csv) {
    header.push_back("timestamp");
    header.push_back("value");
    out += CsvLine(header);
  } else {
    if (type == "matrix") header.push_back("TIME");
    header.push_back("VALUE");
    if (type == "vector") header.push_back("TIME");
  }
  Table tab(header);
  auto row_labels = [&](const json& metric) {
    std::vector<std::string> row;
    for (const auto& c : cols) row.push_back(Get(metric, c));
    return row;
  };
  for (const auto& s : result) {
    auto labels = row_labels(s.at("metric"));
    if (type == "vector") {
      const json& p = s.at("value");
      auto row = labels;
      if (csv) {
        row.push_back(Seconds(JsonTimeMs(p.at(0))));
        row.push_back(p.at(1).get<std::string>());
        out += CsvLine(row);
      } else {
        row.push_back(p.at(1).get<std::string>());
        row.push_back(HumanTime(JsonTimeMs(p.at(0))));
        tab.Add(row);
      }
      continue;
    }
    if (!s.contains("values")) continue;
    for (const auto& p : s.at("values")) {
      auto row = labels;
      if (csv) {
        row.push_back(Seconds(JsonTimeMs(p.at(0))));
        row.push_back(p.at(1).get<std::string>());
        out += CsvLine(row);
      } else {
        row.push_back(HumanTime(JsonTimeMs(p.at(0))));
        row.push_back(p.at(1).get<std::string>());
        tab.Add(row);
      }
    }
  }
  if (csv) return out;
  if (result.empty()) return std::string("no results\n");
  return tab.Render();
}

int TerminalWidth() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    if (auto v = ParseInt64(c); v && *v > 20) return static_cast<int>(*v);
  }
  return 80;
}

struct Common {
  FlagSet flags{"hearthctl"};
  std::vector<std::string> positional;  // after the server (or all, with --data-dir)
  std::string server;
  std::string format;
};

// Parses flags; prints usage errors and returns 2 in *exit_code on failure.
bool ParseCommon(Kind kind, const std::vector<std::string>& raw, size_t positional_args,
                 Common* c, int* exit_code) {
  Usage u = UsageOf(kind);
  DefineFlags(c->flags, kind);
  std::vector<std::string> args;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == "-o" && i + 1 < raw.size()) {
      args.push_back("--format=" + raw[++i]);
    } else if (raw[i] == "-h" || raw[i] == "--help") {
      std::string summary = fmt::format("usage: hearthctl {} [<flags>] {}\n\n{}", u.command,
                                        u.args, u.summary);
      std::fputs(c->flags.Usage(summary).c_str(), stdout);
      *exit_code = 0;
      return false;
    } else {
      args.push_back(raw[i]);
    }
  }
  auto fail = [&](const std::string& msg) {
    std::fprintf(stderr, "hearthctl: error: %s, try --help\n", msg.c_str());
    *exit_code = 2;
    return false;
  };
  if (Status st = c->flags.Parse(args); !st.ok()) return fail(st.message());
  c->format = c->flags.GetString("format");
  if (c->format != "table" && c->format != "json" && c->format != "csv") {
    return fail("invalid --format " + QuoteGo(c->format) + ": use table, json or csv");
  }
  std::vector<std::string> pos = c->flags.positional();
  bool data_dir = !c->flags.GetString("data-dir").empty();
  size_t want = positional_args + (data_dir ? 0 : 1);
  if (pos.size() < want) {
    return fail(fmt::format("required argument '{}' not provided",
                            pos.empty() && !data_dir ? "server" : "expr"));
  }
  if (pos.size() > want) return fail("unexpected " + pos[want]);
  if (!data_dir) {
    c->server = pos[0];
    pos.erase(pos.begin());
  }
  c->positional = pos;
  return true;
}

Result<ApiClient> Connect(const Common& c) {
  Params headers;
  for (const auto& h : c.flags.GetStrings("header")) {
    size_t eq = h.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("invalid --header {}: expected name=value", QuoteGo(h));
    }
    headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  return ApiClient::Make(c.server, std::move(headers), c.flags.GetDurationMs("timeout"));
}

// A data directory opened read-only and queried in-process: the same answers a server gives,
// built with the API's own JSON encoder so that the output code is shared.
class LocalSource {
 public:
  static Result<std::unique_ptr<LocalSource>> Open(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Errorf(StatusCode::kNotFound, "--data-dir {}: not a directory", dir);
    }
    auto src = std::unique_ptr<LocalSource>(new LocalSource());
    tsdb::Options o(dir, src->clock_, src->registry_);
    o.read_only = true;
    o.background_maintenance = false;
    o.checkpoint_on_close = false;
    o.retention_time_ms = 0;  // never delete anything
    auto db = tsdb::OpenDB(o);
    if (!db.ok()) return db.status().WithPrefix("--data-dir " + dir);
    src->db_ = std::move(db).value();
    src->engine_ = std::make_unique<promql::Engine>(promql::EngineOptions{});
    return src;
  }
  ~LocalSource() {
    if (db_) (void)db_->Close();
  }

  Result<ApiReply> Instant(const std::string& query, int64_t t) {
    return QueryReply(engine_->Instant(*db_, query, t));
  }
  Result<ApiReply> Range(const std::string& query, int64_t start, int64_t end, int64_t step) {
    return QueryReply(engine_->Range(*db_, query, start, end, step));
  }
  Result<ApiReply> Series(const std::vector<std::string>& selectors, int64_t start,
                          int64_t end) {
    HEARTH_ASSIGN_OR_RETURN(auto sets, Selectors(selectors));
    HEARTH_ASSIGN_OR_RETURN(auto q, db_->NewQuerier(start, end));
    storage::SelectHints hints;
    hints.start = start;
    hints.end = end;
    hints.func = "series";
    std::vector<Labels> all;
    for (const auto& ms : sets) {
      auto set = q->Select(true, hints, ms);
      while (set->Next()) all.push_back(set->At().labels());
      HEARTH_RETURN_IF_ERROR(set->status());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::string text;
    web::JsonWriter w(&text);
    w.BeginArray();
    for (const Labels& l : all) w.LabelSet(l);
    w.EndArray();
    return Reply(std::move(text));
  }
  Result<ApiReply> LabelValues(const std::string& name, const std::vector<std::string>& selectors,
                               int64_t start, int64_t end) {
    HEARTH_ASSIGN_OR_RETURN(auto sets, Selectors(selectors));
    if (sets.empty()) sets.emplace_back();
    HEARTH_ASSIGN_OR_RETURN(auto q, db_->NewQuerier(start, end));
    std::set<std::string> values;
    for (const auto& ms : sets) {
      HEARTH_ASSIGN_OR_RETURN(auto vs, q->LabelValues(name, {}, ms));
      values.insert(vs.begin(), vs.end());
    }
    std::string text;
    web::JsonWriter w(&text);
    w.BeginArray();
    for (const auto& v : values) w.String(v);
    w.EndArray();
    return Reply(std::move(text));
  }

 private:
  LocalSource() = default;

  static Result<std::vector<Matchers>> Selectors(const std::vector<std::string>& selectors) {
    std::vector<Matchers> sets;
    for (const auto& s : selectors) {
      auto ms = promql::ParseMetricSelector(s);
      if (!ms.ok()) return ms.status().WithPrefix("bad_data: invalid parameter \"match[]\"");
      sets.push_back(std::move(ms).value());
    }
    return sets;
  }

  static Result<ApiReply> Reply(std::string text) {
    ApiReply r;
    r.data_text = std::move(text);
    r.data = json::parse(r.data_text);
    return r;
  }

  // Errors read as the API words them ("bad_data: invalid parameter ...").
  static Result<ApiReply> QueryReply(Result<promql::QueryResult> res) {
    if (!res.ok()) {
      const Status& st = res.status();
      switch (st.code()) {
        case StatusCode::kInvalidArgument:
          return st.WithPrefix("bad_data: invalid parameter \"query\"");
        case StatusCode::kDeadlineExceeded:
          return st.WithPrefix("timeout");
        default:
          return st.WithPrefix("execution");
      }
    }
    std::string text;
    web::JsonWriter w(&text);
    w.BeginObject();
    w.Member("resultType", web::ResultTypeName(res->value));
    w.Key("result");
    web::WriteResult(w, res->value);
    w.EndObject();
    HEARTH_ASSIGN_OR_RETURN(ApiReply r, Reply(std::move(text)));
    r.warnings = res->annotations.warnings;
    r.infos = res->annotations.infos;
    return r;
  }

  RealClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<promql::Engine> engine_;
};

Result<std::unique_ptr<LocalSource>> OpenLocal(const Common& c) {
  return LocalSource::Open(c.flags.GetString("data-dir"));
}

bool UseDataDir(const Common& c) { return !c.flags.GetString("data-dir").empty(); }

void PrintAnnotations(const ApiReply& r) {
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  for (const auto& i : r.infos) std::fprintf(stderr, "info: %s\n", i.c_str());
}

int Fail(const Status& st) {
  std::fprintf(stderr, "query error: %s\n", st.message().c_str());
  return 1;
}

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Output of /query and /query_range in the chosen format.
int Output(const Common& c, const ApiReply& reply) {
  PrintAnnotations(reply);
  if (c.format == "json") {
    Print(reply.data_text + "\n");
    return 0;
  }
  try {
    auto text = RenderQueryData(reply.data, c.format);
    if (!text.ok()) return Fail(text.status());
    Print(*text);
  } catch (const json::exception& e) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       std::string("unexpected response from the server: ") + e.what()));
  }
  return 0;
}

// --start and --end of series and labels queries: added to the API parameters when given, and
// into range[0..1] (kept as is when not given) for a data directory.
Status AddRangeFlags(const Common& c, int64_t now, Params* params, int64_t range[2]) {
  for (int i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "start" : "end";
    if (c.flags.GetString(name).empty()) continue;
    HEARTH_ASSIGN_OR_RETURN(range[i], TimeFlagOr(c.flags, name, now, range[i]));
    params->emplace_back(name, Seconds(range[i]));
  }
  return Status::Ok();
}

}  // namespace

int QueryInstantCommand(const std::vector<std::string>& args) {
  Common c;
  int code = 0;
  if (!ParseCommon(Kind::kInstant, args, 1, &c, &code)) return code;
  RealClock clock;
  int64_t now = clock.NowMs();
  auto time = TimeFlagOr(c.flags, "time", now, now);
  if (!time.ok()) return Fail(time.status());
  const int64_t t = *time;
  Result<ApiReply> reply = Status(StatusCode::kInternal, "unset");
  if (UseDataDir(c)) {
    auto local = OpenLocal(c);
    if (!local.ok()) return Fail(local.status());
    reply = (*local)->Instant(c.positional[0], t);
  } else {
    auto client = Connect(c);
    if (!client.ok()) return Fail(client.status());
    reply = client->PostWithGetFallback("query", {{"query", c.positional[0]}, {"time", Seconds(t)}});
  }
  if (!reply.ok()) return Fail(reply.status());
  return Output(c, *reply);
}

int QueryRangeCommand(const std::vector<std::string>& args) {
  Common c;
  int code = 0;
  if (!ParseCommon(Kind::kRange, args, 1, &c, &code)) return code;
  RealClock clock;
  int64_t now = clock.NowMs();
  auto end_flag = TimeFlagOr(c.flags, "end", now, now);
  if (!end_flag.ok()) return Fail(end_flag.status());
  const int64_t end = *end_flag;
  auto start_flag = TimeFlagOr(c.flags, "start", now, end - 5 * kMillisPerMinute);
  if (!start_flag.ok()) return Fail(start_flag.status());
  const int64_t start = *start_flag;
  if (end < start) return Fail(InvalidArgument("start time is not before end time"));
  // promtool's default step: a 250th of the range, whole seconds, at least one.
  int64_t step = std::max<int64_t>((end - start) / 250 / 1000 * 1000, 1000);
  if (std::string v = c.flags.GetString("step"); !v.empty()) {
    auto p = ParseDurationOrSeconds(v);
    if (!p.ok()) return Fail(p.status());
    step = *p;
  }
  std::string query = c.positional[0];
  if (step <= 0) return Fail(InvalidArgument("zero or negative query resolution step widths are not accepted"));
  Result<ApiReply> reply = Status(StatusCode::kInternal, "unset");
  if (UseDataDir(c)) {
    auto local = OpenLocal(c);
    if (!local.ok()) return Fail(local.status());
    reply = (*local)->Range(query, start, end, step);
  } else {
    auto client = Connect(c);
    if (!client.ok()) return Fail(client.status());
    reply = client->PostWithGetFallback(
        "query_range", {{"query", query},
                        {"start", Seconds(start)},
                        {"end", Seconds(end)},
                        {"step", FormatJsonNumber(static_cast<double>(step) / 1000.0)}});
  }
  if (!reply.ok()) return Fail(reply.status());
  if (!c.flags.GetBool("chart")) return Output(c, *reply);

  PrintAnnotations(*reply);
  std::vector<ChartSeries> series;
  std::string common_text;
  try {
    // Labels with the same value in every series are shown once, above the legend.
    const json& result = reply->data.at("result");
    json common = json::object();
    if (result.size() > 1) {
      common = result.at(0).at("metric");
      for (const auto& s : result) {
        json keep = json::object();
        for (auto it = common.begin(); it != common.end(); ++it) {
          if (s.at("metric").contains(it.key()) && s.at("metric").at(it.key()) == it.value()) {
            keep[it.key()] = it.value();
          }
        }
        common = keep;
      }
      if (!common.empty()) common_text = "all series: " + LabelsText(common) + "\n";
    }
    for (const auto& s : result) {
      ChartSeries cs;
      json own = json::object();
      for (auto it = s.at("metric").begin(); it != s.at("metric").end(); ++it) {
        if (!common.contains(it.key())) own[it.key()] = it.value();
      }
      cs.name = LabelsText(own);
      if (s.contains("values")) {
        for (const auto& p : s.at("values")) {
          double v = ParseGoFloat(p.at(1).get<std::string>()).value_or(NAN);
          cs.samples.push_back({JsonTimeMs(p.at(0)), v});
        }
      }
      series.push_back(std::move(cs));
    }
  } catch (const json::exception& e) {
    return Fail(Status(StatusCode::kInvalidArgument,
                       std::string("unexpected response from the server: ") + e.what()));
  }
  ChartOptions co;
  int width = static_cast<int>(c.flags.GetInt("chart-width"));
  co.width = width > 0 ? width : TerminalWidth();
  co.height = static_cast<int>(c.flags.GetInt("chart-height"));
  std::string color = c.flags.GetString("color");
  co.color = color == "always" ||
             (color == "auto" && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr);
  co.unit = c.flags.IsSet("unit") ? c.flags.GetString("unit") : GuessUnit(query);
  co.start_ms = start;
  co.end_ms = end;
  co.step_ms = step;
  co.utc = !c.flags.GetBool("local-time");
  Print(RenderChart(series, co));
  if (!common_text.empty()) Print("  " + common_text);
  return 0;
}

int QuerySeriesCommand(const std::vector<std::string>& args) {
  Common c;
  int code = 0;
  if (!ParseCommon(Kind::kSeries, args, 0, &c, &code)) return code;
  auto matches = c.flags.GetStrings("match");
  if (matches.empty()) {
    std::fprintf(stderr, "hearthctl: error: required flag --match not provided, try --help\n");
    return 2;
  }
  RealClock clock;
  Params params;
  int64_t range[2] = {kMinTime, kMaxTime};
  for (const auto& m : matches) params.emplace_back("match[]", m);
  if (Status st = AddRangeFlags(c, clock.NowMs(), &params, range); !st.ok()) return Fail(st);
  Result<ApiReply> reply = Status(StatusCode::kInternal, "unset");
  if (UseDataDir(c)) {
    auto local = OpenLocal(c);
    if (!local.ok()) return Fail(local.status());
    reply = (*local)->Series(matches, range[0], range[1]);
  } else {
    auto client = Connect(c);
    if (!client.ok()) return Fail(client.status());
    reply = client->PostWithGetFallback("series", params);
  }
  if (!reply.ok()) return Fail(reply.status());
  PrintAnnotations(*reply);
  if (c.format == "json") {
    Print(reply->data_text + "\n");
    return 0;
  }
  const json& list = reply->data;
  if (!list.is_array()) return Fail(InvalidArgument("unexpected response from the server"));
  std::vector<std::string> cols = LabelColumns(list, nullptr);
  if (c.format == "csv") {
    Print(CsvLine(cols));
    for (const auto& s : list) {
      std::vector<std::string> row;
      for (const auto& col : cols) row.push_back(Get(s, col));
      Print(CsvLine(row));
    }
    return 0;
  }
  if (list.empty()) {
    Print("no series\n");
    return 0;
  }
  std::vector<std::string> header;
  for (const auto& col : cols) header.push_back(Header(col));
  Table tab(header);
  for (const auto& s : list) {
    std::vector<std::string> row;
    for (const auto& col : cols) row.push_back(Get(s, col));
    tab.Add(row);
  }
  Print(tab.Render());
  return 0;
}

int QueryLabelsCommand(const std::vector<std::string>& args) {
  Common c;
  int code = 0;
  if (!ParseCommon(Kind::kLabels, args, 1, &c, &code)) return code;
  RealClock clock;
  Params params;
  int64_t range[2] = {kMinTime, kMaxTime};
  auto matches = c.flags.GetStrings("match");
  for (const auto& m : matches) params.emplace_back("match[]", m);
  if (Status st = AddRangeFlags(c, clock.NowMs(), &params, range); !st.ok()) return Fail(st);
  std::string name = c.positional[0];
  Result<ApiReply> reply = Status(StatusCode::kInternal, "unset");
  if (UseDataDir(c)) {
    auto local = OpenLocal(c);
    if (!local.ok()) return Fail(local.status());
    reply = (*local)->LabelValues(name, matches, range[0], range[1]);
  } else {
    auto client = Connect(c);
    if (!client.ok()) return Fail(client.status());
    // Label values are GET only (as promtool does).
    std::string escaped;
    for (unsigned char ch : name) {
      if (std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.' || ch == '~') {
        escaped.push_back(static_cast<char>(ch));
      } else {
        escaped += fmt::format("%{:02X}", ch);
      }
    }
    reply = client->Get("label/" + escaped + "/values", params);
  }
  if (!reply.ok()) return Fail(reply.status());
  PrintAnnotations(*reply);
  if (c.format == "json") {
    Print(reply->data_text + "\n");
    return 0;
  }
  if (!reply->data.is_array()) return Fail(InvalidArgument("unexpected response from the server"));
  if (c.format == "csv") Print(CsvLine({name}));
  for (const auto& v : reply->data) {
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    Print(c.format == "csv" ? CsvLine({s}) : s + "\n");
  }
  return 0;
}

}  // namespace hearth::ctl
