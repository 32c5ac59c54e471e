// Building a PolicySet (policy-audit.md A.8.1, A.8.5): reading the folder, cross-file validation (duplicate ids,
// group closure and cycles, unknown groups), the content hash, the rule index by action and first path segment or
// tool name, and the inline [[test]] cases that gate every load.
#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "policies/policy_internal.h"
#include "runtime/base/file_util.h"

namespace warden::policy {

using detail::Rule;

std::string_view EffectName(Effect effect) {
  switch (effect) {
    case Effect::kAllow: return "allow";
    case Effect::kAsk: return "ask";
    case Effect::kDeny: return "deny";
  }
  return "deny";
}

int EffectExitCode(Effect effect) {
  switch (effect) {
    case Effect::kAllow: return 0;
    case Effect::kAsk: return 4;
    case Effect::kDeny: return 3;
  }
  return 3;
}

std::string LoadError::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  return s + ": " + message;
}

PolicySet::PolicySet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicySet::~PolicySet() = default;
const std::string& PolicySet::hash() const { return impl_->hash; }
std::chrono::system_clock::time_point PolicySet::loaded_at() const { return impl_->loaded_at; }
size_t PolicySet::rule_count() const { return impl_->rules.size(); }

std::vector<std::string> PolicySet::RuleIds() const {
  std::vector<std::string> ids;
  for (const auto* r : impl_->rules) ids.push_back(r->id);
  return ids;
}

namespace {

bool Skipped(const std::string& name) {
  auto ends = [&](std::string_view suf) {
    return name.size() >= suf.size() && name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
  };
  return name.empty() || name[0] == '.' || ends("~") || ends(".swp") || ends(".tmp") || !ends(".toml");
}

// The longest literal prefix every name glob of a rule shares ("mcp.github.*", "mcp.gitlab.*" -> "mcp.git"); empty
// when a name starts with a wildcard.
std::string CommonLiteralPrefix(const std::vector<std::string>& names) {
  std::string prefix;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    const std::string lit = n.substr(0, std::min(n.size(), n.find_first_of("*?")));
    if (i == 0) {
      prefix = lit;
      continue;
    }
    size_t k = 0;
    while (k < prefix.size() && k < lit.size() && prefix[k] == lit[k]) ++k;
    prefix.resize(k);
  }
  return prefix;
}

