// Skill manifest loading and validation (issue 8 "Manifest"; format in docs/skills.md): NAME/SKILL.md with YAML
// frontmatter (Agent Skills convention, retrieval.md 3.1), an optional NAME/skill.json that makes it executable,
// or a single-file NAME.skill.json. Every error names the file, the field and what was expected.
#include <regex>
#include <set>
#include <sstream>

#include "runtime/base/file_util.h"
#include "skills/skills_internal.h"

namespace warden::skills {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxManifestBytes = 1 << 20;  // 1 MiB: a manifest larger than this is a mistake, not a skill

// Raised inside the loader and turned into a Rejection at the top; never leaves this file.
struct Reject {
  std::string field;
  std::string message;
  int line = 0;
};

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Quote(const std::string& s) {
  std::string shown = s.size() > 80 ? s.substr(0, 77) + "..." : s;
  return json(shown).dump();
}

std::string TypeOf(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return "a string " + Quote(v.get<std::string>());
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number " + v.dump();
  if (v.is_array()) return "a list";
  return "an object";
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  static const std::regex kName("^[a-z0-9]+(-[a-z0-9]+)*$");
  return std::regex_match(name, kName);
}

void CheckName(const std::string& name, const std::string& expected_name, int line) {
  if (!ValidName(name)) {
    throw Reject{"name",
                 "expected 1-64 characters of lowercase a-z, 0-9 and single '-' (no leading or trailing '-'), got " +
                     Quote(name),
                 line};
  }
  if (!expected_name.empty() && name != expected_name) {
    throw Reject{"name", "expected the folder/file name " + Quote(expected_name) + ", got " + Quote(name), line};
  }
}

std::string RequireString(const json& obj, const std::string& key, const std::string& field, int line) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw Reject{field, "required field is missing", line};
  if (!it->is_string()) throw Reject{field, "expected a string, got " + TypeOf(*it), line};
  return it->get<std::string>();
}

void CheckDescription(const std::string& d, int line) {
  size_t n = Utf8Length(d);
  if (n == 0 || n > 1024) {
    throw Reject{"description", "expected 1-1024 characters, got " + std::to_string(n), line};
  }
}

// ---- skill.json ------------------------------------------------------------------------------------------------

bool ValidSemver(const std::string& v) {
  static const std::regex kSemver(
      R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$)");
  return std::regex_match(v, kSemver);
}

