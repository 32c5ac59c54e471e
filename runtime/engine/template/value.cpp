// Python semantics of template values: truthiness, equality, ordering, str()/repr() and json.dumps() (value.h).
#include "runtime/engine/template/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

// Values can be cyclic (a namespace that holds itself), so every recursive walk is bounded.
constexpr int kMaxNesting = 200;

void CheckDepth(int depth) {
  if (depth > kMaxNesting) {
    throw TemplateError(TemplateError::Kind::kLimit,
                        "value nested more than " + std::to_string(kMaxNesting) + " levels deep (or cyclic)");
  }
}

bool EqualsAt(const Value& a, const Value& b, int depth);

bool DictEquals(const Dict& a, const Dict& b, int depth) {
  if (a.entries.size() != b.entries.size()) return false;
  for (const auto& [k, v] : a.entries) {
    const Value* other = nullptr;
    for (const auto& [k2, v2] : b.entries) {
      if (EqualsAt(k, k2, depth + 1)) {
        other = &v2;
        break;
      }
    }
    if (other == nullptr || !EqualsAt(v, *other, depth + 1)) return false;
  }
  return true;
}

bool EqualsAt(const Value& a, const Value& b, int depth) {
  CheckDepth(depth);
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.AsDouble() == b.AsDouble();
    return a.int_value() == b.int_value();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone:
      return true;
    case K::kString:
      return a.str() == b.str();
    case K::kList:
    case K::kTuple: {
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!EqualsAt(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case K::kDict:
      return a.dict_ptr() == b.dict_ptr() || DictEquals(a.dict(), b.dict(), depth);
    case K::kNamespace:
      return a.dict_ptr() == b.dict_ptr();
    case K::kCallable:
      return &a.callable() == &b.callable();
    default:
      return false;
  }
}

std::string ReprAt(const Value& v, int depth);

std::string ReprItems(const std::vector<Value>& items, int depth) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += ReprAt(items[i], depth + 1);
  }
  return out;
}

std::string ReprDict(const Dict& d, int depth) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : d.entries) {
    if (!first) out += ", ";
    first = false;
    out += ReprAt(k, depth + 1) + ": " + ReprAt(v, depth + 1);
  }
  return out + "}";
}

std::string ReprAt(const Value& v, int depth) {
  CheckDepth(depth);
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "Undefined";
    case K::kString: return PyReprString(v.str());
    case K::kList: return "[" + ReprItems(v.items(), depth) + "]";
    case K::kTuple:
      return v.items().size() == 1 ? "(" + ReprAt(v.items()[0], depth + 1) + ",)"
                                   : "(" + ReprItems(v.items(), depth) + ")";
    case K::kDict: return ReprDict(v.dict(), depth);
    case K::kNamespace: return "<Namespace " + ReprDict(v.dict(), depth) + ">";
    default: return ToStr(v);
  }
}

void AppendJsonString(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  for (char32_t cp : DecodeUtf8(s)) {
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        char buf[16];
        if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
          if (cp >= 0x10000) {
            char32_t v = cp - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
          }
          out += buf;
        } else {
          AppendUtf8(out, cp);
        }
      }
    }
  }
  out.push_back('"');
}

std::string JsonFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return PyFloatRepr(d);
}

std::string JsonKey(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString: return k.str();
    case Value::Kind::kBool: return k.bool_value() ? "true" : "false";
    case Value::Kind::kInt: return std::to_string(k.int_value());
    case Value::Kind::kFloat: return JsonFloat(k.float_value());
    case Value::Kind::kNone: return "null";
    default:
      ThrowRuntime("keys must be str, int, float, bool or None, not " + TypeName(k));
  }
}

void AppendJson(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  CheckDepth(depth);
  auto newline = [&](int level) {
    if (!o.has_indent) return;
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += o.indent;
  };
  switch (v.kind()) {
    case Value::Kind::kNone: out += "null"; return;
    case Value::Kind::kBool: out += v.bool_value() ? "true" : "false"; return;
    case Value::Kind::kInt: out += std::to_string(v.int_value()); return;
    case Value::Kind::kFloat: out += JsonFloat(v.float_value()); return;
    case Value::Kind::kString: AppendJsonString(out, v.str(), o.ensure_ascii); return;
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      const auto& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += o.item_separator;
        newline(depth + 1);
        AppendJson(out, items[i], o, depth + 1);
      }
      newline(depth);
      out.push_back(']');
      return;
    }
    case Value::Kind::kDict: {
      const auto& entries = v.dict().entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> keyed;
      keyed.reserve(entries.size());
      for (const auto& [k, val] : entries) keyed.emplace_back(JsonKey(k), &val);
      if (o.sort_keys) {
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out.push_back('{');
      for (size_t i = 0; i < keyed.size(); ++i) {
        if (i > 0) out += o.item_separator;
        newline(depth + 1);
        AppendJsonString(out, keyed[i].first, o.ensure_ascii);
        out += o.key_separator;
        AppendJson(out, *keyed[i].second, o, depth + 1);
      }
      newline(depth);
      out.push_back('}');
      return;
    }
    default:
      ThrowRuntime("Object of type " + TypeName(v) + " is not JSON serializable");
  }
}

}  // namespace

void ThrowRuntime(std::string message) { throw TemplateError(TemplateError::Kind::kRuntime, std::move(message)); }

