// Checks a skill folder against the manifest format of issue 8 (manifest_check.h): SKILL.md frontmatter fields
// and name rules, folder name = name, skill.json fields, entrypoint files, the JSON Schema subset of `arguments`,
// permissions and limits, plus the catalog's own rules (every argument described and documented in SKILL.md,
// skills with an `output` argument declare workspace write).
#include "skills/catalog/manifest_check.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace warden::catalog_test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A plain YAML scalar stays plain only without these: they would start a comment, a mapping, a flow collection,
// a quoted string, an alias or a block scalar, and a parser would read something other than the text.
bool IsPlainScalar(const std::string& v) {
  if (v.empty()) return false;
  if (std::string("-?:,[]{}#&*!|>'\"%@`").find(v.front()) != std::string::npos) return false;
  if (v.find(": ") != std::string::npos || v.find(" #") != std::string::npos || v.back() == ':') return false;
  return true;
}

const std::set<std::string> kFrontmatterKeys = {"name", "description", "license", "compatibility", "metadata",
                                                "allowed-tools"};
const std::set<std::string> kManifestKeys = {"version", "entrypoint", "arguments", "output", "permissions", "limits",
                                             "tags"};
const std::set<std::string> kSchemaKeys = {"type", "properties", "required", "enum", "items", "minimum", "maximum",
                                           "minLength", "maxLength", "pattern", "default", "description"};
const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  return v.is_null();
}

// `top`: the arguments object itself; `described`: a property, which the model must have explained to it.
void CheckSchema(const json& s, const std::string& where, bool top, bool described, std::vector<std::string>& errors) {
  auto err = [&](const std::string& m) { errors.push_back(where + ": " + m); };
  if (!s.is_object()) return err("a schema must be an object");
  for (const auto& [k, v] : s.items()) {
    if (!kSchemaKeys.count(k)) err("keyword \"" + k + "\" is outside the supported JSON Schema subset");
  }
  std::string type;
  if (s.contains("type")) {
    if (!s["type"].is_string() || !kTypes.count(s["type"].get<std::string>())) return err("type must be one of the JSON types");
    type = s["type"];
  }
  if (top && type != "object") return err("arguments must have type \"object\"");
  if (described && (!s.contains("description") || !s["description"].is_string() || Trim(s["description"]).empty())) {
    err("needs a non-empty description (the model reads it)");
  }
  if (s.contains("properties")) {
    if (!s["properties"].is_object()) {
      err("properties must be an object");
    } else {
      for (const auto& [name, sub] : s["properties"].items()) {
        if (!std::regex_match(name, std::regex("[a-z][a-z0-9_]*"))) err("property \"" + name + "\" is not snake_case");
        CheckSchema(sub, where + "." + name, false, true, errors);
        if (top && !sub.contains("type")) err("property \"" + name + "\" has no type");
      }
    }
  } else if (top) {
    err("arguments needs properties");
  }
  if (s.contains("required")) {
    if (!s["required"].is_array()) {
      err("required must be an array");
    } else {
      for (const auto& r : s["required"]) {
        if (!r.is_string() || !s.contains("properties") || !s["properties"].contains(r.get<std::string>())) {
          err("required names " + r.dump() + ", which is not a property");
        }
      }
    }
  }
  if (s.contains("enum") && (!s["enum"].is_array() || s["enum"].empty())) err("enum must be a non-empty array");
  if (s.contains("enum") && s["enum"].is_array() && !type.empty()) {
    for (const auto& e : s["enum"]) {
      if (!HasType(e, type)) err("enum value " + e.dump() + " is not of type " + type);
    }
  }
  if (s.contains("items")) {
    if (type != "array") err("items on a non-array");
    CheckSchema(s["items"], where + "[]", false, false, errors);
  } else if (type == "array") {
    err("an array needs items");
  }
  for (const char* k : {"minimum", "maximum"}) {
    if (s.contains(k) && !s[k].is_number()) err(std::string(k) + " must be a number");
  }
  for (const char* k : {"minLength", "maxLength"}) {
    if (s.contains(k) && !(s[k].is_number_unsigned())) err(std::string(k) + " must be a non-negative integer");
  }
  if (s.contains("minimum") && s.contains("maximum") && s["minimum"].is_number() && s["maximum"].is_number() &&
      s["minimum"].get<double>() > s["maximum"].get<double>()) {
    err("minimum is above maximum");
  }
  if (s.contains("pattern")) {
    try {
      std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
    } catch (const std::exception&) {
      err("pattern is not a valid regular expression");
    }
  }
  if (s.contains("default") && !type.empty()) {
    const json& d = s["default"];
    if (!HasType(d, type)) err("default " + d.dump() + " is not of type " + type);
    if (s.contains("enum") && s["enum"].is_array() &&
        std::find(s["enum"].begin(), s["enum"].end(), d) == s["enum"].end()) {
      err("default " + d.dump() + " is not in enum");
    }
    if (d.is_number() && s.contains("minimum") && s["minimum"].is_number() && d.get<double>() < s["minimum"].get<double>()) {
      err("default is below minimum");
    }
    if (d.is_number() && s.contains("maximum") && s["maximum"].is_number() && d.get<double>() > s["maximum"].get<double>()) {
      err("default is above maximum");
    }
  }
}