void CheckSchema(const json& s, const std::string& field, int depth) {
  static const std::set<std::string> kKeywords = {"type",      "properties", "required", "enum",
                                                  "items",     "minimum",    "maximum",  "minLength",
                                                  "maxLength", "pattern",    "default",  "description",
                                                  "title",     "additionalProperties", "$schema"};
  static const std::set<std::string> kTypes = {"object", "array", "string", "number", "integer", "boolean", "null"};
  if (depth > 16) throw Reject{field, "expected a schema nested at most 16 levels deep"};
  if (!s.is_object()) throw Reject{field, "expected a JSON Schema object, got " + TypeOf(s)};
  for (const auto& [k, v] : s.items()) {
    if (!kKeywords.count(k)) {
      throw Reject{field + "." + k,
                   "unsupported JSON Schema keyword (supported: type, properties, required, enum, items, minimum, "
                   "maximum, minLength, maxLength, pattern, default, description)"};
    }
    if (k == "type") {
      auto check = [&](const json& t) {
        if (!t.is_string() || !kTypes.count(t.get<std::string>())) {
          throw Reject{field + ".type", "expected one of object, array, string, number, integer, boolean, null, got " +
                                            TypeOf(t)};
        }
      };
      if (v.is_array()) {
        for (const auto& t : v) check(t);
      } else {
        check(v);
      }
    } else if (k == "properties") {
      if (!v.is_object()) throw Reject{field + ".properties", "expected an object, got " + TypeOf(v)};
      for (const auto& [pname, p] : v.items()) CheckSchema(p, field + ".properties." + pname, depth + 1);
    } else if (k == "items") {
      CheckSchema(v, field + ".items", depth + 1);
    } else if (k == "required") {
      if (!v.is_array()) throw Reject{field + ".required", "expected a list of property names, got " + TypeOf(v)};
      for (const auto& r : v) {
        if (!r.is_string()) throw Reject{field + ".required", "expected property names, got " + TypeOf(r)};
        auto props = s.find("properties");
        if (props == s.end() || !props->contains(r.get<std::string>())) {
          throw Reject{field + ".required", "names " + Quote(r.get<std::string>()) + ", which is not in properties"};
        }
      }
    } else if (k == "enum") {
      if (!v.is_array() || v.empty()) throw Reject{field + ".enum", "expected a non-empty list, got " + TypeOf(v)};
    } else if (k == "minimum" || k == "maximum") {
      if (!v.is_number()) throw Reject{field + "." + k, "expected a number, got " + TypeOf(v)};
    } else if (k == "minLength" || k == "maxLength") {
      if (!v.is_number_unsigned()) throw Reject{field + "." + k, "expected a non-negative integer, got " + TypeOf(v)};
    } else if (k == "pattern") {
      if (!v.is_string()) throw Reject{field + ".pattern", "expected a regular expression string, got " + TypeOf(v)};
      try {
        std::regex re(v.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        throw Reject{field + ".pattern", "expected a valid regular expression, got " + Quote(v.get<std::string>())};
      }
    } else if (k == "description" || k == "title") {
      if (!v.is_string()) throw Reject{field + "." + k, "expected a string, got " + TypeOf(v)};
    }
  }
}

std::vector<std::string> StringList(const json& v, const std::string& field) {
  if (!v.is_array()) throw Reject{field, "expected a list of strings, got " + TypeOf(v)};
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      throw Reject{field + "[" + std::to_string(i) + "]", "expected a string, got " + TypeOf(v[i])};
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

int64_t PositiveInt(const json& obj, const char* key, const std::string& field, int64_t def, int64_t max) {
  auto it = obj.find(key);
  if (it == obj.end()) return def;
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > max) {
    throw Reject{field, "expected an integer from 1 to " + std::to_string(max) + ", got " + TypeOf(*it)};
  }
  return it->get<int64_t>();
}

// Reads the executable part shared by skill.json and NAME.skill.json. `single_file` allows name/description/
// instructions/license and forbids scripts/ resolution (there is no folder of its own).
void ReadExecutable(const json& j, bool single_file, const fs::path& skill_dir, Skill* skill) {
  static const std::set<std::string> kFolderKeys = {"version", "entrypoint", "arguments", "output",
                                                    "permissions", "limits", "tags"};
  static const std::set<std::string> kFileKeys = {"name", "description", "instructions", "license"};
  if (!j.is_object()) throw Reject{"", "expected a JSON object, got " + TypeOf(j)};
  for (const auto& [k, v] : j.items()) {
    (void)v;
    if (!kFolderKeys.count(k) && !(single_file && kFileKeys.count(k))) {
      throw Reject{k, std::string("unknown field (expected ") +
                          (single_file ? "name, description, instructions, license, " : "") +
                          "version, entrypoint, arguments, output, permissions, limits, tags)"};
    }
  }
  skill->executable = true;
  skill->version = RequireString(j, "version", "version", 0);
  if (!ValidSemver(skill->version)) {
    throw Reject{"version", "expected a semantic version such as \"1.2.0\", got " + Quote(skill->version)};
  }
  auto ep = j.find("entrypoint");
  if (ep == j.end()) throw Reject{"entrypoint", "required field is missing (the argv to run, e.g. [\"python3\", \"scripts/main.py\"])"};
  skill->entrypoint = StringList(*ep, "entrypoint");
  if (skill->entrypoint.empty() || skill->entrypoint[0].empty()) {
    throw Reject{"entrypoint", "expected a non-empty argv list"};
  }
  const std::string& prog = skill->entrypoint[0];
  if (prog.find('/') != std::string::npos && prog[0] != '/') {
    throw Reject{"entrypoint[0]", "expected a program on PATH (no '/') or an absolute path, got " + Quote(prog)};
  }
  for (size_t i = 1; i < skill->entrypoint.size(); ++i) {
    std::string& arg = skill->entrypoint[i];
    if (arg.rfind("scripts/", 0) != 0) continue;
    const std::string field = "entrypoint[" + std::to_string(i) + "]";
    if (single_file) {
      throw Reject{field, "a single-file NAME.skill.json has no scripts/ folder; use an absolute path"};
    }
    fs::path rel(arg);
    for (const auto& part : rel) {
      if (part == "..") throw Reject{field, "expected a path inside the skill's scripts/ folder, got " + Quote(arg)};
    }
    fs::path resolved = skill_dir / rel;
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec)) {
      throw Reject{field, "the script " + resolved.string() + " does not exist"};
    }
    arg = resolved.string();
  }
  if (auto a = j.find("arguments"); a != j.end()) {
    CheckSchema(*a, "arguments", 0);
    if (a->contains("type") && (*a)["type"] != "object") {
      throw Reject{"arguments.type", "expected \"object\" (arguments are one JSON object), got " + TypeOf((*a)["type"])};
    }
    skill->arguments = *a;
  }
  if (auto o = j.find("output"); o != j.end()) {
    if (!o->is_string() || (*o != "json" && *o != "text")) {
      throw Reject{"output", "expected \"json\" or \"text\", got " + TypeOf(*o)};
    }
    skill->output = o->get<std::string>();
  }
  if (auto p = j.find("permissions"); p != j.end()) {
    if (!p->is_object()) throw Reject{"permissions", "expected an object, got " + TypeOf(*p)};
    for (const auto& [k, v] : p->items()) {
      (void)v;
      if (k != "workspace" && k != "read_paths" && k != "hosts") {
        throw Reject{"permissions." + k, "unknown field (expected workspace, read_paths, hosts)"};
      }
    }
    if (auto w = p->find("workspace"); w != p->end()) {
      if (!w->is_string() || (*w != "none" && *w != "read" && *w != "write")) {
        throw Reject{"permissions.workspace", "expected \"none\", \"read\" or \"write\", got " + TypeOf(*w)};
      }
      skill->permissions.workspace = w->get<std::string>();
    }
    if (auto r = p->find("read_paths"); r != p->end()) {
      skill->permissions.read_paths = StringList(*r, "permissions.read_paths");
      for (size_t i = 0; i < skill->permissions.read_paths.size(); ++i) {
        const auto& path = skill->permissions.read_paths[i];
        if (path.empty() || path[0] != '/') {
          throw Reject{"permissions.read_paths[" + std::to_string(i) + "]", "expected an absolute path, got " + Quote(path)};
        }
      }
    }
    if (auto h = p->find("hosts"); h != p->end()) {
      skill->permissions.hosts = StringList(*h, "permissions.hosts");
      static const std::regex kHost(R"(^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]|\*\.[A-Za-z0-9.-]+):([0-9]{1,5})$)");
      for (size_t i = 0; i < skill->permissions.hosts.size(); ++i) {
        const auto& host = skill->permissions.hosts[i];
        std::smatch m;
        bool ok = std::regex_match(host, m, kHost);
        if (ok) {
          long port = std::stol(m[m.size() - 1].str());
          ok = port >= 1 && port <= 65535;
        }
        if (!ok) {
          throw Reject{"permissions.hosts[" + std::to_string(i) + "]",
                       "expected \"host:port\" with a port from 1 to 65535, got " + Quote(host)};
        }
      }
    }
  }
  if (auto l = j.find("limits"); l != j.end()) {
    if (!l->is_object()) throw Reject{"limits", "expected an object, got " + TypeOf(*l)};
    for (const auto& [k, v] : l->items()) {
      (void)v;
      if (k != "timeout_s" && k != "memory_mb" && k != "output_kb") {
        throw Reject{"limits." + k, "unknown field (expected timeout_s, memory_mb, output_kb)"};
      }
    }
    skill->limits.timeout_s = PositiveInt(*l, "timeout_s", "limits.timeout_s", 10, 24 * 3600);
    skill->limits.memory_mb = PositiveInt(*l, "memory_mb", "limits.memory_mb", 256, 1 << 20);
    skill->limits.output_kb = PositiveInt(*l, "output_kb", "limits.output_kb", 1024, 1 << 20);
  }
  if (auto t = j.find("tags"); t != j.end()) {
    skill->tags = StringList(*t, "tags");
    static const std::regex kTag("^[a-z0-9]+([-_][a-z0-9]+)*$");
    for (size_t i = 0; i < skill->tags.size(); ++i) {
      if (!std::regex_match(skill->tags[i], kTag)) {
        throw Reject{"tags[" + std::to_string(i) + "]",
                     "expected a lowercase word (a-z, 0-9, inner '-' or '_'), got " + Quote(skill->tags[i])};
      }
    }
  }
}

