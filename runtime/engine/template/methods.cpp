// Python methods of str, dict, list and tuple that a sandboxed chat template may call (`content.split('</think>')`,
// `message.get('x')`), and Python's two string formatting languages: `fmt % args` and `str.format` (builtins.h).
// Mutating methods are absent on purpose: ImmutableSandboxedEnvironment forbids them.
#include <cstdio>
#include <functional>
#include <map>

#include "runtime/engine/template/builtins.h"
#include "runtime/engine/template/call_args.h"
#include "runtime/engine/template/interpreter.h"
#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

using Method = Value (*)(Interpreter&, const Value& self, CallArgs&);

const std::string& StrArg(const Value& v, const char* method) {
  if (!v.is_string()) ThrowRuntime(std::string(method) + "() argument must be str, not " + TypeName(v));
  return v.str();
}

// startswith/endswith accept a str or a tuple of str.
bool AffixMatch(const std::string& s, const Value& affix, bool at_start, const char* method) {
  auto one = [&](const std::string& a) {
    if (a.size() > s.size()) return false;
    return at_start ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_tuple() || affix.is_list()) {
    for (const auto& a : affix.items()) {
      if (one(StrArg(a, method))) return true;
    }
    return false;
  }
  if (!affix.is_string()) {
    ThrowRuntime(std::string(method) + " first arg must be str or a tuple of str, not " + TypeName(affix));
  }
  return one(affix.str());
}

std::string SliceStr(const std::string& s, const ArgBinder& b, size_t start_idx) {
  if (!b.Has(start_idx) && !b.Has(start_idx + 1)) return s;
  auto cps = DecodeUtf8(s);
  auto n = static_cast<int64_t>(cps.size());
  auto norm = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, i + n) : std::min(i, n); };
  int64_t start = norm(b.Int(start_idx, 0)), end = norm(b.Int(start_idx + 1, n));
  if (start >= end) return "";
  return EncodeUtf8(std::vector<char32_t>(cps.begin() + start, cps.begin() + end));
}

Value MStartswith(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("startswith", a, {"prefix", "start", "end"});
  return Value::Bool(AffixMatch(SliceStr(self.str(), b, 1), b.Required(0), true, "startswith"));
}
Value MEndswith(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("endswith", a, {"suffix", "start", "end"});
  return Value::Bool(AffixMatch(SliceStr(self.str(), b, 1), b.Required(0), false, "endswith"));
}

Value StripImpl(const Value& self, CallArgs& a, const char* name, bool left, bool right) {
  ArgBinder b(name, a, {"chars"});
  if (b.Has(0) && !b.Get(0)->is_none()) {
    const std::string& chars = StrArg(*b.Get(0), name);
    return Value::String(PyStrip(self.str(), &chars, left, right));
  }
  return Value::String(PyStrip(self.str(), nullptr, left, right));
}
Value MStrip(Interpreter&, const Value& s, CallArgs& a) { return StripImpl(s, a, "strip", true, true); }
Value MLstrip(Interpreter&, const Value& s, CallArgs& a) { return StripImpl(s, a, "lstrip", true, false); }
Value MRstrip(Interpreter&, const Value& s, CallArgs& a) { return StripImpl(s, a, "rstrip", false, true); }

Value SplitImpl(Interpreter& interp, const Value& self, CallArgs& a, bool from_right) {
  ArgBinder b(from_right ? "rsplit" : "split", a, {"sep", "maxsplit"});
  int64_t maxsplit = b.Int(1, -1);
  std::vector<std::string> parts;
  if (!b.Has(0) || b.Get(0)->is_none()) {
    parts = PySplitWhitespace(self.str(), maxsplit, from_right);
  } else {
    const std::string& sep = StrArg(*b.Get(0), "split");
    if (sep.empty()) ThrowRuntime("empty separator");
    parts = PySplit(self.str(), sep, maxsplit, from_right);
  }
  interp.ChargeSteps(static_cast<int64_t>(parts.size()));
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(Value::String(std::move(p)));
  return Value::List(std::move(out));
}
Value MSplit(Interpreter& i, const Value& s, CallArgs& a) { return SplitImpl(i, s, a, false); }
Value MRsplit(Interpreter& i, const Value& s, CallArgs& a) { return SplitImpl(i, s, a, true); }

