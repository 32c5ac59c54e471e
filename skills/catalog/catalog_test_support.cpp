// RunSkill and the workspace helpers of the catalog suite (catalog_test_support.h).
#include "skills/catalog/catalog_test_support.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

namespace warden::catalog_test {

namespace fs = std::filesystem;
using warden::testing::ProcessResult;

// The sandbox's fixed PATH (sandbox.md, step 12: a scrubbed environment). Also keeps a developer's pyenv or
// virtualenv python3, which lacks the Debian packages the skills use, out of the runs.
constexpr const char* kSystemPath = "/usr/bin:/bin";

fs::path CatalogDir() { return fs::path(WARDEN_CATALOG_DIR); }

fs::path SkillLibDir() { return fs::absolute(CatalogDir() / ".lib"); }

std::vector<fs::path> SkillDirs() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(CatalogDir())) {
    if (entry.is_directory() && fs::exists(entry.path() / "SKILL.md")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

static std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ProcessResult RunSkill(const fs::path& skill_dir, const std::string& args_json, const fs::path& workspace,
                       const std::vector<std::string>& extra_env) {
  const auto manifest = nlohmann::json::parse(Slurp(skill_dir / "skill.json"));
  // env(1) gives the child exactly this environment and working directory; RunProcess itself has neither knob.
  std::vector<std::string> argv = {"/usr/bin/env", "-i", "-C", workspace.string(),
                                   std::string("PATH=") + kSystemPath,
                                   "HOME=" + workspace.string(),
                                   "LANG=C.UTF-8",
                                   "TMPDIR=/tmp",
                                   "WARDEN_SKILL_DIR=" + skill_dir.string(),
                                   "WARDEN_SKILL_LIB=" + SkillLibDir().string()};
  for (const auto& e : extra_env) argv.push_back(e);
  for (const auto& element : manifest.at("entrypoint")) {
    std::string arg = element.get<std::string>();
    if (arg.rfind("scripts/", 0) == 0) arg = (skill_dir / arg).string();
    argv.push_back(arg);
  }
  return warden::testing::RunProcess(argv, args_json);
}

void Workspace::Write(const std::string& relative, const std::string& content) const {
  const fs::path p = path() / relative;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  REQUIRE(out.good());
}

std::string Workspace::Read(const std::string& relative) const {
  INFO("reading " << relative);
  REQUIRE(fs::exists(path() / relative));
  return Slurp(path() / relative);
}

bool Workspace::Exists(const std::string& relative) const { return fs::exists(path() / relative); }

ProcessResult SkillCall::Raw(const std::string& stdin_data) const {
  const fs::path dir = CatalogDir() / name;
  INFO("skill " << name);
  REQUIRE(fs::exists(dir / "skill.json"));
  return RunSkill(dir, stdin_data, ws.path());
}

nlohmann::json SkillCall::Ok(const nlohmann::json& args) const {
  const auto r = Raw(args.dump());
  INFO("skill " << name << " args " << args.dump() << "\nstderr: " << r.err << "\nstdout: " << r.out.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  nlohmann::json out;
  REQUIRE_NOTHROW(out = nlohmann::json::parse(r.out));
  return out;
}

std::string SkillCall::Fails(const nlohmann::json& args, int exit_code) const {
  const auto r = Raw(args.dump());
  INFO("skill " << name << " args " << args.dump() << "\nstderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.exit_code == exit_code);
  CHECK(r.out.empty());
  // The calling convention: one line on stderr, starting with the skill's name.
  CHECK(r.err.rfind(name + ": ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  return r.err;
}

}  // namespace warden::catalog_test