bool OnSystemPath(const std::string& program) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    if (fs::exists(fs::path(dir) / program)) return true;
  }
  return false;
}

}  // namespace

bool IsValidSkillName(const std::string& name) {
  return name.size() >= 1 && name.size() <= 64 && std::regex_match(name, std::regex("[a-z0-9]+(-[a-z0-9]+)*"));
}

Frontmatter ParseFrontmatter(const std::string& text) {
  Frontmatter fm;
  if (text.rfind("---\n", 0) != 0) {
    fm.errors.push_back("SKILL.md must start with a --- line");
    return fm;
  }
  const auto end = text.find("\n---\n", 3);
  if (end == std::string::npos) {
    fm.errors.push_back("no closing --- line after the frontmatter");
    return fm;
  }
  fm.raw = text.substr(4, end - 3);
  fm.body = text.substr(end + 5);
  std::istringstream lines(fm.raw);
  std::string line, open_map;
  int n = 1;
  while (std::getline(lines, line)) {
    ++n;
    const std::string at = "SKILL.md:" + std::to_string(n) + ": ";
    if (Trim(line).empty()) continue;
    const bool indented = line[0] == ' ';
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      fm.errors.push_back(at + "expected `key: value`");
      continue;
    }
    const std::string key = Trim(line.substr(0, colon));
    const std::string value = Trim(line.substr(colon + 1));
    if (indented) {
      if (open_map.empty()) fm.errors.push_back(at + "indented line outside a map");
      else if (!IsPlainScalar(value)) fm.errors.push_back(at + "value of " + key + " is not a plain scalar");
      else fm.maps[open_map][key] = value;
      continue;
    }
    open_map.clear();
    if (fm.scalars.count(key) || fm.maps.count(key)) fm.errors.push_back(at + "duplicate key " + key);
    if (value.empty()) {
      open_map = key;
      fm.maps[key];
    } else if (!IsPlainScalar(value)) {
      fm.errors.push_back(at + "value of " + key + " is not a plain YAML scalar (no ': ', ' #', leading quote or symbol)");
    } else {
      fm.scalars[key] = value;
    }
  }
  return fm;
}