Value MSplitlines(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("splitlines", a, {});
  std::vector<Value> out;
  for (auto& l : PySplitLines(self.str())) out.push_back(Value::String(std::move(l)));
  return Value::List(std::move(out));
}

Value MReplace(Interpreter& interp, const Value& self, CallArgs& a) {
  ArgBinder b("replace", a, {"old", "new", "count"});
  std::string out = PyReplace(self.str(), StrArg(b.Required(0), "replace"), StrArg(b.Required(1), "replace"),
                              b.Int(2, -1));
  interp.CheckSize(out.size());
  return Value::String(std::move(out));
}

Value MUpper(Interpreter&, const Value& s, CallArgs& a) { ArgBinder("upper", a, {}); return Value::String(PyUpper(s.str())); }
Value MLower(Interpreter&, const Value& s, CallArgs& a) { ArgBinder("lower", a, {}); return Value::String(PyLower(s.str())); }
Value MTitle(Interpreter&, const Value& s, CallArgs& a) { ArgBinder("title", a, {}); return Value::String(PyTitle(s.str())); }
Value MCapitalize(Interpreter&, const Value& s, CallArgs& a) {
  ArgBinder("capitalize", a, {});
  return Value::String(PyCapitalize(s.str()));
}
Value MIsdigit(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsDigit(s.str())); }
Value MIsalpha(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsAlpha(s.str())); }
Value MIsalnum(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsAlnum(s.str())); }
Value MIsspace(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsSpace(s.str())); }
Value MIslower(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsLower(s.str())); }
Value MIsupper(Interpreter&, const Value& s, CallArgs&) { return Value::Bool(PyIsUpper(s.str())); }

Value MFind(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("find", a, {"sub"});
  return Value::Int(PyFind(self.str(), StrArg(b.Required(0), "find"), false));
}
Value MRfind(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("rfind", a, {"sub"});
  return Value::Int(PyFind(self.str(), StrArg(b.Required(0), "rfind"), true));
}
Value MStrCount(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("count", a, {"sub"});
  return Value::Int(PyCount(self.str(), StrArg(b.Required(0), "count")));
}

Value MIndex(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("index", a, {"sub"});
  long long i = PyFind(self.str(), StrArg(b.Required(0), "index"), false);
  if (i < 0) ThrowRuntime("substring not found");
  return Value::Int(i);
}
Value MRindex(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("rindex", a, {"sub"});
  long long i = PyFind(self.str(), StrArg(b.Required(0), "rindex"), true);
  if (i < 0) ThrowRuntime("substring not found");
  return Value::Int(i);
}

Value PartitionImpl(const Value& self, CallArgs& a, bool from_right) {
  ArgBinder b(from_right ? "rpartition" : "partition", a, {"sep"});
  const std::string& sep = StrArg(b.Required(0), "partition");
  if (sep.empty()) ThrowRuntime("empty separator");
  const std::string& s = self.str();
  size_t hit = from_right ? s.rfind(sep) : s.find(sep);
  if (hit == std::string::npos) {
    return from_right ? Value::Tuple({Value::String(""), Value::String(""), Value::String(s)})
                      : Value::Tuple({Value::String(s), Value::String(""), Value::String("")});
  }
  return Value::Tuple({Value::String(s.substr(0, hit)), Value::String(sep), Value::String(s.substr(hit + sep.size()))});
}
Value MPartition(Interpreter&, const Value& s, CallArgs& a) { return PartitionImpl(s, a, false); }
Value MRpartition(Interpreter&, const Value& s, CallArgs& a) { return PartitionImpl(s, a, true); }