Value Value::Undefined(std::string hint) {
  Value v;
  v.s_ = std::move(hint);
  return v;
}
Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::Float(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = d;
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}
Value Value::List(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  uint32_t deepest = 0;
  for (const auto& item : items) deepest = std::max(deepest, item.depth());
  if (deepest >= kMaxValueDepth) {
    throw TemplateError(TemplateError::Kind::kLimit,
                        "value nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
  }
  v.depth_ = deepest + 1;
  v.list_ = std::make_shared<const std::vector<Value>>(std::move(items));
  return v;
}
Value Value::Tuple(std::vector<Value> items) {
  Value v = List(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}
Value Value::NewDict() { return FromDict(std::make_shared<Dict>()); }
Value Value::FromDict(std::shared_ptr<Dict> d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::move(d);
  return v;
}
Value Value::Namespace(std::shared_ptr<Dict> d) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.dict_ = std::move(d);
  return v;
}
Value Value::Function(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

const Value* Dict::Find(const Value& key) const {
  if (key.is_string()) return Find(std::string_view(key.str()));
  for (const auto& [k, v] : entries) {
    if (Equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.is_string() && k.str() == key) return &v;
  }
  return nullptr;
}

uint32_t Value::depth() const {
  switch (kind_) {
    case Kind::kList:
    case Kind::kTuple: return depth_;
    case Kind::kDict: return dict_->depth;
    case Kind::kNamespace: return 1;  // namespaces are emptied when a render ends, which breaks any chain
    default: return 0;
  }
}

void Dict::Set(Value key, Value value) {
  const uint32_t d = value.depth();
  if (d >= kMaxValueDepth) {
    throw TemplateError(TemplateError::Kind::kLimit,
                        "value nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
  }
  depth = std::max(depth, d + 1);
  for (auto& [k, v] : entries) {
    if (Equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

bool Truthy(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined:
    case K::kNone: return false;
    case K::kBool: return v.bool_value();
    case K::kInt: return v.int_value() != 0;
    case K::kFloat: return v.float_value() != 0.0;
    case K::kString: return !v.str().empty();
    case K::kList:
    case K::kTuple: return !v.items().empty();
    case K::kDict: return !v.dict().entries.empty();
    default: return true;
  }
}

bool Equals(const Value& a, const Value& b) { return EqualsAt(a, b, 0); }

int Compare(const Value& a, const Value& b, std::string_view op) {
  // Jinja's Undefined fails every ordering with its own message.
  for (const Value* u : {&a, &b}) {
    if (u->is_undefined()) ThrowRuntime(u->str().empty() ? std::string("value is undefined") : u->str());
  }
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.AsDouble(), y = b.AsDouble();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.int_value() < b.int_value() ? -1 : (a.int_value() > b.int_value() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // Byte order of UTF-8 equals code point order, which is what Python compares.
    int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind() == b.kind() && a.is_sequence()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (Equals(x[i], y[i])) continue;
      return Compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  ThrowRuntime("'" + std::string(op) + "' not supported between instances of '" + TypeName(a) + "' and '" +
               TypeName(b) + "'");
}

std::string TypeName(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "Undefined";
    case K::kNone: return "NoneType";
    case K::kBool: return "bool";
    case K::kInt: return "int";
    case K::kFloat: return "float";
    case K::kString: return "str";
    case K::kList: return "list";
    case K::kTuple: return "tuple";
    case K::kDict: return "dict";
    case K::kNamespace: return "Namespace";
    case K::kCallable: return "function";
  }
  return "object";
}

std::string ToStr(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kUndefined: return "";
    case K::kNone: return "None";
    case K::kBool: return v.bool_value() ? "True" : "False";
    case K::kInt: return std::to_string(v.int_value());
    case K::kFloat: return PyFloatRepr(v.float_value());
    case K::kString: return v.str();
    case K::kCallable: return "<function " + v.callable().name + ">";
    default: return ReprAt(v, 0);
  }
}

std::string Repr(const Value& v) { return ReprAt(v, 0); }

namespace {
Value FromJsonAt(const nlohmann::ordered_json& j, uint32_t depth);
}  // namespace

Value FromJson(const nlohmann::ordered_json& j) { return FromJsonAt(j, 0); }

namespace {
Value FromJsonAt(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth >= kMaxValueDepth) {
    throw TemplateError(TemplateError::Kind::kLimit,
                        "JSON input nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
  }
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: return Value::None();
    case T::boolean: return Value::Bool(j.get<bool>());
    case T::number_integer: return Value::Int(j.get<int64_t>());
    case T::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value::Int(static_cast<int64_t>(u));
      return Value::Float(static_cast<double>(u));
    }
    case T::number_float: return Value::Float(j.get<double>());
    case T::string: return Value::String(j.get<std::string>());
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(FromJsonAt(e, depth + 1));
      return Value::List(std::move(items));
    }
    case T::object: {
      auto d = std::make_shared<Dict>();
      d->entries.reserve(j.size());
      for (const auto& [k, e] : j.items()) {
        Value v = FromJsonAt(e, depth + 1);
        d->depth = std::max(d->depth, v.depth() + 1);
        d->entries.emplace_back(Value::String(k), std::move(v));  // JSON keys are already unique
      }
      return Value::FromDict(std::move(d));
    }
    default: return Value::None();
  }
}
}  // namespace

std::string ToJson(const Value& v, const JsonOptions& options) {
  std::string out;
  AppendJson(out, v, options, 0);
  return out;
}

}  // namespace warden::engine::detail
