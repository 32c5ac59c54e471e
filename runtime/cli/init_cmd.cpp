// `warden init`: create the home folder with its config file and folders, never overwriting anything. A policies
// folder without policy files gets the default set (policies/default/, built in): workspace only, no network.
#include <sstream>

#include "policies/policy.h"
#include "runtime/base/file_util.h"
#include "runtime/cli/commands.h"
#include "runtime/config.h"
#include "runtime/home.h"

namespace warden::cli {

void RegisterInit(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("init", "Create the Warden home (config file, skills/, policies/, audit/, models/); "
                                         "existing files are kept");
  cmd->callback([&ctx] {
    const auto& config = ctx.config();
    if (!config.ok()) return ctx.Fail(config.status(), "fix the config file or pass --config");
    auto report = InitHome(*config);
    if (!report.ok()) return ctx.Fail(report.status());
    // Defaults only into a folder with no policy files: an edited or deliberately emptied set is never touched.
    auto existing = policy::PolicySet::ReadDir(config->policies_dir);
    if (!existing.ok()) return ctx.Fail(existing.status(), "fix or remove the policies folder, then rerun init");
    if (existing->empty()) {
      for (const auto& [name, text] : policy::DefaultPolicyFiles()) {
        const auto path = config->policies_dir / name;
        if (std::filesystem::exists(path)) continue;
        if (auto st = WriteFileAtomic(path, text); !st.ok()) return ctx.Fail(st);
        report->created.push_back(path);
      }
    }
    nlohmann::json doc{{"home", config->home.string()}, {"created", nlohmann::json::array()},
                       {"existing", nlohmann::json::array()}};
    std::ostringstream text;
    text << "Warden home: " << config->home.string() << "\n";
    for (const auto& p : report->created) {
      doc["created"].push_back(p.string());
      text << "  created  " << p.string() << "\n";
    }
    for (const auto& p : report->existing) {
      doc["existing"].push_back(p.string());
      text << "  kept     " << p.string() << "\n";
    }
    ctx.Emit(doc, text.str());
  });
}

}  // namespace warden::cli