// Adds `rule` to the candidate lists of every action it covers (see ActionBucket); a rule lands in exactly one list
// per action. Without options.index_rules every rule is always a candidate: the linear scan the benchmark compares
// against.
void IndexRule(const Rule* r, bool index_rules, std::array<detail::ActionBucket, detail::kActions.size()>* index) {
  for (size_t a = 0; a < detail::kActions.size(); ++a) {
    if ((r->actions & (1u << a)) == 0) continue;
    auto& b = (*index)[a];
    if (!index_rules) {
      b.always.push_back(r);
      continue;
    }
    const int action = static_cast<int>(a);
    if ((action == detail::kFsRead || action == detail::kFsWrite) && !r->paths.empty()) {
      const bool ci = r->paths[0].case_insensitive();
      const bool same_case = std::all_of(r->paths.begin(), r->paths.end(),
                                         [&](const auto& g) { return g.case_insensitive() == ci; });
      bool placed = false;
      for (size_t depth : {2, 1}) {
        std::set<std::string> keys;
        for (const auto& g : r->paths) {
          if (auto k = g.LiteralPrefix(depth)) keys.insert(*k);
        }
        if (!same_case || keys.empty() || std::any_of(r->paths.begin(), r->paths.end(),
                                                      [&](const auto& g) { return !g.LiteralPrefix(depth); })) {
          continue;
        }
        auto& map = depth == 2 ? (ci ? b.by_first2_ci : b.by_first2) : (ci ? b.by_first_ci : b.by_first);
        for (const auto& k : keys) map[k].push_back(r);
        placed = true;
        break;
      }
      if (placed) continue;
      // "**/*.pem": no literal prefix, but every path it matches ends in ".pem".
      if (same_case && std::all_of(r->paths.begin(), r->paths.end(), [](const auto& g) { return g.LastExtension(); })) {
        std::set<std::string> keys;
        for (const auto& g : r->paths) keys.insert(*g.LastExtension());
        for (const auto& k : keys) (ci ? b.by_ext_ci : b.by_ext)[k].push_back(r);
        continue;
      }
    }
    const std::vector<std::string>* names = action == detail::kToolCall       ? &r->tools
                                            : action == detail::kModelGenerate ? &r->models
                                            : (action == detail::kSkillSelect || action == detail::kSkillExec) ? &r->skills
                                                                                                            : nullptr;
    if (names != nullptr && !names->empty()) {
      if (std::none_of(names->begin(), names->end(),
                       [](const std::string& t) { return t.find_first_of("*?") != std::string::npos; })) {
        for (const auto& t : std::set<std::string>(names->begin(), names->end())) b.by_name[t].push_back(r);
        continue;
      }
      // Globs: one list keyed by the prefix all of them share, looked up with each key length up to the name's.
      if (const std::string prefix = CommonLiteralPrefix(*names); !prefix.empty()) {
        b.by_name_prefix[prefix].push_back(r);
        auto& lens = b.name_prefix_lengths;
        if (std::find(lens.begin(), lens.end(), prefix.size()) == lens.end()) {
          lens.insert(std::upper_bound(lens.begin(), lens.end(), prefix.size()), prefix.size());
        }
        continue;
      }
    }
    if (action == detail::kNetConnect && !r->hosts.empty() &&
        std::none_of(r->hosts.begin(), r->hosts.end(), [](const detail::HostPattern& h) {
          // "*.com" matches hosts of many domains: not indexable by the last two labels.
          return h.wildcard && h.suffix.find('.', 1) == std::string::npos;
        })) {
      std::set<std::string> keys;
      for (const auto& h : r->hosts) keys.insert(std::string(detail::DomainKey(h.wildcard ? h.suffix.substr(1) : h.suffix)));
      for (const auto& k : keys) b.by_domain[k].push_back(r);
      continue;
    }
    // CIDRs of 8 bits or more fix the first byte of every address they contain; a request has one address, so it
    // meets the rule through one list at most.
    if (action == detail::kNetConnect && !r->cidrs.empty() &&
        std::all_of(r->cidrs.begin(), r->cidrs.end(), [](const detail::Cidr& c) { return c.prefix >= 8; })) {
      std::set<uint32_t> keys;
      for (const auto& c : r->cidrs) keys.insert(static_cast<uint32_t>(c.net.family) << 8 | c.net.bytes[0]);
      for (uint32_t k : keys) b.by_ip_first[k].push_back(r);
      continue;
    }
    b.always.push_back(r);
  }
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> PolicySet::ReadDir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("policies folder " + dir.string() +
                            " does not exist (run `warden init`, or pass --policies DIR)");
  }
  std::vector<std::pair<std::string, std::string>> files;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return Status::IoError("cannot list " + dir.string(), ec.value());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IoError("cannot list " + dir.string(), ec.value());
    const auto name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    const auto rel = fs::relative(it->path(), dir, ec).generic_string();
    if (it->is_symlink(ec)) {
      if (Skipped(name)) continue;
      return Status::InvalidArgument(rel + ": policy files may not be symlinks (a link could point into a tree "
                                           "agents can write); copy the file into " + dir.string());
    }
    if (it->is_directory(ec) || Skipped(name)) continue;
    if (!it->is_regular_file(ec)) return Status::InvalidArgument(rel + ": not a regular file");
    WARDEN_ASSIGN_OR_RETURN(auto text, ReadFile(it->path()));
    files.emplace_back(rel, std::move(text));
  }
  return files;
}