Value MZfill(Interpreter& interp, const Value& self, CallArgs& a) {
  ArgBinder b("zfill", a, {"width"});
  int64_t width = b.Int(0, 0);
  const std::string& s = self.str();
  int64_t len = static_cast<int64_t>(Utf8Length(s));
  if (width <= len) return self;
  interp.CheckSize(static_cast<size_t>(width));
  size_t sign = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  return Value::String(s.substr(0, sign) + std::string(static_cast<size_t>(width - len), '0') + s.substr(sign));
}

Value MJoin(Interpreter& interp, const Value& self, CallArgs& a) {
  ArgBinder b("join", a, {"iterable"});
  std::string out;
  size_t i = 0;
  for (const auto& item : Iterate(b.Required(0))) {
    if (!item.is_string()) {
      ThrowRuntime("sequence item " + std::to_string(i) + ": expected str instance, " + TypeName(item) + " found");
    }
    if (i++ > 0) out += self.str();
    out += item.str();
    interp.CheckSize(out.size());
  }
  return Value::String(std::move(out));
}

Value MRemoveprefix(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("removeprefix", a, {"prefix"});
  const std::string& p = StrArg(b.Required(0), "removeprefix");
  const std::string& s = self.str();
  return Value::String(s.compare(0, p.size(), p) == 0 ? s.substr(p.size()) : s);
}
Value MRemovesuffix(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("removesuffix", a, {"suffix"});
  const std::string& p = StrArg(b.Required(0), "removesuffix");
  const std::string& s = self.str();
  bool match = !p.empty() && p.size() <= s.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
  return Value::String(match ? s.substr(0, s.size() - p.size()) : s);
}

Value Pad(Interpreter& interp, const Value& self, CallArgs& a, const char* name, int where) {
  ArgBinder b(name, a, {"width", "fillchar"});
  int64_t width = b.Int(0, 0);
  std::string fill = b.Str(1, " ");
  if (Utf8Length(fill) != 1) ThrowRuntime("The fill character must be exactly one character long");
  int64_t len = static_cast<int64_t>(Utf8Length(self.str()));
  if (width <= len) return self;
  interp.CheckSize(static_cast<size_t>(width) * fill.size());
  int64_t marg = width - len;
  int64_t left = where < 0 ? 0 : where > 0 ? marg : marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += self.str();
  for (int64_t i = left; i < marg; ++i) out += fill;
  return Value::String(std::move(out));
}
Value MLjust(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, "ljust", -1); }
Value MRjust(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, "rjust", 1); }
Value MCenter(Interpreter& i, const Value& s, CallArgs& a) { return Pad(i, s, a, "center", 0); }

