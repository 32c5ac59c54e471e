// `warden audit export`: write the filtered events to a file as JSON lines or CSV, each row with its prev_hash and
// row_hash, followed by the proof that ties them to signed checkpoints (policy-audit.md B.6 step 7, B.8), so
// `warden audit verify --export FILE` can check the export without the database. For CSV the proof goes to
// FILE.proof.jsonl.
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
    const auto format = *audit::ParseOutputFormat(f->format);
    auto r = audit::Export(*db, *filter, format);
    if (!r.ok()) return ctx.Fail(r.status());
    if (f->out == "-") {
      std::cout << r->text;
      std::cout.flush();
      return;
    }
    Status st = WriteFileAtomic(f->out, r->text);
    if (st.ok() && !r->proof.empty()) st = WriteFileAtomic(f->out + ".proof.jsonl", r->proof);
    if (!st.ok()) return ctx.Fail(st, "choose a writable --out path");
    nlohmann::json doc{{"out", f->out},         {"format", f->format},
                       {"events", r->events},   {"bytes", r->text.size()},
                       {"checkpoints", r->checkpoints}};
    if (!r->proof.empty()) doc["proof"] = f->out + ".proof.jsonl";
    if (r->events > 0) {
      doc["first_seq"] = r->first_seq;
      doc["last_seq"] = r->last_seq;
    }
    ctx.Emit(doc, "exported " + std::to_string(r->events) + " events to " + f->out + " (" + f->format + ") with " +
                      std::to_string(r->checkpoints) + " signed checkpoints as proof" +
                      (r->proof.empty() ? "" : " in " + f->out + ".proof.jsonl"));
  });
}

}  // namespace warden::cli
