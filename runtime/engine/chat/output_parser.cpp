// Whole-text parse of Qwen3.6 output into reasoning, content and tool calls (../shared/docs/model.md §7.3; the
// numbered rules and the kept vLLM quirks of ../shared/fixtures/chat/README.md, "parse_cases.jsonl"). Each helper
// below works on the same slices as vLLM's qwen3 reasoning parser and qwen3_coder tool parser do, because which
// `<parameter=` counts as structural depends on where a slice begins (position 0 counts as a line start).
#include "runtime/engine/chat/output_parser.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "runtime/engine/chat/output_parser_internal.h"
#include "runtime/engine/chat/python_literal.h"

namespace warden::engine {
namespace detail {
namespace {

using Json = nlohmann::ordered_json;
using NameSet = std::set<std::string, std::less<>>;
constexpr size_t npos = std::string_view::npos;

bool StartsWith(std::string_view s, size_t pos, std::string_view prefix) {
  return pos <= s.size() && s.substr(pos).substr(0, prefix.size()) == prefix;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The next `<parameter=` at or after `start` that begins a line of `text` (or is at position 0). With `valid`,
// its name must also be one of them.
size_t NextStructuralParamStart(std::string_view text, size_t start, const NameSet* valid) {
  size_t at = start;
  while (true) {
    at = text.find(kParameterPrefix, at);
    if (at == npos) return npos;
    if (at == 0 || text[at - 1] == '\n') {
      if (valid == nullptr) return at;
      size_t name_end = text.find('>', at + kParameterPrefix.size());
      if (name_end != npos) {
        size_t name_begin = at + kParameterPrefix.size();
        if (valid->count(text.substr(name_begin, name_end - name_begin)) != 0) return at;
      }
    }
    at += 1;
  }
}

// The first `</function>` followed, past whitespace, by end of text or `</tool_call>`.
size_t FindTrueFunctionEnd(std::string_view text) {
  size_t from = 0;
  while (true) {
    size_t at = text.find(kFunctionClose, from);
    if (at == npos) return npos;
    size_t rest = SkipPythonSpace(text, at + kFunctionClose.size());
    if (rest == text.size() || StartsWith(text, rest, kToolCallClose)) return at;
    from = at + kFunctionClose.size();
  }
}

// The `</parameter>` that really ends a value: one followed by `<parameter=` of a declared name (any name when
// `valid` is null), `</function>`, `</tool_call>` or (unless `require_lookahead`) end of text. Line-initial
// `<parameter=` ... `</parameter>` pairs inside the value are skipped whatever their name.
size_t FindTrueParamEnd(std::string_view value, const NameSet* valid, bool require_lookahead) {
  int depth = 0;
  size_t pos = 0;
  // The next structural open from `pos` stays valid while pos has not passed it, which keeps a value with many
  // literal `</parameter>` linear.
  size_t open_cache = npos;
  size_t open_cache_from = npos;
  while (pos < value.size()) {
    size_t next_open;
    if (open_cache_from != npos && pos >= open_cache_from && (open_cache == npos || open_cache >= pos)) {
      next_open = open_cache;
    } else {
      next_open = NextStructuralParamStart(value, pos, nullptr);
      open_cache = next_open;
      open_cache_from = pos;
    }
    size_t next_close = value.find(kParameterClose, pos);
    if (next_close == npos) return npos;
    if (next_open != npos && next_open < next_close) {
      ++depth;
      pos = next_open + kParameterPrefix.size();
    } else if (depth == 0) {
      size_t rest_at = SkipPythonSpace(value, next_close + kParameterClose.size());
      std::string_view rest = value.substr(rest_at);
      bool next_param = false;
      if (StartsWith(rest, 0, kParameterPrefix)) {
        if (valid != nullptr) {
          size_t name_end = rest.find('>', kParameterPrefix.size());
          if (name_end != npos) {
            next_param = valid->count(rest.substr(kParameterPrefix.size(), name_end - kParameterPrefix.size())) != 0;
          }
        } else {
          next_param = true;
        }
      }
      if ((rest.empty() && !require_lookahead) || next_param || StartsWith(rest, 0, kFunctionClose) ||
          StartsWith(rest, 0, kToolCallClose)) {
        return next_close;
      }
      pos = next_close + kParameterClose.size();
    } else {
      --depth;
      pos = next_close + kParameterClose.size();
    }
  }
  return npos;
}

bool IsBodySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Walks a function body parameter by parameter to its structural `</function>`, so that a literal
// `</function>` inside a value is stepped over. A value without a structural `</parameter>` ends at the next
// line-initial `<parameter=` of a declared name not seen yet. npos when the body is incomplete or malformed.
size_t ScanToStructuralFunctionEnd(std::string_view body, const NameSet* valid) {
  size_t pos = 0;
  const size_t n = body.size();
  NameSet seen;
  while (pos < n) {
    while (pos < n && IsBodySpace(body[pos])) ++pos;
    if (pos >= n) return npos;
    if (StartsWith(body, pos, kFunctionClose)) return pos;
    if (!StartsWith(body, pos, kParameterPrefix)) {
      size_t rest = FindTrueFunctionEnd(body.substr(pos));
      return rest != npos ? pos + rest : npos;
    }
    size_t name_end = body.find('>', pos + kParameterPrefix.size());
    if (name_end == npos) return npos;
    std::string_view name = body.substr(pos + kParameterPrefix.size(), name_end - pos - kParameterPrefix.size());
    size_t value_start = name_end + 1;
    if (value_start < n && body[value_start] == '\n') ++value_start;
    size_t end = FindTrueParamEnd(body.substr(value_start), valid, /*require_lookahead=*/true);
    if (end == npos) {
      NameSet unseen;
      const NameSet* filter = nullptr;
      if (valid != nullptr) {
        for (const auto& v : *valid) {
          if (v != name && seen.count(v) == 0) unseen.insert(v);
        }
        filter = &unseen;
      }
      size_t implicit_end = NextStructuralParamStart(body.substr(value_start), 0, filter);
      if (implicit_end == npos) return npos;
      pos = value_start + implicit_end;
      seen.emplace(name);
      continue;
    }
    seen.emplace(name);
    pos = value_start + end + kParameterClose.size();
  }
  return npos;
}

NameSet PropertyNames(const Json* properties) {
  NameSet names;
  if (properties != nullptr) {
    for (const auto& item : properties->items()) names.insert(item.key());
  }
  return names;
}

// The text of one call after `<function=` (name, `>`, body) up to its structural `</function>`.
std::optional<std::string_view> FunctionCallText(std::string_view block, const Json* tools) {
  size_t start = block.find(kFunctionPrefix);
  if (start == npos) return std::nullopt;
  std::string_view after_open = block.substr(start + kFunctionPrefix.size());
  size_t name_end = after_open.find('>');
  NameSet names;
  const NameSet* valid = nullptr;
  size_t body_start = 0;
  if (name_end != npos) {
    names = PropertyNames(FindToolProperties(tools, after_open.substr(0, name_end)));
    if (!names.empty()) valid = &names;
    body_start = name_end + 1;
  }
  size_t scan_end = ScanToStructuralFunctionEnd(after_open.substr(body_start), valid);
  if (scan_end != npos) return after_open.substr(0, body_start + scan_end);
  size_t end = FindTrueFunctionEnd(after_open);
  return end == npos ? after_open : after_open.substr(0, end);
}

bool IsValidFunctionName(std::string_view name) {
  if (name.empty()) return false;
  return name.find_first_of(std::string_view("{}<>\"' \t\n\r", 11)) == npos;
}

BlockParse ParseFunctionCall(std::string_view text, const Json* tools, ToolCall* call) {
  size_t end = text.find('>');
  if (end == npos) return BlockParse::kNoCall;
  std::string_view name = text.substr(0, end);
  if (!IsValidFunctionName(name)) return BlockParse::kNoCall;
  const Json* properties = FindToolProperties(tools, name);
  NameSet names = PropertyNames(properties);
  const NameSet* valid = names.empty() ? nullptr : &names;
  std::string_view params = text.substr(end + 1);
  Json args = Json::object();
  size_t pos = 0;
  while (true) {
    size_t start = NextStructuralParamStart(params, pos, nullptr);
    if (start == npos) break;
    size_t name_begin = start + kParameterPrefix.size();
    size_t name_end = params.find('>', name_begin);
    if (name_end == npos) break;
    std::string_view param_name = params.substr(name_begin, name_end - name_begin);
    std::string_view value_text = params.substr(name_end + 1);
    std::string_view value;
    size_t close = FindTrueParamEnd(value_text, valid, /*require_lookahead=*/false);
    if (close == npos) {
      // No structural `</parameter>`: the next declared parameter, else `</function>`, else the end.
      size_t next = NextStructuralParamStart(value_text, 0, valid);
      if (next != npos) {
        value = value_text.substr(0, next);
        pos = name_end + 1 + next;
      } else {
        size_t fn_end = FindTrueFunctionEnd(value_text);
        value = fn_end != npos ? value_text.substr(0, fn_end) : value_text;
        pos = params.size();
      }
    } else {
      value = value_text.substr(0, close);
      pos = name_end + 1 + close + kParameterClose.size();
    }
    if (!value.empty() && value.front() == '\n') value.remove_prefix(1);
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    Json converted;
    if (!ConvertParameter(value, param_name, properties, &converted)) return BlockParse::kAbort;
    args[std::string(param_name)] = std::move(converted);
  }
  call->name = std::string(name);
  call->arguments = std::move(args);
  return BlockParse::kCall;
}

// The type name a schema gives, as vLLM compares it: str(type).strip().lower(). Non-string types print as
// something ("['string', 'null']", "None", "5") that matches none of the names below.
std::string SchemaTypeName(const Json& type) {
  if (!type.is_string()) return "\x01";
  return LowerAscii(PythonStrip(type.get_ref<const std::string&>()));
}

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Digits of Python's int()/float() with optional single underscores between digits.
bool ScanDigits(std::string_view s, size_t* pos, std::string* out) {
  bool need_digit = true;
  size_t start = *pos;
  while (*pos < s.size()) {
    char c = s[*pos];
    if (c >= '0' && c <= '9') {
      out->push_back(c);
      need_digit = false;
    } else if (c == '_' && !need_digit) {
      need_digit = true;
    } else {
      break;
    }
    ++*pos;
  }
  return *pos > start && !need_digit;
}

}  // namespace

bool FunctionOpensAt(std::string_view text, size_t after) {
  size_t at = SkipPythonSpace(text, after);
  if (!StartsWith(text, at, "<function")) return false;
  size_t next = at + 9;
  if (next < text.size() && text[next] == '=') return true;
  size_t len;
  return IsPythonSpaceAt(text, next, &len);
}

std::vector<std::string_view> ToolCallBlocks(std::string_view content) {
  std::vector<std::string_view> blocks;
  size_t from = 0;
  while (true) {
    size_t open = content.find(kToolCallOpen, from);
    if (open == npos) break;
    std::string_view after_open = content.substr(open + kToolCallOpen.size());
    size_t end = npos;
    size_t inner = 0;
    while (true) {
      size_t at = after_open.find(kToolCallClose, inner);
      if (at == npos) break;
      size_t rest = SkipPythonSpace(after_open, at + kToolCallClose.size());
      if (rest == after_open.size() || StartsWith(after_open, rest, kToolCallOpen)) {
        end = at;
        break;
      }
      inner = at + kToolCallClose.size();
    }
    if (end == npos) {
      blocks.push_back(after_open);
      break;
    }
    blocks.push_back(after_open.substr(0, end));
    from = open + kToolCallOpen.size() + end + kToolCallClose.size();
  }
  if (blocks.empty()) blocks.push_back(content);
  return blocks;
}

BlockParse ParseToolCallBlock(std::string_view block, const nlohmann::ordered_json* tools, ToolCall* call) {
  std::optional<std::string_view> text = FunctionCallText(block, tools);
  if (!text) return BlockParse::kNoCall;
  return ParseFunctionCall(*text, tools, call);
}

const nlohmann::ordered_json* FindToolProperties(const nlohmann::ordered_json* tools, std::string_view name) {
  if (tools == nullptr || !tools->is_array()) return nullptr;
  for (const auto& tool : *tools) {
    if (!tool.is_object()) continue;
    const Json* fn = &tool;
    auto f = tool.find("function");
    if (f != tool.end() && f->is_object()) fn = &*f;
    auto n = fn->find("name");
    if (n == fn->end() || !n->is_string() || n->get_ref<const std::string&>() != name) continue;
    auto params = fn->find("parameters");
    if (params == fn->end() || !params->is_object()) return nullptr;
    auto props = params->find("properties");
    if (props == params->end() || !props->is_object()) return nullptr;
    return &*props;
  }
  return nullptr;
}

std::optional<nlohmann::ordered_json> PythonInt(std::string_view text) {
  std::string_view s = PythonStrip(text);
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) negative = s[pos++] == '-';
  std::string digits;
  if (!ScanDigits(s, &pos, &digits) || pos != s.size()) return std::nullopt;
  if (digits.size() > 4300) return std::nullopt;  // Python's int max str digits
  size_t nz = digits.find_first_not_of('0');
  std::string_view trimmed = nz == npos ? std::string_view("0") : std::string_view(digits).substr(nz);
  return IntFromDigits(trimmed, negative);
}

std::optional<double> PythonFloat(std::string_view text) {
  std::string_view s = PythonStrip(text);
  size_t pos = 0;
  bool negative = false;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) negative = s[pos++] == '-';
  std::string rest = LowerAscii(s.substr(pos));
  if (rest == "inf" || rest == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (rest == "nan") return std::numeric_limits<double>::quiet_NaN();
  std::string clean;
  bool mantissa_digits = false;
  if (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (!ScanDigits(s, &pos, &clean)) return std::nullopt;
    mantissa_digits = true;
  }
  if (pos < s.size() && s[pos] == '.') {
    clean.push_back('.');
    ++pos;
    if (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (!ScanDigits(s, &pos, &clean)) return std::nullopt;
      mantissa_digits = true;
    }
  }
  if (!mantissa_digits) return std::nullopt;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    clean.push_back('e');
    ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) clean.push_back(s[pos++]);
    if (!ScanDigits(s, &pos, &clean)) return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  double d = 0;
  auto r = std::from_chars(clean.data(), clean.data() + clean.size(), d);
  if (r.ec == std::errc::result_out_of_range) {
    d = clean.find("e-") != std::string::npos ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (r.ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -d : d;
}

bool ConvertParameter(std::string_view value, std::string_view name, const nlohmann::ordered_json* properties,
                      nlohmann::ordered_json* out) {
  if (properties == nullptr) {
    *out = std::string(value);
    return true;
  }
  auto found = properties->find(std::string(name));
  if (found == properties->end()) {
    *out = std::string(value);
    return true;
  }
  const Json& schema = *found;
  std::string type = "string";
  bool allows_null = false;
  if (schema.is_object() && schema.contains("type")) {
    type = SchemaTypeName(schema["type"]);
    allows_null = type == "null";
  } else if (schema.is_object() && schema.contains("anyOf")) {
    const Json& any_of = schema["anyOf"];
    // Python iterates anyOf; a number, bool or null there raises TypeError and vLLM drops every call.
    if (any_of.is_number() || any_of.is_boolean() || any_of.is_null()) return false;
    bool picked = false;
    if (any_of.is_array()) {
      for (const auto& option : any_of) {
        if (!option.is_object() || !option.contains("type")) continue;
        std::string option_type = SchemaTypeName(option["type"]);
        if (option_type == "null") {
          allows_null = true;
        } else if (!picked) {
          type = option_type;
          picked = true;
        }
      }
    }
  }
  std::string lower = LowerAscii(value);
  bool null_word = lower == "null" || lower == "none";
  if (allows_null && null_word) {
    *out = nullptr;
    return true;
  }
  if (type == "string" || type == "str" || type == "text" || type == "varchar" || type == "char" || type == "enum") {
    *out = std::string(value);
    return true;
  }
  if (null_word) {
    *out = nullptr;
    return true;
  }
  if (HasPrefix(type, "int") || HasPrefix(type, "uint") || HasPrefix(type, "long") || HasPrefix(type, "short") ||
      HasPrefix(type, "unsigned")) {
    std::optional<Json> i = PythonInt(value);
    *out = i ? std::move(*i) : Json(std::string(value));
    return true;
  }
  if (HasPrefix(type, "num") || HasPrefix(type, "float")) {
    std::optional<double> f = PythonFloat(value);
    if (!f || std::isnan(*f)) {  // int(nan) raises ValueError: the raw text is kept
      *out = std::string(value);
      return true;
    }
    if (std::isinf(*f)) return false;  // int(inf) raises OverflowError, which vLLM does not catch
    double d = *f;
    if (d != std::trunc(d)) {
      *out = d;
    } else if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
      *out = static_cast<int64_t>(d);
    } else if (d >= 0 && d < 18446744073709551616.0) {
      *out = static_cast<uint64_t>(d);
    } else {
      *out = d;  // an integral value beyond 64 bits stays a double (Python would print every digit)
    }
    return true;
  }
  if (type == "boolean" || type == "bool" || type == "binary") {
    *out = lower == "true";
    return true;
  }
  bool container = type == "object" || type == "array" || type == "arr" || HasPrefix(type, "dict") ||
                   HasPrefix(type, "list");
  if (container) {
    Json parsed;
    if (ParsePythonJson(value, &parsed)) {
      if (parsed.is_string()) {  // a JSON-encoded Python repr such as "{'k': 'v'}"
        LiteralResult again = ParsePythonLiteral(parsed.get_ref<const std::string&>());
        if (again.status == LiteralStatus::kNotJson) return false;
        if (again.status == LiteralStatus::kOk) parsed = std::move(again.value);
      }
      *out = std::move(parsed);
      return true;
    }
  }
  LiteralResult literal = ParsePythonLiteral(value);
  if (literal.status == LiteralStatus::kNotJson) return false;
  if (literal.status == LiteralStatus::kInvalid) {
    *out = std::string(value);
    return true;
  }
  if (container && literal.value.is_string()) {
    LiteralResult again = ParsePythonLiteral(literal.value.get_ref<const std::string&>());
    if (again.status == LiteralStatus::kNotJson) return false;
    if (again.status == LiteralStatus::kOk) literal.value = std::move(again.value);
  }
  *out = std::move(literal.value);
  return true;
}

}  // namespace detail

namespace {

using detail::kToolCallOpen;
using detail::kToolCallClose;
using detail::kFunctionPrefix;
constexpr size_t npos = std::string_view::npos;

bool HasTools(const nlohmann::ordered_json* tools) { return tools != nullptr && tools->is_array() && !tools->empty(); }

// Where the content ends when calls were found: the first `<tool_call>` whose block (up to the next
// `</tool_call>`, structural or not) holds a `<function=`, else the first `<function=` anywhere.
size_t ContentEnd(std::string_view content) {
  size_t from = 0;
  while (true) {
    size_t open = content.find(kToolCallOpen, from);
    if (open == npos) break;
    size_t close = content.find(kToolCallClose, open + kToolCallOpen.size());
    size_t limit = close != npos ? close : content.size();
    if (content.substr(0, limit).find(kFunctionPrefix, open + kToolCallOpen.size()) != npos) return open;
    from = close != npos ? close + kToolCallClose.size() : limit;
  }
  return content.find(kFunctionPrefix);
}

}  // namespace

ParsedOutput ParseModelOutput(std::string_view model_output, const ParseOptions& options) {
  ParsedOutput out;
  // Rule 1: reasoning split.
  std::string_view text = model_output;
  if (size_t open = text.find(detail::kThinkOpen); open != npos) text = text.substr(open + detail::kThinkOpen.size());
  if (size_t close = text.find(detail::kThinkClose); close != npos) {
    out.reasoning = std::string(text.substr(0, close));
    std::string_view rest = text.substr(close + detail::kThinkClose.size());
    if (!rest.empty()) out.content = std::string(rest);
  } else if (!options.thinking_enabled) {
    out.content = std::string(text);
  } else {
    size_t tool_call = text.find(kToolCallOpen);
    if (tool_call != npos && detail::FunctionOpensAt(text, tool_call + kToolCallOpen.size())) {
      if (tool_call > 0) out.reasoning = std::string(text.substr(0, tool_call));
      out.content = std::string(text.substr(tool_call));
    } else {
      out.reasoning = std::string(text);  // truncated inside the reasoning
    }
  }

  // Rules 2-4: tool calls, only when the request has tools.
  if (!HasTools(options.tools) || !out.content) return out;
  std::string_view content = *out.content;
  if (content.find(kFunctionPrefix) == npos) return out;
  std::vector<ToolCall> calls;
  for (std::string_view block : detail::ToolCallBlocks(content)) {
    ToolCall call;
    switch (detail::ParseToolCallBlock(block, options.tools, &call)) {
      case detail::BlockParse::kCall:
        calls.push_back(std::move(call));
        break;
      case detail::BlockParse::kNoCall:
        break;
      case detail::BlockParse::kAbort:
        return out;  // vLLM's extraction raised: no calls, content untouched
    }
  }
  if (calls.empty()) return out;
  size_t end = ContentEnd(content);
  std::string_view before = end != npos ? content.substr(0, end) : content;
  if (before.empty() || detail::PythonStrip(before).empty()) {
    out.content.reset();
  } else {
    out.content = std::string(before);
  }
  out.tool_calls = std::move(calls);
  return out;
}

nlohmann::ordered_json ToJson(const ParsedOutput& parsed) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["reasoning"] = parsed.reasoning ? nlohmann::ordered_json(*parsed.reasoning) : nlohmann::ordered_json();
  doc["content"] = parsed.content ? nlohmann::ordered_json(*parsed.content) : nlohmann::ordered_json();
  doc["tool_calls"] = nlohmann::ordered_json::array();
  for (const auto& call : parsed.tool_calls) {
    doc["tool_calls"].push_back({{"name", call.name}, {"arguments", call.arguments}});
  }
  return doc;
}

}  // namespace warden::engine
