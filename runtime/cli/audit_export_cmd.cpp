// `warden audit export`: write the filtered events to a file as JSON lines or CSV, each row with its prev_hash and
// row_hash so the export can be checked against the chain (policy-audit.md B.8).
#include <iostream>

#include "audit/audit.h"
#include "runtime/base/file_util.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditExport(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("export", "Write audit events matching filters to a file (jsonl or csv)");
  struct Flags {
    AuditDbFlags db;
    AuditFilterFlags filter;
    std::string format = "jsonl";
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddFilterFlags(cmd, f->filter);
  cmd->add_option("--format", f->format, "jsonl (default) or csv")->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("--out", f->out, "Output file ('-' for stdout)")->required();
  cmd->callback([&ctx, f] {
    auto filter = BuildFilter(f->filter);
    if (!filter.ok()) return ctx.Fail(filter.status(), "see `warden audit export --help`", kExitUsage);
    auto db = ResolveAuditDb(ctx, f->db);
    if (!db.ok()) return ctx.Fail(db.status(), "fix the config file or pass --db FILE");
    auto rows = audit::Query(*db, *filter);
    if (!rows.ok()) return ctx.Fail(rows.status());
    const std::string text = audit::Render(*rows, *audit::ParseOutputFormat(f->format));
    if (f->out == "-") {
      std::cout << text;
      std::cout.flush();
      return;
    }
    Status st = WriteFileAtomic(f->out, text);
    if (!st.ok()) return ctx.Fail(st, "choose a writable --out path");
    nlohmann::json doc{{"out", f->out}, {"format", f->format}, {"events", rows->size()}, {"bytes", text.size()}};
    if (!rows->empty()) {
      doc["first_seq"] = rows->front().seq;
      doc["last_seq"] = rows->back().seq;
    }
    ctx.Emit(doc, "exported " + std::to_string(rows->size()) + " events to " + f->out + " (" + f->format + ")");
  });
}

}  // namespace warden::cli
