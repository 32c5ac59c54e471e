// What the `warden audit ...` verbs share: the --db and --key flags resolved against the config, and the query
// filters of `audit query` and `audit export` (issue 5, CLI).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "audit/audit.h"
#include "runtime/cli/cli_context.h"

namespace warden::cli {

struct AuditDbFlags {
  std::string db;   // --db FILE; empty = the config's audit_db
  std::string key;  // --key FILE; empty = audit.key beside the database
};

inline void AddDbFlag(CLI::App* cmd, AuditDbFlags& f) {
  cmd->add_option("--db", f.db, "Audit database (default: audit_db from the config, <home>/audit/audit.db)");
}

inline void AddKeyFlag(CLI::App* cmd, AuditDbFlags& f) {
  cmd->add_option("--key", f.key, "Ed25519 signing key file (default: audit.key beside the database)");
}

// The database path: --db, else the config's audit_db.
inline Result<std::filesystem::path> ResolveAuditDb(CliContext& ctx, const AuditDbFlags& f) {
  if (!f.db.empty()) return std::filesystem::path(f.db);
  const auto& config = ctx.config();
  if (!config.ok()) return config.status();
  return config->audit_db;
}

inline Result<std::filesystem::path> ResolveAuditKey(CliContext& ctx, const AuditDbFlags& f) {
  if (!f.key.empty()) return std::filesystem::path(f.key);
  WARDEN_ASSIGN_OR_RETURN(auto db, ResolveAuditDb(ctx, f));
  return db.parent_path() / "audit.key";
}

// The database and key of a verb that signs (checkpoint, prune, rotate-key).
struct AuditSigningPaths {
  std::filesystem::path db, key;
};

// Resolves --db and --key and checks that the database exists: a signing verb must not create an empty one. On
// failure it reports through ctx.Fail and returns nothing.
inline std::optional<AuditSigningPaths> ResolveAuditSigningPaths(CliContext& ctx, const AuditDbFlags& f) {
  auto db = ResolveAuditDb(ctx, f);
  if (!db.ok()) {
    ctx.Fail(db.status(), "fix the config file or pass --db FILE");
    return std::nullopt;
  }
  auto key = ResolveAuditKey(ctx, f);
  if (!key.ok()) {
    ctx.Fail(key.status());
    return std::nullopt;
  }
  if (!std::filesystem::exists(*db)) {
    ctx.Fail(Status::NotFound("no audit database at " + db->string()), "pass --db FILE");
    return std::nullopt;
  }
  return AuditSigningPaths{std::move(db).value(), std::move(key).value()};
}

// Opens the log at `paths` with the rest of `o` as the verb set it. On failure it reports through ctx.Fail with
// `hint` and returns null.
inline std::unique_ptr<audit::Log> OpenAuditLogForSigning(CliContext& ctx, const AuditSigningPaths& paths,
                                                          audit::Options o, const std::string& hint = "") {
  o.path = paths.db;
  o.key_path = paths.key;
  auto log = audit::Log::Open(o);
  if (!log.ok()) {
    ctx.Fail(log.status(), hint);
    return nullptr;
  }
  return std::move(log).value();
}

// Opens the log for appending, as the verbs that record events do (`skills run`, `skills reindex --audit`): the
// checkpoints are signed when the key exists (`warden audit keygen`); the chain protects every row either way. On
// failure it reports through ctx.Fail with `hint` and returns null.
inline std::unique_ptr<audit::Log> OpenAuditLogForAppend(CliContext& ctx, const AuditDbFlags& f,
                                                         const std::string& hint) {
  auto db = ResolveAuditDb(ctx, f);
  if (!db.ok()) {
    ctx.Fail(db.status(), "fix the config file or pass --db FILE");
    return nullptr;
  }
  auto key = ResolveAuditKey(ctx, f);
  if (!key.ok()) {
    ctx.Fail(key.status(), "fix the config file or pass --key FILE");
    return nullptr;
  }
  audit::Options o;
  o.path = *db;
  std::error_code ec;
  if (std::filesystem::exists(*key, ec)) o.key_path = *key;
  auto log = audit::Log::Open(o);
  if (!log.ok()) {
    ctx.Fail(log.status(), hint);
    return nullptr;
  }
  return std::move(log).value();
}

struct AuditFilterFlags {
  std::string since, until, tenant, task, principal, skill, action, decision, kind;
  uint64_t limit = 0;
};

inline void AddFilterFlags(CLI::App* cmd, AuditFilterFlags& f) {
  cmd->add_option("--since", f.since, "From this time: RFC 3339 (2026-11-27T08:00:00Z) or a duration ago (24h, 7d)");
  cmd->add_option("--until", f.until, "Up to this time, same forms as --since");
  cmd->add_option("--tenant", f.tenant, "Only this tenant");
  cmd->add_option("--task", f.task, "Only this task id");
  cmd->add_option("--principal", f.principal, "Only this principal");
  cmd->add_option("--skill", f.skill, "Only this skill");
  cmd->add_option("--action", f.action, "Only this action (fs.write, net.connect, model.generate, ...)");
  cmd->add_option("--decision", f.decision, "Only this decision")
      ->check(CLI::IsMember({"allow", "deny", "ask", "approved", "rejected", "expired"}));
  cmd->add_option("--type", f.kind, "Only this event type (policy.decision, sandbox.run, model.call, ...)");
  cmd->add_option("--limit", f.limit, "At most this many events, the newest (0 = all)");
}

inline Result<audit::QueryFilter> BuildFilter(const AuditFilterFlags& f) {
  audit::QueryFilter q;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  if (!f.since.empty()) {
    auto t = audit::ParseTime(f.since, now);
    if (!t.ok()) return t.status().WithContext("--since");
    q.since_ns = *t;
  }
  if (!f.until.empty()) {
    auto t = audit::ParseTime(f.until, now);
    if (!t.ok()) return t.status().WithContext("--until");
    q.until_ns = *t;
  }
  auto set = [](const std::string& v, std::optional<std::string>& out) {
    if (!v.empty()) out = v;
  };
  set(f.tenant, q.tenant);
  set(f.task, q.task);
  set(f.principal, q.principal);
  set(f.skill, q.skill);
  set(f.action, q.action);
  set(f.decision, q.decision);
  set(f.kind, q.kind);
  q.limit = static_cast<size_t>(f.limit);
  return q;
}

}  // namespace warden::cli
