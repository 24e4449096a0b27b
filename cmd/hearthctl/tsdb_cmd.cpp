// hearthctl tsdb analyze [DATA_DIR] [PARTITION_START] [--limit=20]
// hearthctl tsdb dump [DATA_DIR] [--min-time=T] [--max-time=T] [--match=SELECTOR ...]
//
// Both open the data directory read-only (no lock; safe next to a running hearth): the
// persisted partitions plus the head rebuilt in memory from its checkpoint and log.
#include "cmd/hearthctl/tsdb_cmd.h"

#include <cstdio>

#include <fmt/format.h>

#include "cmd/common/flags.h"
#include "model/clock.h"
#include "model/metrics.h"
#include "model/strutil.h"
#include "tsdb/inspect.h"
#include "tsdb/tsdb.h"

namespace hearth {
namespace {

Result<std::unique_ptr<tsdb::DB>> OpenReadOnly(const std::string& dir, RealClock& clock,
                                               metrics::Registry& registry) {
  tsdb::Options o(dir, clock, registry, Logger::Discard());
  o.read_only = true;
  o.background_maintenance = false;
  o.retention_time_ms = 0;  // show everything that is there
  return tsdb::OpenDB(o);
}

int Fail(std::string_view what, const Status& st) {
  std::fprintf(stderr, "hearthctl: error: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               st.message().c_str());
  return 1;
}

// A series selector as promtool's --match takes it: `name`, `{l="v", ...}` or `name{...}`,
// with the operators = != =~ !~ and Go-style quoted values.
Result<std::vector<Matcher>> ParseSelector(std::string_view s) {
  std::vector<Matcher> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  };
  auto ident = [&] {
    size_t b = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                            s[i] == ':' || s[i] == '.')) {
      ++i;
    }
    return std::string(s.substr(b, i - b));
  };
  auto bad = [&](std::string_view what) {
    return InvalidArgument("bad selector \"{}\": {} at position {}", s, what, i + 1);
  };
  skip_space();
  std::string metric = ident();
  if (!metric.empty()) {
    HEARTH_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kEqual, "__name__", metric));
    out.push_back(std::move(m));
  }
  skip_space();
  if (i < s.size() && s[i] == '{') {
    ++i;
    for (;;) {
      skip_space();
      if (i < s.size() && s[i] == '}') {
        ++i;
        break;
      }
      std::string name;
      if (i < s.size() && s[i] == '"') {
        // Quoted label names (UTF-8 names in Prometheus 3).
        size_t e = s.find('"', i + 1);
        if (e == std::string_view::npos) return bad("unterminated name");
        name = std::string(s.substr(i + 1, e - i - 1));
        i = e + 1;
      } else {
        name = ident();
      }
      if (name.empty()) return bad("expected a label name");
      skip_space();
      MatchType type;
      if (s.substr(i, 2) == "=~") {
        type = MatchType::kRegexMatch;
        i += 2;
      } else if (s.substr(i, 2) == "!~") {
        type = MatchType::kRegexNoMatch;
        i += 2;
      } else if (s.substr(i, 2) == "!=") {
        type = MatchType::kNotEqual;
        i += 2;
      } else if (s.substr(i, 1) == "=") {
        type = MatchType::kEqual;
        i += 1;
      } else {
        return bad("expected one of = != =~ !~");
      }
      skip_space();
      if (i >= s.size() || (s[i] != '"' && s[i] != '\'' && s[i] != '`')) {
        return bad("expected a quoted value");
      }
      const char q = s[i++];
      std::string value;
      for (;;) {
        if (i >= s.size()) return bad("unterminated value");
        char c = s[i++];
        if (c == q) break;
        if (c == '\\' && q != '`' && i < s.size()) {
          char e = s[i++];
          switch (e) {
            case 'n': value += '\n'; break;
            case 't': value += '\t'; break;
            default: value += e; break;
          }
          continue;
        }
        value += c;
      }
      HEARTH_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(type, name, value));
      out.push_back(std::move(m));
      skip_space();
      if (i < s.size() && s[i] == ',') ++i;
    }
  }
  skip_space();
  if (i != s.size()) return bad("unexpected text");
  if (out.empty()) return bad("empty selector");
  return out;
}

}  // namespace

