// `warden policy test [DIR]`: run the inline [[test]] cases of a policies folder and list each with its result.
// Exits 1 when a file does not load or any test fails.
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"

namespace warden::cli {

void RegisterPolicyTest(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("test", "Run the inline [[test]] cases of a policies folder, one line each");
  auto f = AddCheckedDirFlags(cmd);
  cmd->callback([&ctx, f] {
    const auto checked = CheckPolicyDir(ctx, *f);
    if (!checked) return;
    const auto& dir = checked->dir;
    const auto& report = checked->report;
    nlohmann::json doc{{"dir", dir.string()}, {"tests", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
    std::ostringstream t;
    size_t failed = 0;
    for (const auto& r : report.tests) {
      doc["tests"].push_back({{"name", r.name}, {"file", r.file}, {"line", r.line}, {"passed", r.passed},
                              {"message", r.message}});
      t << (r.passed ? "PASS  " : "FAIL  ") << r.file << ":" << r.line << "  " << r.name;
      if (!r.passed) t << "\n      " << r.message, ++failed;
      t << "\n";
    }
    // Load errors other than test failures mean some tests could not even run.
    size_t load_errors = 0;
    for (const auto& e : report.errors) {
      if (e.message.rfind("test \"", 0) == 0 && e.message.find("\" failed: ") != std::string::npos) continue;
      doc["errors"].push_back(e.ToString());
      t << "ERROR " << e.ToString() << "\n";
      ++load_errors;
    }
    doc["passed"] = report.tests.size() - failed;
    doc["failed"] = failed;
    t << report.tests.size() - failed << " passed, " << failed << " failed";
    if (load_errors > 0) t << ", " << load_errors << " load errors (run `warden policy check` for details)";
    if (report.tests.empty() && load_errors == 0) t << " (no [[test]] tables in " << dir.string() << ")";
    ctx.Emit(doc, t.str());
    if (failed > 0 || load_errors > 0) ctx.exit_code = kExitError;
  });
}

}  // namespace warden::cli
