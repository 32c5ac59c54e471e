// The shared render goldens (../shared/fixtures/chat/render_cases.jsonl, ../shared/docs/model.md §7.1-7.2) through
// ChatTemplate with the Qwen3.6 template, byte for byte, plus the loading paths (model folder, tokenizer_config).
#include "runtime/engine/template/chat_template.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/test_support.h"

namespace {

using warden::engine::ChatTemplate;
using json = nlohmann::ordered_json;

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<json> LoadCases() {
  auto path = warden::testing::SharedPath("fixtures/chat/render_cases.jsonl");
  std::ifstream f(path);
  REQUIRE(f.good());
  std::vector<json> cases;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

// Where two renders first differ, with some context, so a failing golden is readable.
std::string FirstDifference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + "\n  want: " + json(want.substr(from, 100)).dump() +
         "\n  got:  " + json(got.substr(from, 100)).dump();
}

ChatTemplate LoadQwen() {
  auto t = ChatTemplate::FromFile(warden::testing::SharedPath("fixtures/chat/qwen3_6_chat_template.jinja"));
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return *t;
}

}  // namespace

TEST_CASE("every shared render case renders byte-exact or fails with its error", "[engine][template]") {
  ChatTemplate tmpl = LoadQwen();
  auto cases = LoadCases();
  REQUIRE(cases.size() >= 34);
  int passed = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"].get<std::string>();
    INFO("case " << name);
    auto r = tmpl.Render(c["messages"], c.contains("tools") ? c["tools"] : json(), c["kwargs"]);
    if (c.contains("expected")) {
      INFO((r.ok() ? std::string() : r.status().ToString()));
      REQUIRE(r.ok());
      const std::string want = c["expected"].get<std::string>();
      INFO((want == *r ? std::string() : FirstDifference(want, *r)));
      CHECK(*r == want);
    } else {
      REQUIRE_FALSE(r.ok());
      CHECK_THAT(r.status().message(), Catch::Contains(c["error"].get<std::string>()));
      CHECK(r.status().code() == warden::Status::Code::kInvalidArgument);
    }
    ++passed;
  }
  CHECK(passed == static_cast<int>(cases.size()));
}

TEST_CASE("rendering is thread-safe on one shared template", "[engine][template]") {
  ChatTemplate tmpl = LoadQwen();
  auto cases = LoadCases();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (const auto& c : cases) {
          if (!c.contains("expected")) continue;
          auto r = tmpl.Render(c["messages"], c["tools"], c["kwargs"]);
          if (!r.ok() || *r != c["expected"].get<std::string>()) ++failures[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
}

TEST_CASE("the spec's rendered example (model.md 7.2) comes out as written", "[engine][template]") {
  ChatTemplate tmpl = LoadQwen();
  json messages = json::parse(R"([
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What city is this? Check its weather."}]},
    {"role": "assistant", "content": "", "reasoning_content": "The image shows Paris. I should call the tool.",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"}}]},
    {"role": "tool", "content": "{\"temp_c\": 21, \"sky\": \"clear\"}"}
  ])");
  json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "days": {"type": "integer"}}, "required": ["city"]}}}])");
  auto r = tmpl.Render(messages, tools, json{{"add_generation_prompt", true}});
  REQUIRE(r.ok());
  CHECK_THAT(*r, Catch::StartsWith("<|im_start|>system\n# Tools\n\nYou have access to the following functions:\n\n"
                                   "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
                                   "\"description\": \"Get the current weather for a city.\", \"parameters\": "
                                   "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", "
                                   "\"description\": \"City name\"}, \"days\": {\"type\": \"integer\"}}, "
                                   "\"required\": [\"city\"]}}}\n</tools>"));
  CHECK_THAT(*r, Catch::EndsWith(
                     "</IMPORTANT>\n\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                     "<|vision_start|><|image_pad|><|vision_end|>What city is this? Check its weather.<|im_end|>\n"
                     "<|im_start|>assistant\n<think>\nThe image shows Paris. I should call the tool.\n</think>\n\n"
                     "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
                     "<parameter=days>\n2\n</parameter>\n</function>\n</tool_call><|im_end|>\n"
                     "<|im_start|>user\n<tool_response>\n{\"temp_c\": 21, \"sky\": \"clear\"}\n</tool_response>"
                     "<|im_end|>\n<|im_start|>assistant\n<think>\n"));
}

