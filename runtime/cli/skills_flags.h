// What the `warden skills ...` verbs share: --catalog DIR (repeatable; replaces the configured skills folders,
// later folders override earlier ones by name) and opening the catalog with rejections reported (issue 8, CLI).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cli/cli_context.h"
#include "skills/skills.h"

namespace warden::cli {

struct SkillsCatalogFlags {
  std::vector<std::string> catalogs;  // --catalog DIR (repeatable)
};

inline void AddCatalogFlag(CLI::App* cmd, SkillsCatalogFlags& f) {
  cmd->add_option("--catalog", f.catalogs,
                  "Skills folder (repeatable; replaces the configured folders; a later folder's skill replaces an "
                  "earlier one of the same name)");
}

// The default catalog shipped with Warden (skills/catalog): $WARDEN_BUILTIN_SKILLS when set (empty = none), else the
// folder this binary was built from.
inline std::filesystem::path BuiltinCatalogDir() {
  if (const char* env = std::getenv("WARDEN_BUILTIN_SKILLS")) return env;
#ifdef WARDEN_BUILTIN_CATALOG_DIR
  return WARDEN_BUILTIN_CATALOG_DIR;
#else
  return {};
#endif
}

// The folders to load: --catalog, else the built-in catalog and then paths.skills from the config.
inline Result<std::vector<std::filesystem::path>> ResolveSkillFolders(CliContext& ctx, const SkillsCatalogFlags& f) {
  std::vector<std::filesystem::path> out;
  if (!f.catalogs.empty()) {
    for (const auto& c : f.catalogs) {
      std::error_code ec;
      if (!std::filesystem::is_directory(c, ec)) {
        return Status::NotFound("skills folder " + c + " does not exist or is not a folder");
      }
      out.emplace_back(c);
    }
    return out;
  }
  const auto& config = ctx.config();
  if (!config.ok()) return config.status();
  // The built-in catalog first, so a user's skill of the same name replaces it.
  std::error_code ec;
  if (auto builtin = BuiltinCatalogDir(); !builtin.empty() && std::filesystem::is_directory(builtin, ec)) {
    out.push_back(builtin);
  }
  out.push_back(config->skills_dir);
  return out;
}

// listener: receives the catalog's events (runtime/catalog_audit.h records them in the audit log).
inline Result<std::unique_ptr<skills::Catalog>> OpenCatalog(
    CliContext& ctx, const SkillsCatalogFlags& f, skills::RankingOptions ranking = {},
    std::function<void(const skills::CatalogEvent&)> listener = nullptr) {
  WARDEN_ASSIGN_OR_RETURN(auto folders, ResolveSkillFolders(ctx, f));
  skills::CatalogOptions options;
  options.folders = std::move(folders);
  options.ranking = ranking;
  options.listener = std::move(listener);
  return skills::Catalog::Open(std::move(options));
}

// Rejections go to stderr in text mode so a bad manifest never hides silently behind a good result.
inline void WarnRejections(const CliContext& ctx, const skills::Catalog& catalog) {
  if (ctx.json) return;
  for (const auto& r : catalog.Rejections()) fprintf(stderr, "warden: skipped skill: %s\n", r.ToString().c_str());
}

}  // namespace warden::cli
