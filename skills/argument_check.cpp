// JSON Schema subset validation of a skill call's arguments (docs/skills.md, "Calling convention"). Lengths count
// Unicode code points as the JSON Schema spec says, and `pattern` is an unanchored ECMA-style search, compiled with
// PCRE2 in UTF mode so a pattern means the same thing here as in the tools that wrote the schema.
#include "skills/skills.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

namespace warden::skills {
namespace {

using nlohmann::json;

std::string TypeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number_float()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool HasType(const json& v, const std::string& type) {
  if (type == "integer") {
    if (v.is_number_integer() || v.is_number_unsigned()) return true;
    // 3.0 is an integer in JSON Schema: the value, not the spelling, decides.
    return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
  }
  if (type == "number") return v.is_number();
  return TypeName(v) == type;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Status Fail(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

Result<bool> PatternMatches(const std::string& pattern, const std::string& text, const std::string& path) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code(
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &error,
                    &offset, nullptr),
      &pcre2_code_free);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    return Fail(path, "the schema's pattern \"" + pattern + "\" does not compile at offset " + std::to_string(offset) +
                          ": " + reinterpret_cast<const char*>(message));
  }
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(code.get(), nullptr), &pcre2_match_data_free);
  int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match.get(), nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) return Fail(path, "cannot match the schema's pattern (PCRE2 error " + std::to_string(rc) + ")");
  return true;
}

Status Check(const json& schema, json& value, const std::string& path, int depth) {
  if (depth > 64) return Fail(path, "arguments nest deeper than 64 levels");
  if (!schema.is_object()) return Status::Ok();  // `true`/`{}`-like schemas accept anything
  if (auto t = schema.find("type"); t != schema.end()) {
    bool ok = false;
    std::string wanted;
    if (t->is_string()) {
      ok = HasType(value, t->get<std::string>());
      wanted = t->get<std::string>();
    } else if (t->is_array()) {
      for (const auto& one : *t) {
        if (!one.is_string()) continue;
        ok = ok || HasType(value, one.get<std::string>());
        wanted += (wanted.empty() ? "" : " or ") + one.get<std::string>();
      }
    }
    if (!ok) return Fail(path, "expected " + wanted + ", got " + TypeName(value));
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    bool found = false;
    for (const auto& option : *e) found = found || option == value;
    if (!found) return Fail(path, "expected one of " + e->dump() + ", got " + value.dump());
  }
  if (value.is_number()) {
    double x = value.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && m->is_number() && x < m->get<double>())
      return Fail(path, "must be at least " + m->dump() + ", got " + value.dump());
    if (auto m = schema.find("maximum"); m != schema.end() && m->is_number() && x > m->get<double>())
      return Fail(path, "must be at most " + m->dump() + ", got " + value.dump());
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    size_t n = CodePoints(s);
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number_integer() && static_cast<int64_t>(n) < m->get<int64_t>())
      return Fail(path, "must be at least " + m->dump() + " characters long, got " + std::to_string(n));
    if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number_integer() && static_cast<int64_t>(n) > m->get<int64_t>())
      return Fail(path, "must be at most " + m->dump() + " characters long, got " + std::to_string(n));
    if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
      WARDEN_ASSIGN_OR_RETURN(bool matched, PatternMatches(p->get<std::string>(), s, path));
      if (!matched) return Fail(path, "does not match the pattern " + p->dump());
    }
  }
  if (value.is_array()) {
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < value.size(); ++i)
        WARDEN_RETURN_IF_ERROR(Check(*items, value[i], path + "[" + std::to_string(i) + "]", depth + 1));
    }
  }
  if (value.is_object()) {
    const json* properties = nullptr;
    if (auto p = schema.find("properties"); p != schema.end() && p->is_object()) properties = &*p;
    if (auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const auto& name : *r) {
        if (!name.is_string()) continue;
        const auto& key = name.get_ref<const std::string&>();
        bool has_default = properties && properties->contains(key) && (*properties)[key].is_object() &&
                           (*properties)[key].contains("default");
        if (!value.contains(key) && !has_default) return Fail(path, "missing required property \"" + key + "\"");
      }
    }
    if (properties) {
      for (const auto& [key, sub] : properties->items()) {
        if (!value.contains(key)) {
          if (sub.is_object() && sub.contains("default")) value[key] = sub["default"];
          else continue;
        }
        WARDEN_RETURN_IF_ERROR(Check(sub, value[key], path + "." + key, depth + 1));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> CheckArguments(const nlohmann::json& schema, const nlohmann::json& args) {
  json copy = args;
  WARDEN_RETURN_IF_ERROR(Check(schema, copy, "$", 0));
  return copy;
}

}  // namespace warden::skills
