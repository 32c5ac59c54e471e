// PolicySet::Evaluate — the combining algorithm of policy-audit.md A.8.4: normalise; built-in guardrail; collect the
// matching enforce-mode rules of the request's tenant from the index; any deny -> deny; no allow or ask -> default
// deny; limits; any ask -> ask; else allow. Results are sorted by rule id so file and rule order never show. An
// evaluation error in a deny rule counts as a match (fail closed); in an allow or ask rule as no match.
#include <algorithm>

#include "policies/policy_internal.h"

namespace warden::policy {

using detail::CondResult;
using detail::Rule;

namespace {

constexpr const char* kBuiltinRule = "builtin-protected-paths";

}  // namespace

namespace detail {

bool AnyGlob(const std::vector<std::string>& globs, std::string_view name) {
  if (name.empty()) return false;
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return NameGlobMatch(g, name); });
}

}  // namespace detail

namespace {

using detail::AnyGlob;

// Writes why a scope key failed into `why`. Callers write `why != nullptr && Fail(...)` so that the hot path, which
// passes nullptr, never builds the text.
bool Fail(std::string* why, const std::string_view key, const std::string& detail_text) {
  if (why != nullptr) *why = std::string(key) + ": " + detail_text;
  return false;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

template <typename List, typename Text>
std::string Listed(const List& list, Text text) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : ", ") + Quoted(text(x));
  return "[" + out + "]";
}

}  // namespace

namespace detail {

bool ScopeMatches(const Rule& r, const Request& q, const GroupMembers& groups, std::string* why) {
  if (r.has_principals) {
    bool ok = false;
    if (!r.principals.empty()) {
      ok = std::any_of(r.principals.begin(), r.principals.end(), [&](const auto& g) { return g.Match(q.principal_segs); });
    }
    for (size_t i = 0; !ok && i < r.groups.size(); ++i) {
      auto it = groups.find(r.groups[i]);
      ok = it != groups.end() && it->second.count(q.principal) != 0;
    }
    if (!ok) {
      if (why == nullptr) return false;
      std::vector<std::string> all;
      for (const auto& g : r.principals) all.push_back(g.text());
      for (const auto& g : r.groups) all.push_back("group:" + g);
      return why != nullptr && Fail(why, "principals",
                                    Quoted(q.principal) + " is not in " + Listed(all, [](const auto& x) { return x; }));
    }
  }
  auto names = [&](const char* key, const std::vector<std::string>& globs, const std::string& name) {
    if (globs.empty() || AnyGlob(globs, name)) return true;
    return why != nullptr &&
           Fail(why, key,
                (name.empty() ? std::string("the request has none") : Quoted(name) + " matches none of") +
                    (name.empty() ? "" : " " + Listed(globs, [](const auto& x) { return x; })));
  };
  if (!names("skills", r.skills, q.skill)) return false;
  if (!r.skill_tags.empty() &&
      std::none_of(q.tags.begin(), q.tags.end(), [&](const std::string& t) { return AnyGlob(r.skill_tags, t); })) {
    return why != nullptr && Fail(why, "skill_tags",
                                  "the skill's tags " + Listed(q.tags, [](const auto& x) { return x; }) +
                                      " include none of " + Listed(r.skill_tags, [](const auto& x) { return x; }));
  }
  if (!names("tools", r.tools, q.tool)) return false;
  if (!names("models", r.models, q.model)) return false;
  if (!r.paths.empty()) {
    if (!q.has_path) return why != nullptr && Fail(why, "paths", "the request has no path");
    if (std::none_of(r.paths.begin(), r.paths.end(),
                     [&](const auto& g) { return g.Match(g.case_insensitive() ? q.segs_lower : q.segs); })) {
      return why != nullptr &&
             Fail(why, "paths", Quoted(q.path) + " matches none of " + Listed(r.paths, [](const auto& g) {
                                  return (g.case_insensitive() ? "(ci) " : "") + g.text();
                                }));
    }
  }
  if (!r.hosts.empty()) {
    if (q.host.empty()) {
      return why != nullptr &&
             Fail(why, "hosts", q.host_is_ip ? "an IP literal is not a host" : "the request has no host");
    }
    if (std::none_of(r.hosts.begin(), r.hosts.end(), [&](const auto& h) { return HostMatch(h, q.host); })) {
      return why != nullptr &&
             Fail(why, "hosts", Quoted(q.host) + " matches none of " + Listed(r.hosts, [](const auto& h) {
                                  return (h.wildcard ? "*" : "") + h.suffix;
                                }));
    }
  }
  if (!r.ports.empty() && std::find(r.ports.begin(), r.ports.end(), q.port) == r.ports.end()) {
    return why != nullptr &&
           Fail(why, "ports",
                (q.port < 0 ? std::string("the request has no port") : "port " + std::to_string(q.port)) +
                    " is not in " + Listed(r.ports, [](int p) { return std::to_string(p); }));
  }
  if (!r.cidrs.empty()) {
    if (!q.ip) return why != nullptr && Fail(why, "cidrs", "the request has no resolved ip");
    if (std::none_of(r.cidrs.begin(), r.cidrs.end(), [&](const auto& c) { return CidrContains(c, *q.ip); })) {
      return why != nullptr &&
             Fail(why, "cidrs",
                  "the request's ip is in none of the rule's " + std::to_string(r.cidrs.size()) + " CIDRs");
    }
  }
  return true;
}

}  // namespace detail

