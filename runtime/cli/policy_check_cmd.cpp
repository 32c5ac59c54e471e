// `warden policy check [DIR]`: parse and validate every policy file, run the inline [[test]] cases and report
// coverage (rules no test touched) and warnings (conditions on request fields the rule's actions never have). Exits 0
// when the folder would load (warnings included), 1 listing every error as file:line:column.
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"

namespace warden::cli {

void RegisterPolicyCheck(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("check", "Validate a policies folder: syntax, rules, groups, limits, inline tests");
  auto f = AddCheckedDirFlags(cmd);
  cmd->callback([&ctx, f] {
    const auto checked = CheckPolicyDir(ctx, *f);
    if (!checked) return;
    const auto& dir = checked->dir;
    const auto& report = checked->report;
    size_t passed = 0;
    for (const auto& t : report.tests) passed += t.passed ? 1 : 0;
    nlohmann::json doc{{"dir", dir.string()},
                       {"ok", report.set != nullptr},
                       {"files", checked->file_count},
                       {"tests", {{"total", report.tests.size()}, {"passed", passed}}},
                       {"untested_rules", report.untested_rules},
                       {"errors", nlohmann::json::array()}};
    std::ostringstream t;
    for (const auto& e : report.errors) {
      doc["errors"].push_back({{"file", e.file}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
      t << e.ToString() << "\n";
    }
    doc["warnings"] = nlohmann::json::array();
    for (const auto& w : report.warnings) {
      doc["warnings"].push_back({{"file", w.file}, {"line", w.line}, {"column", w.column}, {"message", w.message}});
      t << "warning: " << w.ToString() << "\n";
    }
    if (report.set) {
      doc["hash"] = report.set->hash();
      doc["rules"] = report.set->rule_count();
      t << "OK: " << checked->file_count << " files, " << report.set->rule_count() << " rules, " << passed << "/"
        << report.tests.size() << " inline tests passed\npolicy set " << report.set->hash() << "\n";
      if (!report.untested_rules.empty()) {
        t << "not covered by any test (" << report.untested_rules.size() << "):";
        for (const auto& r : report.untested_rules) t << " " << r;
        t << "\n";
      }
      return ctx.Emit(doc, t.str());
    }
    t << "FAILED: " << report.errors.size() << " error" << (report.errors.size() == 1 ? "" : "s") << " in "
      << dir.string() << "; the folder would not load (a running warden keeps its previous set)";
    ctx.Emit(doc, t.str());
    ctx.exit_code = kExitError;
  });
}

}  // namespace warden::cli
