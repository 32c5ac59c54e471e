// RunSkill and the workspace helpers of the catalog suite (catalog_test_support.h).
#include "skills/catalog/catalog_test_support.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "sandbox/sandbox.h"

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

// Without extra environment the skill runs in the sandbox exactly as `warden skills run` runs it (sandbox::Run with
// the workspace at /workspace, the skill and .lib read-only, the manifest's limits). A test that needs the network
// (http-fetch through a local proxy) passes extra_env and runs it directly: the sandbox has no network profile yet.
ProcessResult RunSkill(const fs::path& skill_dir, const std::string& args_json, const fs::path& workspace,
                       const std::vector<std::string>& extra_env) {
  const auto manifest = nlohmann::json::parse(Slurp(skill_dir / "skill.json"));
  std::vector<std::string> entrypoint;
  for (const auto& element : manifest.at("entrypoint")) {
    std::string arg = element.get<std::string>();
    if (arg.rfind("scripts/", 0) == 0) arg = (fs::absolute(skill_dir) / arg).string();
    entrypoint.push_back(arg);
  }
  if (extra_env.empty()) {
    sandbox::Spec spec;
    spec.argv = entrypoint;
    spec.workspace = workspace.string();
    spec.ro_paths = {fs::absolute(skill_dir).string(), SkillLibDir().string()};
    spec.env = {{"WARDEN_SKILL_DIR", fs::absolute(skill_dir).string()}, {"WARDEN_SKILL_LIB", SkillLibDir().string()}};
    spec.stdin_data = args_json;
    const auto limits = manifest.value("limits", nlohmann::json::object());
    spec.timeout_s = limits.value("timeout_s", 10.0);
    spec.cpu_time_s = spec.timeout_s;
    spec.memory_bytes = static_cast<uint64_t>(limits.value("memory_mb", 256)) << 20;
    spec.stdout_cap_bytes = static_cast<uint64_t>(limits.value("output_kb", 1024)) << 10;
    auto run = sandbox::Run(spec);
    ProcessResult r;
    if (!run.ok()) {
      r.err = "sandbox: " + run.status().message();
      return r;
    }
    r.out = run->stdout_data;
    r.err = run->stderr_data;
    if (run->exit_kind == "exited") r.exit_code = run->exit_code;
    else if (run->signal != 0) r.exit_code = 128 + run->signal;
    else r.err += "\nsandbox: " + run->exit_kind + " " + run->setup_error;
    for (const auto& v : run->violations) r.err += "\nsandbox violation: " + v.syscall + " " + v.detail;
    return r;
  }
  // env(1) gives the child exactly this environment and working directory; RunProcess itself has neither knob.
  std::vector<std::string> argv = {"/usr/bin/env", "-i", "-C", workspace.string(),
                                   std::string("PATH=") + kSystemPath,
                                   "HOME=" + workspace.string(),
                                   "LANG=C.UTF-8",
                                   "TMPDIR=/tmp",
                                   "WARDEN_SKILL_DIR=" + skill_dir.string(),
                                   "WARDEN_SKILL_LIB=" + SkillLibDir().string()};
  for (const auto& e : extra_env) argv.push_back(e);
  for (const auto& arg : entrypoint) argv.push_back(arg);
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
