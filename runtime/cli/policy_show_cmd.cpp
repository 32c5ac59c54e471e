// `warden policy show`: the active policy set of this home (or --policies DIR): its hash, when it was loaded and
// when its newest file changed, each file's sha256, every rule with file:line, limits and groups.
#include <sys/stat.h>

#include <ctime>
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/policy_flags.h"

namespace warden::cli {
namespace {

std::string Rfc3339(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void RegisterPolicyShow(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("show", "The active policy set: hash, load time, files, rules, limits, groups");
  auto f = std::make_shared<PolicyDirFlags>();
  cmd->add_option("--policies", f->dir, "Policies folder (default: the config's policies folder)");
  cmd->callback([&ctx, f] {
    auto dir = ResolvePolicyDir(ctx, *f);
    if (!dir.ok()) return ctx.Fail(dir.status(), "fix the config file or pass --policies DIR");
    auto set = policy::PolicySet::LoadDir(*dir, PolicyLoadOptions(ctx, *f));
    if (!set.ok()) return ctx.Fail(set.status(), "run `warden policy check` and fix the errors it lists");
    auto doc = (*set)->Describe();
    doc["dir"] = dir->string();
    doc["loaded_at"] = Rfc3339(doc["loaded_at"].get<int64_t>());
    int64_t newest = 0;
    for (const auto& file : doc["files"]) {
      struct stat st {};
      if (::stat((*dir / file["name"].get<std::string>()).c_str(), &st) == 0) newest = std::max<int64_t>(newest, st.st_mtim.tv_sec);
    }
    doc["modified_at"] = newest > 0 ? nlohmann::json(Rfc3339(newest)) : nlohmann::json(nullptr);
    std::ostringstream t;
    t << "policy set  " << doc["hash"].get<std::string>() << "\nfolder      " << dir->string() << "\nloaded      "
      << doc["loaded_at"].get<std::string>();
    if (newest > 0) t << " (newest file changed " << Rfc3339(newest) << ")";
    t << "\nfiles       " << doc["files"].size() << ", rules " << doc["rules"].size() << ", limits "
      << doc["limits"].size() << ", inline tests " << doc["tests"].get<size_t>() << "\n";
    for (const auto& file : doc["files"]) {
      t << "  " << file["sha256"].get<std::string>().substr(0, 12) << "  " << file["name"].get<std::string>()
        << " (tenant " << file["tenant"].get<std::string>() << ")\n";
    }
    if (!doc["rules"].empty()) t << "rules\n";
    for (const auto& r : doc["rules"]) {
      const std::string where = r["file"].get<std::string>() + ":" + std::to_string(r["line"].get<int>());
      const std::string id = r["id"];
      t << "  " << r["effect"].get<std::string>() << std::string(7 - r["effect"].get<std::string>().size(), ' ') << id
        << std::string(id.size() < 28 ? 28 - id.size() : 1, ' ') << where
        << (r["mode"] == "shadow" ? "  (shadow)" : "") << "\n";
    }
    for (const auto& l : doc["limits"]) {
      t << "limit  " << l["id"].get<std::string>() << ": " << l["metric"].get<std::string>() << " <= "
        << l["max"].get<int64_t>() << ", on exceed " << l["on_exceed"].get<std::string>() << "\n";
    }
    if (doc["rules"].empty()) t << "(no rules: every action is denied)\n";
    ctx.Emit(doc, t.str());
  });
}

}  // namespace warden::cli
