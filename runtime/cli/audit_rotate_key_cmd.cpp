// `warden audit rotate-key`: replace the checkpoint signing key (policy-audit.md B.4). A new key is created (or
// --new-key is used), an audit.key_rotated event is sealed by a checkpoint signed with the old key, and the new key
// takes the old key's file name so later runs sign with it; the old secret moves to <key>.retired-<key id>.
#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditRotateKey(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("rotate-key", "Rotate the audit signing key (old key seals the rotation)");
  struct Flags {
    AuditDbFlags db;
    std::string new_key, copy;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddKeyFlag(cmd, f->db);
  cmd->add_option("--new-key", f->new_key, "Use this existing secret key file (default: generate one)");
  cmd->add_option("--copy", f->copy, "Also append the rotation checkpoint to this off-database copy");
  cmd->callback([&ctx, f] {
    const auto paths = ResolveAuditSigningPaths(ctx, f->db);
    if (!paths) return;
    const auto& key = paths->key;
    std::filesystem::path next = f->new_key;
    const bool generated = next.empty();
    if (generated) {
      next = key.string() + ".new";
      auto pk = audit::Keygen(next, /*overwrite=*/true);
      if (!pk.ok()) return ctx.Fail(pk.status());
    }
    audit::Options o;
    o.checkpoint_copy_path = f->copy;
    std::string new_id;
    {
      auto log = OpenAuditLogForSigning(ctx, *paths, o, "rotation needs the current key: pass --key");
      if (!log) return;
      auto r = log->RotateKey(next);
      if (!r.ok()) return ctx.Fail(r.status());
      new_id = *r;
    }
    auto old_pub = audit::PublicKeyOf(key);
    std::string moved;
    if (generated && old_pub.ok()) {
      // The new key takes the configured name; the old secret is kept aside (it verifies nothing a .pub cannot, but
      // an operator may want to destroy it deliberately).
      std::error_code ec;
      moved = key.string() + ".retired-" + old_pub->substr(0, 8);
      std::filesystem::rename(key, moved, ec);
      if (!ec) std::filesystem::rename(key.string() + ".pub", moved + ".pub", ec);
      if (!ec) std::filesystem::rename(next, key, ec);
      if (!ec) std::filesystem::rename(next.string() + ".pub", key.string() + ".pub", ec);
      if (ec) {
        return ctx.Fail(Status::IoError("moving the rotated key files into place", ec.value()),
                        "the rotation is recorded; move " + next.string() + " to " + key.string() + " by hand");
      }
    }
    auto pub = audit::PublicKeyOf(generated ? key : next);
    nlohmann::json doc{{"new_key_id", new_id}, {"public_key", pub.ok() ? *pub : ""},
                       {"key", generated ? key.string() : next.string()}, {"retired_key", moved}};
    ctx.Emit(doc, "rotated the audit signing key; new key id " + new_id + " (" +
                      (generated ? key.string() : next.string()) + ")\ngive reviewers the new public key: " +
                      (pub.ok() ? *pub : std::string("?")));
  });
}

}  // namespace warden::cli
