#pragma once
// Walk() of ast.h; kept apart so ast.h reads as the list of node types.

namespace hearth::promql {

template <typename F>
void Walk(const Expr& e, F&& f) {
  f(e);
  switch (e.kind) {
    case NodeKind::kMatrixSelector:
      Walk(*static_cast<const MatrixSelector&>(e).vector_selector, f);
      break;
    case NodeKind::kSubquery:
      Walk(*static_cast<const SubqueryExpr&>(e).expr, f);
      break;
    case NodeKind::kParen:
      Walk(*static_cast<const ParenExpr&>(e).expr, f);
      break;
    case NodeKind::kUnary:
      Walk(*static_cast<const UnaryExpr&>(e).expr, f);
      break;
    case NodeKind::kBinary:
      Walk(*static_cast<const BinaryExpr&>(e).lhs, f);
      Walk(*static_cast<const BinaryExpr&>(e).rhs, f);
      break;
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param) Walk(*a.param, f);
      Walk(*a.expr, f);
      break;
    }
    case NodeKind::kCall:
      for (const auto& arg : static_cast<const Call&>(e).args) Walk(*arg, f);
      break;
    case NodeKind::kStepInvariant:
      Walk(*static_cast<const StepInvariantExpr&>(e).expr, f);
      break;
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kVectorSelector:
      break;
  }
}

}  // namespace hearth::promql
