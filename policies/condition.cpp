// Rule conditions over the request JSON (policy-audit.md A.8.3 "Conditions"): one operator per condition, no type
// coercion, a missing value false for every operator except `exists = false`, regexes matched on the whole string
// by PCRE2 with a match limit (hitting it is an evaluation error, which a deny rule treats as a match).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "policies/policy_internal.h"

namespace warden::policy::detail {

struct Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

// Caps backtracking so a hostile subject cannot stall the gate.
constexpr uint32_t kMatchLimit = 100000;
constexpr uint32_t kDepthLimit = 1000;

enum class Kind { kMissing, kNull, kBool, kInt, kFloat, kString, kArray, kObject, kOverflow };

Kind KindOf(const nlohmann::json* v) {
  if (v == nullptr) return Kind::kMissing;
  switch (v->type()) {
    case nlohmann::json::value_t::null: return Kind::kNull;
    case nlohmann::json::value_t::boolean: return Kind::kBool;
    case nlohmann::json::value_t::number_integer: return Kind::kInt;
    case nlohmann::json::value_t::number_unsigned:
      return v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? Kind::kOverflow
                                                                                              : Kind::kInt;
    case nlohmann::json::value_t::number_float: return Kind::kFloat;
    case nlohmann::json::value_t::string: return Kind::kString;
    case nlohmann::json::value_t::array: return Kind::kArray;
    case nlohmann::json::value_t::object: return Kind::kObject;
    default: return Kind::kOverflow;
  }
}

bool SameKindEqual(const nlohmann::json& a, const nlohmann::json& b, bool* kinds_match) {
  const Kind ka = KindOf(&a), kb = KindOf(&b);
  *kinds_match = ka == kb && ka != Kind::kOverflow;
  if (!*kinds_match) return false;
  if (ka == Kind::kInt) return a.get<int64_t>() == b.get<int64_t>();
  return a == b;
}

// -1, 0, 1; or nullopt when the two cannot be compared without coercion (int64 overflow and floats against
// integer bounds count as mismatches).
std::optional<int> Compare(const nlohmann::json& v, const nlohmann::json& bound) {
  const Kind kv = KindOf(&v), kb = KindOf(&bound);
  if (kv == Kind::kInt && kb == Kind::kInt) {
    const auto a = v.get<int64_t>(), b = bound.get<int64_t>();
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  if (kb == Kind::kFloat && (kv == Kind::kInt || kv == Kind::kFloat)) {
    const double a = v.get<double>(), b = bound.get<double>();
    if (std::isnan(a)) return std::nullopt;
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  return std::nullopt;
}

CondResult Mismatch(std::string* note) {
  *note = "type_mismatch";
  return CondResult::kFalse;
}

std::string_view TypeName(Kind k) {
  switch (k) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "boolean";
    case Kind::kInt: return "integer";
    case Kind::kFloat: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
    default: return "";
  }
}

}  // namespace

std::shared_ptr<const Regex> CompileRegex(const std::string& pattern, std::string* error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_BACKSLASH_C, &code, &offset, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    *error = "invalid regex at offset " + std::to_string(offset) + ": " + reinterpret_cast<const char*>(buf);
    return nullptr;
  }
  auto r = std::make_shared<Regex>();
  r->code = re;
  return r;
}

CondResult RegexFullMatch(const Regex& re, std::string_view subject, std::string* error) {
  // One match-data block and context per thread: evaluations run concurrently and allocation would dominate.
  struct Scratch {
    pcre2_match_data* md = pcre2_match_data_create(32, nullptr);
    pcre2_match_context* mc = pcre2_match_context_create(nullptr);
    Scratch() {
      pcre2_set_match_limit(mc, kMatchLimit);
      pcre2_set_depth_limit(mc, kDepthLimit);
    }
    ~Scratch() {
      pcre2_match_data_free(md);
      pcre2_match_context_free(mc);
    }
  };
  thread_local Scratch s;
  const int rc = pcre2_match(re.code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, s.md, s.mc);
  if (rc >= 0) return CondResult::kTrue;
  if (rc == PCRE2_ERROR_NOMATCH) return CondResult::kFalse;
  PCRE2_UCHAR buf[128];
  pcre2_get_error_message(rc, buf, sizeof buf);
  *error = std::string("regex evaluation failed: ") + reinterpret_cast<const char*>(buf);
  return CondResult::kError;
}