json ParseJsonFile(const fs::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) throw Reject{"", text.status().message()};
  if (text->size() > kMaxManifestBytes) throw Reject{"", "expected a manifest under 1 MiB"};
  try {
    return json::parse(*text);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into a line for the error.
    size_t line = 1;
    for (size_t i = 0; i < e.byte && i < text->size(); ++i) line += (*text)[i] == '\n';
    throw Reject{"", std::string("invalid JSON: ") + e.what(), static_cast<int>(line)};
  }
}

// ---- SKILL.md --------------------------------------------------------------------------------------------------

void ReadSkillMd(const fs::path& file, const std::string& folder_name, Skill* skill) {
  auto text = ReadFile(file);
  if (!text.ok()) throw Reject{"", text.status().message()};
  if (text->size() > kMaxManifestBytes) throw Reject{"", "expected a SKILL.md under 1 MiB"};
  detail::Frontmatter fm;
  std::string error;
  int line = 0;
  if (!detail::ParseFrontmatter(*text, &fm, &error, &line)) throw Reject{"", error, line};
  auto line_of = [&](const std::string& key) {
    auto it = fm.key_lines.find(key);
    return it == fm.key_lines.end() ? 0 : it->second;
  };
  const json& v = fm.values;
  skill->name = RequireString(v, "name", "name", line_of("name") ? line_of("name") : 1);
  CheckName(skill->name, folder_name, line_of("name"));
  skill->description = RequireString(v, "description", "description", line_of("description") ? line_of("description") : 1);
  CheckDescription(skill->description, line_of("description"));
  for (const auto& [k, val] : v.items()) {
    if (k == "name" || k == "description") continue;
    const int kl = line_of(k);
    if (k == "license") {
      if (!val.is_string()) throw Reject{k, "expected a string, got " + TypeOf(val), kl};
      skill->license = val.get<std::string>();
    } else if (k == "compatibility") {
      if (!val.is_string()) throw Reject{k, "expected a string, got " + TypeOf(val), kl};
      skill->compatibility = val.get<std::string>();
      if (Utf8Length(skill->compatibility) > 500) {
        throw Reject{k, "expected at most 500 characters, got " + std::to_string(Utf8Length(skill->compatibility)), kl};
      }
    } else if (k == "metadata") {
      if (val.is_null()) continue;
      if (!val.is_object()) throw Reject{k, "expected a map of string keys to string values, got " + TypeOf(val), kl};
      for (const auto& [mk, mv] : val.items()) {
        if (!mv.is_string()) throw Reject{"metadata." + mk, "expected a string value, got " + TypeOf(mv), kl};
        skill->metadata[mk] = mv.get<std::string>();
      }
    } else if (k == "allowed-tools") {
      if (val.is_string()) {
        std::istringstream in(val.get<std::string>());
        for (std::string tool; in >> tool;) skill->allowed_tools.push_back(tool);
      } else if (val.is_array()) {
        // The specification's older form; accepted because published skills use it.
        skill->allowed_tools = StringList(val, k);
      } else {
        throw Reject{k, "expected a space-separated string of tool names, got " + TypeOf(val), kl};
      }
    } else {
      // Non-spec keys are common in published skills (author, version, tags ...); keep them visible, not fatal.
      skill->warnings.push_back(file.string() + ":" + std::to_string(kl) + ": unknown frontmatter key '" + k +
                                "' ignored (the Agent Skills keys are name, description, license, compatibility, "
                                "metadata, allowed-tools)");
    }
  }
  skill->instructions = fm.body;
  // Instruction-only skills carry tags and a documented argument schema in metadata (docs/skills.md), so imported
  // tool catalogs stay valid Agent Skills and still index their tags and parameters.
  if (auto it = skill->metadata.find("tags"); it != skill->metadata.end()) {
    std::string cur;
    for (char c : it->second + ",") {
      if (c == ',') {
        size_t b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
        if (b != std::string::npos) skill->tags.push_back(cur.substr(b, e - b + 1));
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
  }
  if (auto it = skill->metadata.find("arguments"); it != skill->metadata.end()) {
    json schema;
    try {
      schema = json::parse(it->second);
    } catch (const json::parse_error& e) {
      throw Reject{"metadata.arguments", std::string("expected a JSON Schema as a JSON string: ") + e.what(),
                   line_of("metadata")};
    }
    try {
      CheckSchema(schema, "metadata.arguments", 0);
    } catch (Reject& r) {
      r.line = line_of("metadata");
      throw;
    }
    skill->arguments = std::move(schema);
  }
}

void LoadInto(const fs::path& path, Skill* skill, fs::path* file) {
  std::error_code ec;
  *skill = Skill{};
  skill->arguments = json::object();
  if (fs::is_directory(path, ec)) {
    const std::string folder_name = path.filename().string();
    *file = path / "SKILL.md";
    if (!fs::is_regular_file(*file, ec)) {
      throw Reject{"", "a skill folder needs a SKILL.md (YAML frontmatter with name and description)"};
    }
    skill->root = path;
    skill->manifest = *file;
    ReadSkillMd(*file, folder_name, skill);
    fs::path sj = path / "skill.json";
    if (fs::exists(sj, ec)) {
      *file = sj;
      json j = ParseJsonFile(sj);
      std::vector<std::string> md_tags = skill->tags;
      ReadExecutable(j, false, path, skill);
      if (skill->tags.empty()) skill->tags = md_tags;
    }
    return;
  }
  const std::string fname = path.filename().string();
  const std::string suffix = ".skill.json";
  *file = path;
  if (fname.size() <= suffix.size() || fname.compare(fname.size() - suffix.size(), suffix.size(), suffix) != 0) {
    throw Reject{"", "expected a skill folder (NAME/SKILL.md) or a file NAME.skill.json"};
  }
  if (!fs::is_regular_file(path, ec)) throw Reject{"", "no such file"};
  skill->root = path.parent_path();
  skill->manifest = path;
  json j = ParseJsonFile(path);
  if (!j.is_object()) throw Reject{"", "expected a JSON object, got " + TypeOf(j)};
  skill->name = RequireString(j, "name", "name", 0);
  CheckName(skill->name, fname.substr(0, fname.size() - suffix.size()), 0);
  skill->description = RequireString(j, "description", "description", 0);
  CheckDescription(skill->description, 0);
  if (j.contains("instructions")) skill->instructions = RequireString(j, "instructions", "instructions", 0);
  if (j.contains("license")) skill->license = RequireString(j, "license", "license", 0);
  ReadExecutable(j, true, path.parent_path(), skill);
}

}  // namespace

bool ValidateSkill(const fs::path& path, Skill* skill, Rejection* rejection) {
  fs::path file = path;
  try {
    LoadInto(path, skill, &file);
    return true;
  } catch (const Reject& r) {
    *rejection = Rejection{file, r.line, r.field, r.message};
    return false;
  } catch (const std::exception& e) {
    *rejection = Rejection{file, 0, "", std::string("unexpected error: ") + e.what()};
    return false;
  }
}

Result<Skill> LoadSkill(const fs::path& path) {
  Skill skill;
  Rejection rejection;
  if (!ValidateSkill(path, &skill, &rejection)) return Status::InvalidArgument(rejection.ToString());
  return skill;
}

std::string Rejection::ToString() const {
  std::string s = file.string();
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!field.empty()) s += "field " + field + ": ";
  return s + message;
}

