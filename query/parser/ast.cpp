#include "query/parser/ast.h"

namespace hearth::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view DocumentedTypeName(ValueType t) {
  switch (t) {
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    default: return ValueTypeName(t);
  }
}

std::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kLand: return "and";
    case BinaryOp::kLor: return "or";
    case BinaryOp::kLunless: return "unless";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql: case BinaryOp::kNeq: case BinaryOp::kGtr: case BinaryOp::kLss:
    case BinaryOp::kGte: case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOperator(BinaryOp op) {
  return op == BinaryOp::kLand || op == BinaryOp::kLor || op == BinaryOp::kLunless;
}

std::string_view AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopk: return "topk";
    case AggregateOp::kBottomk: return "bottomk";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kQuantile: return "quantile";
    case AggregateOp::kLimitK: return "limitk";
    case AggregateOp::kLimitRatio: return "limit_ratio";
  }
  return "?";
}

bool AggregateHasParam(AggregateOp op) {
  switch (op) {
    case AggregateOp::kTopk: case AggregateOp::kBottomk: case AggregateOp::kCountValues:
    case AggregateOp::kQuantile: case AggregateOp::kLimitK: case AggregateOp::kLimitRatio:
      return true;
    default:
      return false;
  }
}

ValueType Expr::Type() const {
  switch (kind) {
    case NodeKind::kNumberLiteral: return ValueType::kScalar;
    case NodeKind::kStringLiteral: return ValueType::kString;
    case NodeKind::kVectorSelector: return ValueType::kVector;
    case NodeKind::kMatrixSelector: return ValueType::kMatrix;
    case NodeKind::kSubquery: return ValueType::kMatrix;
    case NodeKind::kParen: return static_cast<const ParenExpr*>(this)->expr->Type();
    case NodeKind::kUnary: return static_cast<const UnaryExpr*>(this)->expr->Type();
    case NodeKind::kAggregate: return ValueType::kVector;
    case NodeKind::kCall: return static_cast<const Call*>(this)->func->return_type;
    case NodeKind::kStepInvariant:
      return static_cast<const StepInvariantExpr*>(this)->expr->Type();
    case NodeKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(this);
      if (b->lhs->Type() == ValueType::kScalar && b->rhs->Type() == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
  }
  return ValueType::kNone;
}

}  // namespace hearth::promql
