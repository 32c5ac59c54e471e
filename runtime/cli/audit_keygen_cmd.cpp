// `warden audit keygen`: create the Ed25519 key that signs audit checkpoints (secret seed 0600, public key beside it
// as .pub); the writer registers the public key in the database the first time it signs (policy-audit.md B.4).
#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditKeygen(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("keygen", "Create the Ed25519 checkpoint signing key (mode 0600) and KEY.pub");
  struct Flags {
    AuditDbFlags db;
    bool force = false;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddKeyFlag(cmd, f->db);
  cmd->add_flag("--force", f->force, "Replace an existing key (checkpoints it signed still verify by key id)");
  cmd->callback([&ctx, f] {
    auto key = ResolveAuditKey(ctx, f->db);
    if (!key.ok()) return ctx.Fail(key.status(), "fix the config file or pass --key FILE");
    auto pk = audit::Keygen(*key, f->force);
    if (!pk.ok()) return ctx.Fail(pk.status());
    nlohmann::json doc{{"key", key->string()}, {"public_key_file", key->string() + ".pub"},
                       {"public_key", *pk}, {"alg", "ed25519"}};
    ctx.Emit(doc, "secret key  " + key->string() + " (mode 0600: keep it outside every sandbox mount)\n" +
                      "public key  " + key->string() + ".pub\n" + "ed25519     " + *pk + "\n" +
                      "Give the public key to reviewers: `warden audit verify --pubkey " + *pk + "`\n");
  });
}

}  // namespace warden::cli