TEST_CASE("tool-call arguments given as JSON text are parsed, bad JSON is a clear error", "[engine][template]") {
  auto tmpl = ChatTemplate::FromString(
      "{% for m in messages %}{% for c in m.tool_calls %}{{ c.function.arguments | tojson if c.function is defined }}|"
      "{{ c.arguments | tojson if c.arguments is defined }}{% endfor %}{% endfor %}",
      "args.jinja");
  REQUIRE(tmpl.ok());
  json messages = json::parse(R"([{"role": "assistant", "tool_calls": [
      {"function": {"name": "f", "arguments": "{\"b\": 1, \"a\": [true, null]}"}, "arguments": "x"},
      {"function": {"name": "g", "arguments": ""}}]}])");
  auto r = tmpl->Render(messages, json(), json::object());
  REQUIRE(r.ok());
  CHECK(*r == "{\"b\": 1, \"a\": [true, null]}|\"x\"{}|");
  json flat = json::parse(R"([{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{\"k\": 2}"}]}])");
  auto r2 = tmpl->Render(flat, json(), json::object());
  REQUIRE(r2.ok());
  CHECK(*r2 == "|{\"k\": 2}");
  json bad = json::parse(R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}])");
  auto r3 = tmpl->Render(bad, json(), json::object());
  REQUIRE_FALSE(r3.ok());
  CHECK_THAT(r3.status().message(), Catch::Contains("messages[0].tool_calls[0].function.arguments"));
}

TEST_CASE("render inputs are validated and template variables are set like transformers", "[engine][template]") {
  auto tmpl = ChatTemplate::FromString(
      "{{ add_generation_prompt }}|{{ documents }}|{{ tools }}|{{ bos_token }}|{{ messages|length }}", "vars.jinja");
  REQUIRE(tmpl.ok());
  auto r = tmpl->Render(json::array(), json(), json{{"bos_token", "<s>"}});
  REQUIRE(r.ok());
  CHECK(*r == "False|None|None|<s>|0");
  CHECK_FALSE(tmpl->Render(json::object(), json(), json::object()).ok());
  CHECK_FALSE(tmpl->Render(json::array(), json::object(), json::object()).ok());
  CHECK_FALSE(tmpl->Render(json::array(), json(), json::array()).ok());
  CHECK_FALSE(tmpl->Render(json::array(), json(), json{{"messages", 1}}).ok());
}

TEST_CASE("FromModelDir prefers chat_template.jinja, then the JSON configs", "[engine][template]") {
  warden::testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream f(dir.path() / name, std::ios::binary);
    f << text;
  };
  auto missing = ChatTemplate::FromModelDir(dir.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == warden::Status::Code::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("chat_template.jinja"));

  write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ 1 + 1 }}"}]})");
  auto from_list = ChatTemplate::FromModelDir(dir.path());
  REQUIRE(from_list.ok());
  CHECK(*from_list->Render(json::array(), json(), json::object()) == "D2");

  write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "T"}]})");
  auto no_default = ChatTemplate::FromModelDir(dir.path());
  REQUIRE_FALSE(no_default.ok());
  CHECK_THAT(no_default.status().message(), Catch::Contains("tool_use"));

  write("tokenizer_config.json", R"({"chat_template": "S{{ messages[0].content }}{{ bos_token }}|{{ eos_token }}|{{ pad_token }}",
      "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null})");
  auto from_string = ChatTemplate::FromModelDir(dir.path());
  REQUIRE(from_string.ok());
  // Special tokens from tokenizer_config.json are template variables, as transformers passes them; kwargs win.
  CHECK(*from_string->Render(json::parse(R"([{"content": "x"}])"), json(), json::object()) == "Sx<s>|</s>|");
  CHECK(*from_string->Render(json::parse(R"([{"content": "x"}])"), json(), json{{"eos_token", "E"}}) == "Sx<s>|E|");

  write("chat_template.jinja", ReadAll(warden::testing::SharedPath("fixtures/chat/qwen3_6_chat_template.jinja")));
  auto from_file = ChatTemplate::FromModelDir(dir.path());
  REQUIRE(from_file.ok());
  CHECK(from_file->source().size() == 7764);
}