json Rejection::ToJson() const {
  return json{{"file", file.string()}, {"line", line}, {"field", field}, {"message", message}};
}

const char* FieldName(Field f) {
  switch (f) {
    case Field::kName: return "name";
    case Field::kDescription: return "description";
    case Field::kTags: return "tags";
    case Field::kParams: return "parameters";
  }
  return "?";
}

json Skill::ToJson(bool with_instructions) const {
  json j{{"name", name},
         {"description", description},
         {"executable", executable},
         {"manifest", manifest.string()},
         {"root", root.string()},
         {"folder", source_folder.string()},
         {"tags", tags}};
  if (!license.empty()) j["license"] = license;
  if (!compatibility.empty()) j["compatibility"] = compatibility;
  if (!metadata.empty()) j["metadata"] = metadata;
  if (!allowed_tools.empty()) j["allowed_tools"] = allowed_tools;
  if (!arguments.empty()) j["arguments"] = arguments;
  if (executable) {
    j["version"] = version;
    j["entrypoint"] = entrypoint;
    j["output"] = output;
    j["permissions"] = {{"workspace", permissions.workspace},
                        {"read_paths", permissions.read_paths},
                        {"hosts", permissions.hosts}};
    j["limits"] = {{"timeout_s", limits.timeout_s}, {"memory_mb", limits.memory_mb}, {"output_kb", limits.output_kb}};
  }
  if (!warnings.empty()) j["warnings"] = warnings;
  if (with_instructions) j["instructions"] = instructions;
  return j;
}

}  // namespace warden::skills
