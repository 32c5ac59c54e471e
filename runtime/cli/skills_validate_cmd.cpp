// `warden skills validate PATH`: checks one skill (NAME/ or NAME.skill.json) or every skill in a skills folder and
// reports each rejection with file, line, field and what was expected. Exit 1 when anything is rejected.
#include <sstream>

#include "runtime/cli/commands.h"
#include "skills/skills.h"

namespace warden::cli {

void RegisterSkillsValidate(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "validate", "Validate a skill folder, a NAME.skill.json file, or every skill in a skills folder");
  auto path = std::make_shared<std::string>();
  cmd->add_option("PATH", *path, "Skill folder, NAME.skill.json, or a folder of skills")->required();
  cmd->callback([&ctx, path] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path p(*path);
    if (!fs::exists(p, ec)) return ctx.Fail(Status::NotFound(*path + " does not exist"), "pass a skill folder or file");
    std::vector<fs::path> targets;
    const bool single = !fs::is_directory(p, ec) || fs::exists(p / "SKILL.md", ec) || fs::exists(p / "skill.json", ec);
    if (single) {
      targets.push_back(p);
    } else {
      for (const auto& e : fs::directory_iterator(p, ec)) {
        const std::string n = e.path().filename().string();
        if (n.empty() || n[0] == '.') continue;
        if (e.is_directory(ec) || (n.size() > 11 && n.ends_with(".skill.json"))) targets.push_back(e.path());
      }
      std::sort(targets.begin(), targets.end());
    }
    nlohmann::json doc{{"valid", nlohmann::json::array()}, {"rejected", nlohmann::json::array()}};
    std::ostringstream t;
    int bad = 0;
    for (const auto& target : targets) {
      skills::Skill skill;
      skills::Rejection why;
      if (skills::ValidateSkill(target, &skill, &why)) {
        doc["valid"].push_back({{"name", skill.name}, {"path", target.string()}, {"warnings", skill.warnings}});
        t << "ok        " << skill.name << (skill.executable ? " (executable)" : " (instructions only)") << "\n";
        for (const auto& w : skill.warnings) t << "  warning " << w << "\n";
      } else {
        ++bad;
        doc["rejected"].push_back(why.ToJson());
        t << "rejected  " << why.ToString() << "\n";
      }
    }
    t << targets.size() - bad << " valid, " << bad << " rejected\n";
    ctx.Emit(doc, t.str());
    if (bad > 0) ctx.exit_code = kExitError;
  });
}

}  // namespace warden::cli
