// Test helper: loads ../shared/fixtures/chat/parse_cases.jsonl (see its README) for the chat parser suites.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace warden::engine::testing_util {

struct ParseCase {
  std::string name;
  nlohmann::ordered_json tools;  // null when the request has no tools
  bool thinking_enabled = true;
  std::string model_output;
  nlohmann::ordered_json expected;  // {"reasoning", "content", "tool_calls"}
};

inline std::vector<ParseCase> LoadParseCases() {
  auto path = warden::testing::SharedPath("fixtures/chat/parse_cases.jsonl");
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path.string() << ": the shared fixtures are missing");
  std::vector<ParseCase> cases;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto j = nlohmann::ordered_json::parse(line, nullptr, false);
    if (j.is_discarded()) FAIL(path.string() << ":" << line_no << ": not JSON");
    ParseCase c;
    c.name = j.at("name").get<std::string>();
    c.tools = j.value("tools", nlohmann::ordered_json());
    c.thinking_enabled = j.value("enable_thinking", true);
    c.model_output = j.at("model_output").get<std::string>();
    c.expected = j.at("expected");
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace warden::engine::testing_util
