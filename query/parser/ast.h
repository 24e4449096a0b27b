#pragma once

// The PromQL abstract syntax tree. The parser (query/parser/parser.h) produces it, the printer
// turns it back into canonical PromQL, the engine (query/engine.h) evaluates it. Nodes own their
// children; a tree is immutable once parsed, so one parsed expression may be evaluated by many
// threads at once (recording rules, the API).
//
// Positions are byte offsets into the query text, [start, end).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/matcher.h"

namespace hearth::promql {

// The type an expression evaluates to. Names as Prometheus' documentation spells them
// ("instant vector", "range vector", "scalar", "string") come from DocumentedTypeName.
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);        // "scalar", "vector", "matrix", "string"
std::string_view DocumentedTypeName(ValueType t);   // "scalar", "instant vector", ...

struct PositionRange {
  int start = 0;
  int end = 0;
};

enum class NodeKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
  kStepInvariant,  // engine-internal wrapper: the subtree yields the same value at every step
};

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,  // arithmetic
  kEql, kNeq, kGtr, kLss, kGte, kLte,           // comparison
  kLand, kLor, kLunless,                        // set operators: and, or, unless
};
std::string_view BinaryOpString(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopk, kBottomk, kCountValues, kQuantile, kLimitK, kLimitRatio,
};
std::string_view AggregateOpString(AggregateOp op);  // "sum", "count_values", "limitk", ...
// Whether the aggregation takes a parameter before the vector (topk(3, x), quantile(0.9, x)).
bool AggregateHasParam(AggregateOp op);

// `@ start()` / `@ end()`.
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  explicit Expr(NodeKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  ValueType Type() const;
  const NodeKind kind;
  PositionRange pos;
};

struct NumberLiteral final : Expr {
  NumberLiteral() : Expr(NodeKind::kNumberLiteral) {}
  double value = 0;
  // Set when the literal was written as a duration (3.x allows `[5m]`-style numbers in some
  // places); printing keeps the original form.
  std::optional<int64_t> duration_ms;
};

struct StringLiteral final : Expr {
  StringLiteral() : Expr(NodeKind::kStringLiteral) {}
  std::string value;
};

struct VectorSelector final : Expr {
  VectorSelector() : Expr(NodeKind::kVectorSelector) {}
  std::string name;               // the metric name when written outside braces ("" if none)
  std::vector<Matcher> matchers;  // includes __name__="name" when a name was given
  int64_t original_offset = 0;    // offset as written, ms (negative allowed)
  int64_t offset = 0;             // offset used for evaluation (engine may adjust)
  AtModifier at = AtModifier::kNone;
  int64_t at_timestamp = 0;       // ms, when at == kTimestamp
  // Set when the offset was written as a duration expression (`offset step() * 2`, `offset
  // (1h + 5m)`; see "Duration expressions" below). original_offset/offset then hold its value
  // if it is constant, else 0.
  ExprPtr offset_expr;
};

// Duration expressions (experimental in Prometheus 3.x, always enabled here): ranges, subquery
// steps and offsets may be arithmetic (+ - * / % ^, unary -, parentheses) over number and
// duration literals and the scalar functions step(), range(), min_of(a, b), max_of(a, b). They
// are kept as ordinary scalar expression trees (NumberLiteral, BinaryExpr without matching,
// UnaryExpr, ParenExpr, Call), in seconds, so that the printer writes them back as written.
// When such an expression uses no step()/range(), the parser evaluates it and fills the plain
// field too (range, step, original_offset/offset) — an engine that ignores the *_expr fields
// is then still right. When it uses step() or range(), the plain field is 0 and the engine
// evaluates the expression once per query (step() = the query step in seconds, 0 for instant
// queries; range() = end - start in seconds) and converts seconds to ms as Prometheus does
// (ranges and steps must come out > 0: "duration must be greater than 0"). Walk() does not
// visit these expressions.

struct MatrixSelector final : Expr {
  MatrixSelector() : Expr(NodeKind::kMatrixSelector) {}
  ExprPtr vector_selector;  // a VectorSelector
  int64_t range = 0;        // ms
  ExprPtr range_expr;       // the range as a duration expression, if written as one
};

struct SubqueryExpr final : Expr {
  SubqueryExpr() : Expr(NodeKind::kSubquery) {}
  ExprPtr expr;
  int64_t range = 0;  // ms
  int64_t step = 0;   // ms; 0 means the default evaluation interval
  int64_t original_offset = 0;
  int64_t offset = 0;
  AtModifier at = AtModifier::kNone;
  int64_t at_timestamp = 0;
  // Duration expressions for range, step and offset (see "Duration expressions" above).
  ExprPtr range_expr;
  ExprPtr step_expr;
  ExprPtr offset_expr;
};

struct ParenExpr final : Expr {
  ParenExpr() : Expr(NodeKind::kParen) {}
  ExprPtr expr;
};

struct UnaryExpr final : Expr {
  UnaryExpr() : Expr(NodeKind::kUnary) {}
  BinaryOp op = BinaryOp::kSub;  // kAdd or kSub
  ExprPtr expr;
};

struct VectorMatching {
  enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Cardinality card = Cardinality::kOneToOne;
  // Labels listed in on(...) / ignoring(...).
  std::vector<std::string> matching_labels;
  bool on = false;  // true for on(...), false for ignoring(...) or nothing
  // Extra labels of group_left(...) / group_right(...).
  std::vector<std::string> include;
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(NodeKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  // Present when both sides are vectors (set operators get kManyToMany).
  std::optional<VectorMatching> matching;
  bool return_bool = false;  // comparison with the `bool` modifier
};

struct AggregateExpr final : Expr {
  AggregateExpr() : Expr(NodeKind::kAggregate) {}
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values/limitk/limit_ratio; else null
  std::vector<std::string> grouping;
  bool without = false;
  bool grouping_given = false;  // `by ()` was written, as opposed to no clause at all
};

// A function's signature, from the constant function table (query/parser/functions.h).
struct FunctionSpec {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() args; -1: any number from arg_types.size()-1 on (the last type
  // repeats); n > 0: up to n optional trailing args of the last type.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  bool experimental = false;
};

struct Call final : Expr {
  Call() : Expr(NodeKind::kCall) {}
  const FunctionSpec* func = nullptr;  // points into the constant table
  std::vector<ExprPtr> args;
};

struct StepInvariantExpr final : Expr {
  StepInvariantExpr() : Expr(NodeKind::kStepInvariant) {}
  ExprPtr expr;
};

// Calls f(node) for every node of the tree, parents before children.
template <typename F>
void Walk(const Expr& e, F&& f);

}  // namespace hearth::promql

#include "query/parser/ast_walk.h"  // IWYU pragma: export
