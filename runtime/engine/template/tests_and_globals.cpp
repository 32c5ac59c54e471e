// jinja2 3.1's built-in tests (`x is string`, ...) and the global functions a chat template can call: Jinja's
// `range`, `namespace`, `dict`, `joiner` and transformers' `raise_exception` and `strftime_now` (builtins.h).
#include <cmath>
#include <ctime>
#include <functional>
#include <map>

#include "runtime/engine/template/builtins.h"
#include "runtime/engine/template/call_args.h"
#include "runtime/engine/template/interpreter.h"
#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

const Value& Arg(const char* test, CallArgs& a) {
  if (a.args.empty()) ThrowRuntime(std::string(test) + "() missing 1 required positional argument");
  return a.args[0];
}

bool TDefined(Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }
bool TUndefined(Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }
bool TNone(Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }
bool TBoolean(Interpreter&, const Value& v, CallArgs&) { return v.is_bool(); }
bool TTrue(Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && v.bool_value(); }
bool TFalse(Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && !v.bool_value(); }
bool TString(Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }
bool TNumber(Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }
bool TInteger(Interpreter&, const Value& v, CallArgs&) { return v.is_int(); }
bool TFloat(Interpreter&, const Value& v, CallArgs&) { return v.is_float(); }
bool TMapping(Interpreter&, const Value& v, CallArgs&) { return v.is_dict(); }
// iter() succeeds on str, list, tuple, dict and Jinja's Undefined (which iterates as empty).
bool TIterable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}
// len() and __getitem__ exist: str, list, tuple, dict, and Undefined (which defines both).
bool TSequence(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}
bool TCallable(Interpreter&, const Value& v, CallArgs&) { return v.is_callable(); }
bool TEscaped(Interpreter&, const Value&, CallArgs&) { return false; }

int64_t IntForParity(const Value& v) {
  if (v.is_undefined()) ThrowUndefined(v);
  if (v.is_float()) {
    double m = std::fmod(v.float_value(), 2.0);
    return m == 0.0 ? 0 : 1;
  }
  if (!v.is_number()) ThrowRuntime("unsupported operand type(s) for %: '" + TypeName(v) + "' and 'int'");
  return v.int_value() % 2 == 0 ? 0 : 1;
}
bool TOdd(Interpreter&, const Value& v, CallArgs&) { return IntForParity(v) == 1; }
bool TEven(Interpreter&, const Value& v, CallArgs&) { return IntForParity(v) == 0; }

bool TDivisibleBy(Interpreter& interp, const Value& v, CallArgs& a) {
  Value r = BinaryOp(interp, "%", v, Arg("divisibleby", a));
  return !Truthy(r);
}

bool TEq(Interpreter&, const Value& v, CallArgs& a) { return Equals(v, Arg("eq", a)); }
bool TNe(Interpreter&, const Value& v, CallArgs& a) { return !Equals(v, Arg("ne", a)); }
bool TLt(Interpreter&, const Value& v, CallArgs& a) { return Compare(v, Arg("lt", a), "<") < 0; }
bool TLe(Interpreter&, const Value& v, CallArgs& a) { return Compare(v, Arg("le", a), "<=") <= 0; }
bool TGt(Interpreter&, const Value& v, CallArgs& a) { return Compare(v, Arg("gt", a), ">") > 0; }
bool TGe(Interpreter&, const Value& v, CallArgs& a) { return Compare(v, Arg("ge", a), ">=") >= 0; }
bool TIn(Interpreter&, const Value& v, CallArgs& a) { return Contains(Arg("in", a), v); }

// Python `is`: identity. Scalars compare by value (CPython shares None, True, False and small ints); containers
// by object.
bool TSameAs(Interpreter&, const Value& v, CallArgs& a) {
  const Value& o = Arg("sameas", a);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kUndefined: return true;
    case Value::Kind::kBool: return v.bool_value() == o.bool_value();
    case Value::Kind::kInt: return v.int_value() == o.int_value();
    case Value::Kind::kList:
    case Value::Kind::kTuple: return v.items_ptr() == o.items_ptr();
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: return v.dict_ptr() == o.dict_ptr();
    case Value::Kind::kCallable: return &v.callable() == &o.callable();
    default: return false;
  }
}

bool TLower(Interpreter&, const Value& v, CallArgs&) { return PyIsLower(ToStr(v)); }
bool TUpper(Interpreter&, const Value& v, CallArgs&) { return PyIsUpper(ToStr(v)); }
bool TFilter(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && IsKnownFilter(v.str()); }
bool TTest(Interpreter&, const Value& v, CallArgs&) { return v.is_string() && IsKnownTest(v.str()); }

const std::map<std::string, TestFn, std::less<>>& Tests() {
  static const auto* tests = new std::map<std::string, TestFn, std::less<>>{
      {"boolean", TBoolean},   {"callable", TCallable}, {"defined", TDefined},   {"divisibleby", TDivisibleBy},
      {"eq", TEq},             {"==", TEq},             {"equalto", TEq},        {"escaped", TEscaped},
      {"even", TEven},         {"false", TFalse},       {"filter", TFilter},     {"float", TFloat},
      {"ge", TGe},             {">=", TGe},             {"gt", TGt},             {">", TGt},
      {"greaterthan", TGt},    {"in", TIn},             {"integer", TInteger},   {"iterable", TIterable},
      {"le", TLe},             {"<=", TLe},             {"lower", TLower},       {"lt", TLt},
      {"<", TLt},              {"lessthan", TLt},       {"mapping", TMapping},   {"ne", TNe},
      {"!=", TNe},             {"none", TNone},         {"number", TNumber},     {"odd", TOdd},
      {"sameas", TSameAs},     {"sequence", TSequence}, {"string", TString},     {"test", TTest},
      {"true", TTrue},         {"undefined", TUndefined}, {"upper", TUpper},
  };
  return *tests;
}

