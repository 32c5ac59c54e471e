// One skill call, end to end, the way the agent loop makes it: the catalog names the skill, its arguments are checked
// against the manifest's schema, the policy gate decides skill.exec (and net.connect for every host the manifest
// declares), each decision is made durable in the audit trail BEFORE anything runs (fail closed), the program runs in
// the sandbox with the limits and permissions of its manifest, and the sandbox's result is audited as is. This is the
// only place where catalog, policy, sandbox and audit meet; each is reached through its public header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "policies/policy.h"
#include "runtime/base/result.h"
#include "sandbox/sandbox.h"
#include "skills/skills.h"

namespace warden {

struct SkillCallRequest {
  std::string skill;                             // catalog name
  nlohmann::json args = nlohmann::json::object();  // the call's arguments (checked against the manifest)
  std::filesystem::path workspace;               // host folder mounted read-write at /workspace; required
  std::string tenant = "local";
  std::string principal = "local/user/cli";      // who asked: tenant/kind/name
  std::string task_id;                           // empty: a fresh "t-<time>" id
  std::string upstream_proxy;                    // network skills: "host:port" of the site's HTTP egress proxy
                                                 // that the sandbox proxy sends allowed requests to; empty =
                                                 // the sandbox proxy resolves and dials itself
};

struct SkillCallOutcome {
  enum class Verdict { kRan, kDenied, kNeedsApproval };
  Verdict verdict = Verdict::kDenied;
  std::string task_id;
  std::vector<policy::Decision> decisions;       // skill.exec first, then one net.connect per declared host
  std::optional<sandbox::RunResult> run;         // when it ran
  std::vector<uint64_t> audit_seqs;              // the audit rows this call wrote, in order
  nlohmann::json ToJson() const;
};

// The subsystems a call passes through. The limiter may be null (no [[limit]] accounting).
struct SkillCallContext {
  const skills::Catalog& catalog;
  const policy::PolicySet& policies;
  policy::Limiter* limiter = nullptr;
  audit::Log& audit;
};

// The manifest permission summary the default policies test ("workspace", "network" or "host").
std::string PermissionScope(const skills::Skill& skill);

// Makes the call. Errors (nothing ran): unknown or instruction-only skill, arguments that fail the schema, a missing
// workspace, or an audit record that could not be made durable. A deny or ask is a normal outcome, not an error.
Result<SkillCallOutcome> CallSkill(const SkillCallRequest& request, const SkillCallContext& context);

}  // namespace warden
