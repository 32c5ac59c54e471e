// `warden skills show NAME`: one skill's manifest as loaded (fields, permissions, limits, instructions).
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/skills_flags.h"

namespace warden::cli {

void RegisterSkillsShow(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("show", "Show one skill: manifest fields, permissions, limits, instructions");
  auto f = std::make_shared<SkillsCatalogFlags>();
  auto name = std::make_shared<std::string>();
  cmd->add_option("NAME", *name, "Skill name")->required();
  AddCatalogFlag(cmd, *f);
  cmd->callback([&ctx, f, name] {
    auto catalog = OpenCatalog(ctx, *f);
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    auto skill = (*catalog)->Find(*name);
    if (!skill.ok()) return ctx.Fail(skill.status(), "`warden skills search WORDS` finds skills by what they do");
    std::ostringstream t;
    t << "name          " << skill->name << "\n"
      << "description   " << skill->description << "\n"
      << "manifest      " << skill->manifest.string() << "\n"
      << "kind          " << (skill->executable ? "executable" : "instructions only") << "\n";
    if (!skill->tags.empty()) {
      t << "tags         ";
      for (const auto& tag : skill->tags) t << " " << tag;
      t << "\n";
    }
    if (!skill->license.empty()) t << "license       " << skill->license << "\n";
    if (!skill->compatibility.empty()) t << "compatibility " << skill->compatibility << "\n";
    if (skill->executable) {
      t << "version       " << skill->version << "\nentrypoint   ";
      for (const auto& a : skill->entrypoint) t << " " << a;
      t << "\noutput        " << skill->output << "\n"
        << "workspace     " << skill->permissions.workspace << "\n";
      for (const auto& p : skill->permissions.read_paths) t << "read path     " << p << "\n";
      for (const auto& h : skill->permissions.hosts) t << "host          " << h << "\n";
      t << "limits        " << skill->limits.timeout_s << " s, " << skill->limits.memory_mb << " MiB, "
        << skill->limits.output_kb << " KiB output\n";
    }
    if (!skill->arguments.empty()) t << "arguments     " << skill->arguments.dump() << "\n";
    for (const auto& w : skill->warnings) t << "warning       " << w << "\n";
    if (!skill->instructions.empty()) t << "\n" << skill->instructions;
    ctx.Emit(skill->ToJson(true), t.str());
  });
}

}  // namespace warden::cli
