// Parses and validates one policy file (policy-audit.md A.8.3, A.8.5): [policy], [[rule]], [[limit]], [[test]],
// [groups]. toml++ exceptions stop here; every problem becomes a LoadError with file:line:column and what was
// expected, and parsing goes on so `warden policy check` can list all of them at once.
#include <sodium.h>

#include <toml++/toml.h>

#include "policies/policy_internal.h"

namespace warden::policy::detail {

std::string Sha256Hex(std::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : out) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

int64_t ParseDuration(std::string_view t) {
  size_t i = 0;
  int64_t n = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    n = n * 10 + (t[i++] - '0');
    if (n > 1000000000LL) return -1;
  }
  if (i == 0) return -1;
  const auto unit = t.substr(i);
  const int64_t ms = 1000000, s = 1000 * ms;
  if (unit == "ms") return n * ms;
  if (unit == "s") return n * s;
  if (unit == "m") return n * 60 * s;
  if (unit == "h") return n * 3600 * s;
  if (unit == "d") return n * 86400 * s;
  return -1;
}

namespace {

nlohmann::json ToJsonValue(const toml::node& node) {
  if (auto* t = node.as_table()) {
    nlohmann::json o = nlohmann::json::object();
    for (auto&& [k, v] : *t) o[std::string(k.str())] = ToJsonValue(v);
    return o;
  }
  if (auto* a = node.as_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto&& v : *a) arr.push_back(ToJsonValue(v));
    return arr;
  }
  if (auto* s = node.as_string()) return s->get();
  if (auto* i = node.as_integer()) return i->get();
  if (auto* f = node.as_floating_point()) return f->get();
  if (auto* b = node.as_boolean()) return b->get();
  std::ostringstream os;
  if (auto* d = node.as_date()) os << d->get();
  if (auto* tm = node.as_time()) os << tm->get();
  if (auto* dt = node.as_date_time()) os << dt->get();
  return os.str();
}

// Collects errors for one file with positions taken from toml++ nodes.
class FileParser {
 public:
  FileParser(const std::string& name, std::vector<LoadError>* errors) : name_(name), errors_(errors) {}

  void Error(const toml::node& at, const std::string& msg) {
    errors_->push_back({name_, static_cast<int>(at.source().begin.line), static_cast<int>(at.source().begin.column), msg});
  }
  void Error(const toml::source_region& at, const std::string& msg) {
    errors_->push_back({name_, static_cast<int>(at.begin.line), static_cast<int>(at.begin.column), msg});
  }

