// `warden skills list`: every skill of the catalog with its kind and source, plus the rejected manifests.
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/skills_flags.h"

namespace warden::cli {

void RegisterSkillsList(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("list", "List the skills of the catalog and the manifests that were rejected");
  auto f = std::make_shared<SkillsCatalogFlags>();
  AddCatalogFlag(cmd, *f);
  cmd->callback([&ctx, f] {
    auto catalog = OpenCatalog(ctx, *f);
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    nlohmann::json doc = (*catalog)->ToJson();
    doc["list"] = nlohmann::json::array();
    std::ostringstream t;
    for (const auto& s : (*catalog)->List()) {
      doc["list"].push_back({{"name", s.name},
                             {"description", s.description},
                             {"executable", s.executable},
                             {"manifest", s.manifest.string()}});
      std::string d = s.description.size() > 70 ? s.description.substr(0, 67) + "..." : s.description;
      for (char& c : d) {
        if (c == '\n') c = ' ';
      }
      t << s.name << std::string(s.name.size() < 28 ? 28 - s.name.size() : 1, ' ') << (s.executable ? "exec  " : "instr ")
        << d << "\n";
    }
    t << (*catalog)->size() << " skills";
    const auto rejected = (*catalog)->Rejections();
    if (!rejected.empty()) t << ", " << rejected.size() << " rejected:";
    t << "\n";
    for (const auto& r : rejected) t << "  rejected  " << r.ToString() << "\n";
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
