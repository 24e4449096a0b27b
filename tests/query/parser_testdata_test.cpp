// Every `eval` expression of Prometheus' own PromQL test files parses and round-trips through
// Format, except the experimental syntax Hearth does not support (listed below, each with the
// reason). The test files are the copy in tests/query/promqltest/testdata, else
// ../shared/promql-testdata (override with HEARTH_PROMQL_TESTDATA); the test is skipped with a
// message when none is found.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "query/parser/parser.h"
#include "tests/common/test_paths.h"
#include "tests/query/ast_dump.h"

namespace hearth::promql {
namespace {

namespace fs = std::filesystem;

fs::path TestdataDir() {
  if (const char* env = std::getenv("HEARTH_PROMQL_TESTDATA")) return env;
  const fs::path src = hearth::testing::kSourceDir;
  for (const fs::path& p : {src / "tests" / "query" / "promqltest" / "testdata",
                            src / ".." / "shared" / "promql-testdata",
                            src / ".." / ".." / "shared" / "promql-testdata"}) {
    if (fs::is_directory(p)) return p;
  }
  return {};
}

struct Eval {
  std::string file;
  int line = 0;
  std::string expr;
  bool expect_fail = false;
};

// The expression of an eval line, or "" when the line is no eval:
// `eval[_fail|_ordered|_warn|_info] instant at <t> <expr>` or
// `eval... range from <t> to <t> step <d> <expr>`. Sets *fail for eval_fail.
std::string EvalExpr(const std::string& line, bool* fail) {
  size_t pos = 0;
  auto word = [&]() {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    return line.substr(start, pos - start);
  };
  std::string cmd = word();
  if (cmd != "eval" && cmd != "eval_fail" && cmd != "eval_ordered" && cmd != "eval_warn" &&
      cmd != "eval_info") {
    return "";
  }
  *fail = cmd == "eval_fail";
  std::string kind = word();
  if (kind == "instant") {
    if (word() != "at") return "";
    word();
  } else if (kind == "range") {
    if (word() != "from") return "";
    word();
    if (word() != "to") return "";
    word();
    if (word() != "step") return "";
    word();
  } else {
    return "";
  }
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  return line.substr(pos);
}

std::vector<Eval> ReadEvals(const fs::path& dir) {
  std::vector<Eval> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (size_t i = 0; i < lines.size(); ++i) {
      bool fail = false;
      std::string expr = EvalExpr(lines[i], &fail);
      if (expr.empty()) continue;
      Eval ev{f.filename().string(), static_cast<int>(i + 1), expr, fail};
      for (size_t j = i + 1; j < lines.size() && !lines[j].empty() &&
                             (lines[j][0] == ' ' || lines[j][0] == '\t');
           ++j) {
        if (lines[j].find("expect fail") != std::string::npos) ev.expect_fail = true;
      }
      out.push_back(std::move(ev));
    }
  }
  return out;
}

// Why an expression of the test files is not expected to parse, or "" when it must.
std::string UnsupportedReason(const std::string& expr, const std::string& error) {
  // The native histogram trim operators </ and >/ lex as < or > followed by /.
  struct Rule {
    const char* error_part;
    const char* reason;
  };
  static const Rule kRules[] = {
      {"anchored modifier is experimental", "anchored range selectors (experimental)"},
      {"smoothed modifier is experimental", "smoothed range selectors (experimental)"},
      {"binop fill modifiers are experimental", "fill modifiers (experimental)"},
  };
  for (const auto& r : kRules) {
    if (error.find(r.error_part) != std::string::npos) return r.reason;
  }
  if (expr.find("</") != std::string::npos || expr.find(">/") != std::string::npos) {
    return "native histogram trim operators </ and >/";
  }
  return "";
}

// Sets `@ ts_ms` on every selector and subquery without an @, except inside a subquery that
// has one, as Prometheus' promqltest does for its @ re-check.
void AddAt(Expr* e, int64_t ts_ms) {
  switch (e->kind) {
    case NodeKind::kVectorSelector: {
      auto* vs = static_cast<VectorSelector*>(e);
      if (vs->at == AtModifier::kNone) {
        vs->at = AtModifier::kTimestamp;
        vs->at_timestamp = ts_ms;
      }
      return;
    }
    case NodeKind::kMatrixSelector:
      AddAt(static_cast<MatrixSelector*>(e)->vector_selector.get(), ts_ms);
      return;
    case NodeKind::kSubquery: {
      auto* s = static_cast<SubqueryExpr*>(e);
      if (s->at != AtModifier::kNone) return;
      s->at = AtModifier::kTimestamp;
      s->at_timestamp = ts_ms;
      AddAt(s->expr.get(), ts_ms);
      return;
    }
    case NodeKind::kParen: AddAt(static_cast<ParenExpr*>(e)->expr.get(), ts_ms); return;
    case NodeKind::kUnary: AddAt(static_cast<UnaryExpr*>(e)->expr.get(), ts_ms); return;
    case NodeKind::kBinary:
      AddAt(static_cast<BinaryExpr*>(e)->lhs.get(), ts_ms);
      AddAt(static_cast<BinaryExpr*>(e)->rhs.get(), ts_ms);
      return;
    case NodeKind::kAggregate: {
      auto* a = static_cast<AggregateExpr*>(e);
      if (a->param) AddAt(a->param.get(), ts_ms);
      AddAt(a->expr.get(), ts_ms);
      return;
    }
    case NodeKind::kCall:
      for (auto& arg : static_cast<Call*>(e)->args) AddAt(arg.get(), ts_ms);
      return;
    case NodeKind::kStepInvariant:
      AddAt(static_cast<StepInvariantExpr*>(e)->expr.get(), ts_ms);
      return;
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
      return;
  }
}

TEST_CASE("every eval expression of Prometheus' test files parses", "[query][parser][testdata]") {
  const fs::path dir = TestdataDir();
  if (dir.empty()) {
    WARN("PromQL test files not found (../shared/promql-testdata); skipping");
    return;
  }
  const auto evals = ReadEvals(dir);
  REQUIRE(evals.size() > 2000);
  int parsed = 0;
  int expected_failures = 0;
  std::map<std::string, int> unsupported;
  for (const auto& ev : evals) {
    INFO(ev.file << ":" << ev.line << ": " << ev.expr);
    auto r = ParseExpr(ev.expr);
    if (r.ok()) {
      ++parsed;
      // Format parses back to the same tree, and prints the same again.
      const std::string canonical = Format(**r);
      auto again = ParseExpr(canonical);
      INFO("canonical: " << canonical);
      REQUIRE(again.ok());
      CHECK(testing::Dump(**again) == testing::Dump(**r));
      CHECK(Format(**again) == canonical);
      // The test runner re-checks instant evals with `@ <eval time>` on every selector that has
      // none, by printing the tree: that text parses to the same tree too.
      AddAt(r->get(), 1234567);
      const std::string with_at = Format(**r);
      auto at = ParseExpr(with_at);
      INFO("with @: " << with_at);
      REQUIRE(at.ok());
      CHECK(testing::Dump(**at) == testing::Dump(**r));
      continue;
    }
    std::string reason = UnsupportedReason(ev.expr, r.status().message());
    if (!reason.empty()) {
      ++unsupported[reason];
      continue;
    }
    if (ev.expect_fail) {
      ++expected_failures;
      continue;
    }
    FAIL_CHECK("does not parse: " << r.status().message());
  }
  std::ostringstream summary;
  summary << evals.size() << " eval expressions: " << parsed << " parse, " << expected_failures
          << " fail to parse where the eval expects failure";
  for (const auto& [reason, n] : unsupported) summary << "; " << n << " unsupported: " << reason;
  WARN(summary.str());
  CHECK(parsed >= 1900);
}

}  // namespace
}  // namespace hearth::promql
