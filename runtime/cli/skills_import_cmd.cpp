// `warden skills import --from-jsonl FILE --into DIR`: a JSON-lines tool catalog becomes skill folders.
#include <sstream>

#include "runtime/cli/commands.h"
#include "skills/skills.h"

namespace warden::cli {

void RegisterSkillsImport(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "import", "Turn a JSON-lines tool catalog ({\"name\",\"description\",\"tags\",\"parameters\"}) into skills");
  auto from = std::make_shared<std::string>();
  auto into = std::make_shared<std::string>();
  cmd->add_option("--from-jsonl", *from, "Tool catalog, one JSON object per line")->required();
  cmd->add_option("--into", *into, "Skills folder to write NAME/SKILL.md into (created if missing)")->required();
  cmd->callback([&ctx, from, into] {
    auto report = skills::ImportJsonl(*from, *into);
    if (!report.ok()) return ctx.Fail(report.status(), "check --from-jsonl and that --into is writable");
    nlohmann::json doc{{"imported", report->imported}, {"into", *into}, {"renamed", nlohmann::json::object()},
                       {"errors", report->errors}};
    for (const auto& [a, b] : report->renamed) doc["renamed"][a] = b;
    std::ostringstream t;
    t << "imported " << report->imported << " skills into " << *into << " (" << report->renamed.size()
      << " renamed to valid skill names; the original is in metadata original-name)\n";
    for (const auto& e : report->errors) t << "  " << e << "\n";
    ctx.Emit(doc, t.str());
    if (report->imported == 0 && !report->errors.empty()) ctx.exit_code = kExitError;
  });
}

}  // namespace warden::cli
