// Tree-walking evaluator for chat templates (interpreter.h). Errors are thrown as TemplateError inside this file
// and its builtins, and caught once in ChatTemplate::Render, which keeps every evaluation function free of
// error plumbing; nothing throws across the public header.
#include "runtime/engine/template/interpreter.h"

#include <cmath>
#include <limits>

#include "runtime/engine/template/builtins.h"
#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

[[noreturn]] void ThrowLimit(std::string message) {
  throw TemplateError(TemplateError::Kind::kLimit, std::move(message));
}

// jinja2.utils.object_type_repr, as Undefined messages print it.
std::string ObjectTypeRepr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_namespace()) return "jinja2.utils.Namespace object";
  return TypeName(v) + " object";
}

Value MissingAttribute(const Value& obj, const std::string& name) {
  return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no attribute '" + name + "'");
}

Value MissingElement(const Value& obj, const Value& key) {
  if (key.is_string()) return MissingAttribute(obj, key.str());
  return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + Repr(key));
}

bool IsUnsafeMutator(const Value& obj, const std::string& name) {
  // ImmutableSandboxedEnvironment refuses the mutating methods of builtin containers.
  static const char* const kDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
  static const char* const kList[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
  if (obj.is_dict()) {
    for (const char* m : kDict) if (name == m) return true;
  }
  if (obj.is_list()) {
    for (const char* m : kList) if (name == m) return true;
  }
  return false;
}

Value UnsafeUndefined(const Value& obj, const std::string& name) {
  return Value::Undefined("access to attribute '" + name + "' of '" + TypeName(obj) + "' object is unsafe.");
}

// Python's PySlice_AdjustIndices.
void AdjustSlice(int64_t len, const Value& start_v, const Value& stop_v, int64_t step, int64_t* start,
                 int64_t* stop) {
  auto clamp = [&](const Value& v, bool is_start) -> int64_t {
    if (v.is_none() || v.is_undefined()) {
      if (step < 0) return is_start ? len - 1 : -1;
      return is_start ? 0 : len;
    }
    int64_t i = v.int_value();
    if (i < 0) {
      i += len;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
      i = step < 0 ? len - 1 : len;
    }
    return i;
  };
  *start = clamp(start_v, true);
  *stop = clamp(stop_v, false);
}

int64_t CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) ThrowRuntime("integer overflow (template integers are 64-bit)");
  return r;
}
int64_t CheckedSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) ThrowRuntime("integer overflow (template integers are 64-bit)");
  return r;
}
int64_t CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) ThrowRuntime("integer overflow (template integers are 64-bit)");
  return r;
}

[[noreturn]] void Unsupported(const std::string& op, const Value& a, const Value& b) {
  ThrowRuntime("unsupported operand type(s) for " + op + ": '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

Value Repeat(Interpreter& interp, const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value::String("") : (seq.is_tuple() ? Value::Tuple({}) : Value::List({}));
  if (seq.is_string()) {
    if (!seq.str().empty() && static_cast<uint64_t>(n) > interp.limits().max_output_bytes / seq.str().size()) {
      ThrowLimit("string repetition would exceed the output limit of " +
                 std::to_string(interp.limits().max_output_bytes) + " bytes");
    }
    std::string out;
    out.reserve(seq.str().size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  const auto& items = seq.items();
  if (!items.empty() && static_cast<uint64_t>(n) > interp.limits().max_output_bytes / items.size()) {
    ThrowLimit("list repetition would exceed the size limit");
  }
  interp.ChargeSteps(static_cast<int64_t>(items.size()) * n);
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

double FloorDiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return div == 0.0 ? std::copysign(0.0, a / b) : floordiv;
}

double FloatMod(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

}  // namespace

[[noreturn]] void ThrowUndefined(const Value& undefined) {
  ThrowRuntime(undefined.str().empty() ? std::string("value is undefined") : undefined.str());
}

std::vector<Value> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kList:
    case Value::Kind::kTuple: return v.items();
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.dict().entries.size());
      for (const auto& [k, val] : v.dict().entries) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (char32_t cp : DecodeUtf8(v.str())) {
        std::string s;
        AppendUtf8(s, cp);
        chars.push_back(Value::String(std::move(s)));
      }
      return chars;
    }
    case Value::Kind::kUndefined: return {};
    default: ThrowRuntime("'" + TypeName(v) + "' object is not iterable");
  }
}

