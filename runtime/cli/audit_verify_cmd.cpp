// `warden audit verify`: recompute the hash chain and check every checkpoint signature (policy-audit.md B.6); --deep
// adds SQLite's quick_check and the canonical form of every body. Exits 1 naming the first bad sequence number and
// what is wrong there; exits 0 with counts when the log is intact.
#include <sstream>

#include "audit/audit.h"
#include "runtime/base/file_util.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditVerify(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "verify",
      "Recompute the audit hash chain and check every checkpoint signature.\n"
      "By default every row's content hash and chain hash are recomputed from the stored bytes and every checkpoint "
      "signature and head is checked: that finds any changed, deleted, inserted or reordered row. --deep also runs "
      "SQLite's quick_check (page damage in indexes and free lists) and requires every body to be in canonical form "
      "(rows written by something other than Warden); it takes about twice as long.");
  struct Flags {
    AuditDbFlags db;
    uint64_t from = 0;
    std::vector<std::string> pubkeys;
    std::string copy, export_file;
    bool deep = false, no_quick_check = false;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  cmd->add_option("--from", f->from, "Start at this seq, trusting its stored prev_hash (default: the whole chain)");
  cmd->add_option("--pubkey", f->pubkeys,
                  "Trusted public key (64 hex digits, or a .pub file); repeatable. Checkpoints signed by any other "
                  "key then fail");
  cmd->add_option("--checkpoints", f->copy, "Off-database copy of checkpoint notes to compare against");
  cmd->add_option("--export", f->export_file,
                  "Verify this jsonl export or prune archive instead of the database (no database needed)");
  cmd->add_flag("--deep", f->deep,
                "Also run SQLite's quick_check and check every body's canonical form (about twice the time)");
  cmd->add_flag("--no-quick-check", f->no_quick_check, "With --deep: skip the quick_check part");
  cmd->callback([&ctx, f] {
    std::filesystem::path db;
    if (f->export_file.empty()) {
      auto resolved = ResolveAuditDb(ctx, f->db);
      if (!resolved.ok()) return ctx.Fail(resolved.status(), "fix the config file or pass --db FILE");
      db = *resolved;
    }
    audit::VerifyOptions vo;
    vo.from_seq = f->from;
    vo.checkpoint_copy = f->copy;
    vo.quick_check = f->deep && !f->no_quick_check;
    vo.check_canonical = f->deep;
    for (std::string k : f->pubkeys) {
      if (k.size() != 64 && std::filesystem::exists(k)) {
        auto text = ReadFile(k);
        if (!text.ok()) return ctx.Fail(text.status());
        k = *text;
        while (!k.empty() && (k.back() == '\n' || k.back() == ' ')) k.pop_back();
      }
      vo.pinned_public_keys.push_back(k);
    }
    auto r = f->export_file.empty() ? audit::Verify(db, vo) : audit::VerifyExport(f->export_file, vo);
    if (!r.ok()) return ctx.Fail(r.status());
    nlohmann::json doc{{"db", db.string()},
                       {"ok", r->ok},
                       {"deep", f->deep},
                       {"rows", r->rows},
                       {"first_seq", r->first_seq},
                       {"last_seq", r->last_seq},
                       {"checkpoints", r->checkpoints},
                       {"unanchored_tail", r->unanchored_tail},
                       {"head_hash", r->head_hash},
                       {"warnings", r->warnings}};
    if (!f->export_file.empty()) doc["export"] = f->export_file;
    std::ostringstream t;
    if (r->ok) {
      t << "OK: " << r->rows << " events";
      if (r->rows > 0) t << " (seq " << r->first_seq << ".." << r->last_seq << ")";
      t << ", " << r->checkpoints << " signed checkpoints verified";
      if (r->unanchored_tail > 0) t << "; " << r->unanchored_tail << " events after the last checkpoint";
      t << "\nhead " << r->head_hash << "\n";
    } else {
      doc["problem"] = {{"type", audit::ProblemName(*r->problem)}, {"seq", r->problem_seq}, {"detail", r->detail}};
      t << "FAILED: " << audit::ProblemName(*r->problem) << " at seq " << r->problem_seq << ": " << r->detail << "\n"
        << "checked " << r->rows << " events before it; keep this file unchanged for investigation\n";
      ctx.exit_code = kExitError;
    }
    for (const auto& w : r->warnings) t << "warning: " << w << "\n";
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
