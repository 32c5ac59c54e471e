// `warden audit query`: filtered reads of the audit trail as an 80-column table, JSON, JSON lines or CSV
// (policy-audit.md B.8; issue 5, CLI).
#include <iostream>

#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditQuery(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("query", "Show audit events matching filters (table, json, jsonl or csv)");
  struct Flags {
    AuditDbFlags db;
    AuditFilterFlags filter;
    std::string format = "table";
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddFilterFlags(cmd, f->filter);
  cmd->add_option("--format", f->format, "table (80 columns), json, jsonl or csv")
      ->check(CLI::IsMember({"table", "json", "jsonl", "csv"}));
  cmd->callback([&ctx, f] {
    auto filter = BuildFilter(f->filter);
    if (!filter.ok()) return ctx.Fail(filter.status(), "see `warden audit query --help`", kExitUsage);
    auto db = ResolveAuditDb(ctx, f->db);
    if (!db.ok()) return ctx.Fail(db.status(), "fix the config file or pass --db FILE");
    auto rows = audit::Query(*db, *filter);
    if (!rows.ok()) return ctx.Fail(rows.status());
    if (ctx.json) {
      ctx.Emit(nlohmann::json::parse(audit::Render(*rows, audit::OutputFormat::kJson)), "");
      return;
    }
    std::cout << audit::Render(*rows, *audit::ParseOutputFormat(f->format));
    std::cout.flush();
  });
}

}  // namespace warden::cli