PolicySet::CheckReport PolicySet::Check(const std::vector<std::pair<std::string, std::string>>& input,
                                        const LoadOptions& options) {
  CheckReport report;
  auto files = input;
  std::sort(files.begin(), files.end());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  for (const auto& p : options.protected_paths) {
    if (!p.empty() && p[0] == '/') impl->protected_paths.push_back(detail::LexicalNormalize(p));
  }
  std::string hash_input;
  for (const auto& [name, text] : files) {
    impl->files.push_back(detail::ParseFile(name, text, &report.errors));
    hash_input += name + '\0' + impl->files.back().sha256 + '\n';
  }
  impl->hash = "sha256:" + detail::Sha256Hex(hash_input);

  // Cross-file checks.
  std::map<std::string, const Rule*> rule_ids;
  std::map<std::string, const detail::Limit*> limit_ids;
  std::map<std::string, std::pair<std::vector<std::string>, std::string>> groups;  // id -> members, where
  for (const auto& f : impl->files) {
    for (const auto& r : f.rules) {
      if (r.id.empty()) continue;
      auto [it, fresh] = rule_ids.emplace(r.id, &r);
      if (!fresh) {
        report.errors.push_back({f.name, r.line, 1, "duplicate rule id \"" + r.id + "\" (first defined at " +
                                                        it->second->file + ":" + std::to_string(it->second->line) +
                                                        "); rule ids must be unique in the whole folder"});
      }
    }
    for (const auto& l : f.limits) {
      if (l.id.empty()) continue;
      auto [it, fresh] = limit_ids.emplace(l.id, &l);
      if (!fresh) {
        report.errors.push_back({f.name, l.line, 1, "duplicate limit id \"" + l.id + "\" (first defined at " +
                                                        it->second->file + ":" + std::to_string(it->second->line) + ")"});
      }
    }
    for (const auto& [g, m] : f.groups) {
      const std::string where = f.name + ":" + std::to_string(m.second);
      auto [it, fresh] = groups.emplace(g, std::make_pair(m.first, where));
      if (!fresh) report.errors.push_back({f.name, m.second, 1, "group \"" + g + "\" already defined at " + it->second.second});
    }
  }
  // Group closure: depth-first with an on-stack mark to name cycles.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<bool(const std::string&, std::vector<std::string>&)> close = [&](const std::string& g,
                                                                                   std::vector<std::string>& stack) {
    if (state[g] == 2) return true;
    if (state[g] == 1) {
      std::string cycle;
      for (const auto& s : stack) cycle += s + " -> ";
      report.errors.push_back({"groups", 0, 0, "group cycle: " + cycle + g + " (remove one of the nested references)"});
      return false;
    }
    state[g] = 1;
    stack.push_back(g);
    auto& out = impl->group_members[g];
    bool ok = true;
    for (const auto& m : groups[g].first) {
      if (m.rfind("group:", 0) == 0) {
        const auto sub = m.substr(6);
        if (groups.count(sub) == 0) {
          report.errors.push_back({"groups", 0, 0, "group \"" + g + "\" (" + groups[g].second + ") names unknown group \"" + sub + "\""});
          ok = false;
          continue;
        }
        ok = close(sub, stack) && ok;
        const auto& inner = impl->group_members[sub];
        out.insert(inner.begin(), inner.end());
      } else {
        out.insert(m);
      }
    }
    stack.pop_back();
    state[g] = 2;
    return ok;
  };
  for (const auto& [g, m] : groups) {
    std::vector<std::string> stack;
    close(g, stack);
  }
  for (const auto& f : impl->files) {
    for (const auto& r : f.rules) {
      for (const auto& g : r.groups) {
        if (groups.count(g) == 0) {
          report.errors.push_back({f.name, r.line, 1, "rule \"" + r.id + "\" names unknown group \"" + g +
                                                          "\" (define it under [groups])"});
        }
      }
    }
  }
  // Conditions on a field no request of the rule's actions carries: they only ever see a missing value.
  size_t rule_total = 0;
  for (const auto& f : impl->files) {
    rule_total += f.rules.size();
    for (const auto& r : f.rules) {
      for (const auto* list : {&r.when, &r.when_any, &r.unless}) {
        for (const auto& c : *list) {
          std::string why;
          bool possible = false;
          for (size_t a = 0; a < detail::kActions.size() && !possible; ++a) {
            if ((r.actions & (1u << a)) == 0) continue;
            std::string never = detail::NeverPresent(static_cast<int>(a), c.path);
            possible = never.empty();
            if (why.empty()) why = std::move(never);
          }
          if (possible || why.empty()) continue;
          const bool exists_false = c.op == detail::Op::kExists && c.value.is_boolean() && !c.value.get<bool>();
          report.warnings.push_back({f.name, c.line, c.column,
                                     c.where + " path \"" + c.path_text + "\": " + why +
                                         ", so the condition is always " + (exists_false ? "true" : "false") +
                                         " (check the path or the rule's actions)"});
        }
      }
    }
  }
  if (rule_total == 0 && report.errors.empty()) {
    report.warnings.push_back({"(policy set)", 0, 0, "no rules: every request is denied (default deny)"});
  }
  if (!report.errors.empty()) return report;

  for (const auto& f : impl->files) {
    for (const auto& r : f.rules) impl->rules.push_back(&r);
    for (const auto& l : f.limits) impl->limits.push_back(&l);
  }
  std::sort(impl->rules.begin(), impl->rules.end(), [](const Rule* a, const Rule* b) { return a->id < b->id; });
  std::sort(impl->limits.begin(), impl->limits.end(),
            [](const detail::Limit* a, const detail::Limit* b) { return a->id < b->id; });
  for (const auto* r : impl->rules) IndexRule(r, options.index_rules, &impl->index);
  impl->loaded_at = std::chrono::system_clock::now();

  std::shared_ptr<const PolicySet> set(new PolicySet(std::move(impl)));
  std::set<std::string> hit;
  for (const auto& f : set->impl_->files) {
    for (const auto& t : f.tests) {
      const Decision d = set->Evaluate(t.request);
      std::vector<std::string> got;
      for (const auto& r : d.determining) got.push_back(r.rule), hit.insert(r.rule);
      for (const auto& o : d.overridden) hit.insert(o);
      TestResult tr{t.name, t.file, t.line, d.effect == t.expect, ""};
      if (tr.passed && t.expect_rules) {
        auto want = *t.expect_rules;
        std::sort(want.begin(), want.end());
        tr.passed = want == got;
      }
      if (!tr.passed) {
        auto list = [](const std::vector<std::string>& v) {
          std::string s;
          for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
          return "[" + s + "]";
        };
        tr.message = "expected " + std::string(EffectName(t.expect)) +
                     (t.expect_rules ? " " + list(*t.expect_rules) : "") + ", got " + std::string(EffectName(d.effect)) +
                     " " + list(got) + (d.invalid_request.empty() ? "" : " (invalid request: " + d.invalid_request + ")") +
                     (d.is_default ? " (default deny: no rule allows it)" : "");
        report.errors.push_back({t.file, t.line, 1, "test \"" + t.name + "\" failed: " + tr.message});
      }
      report.tests.push_back(std::move(tr));
    }
  }
  for (const auto* r : set->impl_->rules) {
    if (hit.count(r->id) == 0) report.untested_rules.push_back(r->id);
  }
  if (report.errors.empty()) report.set = std::move(set);
  return report;
}

