// The values a chat template computes with: a small variant type with Python semantics (../shared/docs/model.md
// §7.1 — templates are evaluated as Jinja evaluates them, i.e. over Python objects).
//
// Kinds mirror what JSON requests and Jinja expressions produce: undefined (Jinja's Undefined, with a hint for the
// error it raises when used), none, bool, int (64-bit; overflow is an error instead of a bignum), float, string
// (UTF-8), list and tuple (immutable, shared), dict (insertion-ordered, shared), namespace (the one mutable object a
// template can build) and callable (macros, globals, bound methods). Truthiness, equality, ordering, str(), repr()
// and json.dumps() follow CPython. Not thread-safe to share a Value across renders; a render owns its values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::engine::detail {

class Interpreter;
class Value;

// An error raised while rendering. Thrown inside the interpreter only; ChatTemplate::Render turns it into a Status.
class TemplateError : public std::runtime_error {
 public:
  enum class Kind {
    kRuntime,  // a Jinja/Python error (TypeError, UndefinedError, ...)
    kRaised,   // raise_exception(msg): the message is the template author's own text
    kLimit,    // a render limit (output size, steps, recursion depth) was hit
  };
  TemplateError(Kind kind, std::string message, int line = 0)
      : std::runtime_error(message), kind_(kind), message_(std::move(message)), line_(line) {}
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  void set_line(int line) { line_ = line; }

 private:
  Kind kind_;
  std::string message_;
  int line_;
};

[[noreturn]] void ThrowRuntime(std::string message);

// Positional and keyword arguments of a call, in source order.
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};
using NativeFn = std::function<Value(Interpreter&, CallArgs&)>;
struct Callable {
  std::string name;
  NativeFn fn;
};

struct Dict;

class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kNamespace,
                              kCallable };

  Value() = default;  // undefined
  static Value Undefined(std::string hint = "");
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(std::vector<Value> items);
  static Value Tuple(std::vector<Value> items);
  static Value NewDict();
  static Value FromDict(std::shared_ptr<Dict> d);
  static Value Namespace(std::shared_ptr<Dict> d);
  static Value Function(std::string name, NativeFn fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }
  // Python's numbers.Number: bool counts, as in Jinja's `number` test.
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }

  bool bool_value() const { return b_; }
  int64_t int_value() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double AsDouble() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(int_value()); }
  double float_value() const { return f_; }
  // The text of a string, or the hint of an undefined.
  const std::string& str() const { return s_; }
  const std::vector<Value>& items() const { return *list_; }
  const std::shared_ptr<const std::vector<Value>>& items_ptr() const { return list_; }
  Dict& dict() const { return *dict_; }
  const std::shared_ptr<Dict>& dict_ptr() const { return dict_; }
  const Callable& callable() const { return *fn_; }
  // Container nesting: 0 for scalars, 1 + the deepest element for lists, tuples and dicts.
  uint32_t depth() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0.0;
  uint32_t depth_ = 0;  // lists and tuples (immutable, so fixed at creation)
  std::string s_;
  std::shared_ptr<const std::vector<Value>> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Callable> fn_;
};

// An insertion-ordered mapping. Keys compare with Python equality (1 == 1.0 == True), found by linear search: chat
// template dicts are small.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  uint32_t depth = 1;  // 1 + the deepest value, kept up to date by Set
  const Value* Find(const Value& key) const;
  const Value* Find(std::string_view key) const;
  void Set(Value key, Value value);
};

bool Truthy(const Value& v);
bool Equals(const Value& a, const Value& b);
// Deepest container nesting a value may have. Values are freed recursively, so this bounds the stack a template
// can make the destructor use (`{% set ns.x = [ns.x] %}` in a loop would otherwise nest without limit).
inline constexpr uint32_t kMaxValueDepth = 1000;

// Python ordering: negative, zero or positive; throws TemplateError (a TypeError) for unorderable kinds.
int Compare(const Value& a, const Value& b, std::string_view op);
// The Python type name used in error messages ("dict", "str", "NoneType", ...).
std::string TypeName(const Value& v);
// str(v) and repr(v) as CPython prints them; undefined prints as "".
std::string ToStr(const Value& v);
std::string Repr(const Value& v);

// JSON (nlohmann::ordered_json keeps key order) to Value and back. Integers beyond int64 become floats.
Value FromJson(const nlohmann::ordered_json& j);

// json.dumps options as transformers' `tojson` filter passes them (ensure_ascii defaults to False there).
struct JsonOptions {
  bool has_indent = false;
  std::string indent;           // the text of one indentation level
  std::string item_separator = ", ";  // json.dumps uses "," when indenting
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// json.dumps(v, ...): throws TemplateError for values JSON cannot hold (undefined, callables, namespaces).
std::string ToJson(const Value& v, const JsonOptions& options);

}  // namespace warden::engine::detail