// ---- globals ----------------------------------------------------------------------------------------------------

// jinja2.sandbox.MAX_RANGE: the sandbox refuses larger ranges.
constexpr int64_t kMaxRange = 100000;

Value GRange(Interpreter& interp, CallArgs& a) {
  if (!a.kwargs.empty()) ThrowRuntime("range() takes no keyword arguments");
  if (a.args.empty() || a.args.size() > 3) ThrowRuntime("range expected 1 to 3 arguments, got " + std::to_string(a.args.size()));
  for (const auto& v : a.args) {
    if (!v.is_int() && !v.is_bool()) ThrowRuntime("'" + TypeName(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = a.args[0].int_value();
  } else {
    start = a.args[0].int_value();
    stop = a.args[1].int_value();
    if (a.args.size() == 3) step = a.args[2].int_value();
  }
  if (step == 0) ThrowRuntime("range() arg 3 must not be zero");
  // Compute the length without overflow: long double covers the int64 range exactly enough for this bound.
  long double span = step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
  long double len = span <= 0 ? 0 : std::ceil(span / std::fabs(static_cast<long double>(step)));
  if (len > kMaxRange) {
    ThrowRuntime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + std::to_string(kMaxRange) + ").");
  }
  interp.ChargeSteps(static_cast<int64_t>(len));
  std::vector<Value> out;
  const auto count = static_cast<int64_t>(len);
  int64_t v = start;
  for (int64_t i = 0; i < count; ++i) {
    out.push_back(Value::Int(v));
    if (i + 1 < count) v += step;
  }
  return Value::List(std::move(out));
}

// dict(*args, **kwargs) as Namespace() and dict() accept it: a mapping or pairs, then keywords.
std::shared_ptr<Dict> DictFromArgs(const char* fn, CallArgs& a) {
  auto d = std::make_shared<Dict>();
  if (a.args.size() > 1) ThrowRuntime(std::string(fn) + " expected at most 1 argument, got " + std::to_string(a.args.size()));
  if (!a.args.empty()) {
    const Value& src = a.args[0];
    if (src.is_dict() || src.is_namespace()) {
      d->entries = src.dict().entries;
      d->depth = src.dict().depth;
    } else {
      for (const auto& pair : Iterate(src)) {
        auto kv = Iterate(pair);
        if (kv.size() != 2) ThrowRuntime("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
        d->Set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : a.kwargs) d->Set(Value::String(k), v);
  return d;
}

Value GNamespace(Interpreter& interp, CallArgs& a) {
  auto d = DictFromArgs("namespace", a);
  interp.RegisterNamespace(d);
  return Value::Namespace(std::move(d));
}

Value GDict(Interpreter&, CallArgs& a) { return Value::FromDict(DictFromArgs("dict", a)); }

Value GRaiseException(Interpreter&, CallArgs& a) {
  std::string message = a.args.empty() ? std::string() : ToStr(a.args[0]);
  throw TemplateError(TemplateError::Kind::kRaised, message);
}

Value GStrftimeNow(Interpreter&, CallArgs& a) {
  ArgBinder b("strftime_now", a, {"format"});
  std::string format = b.Str(0, "");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  size_t n = format.empty() ? 0 : std::strftime(buf, sizeof buf, format.c_str(), &local);
  return Value::String(std::string(buf, n));
}

Value GJoiner(Interpreter&, CallArgs& a) {
  ArgBinder b("joiner", a, {"sep"});
  std::string sep = b.Str(0, ", ");
  auto used = std::make_shared<bool>(false);
  return Value::Function("joiner", [sep, used](Interpreter&, CallArgs&) {
    if (!*used) {
      *used = true;
      return Value::String("");
    }
    return Value::String(sep);
  });
}

}  // namespace

bool IsKnownTest(std::string_view name) { return Tests().count(name) > 0; }

bool ApplyTest(Interpreter& interp, std::string_view name, const Value& input, CallArgs& args) {
  auto it = Tests().find(name);
  if (it == Tests().end()) ThrowRuntime("No test named '" + std::string(name) + "'.");
  return it->second(interp, input, args);
}

Value LookupGlobal(std::string_view name) {
  static const std::map<std::string, NativeFn, std::less<>>* globals = new std::map<std::string, NativeFn, std::less<>>{
      {"range", GRange},
      {"namespace", GNamespace},
      {"dict", GDict},
      {"raise_exception", GRaiseException},
      {"strftime_now", GStrftimeNow},
      {"joiner", GJoiner},
  };
  auto it = globals->find(name);
  if (it == globals->end()) return Value();
  return Value::Function(std::string(name), it->second);
}

}  // namespace warden::engine::detail
