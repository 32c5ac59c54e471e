// Test helpers of the policy suites: the reference policy set of policy-audit.md A.8.6 written out as files, a
// sandbox root with the symlinks the doc's cases need, and request builders.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "policies/policy.h"
#include "runtime/base/file_util.h"

namespace warden::policy::testutil {

using Files = std::vector<std::pair<std::string, std::string>>;

inline Files ReferenceFiles() {
  return {
      {"00-guardrails.toml", R"(# tenant "*": global deny/ask rules
[policy]
id = "guardrails"
tenant = "*"

[[rule]]
id = "deny-secret-files"
effect = "deny"
actions = ["fs.read", "fs.write"]
paths_ci = ["**/.env", "**/.env.*", "**/*.pem", "**/id_rsa*", "/etc/shadow"]
reason = "Secret files are never readable by agents"

[[rule]]
id = "deny-git-internals"
effect = "deny"
actions = ["fs.write"]
paths = ["/workspace/.git/**"]

[[rule]]
id = "deny-local-nets"
effect = "deny"
actions = ["net.connect"]
cidrs = ["127.0.0.0/8", "169.254.0.0/16", "::1/128", "fd00::/8"]

[[rule]]
id = "deny-offline-net"
effect = "deny"
actions = ["net.connect"]
skill_tags = ["offline"]

[[rule]]
id = "ask-git-push"
effect = "ask"
actions = ["tool.call"]
tools = ["shell"]
when = [ { path = "$.args.argv[0]", equals = "git" },
         { path = "$.args.argv[1]", equals = "push" } ]
approvers = ["group:acme/maintainers"]
approval_timeout = "15m"
reason = "Pushes need a maintainer"

[[rule]]
id = "deny-push-release"
effect = "deny"
actions = ["tool.call"]
tools = ["shell"]
when = [ { path = "$.args.argv[1]", equals = "push" },
         { path = "$.args.argv[3]", regex = "release/.*" } ]
)"},
      {"10-acme.toml", R"([policy]
id = "acme-base"
tenant = "acme"

[[rule]]
id = "ws-read"
effect = "allow"
actions = ["fs.read"]
principals = ["acme/agent/*"]
paths = ["/workspace/**"]
reason = "Agents may read their own workspace"

[[rule]]
id = "ws-write"
effect = "allow"
actions = ["fs.write"]
principals = ["acme/agent/*"]
paths = ["/workspace/**"]

[[rule]]
id = "skills-ok"
effect = "allow"
actions = ["skill.select", "skill.exec"]
skills = ["pdf-tools", "git-helper", "web-fetch"]

[[rule]]
id = "net-github"
effect = "allow"
actions = ["net.connect"]
hosts = ["api.github.com", "*.githubusercontent.com"]
ports = [443]

[[rule]]
id = "shell-git"
effect = "allow"
actions = ["tool.call"]
tools = ["shell"]
when = [ { path = "$.args.argv[0]", equals = "git" },
         { path = "$.args.argv[1]", in = ["status", "diff", "log", "push"] },
         { path = "$.args.compound", equals = false } ]
reason = "Everyday git subcommands"

[[rule]]
id = "refund-small"
effect = "allow"
actions = ["tool.call"]
tools = ["payments.refund"]
when = [ { path = "$.args.amount_cents", between = [1, 50000] } ]

[[rule]]
id = "models"
effect = "allow"
actions = ["model.generate"]
models = ["claude-*"]

[[rule]]
id = "submit"
effect = "allow"
actions = ["task.submit"]
principals = ["group:acme/submitters"]
)"},
      {"groups.toml", R"([groups]
"acme/submitters" = ["group:acme/leads"]
"acme/leads" = ["acme/user/alice"]
"acme/maintainers" = ["acme/user/bob"]
)"},
      {"limits.toml", R"([[limit]]
id = "tokens-per-task"
actions = ["model.generate"]
scope = "task"
metric = "tokens"
max = 200000
window = "task"
on_exceed = "deny"

[[limit]]
id = "shell-rate"
actions = ["tool.call"]
tools = ["shell"]
scope = "task"
metric = "calls"
max = 30
window = "60s"
on_exceed = "deny"
)"},
  };
}

// A request by acme/agent/bot unless `principal` is given.
inline nlohmann::json Req(const std::string& action, nlohmann::json resource, nlohmann::json extra = nlohmann::json::object(),
                          const std::string& principal = "acme/agent/bot") {
  nlohmann::json r{{"principal", principal}, {"action", action}, {"resource", std::move(resource)}};
  for (auto& [k, v] : extra.items()) r[k] = v;
  return r;
}

inline void WriteFiles(const std::filesystem::path& dir, const Files& files) {
  for (const auto& [name, text] : files) {
    std::filesystem::create_directories((dir / name).parent_path());
    auto st = WriteFileAtomic(dir / name, text);
    (void)st;
  }
}

}  // namespace warden::policy::testutil
