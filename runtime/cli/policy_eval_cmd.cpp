// `warden policy eval --request FILE|- [--explain]`: decide one request JSON against a policies folder and print the
// decision with its explanation (determining rules with file:line and reason, overridden rules, notes on failed
// conditions, errors, the normalised request, the set's hash); --explain adds every rule of the action with what
// became of it and each condition's expected and actual value (policy-audit.md A.8.5). A what-if for reviewers:
// nothing runs. Exits 0 allow, 3 deny, 4 ask; 1 when the folder or request is bad.
#include <iostream>
#include <iterator>
#include <sstream>

#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"

namespace warden::cli {
namespace {

std::string Joined(const nlohmann::json& list, const char* sep = ", ") {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : sep) + (x.is_string() ? x.get<std::string>() : x.dump());
  return out;
}

// The decision for a reader: outcome, then why, then what was asked.
std::string DecisionText(const policy::Decision& d, const nlohmann::json& doc) {
  std::ostringstream t;
  t << EffectName(d.effect);
  if (!d.invalid_request.empty()) t << " (invalid request: " << d.invalid_request << "; no rule was consulted)";
  if (d.is_default) t << " (default: no rule allows this)";
  t << "\n";
  for (const auto& r : d.determining) {
    t << "  " << r.rule << "  " << r.file << ":" << r.line << "  " << r.reason << "\n";
  }
  if (!d.overridden.empty()) t << "overridden: " << Joined(d.overridden) << "\n";
  if (d.effect == policy::Effect::kAsk && !d.approvers.empty()) t << "approvers: " << Joined(d.approvers) << "\n";
  for (const auto& s : d.shadow) {
    t << "shadow: " << s["rule"].get<std::string>() << " would " << s["would"].get<std::string>() << "\n";
  }
  for (const auto& n : d.notes) {
    t << "note: rule " << n["rule"].get<std::string>() << ": " << n["path"].get<std::string>() << " "
      << (n["note"] == "missing" ? "is missing from the request" : "has another type than the rule expects") << "\n";
  }
  for (const auto& e : d.errors)
    t << "error: rule " << e["rule"].get<std::string>() << ": " << e["error"].get<std::string>() << "\n";
  for (const auto& l : doc["limits"]) {
    t << "limit " << l["limit"].get<std::string>() << " (" << l["scope"].get<std::string>() << "): " << l["used"]
      << " + " << l["request"] << " of " << l["max"] << (l["exceeded"].get<bool>() ? " EXCEEDED" : "") << "\n";
  }
  t << "request: " << doc["request"].dump() << "\npolicy set " << d.policy_set << "\n";
  return t.str();
}

// The per-rule trace of PolicySet::Explain: one line per rule, the failed scope key or each condition under it.
std::string TraceText(const nlohmann::json& ex) {
  std::ostringstream t;
  if (!ex.contains("action")) return "";
  if (ex.contains("builtin"))
    t << "decided by the built-in guardrail " << ex["builtin"].get<std::string>() << "; rules:\n";
  t << "rules for " << ex["action"].get<std::string>() << " (" << ex["rules"].size() << "):\n";
  for (const auto& r : ex["rules"]) {
    const bool hit = r["result"] == "matched";
    t << "  " << (hit ? "MATCH " : "  -   ") << " " << r["effect"].get<std::string>() << "  "
      << r["rule"].get<std::string>() << (r["mode"] == "shadow" ? " (shadow)" : "") << "  "
      << r["file"].get<std::string>() << ":" << r["line"];
    if (r.contains("why")) t << "  " << r["why"].get<std::string>();
    t << "\n";
    for (const auto& c : r.value("conditions", nlohmann::json::array())) {
      t << "        " << c["list"].get<std::string>() << " " << c["path"].get<std::string>() << " "
        << c["op"].get<std::string>() << " " << c["expected"].dump() << " -> " << c["result"].get<std::string>();
      if (c.contains("actual")) t << " (actual " << c["actual"].dump() << ")";
      if (c.contains("note")) t << " [" << c["note"].get<std::string>() << "]";
      if (c.contains("error")) t << " [" << c["error"].get<std::string>() << "]";
      t << "\n";
    }
  }
  return t.str();
}

}  // namespace

void RegisterPolicyEval(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("eval", "Decide one request (JSON) against the policies; exit 0 allow, 3 deny, 4 ask");
  struct Flags {
    PolicyDirFlags dir;
    std::string request;
    bool explain = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--request", f->request, "Request JSON file, or - for standard input")->required();
  cmd->add_option("--policies", f->dir.dir, "Policies folder (default: the config's policies folder)");
  cmd->add_flag("--explain", f->explain,
                "Also show every rule of the request's action: why it did not match (the scope key, or each "
                "condition with its expected and actual value)");
  AddSandboxRootFlag(cmd, f->dir);
  cmd->callback([&ctx, f] {
    std::string text;
    if (f->request == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto r = ReadFile(f->request);
      if (!r.ok()) return ctx.Fail(r.status(), "pass a readable JSON file, or - to read standard input");
      text = std::move(*r);
    }
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return ctx.Fail(Status::InvalidArgument("request " + f->request + " is not JSON: " + e.what()),
                      "see docs/policy.md for the request shape");
    }
    auto dir = ResolvePolicyDir(ctx, f->dir);
    if (!dir.ok()) return ctx.Fail(dir.status(), "fix the config file or pass --policies DIR");
    auto set = policy::PolicySet::LoadDir(*dir, PolicyLoadOptions(ctx, f->dir));
    if (!set.ok()) return ctx.Fail(set.status(), "run `warden policy check` and fix the errors it lists");
    const auto d = (*set)->Evaluate(request);
    auto doc = policy::ToJson(d);
    std::string out = DecisionText(d, doc);
    if (f->explain) {
      auto ex = (*set)->Explain(request);
      out += TraceText(ex);
      ex.erase("decision");  // the document already is the decision
      doc["explain"] = std::move(ex);
    }
    ctx.Emit(doc, out);
    ctx.exit_code = policy::EffectExitCode(d.effect);
  });
}

}  // namespace warden::cli
