// CallSkill: catalog → argument schema → policy gate → audit (durable) → sandbox → audit. See skill_call.h.
#include "runtime/skill_call.h"

#include <chrono>
#include <string>

namespace warden {
namespace {

using nlohmann::json;

std::string FreshTaskId() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return "t-" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

// The policy request for one gated action of this call (policy-audit.md A.8.2).
json BaseRequest(const SkillCallRequest& request, const std::string& task_id, const skills::Skill& skill,
                 const std::string& action) {
  return json{{"tenant", request.tenant},
              {"principal", request.principal},
              {"action", action},
              {"task", {{"id", task_id}, {"cwd", "/workspace"}}},
              {"skill",
               {{"name", skill.name},
                {"version", skill.version},
                {"tags", skill.tags},
                {"permissions",
                 {{"scope", PermissionScope(skill)},
                  {"workspace", skill.permissions.workspace},
                  {"read_paths", skill.permissions.read_paths},
                  {"hosts", skill.permissions.hosts}}}}}};
}

// Splits "host:port" (the manifest validated the form); a missing port stays 0 so the policy sees it as invalid.
std::pair<std::string, int> SplitHostPort(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return {host_port, 0};
  try {
    return {host_port.substr(0, colon), std::stoi(host_port.substr(colon + 1))};
  } catch (const std::exception&) {
    return {host_port.substr(0, colon), 0};
  }
}

audit::Event EventFor(const SkillCallRequest& request, const std::string& task_id, const std::string& skill,
                      std::string kind, std::string action) {
  audit::Event e;
  e.kind = std::move(kind);
  e.tenant_id = request.tenant;
  e.principal_id = request.principal;
  e.task_id = task_id;
  e.skill = skill;
  e.action = std::move(action);
  return e;
}

// Records one decision; the call stops here when the record cannot be made durable.
Status AuditDecision(const SkillCallRequest& request, const std::string& task_id, const std::string& skill,
                     const policy::Decision& decision, audit::Log& log, std::vector<uint64_t>& seqs) {
  auto e = EventFor(request, task_id, skill, "policy.decision", decision.request.value("action", ""));
  e.decision = std::string(policy::EffectName(decision.effect));
  e.policy_set = decision.policy_set;
  e.body = policy::ToJson(decision);
  auto seq = log.Append(std::move(e));
  if (!seq.ok()) {
    return seq.status().WithContext("the policy decision could not be recorded, so the skill did not run");
  }
  seqs.push_back(*seq);
  return Status::Ok();
}

sandbox::Spec SpecFor(const skills::Skill& skill, const SkillCallRequest& request, const json& args) {
  sandbox::Spec spec;
  spec.argv = skill.entrypoint;
  spec.workspace = request.workspace.string();
  spec.workspace_readonly = skill.permissions.workspace == "read";
  spec.workspace_none = skill.permissions.workspace == "none";  // nothing of the caller's folder is visible
  spec.profile = skill.permissions.hosts.empty() ? "default" : "net";
  // Profile "net" only when the policy allowed net.connect to every declared host (CallSkill runs nothing
  // otherwise); the sandbox proxy then admits exactly these host:port pairs and records each request, and those
  // records reach the audit log inside the sandbox.run body.
  spec.allowed_hosts = skill.permissions.hosts;
  if (spec.profile == "net") spec.upstream_proxy = request.upstream_proxy;
  spec.timeout_s = static_cast<double>(skill.limits.timeout_s);
  spec.cpu_time_s = static_cast<double>(skill.limits.timeout_s);
  spec.memory_bytes = static_cast<uint64_t>(skill.limits.memory_mb) << 20;
  spec.stdout_cap_bytes = static_cast<uint64_t>(skill.limits.output_kb) << 10;
  spec.ro_paths.push_back(skill.root.string());
  // A skills folder's `.lib/` holds code its skills share (docs/skills-catalog.md); it is read-only like the skill.
  std::error_code ec;
  auto lib = skill.source_folder / ".lib";
  if (!skill.source_folder.empty() && std::filesystem::is_directory(lib, ec)) {
    spec.ro_paths.push_back(lib.string());
    spec.env["WARDEN_SKILL_LIB"] = lib.string();
  }
  for (const auto& p : skill.permissions.read_paths) spec.ro_paths.push_back(p);
  spec.env["WARDEN_SKILL_DIR"] = skill.root.string();
  spec.stdin_data = args.dump();
  return spec;
}

}  // namespace

std::string PermissionScope(const skills::Skill& skill) {
  if (!skill.permissions.hosts.empty()) return "network";
  if (!skill.permissions.read_paths.empty()) return "host";
  return "workspace";
}

json SkillCallOutcome::ToJson() const {
  static constexpr const char* kVerdicts[] = {"ran", "denied", "needs_approval"};
  json decisions_json = json::array();
  for (const auto& d : decisions) decisions_json.push_back(policy::ToJson(d));
  json doc{{"verdict", kVerdicts[static_cast<int>(verdict)]},
           {"task_id", task_id},
           {"decisions", decisions_json},
           {"audit_seqs", audit_seqs}};
  if (run) doc["result"] = run->ToJson();
  return doc;
}

Result<SkillCallOutcome> CallSkill(const SkillCallRequest& request, const SkillCallContext& context) {
  WARDEN_ASSIGN_OR_RETURN(skills::Skill skill, context.catalog.Find(request.skill));
  if (!skill.executable) {
    return Status::InvalidArgument("skill \"" + skill.name + "\" is instruction-only (" + skill.manifest.string() +
                                   " has no skill.json), so there is nothing to run");
  }
  if (request.workspace.empty() || !std::filesystem::is_directory(request.workspace)) {
    return Status::NotFound("workspace \"" + request.workspace.string() + "\" is not a folder");
  }
  auto args = skills::CheckArguments(skill.arguments, request.args);
  if (!args.ok()) {
    return args.status().WithContext("arguments of skill \"" + skill.name + "\" (schema in " +
                                     skill.manifest.parent_path().string() + ")");
  }

  SkillCallOutcome outcome;
  outcome.task_id = request.task_id.empty() ? FreshTaskId() : request.task_id;

  // Gate: skill.exec, then every host the manifest declares. All are decided and recorded before the combined
  // verdict, so a reviewer sees each reason even when the first one already denies.
  std::vector<json> requests;
  auto exec = BaseRequest(request, outcome.task_id, skill, "skill.exec");
  exec["resource"] = {{"skill", skill.name}};
  exec["args"] = *args;
  requests.push_back(std::move(exec));
  for (const auto& host_port : skill.permissions.hosts) {
    auto [host, port] = SplitHostPort(host_port);
    auto connect = BaseRequest(request, outcome.task_id, skill, "net.connect");
    connect["resource"] = {{"host", host}, {"port", port}};
    requests.push_back(std::move(connect));
  }
  bool any_deny = false, any_ask = false;
  for (const auto& r : requests) {
    policy::Decision decision = context.policies.Evaluate(r, context.limiter);
    WARDEN_RETURN_IF_ERROR(
        AuditDecision(request, outcome.task_id, skill.name, decision, context.audit, outcome.audit_seqs));
    any_deny = any_deny || decision.effect == policy::Effect::kDeny;
    any_ask = any_ask || decision.effect == policy::Effect::kAsk;
    outcome.decisions.push_back(std::move(decision));
  }
  if (any_deny || any_ask) {
    outcome.verdict = any_deny ? SkillCallOutcome::Verdict::kDenied : SkillCallOutcome::Verdict::kNeedsApproval;
    return outcome;
  }

  WARDEN_ASSIGN_OR_RETURN(sandbox::RunResult run, sandbox::Run(SpecFor(skill, request, *args)));
  auto e = EventFor(request, outcome.task_id, skill.name, "sandbox.run", "skill.exec");
  e.body = run.ToJson();
  auto seq = context.audit.Append(std::move(e));
  // The program already ran; a lost record is still an error the caller must see (the output is withheld).
  if (!seq.ok()) return seq.status().WithContext("skill \"" + skill.name + "\" ran but its result was not recorded");
  outcome.audit_seqs.push_back(*seq);
  outcome.run = std::move(run);
  outcome.verdict = SkillCallOutcome::Verdict::kRan;
  return outcome;
}

}  // namespace warden
