// Tests of the whole-text output parser: every case of ../shared/fixtures/chat/parse_cases.jsonl, then one test per
// rule and per kept vLLM quirk (../shared/fixtures/chat/README.md), typed conversion and odd inputs.
#include "runtime/engine/chat/output_parser.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/engine/chat/output_parser_internal.h"
#include "runtime/engine/chat/parse_cases_test_util.h"

namespace warden::engine {
namespace {

using Json = nlohmann::ordered_json;

const Json& Tools() {
  static const Json tools = Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
      "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
      "days": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "run_shell", "parameters": {"properties": {
      "command": {"type": "string"}, "timeout_s": {"type": "integer"}}}}},
    {"name": "flat_tool", "parameters": {"properties": {"n": {"type": "number"}, "flag": {"type": "boolean"}}}},
    {"type": "function", "function": {"name": "typed", "parameters": {"properties": {
      "i": {"type": "integer"}, "u": {"type": "uint32"}, "f": {"type": "number"}, "d": {"type": "double"},
      "b": {"type": "boolean"}, "o": {"type": "object"}, "a": {"type": "array"}, "l": {"type": "list[str]"},
      "s": {"type": "string"}, "e": {"enum": ["x", "y"]}, "n": {"type": "null"},
      "ns": {"anyOf": [{"type": "null"}, {"type": "string"}]}, "ni": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
      "any": {"type": "any"}, "multi": {"type": ["string", "null"]}, "cased": {"type": " Integer "},
      "weird": true}}}}
  ])");
  return tools;
}

ParsedOutput Parse(std::string_view text, bool thinking = true, const Json* tools = &Tools()) {
  ParseOptions options;
  options.tools = tools;
  options.thinking_enabled = thinking;
  return ParseModelOutput(text, options);
}

// The arguments of the single call in a "typed" function with one parameter.
Json TypedArg(const std::string& name, const std::string& value) {
  auto out = Parse("</think><tool_call>\n<function=typed>\n<parameter=" + name + ">\n" + value +
                   "\n</parameter>\n</function>\n</tool_call>");
  REQUIRE(out.tool_calls.size() == 1);
  REQUIRE(out.tool_calls[0].arguments.contains(name));
  return out.tool_calls[0].arguments[name];
}

}  // namespace

TEST_CASE("every parse_cases.jsonl case matches vLLM's split", "[engine][chatparse]") {
  auto cases = testing_util::LoadParseCases();
  REQUIRE(cases.size() >= 33);
  for (const auto& c : cases) {
    INFO(c.name);
    ParseOptions options;
    options.tools = c.tools.is_null() ? nullptr : &c.tools;
    options.thinking_enabled = c.thinking_enabled;
    auto out = ParseModelOutput(c.model_output, options);
    CHECK(ToJson(out) == c.expected);
  }
}

TEST_CASE("ToJson spells nulls and keeps argument order", "[engine][chatparse]") {
  ParsedOutput p;
  p.content = "hi";
  p.tool_calls.push_back({"f", Json::parse(R"({"z": 1, "a": 2})")});
  auto j = ToJson(p);
  CHECK(j["reasoning"].is_null());
  CHECK(j["content"] == "hi");
  CHECK(j.dump() == R"({"reasoning":null,"content":"hi","tool_calls":[{"name":"f","arguments":{"z":1,"a":2}}]})");
}

TEST_CASE("rule 1: reasoning split", "[engine][chatparse]") {
  SECTION("no </think> with thinking on: truncated reasoning, even empty") {
    auto out = Parse("");
    CHECK(out.reasoning == std::optional<std::string>(""));
    CHECK(!out.content);
  }
  SECTION("thinking off without </think>: all content, even empty") {
    auto out = Parse("", false);
    CHECK(!out.reasoning);
    CHECK(out.content == std::optional<std::string>(""));
  }
  SECTION("thinking off still honours a </think>") {
    auto out = Parse("plan</think>answer", false);
    CHECK(out.reasoning == std::optional<std::string>("plan"));
    CHECK(out.content == std::optional<std::string>("answer"));
  }
  SECTION("only the first </think> splits; empty content is null") {
    auto out = Parse("a</think>b</think>c");
    CHECK(*out.reasoning == "a");
    CHECK(*out.content == "b</think>c");
    CHECK(!Parse("a</think>").content);
  }
  SECTION("a late first <think> drops everything before it, even a </think>") {
    auto out = Parse("x</think>y<think>z");
    CHECK(*out.reasoning == "z");
    CHECK(!out.content);
  }
  SECTION("implicit end: <tool_call> then whitespace then <function followed by = or whitespace") {
    auto a = Parse("r<tool_call> \n\t<function=run_shell>\n<parameter=command>\nls\n</parameter>\n</function>");
    CHECK(*a.reasoning == "r");
    REQUIRE(a.tool_calls.size() == 1);
    CHECK(a.tool_calls[0].arguments == Json::parse(R"({"command": "ls"})"));
    auto b = Parse("<tool_call><function name=\"x\">");
    CHECK(!b.reasoning);  // empty reasoning before an implicit end is null
    CHECK(*b.content == "<tool_call><function name=\"x\">");
    auto c = Parse("r<tool_call><functions>");
    CHECK(*c.reasoning == "r<tool_call><functions>");
    auto d = Parse("r<tool_call>\u00a0<function=x>");  // NBSP is Python whitespace
    CHECK(*d.reasoning == "r");
  }
}

