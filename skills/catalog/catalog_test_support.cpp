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

// The skill always runs in the sandbox exactly as `warden skills run` runs it (runtime/skill_call.cpp SpecFor).
ProcessResult RunSkill(const fs::path& skill_dir, const std::string& args_json, const fs::path& workspace,
                       const std::string& upstream_proxy) {
  const auto manifest = nlohmann::json::parse(Slurp(skill_dir / "skill.json"));
  std::vector<std::string> entrypoint;
  for (const auto& element : manifest.at("entrypoint")) {
    std::string arg = element.get<std::string>();
    if (arg.rfind("scripts/", 0) == 0) arg = (fs::absolute(skill_dir) / arg).string();
    entrypoint.push_back(arg);
  }
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
  const auto permissions = manifest.value("permissions", nlohmann::json::object());
  spec.allowed_hosts = permissions.value("hosts", std::vector<std::string>{});
  if (!spec.allowed_hosts.empty()) {
    spec.profile = "net";
    spec.upstream_proxy = upstream_proxy;
  }
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
  for (const auto& v : run->violations) {
    r.err += "\nsandbox " + v.kind + ": " + (v.kind == "net" ? v.host + " " + v.action : v.syscall) + " " + v.detail;
  }
  return r;
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