int RunTsdbAnalyze(const std::vector<std::string>& args) {
  cli::FlagSet flags("hearthctl tsdb analyze");
  flags.Add({"limit", cli::FlagType::kInt, "20", "How many items to show in each list.", false,
             "<int>"});
  flags.Add({"help", cli::FlagType::kBool, "false", "Show help.", false, ""});
  if (Status st = flags.Parse(args); !st.ok()) {
    std::fprintf(stderr, "hearthctl: error: %s\n", st.message().c_str());
    return 2;
  }
  if (flags.GetBool("help")) {
    std::fputs(flags.Usage("Analyze churn, label pair cardinality and compaction efficiency of "
                           "a partition: [<db path>] [<partition start ms>]")
                   .c_str(),
               stdout);
    return 0;
  }
  const auto& pos = flags.positional();
  const std::string dir = pos.empty() ? "data/" : pos[0];
  tsdb::AnalyzeOptions ao;
  ao.limit = static_cast<size_t>(std::max<int64_t>(0, flags.GetInt("limit")));
  if (pos.size() > 1) {
    auto start = ParseInt64(pos[1]);
    if (!start) {
      std::fprintf(stderr, "hearthctl: error: partition start must be milliseconds: %s\n",
                   pos[1].c_str());
      return 2;
    }
    ao.partition_start = *start;
  }
  RealClock clock;
  metrics::Registry registry;
  auto db = OpenReadOnly(dir, clock, registry);
  if (!db.ok()) return Fail("open " + dir, db.status());
  auto rep = tsdb::Analyze(**db, ao);
  if (!rep.ok()) return Fail("analyze", rep.status());
  std::fputs(tsdb::FormatAnalyzeReport(*rep).c_str(), stdout);
  return 0;
}

int RunTsdbDump(const std::vector<std::string>& args) {
  cli::FlagSet flags("hearthctl tsdb dump");
  flags.Add({"min-time", cli::FlagType::kInt, std::to_string(kMinTime),
             "Minimum timestamp to dump (ms).", false, "<int>"});
  flags.Add({"max-time", cli::FlagType::kInt, std::to_string(kMaxTime),
             "Maximum timestamp to dump (ms).", false, "<int>"});
  flags.Add({"match", cli::FlagType::kString, "", "Series selector. Can be specified multiple "
             "times.", true, "<selector>"});
  flags.Add({"help", cli::FlagType::kBool, "false", "Show help.", false, ""});
  if (Status st = flags.Parse(args); !st.ok()) {
    std::fprintf(stderr, "hearthctl: error: %s\n", st.message().c_str());
    return 2;
  }
  if (flags.GetBool("help")) {
    std::fputs(flags.Usage("Dump samples from a TSDB: [<db path>]").c_str(), stdout);
    return 0;
  }
  const auto& pos = flags.positional();
  const std::string dir = pos.empty() ? "data/" : pos[0];
  std::vector<std::vector<Matcher>> selectors;
  for (const std::string& m : flags.GetStrings("match")) {
    if (m.empty()) continue;
    auto sel = ParseSelector(m);
    if (!sel.ok()) {
      std::fprintf(stderr, "hearthctl: error: %s\n", sel.status().message().c_str());
      return 2;
    }
    selectors.push_back(std::move(*sel));
  }
  if (selectors.empty()) selectors.emplace_back();  // everything
  RealClock clock;
  metrics::Registry registry;
  auto db = OpenReadOnly(dir, clock, registry);
  if (!db.ok()) return Fail("open " + dir, db.status());
  for (const auto& sel : selectors) {
    auto n = tsdb::Dump(**db, sel, flags.GetInt("min-time"), flags.GetInt("max-time"), stdout);
    if (!n.ok()) return Fail("dump", n.status());
  }
  return 0;
}

}  // namespace hearth
