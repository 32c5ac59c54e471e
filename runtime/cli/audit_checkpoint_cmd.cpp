// `warden audit checkpoint`: sign a checkpoint over the current chain head now (policy-audit.md B.4), optionally also
// appending the note to an off-database copy.
#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditCheckpoint(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("checkpoint", "Sign a checkpoint over the current head of the audit chain now");
  struct Flags {
    AuditDbFlags db;
    std::string copy;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddKeyFlag(cmd, f->db);
  cmd->add_option("--copy", f->copy, "Also append the signed note to this file (keep it on another volume or host)");
  cmd->callback([&ctx, f] {
    const auto paths = ResolveAuditSigningPaths(ctx, f->db);
    if (!paths) return;
    audit::Options o;
    o.checkpoint_copy_path = f->copy;
    auto log = OpenAuditLogForSigning(ctx, *paths, o);
    if (!log) return;
    auto cp = log->Checkpoint();
    if (!cp.ok()) return ctx.Fail(cp.status());
    nlohmann::json doc{{"upto_seq", cp->upto_seq}, {"head_hash", cp->head_hash}, {"ts_ns", cp->ts_ns},
                       {"key_id", cp->key_id}, {"created", cp->created}, {"note", cp->note}};
    ctx.Emit(doc, std::string(cp->created ? "signed" : "already signed") + " checkpoint at seq " +
                      std::to_string(cp->upto_seq) + "\n\n" + cp->note);
  });
}

}  // namespace warden::cli
