// `warden skills import` (issue 8 "CLI"): turns a JSON-lines tool catalog ({"name", "description", "tags",
// "parameters"} per line, the common function-calling format) into Agent Skills folders NAME/SKILL.md. Tools have
// no program, so they become instruction-only skills; their tags and parameter schema go in metadata "tags" and
// "arguments" (docs/skills.md), which the loader indexes.
#include <fstream>
#include <unistd.h>
#include <set>

#include "skills/skills_internal.h"

namespace warden::skills {

namespace fs = std::filesystem;
using nlohmann::json;

std::string SkillNameFromIdentifier(const std::string& identifier) {
  std::string name;
  for (const auto& tok : detail::Tokenize(identifier, true)) {
    if (name.empty() && tok.size() > 64) return tok.substr(0, 64);
    if (name.size() + tok.size() + 1 > 64) break;
    if (!name.empty()) name.push_back('-');
    name += tok;
  }
  if (name.empty()) name = "skill";
  return name.substr(0, 64);
}

namespace {

std::string TruncateUtf8(const std::string& s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == max_chars) return s.substr(0, i);
  }
  return s;
}

std::string SkillMdFor(const std::string& name, const std::string& original, const std::string& description,
                       const std::vector<std::string>& tags, const json& params) {
  // JSON strings are valid YAML double-quoted scalars, which keeps any description safe in the frontmatter.
  std::string tag_text;
  for (const auto& t : tags) {
    std::string clean = t;
    for (char& c : clean) {
      if (c == ',' || c == '\n' || c == '\r') c = ' ';
    }
    if (!tag_text.empty()) tag_text += ", ";
    tag_text += clean;
  }
  std::string md = "---\nname: " + name + "\ndescription: " + json(description).dump() + "\nmetadata:\n";
  md += "  original-name: " + json(original).dump() + "\n";
  if (!tag_text.empty()) md += "  tags: " + json(tag_text).dump() + "\n";
  if (params.is_object() && !params.empty()) md += "  arguments: " + json(params.dump()).dump() + "\n";
  md += "---\n\n# " + original + "\n\n" + description + "\n";
  auto props = params.is_object() ? params.find("properties") : params.end();
  if (params.is_object() && props != params.end() && props->is_object() && !props->empty()) {
    std::set<std::string> required;
    if (auto r = params.find("required"); r != params.end() && r->is_array()) {
      for (const auto& x : *r) {
        if (x.is_string()) required.insert(x.get<std::string>());
      }
    }
    md += "\n## Parameters\n\n";
    for (const auto& [pname, p] : props->items()) {
      md += "- `" + pname + "`";
      if (p.is_object() && p.contains("type") && p["type"].is_string()) md += " (" + p["type"].get<std::string>();
      else md += " (any";
      md += required.count(pname) ? ", required)" : ")";
      if (p.is_object() && p.contains("description") && p["description"].is_string()) {
        md += ": " + p["description"].get<std::string>();
      }
      md += "\n";
    }
  }
  return md;
}

// Import writes thousands of small files; WriteFileAtomic's fsync per file would dominate (seconds), and an
// interrupted import is simply run again, so a temp file + rename (no torn SKILL.md) is enough.
Status WriteQuick(const fs::path& path, const std::string& data) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) return Status::IoError("cannot write " + tmp.string(), errno);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message(), ec.value());
  return Status::Ok();
}

}  // namespace

Result<ImportReport> ImportJsonl(const fs::path& jsonl, const fs::path& into) {
  std::ifstream in(jsonl);
  if (!in) return Status::IoError("cannot open " + jsonl.string(), errno);
  std::error_code ec;
  fs::create_directories(into, ec);
  if (ec) return Status::IoError("cannot create " + into.string() + ": " + ec.message(), ec.value());
  ImportReport report;
  std::set<std::string> used;
  for (const auto& e : fs::directory_iterator(into, ec)) used.insert(e.path().filename().string());
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = jsonl.string() + ":" + std::to_string(line_no) + ": ";
    json tool;
    try {
      tool = json::parse(line);
    } catch (const json::parse_error& e) {
      report.errors.push_back(where + "invalid JSON: " + e.what());
      continue;
    }
    if (!tool.is_object() || !tool.contains("name") || !tool["name"].is_string() ||
        tool["name"].get<std::string>().empty()) {
      report.errors.push_back(where + "field name: expected a non-empty string");
      continue;
    }
    const std::string original = tool["name"].get<std::string>();
    std::string description = tool.value("description", json("")).is_string() ? tool.value("description", "") : "";
    if (description.find_first_not_of(" \t\r\n") == std::string::npos) description = "The " + original + " tool.";
    description = TruncateUtf8(description, 1024);
    std::vector<std::string> tags;
    if (auto t = tool.find("tags"); t != tool.end() && t->is_array()) {
      for (const auto& x : *t) {
        if (x.is_string()) tags.push_back(x.get<std::string>());
      }
    }
    json params = tool.contains("parameters") ? tool["parameters"] : json::object();
    std::string base = SkillNameFromIdentifier(original);
    std::string name = base;
    for (int n = 2; used.count(name); ++n) {
      std::string suffix = "-" + std::to_string(n);
      name = base.substr(0, 64 - suffix.size()) + suffix;
    }
    const fs::path dir = into / name;
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir.string() + ": " + ec.message(), ec.value());
    WARDEN_RETURN_IF_ERROR(WriteQuick(dir / "SKILL.md", SkillMdFor(name, original, description, tags, params)));
    Skill check;
    Rejection why;
    if (!ValidateSkill(dir, &check, &why)) {
      // An argument schema outside the supported subset: keep the tool, without the schema in metadata.
      WARDEN_RETURN_IF_ERROR(WriteQuick(dir / "SKILL.md", SkillMdFor(name, original, description, tags, json::object())));
      if (!ValidateSkill(dir, &check, &why)) {
        fs::remove_all(dir, ec);
        report.errors.push_back(where + why.ToString());
        continue;
      }
      report.errors.push_back(where + "imported without its parameter schema: " + why.message);
    }
    used.insert(name);
    ++report.imported;
    if (name != original) report.renamed.emplace_back(original, name);
  }
  return report;
}

}  // namespace warden::skills
