// End-to-end tests of `warden chat parse`: every ../shared/fixtures/chat/parse_cases.jsonl case through the binary
// (whole and --stream), the tools file forms and its errors, usage errors.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;
using Json = nlohmann::ordered_json;

namespace {

std::vector<Json> LoadCases() {
  auto path = SharedPath("fixtures/chat/parse_cases.jsonl");
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path.string());
  std::vector<Json> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(Json::parse(line));
  }
  return cases;
}

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text) {
  auto path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

const char* kTools = R"([{"type": "function", "function": {"name": "run_shell", "parameters": {"properties": {
  "command": {"type": "string"}, "timeout_s": {"type": "integer"}}}}}])";

const char* kCallOutput =
    "Plan.\n</think>\n\n<tool_call>\n<function=run_shell>\n<parameter=timeout_s>\n5\n</parameter>\n"
    "<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>";

}  // namespace

TEST_CASE("chat parse reproduces every fixture case", "[cli][chatparse]") {
  TempDir tmp;
  auto cases = LoadCases();
  REQUIRE(cases.size() >= 33);
  int n = 0;
  for (const auto& c : cases) {
    INFO(c["name"].get<std::string>());
    std::vector<std::string> args = {"chat", "parse"};
    if (!c["tools"].is_null()) {
      args.push_back("--tools");
      args.push_back(WriteFile(tmp, "tools" + std::to_string(n++) + ".json", c["tools"].dump()));
    }
    if (!c["enable_thinking"].get<bool>()) args.push_back("--no-thinking");
    auto r = RunWarden(args, c["model_output"].get<std::string>());
    REQUIRE(r.exit_code == 0);
    CHECK(Json::parse(r.out) == c["expected"]);

    args.push_back("--stream");
    args.push_back("--chunk-size");
    args.push_back("3");
    auto s = RunWarden(args, c["model_output"].get<std::string>());
    REQUIRE(s.exit_code == 0);
    auto lines = Lines(s.out);
    REQUIRE(!lines.empty());
    CHECK(Json::parse(lines.back()) == c["expected"]);
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
      auto j = Json::parse(lines[i]);
      CHECK((j.contains("delta") || j.contains("consistent")));
    }
  }
}

TEST_CASE("chat parse keeps argument order and types", "[cli][chatparse]") {
  TempDir tmp;
  auto tools = WriteFile(tmp, "tools.json", kTools);
  auto r = RunWarden({"chat", "parse", "--tools", tools}, kCallOutput);
  REQUIRE(r.exit_code == 0);
  auto out = Json::parse(r.out);
  CHECK(out["tool_calls"][0]["arguments"].dump() == R"({"timeout_s":5,"command":"ls"})");
  CHECK(out["content"].is_null());
  // The same with the tools wrapped in an object and the global --json flag (output is JSON either way).
  auto wrapped = WriteFile(tmp, "wrapped.json", std::string(R"({"tools": )") + kTools + "}");
  auto w = RunWarden({"--json", "chat", "parse", "--tools", wrapped}, kCallOutput);
  REQUIRE(w.exit_code == 0);
  CHECK(Json::parse(w.out) == out);
}

TEST_CASE("chat parse without tools or thinking", "[cli][chatparse]") {
  auto r = RunWarden({"chat", "parse"}, kCallOutput);
  REQUIRE(r.exit_code == 0);
  auto out = Json::parse(r.out);
  CHECK(out["tool_calls"].empty());
  CHECK(out["content"].get<std::string>().find("<tool_call>") != std::string::npos);
  auto n = RunWarden({"chat", "parse", "--no-thinking"}, "Hi there");
  REQUIRE(n.exit_code == 0);
  CHECK(Json::parse(n.out) == Json::parse(R"({"reasoning": null, "content": "Hi there", "tool_calls": []})"));
  auto empty = RunWarden({"chat", "parse"}, "");
  REQUIRE(empty.exit_code == 0);
  CHECK(Json::parse(empty.out)["reasoning"] == "");
}

TEST_CASE("chat parse prints valid JSON for invalid UTF-8", "[cli][chatparse]") {
  auto r = RunWarden({"chat", "parse"}, "bad \xff\xfe</think>ok \xc3");
  REQUIRE(r.exit_code == 0);
  auto out = Json::parse(r.out);
  CHECK(out["content"] == "ok \xef\xbf\xbd");
}

TEST_CASE("chat parse --stream prints deltas then the final object", "[cli][chatparse]") {
  TempDir tmp;
  auto tools = WriteFile(tmp, "tools.json", kTools);
  std::string text = std::string(kCallOutput) + "\n" + std::string(kCallOutput).substr(16);
  auto r = RunWarden({"chat", "parse", "--tools", tools, "--stream", "--chunk-size", "1"}, text);
  REQUIRE(r.exit_code == 0);
  auto lines = Lines(r.out);
  REQUIRE(lines.size() >= 3);
  std::string reasoning;
  int calls = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    auto d = Json::parse(lines[i])["delta"];
    REQUIRE(!d.empty());
    reasoning += d.value("reasoning", "");
    if (d.contains("tool_calls")) calls += static_cast<int>(d["tool_calls"].size());
  }
  auto final_out = Json::parse(lines.back());
  CHECK(reasoning == final_out["reasoning"]);
  CHECK(calls == 2);
  CHECK(final_out["tool_calls"].size() == 2);
}

TEST_CASE("chat parse reports a bad tools file with exit 1", "[cli][chatparse]") {
  TempDir tmp;
  struct Bad {
    std::string text;
    std::string says;
  };
  for (const auto& bad : std::vector<Bad>{{"[1,", "not valid JSON"},
                                          {R"({"x": 1})", "expected a JSON array"},
                                          {"[42]", "tools[0]: expected an object"},
                                          {R"([{"type": "function", "function": {"parameters": {}}}])", "\"name\""},
                                          {R"([{"name": "f", "parameters": []}])", "tools[0].parameters"}}) {
    INFO(bad.text);
    auto path = WriteFile(tmp, "bad.json", bad.text);
    auto r = RunWarden({"chat", "parse", "--tools", path}, "x");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains(path) && Catch::Contains(bad.says));
    CHECK(r.out.empty());
  }
  auto missing = RunWarden({"chat", "parse", "--tools", (tmp.path() / "nope.json").string()}, "x");
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope.json"));
  auto json = RunWarden({"--json", "chat", "parse", "--tools", (tmp.path() / "nope.json").string()}, "x");
  CHECK(json.exit_code == 1);
  CHECK(Json::parse(json.out)["error"]["code"] == "io_error");
}

TEST_CASE("chat parse usage errors exit 2", "[cli][chatparse]") {
  CHECK(RunWarden({"chat", "parse", "--bogus"}, "").exit_code == 2);
  CHECK(RunWarden({"chat", "parse", "--stream", "--chunk-size", "0"}, "").exit_code == 2);
  auto help = RunWarden({"chat", "parse", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--tools") && Catch::Contains("--no-thinking") && Catch::Contains("--stream"));
}
