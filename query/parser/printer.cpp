// Format: Prometheus' Expr.String() (promql/parser/printer.go). Prettify: Prometheus'
// Prettify (promql/parser/prettier.go): a node longer than 100 bytes on one line is split,
// its children indented by two spaces per level.
//
// Deviations from Prometheus, each so that Format(ParseExpr(x)) parses back to the same tree:
// - `ignoring()` with group_left/group_right keeps its clause (Prometheus drops it, turning
//   many-to-one matching into one-to-one);
// - label names in on/ignoring/group_x lists are quoted when they are not legacy names, as in
//   by/without lists;
// - a selector with no name and no matchers (only info()'s second argument may be one) prints
//   as `{}` instead of nothing.

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/format.h"
#include "model/labels.h"
#include "model/strutil.h"
#include "query/parser/parser.h"

namespace hearth::promql {
namespace {

constexpr size_t kMaxCharactersPerLine = 100;

void AppendLabelList(std::string* out, const std::vector<std::string>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ", ";
    if (IsLegacyMetricName(labels[i])) {
      *out += labels[i];
    } else {
      *out += QuoteGo(labels[i]);
    }
  }
}

void AppendDuration(std::string* out, int64_t ms) {
  if (ms < 0) {
    *out += '-';
    ms = -ms;
  }
  *out += FormatDuration(ms);
}

void AppendAt(std::string* out, AtModifier at, int64_t ts_ms) {
  switch (at) {
    case AtModifier::kNone: break;
    case AtModifier::kTimestamp:
      *out += " @ ";
      *out += fmt::format("{:.3f}", static_cast<double>(ts_ms) / 1000.0);
      break;
    case AtModifier::kStart: *out += " @ start()"; break;
    case AtModifier::kEnd: *out += " @ end()"; break;
  }
}

void AppendExpr(std::string* out, const Expr& e, size_t limit = std::string::npos);

void AppendOffset(std::string* out, int64_t offset_ms, const ExprPtr& offset_expr) {
  if (offset_expr) {
    *out += " offset ";
    AppendExpr(out, *offset_expr);
  } else if (offset_ms > 0) {
    *out += " offset ";
    *out += FormatDuration(offset_ms);
  } else if (offset_ms < 0) {
    *out += " offset -";
    *out += FormatDuration(-offset_ms);
  }
}

// The selector without its @ and offset.
void AppendSelectorBody(std::string* out, const VectorSelector& vs) {
  std::vector<std::string> parts;
  parts.reserve(vs.matchers.size());
  for (const Matcher& m : vs.matchers) {
    if (m.name() == kMetricName && m.type() == MatchType::kEqual && m.value() == vs.name &&
        !m.value().empty()) {
      continue;
    }
    parts.push_back(m.ToString());
  }
  *out += vs.name;
  if (parts.empty()) {
    if (vs.name.empty()) *out += "{}";
    return;
  }
  std::sort(parts.begin(), parts.end());
  *out += '{';
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) *out += ',';
    *out += parts[i];
  }
  *out += '}';
}

// ` by (a, b) ` / ` without (a) ` / "" as Prometheus' getAggOpStr writes after the operator.
void AppendAggregateOp(std::string* out, const AggregateExpr& a) {
  *out += AggregateOpString(a.op);
  if (a.without) {
    *out += " without (";
    AppendLabelList(out, a.grouping);
    *out += ") ";
  } else if (!a.grouping.empty()) {
    *out += " by (";
    AppendLabelList(out, a.grouping);
    *out += ") ";
  }
}

// The operator with its modifiers: `+`, `== bool`, `* on (a) group_left (b)`.
void AppendBinaryOp(std::string* out, const BinaryExpr& b) {
  *out += BinaryOpString(b.op);
  if (b.return_bool) *out += " bool";
  if (!b.matching) return;
  const VectorMatching& vm = *b.matching;
  const bool grouped = vm.card == VectorMatching::Cardinality::kManyToOne ||
                       vm.card == VectorMatching::Cardinality::kOneToMany;
  if (vm.matching_labels.empty() && !vm.on && !grouped) return;
  *out += vm.on ? " on (" : " ignoring (";
  AppendLabelList(out, vm.matching_labels);
  *out += ')';
  if (grouped) {
    *out += vm.card == VectorMatching::Cardinality::kManyToOne ? " group_left (" : " group_right (";
    AppendLabelList(out, vm.include);
    *out += ')';
  }
}

// A range or step: the duration expression as written, else the duration.
void AppendRange(std::string* out, int64_t ms, const ExprPtr& expr) {
  if (expr) {
    AppendExpr(out, *expr);
  } else {
    *out += FormatDuration(ms);
  }
}

void AppendSubquerySuffix(std::string* out, const SubqueryExpr& s) {
  *out += '[';
  AppendRange(out, s.range, s.range_expr);
  *out += ':';
  if (s.step_expr || s.step != 0) AppendRange(out, s.step, s.step_expr);
  *out += ']';
  AppendAt(out, s.at, s.at_timestamp);
  AppendOffset(out, s.original_offset, s.offset_expr);
}