std::vector<std::string> CheckSkill(const fs::path& dir) {
  std::vector<std::string> errors;
  const std::string folder = dir.filename().string();
  auto err = [&](const std::string& file, const std::string& m) { errors.push_back(folder + "/" + file + ": " + m); };

  if (!fs::exists(dir / "SKILL.md")) {
    err("SKILL.md", "missing (every skill folder needs one)");
    return errors;
  }
  const Frontmatter fm = ParseFrontmatter(Slurp(dir / "SKILL.md"));
  for (const auto& e : fm.errors) err("SKILL.md", e);
  for (const auto& [k, v] : fm.scalars) {
    if (!kFrontmatterKeys.count(k)) err("SKILL.md", "unknown frontmatter key " + k);
  }
  for (const auto& [k, v] : fm.maps) {
    if (k != "metadata") err("SKILL.md", "only metadata may be a map, not " + k);
  }
  const auto get = [&](const std::string& k) { return fm.scalars.count(k) ? fm.scalars.at(k) : std::string(); };
  const std::string name = get("name");
  if (!IsValidSkillName(name)) err("SKILL.md", "name \"" + name + "\" breaks the name rules (a-z 0-9 -, 1-64)");
  if (name != folder) err("SKILL.md", "name \"" + name + "\" differs from the folder name");
  const std::string description = get("description");
  if (description.empty() || description.size() > 1024) err("SKILL.md", "description must have 1-1024 characters");
  if (get("compatibility").size() > 500) err("SKILL.md", "compatibility is over 500 characters");
  if (Trim(fm.body).empty()) err("SKILL.md", "the body (instructions for the model) is empty");

  if (!fs::exists(dir / "skill.json")) return errors;  // an instruction-only skill
  json m;
  try {
    m = json::parse(Slurp(dir / "skill.json"));
  } catch (const json::exception& e) {
    err("skill.json", std::string("not valid JSON: ") + e.what());
    return errors;
  }
  if (!m.is_object()) {
    err("skill.json", "must be an object");
    return errors;
  }
  for (const auto& [k, v] : m.items()) {
    if (!kManifestKeys.count(k)) err("skill.json", "unknown field " + k);
  }
  if (!m.contains("version") || !m["version"].is_string() ||
      !std::regex_match(m["version"].get<std::string>(),
                        std::regex(R"((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)"))) {
    err("skill.json", "version must be a semver string such as 1.0.0");
  }
  if (!m.contains("entrypoint") || !m["entrypoint"].is_array() || m["entrypoint"].empty()) {
    err("skill.json", "entrypoint must be a non-empty argv array");
  } else {
    for (const auto& a : m["entrypoint"]) {
      if (!a.is_string() || a.get<std::string>().empty()) err("skill.json", "entrypoint elements must be non-empty strings");
    }
    const std::string prog = m["entrypoint"][0].is_string() ? m["entrypoint"][0].get<std::string>() : "";
    if (!prog.empty() && prog[0] == '/' ? !fs::exists(prog) : !OnSystemPath(prog)) {
      err("skill.json", "entrypoint[0] \"" + prog + "\" is neither an existing absolute path nor on the system PATH");
    }
    for (const auto& a : m["entrypoint"]) {
      if (!a.is_string()) continue;
      const std::string s = a;
      if (s.rfind("scripts/", 0) != 0) continue;
      if (s.find("..") != std::string::npos) err("skill.json", "entrypoint element " + s + " climbs out of the folder");
      else if (!fs::is_regular_file(dir / s)) err("skill.json", "entrypoint file " + s + " does not exist");
    }
  }
  if (!m.contains("arguments")) err("skill.json", "arguments (a JSON Schema object) is required");
  else CheckSchema(m["arguments"], folder + "/skill.json: arguments", true, false, errors);
  if (!m.contains("output") || (m["output"] != "json" && m["output"] != "text")) {
    err("skill.json", "output must be \"json\" or \"text\"");
  }
  const json perms = m.value("permissions", json::object());
  if (!perms.is_object()) {
    err("skill.json", "permissions must be an object");
  } else {
    for (const auto& [k, v] : perms.items()) {
      if (k != "workspace" && k != "read_paths" && k != "hosts") err("skill.json", "unknown permissions field " + k);
    }
    const json ws = perms.value("workspace", json("none"));
    if (ws != "none" && ws != "read" && ws != "write") err("skill.json", "permissions.workspace must be none|read|write");
    for (const auto& p : perms.value("read_paths", json::array())) {
      if (!p.is_string() || p.get<std::string>().empty() || p.get<std::string>()[0] != '/') {
        err("skill.json", "permissions.read_paths entries must be absolute paths");
      }
    }
    for (const auto& h : perms.value("hosts", json::array())) {
      std::smatch match;
      const std::string s = h.is_string() ? h.get<std::string>() : "";
      if (!std::regex_match(s, match, std::regex(R"(([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?:(\d{1,5}))")) ||
          std::stoi(match[4]) < 1 || std::stoi(match[4]) > 65535) {
        err("skill.json", "permissions.hosts entry " + h.dump() + " is not host:port");
      }
    }
    // Catalog rule: a skill that can write a file says so, so that a read-only policy can refuse it up front.
    if (m.contains("arguments") && m["arguments"].contains("properties") && m["arguments"]["properties"].contains("output") &&
        ws != "write") {
      err("skill.json", "has an output argument but permissions.workspace is not \"write\"");
    }
    if (!perms.value("hosts", json::array()).empty()) {
      const auto tags = m.value("tags", json::array());
      if (std::find(tags.begin(), tags.end(), "network") == tags.end()) err("skill.json", "declares hosts but lacks the tag network");
    }
  }
  if (m.contains("limits")) {
    if (!m["limits"].is_object()) {
      err("skill.json", "limits must be an object");
    } else {
      for (const auto& [k, v] : m["limits"].items()) {
        if (k != "timeout_s" && k != "memory_mb" && k != "output_kb") err("skill.json", "unknown limit " + k);
        else if (!v.is_number_unsigned() || v.get<unsigned>() == 0) err("skill.json", "limits." + k + " must be a positive integer");
      }
    }
  }
  if (m.contains("tags")) {
    if (!m["tags"].is_array()) err("skill.json", "tags must be an array");
    for (const auto& t : m["tags"]) {
      if (!t.is_string() || !std::regex_match(t.get<std::string>(), std::regex("[a-z0-9]+(-[a-z0-9]+)*"))) {
        err("skill.json", "tag " + t.dump() + " is not a lowercase word");
      }
    }
  }
  // Catalog rule: the instructions document every argument, so the model knows what it may pass.
  if (m.contains("arguments") && m["arguments"].contains("properties") && m["arguments"]["properties"].is_object()) {
    for (const auto& [arg, sub] : m["arguments"]["properties"].items()) {
      if (fm.body.find("`" + arg + "`") == std::string::npos) err("SKILL.md", "the body never mentions argument `" + arg + "`");
    }
  }
  return errors;
}

}  // namespace warden::catalog_test
