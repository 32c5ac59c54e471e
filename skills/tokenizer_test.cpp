// Tokenizer and name conversion (retrieval.md 1.8 conventions): the reference's lowercase [a-z0-9]+ runs, and
// identifier splitting that matches its camelCase regular expressions.
#include <catch2/catch.hpp>

#include "skills/skills_internal.h"

namespace warden::skills {
namespace {

using V = std::vector<std::string>;

TEST_CASE("Tokenize keeps lowercase alphanumeric runs", "[skills][tokenizer]") {
  CHECK(detail::Tokenize("Convert CSV-files to JSON, v2!", false) == V{"convert", "csv", "files", "to", "json", "v2"});
  CHECK(detail::Tokenize("getVehicleBattery", false) == V{"getvehiclebattery"});
  CHECK(detail::Tokenize("", false).empty());
  CHECK(detail::Tokenize("caf\xC3\xA9 na\xC3\xAFve", false) == V{"caf", "na", "ve"});
}

TEST_CASE("Tokenize splits camelCase, acronyms, snake_case and kebab-case", "[skills][tokenizer]") {
  CHECK(detail::Tokenize("getVehicleBattery", true) == V{"get", "vehicle", "battery"});
  CHECK(detail::Tokenize("getHTTPResponseCode", true) == V{"get", "http", "response", "code"});
  CHECK(detail::Tokenize("activateSIMCard", true) == V{"activate", "sim", "card"});
  CHECK(detail::Tokenize("ABCmouse", true) == V{"ab", "cmouse"});  // the reference's regexes do the same
  CHECK(detail::Tokenize("to_snake_case and kebab-case", true) == V{"to", "snake", "case", "and", "kebab", "case"});
  CHECK(detail::Tokenize("utf8Decode v2Beta", true) == V{"utf8", "decode", "v2", "beta"});
  CHECK(detail::Tokenize("ALLCAPS", true) == V{"allcaps"});
}

TEST_CASE("SkillNameFromIdentifier makes valid kebab-case names", "[skills][tokenizer]") {
  CHECK(SkillNameFromIdentifier("getSIMCard") == "get-sim-card");
  CHECK(SkillNameFromIdentifier("csv_to_json") == "csv-to-json");
  CHECK(SkillNameFromIdentifier("!!!") == "skill");
  std::string longname(100, 'a');
  CHECK(SkillNameFromIdentifier(longname + "B") == std::string(64, 'a'));
}

}  // namespace
}  // namespace warden::skills
