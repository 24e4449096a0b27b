#pragma once

// Hand-built PromQL ASTs for engine tests that must not depend on the parser.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/matcher.h"
#include "query/parser/ast.h"

namespace hearth::promql::testing {

inline Matcher Eq(std::string name, std::string value) {
  return *Matcher::Make(MatchType::kEqual, std::move(name), std::move(value));
}
inline Matcher Re(std::string name, std::string value) {
  return *Matcher::Make(MatchType::kRegexMatch, std::move(name), std::move(value));
}

inline std::unique_ptr<VectorSelector> Sel(std::string name, std::vector<Matcher> extra = {}) {
  auto vs = std::make_unique<VectorSelector>();
  if (!name.empty()) vs->matchers.push_back(Eq("__name__", name));
  vs->name = std::move(name);
  for (auto& m : extra) vs->matchers.push_back(std::move(m));
  return vs;
}

inline std::unique_ptr<VectorSelector> Offset(std::unique_ptr<VectorSelector> vs, int64_t ms) {
  vs->original_offset = vs->offset = ms;
  return vs;
}

inline std::unique_ptr<VectorSelector> At(std::unique_ptr<VectorSelector> vs, int64_t ms) {
  vs->at = AtModifier::kTimestamp;
  vs->at_timestamp = ms;
  return vs;
}

inline ExprPtr Num(double v) {
  auto n = std::make_unique<NumberLiteral>();
  n->value = v;
  return n;
}

inline ExprPtr Str(std::string s) {
  auto n = std::make_unique<StringLiteral>();
  n->value = std::move(s);
  return n;
}

inline ExprPtr Mat(std::unique_ptr<VectorSelector> vs, int64_t range_ms) {
  auto m = std::make_unique<MatrixSelector>();
  m->vector_selector = std::move(vs);
  m->range = range_ms;
  return m;
}

inline ExprPtr Subq(ExprPtr e, int64_t range_ms, int64_t step_ms) {
  auto s = std::make_unique<SubqueryExpr>();
  s->expr = std::move(e);
  s->range = range_ms;
  s->step = step_ms;
  return s;
}

inline ExprPtr Neg(ExprPtr e) {
  auto u = std::make_unique<UnaryExpr>();
  u->op = BinaryOp::kSub;
  u->expr = std::move(e);
  return u;
}

inline ExprPtr Bin(BinaryOp op, ExprPtr l, ExprPtr r, bool return_bool = false) {
  auto b = std::make_unique<BinaryExpr>();
  b->op = op;
  if (l->Type() != ValueType::kScalar && r->Type() != ValueType::kScalar) {
    b->matching = VectorMatching{};
    if (IsSetOperator(op)) b->matching->card = VectorMatching::Cardinality::kManyToMany;
  }
  b->lhs = std::move(l);
  b->rhs = std::move(r);
  b->return_bool = return_bool;
  return b;
}

inline ExprPtr BinOn(BinaryOp op, ExprPtr l, ExprPtr r, std::vector<std::string> on,
                     VectorMatching::Cardinality card = VectorMatching::Cardinality::kOneToOne,
                     std::vector<std::string> include = {}) {
  auto b = std::make_unique<BinaryExpr>();
  b->op = op;
  b->matching = VectorMatching{};
  b->matching->on = true;
  b->matching->matching_labels = std::move(on);
  b->matching->card = IsSetOperator(op) ? VectorMatching::Cardinality::kManyToMany : card;
  b->matching->include = std::move(include);
  b->lhs = std::move(l);
  b->rhs = std::move(r);
  return b;
}

inline ExprPtr Agg(AggregateOp op, ExprPtr e, std::vector<std::string> by = {},
                   ExprPtr param = nullptr, bool without = false) {
  auto a = std::make_unique<AggregateExpr>();
  a->op = op;
  a->expr = std::move(e);
  a->param = std::move(param);
  a->grouping_given = !by.empty();
  a->grouping = std::move(by);
  a->without = without;
  return a;
}

// Function signatures for hand-built calls (the real table lives in query/parser/functions.h).
inline const FunctionSpec* Fn(std::string_view name) {
  using VT = ValueType;
  static const FunctionSpec kSpecs[] = {
      {"rate", {VT::kMatrix}, 0, VT::kVector, false},
      {"increase", {VT::kMatrix}, 0, VT::kVector, false},
      {"delta", {VT::kMatrix}, 0, VT::kVector, false},
      {"irate", {VT::kMatrix}, 0, VT::kVector, false},
      {"sum_over_time", {VT::kMatrix}, 0, VT::kVector, false},
      {"avg_over_time", {VT::kMatrix}, 0, VT::kVector, false},
      {"count_over_time", {VT::kMatrix}, 0, VT::kVector, false},
      {"last_over_time", {VT::kMatrix}, 0, VT::kVector, false},
      {"quantile_over_time", {VT::kScalar, VT::kMatrix}, 0, VT::kVector, false},
      {"absent_over_time", {VT::kMatrix}, 0, VT::kVector, false},
      {"abs", {VT::kVector}, 0, VT::kVector, false},
      {"timestamp", {VT::kVector}, 0, VT::kVector, false},
      {"time", {}, 0, VT::kScalar, false},
      {"vector", {VT::kScalar}, 0, VT::kVector, false},
      {"scalar", {VT::kVector}, 0, VT::kScalar, false},
      {"sort_desc", {VT::kVector}, 0, VT::kVector, false},
      {"histogram_quantile", {VT::kScalar, VT::kVector}, 0, VT::kVector, false},
      {"label_replace", {VT::kVector, VT::kString, VT::kString, VT::kString, VT::kString}, 0,
       VT::kVector, false},
      {"absent", {VT::kVector}, 0, VT::kVector, false},
      {"round", {VT::kVector, VT::kScalar}, 1, VT::kVector, false},
  };
  for (const auto& s : kSpecs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

template <typename... Args>
ExprPtr CallF(std::string_view name, Args... args) {
  auto c = std::make_unique<Call>();
  c->func = Fn(name);
  (c->args.push_back(std::move(args)), ...);
  return c;
}

}  // namespace hearth::promql::testing
