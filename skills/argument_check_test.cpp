// CheckArguments: each keyword of the manifest's JSON Schema subset accepts what it should and names the JSON path of
// what it refuses; defaults fill in missing properties.
#include "skills/skills.h"

#include <catch2/catch.hpp>

using nlohmann::json;
using warden::skills::CheckArguments;

namespace {

const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "path":   {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z./]+$"},
    "rows":   {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}},
    "format": {"type": "string", "enum": ["csv", "json"], "default": "json"},
    "scale":  {"type": ["number", "null"]},
    "opts":   {"type": "object", "properties": {"deep": {"type": "boolean"}}, "required": ["deep"]}
  },
  "required": ["path", "format"]
})");

std::string ErrorOf(const json& args) {
  auto r = CheckArguments(kSchema, args);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("valid arguments pass and defaults are filled in", "[skills][arguments]") {
  auto r = CheckArguments(kSchema, json{{"path", "a.csv"}, {"rows", {1, 2}}, {"scale", nullptr}});
  REQUIRE(r.ok());
  CHECK((*r)["format"] == "json");
  CHECK((*r)["path"] == "a.csv");
  // An integer-valued float is an integer in JSON Schema.
  CHECK(CheckArguments(kSchema, json{{"path", "a"}, {"rows", {3.0}}}).ok());
  // Unknown properties pass.
  CHECK(CheckArguments(kSchema, json{{"path", "a"}, {"extra", 1}}).ok());
}

TEST_CASE("each keyword refuses with the JSON path of the value", "[skills][arguments]") {
  CHECK(ErrorOf(json::array()) == "$: expected object, got array");
  CHECK(ErrorOf(json{{"format", "csv"}}) == "$: missing required property \"path\"");
  CHECK(ErrorOf(json{{"path", 7}}) == "$.path: expected string, got integer");
  CHECK(ErrorOf(json{{"path", ""}}) == "$.path: must be at least 1 characters long, got 0");
  CHECK(ErrorOf(json{{"path", "abcdefghi"}}) == "$.path: must be at most 8 characters long, got 9");
  CHECK(ErrorOf(json{{"path", "A"}}).find("$.path: does not match the pattern") == 0);
  CHECK(ErrorOf(json{{"path", "a"}, {"rows", {1, "2"}}}) == "$.rows[1]: expected integer, got string");
  CHECK(ErrorOf(json{{"path", "a"}, {"rows", {1.5}}}) == "$.rows[0]: expected integer, got number");
  CHECK(ErrorOf(json{{"path", "a"}, {"rows", {10}}}) == "$.rows[0]: must be at most 9, got 10");
  CHECK(ErrorOf(json{{"path", "a"}, {"rows", {-1}}}) == "$.rows[0]: must be at least 0, got -1");
  CHECK(ErrorOf(json{{"path", "a"}, {"format", "xml"}}) == "$.format: expected one of [\"csv\",\"json\"], got \"xml\"");
  CHECK(ErrorOf(json{{"path", "a"}, {"scale", "big"}}) == "$.scale: expected number or null, got string");
  CHECK(ErrorOf(json{{"path", "a"}, {"opts", json::object()}}) == "$.opts: missing required property \"deep\"");
}

TEST_CASE("lengths count code points and a pattern searches unanchored", "[skills][arguments]") {
  json schema = {{"type", "string"}, {"maxLength", 2}, {"pattern", "é"}};
  CHECK(CheckArguments(schema, "\xC3\xA9\xC3\xA9").ok());  // two code points, four bytes
  CHECK_FALSE(CheckArguments(schema, "\xC3\xA9\xC3\xA9\xC3\xA9").ok());
  CHECK_FALSE(CheckArguments(schema, "ab").ok());
  auto bad = CheckArguments(json{{"pattern", "("}}, "x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("does not compile") != std::string::npos);
}
