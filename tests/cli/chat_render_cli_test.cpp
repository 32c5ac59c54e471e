// End-to-end tests of `warden chat render` (runtime/cli/chat_render_cmd.cpp): every shared render case through the
// binary, stdin input, --model folders, --json output, template errors and usage errors.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::SharedPath;
using warden::testing::TempDir;
using json = nlohmann::ordered_json;

namespace {

std::vector<json> RenderCases() {
  std::ifstream f(SharedPath("fixtures/chat/render_cases.jsonl"));
  REQUIRE(f.good());
  std::vector<json> cases;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

std::string TemplatePath() { return SharedPath("fixtures/chat/qwen3_6_chat_template.jinja").string(); }

}  // namespace

TEST_CASE("chat render prints every shared case exactly (stdin input)", "[cli][chat]") {
  const auto cases = RenderCases();
  REQUIRE(cases.size() >= 34);
  for (const auto& c : cases) {
    INFO("case " << c["name"].get<std::string>());
    auto r = RunWarden({"chat", "render", "--template", TemplatePath(), "--case", "-"}, c.dump());
    if (c.contains("expected")) {
      INFO(r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out == c["expected"].get<std::string>());
    } else {
      CHECK(r.exit_code == 1);
      CHECK(r.out.empty());
      CHECK_THAT(r.err, Catch::Contains(c["error"].get<std::string>()));
    }
  }
}

TEST_CASE("chat render reads case files, model folders and prints JSON", "[cli][chat]") {
  TempDir tmp;
  const auto cases = RenderCases();
  const json& first = cases.front();
  const auto case_path = (tmp.path() / "case.json").string();
  {
    std::ofstream f(case_path);
    f << json{{"messages", first["messages"]}, {"kwargs", first["kwargs"]}}.dump();
  }
  auto from_file = RunWarden({"chat", "render", "--template", TemplatePath(), "--case", case_path});
  CHECK(from_file.exit_code == 0);
  CHECK(from_file.out == first["expected"].get<std::string>());

  const auto model = tmp.path() / "model";
  std::filesystem::create_directories(model);
  {
    std::ifstream in(TemplatePath(), std::ios::binary);
    std::ofstream out(model / "tokenizer_config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out << json{{"chat_template", text}}.dump();
  }
  auto from_model = RunWarden({"chat", "render", "--model", model.string(), "--case", case_path});
  CHECK(from_model.exit_code == 0);
  CHECK(from_model.out == first["expected"].get<std::string>());

  auto as_json = RunWarden({"--json", "chat", "render", "--template", TemplatePath(), "--case", case_path});
  CHECK(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out)["prompt"] == first["expected"]);
  auto json_after = RunWarden({"chat", "render", "--template", TemplatePath(), "--case", case_path, "--json"});
  CHECK(json::parse(json_after.out)["prompt"] == first["expected"]);
}

TEST_CASE("chat render reports template errors and bad input", "[cli][chat]") {
  TempDir tmp;
  const auto tmpl = (tmp.path() / "t.jinja").string();
  {
    std::ofstream f(tmpl);
    f << "{{ raise_exception('refused: ' ~ messages|length) }}";
  }
  const std::string input = R"({"messages": [{"role": "user", "content": "x"}], "tools": null, "kwargs": {}})";
  auto raised = RunWarden({"chat", "render", "--template", tmpl, "--case", "-"}, input);
  CHECK(raised.exit_code == 1);
  CHECK_THAT(raised.err, Catch::Contains("refused: 1"));
  auto raised_json = RunWarden({"--json", "chat", "render", "--template", tmpl, "--case", "-"}, input);
  CHECK(raised_json.exit_code == 1);
  auto err = json::parse(raised_json.out)["error"];
  CHECK(err["code"] == "invalid_argument");
  CHECK_THAT(err["message"].get<std::string>(), Catch::Contains("refused: 1"));

  const auto syntax = (tmp.path() / "s.jinja").string();
  {
    std::ofstream f(syntax);
    f << "ok\n{% if %}";
  }
  auto bad_syntax = RunWarden({"chat", "render", "--template", syntax, "--case", "-"}, input);
  CHECK(bad_syntax.exit_code == 1);
  CHECK_THAT(bad_syntax.err, Catch::Contains("s.jinja:2:"));

  auto bad_json = RunWarden({"chat", "render", "--template", tmpl, "--case", "-"}, "{not json");
  CHECK(bad_json.exit_code == 1);
  CHECK_THAT(bad_json.err, Catch::Contains("not valid JSON"));

  auto missing = RunWarden({"chat", "render", "--template", (tmp.path() / "nope.jinja").string(), "--case", "-"},
                           input);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope.jinja"));
}

TEST_CASE("chat render usage errors exit 2", "[cli][chat]") {
  auto neither = RunWarden({"chat", "render", "--case", "-"}, "{}");
  CHECK(neither.exit_code == 2);
  auto both = RunWarden({"chat", "render", "--template", "a", "--model", "b", "--case", "-"}, "{}");
  CHECK(both.exit_code == 2);
  auto no_case = RunWarden({"chat", "render", "--template", "a"});
  CHECK(no_case.exit_code == 2);
  auto help = RunWarden({"chat", "render", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--template") && Catch::Contains("--model") && Catch::Contains("--case"));
}
