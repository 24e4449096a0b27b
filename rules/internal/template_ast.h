#pragma once

// The parse tree of a template in Go's text/template language (the subset Prometheus' rule
// templates use; see rules/template.h for what is supported). Positions are byte offsets into
// the template text.
//
// Internal to rules/.

#include <memory>
#include <string>
#include <vector>

#include "model/status.h"
#include "rules/internal/template_value.h"

namespace hearth::rules::tmpl {

struct Pipeline;

enum class ArgType {
  kIdentifier,  // a function name: `humanize`
  kField,       // `.Labels.job` (fields relative to dot)
  kVariable,    // `$labels.job` (variable, then fields)
  kChain,       // `(pipeline).Field`
  kDot,         // `.`
  kNil,
  kConstant,    // bool, number, string, char
  kPipe,        // a parenthesized pipeline
};

struct Arg {
  ArgType type = ArgType::kDot;
  int pos = 0;
  std::string ident;                // function name, or variable name with '$'
  std::vector<std::string> fields;  // field chain
  Value constant;                   // for kConstant
  std::string text;                 // how it was written (for error contexts)
  std::unique_ptr<Pipeline> pipe;   // kPipe, kChain
};

struct Command {
  int pos = 0;
  std::vector<Arg> args;
};

struct Pipeline {
  int pos = 0;
  bool is_assign = false;          // `$x = ...` rather than `$x := ...`
  std::vector<std::string> decl;   // declared or assigned variables
  std::vector<Command> cmds;
};

enum class NodeType { kText, kAction, kIf, kRange, kWith, kBreak, kContinue };

struct Node;
using NodeList = std::vector<std::unique_ptr<Node>>;

struct Node {
  NodeType type = NodeType::kText;
  int pos = 0;
  std::string text;                   // kText
  std::unique_ptr<Pipeline> pipe;     // kAction, kIf, kRange, kWith
  NodeList list;                      // body of if/range/with
  NodeList else_list;                 // else branch
  bool has_else = false;
};

struct Tree {
  std::string name;
  std::string text;
  NodeList root;
  // Added to byte columns on the first line in error locations, so that they point where Go
  // would with Prometheus' variable definitions prefixed to the text.
  int first_line_offset = 0;
};

// Parses `text`. `predeclared` variables (with '$') are in scope from the start; `$` always is.
// Errors read like Go's: `template: <name>:<line>:<col>: function "foo" not defined`.
Result<std::unique_ptr<Tree>> ParseTree(std::string_view text, std::string_view name,
                                        const std::vector<std::string>& predeclared);

// Whether `name` is a function the executor knows (Go's builtins and Prometheus' functions).
bool IsKnownFunction(std::string_view name);

// Printable form of an argument or pipeline, for error contexts (`<humanize "x">`).
std::string ArgString(const Arg& a);
std::string PipelineString(const Pipeline& p);
std::string CommandString(const Command& c);

// "name:line:col" for a byte position, as Go's ErrorContext reports it.
std::string Location(const Tree& t, int pos);

}  // namespace hearth::rules::tmpl
