// `warden skills reindex`: rebuilds the index from the skills folders and reports what it holds, how long the
// build took and which manifests were rejected (the index is in memory, so this is also a catalog health check).
#include <chrono>
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/skills_flags.h"

namespace warden::cli {

void RegisterSkillsReindex(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("reindex", "Rebuild the skill index from the folders; report size, time, rejects");
  auto f = std::make_shared<SkillsCatalogFlags>();
  AddCatalogFlag(cmd, *f);
  cmd->callback([&ctx, f] {
    const auto t0 = std::chrono::steady_clock::now();
    auto catalog = OpenCatalog(ctx, *f);
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json doc = (*catalog)->ToJson();
    doc["build_ms"] = ms;
    doc["lucene"] = skills::LuceneVersion();
    std::ostringstream t;
    t << "indexed " << (*catalog)->size() << " skills in " << static_cast<int>(ms + 0.5) << " ms (Lucene++ "
      << skills::LuceneVersion() << ")\n";
    for (const auto& r : (*catalog)->Rejections()) t << "  rejected  " << r.ToString() << "\n";
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
