// The catalog as a whole (issue 8, "Default catalog"): every skill folder satisfies the manifest format, the
// frontmatter reads the same in a real YAML parser, the checker itself catches broken manifests, every skill is
// exercised by this suite, and every skill refuses malformed input and paths that leave the workspace.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "skills/catalog/catalog_test_support.h"
#include "skills/catalog/manifest_check.h"

namespace warden::catalog_test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json Manifest(const fs::path& dir) { return json::parse(Slurp(dir / "skill.json")); }

TEST_CASE("the catalog has at least 40 executable skills, each a valid manifest", "[catalog][manifest]") {
  const auto dirs = SkillDirs();
  CHECK(dirs.size() >= 40);
  std::vector<std::string> errors;
  for (const auto& dir : dirs) {
    CHECK(fs::exists(dir / "skill.json"));  // the default catalog is executable skills only
    for (auto& e : CheckSkill(dir)) errors.push_back(std::move(e));
  }
  INFO([&] {
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    return all;
  }());
  CHECK(errors.empty());
}

TEST_CASE("every folder in the catalog is a skill, except the shared .lib", "[catalog][manifest]") {
  // A stray folder would be reported by the loader as a rejected skill on every start. `.lib` holds the Python
  // code the skills share; it is no skill, and the loader must pass it over.
  CHECK(fs::exists(SkillLibDir() / "warden_skill.py"));
  CHECK(!fs::exists(SkillLibDir() / "SKILL.md"));
  CHECK(!fs::exists(SkillLibDir() / "__pycache__"));  // the scripts import it without writing bytecode
  for (const auto& entry : fs::directory_iterator(CatalogDir())) {
    if (!entry.is_directory() || entry.path().filename() == ".lib") continue;
    INFO(entry.path());
    CHECK(fs::exists(entry.path() / "SKILL.md"));
    CHECK(!fs::exists(entry.path() / "scripts" / "__pycache__"));
  }
}

