// What the `warden policy ...` verbs share: which folder to load (a DIR argument or --policies, else the config's
// policies folder) and the load options the runtime would use, with the home's own files protected (issue 6, CLI).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "policies/policy.h"
#include "runtime/cli/cli_context.h"

namespace warden::cli {

struct PolicyDirFlags {
  std::string dir;           // DIR / --policies; empty = the config's policies folder
  std::string sandbox_root;  // --sandbox-root; empty = "/"
};

inline void AddSandboxRootFlag(CLI::App* cmd, PolicyDirFlags& f) {
  cmd->add_option("--sandbox-root", f.sandbox_root,
                  "Resolve symlinks in requested paths as seen from this folder (the sandbox's /); default /");
}

inline Result<std::filesystem::path> ResolvePolicyDir(CliContext& ctx, const PolicyDirFlags& f) {
  if (!f.dir.empty()) return std::filesystem::path(f.dir);
  const auto& config = ctx.config();
  if (!config.ok()) return config.status();
  return config->policies_dir;
}

// The built-in guardrail covers the policies folder, the audit database with its WAL and journal, and the key.
inline policy::LoadOptions PolicyLoadOptions(CliContext& ctx, const PolicyDirFlags& f) {
  policy::LoadOptions o;
  if (!f.sandbox_root.empty()) o.sandbox_root = f.sandbox_root;
  const auto& config = ctx.config();
  if (config.ok()) {
    const auto abs = [](const std::filesystem::path& p) { return std::filesystem::absolute(p).lexically_normal().string(); };
    o.protected_paths = {abs(config->policies_dir), abs(config->audit_db), abs(config->audit_db) + "-wal",
                         abs(config->audit_db) + "-shm", abs(config->audit_db) + "-journal",
                         abs(config->audit_db.parent_path() / "audit.key")};
  }
  if (!f.dir.empty()) o.protected_paths.push_back(std::filesystem::absolute(f.dir).lexically_normal().string());
  return o;
}

// The DIR argument and --sandbox-root that `policy check` and `policy test` take.
inline std::shared_ptr<PolicyDirFlags> AddCheckedDirFlags(CLI::App* cmd) {
  auto f = std::make_shared<PolicyDirFlags>();
  cmd->add_option("DIR", f->dir, "Policies folder (default: the config's policies folder, <home>/policies)");
  AddSandboxRootFlag(cmd, *f);
  return f;
}

// A policies folder read and checked as the runtime would load it: what `policy check` and `policy test` report on.
struct CheckedPolicyDir {
  std::filesystem::path dir;
  size_t file_count = 0;
  policy::PolicySet::CheckReport report;
};

// Resolves the folder, reads its files and checks them (errors and inline tests). A folder that cannot be resolved
// or read is reported through ctx.Fail and gives nothing; errors inside the files are in the report.
inline std::optional<CheckedPolicyDir> CheckPolicyDir(CliContext& ctx, const PolicyDirFlags& f) {
  auto dir = ResolvePolicyDir(ctx, f);
  if (!dir.ok()) {
    ctx.Fail(dir.status(), "fix the config file or pass DIR");
    return std::nullopt;
  }
  auto files = policy::PolicySet::ReadDir(*dir);
  if (!files.ok()) {
    ctx.Fail(files.status());
    return std::nullopt;
  }
  auto report = policy::PolicySet::Check(*files, PolicyLoadOptions(ctx, f));
  return CheckedPolicyDir{std::move(dir).value(), files->size(), std::move(report)};
}

}  // namespace warden::cli