bool Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        ThrowRuntime("'in <string>' requires string as left operand, not " + TypeName(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      for (const auto& v : container.items()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      if (item.is_list() || item.is_dict() || item.is_namespace()) {
        ThrowRuntime("unhashable type: '" + TypeName(item) + "'");
      }
      return container.dict().Find(item) != nullptr;
    case Value::Kind::kUndefined: return false;
    default: ThrowRuntime("argument of type '" + TypeName(container) + "' is not iterable");
  }
}

Value BinaryOp(Interpreter& interp, const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) ThrowUndefined(a);
  if (b.is_undefined()) ThrowUndefined(b);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) return Value::Int(CheckedAdd(a.int_value(), b.int_value()));
    if (nums) return Value::Float(a.AsDouble() + b.AsDouble());
    if (a.is_string() && b.is_string()) {
      interp.CheckSize(a.str().size() + b.str().size());
      return Value::String(a.str() + b.str());
    }
    if (a.kind() == b.kind() && a.is_sequence()) {
      std::vector<Value> out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      interp.ChargeSteps(static_cast<int64_t>(out.size()));
      return a.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
    }
    if (a.is_string() || a.is_sequence()) {
      ThrowRuntime("can only concatenate " + TypeName(a) + " (not \"" + TypeName(b) + "\") to " + TypeName(a));
    }
    Unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value::Int(CheckedSub(a.int_value(), b.int_value()));
    if (nums) return Value::Float(a.AsDouble() - b.AsDouble());
    Unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value::Int(CheckedMul(a.int_value(), b.int_value()));
    if (nums) return Value::Float(a.AsDouble() * b.AsDouble());
    if ((a.is_string() || a.is_sequence()) && b.is_number() && !b.is_float()) return Repeat(interp, a, b.int_value());
    if ((b.is_string() || b.is_sequence()) && a.is_number() && !a.is_float()) return Repeat(interp, b, a.int_value());
    if (a.is_string() || b.is_string() || a.is_sequence() || b.is_sequence()) {
      ThrowRuntime("can't multiply sequence by non-int of type '" + TypeName(a.is_number() ? a : b) + "'");
    }
    Unsupported(op, a, b);
  }
  if (op == "/") {
    if (!nums) Unsupported(op, a, b);
    if (b.AsDouble() == 0.0) ThrowRuntime("division by zero");
    return Value::Float(a.AsDouble() / b.AsDouble());
  }
  if (op == "//") {
    if (!nums) Unsupported(op, a, b);
    if (ints) {
      int64_t x = a.int_value(), y = b.int_value();
      if (y == 0) ThrowRuntime("integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) ThrowRuntime("integer overflow");
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value::Int(q);
    }
    if (b.AsDouble() == 0.0) ThrowRuntime("float floor division by zero");
    return Value::Float(FloorDiv(a.AsDouble(), b.AsDouble()));
  }
  if (op == "%") {
    if (a.is_string()) return Value::String(PercentFormat(a.str(), b));
    if (!nums) Unsupported(op, a, b);
    if (ints) {
      int64_t x = a.int_value(), y = b.int_value();
      if (y == 0) ThrowRuntime("integer division or modulo by zero");
      if (y == -1) return Value::Int(0);
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value::Int(r);
    }
    if (b.AsDouble() == 0.0) ThrowRuntime("float modulo");
    return Value::Float(FloatMod(a.AsDouble(), b.AsDouble()));
  }
  if (op == "**") {
    if (!nums) Unsupported("** or pow()", a, b);
    if (ints && b.int_value() >= 0) {
      int64_t base = a.int_value(), e = b.int_value(), r = 1;
      while (e > 0) {
        if (e & 1) r = CheckedMul(r, base);
        e >>= 1;
        if (e > 0) base = CheckedMul(base, base);
      }
      return Value::Int(r);
    }
    if (a.AsDouble() == 0.0 && b.AsDouble() < 0) ThrowRuntime("0.0 cannot be raised to a negative power");
    return Value::Float(std::pow(a.AsDouble(), b.AsDouble()));
  }
  ThrowRuntime("unknown operator " + op);
}