namespace {

// Conditions of a rule whose scope matched. Returns kTrue/kFalse, or kError with `error` set.
CondResult ConditionsHold(const Rule& r, const detail::Request& q, Decision* d, std::string* error) {
  auto note = [&](const detail::Condition& c, const std::string& n) {
    if (!n.empty()) d->notes.push_back({{"rule", r.id}, {"path", c.path_text}, {"note", n}});
  };
  bool errored = false;
  for (const auto& c : r.when) {
    std::string n;
    const auto res = detail::EvalCondition(c, q.json, &n, error);
    if (res == CondResult::kError) errored = true;
    if (res == CondResult::kFalse) return note(c, n), CondResult::kFalse;
  }
  if (!r.when_any.empty()) {
    bool any = false;
    std::vector<std::pair<const detail::Condition*, std::string>> pending;
    for (const auto& c : r.when_any) {
      std::string n;
      const auto res = detail::EvalCondition(c, q.json, &n, error);
      if (res == CondResult::kError) errored = true;
      if (res == CondResult::kTrue) any = true;
      if (res == CondResult::kFalse) pending.emplace_back(&c, n);
    }
    if (!any && !errored) {
      for (const auto& [c, n] : pending) note(*c, n);
      return CondResult::kFalse;
    }
  }
  for (const auto& c : r.unless) {
    std::string n;
    const auto res = detail::EvalCondition(c, q.json, &n, error);
    if (res == CondResult::kError) errored = true;
    if (res == CondResult::kTrue) return CondResult::kFalse;
  }
  return errored ? CondResult::kError : CondResult::kTrue;
}

RuleRef Ref(const Rule& r) { return RuleRef{r.id, r.file, r.line, r.effect, r.reason}; }

std::string ScopeKey(const detail::Limit& l, const detail::Request& q) {
  switch (l.scope) {
    case detail::LimitScope::kTask: return q.task_id.empty() ? "" : "task:" + q.task_id;
    case detail::LimitScope::kPrincipal: return "principal:" + q.principal;
    case detail::LimitScope::kTenant: return "tenant:" + q.tenant;
    case detail::LimitScope::kSkill: return q.skill.empty() ? "" : "skill:" + q.skill;
  }
  return "";
}

// What one request adds to a limit's counter; nullopt when the request does not say (fails closed below).
std::optional<int64_t> Amount(const detail::Limit& l, const nlohmann::json& request) {
  if (l.metric == "calls") return 1;
  const char* field = l.metric == "tokens" ? "est_tokens" : l.metric.c_str();
  const auto* usage = request.contains("usage") ? &request["usage"] : nullptr;
  if (usage == nullptr || !usage->is_object() || !usage->contains(field)) return 0;
  const auto& v = (*usage)[field];
  if (!v.is_number_integer() || v.get<int64_t>() < 0) return std::nullopt;
  return v.get<int64_t>();
}

// Per-thread scratch of Evaluate: its strings and vectors keep their capacity from call to call, so a decision
// allocates little beyond its own result (the normalised request, the rule references).
struct EvalScratch {
  detail::Request q;
  std::vector<const Rule*> matched[3];  // by Effect
};

// Notes and errors are {"rule", ...} objects; ordering them by their fields (not by serialising them) keeps the
// order independent of file and rule order at little cost.
bool JsonFieldsLess(const nlohmann::json& a, const nlohmann::json& b) {
  for (const char* k : {"rule", "path", "note", "error"}) {
    const auto ia = a.find(k), ib = b.find(k);
    const bool ha = ia != a.end(), hb = ib != b.end();
    if (ha != hb) return hb;
    if (!ha) continue;
    if (*ia < *ib) return true;
    if (*ib < *ia) return false;
  }
  return false;
}

}  // namespace

