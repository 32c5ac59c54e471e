// The catalog suite's own checker of the skill manifest format fixed for issue 8 (SKILL.md frontmatter +
// skill.json; docs/skills-catalog.md "Manifest format"). Deliberately independent of the loader in skills/: the
// catalog must satisfy the format as written, whoever implements the loader.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace warden::catalog_test {

// The frontmatter of a SKILL.md in the plain-scalar YAML subset the catalog keeps to: `key: value` lines and
// one level of `key:` + indented `sub: value` lines (for metadata). `errors` lists what falls outside it.
struct Frontmatter {
  std::map<std::string, std::string> scalars;
  std::map<std::string, std::map<std::string, std::string>> maps;
  std::string body;  // the Markdown after the closing ---
  std::string raw;   // the YAML between the --- lines
  std::vector<std::string> errors;
};
Frontmatter ParseFrontmatter(const std::string& skill_md);

// Name rules: 1-64 of a-z 0-9 -, no leading, trailing or double hyphen.
bool IsValidSkillName(const std::string& name);

// Every violation of the format in the skill folder `dir`, as "NAME/FILE: field: what is wrong"; empty when valid.
std::vector<std::string> CheckSkill(const std::filesystem::path& dir);

}  // namespace warden::catalog_test
