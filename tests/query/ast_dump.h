#pragma once
// A structural dump of a PromQL tree for tests and the fuzz target: every field that carries
// meaning, no positions. Two trees with equal dumps evaluate the same way. Matchers are listed
// sorted (their order has no meaning); `by ()` and no grouping dump the same, as they print the
// same. @ timestamps beyond 2^53 ms (year 287,396) print as "huge": the API and the printer
// carry them through float seconds, as Prometheus does, so they are not exact there.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "query/parser/ast.h"

namespace hearth::promql::testing {

inline void DumpTo(const Expr* e, std::string* out);

inline void DumpTo(const ExprPtr& e, std::string* out) { DumpTo(e.get(), out); }

inline std::string DumpNumber(double v) {
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

inline std::string DumpAt(AtModifier at, int64_t ts) {
  switch (at) {
    case AtModifier::kNone: return "";
    case AtModifier::kStart: return " @start";
    case AtModifier::kEnd: return " @end";
    case AtModifier::kTimestamp:
      if (ts > (int64_t{1} << 53) || ts < -(int64_t{1} << 53)) return " @huge";
      return fmt::format(" @{}", ts);
  }
  return "";
}

inline void DumpTo(const Expr* e, std::string* out) {
  if (e == nullptr) {
    *out += "null";
    return;
  }
  switch (e->kind) {
    case NodeKind::kNumberLiteral: {
      const auto& n = static_cast<const NumberLiteral&>(*e);
      *out += "num(" + DumpNumber(n.value);
      if (n.duration_ms) *out += fmt::format(" dur={}", *n.duration_ms);
      *out += ")";
      break;
    }
    case NodeKind::kStringLiteral: {
      *out += "str(";
      for (unsigned char c : static_cast<const StringLiteral&>(*e).value) {
        *out += fmt::format("{:02x}", c);
      }
      *out += ")";
      break;
    }
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(*e);
      std::vector<std::string> ms;
      for (const auto& m : vs.matchers) ms.push_back(m.ToString());
      std::sort(ms.begin(), ms.end());
      *out += "vs(" + vs.name + "{";
      for (const auto& m : ms) *out += m + ";";
      *out += fmt::format("}} off={} evaloff={}", vs.original_offset, vs.offset);
      *out += DumpAt(vs.at, vs.at_timestamp);
      if (vs.offset_expr) {
        *out += " offexpr=";
        DumpTo(vs.offset_expr, out);
      }
      *out += ")";
      break;
    }
    case NodeKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(*e);
      *out += fmt::format("matrix(range={} ", m.range);
      if (m.range_expr) {
        *out += "rangeexpr=";
        DumpTo(m.range_expr, out);
        *out += " ";
      }
      DumpTo(m.vector_selector, out);
      *out += ")";
      break;
    }
    case NodeKind::kSubquery: {
      const auto& s = static_cast<const SubqueryExpr&>(*e);
      *out += fmt::format("subquery(range={} step={} off={} evaloff={}{} ", s.range, s.step,
                          s.original_offset, s.offset, DumpAt(s.at, s.at_timestamp));
      for (const auto* x : {&s.range_expr, &s.step_expr, &s.offset_expr}) {
        if (*x) {
          *out += "expr=";
          DumpTo(*x, out);
          *out += " ";
        }
      }
      DumpTo(s.expr, out);
      *out += ")";
      break;
    }
    case NodeKind::kParen:
      *out += "paren(";
      DumpTo(static_cast<const ParenExpr&>(*e).expr, out);
      *out += ")";
      break;
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(*e);
      *out += fmt::format("unary({} ", BinaryOpString(u.op));
      DumpTo(u.expr, out);
      *out += ")";
      break;
    }
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(*e);
      *out += fmt::format("binary({}{} ", BinaryOpString(b.op), b.return_bool ? " bool" : "");
      if (b.matching) {
        const auto& vm = *b.matching;
        *out += fmt::format("match(card={} on={} labels={} include={}) ", static_cast<int>(vm.card),
                            vm.on, fmt::join(vm.matching_labels, ","), fmt::join(vm.include, ","));
      }
      DumpTo(b.lhs, out);
      *out += " ";
      DumpTo(b.rhs, out);
      *out += ")";
      break;
    }
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(*e);
      *out += fmt::format("agg({} without={} grouping={} ", AggregateOpString(a.op), a.without,
                          fmt::join(a.grouping, ","));
      if (a.param) {
        DumpTo(a.param, out);
        *out += " ";
      }
      DumpTo(a.expr, out);
      *out += ")";
      break;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(*e);
      *out += fmt::format("call({}", c.func->name);
      for (const auto& a : c.args) {
        *out += " ";
        DumpTo(a, out);
      }
      *out += ")";
      break;
    }
    case NodeKind::kStepInvariant:
      *out += "stepinvariant(";
      DumpTo(static_cast<const StepInvariantExpr&>(*e).expr, out);
      *out += ")";
      break;
  }
}

inline std::string Dump(const Expr& e) {
  std::string out;
  DumpTo(&e, &out);
  return out;
}

// Whether the tree holds an @ timestamp beyond 2^53 ms (see above).
inline bool HasHugeTimestamp(const Expr& e) {
  bool huge = false;
  Walk(e, [&](const Expr& n) {
    int64_t ts = 0;
    if (n.kind == NodeKind::kVectorSelector) {
      const auto& vs = static_cast<const VectorSelector&>(n);
      if (vs.at == AtModifier::kTimestamp) ts = vs.at_timestamp;
    } else if (n.kind == NodeKind::kSubquery) {
      const auto& s = static_cast<const SubqueryExpr&>(n);
      if (s.at == AtModifier::kTimestamp) ts = s.at_timestamp;
    }
    if (ts > (int64_t{1} << 53) || ts < -(int64_t{1} << 53)) huge = true;
  });
  return huge;
}

}  // namespace hearth::promql::testing
