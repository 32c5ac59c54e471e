// `warden audit prune`: retention (policy-audit.md B.7). Removes events older than --before / --keep-days behind a
// signed retention anchor, after writing them to a self-verifying archive (`warden audit verify --export ARCHIVE`).
#include <chrono>
#include <ctime>

#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditPrune(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("prune", "Archive and remove old audit events behind a signed retention anchor");
  struct Flags {
    AuditDbFlags db;
    std::string before, archive, copy;
    int keep_days = -1;
    bool legal_hold = false;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  AddKeyFlag(cmd, f->db);
  auto* before = cmd->add_option("--before", f->before,
                                 "Remove events older than this: RFC 3339 time or a duration ago (400d)");
  auto* keep = cmd->add_option("--keep-days", f->keep_days, "Keep this many days of events, remove older ones")
                   ->check(CLI::NonNegativeNumber);
  before->excludes(keep);
  cmd->add_option("--archive", f->archive,
                  "Write the removed events here first (default: archive/audit-pruned-<time>.jsonl beside the db)");
  cmd->add_option("--copy", f->copy, "Also append the new checkpoint to this off-database copy");
  cmd->add_flag("--legal-hold", f->legal_hold, "Refuse to prune (what a configured legal hold does)");
  cmd->callback([&ctx, f] {
    if (f->before.empty() && f->keep_days < 0) {
      return ctx.Fail(Status::InvalidArgument("prune needs --before TIME or --keep-days N"),
                      "e.g. `warden audit prune --keep-days 400`", kExitUsage);
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    int64_t cutoff = now - static_cast<int64_t>(std::max(0, f->keep_days)) * 86'400'000'000'000;
    if (!f->before.empty()) {
      auto t = audit::ParseTime(f->before, now);
      if (!t.ok()) return ctx.Fail(t.status().WithContext("--before"), "see `warden audit prune --help`", kExitUsage);
      cutoff = *t;
    }
    const auto paths = ResolveAuditSigningPaths(ctx, f->db);
    if (!paths) return;
    const auto& db = paths->db;
    std::filesystem::path archive = f->archive;
    if (archive.empty()) {
      const std::time_t t = std::time(nullptr);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char name[64];
      std::strftime(name, sizeof(name), "audit-pruned-%Y%m%dT%H%M%SZ.jsonl", &tm);
      archive = db.parent_path() / "archive" / name;
    }
    audit::Options o;
    o.checkpoint_copy_path = f->copy;
    o.legal_hold = f->legal_hold;
    auto log = OpenAuditLogForSigning(ctx, *paths, o,
                                      "pruning needs the signing key: pass --key or run `warden audit keygen`");
    if (!log) return;
    audit::PruneOptions po;
    po.before_ns = cutoff;
    po.archive = archive;
    auto r = log->Prune(po);
    if (!r.ok()) return ctx.Fail(r.status());
    nlohmann::json doc{{"pruned", r->pruned}, {"cutoff_ns", cutoff}};
    if (!r->pruned) {
      doc["reason"] = r->reason;
      return ctx.Emit(doc, "nothing pruned: " + r->reason);
    }
    doc.update({{"pruned_rows", r->pruned_rows}, {"first_kept_seq", r->first_kept_seq},
                {"archive", archive.string()}, {"archive_sha256", r->archive_sha256}, {"event_seq", r->event_seq}});
    ctx.Emit(doc, "pruned " + std::to_string(r->pruned_rows) + " events (seq < " + std::to_string(r->first_kept_seq) +
                      ") into " + archive.string() + "\narchive sha256 " + r->archive_sha256 +
                      "\nrecorded as audit.pruned at seq " + std::to_string(r->event_seq) +
                      "; check the archive with `warden audit verify --export " + archive.string() + "`");
  });
}

}  // namespace warden::cli