  std::optional<std::string> String(const toml::node& n, const std::string& what) {
    if (auto* s = n.as_string()) return s->get();
    Error(n, what + ": expected a string");
    return std::nullopt;
  }
  std::vector<std::string> Strings(const toml::node& n, const std::string& what) {
    std::vector<std::string> out;
    auto* a = n.as_array();
    if (a == nullptr) {
      Error(n, what + ": expected an array of strings");
      return out;
    }
    for (auto&& e : *a) {
      if (auto s = String(e, what)) out.push_back(*s);
    }
    if (a->empty()) Error(n, what + ": empty list (leave the key out to match anything)");
    return out;
  }
  std::optional<Effect> EffectOf(const toml::node& n, const std::string& what, bool allow_allow = true) {
    auto s = String(n, what);
    if (!s) return std::nullopt;
    if (*s == "deny") return Effect::kDeny;
    if (*s == "ask") return Effect::kAsk;
    if (*s == "allow" && allow_allow) return Effect::kAllow;
    Error(n, what + ": expected " + std::string(allow_allow ? "allow|deny|ask" : "deny|ask") + ", got \"" + *s + "\"");
    return std::nullopt;
  }
  uint32_t Actions(const toml::node& n, const std::string& what) {
    uint32_t mask = 0;
    for (const auto& a : Strings(n, what)) {
      auto m = ActionMask(a);
      if (!m) {
        Error(n, what + ": unknown action \"" + a + "\" (expected task.submit, skill.select, skill.exec, tool.call, "
                        "fs.read, fs.write, net.connect, model.generate, a group like \"fs.*\", or \"*\")");
      } else {
        mask |= *m;
      }
    }
    return mask;
  }
  std::vector<std::string> NameGlobs(const toml::node& n, const std::string& what) {
    auto v = Strings(n, what);
    for (auto& s : v) {
      const std::string lower = AsciiLower(s);
      bool ok = !lower.empty();
      for (char c : lower) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '*' || c == '?');
      }
      if (!ok) Error(n, what + ": \"" + s + "\" is not an ASCII name glob ([a-z0-9._-] with * and ?)");
      s = lower;
    }
    return v;
  }

  bool ParseCondition(const toml::node& n, const std::string& what, Condition* c) {
    auto* t = n.as_table();
    if (t == nullptr) {
      Error(n, what + ": expected an inline table { path = \"$...\", <operator> = value }");
      return false;
    }
    static const std::map<std::string, Op> kOps = {
        {"equals", Op::kEquals}, {"not_equals", Op::kNotEquals}, {"in", Op::kIn},       {"not_in", Op::kNotIn},
        {"prefix", Op::kPrefix}, {"suffix", Op::kSuffix},        {"glob", Op::kGlob},   {"regex", Op::kRegex},
        {"contains", Op::kContains}, {"lt", Op::kLt}, {"lte", Op::kLte}, {"gt", Op::kGt}, {"gte", Op::kGte},
        {"between", Op::kBetween}, {"exists", Op::kExists}, {"len_lte", Op::kLenLte},   {"type", Op::kType}};
    int ops = 0;
    bool ok = true;
    const toml::node* value = nullptr;
    std::string op_name;
    for (auto&& [k, v] : *t) {
      const std::string key(k.str());
      if (key == "path") {
        auto s = String(v, what + ".path");
        std::string err;
        if (!s) {
          ok = false;
        } else if (auto p = ParseJsonPath(*s, &err)) {
          c->path = *p;
          c->path_text = *s;
        } else {
          Error(v, what + ".path \"" + *s + "\": " + err);
          ok = false;
        }
      } else if (auto it = kOps.find(key); it != kOps.end()) {
        ++ops;
        c->op = it->second;
        value = &v;
        op_name = key;
      } else {
        Error(v, what + ": unknown key \"" + key + "\" (expected path and one operator: equals, not_equals, in, "
                        "not_in, prefix, suffix, glob, regex, contains, lt, lte, gt, gte, between, exists, len_lte, type)");
        ok = false;
      }
    }
    if (c->path_text.empty() && ok) {
      Error(n, what + ": missing path (e.g. path = \"$.args.argv[0]\")");
      return false;
    }
    if (ops != 1) {
      Error(n, what + ": expected exactly one operator, got " + std::to_string(ops));
      return false;
    }
    if (!ok) return false;
    c->value = ToJsonValue(*value);
    const std::string w = what + "." + op_name;
    auto& val = c->value;
    switch (c->op) {
      case Op::kIn:
      case Op::kNotIn:
        if (!val.is_array() || val.empty()) return Error(*value, w + ": expected a non-empty array"), false;
        break;
      case Op::kPrefix:
      case Op::kSuffix:
      case Op::kGlob:
        if (!val.is_string()) return Error(*value, w + ": expected a string"), false;
        break;
      case Op::kRegex: {
        if (!val.is_string()) return Error(*value, w + ": expected a string"), false;
        std::string err;
        c->regex = CompileRegex(val.get<std::string>(), &err);
        if (!c->regex) return Error(*value, w + ": " + err), false;
        break;
      }
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte:
        if (!val.is_number()) return Error(*value, w + ": expected a number"), false;
        break;
      case Op::kBetween:
        if (!val.is_array() || val.size() != 2 || !val[0].is_number() || !val[1].is_number() || val[1] < val[0]) {
          return Error(*value, w + ": expected [low, high] numbers with low <= high"), false;
        }
        break;
      case Op::kExists:
        if (!val.is_boolean()) return Error(*value, w + ": expected true or false"), false;
        break;
      case Op::kLenLte:
        if (!val.is_number_integer() || val.get<int64_t>() < 0) return Error(*value, w + ": expected an integer >= 0"), false;
        break;
      case Op::kType: {
        static const std::set<std::string> kTypes = {"string", "integer", "number", "boolean", "array", "object", "null"};
        if (!val.is_string() || kTypes.count(val.get<std::string>()) == 0) {
          return Error(*value, w + ": expected string|integer|number|boolean|array|object|null"), false;
        }
        break;
      }
      default: break;
    }
    CompileValue(c);
    return true;
  }

  std::vector<Condition> Conditions(const toml::node& n, const std::string& what) {
    std::vector<Condition> out;
    auto* a = n.as_array();
    if (a == nullptr) {
      Error(n, what + ": expected an array of { path, operator } tables");
      return out;
    }
    for (size_t i = 0; i < a->size(); ++i) {
      Condition c;
      c.where = what + "[" + std::to_string(i) + "]";
      c.line = static_cast<int>(a->get(i)->source().begin.line);
      c.column = static_cast<int>(a->get(i)->source().begin.column);
      if (ParseCondition(*a->get(i), c.where, &c)) out.push_back(std::move(c));
    }
    return out;
  }

  void ParseRule(const toml::table& t, ParsedFile* f) {
    Rule r;
    r.file = name_;
    r.tenant = f->tenant;
    r.line = static_cast<int>(t.source().begin.line);
    std::string where = "rule";
    if (auto* id = t.get("id")) {
      if (auto s = String(*id, "rule id")) {
        r.id = AsciiLower(*s);
        if (!IsIdentifier(r.id) || r.id != *s) Error(*id, "rule id \"" + *s + "\": expected [a-z0-9][a-z0-9._-]*");
        where = "rule \"" + *s + "\"";
      }
    } else {
      Error(t.source(), "rule: missing id");
    }
    bool has_effect = false, has_actions = false;
    std::vector<std::pair<std::string, const toml::node*>> scoped;  // keys valid only for some actions
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      const std::string w = where + " field " + key;
      if (key == "id") continue;
      if (key == "effect") {
        if (auto e = EffectOf(v, w)) r.effect = *e, has_effect = true;
      } else if (key == "actions") {
        r.actions = Actions(v, w);
        has_actions = true;
      } else if (key == "principals") {
        r.has_principals = true;
        for (const auto& p : Strings(v, w)) {
          if (p.rfind("group:", 0) == 0) {
            r.groups.push_back(AsciiLower(p.substr(6)));
            continue;
          }
          std::string err;
          auto g = SegmentGlob::Compile(AsciiLower(p), false, &err);
          if (!g || p.front() == '/') {
            Error(v, w + ": \"" + p + "\": " + (g ? "principals are tenant/kind/name, without a leading /" : err));
          } else {
            r.principals.push_back(*g);
          }
        }
      } else if (key == "skills") {
        r.skills = NameGlobs(v, w);
      } else if (key == "skill_tags") {
        r.skill_tags = NameGlobs(v, w);
      } else if (key == "tools") {
        r.tools = NameGlobs(v, w), scoped.emplace_back(key, &v);
      } else if (key == "models") {
        r.models = NameGlobs(v, w), scoped.emplace_back(key, &v);
      } else if (key == "paths" || key == "paths_ci") {
        scoped.emplace_back(key, &v);
        for (const auto& p : Strings(v, w)) {
          std::string err;
          auto g = SegmentGlob::Compile(p, key == "paths_ci", &err);
          if (g && p[0] != '/' && p.rfind("**", 0) != 0) err = "must be absolute or start with \"**\"", g.reset();
          if (!g) {
            Error(v, w + ": \"" + p + "\": " + err);
          } else {
            r.paths.push_back(*g);
          }
        }
      } else if (key == "hosts") {
        scoped.emplace_back(key, &v);
        for (const auto& h : Strings(v, w)) {
          HostPattern hp;
          std::string body = h;
          if (h.rfind("*.", 0) == 0) hp.wildcard = true, body = h.substr(2);
          std::string err;
          std::string norm = body.find('*') == std::string::npos ? NormalizeHost(body, &err) : "";
          if (norm.empty() || ParseIp(body)) {
            Error(v, w + ": \"" + h + "\": expected a host name or \"*.suffix\"" +
                         (ParseIp(body) ? " (IP addresses belong in cidrs)" : err.empty() ? "" : " (" + err + ")"));
            continue;
          }
          hp.suffix = hp.wildcard ? "." + norm : norm;
          r.hosts.push_back(hp);
        }
      } else if (key == "ports") {
        scoped.emplace_back(key, &v);
        auto* a = v.as_array();
        if (a == nullptr || a->empty()) {
          Error(v, w + ": expected a non-empty array of port numbers");
        } else {
          for (auto&& e : *a) {
            auto* i = e.as_integer();
            if (i == nullptr || i->get() < 1 || i->get() > 65535) {
              Error(e, w + ": expected a port number 1..65535");
            } else {
              r.ports.push_back(static_cast<int>(i->get()));
            }
          }
        }
      } else if (key == "cidrs") {
        scoped.emplace_back(key, &v);
        for (const auto& c : Strings(v, w)) {
          if (auto cidr = ParseCidr(c)) {
            r.cidrs.push_back(*cidr);
          } else {
            Error(v, w + ": \"" + c + "\" is not a CIDR (e.g. \"10.0.0.0/8\", \"fd00::/8\")");
          }
        }
      } else if (key == "when") {
        r.when = Conditions(v, w);
      } else if (key == "when_any") {
        r.when_any = Conditions(v, w);
      } else if (key == "unless") {
        r.unless = Conditions(v, w);
      } else if (key == "reason" || key == "description") {
        if (auto s = String(v, w)) r.reason = *s;
      } else if (key == "mode") {
        if (auto s = String(v, w)) {
          if (*s == "shadow") {
            r.shadow = true;
          } else if (*s != "enforce") {
            Error(v, w + ": expected enforce|shadow, got \"" + *s + "\"");
          }
        }
      } else if (key == "approvers") {
        r.approvers = Strings(v, w);
      } else if (key == "approval_timeout") {
        if (auto s = String(v, w)) {
          if (ParseDuration(*s) < 0) Error(v, w + ": expected a duration like \"15m\", got \"" + *s + "\"");
          r.approval_timeout = *s;
        }
      } else {
        Error(v, where + ": unknown key \"" + key + "\" (expected id, effect, actions, principals, skills, skill_tags, "
                         "paths, paths_ci, hosts, ports, cidrs, tools, models, when, when_any, unless, reason, mode, "
                         "approvers, approval_timeout)");
      }
    }
    if (!has_effect && t.get("effect") == nullptr) Error(t.source(), where + ": missing effect (allow|deny|ask)");
    if (!has_actions) Error(t.source(), where + ": missing actions (e.g. actions = [\"fs.read\"]; \"*\" must be explicit)");
    const uint32_t fs = (1u << kFsRead) | (1u << kFsWrite);
    for (const auto& [key, node] : scoped) {
      uint32_t allowed = key == "tools" ? 1u << kToolCall
                         : key == "models" ? 1u << kModelGenerate
                         : (key == "paths" || key == "paths_ci") ? fs
                                                                 : 1u << kNetConnect;
      if (r.actions != 0 && (r.actions & ~allowed) != 0) {
        Error(*node, where + " field " + key + ": applies only to " +
                         (allowed == fs ? "fs.read/fs.write" : std::string(kActions[static_cast<size_t>(__builtin_ctz(allowed))])) +
                         " but the rule also covers other actions (split the rule)");
      }
    }
    if (!r.approvers.empty() && r.effect != Effect::kAsk) Error(t.source(), where + ": approvers only apply to effect = \"ask\"");
    f->rules.push_back(std::move(r));
  }

  void ParseLimit(const toml::table& t, ParsedFile* f) {
    Limit l;
    l.file = name_;
    l.tenant = f->tenant;
    l.line = static_cast<int>(t.source().begin.line);
    std::string where = "limit";
    bool has_max = false;
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      const std::string w = where + " field " + key;
      if (key == "id") {
        if (auto s = String(v, w)) {
          l.id = *s;
          if (!IsIdentifier(*s)) Error(v, "limit id \"" + *s + "\": expected [a-z0-9][a-z0-9._-]*");
          where = "limit \"" + *s + "\"";
        }
      } else if (key == "actions") {
        l.actions = Actions(v, w);
      } else if (key == "tools") {
        l.tools = NameGlobs(v, w);
      } else if (key == "skills") {
        l.skills = NameGlobs(v, w);
      } else if (key == "models") {
        l.models = NameGlobs(v, w);
      } else if (key == "scope") {
        auto s = String(v, w);
        if (s == "task") l.scope = LimitScope::kTask;
        else if (s == "principal") l.scope = LimitScope::kPrincipal;
        else if (s == "tenant") l.scope = LimitScope::kTenant;
        else if (s == "skill") l.scope = LimitScope::kSkill;
        else if (s) Error(v, w + ": expected task|principal|tenant|skill, got \"" + *s + "\"");
      } else if (key == "metric") {
        auto s = String(v, w);
        static const std::set<std::string> kMetrics = {"calls", "tokens", "bytes", "cost_micros", "wall_ms"};
        if (s && kMetrics.count(*s) == 0) Error(v, w + ": expected calls|tokens|bytes|cost_micros|wall_ms, got \"" + *s + "\"");
        if (s) l.metric = *s;
      } else if (key == "max") {
        auto* i = v.as_integer();
        if (i == nullptr || i->get() < 0) Error(v, w + ": expected an integer >= 0");
        else l.max = i->get(), has_max = true;
      } else if (key == "window") {
        if (auto s = String(v, w)) {
          if (*s == "task" || *s == "lifetime") {
            l.window_ns = 0;
          } else if ((l.window_ns = ParseDuration(*s)) <= 0) {
            Error(v, w + ": expected \"task\", \"lifetime\" or a duration like \"60s\", \"24h\"; got \"" + *s + "\"");
          }
        }
      } else if (key == "on_exceed") {
        if (auto e = EffectOf(v, w, false)) l.on_exceed = *e;
      } else if (key == "approvers") {
        l.approvers = Strings(v, w);
      } else if (key == "reason" || key == "description") {
        String(v, w);
      } else {
        Error(v, where + ": unknown key \"" + key + "\" (expected id, actions, tools, skills, models, scope, metric, "
                         "max, window, on_exceed, approvers, reason)");
      }
    }
    if (l.id.empty()) Error(t.source(), "limit: missing id");
    if (l.actions == 0) Error(t.source(), where + ": missing actions");
    if (l.metric.empty()) Error(t.source(), where + ": missing metric (calls|tokens|bytes|cost_micros|wall_ms)");
    if (!has_max) Error(t.source(), where + ": missing max");
    f->limits.push_back(std::move(l));
  }

  void ParseTest(const toml::table& t, ParsedFile* f) {
    InlineTest x;
    x.file = name_;
    x.line = static_cast<int>(t.source().begin.line);
    bool has_expect = false, has_request = false;
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      const std::string w = "test field " + key;
      if (key == "name") {
        if (auto s = String(v, w)) x.name = *s;
      } else if (key == "request") {
        if (!v.is_table()) Error(v, w + ": expected a table (the request JSON)");
        x.request = ToJsonValue(v);
        has_request = true;
      } else if (key == "expect") {
        if (auto e = EffectOf(v, w)) x.expect = *e, has_expect = true;
      } else if (key == "expect_rules") {
        auto* a = v.as_array();
        x.expect_rules.emplace();
        if (a == nullptr) Error(v, w + ": expected an array of rule ids");
        else for (auto&& e : *a) if (auto s = String(e, w)) x.expect_rules->push_back(*s);
      } else {
        Error(v, "test: unknown key \"" + key + "\" (expected name, request, expect, expect_rules)");
      }
    }
    if (!has_request) Error(t.source(), "test \"" + x.name + "\": missing request");
    if (!has_expect) Error(t.source(), "test \"" + x.name + "\": missing expect (allow|deny|ask)");
    if (x.name.empty()) x.name = name_ + ":" + std::to_string(x.line);
    f->tests.push_back(std::move(x));
  }

  template <typename Fn>
  void EachTable(const toml::node& n, const std::string& what, Fn fn) {
    auto* a = n.as_array();
    if (a == nullptr || !a->is_array_of_tables()) {
      Error(n, what + ": expected [[" + what + "]] tables");
      return;
    }
    for (auto&& e : *a) fn(*e.as_table());
  }

 private:
  std::string name_;
  std::vector<LoadError>* errors_;
};

}  // namespace

