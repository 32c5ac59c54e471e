// jinja2 3.1's built-in filters, plus transformers' `tojson` (json.dumps with ensure_ascii=False), for chat templates
// (builtins.h). Each follows the Python implementation's behaviour on Python values, including which inputs are
// converted with str() first (`soft_str`) and what an empty sequence yields.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "runtime/engine/template/builtins.h"
#include "runtime/engine/template/call_args.h"
#include "runtime/engine/template/interpreter.h"
#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

std::string SoftStr(const Value& v) { return ToStr(v); }

// Python len() as the `length` filter sees it.
int64_t Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString: return static_cast<int64_t>(Utf8Length(v.str()));
    case Value::Kind::kList:
    case Value::Kind::kTuple: return static_cast<int64_t>(v.items().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.dict().entries.size());
    case Value::Kind::kUndefined: return 0;
    default: ThrowRuntime("object of type '" + TypeName(v) + "' has no len()");
  }
}

// Resolves "a.b.0" attribute paths as make_attrgetter does (dots split, digits become integer items).
Value AttrPath(Interpreter& interp, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return interp.GetItem(item, attribute);
  Value cur = item;
  std::string path = attribute.str();
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = digits && part.size() < 18 ? interp.GetItem(cur, Value::Int(std::stoll(part)))
                                     : interp.GetItem(cur, Value::String(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

Value Lowered(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::String(PyLower(v.str()));
  return v;
}

Value FAbs(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("abs", a, {});
  if (v.is_float()) return Value::Float(std::fabs(v.float_value()));
  if (v.is_int() || v.is_bool()) {
    if (v.int_value() == INT64_MIN) ThrowRuntime("integer overflow");
    return Value::Int(v.int_value() < 0 ? -v.int_value() : v.int_value());
  }
  ThrowRuntime("bad operand type for abs(): '" + TypeName(v) + "'");
}

Value FAttr(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("attr", a, {"name"});
  return interp.GetAttr(v, b.Str(0, ""));
}

Value FBatch(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("batch", a, {"linecount", "fill_with"});
  int64_t n = b.Int(0, 1);
  if (n <= 0) ThrowRuntime("batch size must be positive");
  std::vector<Value> out, cur;
  for (auto& item : Iterate(v)) {
    interp.ChargeSteps(1);
    cur.push_back(item);
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::List(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (b.Has(1)) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*b.Get(1));
    }
    out.push_back(Value::List(std::move(cur)));
  }
  return Value::List(std::move(out));
}

Value FCapitalize(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("capitalize", a, {});
  return Value::String(PyCapitalize(SoftStr(v)));
}

Value FCenter(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("center", a, {"width"});
  std::string s = SoftStr(v);
  int64_t width = b.Int(0, 80);
  int64_t len = static_cast<int64_t>(Utf8Length(s));
  if (width <= len) return Value::String(s);
  interp.CheckSize(static_cast<size_t>(width));
  int64_t marg = width - len;
  int64_t left = marg / 2 + (marg & width & 1);
  return Value::String(std::string(static_cast<size_t>(left), ' ') + s +
                       std::string(static_cast<size_t>(marg - left), ' '));
}

Value FLength(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("length", a, {});
  return Value::Int(Length(v));
}

Value FDefault(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("default", a, {"default_value", "boolean"});
  bool boolean = b.Bool(1, false);
  if (v.is_undefined() || (boolean && !Truthy(v))) return b.Or(0, Value::String(""));
  return v;
}

Value FDictsort(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("dictsort", a, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) ThrowRuntime("dictsort filter argument must be a dict");
  bool cs = b.Bool(0, false);
  std::string by = b.Str(1, "key");
  if (by != "key" && by != "value") ThrowRuntime("You can only sort by either 'key' or 'value'");
  size_t pos = by == "key" ? 0 : 1;
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.dict().entries) pairs.push_back(Value::Tuple({k, val}));
  interp.ChargeSteps(static_cast<int64_t>(pairs.size()));
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    return Compare(Lowered(x.items()[pos], cs), Lowered(y.items()[pos], cs), "<") < 0;
  });
  if (b.Bool(2, false)) std::reverse(pairs.begin(), pairs.end());
  return Value::List(std::move(pairs));
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Value FEscape(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("escape", a, {});
  return Value::String(HtmlEscape(SoftStr(v)));
}