// str.format: positional ({} {0}) and named ({name}) fields, !r/!s conversions, {{ }} escapes. Format specs are
// not interpreted except the empty one.
Value MFormat(Interpreter& interp, const Value& self, CallArgs& a) {
  const std::string& f = self.str();
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      ThrowRuntime("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = f.find('}', i);
    if (close == std::string::npos) ThrowRuntime("Single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conv;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conv = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    if (!spec.empty()) ThrowRuntime("format specs ('" + spec + "') are not supported in chat templates");
    Value v;
    if (field.empty()) {
      if (auto_index >= a.args.size()) ThrowRuntime("Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
      v = a.args[auto_index++];
    } else if (field.find_first_not_of("0123456789") == std::string::npos && field.size() < 9) {
      size_t idx = std::stoul(field);
      if (idx >= a.args.size()) ThrowRuntime("Replacement index " + field + " out of range for positional args tuple");
      v = a.args[idx];
    } else {
      bool found = false;
      for (auto& [k, val] : a.kwargs) {
        if (k == field) {
          v = val;
          found = true;
        }
      }
      if (!found) ThrowRuntime("KeyError: '" + field + "'");
    }
    out += conv == "r" ? Repr(v) : ToStr(v);
    interp.CheckSize(out.size());
  }
  return Value::String(std::move(out));
}

Value MDictGet(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("get", a, {"key", "default"});
  const Value& key = b.Required(0);
  if (key.is_list() || key.is_dict()) ThrowRuntime("unhashable type: '" + TypeName(key) + "'");
  if (const Value* v = self.dict().Find(key); v != nullptr) return *v;
  return b.Or(1, Value::None());
}
Value MDictItems(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("items", a, {});
  std::vector<Value> out;
  for (const auto& [k, v] : self.dict().entries) out.push_back(Value::Tuple({k, v}));
  return Value::List(std::move(out));
}
Value MDictKeys(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("keys", a, {});
  std::vector<Value> out;
  for (const auto& [k, v] : self.dict().entries) out.push_back(k);
  return Value::List(std::move(out));
}
Value MDictValues(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("values", a, {});
  std::vector<Value> out;
  for (const auto& [k, v] : self.dict().entries) out.push_back(v);
  return Value::List(std::move(out));
}
Value MDictCopy(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("copy", a, {});
  return Value::FromDict(std::make_shared<Dict>(self.dict()));
}

Value MListIndex(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("index", a, {"value"});
  const auto& items = self.items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (Equals(items[i], b.Required(0))) return Value::Int(static_cast<int64_t>(i));
  }
  ThrowRuntime(Repr(b.Required(0)) + " is not in list");
}
Value MListCount(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder b("count", a, {"value"});
  int64_t n = 0;
  for (const auto& v : self.items()) n += Equals(v, b.Required(0)) ? 1 : 0;
  return Value::Int(n);
}
Value MListCopy(Interpreter&, const Value& self, CallArgs& a) {
  ArgBinder("copy", a, {});
  return Value::List(self.items());
}

using MethodTable = std::map<std::string, Method, std::less<>>;

const MethodTable& StrMethods() {
  static const auto* t = new MethodTable{
      {"startswith", MStartswith}, {"endswith", MEndswith},   {"strip", MStrip},       {"lstrip", MLstrip},
      {"rstrip", MRstrip},         {"split", MSplit},         {"rsplit", MRsplit},     {"splitlines", MSplitlines},
      {"replace", MReplace},       {"upper", MUpper},         {"lower", MLower},       {"title", MTitle},
      {"capitalize", MCapitalize}, {"isdigit", MIsdigit},     {"isalpha", MIsalpha},   {"isalnum", MIsalnum},
      {"isspace", MIsspace},       {"islower", MIslower},     {"isupper", MIsupper},   {"find", MFind},
      {"rfind", MRfind},           {"count", MStrCount},      {"join", MJoin},         {"format", MFormat},
      {"removeprefix", MRemoveprefix}, {"removesuffix", MRemovesuffix}, {"ljust", MLjust}, {"rjust", MRjust},
      {"center", MCenter},         {"index", MIndex},         {"rindex", MRindex},     {"partition", MPartition},
      {"rpartition", MRpartition}, {"zfill", MZfill},         {"isnumeric", MIsdigit}, {"isdecimal", MIsdigit},
  };
  return *t;
}
const MethodTable& DictMethods() {
  static const auto* t = new MethodTable{
      {"get", MDictGet}, {"items", MDictItems}, {"keys", MDictKeys}, {"values", MDictValues}, {"copy", MDictCopy}};
  return *t;
}
const MethodTable& ListMethods() {
  static const auto* t = new MethodTable{{"index", MListIndex}, {"count", MListCount}, {"copy", MListCopy}};
  return *t;
}

// One printf conversion: flags, width, precision already parsed.
std::string FormatOne(char conv, const std::string& flags, int width, int precision, const Value& v) {
  std::string spec = "%" + flags;
  if (width >= 0) spec += std::to_string(width);
  if (precision >= 0) {
    spec += '.';
    spec += std::to_string(precision);
  }
  char buf[512];
  switch (conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = conv == 's' ? ToStr(v) : Repr(v);
      if (precision >= 0) {
        auto cps = DecodeUtf8(s);
        if (static_cast<size_t>(precision) < cps.size()) cps.resize(static_cast<size_t>(precision));
        s = EncodeUtf8(cps);
      }
      int len = static_cast<int>(Utf8Length(s));
      if (width > len) {
        std::string pad(static_cast<size_t>(width - len), ' ');
        s = flags.find('-') != std::string::npos ? s + pad : pad + s;
      }
      return s;
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      if (!v.is_number()) ThrowRuntime(std::string("%") + conv + " format: a real number is required, not " + TypeName(v));
      if ((conv == 'x' || conv == 'X' || conv == 'o') && v.is_float()) {
        ThrowRuntime(std::string("%") + conv + " format: an integer is required, not float");
      }
      long long i = v.is_float() ? static_cast<long long>(v.float_value()) : static_cast<long long>(v.int_value());
      char c = conv == 'i' || conv == 'u' ? 'd' : conv;
      std::snprintf(buf, sizeof buf, (spec + "ll" + c).c_str(), i);
      return buf;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (!v.is_number()) ThrowRuntime(std::string("must be real number, not ") + TypeName(v));
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.AsDouble());
      return buf;
    }
    case 'c': {
      if (v.is_string() && Utf8Length(v.str()) == 1) return v.str();
      if (v.is_int()) {
        std::string s;
        AppendUtf8(s, static_cast<char32_t>(v.int_value()));
        return s;
      }
      ThrowRuntime("%c requires int or char");
    }
    default: ThrowRuntime(std::string("unsupported format character '") + conv + "'");
  }
}

}  // namespace

