// Test helpers for the default skill catalog (issue 8, "Default catalog"): where the catalog is, a workspace with
// files in it, and RunSkill — the ONE place that executes a skill, so that it can switch from running the
// entrypoint directly to `warden sandbox run` once the sandbox executor lands without touching any test.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace warden::catalog_test {

// skills/catalog in the source tree.
std::filesystem::path CatalogDir();

// skills/catalog/.lib, the Python code the catalog's skills share (not a skill), as an absolute path.
std::filesystem::path SkillLibDir();

// Every skill folder of the catalog (folders holding a SKILL.md), sorted by name.
std::vector<std::filesystem::path> SkillDirs();

// Runs the skill in `skill_dir` in the sandbox as `warden skills run` does: the entrypoint from its skill.json
// (`scripts/...` resolved against the skill folder), the workspace at /workspace, the arguments on stdin, the skill
// folder and the catalog's .lib read-only (WARDEN_SKILL_DIR, WARDEN_SKILL_LIB), the manifest's limits. A skill that
// declares hosts runs in profile "net" with exactly those hosts; `upstream_proxy` ("127.0.0.1:PORT", a test's
// FakeUpstream) then receives the requests the sandbox's proxy allows, so no real network is touched.
warden::testing::ProcessResult RunSkill(const std::filesystem::path& skill_dir, const std::string& args_json,
                                        const std::filesystem::path& workspace,
                                        const std::string& upstream_proxy = "");

// A temporary workspace folder with helpers to put files in it and read them back.
class Workspace {
 public:
  const std::filesystem::path& path() const { return dir_.path(); }
  // Writes `content` to the workspace-relative `relative` path, creating folders.
  void Write(const std::string& relative, const std::string& content) const;
  std::string Read(const std::string& relative) const;
  bool Exists(const std::string& relative) const;

 private:
  warden::testing::TempDir dir_;
};

// The result of a successful run of a json-output skill: fails the test (printing stderr) when the skill exited
// non-zero or stdout is not exactly one JSON value.
struct SkillCall {
  std::string name;  // the skill's folder name in the catalog
  const Workspace& ws;
  nlohmann::json Ok(const nlohmann::json& args) const;
  // Runs with `args` and expects failure with `exit_code`; returns stderr, checked to be one line naming the skill.
  std::string Fails(const nlohmann::json& args, int exit_code) const;
  warden::testing::ProcessResult Raw(const std::string& stdin_data) const;
};

// SkillCall{name, ws} as a function call, usable inside Catch's macros (a brace-enclosed comma would split
// their arguments).
inline SkillCall Skill(const std::string& name, const Workspace& ws) { return SkillCall{name, ws}; }

}  // namespace warden::catalog_test