Value FFirst(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("first", a, {});
  auto items = Iterate(v);
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

Value FLast(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("last", a, {});
  auto items = Iterate(v);
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

// Python float(str): surrounding whitespace, underscores between digits, inf/nan words.
bool ParsePyFloat(const std::string& text, double* out) {
  std::string s = PyStrip(text, nullptr, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return false;
      }
      continue;
    }
    clean.push_back(s[i]);
  }
  if (clean.empty()) return false;
  std::string lower = PyLower(clean);
  std::string body = lower;
  double sign = 1.0;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1.0 : 1.0;
    body = body.substr(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = sign * HUGE_VAL;
    return true;
  }
  if (body == "nan") {
    *out = std::nan("");
    return true;
  }
  for (char c : body) {
    if (!(isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-')) return false;
  }
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// Python int(str, base) for base 2..36 or 0.
bool ParsePyInt(const std::string& text, int base, int64_t* out) {
  std::string s = PyStrip(text, nullptr, true, true);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    char p = static_cast<char>(s[i + 1] | 0x20);
    int prefix_base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefix_base != 0 && (base == 0 || base == prefix_base)) {
      base = prefix_base;
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (i >= s.size()) return false;
  uint64_t v = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= s.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : (c >= 'A' && c <= 'Z') ? c - 'A' + 10 : 99;
    if (d >= base) return false;
    if (v > (static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    prev_digit = true;
  }
  if (!prev_digit) return false;
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

Value FFloat(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("float", a, {"default"});
  Value fallback = b.Or(0, Value::Float(0.0));
  if (v.is_number()) return Value::Float(v.AsDouble());
  double d;
  if (v.is_string() && ParsePyFloat(v.str(), &d)) return Value::Float(d);
  return fallback;
}

Value FInt(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("int", a, {"default", "base"});
  Value fallback = b.Or(0, Value::Int(0));
  int64_t base = b.Int(1, 10);
  if (v.is_int() || v.is_bool()) return Value::Int(v.int_value());
  if (v.is_float()) {
    double d = std::trunc(v.float_value());
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t i;
    if (base >= 0 && base <= 36 && base != 1 && ParsePyInt(v.str(), static_cast<int>(base), &i)) return Value::Int(i);
    double d;
    if (ParsePyFloat(v.str(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(std::trunc(d)));
    }
  }
  return fallback;
}

Value FFormat(Interpreter&, const Value& v, CallArgs& a) {
  if (!a.args.empty() && !a.kwargs.empty()) ThrowRuntime("can't handle positional and keyword arguments at the same time");
  if (!a.kwargs.empty()) {
    auto d = std::make_shared<Dict>();
    for (auto& [k, val] : a.kwargs) d->Set(Value::String(k), val);
    return Value::String(PercentFormat(SoftStr(v), Value::FromDict(d)));
  }
  return Value::String(PercentFormat(SoftStr(v), Value::Tuple(a.args)));
}

Value FIndent(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("indent", a, {"width", "first", "blank"});
  std::string indention;
  Value width = b.Or(0, Value::Int(4));
  if (width.is_string()) {
    indention = width.str();
  } else {
    int64_t w = b.Int(0, 4);
    interp.CheckSize(static_cast<size_t>(std::max<int64_t>(w, 0)));
    indention = std::string(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  }
  bool first = b.Bool(1, false), blank = b.Bool(2, false);
  std::string s = SoftStr(v) + "\n";  // jinja appends a newline so splitlines() keeps a trailing empty line
  auto lines = PySplitLines(s);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) rv += "\n" + indention;
      rv += lines[i];
      interp.CheckSize(rv.size());
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
      interp.CheckSize(rv.size());
    }
  }
  if (first) rv = indention + rv;
  return Value::String(std::move(rv));
}

Value FItems(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("items", a, {});
  if (v.is_undefined()) return Value::List({});
  if (!v.is_dict()) ThrowRuntime("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, val] : v.dict().entries) out.push_back(Value::Tuple({k, val}));
  return Value::List(std::move(out));
}

Value FJoin(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("join", a, {"d", "attribute"});
  std::string sep = b.Has(0) ? SoftStr(*b.Get(0)) : "";
  std::string out;
  bool first = true;
  for (auto& item : Iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += SoftStr(b.Has(1) && !b.Get(1)->is_none() ? AttrPath(interp, item, *b.Get(1)) : item);
    interp.CheckSize(out.size());
  }
  return Value::String(std::move(out));
}

Value FList(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("list", a, {});
  return Value::List(Iterate(v));
}

Value FLower(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("lower", a, {});
  return Value::String(PyLower(SoftStr(v)));
}

Value FUpper(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("upper", a, {});
  return Value::String(PyUpper(SoftStr(v)));
}

Value FMap(Interpreter& interp, const Value& v, CallArgs& a) {
  std::vector<Value> out;
  auto items = Iterate(v);
  interp.ChargeSteps(static_cast<int64_t>(items.size()));
  if (a.args.empty()) {
    ArgBinder b("map", a, {"attribute", "default"});
    const Value& attribute = b.Required(0);
    for (auto& item : items) {
      Value r = AttrPath(interp, item, attribute);
      if (r.is_undefined() && b.Has(1)) r = *b.Get(1);
      out.push_back(std::move(r));
    }
    return Value::List(std::move(out));
  }
  if (!a.args[0].is_string()) ThrowRuntime("map() filter name must be a string");
  std::string name = a.args[0].str();
  if (!IsKnownFilter(name)) ThrowRuntime("No filter named '" + name + "'.");
  CallArgs rest;
  rest.args.assign(a.args.begin() + 1, a.args.end());
  rest.kwargs = a.kwargs;
  for (auto& item : items) {
    CallArgs copy = rest;
    out.push_back(ApplyFilter(interp, name, item, copy));
  }
  return Value::List(std::move(out));
}

Value MinMax(Interpreter& interp, const Value& v, CallArgs& a, bool want_max) {
  ArgBinder b(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  bool cs = b.Bool(0, false);
  auto items = Iterate(v);
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Value& x) {
    return Lowered(b.Has(1) && !b.Get(1)->is_none() ? AttrPath(interp, x, *b.Get(1)) : x, cs);
  };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    int c = Compare(key(items[i]), key(items[best]), want_max ? ">" : "<");
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}
Value FMax(Interpreter& i, const Value& v, CallArgs& a) { return MinMax(i, v, a, true); }
Value FMin(Interpreter& i, const Value& v, CallArgs& a) { return MinMax(i, v, a, false); }

// select/reject/selectattr/rejectattr share jinja's select_or_reject.
Value SelectOrReject(Interpreter& interp, const Value& v, CallArgs& a, bool lookup_attr, bool want) {
  size_t pos = 0;
  Value attribute;
  if (lookup_attr) {
    if (a.args.empty()) ThrowRuntime("Missing parameter for attribute name");
    attribute = a.args[0];
    pos = 1;
  }
  std::string test;
  CallArgs targs;
  bool has_test = pos < a.args.size();
  if (has_test) {
    if (!a.args[pos].is_string()) ThrowRuntime("test name must be a string");
    test = a.args[pos].str();
    if (!IsKnownTest(test)) ThrowRuntime("No test named '" + test + "'.");
    targs.args.assign(a.args.begin() + static_cast<long>(pos) + 1, a.args.end());
    targs.kwargs = a.kwargs;
  }
  std::vector<Value> out;
  for (auto& item : Iterate(v)) {
    interp.ChargeSteps(1);
    Value subject = lookup_attr ? AttrPath(interp, item, attribute) : item;
    bool r;
    if (has_test) {
      CallArgs copy = targs;
      r = ApplyTest(interp, test, subject, copy);
    } else {
      r = Truthy(subject);
    }
    if (r == want) out.push_back(item);
  }
  return Value::List(std::move(out));
}
Value FSelect(Interpreter& i, const Value& v, CallArgs& a) { return SelectOrReject(i, v, a, false, true); }
Value FReject(Interpreter& i, const Value& v, CallArgs& a) { return SelectOrReject(i, v, a, false, false); }
Value FSelectattr(Interpreter& i, const Value& v, CallArgs& a) { return SelectOrReject(i, v, a, true, true); }
Value FRejectattr(Interpreter& i, const Value& v, CallArgs& a) { return SelectOrReject(i, v, a, true, false); }

Value FReplace(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("replace", a, {"old", "new", "count"});
  std::string out = PyReplace(SoftStr(v), SoftStr(b.Required(0)), SoftStr(b.Required(1)), b.Int(2, -1));
  interp.CheckSize(out.size());
  return Value::String(std::move(out));
}

Value FReverse(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("reverse", a, {});
  if (v.is_string()) {
    auto cps = DecodeUtf8(v.str());
    std::reverse(cps.begin(), cps.end());
    return Value::String(EncodeUtf8(cps));
  }
  auto items = Iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::List(std::move(items));
}

// Python round(x, ndigits): correctly rounded, ties to even on the exact binary value (what printf does).
double PyRound(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits > 300) return x;
  if (ndigits < -300) return 0.0 * x;
  if (ndigits >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, static_cast<double>(-ndigits));
  double y = x / p;
  double r = std::nearbyint(y);  // default rounding mode: ties to even
  return r * p;
}

Value FRound(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("round", a, {"precision", "method"});
  int64_t precision = b.Int(0, 0);
  std::string method = b.Str(1, "common");
  if (method != "common" && method != "ceil" && method != "floor") {
    ThrowRuntime("method must be common, ceil or floor");
  }
  if (!v.is_number()) ThrowRuntime("type " + TypeName(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) return v.is_bool() ? Value::Int(v.int_value()) : v;  // round(int, n) stays an int
    return Value::Float(PyRound(v.float_value(), precision));
  }
  double p = std::pow(10.0, static_cast<double>(precision));
  double x = v.AsDouble() * p;
  return Value::Float((method == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

Value FSafe(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("safe", a, {});
  return Value::String(SoftStr(v));
}

Value FString(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("string", a, {});
  if (v.is_string()) return v;
  return Value::String(SoftStr(v));
}

Value FSort(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("sort", a, {"reverse", "case_sensitive", "attribute"});
  bool reverse = b.Bool(0, false), cs = b.Bool(1, false);
  auto items = Iterate(v);
  interp.ChargeSteps(static_cast<int64_t>(items.size()));
  auto key = [&](const Value& x) {
    return Lowered(b.Has(2) && !b.Get(2)->is_none() ? AttrPath(interp, x, *b.Get(2)) : x, cs);
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return reverse ? Compare(key(y), key(x), "<") < 0 : Compare(key(x), key(y), "<") < 0;
  });
  return Value::List(std::move(items));
}

Value FSum(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("sum", a, {"attribute", "start"});
  Value total = b.Or(1, Value::Int(0));
  for (auto& item : Iterate(v)) {
    interp.ChargeSteps(1);
    total = BinaryOp(interp, "+", total,
                     b.Has(0) && !b.Get(0)->is_none() ? AttrPath(interp, item, *b.Get(0)) : item);
  }
  return total;
}

Value FTitle(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("title", a, {});
  // jinja splits at runs of [-\s({\[<] and upper-cases the first character of every piece.
  auto cps = DecodeUtf8(SoftStr(v));
  std::string out;
  bool word_start = true;
  for (char32_t cp : cps) {
    bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || IsPyWhitespace(cp);
    std::string one;
    AppendUtf8(one, cp);
    if (sep) {
      out += one;
      word_start = true;
    } else {
      out += word_start ? PyUpper(one) : PyLower(one);
      word_start = false;
    }
  }
  return Value::String(std::move(out));
}

Value FToJson(Interpreter& interp, const Value& v, CallArgs& a) {
  // transformers' signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
  ArgBinder b("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions o;
  o.ensure_ascii = b.Bool(0, false);
  o.sort_keys = b.Bool(3, false);
  Value indent = b.Or(1, Value::None());
  if (indent.is_string()) {
    o.has_indent = true;
    o.indent = indent.str();
  } else if (indent.is_int() || indent.is_bool()) {
    o.has_indent = true;
    int64_t n = std::clamp<int64_t>(indent.int_value(), 0, 1024);
    o.indent = std::string(static_cast<size_t>(n), ' ');
  } else if (!indent.is_none()) {
    ThrowRuntime("tojson indent must be an int or a string, not " + TypeName(indent));
  }
  o.item_separator = o.has_indent ? "," : ", ";
  o.key_separator = ": ";
  Value seps = b.Or(2, Value::None());
  if (!seps.is_none()) {
    if (!seps.is_sequence() || seps.items().size() != 2 || !seps.items()[0].is_string() ||
        !seps.items()[1].is_string()) {
      ThrowRuntime("tojson separators must be a pair of strings");
    }
    o.item_separator = seps.items()[0].str();
    o.key_separator = seps.items()[1].str();
  }
  std::string out = ToJson(v, o);
  interp.CheckSize(out.size());
  return Value::String(std::move(out));
}

Value FTrim(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("trim", a, {"chars"});
  std::string s = SoftStr(v);
  if (b.Has(0) && !b.Get(0)->is_none()) {
    std::string chars = b.Str(0, "");
    return Value::String(PyStrip(s, &chars, true, true));
  }
  return Value::String(PyStrip(s, nullptr, true, true));
}

Value FTruncate(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder b("truncate", a, {"length", "killwords", "end", "leeway"});
  auto cps = DecodeUtf8(SoftStr(v));
  int64_t length = b.Int(0, 255), leeway = b.Int(3, 5);
  bool killwords = b.Bool(1, false);
  std::string end = b.Str(2, "...");
  int64_t end_len = static_cast<int64_t>(Utf8Length(end));
  if (length < end_len) ThrowRuntime("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return Value::String(EncodeUtf8(cps));
  std::vector<char32_t> head(cps.begin(), cps.begin() + (length - end_len));
  if (killwords) return Value::String(EncodeUtf8(head) + end);
  std::string h = EncodeUtf8(head);
  size_t sp = h.rfind(' ');
  if (sp != std::string::npos) h = h.substr(0, sp);
  return Value::String(h + end);
}

Value FUnique(Interpreter& interp, const Value& v, CallArgs& a) {
  ArgBinder b("unique", a, {"case_sensitive", "attribute"});
  bool cs = b.Bool(0, false);
  std::vector<Value> seen, out;
  for (auto& item : Iterate(v)) {
    interp.ChargeSteps(static_cast<int64_t>(seen.size()) + 1);
    Value key = Lowered(b.Has(1) && !b.Get(1)->is_none() ? AttrPath(interp, item, *b.Get(1)) : item, cs);
    bool dup = false;
    for (const auto& s : seen) {
      if (Equals(s, key)) {
        dup = true;
        break;
      }
    }
    if (dup) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::List(std::move(out));
}

Value FWordcount(Interpreter&, const Value& v, CallArgs& a) {
  ArgBinder("wordcount", a, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t cp : DecodeUtf8(SoftStr(v))) {
    std::string one;
    AppendUtf8(one, cp);
    bool w = cp == '_' || PyIsAlnum(one);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

const std::map<std::string, FilterFn, std::less<>>& Filters() {
  static const auto* filters = new std::map<std::string, FilterFn, std::less<>>{
      {"abs", FAbs},         {"attr", FAttr},           {"batch", FBatch},           {"capitalize", FCapitalize},
      {"center", FCenter},   {"count", FLength},        {"d", FDefault},             {"default", FDefault},
      {"dictsort", FDictsort}, {"e", FEscape},          {"escape", FEscape},         {"first", FFirst},
      {"float", FFloat},     {"forceescape", FEscape},  {"format", FFormat},         {"indent", FIndent},
      {"int", FInt},         {"items", FItems},         {"join", FJoin},             {"last", FLast},
      {"length", FLength},   {"list", FList},           {"lower", FLower},           {"map", FMap},
      {"max", FMax},         {"min", FMin},             {"reject", FReject},         {"rejectattr", FRejectattr},
      {"replace", FReplace}, {"reverse", FReverse},     {"round", FRound},           {"safe", FSafe},
      {"select", FSelect},   {"selectattr", FSelectattr}, {"sort", FSort},           {"string", FString},
      {"sum", FSum},         {"title", FTitle},         {"tojson", FToJson},         {"trim", FTrim},
      {"truncate", FTruncate}, {"unique", FUnique},     {"upper", FUpper},           {"wordcount", FWordcount},
  };
  return *filters;
}

}  // namespace

bool IsKnownFilter(std::string_view name) { return Filters().count(name) > 0; }

Value ApplyFilter(Interpreter& interp, std::string_view name, const Value& input, CallArgs& args) {
  auto it = Filters().find(name);
  if (it == Filters().end()) ThrowRuntime("No filter named '" + std::string(name) + "'.");
  // Jinja filters see an undefined input as Undefined; most then call str() on it (""), the others iterate it
  // (nothing) or test it — all of which the functions handle.
  return it->second(interp, input, args);
}

}  // namespace warden::engine::detail
