// `warden skills run NAME --args JSON`: one skill call the way the agent loop makes it (runtime/skill_call.h): the
// arguments are checked against the manifest, the policy gate decides, every decision is made durable in the audit
// trail before anything runs, the program runs in the sandbox, and its result is audited; manifests the catalog
// rejected while loading are audited too (skill.rejected). Prints the program's output (then a one-line summary on
// stderr), or with --json the whole outcome.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>

#include "audit/audit.h"
#include "policies/policy.h"
#include "runtime/base/file_util.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"
#include "runtime/cli/skills_flags.h"
#include "runtime/catalog_audit.h"
#include "runtime/skill_call.h"
#include "sandbox/sandbox.h"

namespace warden::cli {
namespace {

struct RunFlags {
  SkillsCatalogFlags catalog;
  std::string name;
  std::string args = "{}";
  std::string args_file;
  std::string workspace = ".";
  PolicyDirFlags policies;
  AuditDbFlags audit;
  std::string principal = "local/user/cli";
  std::string task;
  std::string upstream_proxy;
};

Result<nlohmann::json> ReadArgs(const RunFlags& f) {
  std::string text = f.args;
  if (!f.args_file.empty()) {
    if (f.args_file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      WARDEN_ASSIGN_OR_RETURN(text, ReadFile(f.args_file));
    }
  }
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("--args must be one JSON object, got: " + text.substr(0, 80));
  }
  return doc;
}

}  // namespace

void RegisterSkillsRun(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "run", "Run one skill through the policy gate and the sandbox, recording every decision in the audit trail");
  auto f = std::make_shared<RunFlags>();
  cmd->add_option("NAME", f->name, "Skill name")->required();
  cmd->add_option("--args", f->args, "The call's arguments as one JSON object (default {})");
  cmd->add_option("--args-file", f->args_file, "Read the arguments from this file (- = stdin)");
  cmd->add_option("--workspace", f->workspace, "Task workspace folder, mounted read-write at /workspace")
      ->capture_default_str();
  cmd->add_option("--policies", f->policies.dir, "Policies folder (default: paths.policies of the config)");
  AddDbFlag(cmd, f->audit);
  AddKeyFlag(cmd, f->audit);
  cmd->add_option("--principal", f->principal, "Who asks, as tenant/kind/name")->capture_default_str();
  cmd->add_option("--task", f->task, "Task id to record (default: a fresh one)");
  cmd->add_option("--upstream-proxy", f->upstream_proxy,
                  "Network skills: HOST:PORT of the HTTP proxy the sandbox's proxy sends allowed requests to (a "
                  "site's egress proxy); default: direct connections");
  AddCatalogFlag(cmd, f->catalog);
  cmd->callback([&ctx, f] {
    auto args = ReadArgs(*f);
    if (!args.ok()) return ctx.Fail(args.status(), "", kExitUsage);
    if (!f->upstream_proxy.empty()) {
      sandbox::Spec probe;
      probe.profile = "net";
      probe.upstream_proxy = f->upstream_proxy;
      if (Status s = sandbox::CheckNetSpec(probe); !s.ok()) return ctx.Fail(s, "", kExitUsage);
    }
    const auto& config = ctx.config();
    if (!config.ok()) return ctx.Fail(config.status(), "fix the config file");
    auto log = OpenAuditLogForAppend(ctx, f->audit, "nothing ran: an action that cannot be audited does not run");
    if (log == nullptr) return;

    SkillCallRequest request;
    request.skill = f->name;
    request.args = std::move(*args);
    request.workspace = std::filesystem::absolute(f->workspace).lexically_normal();
    request.principal = f->principal;
    auto slash = f->principal.find('/');
    request.tenant = slash == std::string::npos ? f->principal : f->principal.substr(0, slash);
    request.task_id = f->task;
    request.upstream_proxy = f->upstream_proxy;

    // The audit log is open before the catalog loads, so the manifests this run saw rejected are recorded
    // (skill.rejected); a reload row per run would say nothing new, so there is none.
    CatalogAuditOptions catalog_audit;
    catalog_audit.tenant = request.tenant;
    catalog_audit.principal = request.principal;
    catalog_audit.reloads = false;
    CatalogAuditor auditor(*log, catalog_audit);
    auto catalog = OpenCatalog(ctx, f->catalog, {}, auditor.Listener());
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    WarnRejections(ctx, **catalog);
    if (!auditor.status().ok()) std::fprintf(stderr, "warden: %s\n", auditor.status().ToString().c_str());

    auto policies_dir = ResolvePolicyDir(ctx, f->policies);
    if (!policies_dir.ok()) return ctx.Fail(policies_dir.status());
    auto policies = policy::PolicySet::LoadDir(*policies_dir, PolicyLoadOptions(ctx, f->policies));
    if (!policies.ok()) return ctx.Fail(policies.status(), "`warden init` installs the default policies");
    policy::Limiter limiter;
    sandbox::SetPrestart(false);  // one skill call per process: start no sandbox ahead for a next one
    auto outcome = CallSkill(request, SkillCallContext{**catalog, **policies, &limiter, *log});
    if (!outcome.ok()) return ctx.Fail(outcome.status());

    const auto& o = *outcome;
    if (o.verdict != SkillCallOutcome::Verdict::kRan) {
      const bool denied = o.verdict == SkillCallOutcome::Verdict::kDenied;
      std::string why;
      for (const auto& d : o.decisions) {
        if (d.effect == policy::Effect::kAllow) continue;
        why += "\n  " + d.request.value("action", std::string());
        if (const auto& res = d.request.value("resource", nlohmann::json::object()); res.contains("host")) {
          why += " " + res.value("host", std::string()) + ":" + std::to_string(res.value("port", 0));
        }
        why += ": " + std::string(policy::EffectName(d.effect));
        for (const auto& r : d.determining) why += " by " + r.rule + " (" + r.file + ":" + std::to_string(r.line) + ")";
        if (d.is_default) why += " (no rule allows it)";
      }
      ctx.exit_code = denied ? kExitDenied : kExitNeedsApproval;
      if (ctx.json) return ctx.Emit(o.ToJson(), "");
      std::fprintf(stderr, "warden: skill %s %s by policy%s\n", f->name.c_str(),
                   denied ? "denied" : "needs a human's approval", why.c_str());
      return;
    }
    const auto& run = *o.run;
    if (run.IsViolation()) ctx.exit_code = kExitSandboxViolation;
    else if (run.exit_kind == "exited") ctx.exit_code = run.exit_code == 0 ? kExitOk : kExitError;
    else ctx.exit_code = kExitError;
    if (ctx.json) return ctx.Emit(o.ToJson(), "");
    std::fwrite(run.stdout_data.data(), 1, run.stdout_data.size(), stdout);
    std::fwrite(run.stderr_data.data(), 1, run.stderr_data.size(), stderr);
    std::fprintf(stderr, "warden: %s %s (exit %d) in %.0f ms; audit seq %llu-%llu\n", f->name.c_str(),
                 run.exit_kind.c_str(), run.exit_code, run.wall_ms,
                 static_cast<unsigned long long>(o.audit_seqs.front()),
                 static_cast<unsigned long long>(o.audit_seqs.back()));
  });
}

}  // namespace warden::cli