ParsedFile ParseFile(const std::string& name, const std::string& text, std::vector<LoadError>* errors) {
  ParsedFile f;
  f.name = name;
  f.sha256 = Sha256Hex(text);
  FileParser p(name, errors);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    errors->push_back({name, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                       "TOML syntax: " + std::string(e.description())});
    return f;
  }
  // [policy] first: its tenant applies to every rule of the file whatever the key order.
  if (auto* pol = root.get("policy")) {
    if (auto* t = pol->as_table()) {
      for (auto&& [k, v] : *t) {
        const std::string key(k.str());
        if (key == "tenant") {
          if (auto s = p.String(v, "policy field tenant")) {
            if (*s != "*" && !IsIdentifier(*s)) p.Error(v, "policy field tenant: expected \"*\" or an identifier, got \"" + *s + "\"");
            f.tenant = *s;
          }
        } else if (key == "id" || key == "description") {
          p.String(v, "policy field " + key);
        } else {
          p.Error(v, "policy: unknown key \"" + key + "\" (expected id, tenant, description)");
        }
      }
    } else {
      p.Error(*pol, "policy: expected a [policy] table");
    }
  }
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "policy") continue;
    if (key == "rule") {
      p.EachTable(v, "rule", [&](const toml::table& t) { p.ParseRule(t, &f); });
    } else if (key == "limit") {
      p.EachTable(v, "limit", [&](const toml::table& t) { p.ParseLimit(t, &f); });
    } else if (key == "test") {
      p.EachTable(v, "test", [&](const toml::table& t) { p.ParseTest(t, &f); });
    } else if (key == "groups") {
      auto* t = v.as_table();
      if (t == nullptr) {
        p.Error(v, "groups: expected a [groups] table of \"tenant/group\" = [members]");
        continue;
      }
      for (auto&& [g, members] : *t) {
        const std::string gid = AsciiLower(g.str());
        f.groups[gid] = {p.Strings(members, "group \"" + gid + "\""), static_cast<int>(members.source().begin.line)};
        for (auto& m : f.groups[gid].first) m = AsciiLower(m);
      }
    } else {
      p.Error(v, "unknown top-level key \"" + key + "\" (expected [policy], [[rule]], [[limit]], [[test]], [groups])");
    }
  }
  return f;
}

}  // namespace warden::policy::detail