TEST_CASE("SKILL.md frontmatter reads the same in a real YAML parser", "[catalog][manifest]") {
  // The checker accepts only a plain-scalar subset; PyYAML (python3-yaml) confirms that subset means what the
  // checker thinks it means, so any full YAML loader sees the same name and description.
  json raws = json::array();
  std::vector<Frontmatter> parsed;
  for (const auto& dir : SkillDirs()) {
    parsed.push_back(ParseFrontmatter(Slurp(dir / "SKILL.md")));
    raws.push_back(parsed.back().raw);
  }
  const auto r = warden::testing::RunProcess(
      {"/usr/bin/python3", "-c",
       "import json, sys, yaml; print(json.dumps([yaml.safe_load(t) for t in json.load(sys.stdin)]))"},
      raws.dump());
  INFO("python3-yaml is needed here (Debian package python3-yaml); stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const json yaml = json::parse(r.out);
  REQUIRE(yaml.size() == parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    INFO(parsed[i].raw);
    json expected(parsed[i].scalars);
    for (const auto& entry : parsed[i].maps) expected[entry.first] = json(entry.second);
    CHECK(yaml[i] == expected);
  }
}

TEST_CASE("the manifest checker rejects each kind of broken manifest", "[catalog][manifest]") {
  warden::testing::TempDir tmp;
  const auto make = [&](const std::string& folder, const std::string& skill_md, const std::string& skill_json) {
    const fs::path dir = tmp.path() / folder;
    fs::create_directories(dir / "scripts");
    std::ofstream(dir / "SKILL.md") << skill_md;
    std::ofstream(dir / "scripts" / "main.py") << "print(1)\n";
    if (!skill_json.empty()) std::ofstream(dir / "skill.json") << skill_json;
    return dir;
  };
  const std::string good_json =
      R"({"version": "1.0.0", "entrypoint": ["python3", "scripts/main.py"], "output": "json",
          "arguments": {"type": "object", "properties": {"x": {"type": "string", "description": "an x"}}},
          "permissions": {"workspace": "read"}})";
  const auto errors_of = [](const fs::path& dir) {
    std::string all;
    for (const auto& e : CheckSkill(dir)) all += e + "\n";
    return all;
  };
  const std::string body = "# T\n\nUses `x`.\n";

  CHECK(errors_of(make("good", "---\nname: good\ndescription: Does a thing.\n---\n" + body, good_json)).empty());
  CHECK(errors_of(make("instruction-only", "---\nname: instruction-only\ndescription: Advice.\n---\n" + body, "")).empty());
  CHECK_THAT(errors_of(make("other", "---\nname: different\ndescription: d\n---\n" + body, good_json)),
             Catch::Contains("differs from the folder name"));
  CHECK_THAT(errors_of(make("Bad--Name", "---\nname: Bad--Name\ndescription: d\n---\n" + body, good_json)),
             Catch::Contains("breaks the name rules"));
  CHECK_THAT(errors_of(make("nodesc", "---\nname: nodesc\n---\n" + body, good_json)),
             Catch::Contains("description must have 1-1024"));
  CHECK_THAT(errors_of(make("colon", "---\nname: colon\ndescription: Note: this breaks YAML\n---\n" + body, good_json)),
             Catch::Contains("not a plain YAML scalar"));
  CHECK_THAT(errors_of(make("nofm", "# no frontmatter\n", good_json)), Catch::Contains("must start with a --- line"));
  const std::string md = "---\nname: x1\ndescription: d\n---\n" + body;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string j = good_json;
    j.replace(j.find(from), from.size(), to);
    return j;
  };
  CHECK_THAT(errors_of(make("x1", md, with("\"1.0.0\"", "\"1.0\""))), Catch::Contains("semver"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("scripts/main.py", "scripts/missing.py"))), Catch::Contains("does not exist"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"python3\"", "\"no-such-interpreter\""))),
             Catch::Contains("neither an existing absolute path nor on the system PATH"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"output\": \"json\"", "\"output\": \"xml\""))), Catch::Contains("output must be"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"description\": \"an x\"", "\"description\": \"an x\", \"format\": \"uri\""))),
             Catch::Contains("outside the supported JSON Schema subset"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"type\": \"string\"", "\"type\": \"string\", \"default\": 3"))),
             Catch::Contains("is not of type string"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"properties\"", "\"required\": [\"y\"], \"properties\""))),
             Catch::Contains("which is not a property"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"workspace\": \"read\"", "\"workspace\": \"read\", \"hosts\": [\"example.com\"]"))),
             Catch::Contains("is not host:port"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"properties\": {", "\"properties\": {\"output\": {\"type\": \"string\", \"description\": \"o\"}, "))),
             Catch::Contains("not \"write\""));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", md, with("\"version\"", "\"entry\": 1, \"version\""))), Catch::Contains("unknown field entry"));
  fs::remove_all(tmp.path() / "x1");
  CHECK_THAT(errors_of(make("x1", "---\nname: x1\ndescription: d\n---\n# T\n", good_json)),
             Catch::Contains("never mentions argument `x`"));
}

