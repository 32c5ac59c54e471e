// Evaluates a parsed chat template (ast.h) against a context (../shared/docs/model.md §7.1).
//
// Semantics are jinja2 3.1's under transformers' ImmutableSandboxedEnvironment: Python values and operators,
// Undefined that renders empty but fails when used, attribute lookup falling back to items (and items to methods),
// scoping where `for` bodies, macros and `with` open a scope and `if` does not, and sandboxed objects (no mutation
// except `namespace` attributes). An Interpreter renders once; make one per render (the Program is shared and
// read-only, so concurrent renders are safe). Runaway templates stop at RenderLimits with a kLimit TemplateError.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/engine/template/ast.h"
#include "runtime/engine/template/chat_template.h"
#include "runtime/engine/template/value.h"

namespace warden::engine::detail {

// Limits of one render (defaults and meaning: ChatTemplateLimits in chat_template.h).
using RenderLimits = ChatTemplateLimits;

struct Frame {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Frame> parent;
};

class Interpreter {
 public:
  Interpreter(const Program& program, const RenderLimits& limits) : program_(program), limits_(limits) {}

  // Renders the template with `context` as its top-level variables. Throws TemplateError.
  std::string Render(std::unordered_map<std::string, Value> context);

  // Calls a callable value (macro, global, bound method). Throws TemplateError.
  Value Call(const Value& fn, CallArgs& args);
  // Jinja's sandboxed `obj.name` and `obj[key]`: attributes fall back to items and items to methods; a miss is
  // an undefined that carries the message Jinja would raise when it is used.
  Value GetAttr(const Value& obj, const std::string& name);
  Value GetItem(const Value& obj, const Value& key);
  // Charges `n` work units against RenderLimits::max_steps.
  void ChargeSteps(int64_t n);
  const RenderLimits& limits() const { return limits_; }
  // Throws a kLimit error when a value of `size` bytes/items would exceed the output limit.
  void CheckSize(size_t size) const;
  // Records a namespace made by this render so that ReleaseValues can break cycles through it.
  void RegisterNamespace(const std::shared_ptr<Dict>& ns);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow Execute(const Body& body, std::string& out);
  Flow ExecuteStmt(const Stmt& s, std::string& out);
  void ExecuteFor(const Stmt& s, std::string& out);
  void RunLoop(const Stmt& s, std::vector<Value> items, int depth, std::string& out);
  void ReleaseValues();
  void Append(std::string& out, std::string_view text);

  Value Eval(const Expr& e);
  Value EvalCall(const Expr& e, const Value* caller);
  Value EvalFilter(const Expr& e, const Value* block_input);
  void EvalArgs(const Expr& e, size_t first, CallArgs& args);
  Value Slice(const Value& obj, const Expr& slice);
  Value Lookup(const std::string& name) const;
  void Assign(const Target& target, const Value& value);
  Value MakeMacro(const Stmt& s, const Signature& sig, const std::string& name);
  Value MakeLoopVar(const std::vector<Value>& items, size_t index, int depth);

  const Program& program_;
  RenderLimits limits_;
  std::shared_ptr<Frame> frame_;
  std::vector<std::shared_ptr<Frame>> captured_frames_;  // frames macros close over, alive until the render ends
  std::vector<std::shared_ptr<Dict>> namespaces_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  int line_ = 0;  // line of the statement or expression being evaluated, for error messages
};

// Python binary operators and membership on values (also used by filters such as `sum`).
Value BinaryOp(Interpreter& interp, const std::string& op, const Value& a, const Value& b);
bool Contains(const Value& container, const Value& item);
// The items of an iterable as Jinja's `for` sees them (dict -> keys, str -> characters, undefined -> none).
// Throws a TypeError for non-iterables.
std::vector<Value> Iterate(const Value& v);
// Raises the UndefinedError an undefined value carries.
[[noreturn]] void ThrowUndefined(const Value& undefined);

}  // namespace warden::engine::detail