TEST_CASE("rule 2: tool-call blocks", "[engine][chatparse]") {
  SECTION("no tools in the request: XML stays content") {
    std::string text = "</think><tool_call>\n<function=run_shell>\n</function>\n</tool_call>";
    Json empty = Json::array();
    CHECK(Parse(text, true, nullptr).tool_calls.empty());
    CHECK(Parse(text, true, &empty).tool_calls.empty());
    CHECK(*Parse(text, true, &empty).content == "<tool_call>\n<function=run_shell>\n</function>\n</tool_call>");
  }
  SECTION("a literal </tool_call> inside a value does not close the block") {
    auto out = Parse("</think><tool_call>\n<function=run_shell>\n<parameter=command>\necho '</tool_call>' x\n"
                     "</parameter>\n</function>\n</tool_call>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(out.tool_calls[0].arguments["command"] == "echo '</tool_call>' x");
  }
  SECTION("function names with forbidden characters are not calls; content stays") {
    for (std::string name : {"", "a b", "{{ tc.name }}", "x\"y", "a<b"}) {
      INFO(name);
      auto out = Parse("</think>Text<tool_call>\n<function=" + name + ">\n</function>\n</tool_call>");
      CHECK(out.tool_calls.empty());
      CHECK(*out.content == "Text<tool_call>\n<function=" + name + ">\n</function>\n</tool_call>");
    }
    auto ok = Parse("</think><tool_call>\n<function=ns/tool.v2-x>\n</function>\n</tool_call>");
    REQUIRE(ok.tool_calls.size() == 1);
    CHECK(ok.tool_calls[0].name == "ns/tool.v2-x");
    CHECK(ok.tool_calls[0].arguments == Json::object());
  }
  SECTION("a bare <function= without <tool_call> is still parsed and cuts the content") {
    auto out = Parse("</think>See <function=run_shell>\n<parameter=command>\nls\n</parameter>\n</function>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(*out.content == "See ");
  }
  SECTION("a bare <tool_call> mention before a real call stays in the content") {
    auto out = Parse("</think>Use <tool_call></tool_call> tags.<tool_call>\n<function=run_shell>\n"
                     "<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(*out.content == "Use <tool_call></tool_call> tags.");
  }
  SECTION("a <parameter= not at a line start is part of the value") {
    auto out = Parse("</think><tool_call>\n<function=run_shell>\n<parameter=command>\na <parameter=x> b\n"
                     "</parameter>\n</function>\n</tool_call>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(out.tool_calls[0].arguments == Json::parse(R"({"command": "a <parameter=x> b"})"));
  }
  SECTION("nested literal parameter pairs inside a value are skipped") {
    auto out = Parse("</think><tool_call>\n<function=run_shell>\n<parameter=command>\ncat <<EOF\n"
                     "<parameter=command>\ninner\n</parameter>\nEOF\n</parameter>\n<parameter=timeout_s>\n3\n"
                     "</parameter>\n</function>\n</tool_call>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(out.tool_calls[0].arguments["command"] == "cat <<EOF\n<parameter=command>\ninner\n</parameter>\nEOF");
    CHECK(out.tool_calls[0].arguments["timeout_s"] == 3);
  }
  SECTION("a repeated parameter keeps its first place and its last value") {
    auto out = Parse("</think><tool_call>\n<function=get_weather>\n<parameter=city>\nA\n</parameter>\n"
                     "<parameter=days>\n1\n</parameter>\n<parameter=city>\nB\n</parameter>\n</function>\n</tool_call>");
    REQUIRE(out.tool_calls.size() == 1);
    CHECK(out.tool_calls[0].arguments.dump() == R"({"city":"B","days":1})");
  }
  SECTION("only one leading and one trailing newline are removed") {
    auto out = Parse("</think><tool_call>\n<function=run_shell>\n<parameter=command>\n\n x \n\n</parameter>\n"
                     "</function>\n</tool_call>");
    CHECK(out.tool_calls.at(0).arguments["command"] == "\n x \n");
  }
  SECTION("the flat tool form types arguments too") {
    auto out = Parse("</think><tool_call>\n<function=flat_tool>\n<parameter=n>\n2.50\n</parameter>\n"
                     "<parameter=flag>\nTrue\n</parameter>\n</function>\n</tool_call>");
    CHECK(out.tool_calls.at(0).arguments == Json::parse(R"({"n": 2.5, "flag": true})"));
  }
}

TEST_CASE("rule 3: typed conversion", "[engine][chatparse]") {
  CHECK(TypedArg("i", "42") == 42);
  CHECK(TypedArg("i", " -7 ") == -7);
  CHECK(TypedArg("i", "1_000") == 1000);
  CHECK(TypedArg("i", "4.0") == "4.0");
  CHECK(TypedArg("i", "0x10") == "0x10");
  CHECK(TypedArg("i", "18446744073709551615") == 18446744073709551615ULL);
  CHECK(TypedArg("i", "-9223372036854775808") == INT64_MIN);
  CHECK(TypedArg("i", "123456789012345678901234567890").is_number_float());
  CHECK(TypedArg("u", "5") == 5);
  CHECK(TypedArg("cased", "5") == 5);
  CHECK(TypedArg("f", "3.0").is_number_integer());
  CHECK(TypedArg("f", "3.0") == 3);
  CHECK(TypedArg("f", "-0.0") == 0);
  CHECK(TypedArg("f", "1e3") == 1000);
  CHECK(TypedArg("f", "0.1") == 0.1);
  CHECK(TypedArg("f", " .5 ") == 0.5);
  CHECK(TypedArg("f", "abc") == "abc");
  CHECK(TypedArg("f", "nan") == "nan");  // int(nan) raises ValueError: raw text
  CHECK(TypedArg("d", "2.25") == 2.25);
  CHECK(TypedArg("b", "TRUE") == true);
  CHECK(TypedArg("b", "yes") == false);
  CHECK(TypedArg("o", R"({"k": [1, 2.5, null], "s": "ü"})") == Json::parse(R"({"k": [1, 2.5, null], "s": "ü"})"));
  CHECK(TypedArg("o", "{'a': (1, 2), 'b': None}") == Json::parse(R"({"a": [1, 2], "b": null})"));
  CHECK(TypedArg("o", R"("{'k': 'v'}")") == Json::parse(R"({"k": "v"})"));  // JSON string holding a repr
  CHECK(TypedArg("o", "not json") == "not json");
  CHECK(TypedArg("o", "5") == 5);
  CHECK(TypedArg("a", "[1, 'two', True]") == Json::parse(R"([1, "two", true])"));
  CHECK(TypedArg("a", "'[1, 2]'") == Json::parse("[1, 2]"));  // double decode of a quoted repr
  CHECK(TypedArg("l", "['x']") == Json::parse(R"(["x"])"));
  CHECK(TypedArg("s", "null") == "null");
  CHECK(TypedArg("s", "42") == "42");
  CHECK(TypedArg("e", "x") == "x");
  CHECK(TypedArg("n", "None").is_null());
  CHECK(TypedArg("ns", "NULL").is_null());
  CHECK(TypedArg("ns", "text") == "text");
  CHECK(TypedArg("ni", "7") == 7);
  CHECK(TypedArg("ni", "none").is_null());
  CHECK(TypedArg("i", "null").is_null());
  CHECK(TypedArg("any", "[1, 2]") == Json::parse("[1, 2]"));
  CHECK(TypedArg("any", "hello") == "hello");
  CHECK(TypedArg("multi", "42") == 42);  // a list `type` falls to literal_eval
  CHECK(TypedArg("weird", "42") == "42");  // a schema that is not an object: string
  CHECK(TypedArg("undeclared", "42") == "42");
}

TEST_CASE("arguments json.dumps would reject drop every call (vLLM's extraction raises)", "[engine][chatparse]") {
  std::string first = "</think>Before<tool_call>\n<function=run_shell>\n<parameter=command>\nls\n</parameter>\n"
                      "</function>\n</tool_call>";
  for (std::string bad : {"{1, 2}", "b'x'", "1+2j", "...", "{(1, 2): 3}", "set()"}) {
    INFO(bad);
    std::string text = first + "\n<tool_call>\n<function=typed>\n<parameter=o>\n" + bad +
                       "\n</parameter>\n</function>\n</tool_call>";
    auto out = Parse(text);
    CHECK(out.tool_calls.empty());
    CHECK(*out.content == text.substr(8));
  }
  // A number that is infinite: int(inf) raises OverflowError.
  auto inf = Parse("</think><tool_call>\n<function=typed>\n<parameter=f>\n-inf\n</parameter>\n</function>\n</tool_call>");
  CHECK(inf.tool_calls.empty());
  // anyOf that cannot be iterated.
  Json tools = Json::parse(R"([{"name": "t", "parameters": {"properties": {"p": {"anyOf": 3}}}}])");
  CHECK(Parse("</think><tool_call>\n<function=t>\n<parameter=p>\nx\n</parameter>\n</function>\n</tool_call>", true,
              &tools).tool_calls.empty());
}

TEST_CASE("rule 4: content around calls", "[engine][chatparse]") {
  auto ws = Parse("</think> \u3000\n<tool_call>\n<function=run_shell>\n</function>\n</tool_call>");
  CHECK(!ws.content);  // ideographic space is whitespace too
  auto text = Parse("</think>Hi\n<tool_call>\n<function=run_shell>\n</function>\n</tool_call>\ntrailing");
  CHECK(*text.content == "Hi\n");
  REQUIRE(text.tool_calls.size() == 1);
}

TEST_CASE("unicode survives in values, names and reasoning", "[engine][chatparse]") {
  Json tools = Json::parse(R"([{"name": "寫", "parameters": {"properties": {"文": {"type": "string"}}}}])");
  auto out = Parse("思考 🤔\n</think>\n\n<tool_call>\n<function=寫>\n<parameter=文>\nこんにちは 👋\n</parameter>\n"
                   "</function>\n</tool_call>", true, &tools);
  CHECK(*out.reasoning == "思考 🤔\n");
  REQUIRE(out.tool_calls.size() == 1);
  CHECK(out.tool_calls[0].name == "寫");
  CHECK(out.tool_calls[0].arguments == Json::parse(R"({"文": "こんにちは 👋"})"));
}

TEST_CASE("invalid UTF-8 is passed through and dumps with replacement", "[engine][chatparse]") {
  std::string bad = "a\xff\xfe</think>b\xc3";
  auto out = Parse(bad);
  CHECK(*out.reasoning == "a\xff\xfe");
  CHECK(*out.content == "b\xc3");
  auto dumped = ToJson(out).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  CHECK(Json::parse(dumped)["content"] == "b\xef\xbf\xbd");
}

TEST_CASE("very long outputs parse in linear-ish time", "[engine][chatparse]") {
  std::string reasoning(2'000'000, 'r');
  std::string value;
  for (int i = 0; i < 20000; ++i) value += "line " + std::to_string(i) + " </parameter> not the end\n";
  std::string text = reasoning + "\n</think>\n\n<tool_call>\n<function=run_shell>\n<parameter=command>\n" + value +
                     "\n</parameter>\n</function>\n</tool_call>";
  auto out = Parse(text);
  CHECK(out.reasoning->size() == reasoning.size() + 1);
  REQUIRE(out.tool_calls.size() == 1);
  CHECK(out.tool_calls[0].arguments["command"] == value);
}

TEST_CASE("many calls in one output", "[engine][chatparse]") {
  std::string text = "</think>";
  for (int i = 0; i < 500; ++i) {
    text += "<tool_call>\n<function=get_weather>\n<parameter=days>\n" + std::to_string(i) +
            "\n</parameter>\n</function>\n</tool_call>\n";
  }
  auto out = Parse(text);
  REQUIRE(out.tool_calls.size() == 500);
  CHECK(out.tool_calls[499].arguments["days"] == 499);
}

TEST_CASE("python int and float follow Python's constructors", "[engine][chatparse]") {
  using detail::PythonFloat;
  using detail::PythonInt;
  CHECK(PythonInt("  +12 ") == Json(12));
  CHECK(PythonInt("007") == Json(7));
  CHECK(!PythonInt("1__0"));
  CHECK(!PythonInt("_1"));
  CHECK(!PythonInt("1_"));
  CHECK(!PythonInt(""));
  CHECK(!PythonInt("١٢").has_value());  // non-ASCII digits are not supported (Python accepts them)
  CHECK(!PythonInt(std::string(4301, '1')));
  CHECK(PythonFloat("1_0.5e1_0") == 10.5e10);
  CHECK(PythonFloat("-Infinity") == -std::numeric_limits<double>::infinity());
  CHECK(PythonFloat("1e999") == std::numeric_limits<double>::infinity());
  CHECK(PythonFloat("5.") == 5.0);
  CHECK(!PythonFloat("."));
  CHECK(!PythonFloat("e5"));
  CHECK(!PythonFloat("1e"));
  CHECK(!PythonFloat("0x10"));
}

}  // namespace warden::engine
