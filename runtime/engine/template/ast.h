// Syntax tree of a parsed chat template (../shared/docs/model.md §7.1). Built once by the parser, then only read:
// a parsed template may be rendered from many threads at once. Node kinds mirror jinja2.nodes for the subset
// Hugging Face chat templates use.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/engine/template/value.h"

namespace warden::engine::detail {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
  kConst,     // constant: a scalar or string literal
  kName,      // name
  kList,      // [children...]
  kTuple,     // (children...)
  kDict,      // {children[0]: children[1], ...} (pairs flattened)
  kGetAttr,   // children[0].name
  kGetItem,   // children[0][children[1]]
  kSlice,     // children: start, stop, step (null where omitted) — only as a GetItem index
  kCall,      // children[0](children[1..], kwargs, *dyn_args, **dyn_kwargs)
  kFilter,    // children[0] | name(children[1..], kwargs); children[0] null inside {% filter %}
  kTest,      // children[0] is name(children[1..], kwargs)
  kNeg,       // -children[0]
  kPos,       // +children[0]
  kNot,       // not children[0]
  kBinary,    // children[0] op children[1]; op in name: + - * / // % **
  kConcat,    // children joined with ~
  kCompare,   // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
  kAnd,
  kOr,
  kCondExpr,  // children: test, true value, false value (null: undefined)
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  int line = 0;
  Value constant;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args;
  ExprPtr dyn_kwargs;
  std::vector<std::string> ops;
};

// An assignment target: a name, `ns.attr` (namespace attribute) or a tuple of targets.
struct Target {
  enum class Kind { kName, kNamespaceAttr, kTuple } kind = Kind::kName;
  std::string name;
  std::string attr;
  std::vector<Target> items;
};

// A macro's (or call block's) parameter list.
struct Signature {
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  bool catch_varargs = false;     // the body reads `varargs`: extra positional arguments are allowed
  bool catch_kwargs = false;      // the body reads `kwargs`: unknown keyword arguments are allowed
};

enum class StmtKind {
  kText,         // literal template data (text)
  kPrint,        // {{ expr }}
  kIf,           // tests[i] -> bodies[i]; else_body
  kFor,          // for target in expr [if filter] [recursive]: body; else_body
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter] %} body {% endset
  kMacro,        // macro name(signature) body
  kCallBlock,    // call(signature) expr: body becomes `caller`
  kFilterBlock,  // filter filter_expr: body
  kWith,         // with targets = values: body
  kBreak,
  kContinue,
  kGeneration,   // transformers' {% generation %} block: renders its body
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;  // for-loop condition, set-block / filter-block filter
  Target target;
  std::vector<Target> targets;  // with
  std::vector<ExprPtr> values;  // with
  std::vector<ExprPtr> tests;   // if / elif conditions
  std::vector<Body> bodies;     // if branches
  Body body;
  Body else_body;
  bool recursive = false;
  std::string name;  // macro name
  std::shared_ptr<Signature> signature;
};

// A whole template: the source name (for messages) and the top-level statements.
struct Program {
  std::string source_name;
  Body body;
};

}  // namespace warden::engine::detail
