// PolicySet::Explain — the per-rule, per-condition trace `warden policy eval --explain` shows reviewers
// (policy-audit.md A.6 "explain the decision", A.8.5 dry-run): the decision Evaluate() makes, then every rule of the
// request's action in id order with what became of it: the first scope key that failed and how, or each condition
// with its operator, expected and actual value and result. It walks every rule (not the index) and builds strings,
// so it is for the CLI, never for the gate.
#include <algorithm>

#include "policies/policy_internal.h"

namespace warden::policy {

using detail::CondResult;
using detail::Op;
using detail::Rule;

namespace {

const char* OpName(Op op) {
  switch (op) {
    case Op::kEquals:
      return "equals";
    case Op::kNotEquals:
      return "not_equals";
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "not_in";
    case Op::kPrefix:
      return "prefix";
    case Op::kSuffix:
      return "suffix";
    case Op::kGlob:
      return "glob";
    case Op::kRegex:
      return "regex";
    case Op::kContains:
      return "contains";
    case Op::kLt:
      return "lt";
    case Op::kLte:
      return "lte";
    case Op::kGt:
      return "gt";
    case Op::kGte:
      return "gte";
    case Op::kBetween:
      return "between";
    case Op::kExists:
      return "exists";
    case Op::kLenLte:
      return "len_lte";
    case Op::kType:
      return "type";
  }
  return "?";
}

const char* ResultName(CondResult r) {
  return r == CondResult::kTrue ? "true" : (r == CondResult::kFalse ? "false" : "error");
}

// Long values (a whole argv, a file's content) are cut: the trace is for reading.
nlohmann::json Shown(const nlohmann::json& v) {
  constexpr size_t kMax = 200;
  const std::string text = v.dump();
  if (text.size() <= kMax) return v;
  return text.substr(0, kMax) + "... (" + std::to_string(text.size()) + " bytes)";
}

struct ListResult {
  bool any_true = false, any_false = false, any_error = false;
};

// Evaluates every condition of one list (unlike the gate, which stops early) and records each.
ListResult Trace(const char* list, const std::vector<detail::Condition>& conds, const nlohmann::json& request,
                 nlohmann::json* out) {
  ListResult lr;
  for (size_t i = 0; i < conds.size(); ++i) {
    const auto& c = conds[i];
    std::string note, error;
    const CondResult res = detail::EvalCondition(c, request, &note, &error);
    lr.any_true = lr.any_true || res == CondResult::kTrue;
    lr.any_false = lr.any_false || res == CondResult::kFalse;
    lr.any_error = lr.any_error || res == CondResult::kError;
    nlohmann::json e{{"list", std::string(list) + "[" + std::to_string(i) + "]"},
                     {"path", c.path_text},
                     {"op", OpName(c.op)},
                     {"expected", c.value},
                     {"result", ResultName(res)}};
    if (const auto* v = detail::Lookup(request, c.path)) e["actual"] = Shown(*v);
    if (!note.empty()) e["note"] = note;
    if (!error.empty()) e["error"] = error;
    out->push_back(std::move(e));
  }
  return lr;
}

}  // namespace

nlohmann::json PolicySet::Explain(const nlohmann::json& request) const {
  const auto& im = *impl_;
  const Decision decision = Evaluate(request);
  nlohmann::json doc{{"decision", ToJson(decision)}, {"rules", nlohmann::json::array()}};
  detail::Request q;
  if (!detail::Normalize(request, im.options, &q).empty()) return doc;  // invalid: no rule was consulted
  doc["action"] = detail::kActions[static_cast<size_t>(q.action)];
  for (const auto& ref : decision.determining) {
    if (ref.file == "<built-in>") doc["builtin"] = ref.rule;  // decided before any rule was consulted
  }
  for (const Rule* r : im.rules) {
    if ((r->actions & (1u << q.action)) == 0) continue;
    nlohmann::json e{{"rule", r->id},
                     {"file", r->file},
                     {"line", r->line},
                     {"effect", EffectName(r->effect)},
                     {"mode", r->shadow ? "shadow" : "enforce"}};
    std::string why;
    if (r->tenant != "*" && r->tenant != q.tenant) {
      e["result"] = "not_matched";
      e["why"] = "the rule's file is for tenant \"" + r->tenant + "\", the request's tenant is \"" + q.tenant + "\"";
    } else if (!detail::ScopeMatches(*r, q, im.group_members, &why)) {
      e["result"] = "not_matched";
      e["why"] = why;
    } else {
      // The combination of the gate's ConditionsHold: every `when`, at least one `when_any` (unless an error
      // leaves it open), no `unless`; an error makes a deny rule match (fail closed) and an allow or ask rule not.
      nlohmann::json conds = nlohmann::json::array();
      const ListResult w = Trace("when", r->when, q.json, &conds);
      const ListResult a = Trace("when_any", r->when_any, q.json, &conds);
      const ListResult u = Trace("unless", r->unless, q.json, &conds);
      std::string result = "matched";
      if (w.any_false) {
        why = "a `when` condition is false";
        result = "not_matched";
      } else if (!r->when_any.empty() && !a.any_true && !w.any_error && !a.any_error) {
        why = "no `when_any` condition is true";
        result = "not_matched";
      } else if (u.any_true) {
        why = "an `unless` condition is true";
        result = "not_matched";
      } else if (w.any_error || a.any_error || u.any_error) {
        const bool deny = r->effect == Effect::kDeny;
        why = deny ? "a condition could not be evaluated: a deny rule then matches (fail closed)"
                   : "a condition could not be evaluated: an allow or ask rule then does not match";
        result = deny ? "matched" : "not_matched";
        e["error"] = true;
      }
      e["result"] = result;
      if (!why.empty()) e["why"] = why;
      if (!conds.empty()) e["conditions"] = std::move(conds);
    }
    doc["rules"].push_back(std::move(e));
  }
  return doc;
}

}  // namespace warden::policy
