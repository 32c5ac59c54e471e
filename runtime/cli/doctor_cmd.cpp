// `warden doctor`: a real probe of this machine — build, GPUs, kernel sandbox features, libraries, folders.
// Every kernel check actually tries the feature (in a child process); nothing is read off a table.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include "audit/audit.h"
#include "runtime/cli/commands.h"
#include "runtime/config.h"
#include "runtime/engine/engine.h"
#include "sandbox/sandbox.h"
#include "skills/skills.h"

namespace warden::cli {
namespace {

struct Check {
  std::string section;
  std::string name;
  std::string status;  // "ok", "warn" (works without it, less safe or slower) or "missing"
  std::string detail;
};

// Features without which the sandbox cannot isolate at all are "missing"; the rest only weaken it ("warn").
bool IsEssential(const std::string& feature) {
  return feature == "seccomp_filter" || feature == "no_new_privs";
}

std::string Mark(const std::string& status) {
  if (status == "ok") return "[ok]  ";
  if (status == "warn") return "[warn]";
  return "[miss]";
}

}  // namespace

void RegisterDoctor(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("doctor", "Probe this machine: build flags, GPUs, kernel sandbox features, "
                                           "library versions, configured folders");
  cmd->callback([&ctx] {
    const auto& config = ctx.config();  // first: it also applies the file's log settings
    std::vector<Check> checks;
    checks.push_back({"build", "warden", "ok", std::string("version ") + WARDEN_VERSION});
    checks.push_back({"build", "cuda_backend", engine::IsCudaBuiltIn() ? "ok" : "warn",
                      engine::IsCudaBuiltIn() ? "built in (sm_90a)" : "not built in (CPU backend only)"});
    auto gpus = engine::ListGpus();
    if (gpus.ok()) {
      for (const auto& g : *gpus) {
        std::ostringstream d;
        d << g.name << ", " << (g.total_memory_bytes >> 20) << " MiB, compute capability "
          << g.compute_capability_major << "." << g.compute_capability_minor;
        checks.push_back({"gpu", "gpu" + std::to_string(g.index), "ok", d.str()});
      }
    } else {
      checks.push_back({"gpu", "gpus", "warn", gpus.status().message()});
    }
    spdlog::info("probing kernel features in child processes");
    for (const auto& p : sandbox::ProbeKernelFeatures()) {
      spdlog::debug("probe {}: {} ({})", p.name, p.ok ? "ok" : "unavailable", p.detail);
      checks.push_back({"kernel", p.name, p.ok ? "ok" : (IsEssential(p.name) ? "missing" : "warn"), p.detail});
    }
    // What `warden sandbox run` would actually use here; mandatory layers missing make the executor refuse.
    for (const auto& l : sandbox::ProbeLayers()) {
      bool mandatory = l.detail.rfind("mandatory", 0) == 0;
      checks.push_back({"sandbox", l.name.substr(l.name.find('.') + 1), l.ok ? "ok" : (mandatory ? "missing" : "warn"),
                        l.detail});
    }
    checks.push_back({"libraries", "sqlite", "ok", audit::SqliteVersion()});
    checks.push_back({"libraries", "lucene++", "ok", skills::LuceneVersion()});
    checks.push_back({"libraries", "libseccomp", "ok", sandbox::SeccompVersion()});

    if (!config.ok()) {
      checks.push_back({"config", "config_file", "missing", config.status().message()});
    } else {
      checks.push_back({"config", "home", std::filesystem::is_directory(config->home) ? "ok" : "warn",
                        config->home.string()});
      checks.push_back({"config", "config_file", config->config_file_exists ? "ok" : "warn",
                        config->config_file.string() + (config->config_file_exists ? "" : " (absent: defaults)")});
      auto folder = [&](const std::string& name, const std::filesystem::path& p) {
        bool exists = std::filesystem::is_directory(p);
        checks.push_back({"config", name, exists ? "ok" : "warn", p.string() + (exists ? "" : " (absent)")});
      };
      folder("skills_dir", config->skills_dir);
      folder("policies_dir", config->policies_dir);
      folder("audit_dir", config->audit_db.parent_path());
      folder("models_dir", config->models_dir);
    }

    bool healthy = true;
    nlohmann::json doc{{"checks", nlohmann::json::array()}};
    std::ostringstream text;
    std::string section;
    for (const auto& c : checks) {
      if (c.status == "missing") healthy = false;
      doc["checks"].push_back({{"section", c.section}, {"name", c.name}, {"status", c.status}, {"detail", c.detail}});
      if (c.section != section) {
        section = c.section;
        text << section << "\n";
      }
      text << "  " << Mark(c.status) << " " << c.name << ": " << c.detail << "\n";
    }
    bool has_warning = false;
    for (const auto& c : checks) has_warning |= c.status == "warn";
    doc["healthy"] = healthy;
    text << (healthy ? (has_warning ? "Warden can run here; [warn] items reduce isolation or speed."
                                    : "Warden can run here with every feature.")
                     : "Warden cannot sandbox skills here: fix the [miss] items.");
    ctx.Emit(doc, text.str());
    if (!healthy) ctx.exit_code = kExitError;
  });
}

}  // namespace warden::cli
