// hearthctl: the command-line companion of hearth (promtool's role). Subcommands are looked up
// in a table; each later feature adds its rows (check, test, query, tsdb).

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cmd/common/build_info.h"
#include "cmd/hearthctl/check_cmd.h"
#include "cmd/hearthctl/import_cmd.h"
#include "cmd/hearthctl/tsdb_cmd.h"
#include "cmd/hearthctl/test_rules_cmd.h"
#include "cmd/hearthctl/query_cmd.h"

namespace hearth {
namespace {

struct Command {
  std::vector<std::string> words;  // {"check", "config"}
  std::string args;                // usage after the words
  std::string help;
  std::function<int(const std::vector<std::string>& args)> run;
};

std::vector<Command> Commands() {
  return {
      {{"query", "instant"}, "[<flags>] <server> <expr>",
       "Run instant query. --time; --format table|json|csv; --data-dir DIR instead of <server>.",
       ctl::QueryInstantCommand},
      {{"query", "range"}, "[<flags>] <server> <expr>",
       "Run range query. --start, --end, --step; --chart draws a line chart.",
       ctl::QueryRangeCommand},
      {{"query", "series"}, "--match=<selector> [<flags>] <server>",
       "Run series query. --match (repeatable), --start, --end.", ctl::QuerySeriesCommand},
      {{"query", "labels"}, "[<flags>] <server> <name>",
       "Run labels query: the values of label <name>. --match, --start, --end.",
       ctl::QueryLabelsCommand},
      {{"check", "config"},
       "[<flags>] <config-files>...",
       "Check if the config files are valid or not.",
       [](const std::vector<std::string>& a) {
         return ctl::RunCheckConfig(a, {.validate_expr = ctl::DefaultExprValidator()});
       }},
      {{"check", "rules"},
       "[<flags>] <rule-files>...",
       "Check if the rule files are valid or not.",
       [](const std::vector<std::string>& a) {
         return ctl::RunCheckRules(a, {.validate_expr = ctl::DefaultExprValidator()});
       }},
      {{"tsdb", "analyze"}, "[<db path>] [<partition start>]",
       "Analyze churn, label pair cardinality and compression of a time partition.",
       RunTsdbAnalyze},
      {{"tsdb", "dump"}, "[<db path>]", "Dump samples from a TSDB.", RunTsdbDump},
      {{"tsdb", "import", "openmetrics"}, "[<flags>] <input file> [<output directory>]",
       "Import samples from OpenMetrics input into a data directory, or a running server with "
       "--server.",
       ctl::RunTsdbImportOpenMetrics},
      {{"test", "rules"},
       "[<flags>] <test-rule-file>...",
       "Unit tests for rules.",
       [](const std::vector<std::string>& a) { return ctl::RunTestRules(a); }},
  };
}

std::string Usage(const std::vector<Command>& commands) {
  std::string out =
      "usage: hearthctl [<flags>] <command> [<args> ...]\n\n"
      "Tooling for the Hearth monitoring system.\n\n"
      "Flags:\n"
      "  -h, --help     Show context-sensitive help.\n"
      "      --version  Show application version.\n\n"
      "Commands:\n"
      "  help [<command>...]\n"
      "    Show help.\n";
  for (const Command& c : commands) {
    std::string words;
    for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
    out += fmt::format("\n  {}{}{}\n    {}\n", words, c.args.empty() ? "" : " ", c.args, c.help);
  }
  return out;
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const auto commands = Commands();
  if (args.empty() || args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
    std::fputs(Usage(commands).c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("hearthctl, version %s (branch: %s, revision: %s)\n", kVersion, kBranch,
                kRevision);
    return 0;
  }
  // The longest command whose words prefix the arguments.
  const Command* best = nullptr;
  for (const Command& c : commands) {
    if (c.words.size() > args.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), args.begin())) continue;
    if (best == nullptr || c.words.size() > best->words.size()) best = &c;
  }
  if (best == nullptr) {
    std::fprintf(stderr, "hearthctl: error: expected command but got \"%s\", try --help\n",
                 args[0].c_str());
    return 2;
  }
  return best->run({args.begin() + static_cast<ptrdiff_t>(best->words.size()), args.end()});
}

}  // namespace
}  // namespace hearth

int main(int argc, char** argv) { return hearth::Run(argc, argv); }