Value LookupMethod(const Value& obj, std::string_view name) {
  const MethodTable* table = nullptr;
  if (obj.is_string()) table = &StrMethods();
  if (obj.is_dict()) table = &DictMethods();
  if (obj.is_sequence()) table = &ListMethods();
  if (table == nullptr) return Value();
  auto it = table->find(name);
  if (it == table->end()) return Value();
  Method m = it->second;
  return Value::Function(std::string(name), [m, obj](Interpreter& interp, CallArgs& args) { return m(interp, obj, args); });
}

std::string PercentFormat(const std::string& format, const Value& args) {
  std::vector<Value> positional;
  const Dict* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.items();
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.dict();
  }
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    if (++i >= format.size()) ThrowRuntime("incomplete format");
    const Value* value = nullptr;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos) ThrowRuntime("incomplete format key");
      if (mapping == nullptr) ThrowRuntime("format requires a mapping");
      std::string key = format.substr(i + 1, close - i - 1);
      value = mapping->Find(std::string_view(key));
      if (value == nullptr) ThrowRuntime("KeyError: '" + key + "'");
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string("-+ #0").find(format[i]) != std::string::npos) flags.push_back(format[i++]);
    int width = -1, precision = -1;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
      width = std::max(width, 0) * 10 + (format[i++] - '0');
      if (width > 4096) ThrowRuntime("format width too large");
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      precision = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        precision = precision * 10 + (format[i++] - '0');
        if (precision > 400) ThrowRuntime("format precision too large");
      }
    }
    if (i >= format.size()) ThrowRuntime("incomplete format");
    char conv = format[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (value == nullptr) {
      if (next >= positional.size()) ThrowRuntime("not enough arguments for format string");
      value = &positional[next++];
    }
    out += FormatOne(conv, flags, width, precision, *value);
  }
  if (!used_mapping && mapping == nullptr && next < positional.size()) {
    ThrowRuntime("not all arguments converted during string formatting");
  }
  return out;
}

}  // namespace warden::engine::detail