// ---- Interpreter ------------------------------------------------------------------------------------------------

void Interpreter::ChargeSteps(int64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    ThrowLimit("template exceeded its budget of " + std::to_string(limits_.max_steps) +
               " steps (an endless or very large loop?)");
  }
}

void Interpreter::CheckSize(size_t size) const {
  if (size > limits_.max_output_bytes) {
    ThrowLimit("template output would exceed " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Interpreter::Append(std::string& out, std::string_view text) {
  CheckSize(out.size() + text.size());
  out.append(text);
}

std::string Interpreter::Render(std::unordered_map<std::string, Value> context) {
  frame_ = std::make_shared<Frame>();
  frame_->vars = std::move(context);
  std::string out;
  try {
    Execute(program_.body, out);
  } catch (TemplateError& e) {
    if (e.line() == 0) e.set_line(line_);
    ReleaseValues();
    throw;
  }
  ReleaseValues();
  return out;
}

void Interpreter::ReleaseValues() {
  // Namespaces are the only mutable objects, so the only way to build a reference cycle (`set ns.me = ns`);
  // emptying them when the render ends frees every value.
  for (auto& ns : namespaces_) ns->entries.clear();
  namespaces_.clear();
  captured_frames_.clear();
  frame_.reset();
}

void Interpreter::RegisterNamespace(const std::shared_ptr<Dict>& ns) { namespaces_.push_back(ns); }

Interpreter::Flow Interpreter::Execute(const Body& body, std::string& out) {
  for (const auto& s : body) {
    Flow f = ExecuteStmt(*s, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

namespace {
// Restores the interpreter's current frame when a scope ends, also when an error unwinds through it.
class FrameScope {
 public:
  FrameScope(std::shared_ptr<Frame>& slot, std::shared_ptr<Frame> inner) : slot_(slot), saved_(slot) {
    slot_ = std::move(inner);
  }
  ~FrameScope() { slot_ = saved_; }
  FrameScope(const FrameScope&) = delete;
  FrameScope& operator=(const FrameScope&) = delete;

 private:
  std::shared_ptr<Frame>& slot_;
  std::shared_ptr<Frame> saved_;
};

std::shared_ptr<Frame> ChildFrame(const std::shared_ptr<Frame>& parent) {
  auto f = std::make_shared<Frame>();
  f->parent = parent;
  return f;
}
}  // namespace

Interpreter::Flow Interpreter::ExecuteStmt(const Stmt& s, std::string& out) {
  ChargeSteps(1);
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::kText:
      Append(out, s.text);
      return Flow::kNormal;
    case StmtKind::kPrint: {
      Value v = Eval(*s.expr);
      if (v.is_string()) {
        Append(out, v.str());
      } else {
        Append(out, ToStr(v));
      }
      return Flow::kNormal;
    }
    case StmtKind::kIf:
      for (size_t i = 0; i < s.tests.size(); ++i) {
        line_ = s.tests[i]->line;
        if (Truthy(Eval(*s.tests[i]))) return Execute(s.bodies[i], out);
      }
      return Execute(s.else_body, out);
    case StmtKind::kFor:
      ExecuteFor(s, out);
      return Flow::kNormal;
    case StmtKind::kSet:
      Assign(s.target, Eval(*s.expr));
      return Flow::kNormal;
    case StmtKind::kSetBlock: {
      std::string captured;
      Execute(s.body, captured);
      Value v = Value::String(std::move(captured));
      if (s.filter) v = EvalFilter(*s.filter, &v);
      Assign(s.target, v);
      return Flow::kNormal;
    }
    case StmtKind::kMacro:
      frame_->vars[s.name] = MakeMacro(s, *s.signature, s.name);
      return Flow::kNormal;
    case StmtKind::kCallBlock: {
      Value caller = MakeMacro(s, *s.signature, "caller");
      Value v = EvalCall(*s.expr, &caller);
      Append(out, ToStr(v));
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      std::string captured;
      {
        FrameScope scope(frame_, ChildFrame(frame_));
        Execute(s.body, captured);
      }
      Value input = Value::String(std::move(captured));
      Append(out, ToStr(EvalFilter(*s.filter, &input)));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      std::vector<Value> values;
      for (const auto& v : s.values) values.push_back(Eval(*v));
      FrameScope scope(frame_, ChildFrame(frame_));
      for (size_t i = 0; i < s.targets.size(); ++i) Assign(s.targets[i], values[i]);
      return Execute(s.body, out);
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
    case StmtKind::kGeneration: return Execute(s.body, out);
  }
  return Flow::kNormal;
}

Value Interpreter::MakeLoopVar(const std::vector<Value>& items, size_t index, int depth) {
  auto d = std::make_shared<Dict>();
  const auto n = static_cast<int64_t>(items.size());
  const auto i = static_cast<int64_t>(index);
  auto set = [&d](const char* k, Value v) { d->entries.emplace_back(Value::String(k), std::move(v)); };
  set("index", Value::Int(i + 1));
  set("index0", Value::Int(i));
  set("revindex", Value::Int(n - i));
  set("revindex0", Value::Int(n - i - 1));
  set("first", Value::Bool(i == 0));
  set("last", Value::Bool(i == n - 1));
  set("length", Value::Int(n));
  set("depth", Value::Int(depth));
  set("depth0", Value::Int(depth - 1));
  set("previtem", i > 0 ? items[index - 1] : Value::Undefined("there is no previous item"));
  set("nextitem", i + 1 < n ? items[index + 1] : Value::Undefined("there is no next item"));
  set("cycle", Value::Function("loop.cycle", [i](Interpreter&, CallArgs& args) {
        if (args.args.empty()) ThrowRuntime("no items for cycling given");
        return args.args[static_cast<size_t>(i) % args.args.size()];
      }));
  return Value::FromDict(std::move(d));
}

void Interpreter::ExecuteFor(const Stmt& s, std::string& out) {
  RunLoop(s, Iterate(Eval(*s.expr)), 1, out);
}

void Interpreter::RunLoop(const Stmt& s, std::vector<Value> all, int depth, std::string& out) {
  std::shared_ptr<Frame> outer = frame_;
  std::vector<Value> items;
  if (s.filter) {
    for (auto& item : all) {
      ChargeSteps(1);
      FrameScope scope(frame_, ChildFrame(outer));
      Assign(s.target, item);
      if (Truthy(Eval(*s.filter))) items.push_back(std::move(item));
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) {
    Execute(s.else_body, out);
    return;
  }
  // loop.changed(*values) compares with the values of its previous call in this loop.
  auto last_changed = std::make_shared<std::vector<Value>>();
  auto changed_called = std::make_shared<bool>(false);
  Value changed = Value::Function("loop.changed", [last_changed, changed_called](Interpreter&, CallArgs& args) {
    bool differs = !*changed_called || last_changed->size() != args.args.size();
    for (size_t k = 0; !differs && k < args.args.size(); ++k) differs = !Equals((*last_changed)[k], args.args[k]);
    *changed_called = true;
    *last_changed = args.args;
    return Value::Bool(differs);
  });
  // The remembered values may include the loop variable itself (a cycle through this closure): drop them when
  // the loop ends, however it ends.
  struct ClearOnExit {
    std::shared_ptr<std::vector<Value>> values;
    ~ClearOnExit() { values->clear(); }
  } clear_on_exit{last_changed};
  for (size_t i = 0; i < items.size(); ++i) {
    ChargeSteps(1);
    FrameScope scope(frame_, ChildFrame(outer));
    Assign(s.target, items[i]);
    Value loop = MakeLoopVar(items, i, depth);
    loop.dict().Set(Value::String("changed"), changed);
    if (s.recursive) {
      // `loop(children)` renders this loop's body again over `children`, one level deeper.
      const Stmt* stmt = &s;
      std::weak_ptr<Frame> weak_outer = outer;
      loop.dict().Set(Value::String("__call__"),
                      Value::Function("loop", [stmt, weak_outer, depth](Interpreter& in, CallArgs& args) {
                        if (args.args.size() != 1) ThrowRuntime("loop() takes exactly one argument");
                        if (depth >= in.limits_.max_call_depth) ThrowLimit("recursive loop nested too deeply");
                        std::string sub;
                        FrameScope back(in.frame_, weak_outer.lock());
                        in.RunLoop(*stmt, Iterate(args.args[0]), depth + 1, sub);
                        return Value::String(std::move(sub));
                      }));
    }
    frame_->vars["loop"] = std::move(loop);
    if (Execute(s.body, out) == Flow::kBreak) break;
  }
}

Value Interpreter::MakeMacro(const Stmt& s, const Signature& sig, const std::string& name) {
  // The macro is usually stored in the frame it closes over; a weak reference (kept alive by captured_frames_
  // until the render ends) avoids a shared_ptr cycle that would leak every render.
  if (captured_frames_.empty() || captured_frames_.back() != frame_) captured_frames_.push_back(frame_);
  std::weak_ptr<Frame> weak_closure = frame_;
  const Stmt* stmt = &s;
  const Signature* signature = &sig;
  return Value::Function(name, [stmt, signature, weak_closure, name](Interpreter& in, CallArgs& args) {
    std::shared_ptr<Frame> closure = weak_closure.lock();
    if (!closure) ThrowRuntime("macro '" + name + "' called after its render ended");
    if (++in.call_depth_ > in.limits_.max_call_depth) {
      --in.call_depth_;
      ThrowLimit("macro calls nested more than " + std::to_string(in.limits_.max_call_depth) +
                 " deep (endless recursion?)");
    }
    in.ChargeSteps(1);
    auto frame = ChildFrame(closure);
    const auto& params = signature->params;
    std::vector<bool> bound(params.size(), false);
    std::vector<Value> varargs;
    for (size_t i = 0; i < args.args.size(); ++i) {
      if (i < params.size()) {
        frame->vars[params[i]] = args.args[i];
        bound[i] = true;
      } else if (signature->catch_varargs) {
        varargs.push_back(args.args[i]);
      } else {
        ThrowRuntime("macro '" + name + "' takes not more than " + std::to_string(params.size()) +
                     " argument(s)");
      }
    }
    auto kwargs = std::make_shared<Dict>();
    for (auto& [key, value] : args.kwargs) {
      size_t idx = params.size();
      for (size_t i = 0; i < params.size(); ++i) {
        if (params[i] == key) idx = i;
      }
      if (idx < params.size()) {
        if (bound[idx]) ThrowRuntime("macro '" + name + "' got multiple values for argument '" + key + "'");
        frame->vars[key] = value;
        bound[idx] = true;
      } else if (key == "caller") {
        frame->vars["caller"] = value;
      } else if (signature->catch_kwargs) {
        kwargs->Set(Value::String(key), value);
      } else {
        ThrowRuntime("macro '" + name + "' takes no keyword argument '" + key + "'");
      }
    }
    frame->vars["varargs"] = Value::Tuple(std::move(varargs));
    frame->vars["kwargs"] = Value::FromDict(kwargs);
    const int saved_line = in.line_;
    FrameScope scope(in.frame_, frame);
    const size_t first_default = params.size() - signature->defaults.size();
    for (size_t i = 0; i < params.size(); ++i) {
      if (bound[i]) continue;
      frame->vars[params[i]] = i >= first_default ? in.Eval(*signature->defaults[i - first_default])
                                                  : Value::Undefined("'" + params[i] + "' is undefined");
    }
    std::string out;
    in.Execute(stmt->body, out);
    in.line_ = saved_line;
    --in.call_depth_;
    return Value::String(std::move(out));
  });
}

Value Interpreter::Lookup(const std::string& name) const {
  for (const Frame* f = frame_.get(); f != nullptr; f = f->parent.get()) {
    auto it = f->vars.find(name);
    if (it != f->vars.end()) return it->second;
  }
  Value g = LookupGlobal(name);
  if (!g.is_undefined()) return g;
  return Value::Undefined("'" + name + "' is undefined");
}

void Interpreter::Assign(const Target& target, const Value& value) {
  switch (target.kind) {
    case Target::Kind::kName:
      frame_->vars[target.name] = value;
      return;
    case Target::Kind::kNamespaceAttr: {
      Value ns = Lookup(target.name);
      if (!ns.is_namespace()) ThrowRuntime("cannot assign attribute on non-namespace object");
      ns.dict().Set(Value::String(target.attr), value);
      return;
    }
    case Target::Kind::kTuple: {
      std::vector<Value> items = Iterate(value);
      if (items.size() != target.items.size()) {
        if (items.size() > target.items.size()) {
          ThrowRuntime("too many values to unpack (expected " + std::to_string(target.items.size()) + ")");
        }
        ThrowRuntime("not enough values to unpack (expected " + std::to_string(target.items.size()) + ", got " +
                     std::to_string(items.size()) + ")");
      }
      for (size_t i = 0; i < items.size(); ++i) Assign(target.items[i], items[i]);
      return;
    }
  }
}

Value Interpreter::Call(const Value& fn, CallArgs& args) {
  if (fn.is_callable()) return fn.callable().fn(*this, args);
  if (fn.is_dict()) {
    if (const Value* call = fn.dict().Find("__call__"); call != nullptr && call->is_callable()) {
      return call->callable().fn(*this, args);
    }
  }
  if (fn.is_undefined()) ThrowUndefined(fn);
  ThrowRuntime("'" + TypeName(fn) + "' object is not callable");
}

Value Interpreter::GetAttr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined: ThrowUndefined(obj);
    case Value::Kind::kDict: {
      Value m = LookupMethod(obj, name);
      if (!m.is_undefined()) return m;
      if (IsUnsafeMutator(obj, name)) return UnsafeUndefined(obj, name);
      if (const Value* v = obj.dict().Find(std::string_view(name)); v != nullptr) return *v;
      return MissingAttribute(obj, name);
    }
    case Value::Kind::kNamespace: {
      if (const Value* v = obj.dict().Find(std::string_view(name)); v != nullptr) return *v;
      return MissingAttribute(obj, name);
    }
    case Value::Kind::kString:
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      Value m = LookupMethod(obj, name);
      if (!m.is_undefined()) return m;
      if (IsUnsafeMutator(obj, name)) return UnsafeUndefined(obj, name);
      return MissingAttribute(obj, name);
    }
    default: return MissingAttribute(obj, name);
  }
}

Value Interpreter::GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) ThrowUndefined(obj);
  if (obj.is_dict() || obj.is_namespace()) {
    if (key.is_list() || key.is_dict()) return MissingElement(obj, key);
    if (const Value* v = obj.dict().Find(key); v != nullptr) return *v;
    if (key.is_string() && obj.is_dict()) {
      Value m = LookupMethod(obj, key.str());
      if (!m.is_undefined()) return m;
    }
    return MissingElement(obj, key);
  }
  if ((obj.is_sequence() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    if (obj.is_string()) {
      auto cps = DecodeUtf8(obj.str());
      int64_t n = static_cast<int64_t>(cps.size()), i = key.int_value();
      if (i < 0) i += n;
      if (i < 0 || i >= n) return MissingElement(obj, key);
      std::string s;
      AppendUtf8(s, cps[static_cast<size_t>(i)]);
      return Value::String(std::move(s));
    }
    const auto& items = obj.items();
    int64_t n = static_cast<int64_t>(items.size()), i = key.int_value();
    if (i < 0) i += n;
    if (i < 0 || i >= n) return MissingElement(obj, key);
    return items[static_cast<size_t>(i)];
  }
  if (key.is_string() && (obj.is_sequence() || obj.is_string())) {
    Value m = LookupMethod(obj, key.str());
    if (!m.is_undefined()) return m;
  }
  return MissingElement(obj, key);
}

Value Interpreter::Slice(const Value& obj, const Expr& slice) {
  Value parts[3];
  for (size_t i = 0; i < 3; ++i) {
    parts[i] = slice.children[i] ? Eval(*slice.children[i]) : Value::None();
  }
  if (obj.is_undefined()) ThrowUndefined(obj);
  for (const auto& p : parts) {
    // Python raises a TypeError, which Jinja's getitem turns into an undefined value.
    if (!p.is_none() && !p.is_int() && !p.is_bool()) return Value::Undefined("slice indices must be integers or None");
  }
  int64_t step = parts[2].is_none() ? 1 : parts[2].int_value();
  if (step == 0) ThrowRuntime("slice step cannot be zero");
  if (!obj.is_string() && !obj.is_sequence()) return Value::Undefined("'" + TypeName(obj) + "' object is not subscriptable");
  std::vector<char32_t> cps;
  int64_t len;
  if (obj.is_string()) {
    cps = DecodeUtf8(obj.str());
    len = static_cast<int64_t>(cps.size());
  } else {
    len = static_cast<int64_t>(obj.items().size());
  }
  int64_t start, stop;
  AdjustSlice(len, parts[0], parts[1], step, &start, &stop);
  std::vector<size_t> picks;
  if (step > 0) {
    for (int64_t i = start; i < stop; i += step) picks.push_back(static_cast<size_t>(i));
  } else {
    for (int64_t i = start; i > stop; i += step) picks.push_back(static_cast<size_t>(i));
  }
  ChargeSteps(static_cast<int64_t>(picks.size()));
  if (obj.is_string()) {
    std::string s;
    for (size_t i : picks) AppendUtf8(s, cps[i]);
    return Value::String(std::move(s));
  }
  std::vector<Value> out;
  out.reserve(picks.size());
  for (size_t i : picks) out.push_back(obj.items()[i]);
  return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

void Interpreter::EvalArgs(const Expr& e, size_t first, CallArgs& args) {
  for (size_t i = first; i < e.children.size(); ++i) args.args.push_back(Eval(*e.children[i]));
  if (e.dyn_args) {
    for (auto& v : Iterate(Eval(*e.dyn_args))) args.args.push_back(std::move(v));
  }
  for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, Eval(*v));
  if (e.dyn_kwargs) {
    Value d = Eval(*e.dyn_kwargs);
    if (!d.is_dict()) ThrowRuntime("argument after ** must be a mapping, not " + TypeName(d));
    for (const auto& [k, v] : d.dict().entries) {
      if (!k.is_string()) ThrowRuntime("keywords must be strings");
      args.kwargs.emplace_back(k.str(), v);
    }
  }
}

Value Interpreter::EvalCall(const Expr& e, const Value* caller) {
  Value fn = Eval(*e.children[0]);
  CallArgs args;
  EvalArgs(e, 1, args);
  if (caller != nullptr) args.kwargs.emplace_back("caller", *caller);
  line_ = e.line;
  return Call(fn, args);
}

Value Interpreter::EvalFilter(const Expr& e, const Value* block_input) {
  Value input;
  const Expr* child = e.children[0].get();
  if (child == nullptr) {
    input = *block_input;
  } else if (child->kind == ExprKind::kFilter && block_input != nullptr) {
    input = EvalFilter(*child, block_input);
  } else {
    input = Eval(*child);
  }
  CallArgs args;
  EvalArgs(e, 1, args);
  line_ = e.line;
  return ApplyFilter(*this, e.name, input, args);
}

Value Interpreter::Eval(const Expr& e) {
  if (e.line > 0) line_ = e.line;
  switch (e.kind) {
    case ExprKind::kConst: return e.constant;
    case ExprKind::kName: return Lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.children.size());
      for (const auto& c : e.children) items.push_back(Eval(*c));
      return e.kind == ExprKind::kList ? Value::List(std::move(items)) : Value::Tuple(std::move(items));
    }
    case ExprKind::kDict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value k = Eval(*e.children[i]);
        if (k.is_list() || k.is_dict() || k.is_namespace()) ThrowRuntime("unhashable type: '" + TypeName(k) + "'");
        d->Set(std::move(k), Eval(*e.children[i + 1]));
      }
      return Value::FromDict(std::move(d));
    }
    case ExprKind::kGetAttr: return GetAttr(Eval(*e.children[0]), e.name);
    case ExprKind::kGetItem: {
      Value obj = Eval(*e.children[0]);
      if (e.children[1]->kind == ExprKind::kSlice) return Slice(obj, *e.children[1]);
      return GetItem(obj, Eval(*e.children[1]));
    }
    case ExprKind::kSlice: ThrowRuntime("a slice is only valid inside []");
    case ExprKind::kCall: return EvalCall(e, nullptr);
    case ExprKind::kFilter: return EvalFilter(e, nullptr);
    case ExprKind::kTest: {
      Value input = Eval(*e.children[0]);
      CallArgs args;
      EvalArgs(e, 1, args);
      line_ = e.line;
      return Value::Bool(ApplyTest(*this, e.name, input, args));
    }
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = Eval(*e.children[0]);
      if (v.is_undefined()) ThrowUndefined(v);
      if (!v.is_number()) {
        ThrowRuntime(std::string("bad operand type for unary ") + (e.kind == ExprKind::kNeg ? "-" : "+") + ": '" +
                     TypeName(v) + "'");
      }
      if (e.kind == ExprKind::kPos) return v.is_bool() ? Value::Int(v.int_value()) : v;
      if (v.is_float()) return Value::Float(-v.float_value());
      return Value::Int(CheckedSub(0, v.int_value()));
    }
    case ExprKind::kNot: return Value::Bool(!Truthy(Eval(*e.children[0])));
    case ExprKind::kBinary: {
      Value a = Eval(*e.children[0]);
      Value b = Eval(*e.children[1]);
      line_ = e.line;
      return BinaryOp(*this, e.name, a, b);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const auto& c : e.children) {
        s += ToStr(Eval(*c));
        CheckSize(s.size());
      }
      return Value::String(std::move(s));
    }
    case ExprKind::kCompare: {
      Value left = Eval(*e.children[0]);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = Eval(*e.children[i + 1]);
        const std::string& op = e.ops[i];
        bool r;
        if (op == "==") {
          r = Equals(left, right);
        } else if (op == "!=") {
          r = !Equals(left, right);
        } else if (op == "in") {
          r = Contains(right, left);
        } else if (op == "notin") {
          r = !Contains(right, left);
        } else {
          if (left.is_undefined()) ThrowUndefined(left);
          if (right.is_undefined()) ThrowUndefined(right);
          int c = Compare(left, right, op);
          r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!r) return Value::Bool(false);
        left = std::move(right);
      }
      return Value::Bool(true);
    }
    case ExprKind::kAnd: {
      Value a = Eval(*e.children[0]);
      if (!Truthy(a)) return a;
      return Eval(*e.children[1]);
    }
    case ExprKind::kOr: {
      Value a = Eval(*e.children[0]);
      if (Truthy(a)) return a;
      return Eval(*e.children[1]);
    }
    case ExprKind::kCondExpr: {
      if (Truthy(Eval(*e.children[0]))) return Eval(*e.children[1]);
      if (e.children[2]) return Eval(*e.children[2]);
      return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

}  // namespace warden::engine::detail