Decision PolicySet::Evaluate(const nlohmann::json& request, Limiter* limiter) const {
  const auto t0 = std::chrono::steady_clock::now();
  Decision d = Evaluate(nlohmann::json(request), limiter);
  if (!d.invalid_request.empty()) d.request = request;  // as given, not half normalised
  d.eval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  return d;
}

Decision PolicySet::Evaluate(nlohmann::json&& request, Limiter* limiter) const {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& im = *impl_;
  Decision d;
  d.policy_set = im.hash;
  auto finish = [&]() -> Decision {
    d.eval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return std::move(d);
  };
  thread_local EvalScratch scratch;
  detail::Request& q = scratch.q;
  if (auto err = detail::Normalize(std::move(request), im.options, &q); !err.empty()) {
    d.effect = Effect::kDeny;
    d.invalid_request = err;
    d.request = std::move(q.json);
    return finish();
  }
  if (q.has_path) {
    for (const auto& p : im.protected_paths) {
      if (q.path == p || (q.path.size() > p.size() && q.path.compare(0, p.size(), p) == 0 &&
                          (p == "/" || q.path[p.size()] == '/'))) {
        d.effect = Effect::kDeny;
        d.determining.push_back({kBuiltinRule, "<built-in>", 0, Effect::kDeny,
                                 "Agents never read or write the policies, the audit trail or its key (" + p + ")"});
        d.request = std::move(q.json);
        return finish();
      }
    }
  }

  // Candidates: the rules indexed under the request's action and its path, host, IP or name (see ActionBucket).
  const auto& bucket = im.index[static_cast<size_t>(q.action)];
  auto& matched = scratch.matched;
  for (auto& m : matched) m.clear();
  auto consider = [&](const std::vector<const Rule*>& list) {
    for (const Rule* r : list) {
      if (r->tenant != "*" && r->tenant != q.tenant) continue;
      if (!detail::ScopeMatches(*r, q, im.group_members)) continue;
      std::string error;
      const auto res = ConditionsHold(*r, q, &d, &error);
      bool hit = res == CondResult::kTrue;
      if (res == CondResult::kError) {
        d.errors.push_back({{"rule", r->id}, {"error", error}});
        hit = r->effect == Effect::kDeny;  // fail closed
      }
      if (!hit) continue;
      if (r->shadow) {
        d.shadow.push_back({{"rule", r->id}, {"would", EffectName(r->effect)}, {"file", r->file}, {"line", r->line}});
      } else {
        matched[static_cast<int>(r->effect)].push_back(r);
      }
    }
  };
  auto lookup = [&](const detail::RuleMap& map, std::string_view key) {
    if (map.empty()) return;
    if (auto it = map.find(key); it != map.end()) consider(it->second);
  };
  consider(bucket.always);
  if (q.has_path && !q.segs.empty()) {
    // The paths are normal ("/a/b/..."), so the first two segments are one view "a/b".
    auto first2 = [](const std::vector<std::string_view>& segs) {
      return std::string_view(segs[0].data(), static_cast<size_t>(segs[1].data() + segs[1].size() - segs[0].data()));
    };
    lookup(bucket.by_first, q.segs[0]);
    lookup(bucket.by_first_ci, q.segs_lower[0]);
    if (q.segs.size() >= 2) {
      lookup(bucket.by_first2, first2(q.segs));
      lookup(bucket.by_first2_ci, first2(q.segs_lower));
    }
    auto ext = [](std::string_view last) {
      const auto dot = last.rfind('.');
      return dot == std::string_view::npos ? std::optional<std::string_view>() : last.substr(dot + 1);
    };
    if (auto e = ext(q.segs.back())) lookup(bucket.by_ext, *e);
    if (auto e = ext(q.segs_lower.back())) lookup(bucket.by_ext_ci, *e);
  }
  if (!q.host.empty()) lookup(bucket.by_domain, detail::DomainKey(q.host));
  if (q.ip && !bucket.by_ip_first.empty()) {
    if (auto it = bucket.by_ip_first.find(static_cast<uint32_t>(q.ip->family) << 8 | q.ip->bytes[0]);
        it != bucket.by_ip_first.end()) {
      consider(it->second);
    }
  }
  const std::string& name = q.action == detail::kModelGenerate                                     ? q.model
                            : (q.action == detail::kSkillSelect || q.action == detail::kSkillExec) ? q.skill
                                                                                                   : q.tool;
  if (!name.empty()) {
    lookup(bucket.by_name, name);
    for (size_t n : bucket.name_prefix_lengths) {
      if (n > name.size()) break;
      lookup(bucket.by_name_prefix, std::string_view(name).substr(0, n));
    }
  }
  auto by_id = [](const Rule* a, const Rule* b) { return a->id < b->id; };
  for (auto& m : matched) std::sort(m.begin(), m.end(), by_id);
  std::sort(d.shadow.begin(), d.shadow.end(), [](const auto& a, const auto& b) { return a["rule"] < b["rule"]; });
  std::sort(d.errors.begin(), d.errors.end(), JsonFieldsLess);
  std::sort(d.notes.begin(), d.notes.end(), JsonFieldsLess);
  d.request = std::move(q.json);
  const auto& deny = matched[static_cast<int>(Effect::kDeny)];
  const auto& ask = matched[static_cast<int>(Effect::kAsk)];
  const auto& allow = matched[static_cast<int>(Effect::kAllow)];

  if (!deny.empty()) {
    d.effect = Effect::kDeny;
    for (const auto* r : deny) d.determining.push_back(Ref(*r));
    for (const auto* r : ask) d.overridden.push_back(r->id);
    for (const auto* r : allow) d.overridden.push_back(r->id);
    std::sort(d.overridden.begin(), d.overridden.end());
    return finish();
  }
  if (ask.empty() && allow.empty()) {
    d.effect = Effect::kDeny;
    d.is_default = true;
    return finish();
  }

  // Limits: checked and charged under one lock so concurrent requests cannot both take the last unit.
  std::vector<RuleRef> limit_deny, limit_ask;
  std::vector<std::pair<std::string, std::pair<int64_t, bool>>> charges;  // key, (amount, windowed)
  std::unique_lock<std::mutex> lock;
  int64_t now = 0;
  if (limiter != nullptr && !im.limits.empty()) {
    lock = std::unique_lock<std::mutex>(limiter->impl_->mu);
    now = limiter->impl_->clock();
  }
  for (const auto* l : im.limits) {
    if (limiter == nullptr) break;
    if ((l->actions & (1u << q.action)) == 0 || (l->tenant != "*" && l->tenant != q.tenant)) continue;
    if (!l->tools.empty() && !AnyGlob(l->tools, q.tool)) continue;
    if (!l->skills.empty() && !AnyGlob(l->skills, q.skill)) continue;
    if (!l->models.empty() && !AnyGlob(l->models, q.model)) continue;
    LimitCheck c{l->id, l->file, l->line, ScopeKey(*l, q), 0, 0, l->max, false, l->on_exceed};
    const auto amount = Amount(*l, d.request);
    const RuleRef ref{l->id, l->file, l->line, l->on_exceed, "limit " + l->metric + " <= " + std::to_string(l->max)};
    if (c.scope_key.empty() || !amount) {
      // The request lacks what the limit counts by: it cannot be shown to be within budget.
      c.exceeded = true;
      d.errors.push_back({{"rule", l->id}, {"error", c.scope_key.empty() ? "request lacks the limit's scope "
                                                                           "(task.id or skill.name)"
                                                                         : "usage value is not a non-negative integer"}});
    } else {
      const std::string key = l->id + "|" + c.scope_key;
      c.used = limiter->impl_->Used(key, l->window_ns, now);
      c.request = *amount;
      c.exceeded = c.used + c.request > c.max;
      charges.push_back({key, {c.request, l->window_ns > 0}});
    }
    if (c.exceeded) (l->on_exceed == Effect::kDeny ? limit_deny : limit_ask).push_back(ref);
    d.limits.push_back(std::move(c));
  }
  if (!limit_deny.empty()) {
    d.effect = Effect::kDeny;
    d.determining = std::move(limit_deny);
    for (const auto* r : ask) d.overridden.push_back(r->id);
    for (const auto* r : allow) d.overridden.push_back(r->id);
    std::sort(d.overridden.begin(), d.overridden.end());
    return finish();
  }
  if (!ask.empty() || !limit_ask.empty()) {
    d.effect = Effect::kAsk;
    for (const auto* r : ask) {
      d.determining.push_back(Ref(*r));
      d.approvers.insert(d.approvers.end(), r->approvers.begin(), r->approvers.end());
    }
    for (const auto& l : limit_ask) d.determining.push_back(l);
    for (const auto* l : im.limits) {
      for (const auto& x : limit_ask) {
        if (x.rule == l->id) d.approvers.insert(d.approvers.end(), l->approvers.begin(), l->approvers.end());
      }
    }
    std::sort(d.approvers.begin(), d.approvers.end());
    d.approvers.erase(std::unique(d.approvers.begin(), d.approvers.end()), d.approvers.end());
    std::sort(d.determining.begin(), d.determining.end(), [](const auto& a, const auto& b) { return a.rule < b.rule; });
    for (const auto* r : allow) d.overridden.push_back(r->id);
    return finish();
  }
  d.effect = Effect::kAllow;
  for (const auto* r : allow) d.determining.push_back(Ref(*r));
  // Allowed: the usage is reserved now (the runtime reconciles with Limiter::Adjust afterwards).
  for (const auto& [key, a] : charges) limiter->impl_->Add(key, a.first, now, a.second);
  return finish();
}

