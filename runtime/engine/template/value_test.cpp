// Values: Python truthiness, equality, ordering, str()/repr() and json.dumps() (../shared/docs/model.md §7.1).
#include "runtime/engine/template/value.h"

#include <catch2/catch.hpp>

using namespace warden::engine::detail;
using json = nlohmann::ordered_json;

namespace {
std::string Dumps(const json& j) {
  return ToJson(FromJson(j), JsonOptions{});
}
}  // namespace

TEST_CASE("json.dumps formatting with ensure_ascii=False", "[engine][template]") {
  CHECK(Dumps(json::parse(R"({"b": 1, "a": [1.0, 0.5, 1e-7, true, null, "é\n\"\u0001"], "c": {}})")) ==
        "{\"b\": 1, \"a\": [1.0, 0.5, 1e-07, true, null, \"é\\n\\\"\\u0001\"], \"c\": {}}");
  CHECK(Dumps(json::parse("18446744073709551615")) == "1.8446744073709552e+19");
  JsonOptions pretty;
  pretty.has_indent = true;
  pretty.indent = "  ";
  pretty.item_separator = ",";
  pretty.key_separator = ": ";
  CHECK(ToJson(FromJson(json::parse(R"({"a": [1, 2], "b": []})")), pretty) ==
        "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}");
  JsonOptions ascii;
  ascii.ensure_ascii = true;
  CHECK(ToJson(Value::String("é\U0001F600"), ascii) == "\"\\u00e9\\ud83d\\ude00\"");
  CHECK_THROWS_AS(ToJson(Value::Undefined(), ascii), TemplateError);
}

TEST_CASE("Python truthiness, equality and ordering", "[engine][template]") {
  CHECK_FALSE(Truthy(Value::Undefined()));
  CHECK_FALSE(Truthy(Value::String("")));
  CHECK_FALSE(Truthy(Value::List({})));
  CHECK_FALSE(Truthy(Value::Float(0.0)));
  CHECK(Truthy(Value::String("0")));
  CHECK(Truthy(Value::List({Value::None()})));
  CHECK(Equals(Value::Int(1), Value::Float(1.0)));
  CHECK(Equals(Value::Bool(true), Value::Int(1)));
  CHECK_FALSE(Equals(Value::List({Value::Int(1)}), Value::Tuple({Value::Int(1)})));
  CHECK(Equals(FromJson(json::parse(R"({"a": 1, "b": 2})")), FromJson(json::parse(R"({"b": 2, "a": 1})"))));
  CHECK(Compare(Value::String("a"), Value::String("b"), "<") < 0);
  CHECK(Compare(Value::List({Value::Int(1), Value::Int(2)}), Value::List({Value::Int(1)}), "<") > 0);
  CHECK_THROWS_AS(Compare(Value::Int(1), Value::String("a"), "<"), TemplateError);
}

TEST_CASE("str() and repr() print like CPython", "[engine][template]") {
  CHECK(ToStr(Value::None()) == "None");
  CHECK(ToStr(Value::Bool(false)) == "False");
  CHECK(ToStr(Value::Float(3.0)) == "3.0");
  CHECK(ToStr(Value::Undefined()) == "");
  CHECK(ToStr(FromJson(json::parse(R"({"k": [1, "a", null, true, 2.5]})"))) == "{'k': [1, 'a', None, True, 2.5]}");
  CHECK(ToStr(Value::Tuple({Value::Int(1)})) == "(1,)");
  CHECK(Repr(Value::String("x")) == "'x'");
  CHECK(TypeName(Value::None()) == "NoneType");
}
