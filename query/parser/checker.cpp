#include "query/parser/checker.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "model/labels.h"
#include "model/strutil.h"
#include "query/parser/functions.h"

namespace hearth::promql {
namespace {

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reports the first error by throwing it; CheckTypes catches it.
class Checker {
 public:
  explicit Checker(std::string_view input) : input_(input) {}

  [[noreturn]] static void Fail(int pos, std::string msg) {
    throw TypeError{pos, std::move(msg)};
  }

  [[noreturn]] void ExpectTypeFail(const Expr& e, ValueType want, std::string_view context,
                                   ValueType got) {
    Fail(e.pos.start, fmt::format("expected type {} in {}, got {}", DocumentedTypeName(want),
                                  context, DocumentedTypeName(got)));
  }

  // The operator's position in a binary expression: from the end of the left side to the
  // start of the right side, trimmed of spaces.
  int OperatorPos(const BinaryExpr& b) const {
    size_t p = static_cast<size_t>(b.lhs->pos.end);
    while (p < input_.size() && IsSpaceChar(input_[p])) ++p;
    return static_cast<int>(p);
  }

  ValueType Check(Expr& node, bool bypass_empty_matcher_check = false) {
    switch (node.kind) {
      case NodeKind::kAggregate: {
        auto& a = static_cast<AggregateExpr&>(node);
        if (ValueType t = Check(*a.expr); t != ValueType::kVector) {
          ExpectTypeFail(*a.expr, ValueType::kVector, "aggregation expression", t);
        }
        if (a.param) {
          ValueType want =
              a.op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar;
          if (ValueType t = Check(*a.param); t != want) {
            ExpectTypeFail(*a.param, want, "aggregation parameter", t);
          }
        }
        break;
      }
      case NodeKind::kBinary: {
        auto& b = static_cast<BinaryExpr&>(node);
        ValueType lt = Check(*b.lhs);
        ValueType rt = Check(*b.rhs);
        const bool comparison = IsComparison(b.op);
        const bool set_op = IsSetOperator(b.op);
        if (b.return_bool && !comparison) {
          Fail(OperatorPos(b), "bool modifier can only be used on comparison operators");
        }
        if (comparison && !b.return_bool && lt == ValueType::kScalar &&
            rt == ValueType::kScalar) {
          Fail(OperatorPos(b), "comparisons between scalars must use BOOL modifier");
        }
        if (b.matching) {
          VectorMatching& vm = *b.matching;
          if (set_op && vm.card == VectorMatching::Cardinality::kOneToOne) {
            vm.card = VectorMatching::Cardinality::kManyToMany;
          }
          if (vm.on) {
            for (const auto& l1 : vm.matching_labels) {
              for (const auto& l2 : vm.include) {
                if (l1 == l2) {
                  Fail(OperatorPos(b),
                       fmt::format("label {} must not occur in ON and GROUP clause at once",
                                   QuoteGo(l1)));
                }
              }
            }
          }
        }
        if (lt != ValueType::kScalar && lt != ValueType::kVector) {
          Fail(b.lhs->pos.start, "binary expression must contain only scalar and instant vector types");
        }
        if (rt != ValueType::kScalar && rt != ValueType::kVector) {
          Fail(b.rhs->pos.start, "binary expression must contain only scalar and instant vector types");
        }
        if ((lt != ValueType::kVector || rt != ValueType::kVector) && b.matching) {
          if (!b.matching->matching_labels.empty()) {
            Fail(b.pos.start, "vector matching only allowed between instant vectors");
          }
          b.matching.reset();
        } else if (set_op && b.matching) {
          auto card = b.matching->card;
          if (card == VectorMatching::Cardinality::kOneToMany ||
              card == VectorMatching::Cardinality::kManyToOne) {
            Fail(b.pos.start,
                 fmt::format("no grouping allowed for {} operation", QuoteGo(BinaryOpString(b.op))));
          }
        }
        if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && set_op) {
          Fail(b.pos.start, fmt::format("set operator {} not allowed in binary scalar expression",
                                        QuoteGo(BinaryOpString(b.op))));
        }
        break;
      }
      case NodeKind::kCall: {
        auto& c = static_cast<Call&>(node);
        const FunctionSpec& f = *c.func;
        const size_t nargs = f.arg_types.size();
        const std::string fname = QuoteGo(f.name);
        if (f.variadic == 0) {
          if (nargs != c.args.size()) {
            Fail(c.pos.start, fmt::format("expected {} argument(s) in call to {}, got {}", nargs,
                                          fname, c.args.size()));
          }
        } else {
          size_t na = nargs - 1;
          if (na > c.args.size()) {
            Fail(c.pos.start, fmt::format("expected at least {} argument(s) in call to {}, got {}",
                                          na, fname, c.args.size()));
          }
          if (f.variadic > 0 && na + static_cast<size_t>(f.variadic) < c.args.size()) {
            Fail(c.pos.start, fmt::format("expected at most {} argument(s) in call to {}, got {}",
                                          na + static_cast<size_t>(f.variadic), fname,
                                          c.args.size()));
          }
        }
        bool info_labels = false;
        if (f.name == "info" && c.args.size() > 1) {
          const Expr& a1 = *c.args[1];
          if (a1.Type() != ValueType::kVector) {
            Fail(c.pos.start, fmt::format("expected type instant vector in call to function {}, "
                                          "got {}",
                                          fname, DocumentedTypeName(a1.Type())));
          }
          if (a1.kind != NodeKind::kVectorSelector) {
            Fail(a1.pos.start, "expected label selectors only");
          }
          if (!static_cast<const VectorSelector&>(a1).name.empty()) {
            Fail(a1.pos.start, "expected label selectors only, got vector selector instead");
          }
          info_labels = true;
        }
        for (size_t i = 0; i < c.args.size(); ++i) {
          size_t ti = i;
          if (ti >= nargs) {
            if (f.variadic == 0) break;
            ti = nargs - 1;
          }
          ValueType t = Check(*c.args[i], info_labels && i == 1);
          if (t != f.arg_types[ti]) {
            Fail(c.args[i]->pos.start,
                 fmt::format("expected type {} in call to function {}, got {}",
                             DocumentedTypeName(f.arg_types[ti]), fname, DocumentedTypeName(t)));
          }
        }
        break;
      }
      case NodeKind::kParen:
        Check(*static_cast<ParenExpr&>(node).expr);
        break;
      case NodeKind::kUnary: {
        auto& u = static_cast<UnaryExpr&>(node);
        ValueType t = Check(*u.expr);
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          Fail(u.pos.start, fmt::format("unary expression only allowed on expressions of type "
                                        "scalar or instant vector, got {}",
                                        QuoteGo(DocumentedTypeName(t))));
        }
        break;
      }
      case NodeKind::kSubquery: {
        auto& s = static_cast<SubqueryExpr&>(node);
        ValueType t = Check(*s.expr);
        if (t != ValueType::kVector) {
          Fail(s.pos.start, fmt::format("subquery is only allowed on instant vector, got {} instead",
                                        ValueTypeName(t)));
        }
        break;
      }
      case NodeKind::kMatrixSelector:
        Check(*static_cast<MatrixSelector&>(node).vector_selector);
        break;
      case NodeKind::kVectorSelector: {
        auto& vs = static_cast<VectorSelector&>(node);
        if (!vs.name.empty()) {
          // The last matcher is the one for the name written outside the braces.
          for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
            if (vs.matchers[i].name() == kMetricName) {
              Fail(vs.pos.start, fmt::format("metric name must not be set twice: {} or {}",
                                             QuoteGo(vs.name), QuoteGo(vs.matchers[i].value())));
            }
          }
          break;
        }
        if (!bypass_empty_matcher_check) {
          bool non_empty = std::any_of(vs.matchers.begin(), vs.matchers.end(),
                                       [](const Matcher& m) { return !m.MatchesEmpty(); });
          if (!non_empty) {
            Fail(vs.pos.start, "vector selector must contain at least one non-empty matcher");
          }
        }
        break;
      }
      case NodeKind::kNumberLiteral:
      case NodeKind::kStringLiteral:
      case NodeKind::kStepInvariant:
        break;
    }
    return node.Type();
  }

 private:
  std::string_view input_;
};

}  // namespace

std::optional<TypeError> CheckTypes(Expr& root, std::string_view input) {
  try {
    Checker(input).Check(root);
  } catch (TypeError& e) {
    return std::move(e);
  }
  return std::nullopt;
}

}  // namespace hearth::promql