nlohmann::json ToJson(const Decision& d) {
  nlohmann::json det = nlohmann::json::array();
  for (const auto& r : d.determining) {
    det.push_back({{"rule", r.rule}, {"file", r.file}, {"line", r.line}, {"effect", EffectName(r.effect)},
                   {"reason", r.reason}});
  }
  nlohmann::json limits = nlohmann::json::array();
  for (const auto& l : d.limits) {
    limits.push_back({{"limit", l.limit}, {"file", l.file}, {"line", l.line}, {"scope", l.scope_key}, {"used", l.used},
                      {"request", l.request}, {"max", l.max}, {"exceeded", l.exceeded},
                      {"on_exceed", EffectName(l.on_exceed)}});
  }
  nlohmann::json doc{{"decision", EffectName(d.effect)},
                     {"default", d.is_default},
                     {"determining", det},
                     {"overridden", d.overridden},
                     {"shadow", d.shadow},
                     {"errors", d.errors},
                     {"notes", d.notes},
                     {"limits", limits},
                     {"policy_set", d.policy_set},
                     {"eval_us", d.eval_ns / 1000},
                     {"request", d.request}};
  if (!d.invalid_request.empty()) doc["invalid_request"] = d.invalid_request;
  if (d.effect == Effect::kAsk) doc["approvers"] = d.approvers;
  return doc;
}

}  // namespace warden::policy
