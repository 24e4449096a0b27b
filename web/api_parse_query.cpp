// /api/v1/parse_query: the syntax tree as JSON for the UI's tree view (Prometheus 3.0's
// translateAST). Go marshals the nodes as maps, so members are in alphabetical order.

#include "model/format.h"
#include "web/internal/api_impl.h"

namespace hearth::web {
namespace {

std::string_view CardinalityName(promql::VectorMatching::Cardinality c) {
  using C = promql::VectorMatching::Cardinality;
  switch (c) {
    case C::kOneToOne: return "one-to-one";
    case C::kManyToOne: return "many-to-one";
    case C::kOneToMany: return "one-to-many";
    case C::kManyToMany: return "many-to-many";
  }
  return "one-to-one";
}

void WriteStringList(JsonWriter& w, const std::vector<std::string>& l) {
  w.BeginArray();
  for (const auto& s : l) w.String(s);
  w.EndArray();
}

void WriteMatchers(JsonWriter& w, const std::vector<Matcher>& ms) {
  w.BeginArray();
  for (const Matcher& m : ms) {
    w.BeginObject();
    w.Member("name", m.name());
    w.Member("type", MatchTypeString(m.type()));
    w.Member("value", m.value());
    w.EndObject();
  }
  w.EndArray();
}

// "startOrEnd" and "timestamp" of selectors and subqueries.
void WriteAt(JsonWriter& w, promql::AtModifier at, int64_t ts, bool timestamp_member) {
  if (!timestamp_member) {
    w.Key("startOrEnd");
    if (at == promql::AtModifier::kStart) {
      w.String("start");
    } else if (at == promql::AtModifier::kEnd) {
      w.String("end");
    } else {
      w.Null();
    }
    return;
  }
  w.Key("timestamp");
  if (at == promql::AtModifier::kTimestamp) {
    w.Int(ts);
  } else {
    w.Null();
  }
}

void WriteNode(JsonWriter& w, const promql::Expr* e);

void WriteVectorSelectorMembers(JsonWriter& w, const promql::VectorSelector& vs) {
  w.Key("matchers");
  WriteMatchers(w, vs.matchers);
  w.Member("name", vs.name);
  w.Member("offset", vs.original_offset);
}

void WriteNode(JsonWriter& w, const promql::Expr* e) {
  using promql::NodeKind;
  if (e == nullptr) {
    w.Null();
    return;
  }
  w.BeginObject();
  switch (e->kind) {
    case NodeKind::kAggregate: {
      const auto& n = static_cast<const promql::AggregateExpr&>(*e);
      w.Key("expr");
      WriteNode(w, n.expr.get());
      w.Key("grouping");
      WriteStringList(w, n.grouping);
      w.Member("op", AggregateOpString(n.op));
      w.Key("param");
      WriteNode(w, n.param.get());
      w.Member("type", "aggregation");
      w.Member("without", n.without);
      break;
    }
    case NodeKind::kBinary: {
      const auto& n = static_cast<const promql::BinaryExpr&>(*e);
      w.Member("bool", n.return_bool);
      w.Key("lhs");
      WriteNode(w, n.lhs.get());
      w.Key("matching");
      if (n.matching) {
        w.BeginObject();
        w.Member("card", CardinalityName(n.matching->card));
        w.Key("include");
        WriteStringList(w, n.matching->include);
        w.Key("labels");
        WriteStringList(w, n.matching->matching_labels);
        w.Member("on", n.matching->on);
        w.EndObject();
      } else {
        w.Null();
      }
      w.Member("op", BinaryOpString(n.op));
      w.Key("rhs");
      WriteNode(w, n.rhs.get());
      w.Member("type", "binaryExpr");
      break;
    }
    case NodeKind::kCall: {
      const auto& n = static_cast<const promql::Call&>(*e);
      w.Key("args");
      w.BeginArray();
      for (const auto& a : n.args) WriteNode(w, a.get());
      w.EndArray();
      w.Key("func");
      w.BeginObject();
      w.Key("argTypes");
      w.BeginArray();
      for (auto t : n.func->arg_types) w.String(ValueTypeName(t));
      w.EndArray();
      w.Member("name", n.func->name);
      w.Member("returnType", ValueTypeName(n.func->return_type));
      w.Member("variadic", int64_t{n.func->variadic});
      w.EndObject();
      w.Member("type", "call");
      break;
    }
    case NodeKind::kMatrixSelector: {
      const auto& n = static_cast<const promql::MatrixSelector&>(*e);
      const auto& vs = static_cast<const promql::VectorSelector&>(*n.vector_selector);
      WriteVectorSelectorMembers(w, vs);
      w.Member("range", n.range);
      WriteAt(w, vs.at, vs.at_timestamp, false);
      WriteAt(w, vs.at, vs.at_timestamp, true);
      w.Member("type", "matrixSelector");
      break;
    }
    case NodeKind::kSubquery: {
      const auto& n = static_cast<const promql::SubqueryExpr&>(*e);
      w.Key("expr");
      WriteNode(w, n.expr.get());
      w.Member("offset", n.original_offset);
      w.Member("range", n.range);
      WriteAt(w, n.at, n.at_timestamp, false);
      w.Member("step", n.step);
      WriteAt(w, n.at, n.at_timestamp, true);
      w.Member("type", "subquery");
      break;
    }
    case NodeKind::kNumberLiteral: {
      const auto& n = static_cast<const promql::NumberLiteral&>(*e);
      w.Member("type", "numberLiteral");
      w.Member("val", FormatGoFloat(n.value, 'f'));
      break;
    }
    case NodeKind::kParen: {
      const auto& n = static_cast<const promql::ParenExpr&>(*e);
      w.Key("expr");
      WriteNode(w, n.expr.get());
      w.Member("type", "parenExpr");
      break;
    }
    case NodeKind::kStringLiteral: {
      const auto& n = static_cast<const promql::StringLiteral&>(*e);
      w.Member("type", "stringLiteral");
      w.Member("val", n.value);
      break;
    }
    case NodeKind::kUnary: {
      const auto& n = static_cast<const promql::UnaryExpr&>(*e);
      w.Key("expr");
      WriteNode(w, n.expr.get());
      w.Member("op", BinaryOpString(n.op));
      w.Member("type", "unaryExpr");
      break;
    }
    case NodeKind::kVectorSelector: {
      const auto& n = static_cast<const promql::VectorSelector&>(*e);
      WriteVectorSelectorMembers(w, n);
      WriteAt(w, n.at, n.at_timestamp, false);
      WriteAt(w, n.at, n.at_timestamp, true);
      w.Member("type", "vectorSelector");
      break;
    }
    case NodeKind::kStepInvariant: {
      // Engine-internal; the parser never produces it. Show what it wraps.
      const auto& n = static_cast<const promql::StepInvariantExpr&>(*e);
      w.Key("expr");
      WriteNode(w, n.expr.get());
      w.Member("type", "parenExpr");
      break;
    }
  }
  w.EndObject();
}

}  // namespace

void WriteAstJson(JsonWriter& w, const promql::Expr& e) { WriteNode(w, &e); }

}  // namespace hearth::web