Result<std::shared_ptr<const PolicySet>> PolicySet::LoadFiles(
    const std::vector<std::pair<std::string, std::string>>& files, const LoadOptions& options) {
  auto report = Check(files, options);
  if (report.set) return report.set;
  std::string msg = "policy set rejected (" + std::to_string(report.errors.size()) + " error" +
                    (report.errors.size() == 1 ? "" : "s") + "):";
  for (const auto& e : report.errors) msg += "\n  " + e.ToString();
  return Status::InvalidArgument(msg);
}

Result<std::shared_ptr<const PolicySet>> PolicySet::LoadDir(const std::filesystem::path& dir,
                                                            const LoadOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(auto files, ReadDir(dir));
  auto set = LoadFiles(files, options);
  if (!set.ok()) return set.status().WithContext(dir.string());
  return set;
}

nlohmann::json PolicySet::Describe() const {
  const auto& im = *impl_;
  nlohmann::json doc{{"hash", im.hash},
                     {"loaded_at", std::chrono::duration_cast<std::chrono::seconds>(im.loaded_at.time_since_epoch()).count()},
                     {"files", nlohmann::json::array()},
                     {"rules", nlohmann::json::array()},
                     {"limits", nlohmann::json::array()},
                     {"groups", nlohmann::json::object()}};
  size_t tests = 0;
  for (const auto& f : im.files) {
    doc["files"].push_back({{"name", f.name}, {"sha256", f.sha256}, {"tenant", f.tenant}, {"rules", f.rules.size()},
                            {"limits", f.limits.size()}, {"tests", f.tests.size()}});
    tests += f.tests.size();
  }
  for (const auto* r : im.rules) {
    nlohmann::json actions = nlohmann::json::array();
    for (size_t a = 0; a < detail::kActions.size(); ++a) {
      if (r->actions & (1u << a)) actions.push_back(detail::kActions[a]);
    }
    doc["rules"].push_back({{"id", r->id}, {"file", r->file}, {"line", r->line}, {"effect", EffectName(r->effect)},
                            {"mode", r->shadow ? "shadow" : "enforce"}, {"tenant", r->tenant}, {"actions", actions},
                            {"reason", r->reason}});
  }
  for (const auto* l : im.limits) {
    doc["limits"].push_back({{"id", l->id}, {"file", l->file}, {"line", l->line}, {"metric", l->metric},
                             {"max", l->max}, {"window_ns", l->window_ns}, {"on_exceed", EffectName(l->on_exceed)}});
  }
  for (const auto& [g, m] : im.group_members) doc["groups"][g] = std::vector<std::string>(m.begin(), m.end());
  doc["tests"] = tests;
  return doc;
}

}  // namespace warden::policy
