// Tests of the Python literal_eval / json.loads readers. Expected values were checked against CPython 3.11.
#include "runtime/engine/chat/python_literal.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace warden::engine::detail {
namespace {

using Json = nlohmann::ordered_json;

Json Ok(std::string_view text) {
  auto r = ParsePythonLiteral(text);
  INFO(std::string(text));
  REQUIRE(r.status == LiteralStatus::kOk);
  return r.value;
}

LiteralStatus StatusOf(std::string_view text) { return ParsePythonLiteral(text).status; }

}  // namespace

TEST_CASE("literal_eval accepts Python literals", "[engine][chatparse][pyliteral]") {
  CHECK(Ok("{'a': 1, \"b\": [True, False, None]}") == Json::parse(R"({"a": 1, "b": [true, false, null]})"));
  CHECK(Ok("('x', 'y')") == Json::parse(R"(["x", "y"])"));
  CHECK(Ok("()") == Json::array());
  CHECK(Ok("(1,)") == Json::parse("[1]"));
  CHECK(Ok("(1)") == 1);
  CHECK(Ok("1, 2") == Json::parse("[1, 2]"));
  CHECK(Ok("[1, 2,]") == Json::parse("[1, 2]"));
  CHECK(Ok("{}") == Json::object());
  CHECK(Ok("[[[]]]") == Json::parse("[[[]]]"));
  CHECK(Ok("-5") == -5);
  CHECK(Ok("+5") == 5);
  CHECK(Ok("- 5") == -5);
  CHECK(Ok("-(5)") == -5);
  CHECK(Ok("0x1F") == 31);
  CHECK(Ok("0o17") == 15);
  CHECK(Ok("0b101") == 5);
  CHECK(Ok("0x_1f") == 31);
  CHECK(Ok("1_000") == 1000);
  CHECK(Ok("00") == 0);
  CHECK(Ok("1.5") == 1.5);
  CHECK(Ok("1.") == 1.0);
  CHECK(Ok(".5") == 0.5);
  CHECK(Ok("1e3") == 1000.0);
  CHECK(Ok("01.5") == 1.5);
  CHECK(Ok("1e999").get<double>() == std::numeric_limits<double>::infinity());
  CHECK(Ok("99999999999999999999").is_number_float());
  CHECK(Ok("-9223372036854775808") == INT64_MIN);
  CHECK(Ok("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("literal_eval strings: quotes, prefixes, escapes", "[engine][chatparse][pyliteral]") {
  CHECK(Ok("'single'") == "single");
  CHECK(Ok("\"double\"") == "double");
  CHECK(Ok("'''tri\nple'''") == "tri\nple");
  CHECK(Ok("\"\"\"a\r\nb\"\"\"") == "a\nb");
  CHECK(Ok("'it\\'s'") == "it's");
  CHECK(Ok("\"say \\\"hi\\\"\"") == "say \"hi\"");
  CHECK(Ok("'\\n\\t\\\\\\a\\b\\f\\v\\r'") == "\n\t\\\a\b\f\v\r");
  CHECK(Ok("'\\x41\\101\\u00e9\\U0001F600'") == "AAé😀");
  CHECK(Ok("'\\777'") == "\u01ff");
  CHECK(Ok("'\\q'") == "\\q");  // unknown escapes keep the backslash
  CHECK(Ok("'a\\\nb'") == "ab");
  CHECK(Ok("r'\\d+'") == "\\d+");
  CHECK(Ok("R'\\''") == "\\'");
  CHECK(Ok("u'x'") == "x");
  CHECK(Ok("'a' \"b\" '''c'''") == "abc");
  CHECK(Ok("'é中😀'") == "é中😀");
  CHECK(Ok("'\\ud800'") == "\xef\xbf\xbd");  // a lone surrogate cannot be UTF-8
}

TEST_CASE("literal_eval layout: comments, newlines, continuations", "[engine][chatparse][pyliteral]") {
  CHECK(Ok("  [1, # one\n 2]  # done\n") == Json::parse("[1, 2]"));
  CHECK(Ok("\n\n1\n\n") == 1);
  CHECK(Ok("# c\n1") == 1);
}

TEST_CASE("literal_eval rejects what CPython rejects", "[engine][chatparse][pyliteral]") {
  for (std::string bad : std::vector<std::string>{"", "x", "none", "true", "null", "01", "1_", "1__0", "0b12", "1e", "--1", "-True", "-'a'",
                          "-(1,)", "1+2", "1 + -2j", "[1, 2", "{'a': 1", "{**a}", "[x for x in y]", "f'x'",
                          "'a' b'b'", "ur'x'", "'abc", "'a\nb'", "r'a\\'", "'\\x4'", "'\\U00110000'",
                          "'\\N{BULLET}'", "1\n2", "\n  1", "1\n  ", "1 if 1 else 2", "{[1]: 2}", "{1, [2]}",
                          std::string("1\0", 2), "\\\n  1", "1 \\\n", "1 .real", "[1]*2", "1abc", "(1)(2)",
                          std::string(4301, '1')}) {
    INFO(bad);
    CHECK(StatusOf(bad) == LiteralStatus::kInvalid);
  }
}

TEST_CASE("literal_eval nesting limit is CPython's 200 brackets", "[engine][chatparse][pyliteral]") {
  CHECK(StatusOf(std::string(200, '[') + std::string(200, ']')) == LiteralStatus::kOk);
  CHECK(StatusOf(std::string(201, '[') + std::string(201, ']')) == LiteralStatus::kInvalid);
  CHECK(StatusOf(std::string(100000, '(')) == LiteralStatus::kInvalid);  // no stack overflow
}

TEST_CASE("literal_eval values json.dumps rejects are reported apart", "[engine][chatparse][pyliteral]") {
  for (std::string s : {"{1, 2}", "set()", "b'x'", "1j", "1+2j", "-1-2j", "...", "{(1, 2): 3}", "[1, {2}]"}) {
    INFO(s);
    CHECK(StatusOf(s) == LiteralStatus::kNotJson);
  }
  // A repeated key replaces the bad value, and with it the problem.
  CHECK(Ok("{1: b'x', 1: 2}") == Json::parse(R"({"1": 2})"));
}

TEST_CASE("literal_eval dict keys follow Python equality and json.dumps naming", "[engine][chatparse][pyliteral]") {
  CHECK(Ok("{1: 'a', True: 'b'}").dump() == R"({"1":"b"})");
  CHECK(Ok("{1.0: 'a', 1: 'b'}").dump() == R"({"1.0":"b"})");
  CHECK(Ok("{1.5: 1, None: 2, False: 3, 1e16: 4, 1e-5: 5}").dump() ==
        R"({"1.5":1,"null":2,"false":3,"1e+16":4,"1e-05":5})");
  CHECK(Ok("{'a': 1, 'b': 2, 'a': 3}").dump() == R"({"a":3,"b":2})");
}

TEST_CASE("json.loads acceptance", "[engine][chatparse][pyliteral]") {
  Json j;
  REQUIRE(ParsePythonJson(R"( {"a": [1, 2.5, null, true], "b": "\u00e9\ud83d\ude00"} )", &j));
  CHECK(j == Json::parse(R"({"a": [1, 2.5, null, true], "b": "é😀"})"));
  REQUIRE(ParsePythonJson("NaN", &j));
  CHECK(std::isnan(j.get<double>()));
  REQUIRE(ParsePythonJson("[-Infinity, Infinity]", &j));
  CHECK(j[0].get<double>() == -std::numeric_limits<double>::infinity());
  REQUIRE(ParsePythonJson(R"({"a": 1, "b": 2, "a": 3})", &j));
  CHECK(j.dump() == R"({"a":3,"b":2})");
  REQUIRE(ParsePythonJson("\"x\"", &j));
  CHECK(j == "x");
  for (std::string bad : std::vector<std::string>{"", "[1,]", "01", "1.", "'a'", "{'a': 1}", "[1] x", "\"a\nb\"", "\"\\x\"", "tru",
                          "\xef\xbb\xbf[]", std::string(4301, '1'), std::string(600, '[') + std::string(600, ']')}) {
    INFO(bad);
    CHECK_FALSE(ParsePythonJson(bad, &j));
  }
}

TEST_CASE("Python whitespace and float key helpers", "[engine][chatparse][pyliteral]") {
  CHECK(PythonStrip(" \t\u00a0x y\u3000\n") == "x y");
  CHECK(PythonStrip("\u200bx") == "\u200bx");  // zero-width space is not whitespace
  CHECK(SkipPythonSpace("\xe2\x80", 0) == 0);  // an incomplete character is not whitespace
  CHECK(PythonFloatKey(0.0001) == "0.0001");
  CHECK(PythonFloatKey(123456789012345.0) == "123456789012345.0");
  CHECK(PythonFloatKey(-2.5e-7) == "-2.5e-07");
  CHECK(PythonFloatKey(-0.0) == "-0.0");
}

}  // namespace warden::engine::detail