// Stops early (leaving a truncated string) once *out is longer than `limit`: enough for
// Prettify to decide whether a node fits on a line without printing all of it.
void AppendExpr(std::string* out, const Expr& e, size_t limit) {
  if (out->size() > limit) return;
  switch (e.kind) {
    case NodeKind::kNumberLiteral: {
      const auto& n = static_cast<const NumberLiteral&>(e);
      if (n.duration_ms) {
        AppendDuration(out, *n.duration_ms);
      } else {
        AppendGoFloat(out, n.value, 'f');
      }
      break;
    }
    case NodeKind::kStringLiteral:
      *out += QuoteGo(static_cast<const StringLiteral&>(e).value);
      break;
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      AppendSelectorBody(out, vs);
      AppendAt(out, vs.at, vs.at_timestamp);
      AppendOffset(out, vs.original_offset, vs.offset_expr);
      break;
    }
    case NodeKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(e);
      const auto& vs = static_cast<const VectorSelector&>(*m.vector_selector);
      AppendSelectorBody(out, vs);
      *out += '[';
      AppendRange(out, m.range, m.range_expr);
      *out += ']';
      AppendAt(out, vs.at, vs.at_timestamp);
      AppendOffset(out, vs.original_offset, vs.offset_expr);
      break;
    }
    case NodeKind::kSubquery: {
      const auto& s = static_cast<const SubqueryExpr&>(e);
      AppendExpr(out, *s.expr, limit);
      AppendSubquerySuffix(out, s);
      break;
    }
    case NodeKind::kParen:
      *out += '(';
      AppendExpr(out, *static_cast<const ParenExpr&>(e).expr, limit);
      *out += ')';
      break;
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      *out += BinaryOpString(u.op);
      AppendExpr(out, *u.expr, limit);
      break;
    }
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      AppendExpr(out, *b.lhs, limit);
      *out += ' ';
      AppendBinaryOp(out, b);
      *out += ' ';
      AppendExpr(out, *b.rhs, limit);
      break;
    }
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      AppendAggregateOp(out, a);
      *out += '(';
      if (a.param) {
        AppendExpr(out, *a.param, limit);
        *out += ", ";
      }
      AppendExpr(out, *a.expr, limit);
      *out += ')';
      break;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      *out += c.func->name;
      *out += '(';
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) *out += ", ";
        AppendExpr(out, *c.args[i], limit);
      }
      *out += ')';
      break;
    }
    case NodeKind::kStepInvariant:
      AppendExpr(out, *static_cast<const StepInvariantExpr&>(e).expr, limit);
      break;
  }
}

void Indent(std::string* out, int level) { out->append(static_cast<size_t>(level) * 2, ' '); }

bool NeedsSplit(const Expr& e) {
  std::string s;
  AppendExpr(&s, e, kMaxCharactersPerLine);
  return s.size() > kMaxCharactersPerLine;
}

void AppendPretty(std::string* out, const Expr& e, int level) {
  switch (e.kind) {
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      Indent(out, level);
      if (!NeedsSplit(e)) {
        AppendExpr(out, e);
        return;
      }
      AppendAggregateOp(out, a);
      *out += "(\n";
      if (a.param) {
        AppendPretty(out, *a.param, level + 1);
        *out += ",\n";
      }
      AppendPretty(out, *a.expr, level + 1);
      *out += '\n';
      Indent(out, level);
      *out += ')';
      return;
    }
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      if (!NeedsSplit(e)) {
        Indent(out, level);
        AppendExpr(out, e);
        return;
      }
      // The sides indent themselves one level deeper; the operator sits at this level.
      AppendPretty(out, *b.lhs, level + 1);
      *out += '\n';
      Indent(out, level);
      AppendBinaryOp(out, b);
      *out += '\n';
      AppendPretty(out, *b.rhs, level + 1);
      return;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      Indent(out, level);
      if (!NeedsSplit(e) || c.args.empty()) {
        AppendExpr(out, e);
        return;
      }
      *out += c.func->name;
      *out += "(\n";
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) *out += ",\n";
        AppendPretty(out, *c.args[i], level + 1);
      }
      *out += '\n';
      Indent(out, level);
      *out += ')';
      return;
    }
    case NodeKind::kParen: {
      Indent(out, level);
      if (!NeedsSplit(e)) {
        AppendExpr(out, e);
        return;
      }
      *out += "(\n";
      AppendPretty(out, *static_cast<const ParenExpr&>(e).expr, level + 1);
      *out += '\n';
      Indent(out, level);
      *out += ')';
      return;
    }
    case NodeKind::kSubquery: {
      // As in Prometheus, a subquery short enough for one line is not indented.
      const auto& s = static_cast<const SubqueryExpr&>(e);
      if (!NeedsSplit(e)) {
        AppendExpr(out, e);
        return;
      }
      AppendPretty(out, *s.expr, level);
      AppendSubquerySuffix(out, s);
      return;
    }
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      std::string child;
      AppendPretty(&child, *u.expr, level);
      std::string_view trimmed = TrimSpace(child);
      Indent(out, level);
      *out += BinaryOpString(u.op);
      *out += trimmed;
      return;
    }
    case NodeKind::kStepInvariant:
      AppendPretty(out, *static_cast<const StepInvariantExpr&>(e).expr, level);
      return;
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kVectorSelector:
    case NodeKind::kMatrixSelector:
      Indent(out, level);
      AppendExpr(out, e);
      return;
  }
}

}  // namespace

std::string Format(const Expr& e) {
  std::string out;
  out.reserve(64);
  AppendExpr(&out, e);
  return out;
}

std::string Prettify(const Expr& e) {
  std::string out;
  AppendPretty(&out, e, 0);
  return out;
}

}  // namespace hearth::promql