TEST_CASE("a skill folder away from the catalog finds the shared .lib through WARDEN_SKILL_LIB", "[catalog][manifest]") {
  // The executor mounts .lib beside the skill, not at ../../.lib: copied alone, a skill must still run (RunSkill
  // passes WARDEN_SKILL_LIB) and still name itself after its folder in errors.
  warden::testing::TempDir tmp;
  // The sandbox's unprivileged user binds the skill folder, so it must be able to reach it (TempDir is 0700).
  fs::permissions(tmp.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  const fs::path copy = tmp.path() / "calculate";
  fs::copy(CatalogDir() / "calculate", copy, fs::copy_options::recursive);
  Workspace ws;
  const auto ok = RunSkill(copy, R"({"expression": "6 * 7"})", ws.path());
  INFO("stderr: " << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(json::parse(ok.out)["result"] == 42);
  const auto bad = RunSkill(copy, "[1]", ws.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.rfind("calculate: ", 0) == 0);
  CHECK(!fs::exists(copy / "scripts" / "__pycache__"));
}

TEST_CASE("every skill in the catalog is run by this suite", "[catalog]") {
  std::string sources;
  for (const auto& entry : fs::directory_iterator(CatalogDir())) {
    if (entry.path().string().size() > 9 && entry.path().string().rfind("_test.cpp") == entry.path().string().size() - 9) {
      sources += Slurp(entry.path());
    }
  }
  for (const auto& dir : SkillDirs()) {
    const std::string name = dir.filename().string();
    INFO("no SkillCall or Skill(\"" << name << "\", ws) in skills/catalog/*_test.cpp: add a test that runs it");
    const bool is_run = sources.find("\"" + name + "\", ws}") != std::string::npos ||
                        sources.find("\"" + name + "\", ws)") != std::string::npos;
    CHECK(is_run);
  }
}

TEST_CASE("every skill refuses arguments that are not one JSON object", "[catalog][errors]") {
  Workspace ws;
  const std::vector<std::string> bad = {"{not json", "[1, 2]", "\"text\""};
  size_t i = 0;
  for (const auto& dir : SkillDirs()) {
    const std::string name = dir.filename().string();
    // One malformed input per skill, rotating through the kinds: the suite stays fast and every kind is covered.
    const std::string& input = bad[i++ % bad.size()];
    const auto r = Skill(name, ws).Raw(input);
    INFO(name << " stdin " << input << " stderr " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind(name + ": ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("every skill refuses a call without its required arguments", "[catalog][errors]") {
  Workspace ws;
  int with_required = 0;
  for (const auto& dir : SkillDirs()) {
    const json m = Manifest(dir);
    if (m["arguments"].value("required", json::array()).empty()) continue;
    ++with_required;
    SkillCall call{dir.filename().string(), ws};
    CHECK_THAT(call.Fails(json::object(), 2), Catch::Contains("missing required argument") || Catch::Contains("give "));
  }
  CHECK(with_required >= 20);
}

// Minimal valid-looking values for the required arguments, so that a run gets as far as the path check.
json Filler(const json& manifest) {
  json args = json::object();
  const json& props = manifest["arguments"]["properties"];
  for (const auto& r : manifest["arguments"].value("required", json::array())) {
    const json& p = props[r.get<std::string>()];
    const std::string type = p.value("type", "string");
    if (p.contains("enum")) args[r.get<std::string>()] = p["enum"][0];
    else if (type == "array") args[r.get<std::string>()] = json::array({"in.txt"});
    else if (type == "number" || type == "integer") args[r.get<std::string>()] = 1;
    else if (r == "output") args[r.get<std::string>()] = "out.png";
    else args[r.get<std::string>()] = "in.txt";
  }
  return args;
}

TEST_CASE("every skill refuses input paths that leave the workspace", "[catalog][errors][paths]") {
  // The sandbox enforces this too; a skill must still say so itself instead of failing on an odd error.
  Workspace ws;
  ws.Write("in.txt", "a,b\n1,2\n");
  fs::create_symlink("/etc", ws.path() / "etc-link");
  const std::vector<std::string> escapes = {"/etc/hostname", "../outside.txt", "sub/../../outside.txt", "etc-link/hostname"};
  size_t checked = 0;
  for (const auto& dir : SkillDirs()) {
    const json m = Manifest(dir);
    const json& props = m["arguments"]["properties"];
    for (const std::string key : {"path", "archive", "patch", "paths", "a", "values_path", "template_path"}) {
      if (!props.contains(key)) continue;
      // One escape per skill and argument, rotating through absolute, `..`, `..` behind a folder and a symlink.
      const std::string& escape = escapes[checked++ % escapes.size()];
      json args = Filler(m);
      if (props[key]["type"] == "array") args[key] = json::array({escape});
      else args[key] = escape;
      if (key == "values_path") args["template"] = "{{x}}";
      CHECK_THAT(Skill(dir.filename().string(), ws).Fails(args, 2), Catch::Contains("workspace"));
    }
  }
  CHECK(checked >= 30);
}

TEST_CASE("skills that write refuse output paths that leave the workspace", "[catalog][errors][paths]") {
  Workspace ws;
  ws.Write("in.txt", "hello\n");
  for (const std::string name : {"regex-replace", "sort-lines", "json-format", "base64-codec", "http-fetch"}) {
    const json m = Manifest(CatalogDir() / name);
    for (const std::string escape : {"/tmp/warden-catalog-escape.txt", "../escape.txt"}) {
      json args = Filler(m);
      if (m["arguments"]["properties"].contains("text")) args["text"] = "{}";
      args["output"] = escape;
      if (name == "http-fetch") args["url"] = "http://example.com/";
      SkillCall call{name, ws};
      CHECK_THAT(call.Fails(args, 2), Catch::Contains("workspace"));
    }
  }
  CHECK(!fs::exists("/tmp/warden-catalog-escape.txt"));
  CHECK(!fs::exists(ws.path().parent_path() / "escape.txt"));
}

}  // namespace
}  // namespace warden::catalog_test
