// `warden skills reindex`: rebuilds the index from the skills folders and reports what it holds, how long the
// build took and which manifests were rejected (the index is in memory, so this is also a catalog health check).
// With --audit the load and each rejection are recorded in the audit log (runtime/catalog_audit.h).
#include <chrono>
#include <sstream>

#include "runtime/catalog_audit.h"
#include "runtime/cli/audit_flags.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/skills_flags.h"

namespace warden::cli {

namespace {
struct ReindexFlags {
  SkillsCatalogFlags catalog;
  bool audit = false;
  AuditDbFlags db;
};
}  // namespace

void RegisterSkillsReindex(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("reindex", "Rebuild the skill index from the folders; report size, time, rejects");
  auto f = std::make_shared<ReindexFlags>();
  AddCatalogFlag(cmd, f->catalog);
  cmd->add_flag("--audit", f->audit,
                "Record the reload (catalog.reload: counts, generation) and each rejected manifest (skill.rejected) "
                "in the audit log");
  AddDbFlag(cmd, f->db);
  AddKeyFlag(cmd, f->db);
  cmd->callback([&ctx, f] {
    std::unique_ptr<audit::Log> log;
    std::unique_ptr<CatalogAuditor> auditor;
    if (f->audit) {
      log = OpenAuditLogForAppend(ctx, f->db, "pass --db FILE, or leave out --audit");
      if (log == nullptr) return;
      auditor = std::make_unique<CatalogAuditor>(*log);
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto catalog = OpenCatalog(ctx, f->catalog, {}, auditor ? auditor->Listener() : nullptr);
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (auditor && !auditor->status().ok()) {
      return ctx.Fail(auditor->status(), "the catalog loaded, but the audit log did not take its events");
    }
    nlohmann::json doc = (*catalog)->ToJson();
    doc["build_ms"] = ms;
    doc["lucene"] = skills::LuceneVersion();
    if (auditor) doc["audit_seqs"] = auditor->seqs();
    std::ostringstream t;
    t << "indexed " << (*catalog)->size() << " skills in " << static_cast<int>(ms + 0.5) << " ms (Lucene++ "
      << skills::LuceneVersion() << ")\n";
    for (const auto& r : (*catalog)->Rejections()) t << "  rejected  " << r.ToString() << "\n";
    if (auditor) t << "recorded " << auditor->seqs().size() << " audit events\n";
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