void CompileValue(Condition* c) {
  c->all_strings = false;
  c->strings.clear();
  switch (c->op) {
    case Op::kEquals:
    case Op::kNotEquals:
      if (c->value.is_string()) {
        c->all_strings = true;
        c->strings.push_back(c->value.get<std::string>());
      }
      break;
    case Op::kIn:
    case Op::kNotIn:
      if (c->value.is_array() && !c->value.empty() &&
          std::all_of(c->value.begin(), c->value.end(), [](const nlohmann::json& e) { return e.is_string(); })) {
        c->all_strings = true;
        for (const auto& e : c->value) c->strings.push_back(e.get<std::string>());
      }
      break;
    case Op::kBetween:
      if (c->value.is_array() && c->value.size() == 2) {
        c->lo = c->value[0];
        c->hi = c->value[1];
      }
      break;
    default: break;
  }
}

CondResult EvalCondition(const Condition& c, const nlohmann::json& request, std::string* note, std::string* error) {
  const nlohmann::json* v = Lookup(request, c.path);
  if (c.op == Op::kExists) return (v != nullptr) == c.value.get<bool>() ? CondResult::kTrue : CondResult::kFalse;
  if (v == nullptr) {
    *note = "missing";
    return CondResult::kFalse;
  }
  bool kinds = false;
  if (c.all_strings) {
    // Same answers as the general cases below (no coercion: a non-string subject is a type mismatch).
    if (!v->is_string()) return Mismatch(note);
    const auto& s = v->get_ref<const std::string&>();
    const bool found = std::find(c.strings.begin(), c.strings.end(), s) != c.strings.end();
    const bool positive = c.op == Op::kEquals || c.op == Op::kIn;
    return found == positive ? CondResult::kTrue : CondResult::kFalse;
  }
  switch (c.op) {
    case Op::kEquals:
    case Op::kNotEquals: {
      const bool eq = SameKindEqual(*v, c.value, &kinds);
      if (!kinds) return Mismatch(note);
      return eq == (c.op == Op::kEquals) ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kIn:
    case Op::kNotIn: {
      bool any_kind = false, found = false;
      for (const auto& e : c.value) {
        found = SameKindEqual(*v, e, &kinds) || found;
        any_kind = any_kind || kinds;
      }
      if (!any_kind) return Mismatch(note);
      return found == (c.op == Op::kIn) ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kPrefix:
    case Op::kSuffix:
    case Op::kGlob:
    case Op::kRegex: {
      if (!v->is_string()) return Mismatch(note);
      const auto& s = v->get_ref<const std::string&>();
      if (c.op == Op::kRegex) return RegexFullMatch(*c.regex, s, error);
      const auto& p = c.value.get_ref<const std::string&>();
      bool ok = false;
      if (c.op == Op::kPrefix) ok = s.compare(0, p.size(), p) == 0 && s.size() >= p.size();
      if (c.op == Op::kSuffix) ok = s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
      if (c.op == Op::kGlob) ok = NameGlobMatch(p, s);
      return ok ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kContains: {
      if (v->is_array()) {
        bool any_kind = false;
        for (const auto& e : *v) {
          if (SameKindEqual(e, c.value, &kinds)) return CondResult::kTrue;
          any_kind = any_kind || kinds;
        }
        return v->empty() || any_kind ? CondResult::kFalse : Mismatch(note);
      }
      if (v->is_string() && c.value.is_string()) {
        return v->get_ref<const std::string&>().find(c.value.get_ref<const std::string&>()) != std::string::npos
                   ? CondResult::kTrue
                   : CondResult::kFalse;
      }
      return Mismatch(note);
    }
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte: {
      auto cmp = Compare(*v, c.value);
      if (!cmp) return Mismatch(note);
      const bool ok = c.op == Op::kLt    ? *cmp < 0
                      : c.op == Op::kLte ? *cmp <= 0
                      : c.op == Op::kGt  ? *cmp > 0
                                         : *cmp >= 0;
      return ok ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kBetween: {
      const bool inline_bounds = !c.lo.is_null();
      auto lo = Compare(*v, inline_bounds ? c.lo : c.value[0]), hi = Compare(*v, inline_bounds ? c.hi : c.value[1]);
      if (!lo || !hi) return Mismatch(note);
      return *lo >= 0 && *hi <= 0 ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kLenLte: {
      size_t n = 0;
      if (v->is_string()) {
        n = v->get_ref<const std::string&>().size();
      } else if (v->is_array() || v->is_object()) {
        n = v->size();
      } else {
        return Mismatch(note);
      }
      return static_cast<int64_t>(n) <= c.value.get<int64_t>() ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kType: {
      const auto want = c.value.get<std::string>();
      const Kind k = KindOf(v);
      const bool ok = TypeName(k) == want || (want == "number" && k == Kind::kInt);
      return ok ? CondResult::kTrue : CondResult::kFalse;
    }
    case Op::kExists: break;
  }
  return CondResult::kFalse;
}

}  // namespace warden::policy::detail
