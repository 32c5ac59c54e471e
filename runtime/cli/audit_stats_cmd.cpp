// `warden audit stats`: counts by event type and decision, file size, the last signed checkpoint, and the free space
// of the database's file system with a warning under --warn-free-mib (policy-audit.md B.5 space_left).
#include <sstream>

#include "audit/audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"

namespace warden::cli {

void RegisterAuditStats(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "stats", "Counts by type and decision, database size, last checkpoint, free disk space (warns when low)");
  struct Flags {
    AuditDbFlags db;
    uint64_t warn_free_mib = 1024;
  };
  auto f = std::make_shared<Flags>();
  AddDbFlag(cmd, f->db);
  cmd->add_option("--warn-free-mib", f->warn_free_mib,
                  "Warn when the database's file system has less than this many MiB free (default 1024). A full disk "
                  "fails every audited action");
  cmd->callback([&ctx, f] {
    auto db = ResolveAuditDb(ctx, f->db);
    if (!db.ok()) return ctx.Fail(db.status(), "fix the config file or pass --db FILE");
    auto st = audit::GetStats(*db);
    if (!st.ok()) return ctx.Fail(st.status());
    nlohmann::json doc{{"db", db->string()},       {"origin", st->origin},       {"events", st->events},
                       {"first_seq", st->first_seq}, {"last_seq", st->last_seq}, {"first_ts_ns", st->first_ts_ns},
                       {"last_ts_ns", st->last_ts_ns}, {"by_type", st->by_kind}, {"by_decision", st->by_decision},
                       {"file_bytes", st->file_bytes}, {"checkpoints", st->checkpoints}};
    const uint64_t threshold = f->warn_free_mib << 20;
    const bool low = st->fs_total_bytes > 0 && st->fs_free_bytes < threshold;
    doc["disk"] = {{"free_bytes", st->fs_free_bytes},
                   {"total_bytes", st->fs_total_bytes},
                   {"warn_below_bytes", threshold},
                   {"low", low}};
    doc["last_checkpoint"] = st->last_checkpoint_seq
                                 ? nlohmann::json{{"upto_seq", *st->last_checkpoint_seq},
                                                  {"ts_ns", st->last_checkpoint_ts_ns},
                                                  {"unanchored_events", st->last_seq - *st->last_checkpoint_seq}}
                                 : nlohmann::json(nullptr);
    std::ostringstream t;
    t << "database     " << db->string() << " (" << st->file_bytes << " bytes with WAL)\n"
      << "events       " << st->events;
    if (st->events > 0) t << " (seq " << st->first_seq << ".." << st->last_seq << ")";
    t << "\ncheckpoints  " << st->checkpoints;
    if (st->last_checkpoint_seq) {
      t << ", last at seq " << *st->last_checkpoint_seq << " (" << st->last_seq - *st->last_checkpoint_seq
        << " events after it)";
    } else {
      t << " (none signed: run `warden audit keygen`, then `warden audit checkpoint`)";
    }
    t << "\ndisk free    " << (st->fs_free_bytes >> 20) << " MiB of " << (st->fs_total_bytes >> 20) << " MiB";
    if (low) {
      t << "\nwarning: less than " << f->warn_free_mib << " MiB free on the file system of " << db->string()
        << "; when it fills, every audited action fails (fail closed): free space, or prune with "
           "`warden audit prune --keep-days N`";
    }
    t << "\nby type\n";
    for (const auto& [k, n] : st->by_kind) t << "  " << k << std::string(k.size() < 22 ? 22 - k.size() : 1, ' ') << n << "\n";
    t << "by decision\n";
    for (const auto& [k, n] : st->by_decision) {
      t << "  " << k << std::string(k.size() < 22 ? 22 - k.size() : 1, ' ') << n << "\n";
    }
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
