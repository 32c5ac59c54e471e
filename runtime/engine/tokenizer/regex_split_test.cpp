// Tests of the Oniguruma→PCRE2 translation and of the Split pre-tokenizer's delimiter behaviours
// (../shared/docs/model.md §6.1).
#include <catch2/catch.hpp>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace {

using warden::engine::detail::Regex;
using warden::engine::detail::SplitBehavior;
using warden::engine::detail::SplitByRegex;
using warden::engine::detail::TranslateOnigurumaToPcre2;

std::vector<std::string> Split(std::string_view pattern, SplitBehavior b, std::string_view text, bool invert = false) {
  auto re = Regex::Compile(pattern, false);
  if (!re.ok()) FAIL(re.status().ToString());
  std::vector<std::string_view> pieces;
  REQUIRE(SplitByRegex(**re, b, invert, text, pieces).ok());
  return {pieces.begin(), pieces.end()};
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("regex translation keeps Oniguruma's meaning", "[engine][tokenizer]") {
  CHECK(*TranslateOnigurumaToPcre2(R"(\s+(?!\S))") == R"(\p{White_Space}+(?!\P{White_Space}))");
  CHECK(*TranslateOnigurumaToPcre2(R"([^\s\p{L}\p{N}]+)") == R"([^\p{White_Space}\p{L}\p{N}]+)");
  CHECK(*TranslateOnigurumaToPcre2(R"((?i:'s|'t))") == R"((?i:'s|'t))");
  CHECK(*TranslateOnigurumaToPcre2(R"((?m:.))") == R"((?s:.))");
  CHECK(*TranslateOnigurumaToPcre2(R"(\u00e9\h)") == R"(\x{00e9}[0-9a-fA-F])");
  CHECK(*TranslateOnigurumaToPcre2(R"([]a])") == R"([]a])");
  CHECK(*TranslateOnigurumaToPcre2(R"(\\s)") == R"(\\s)");
  CHECK(*TranslateOnigurumaToPcre2(R"([[:alpha:]\s])") == R"([[:alpha:]\p{White_Space}])");
  CHECK_FALSE(TranslateOnigurumaToPcre2(R"([a-z&&[^aeiou]])").ok());
  CHECK_FALSE(TranslateOnigurumaToPcre2(R"([abc)").ok());
  CHECK_FALSE(TranslateOnigurumaToPcre2(R"(abc\)").ok());
  CHECK_FALSE(TranslateOnigurumaToPcre2(R"(\u12)").ok());
}

TEST_CASE("\\s is Unicode White_Space: U+0085 is, U+180E and U+200B are not", "[engine][tokenizer]") {
  CHECK(Split(R"(\s+)", SplitBehavior::kIsolated,
              "a\xC2\x85"
              "b") == V{"a", "\xC2\x85", "b"});
  CHECK(Split(R"(\s+)", SplitBehavior::kIsolated,
              "a\xE1\xA0\x8E"
              "b") == V{"a\xE1\xA0\x8E"
                        "b"});
  CHECK(Split(R"(\s+)", SplitBehavior::kIsolated,
              "a\xE2\x80\x8B"
              "b") == V{"a\xE2\x80\x8B"
                        "b"});
  CHECK(Split(R"(\s+)", SplitBehavior::kIsolated,
              "a\xE3\x80\x80"
              "b") == V{"a", "\xE3\x80\x80", "b"});
}

TEST_CASE("Split behaviours follow Hugging Face", "[engine][tokenizer]") {
  const std::string_view text = "a-b--c";
  CHECK(Split("-", SplitBehavior::kIsolated, text) == V{"a", "-", "b", "-", "-", "c"});
  CHECK(Split("-", SplitBehavior::kRemoved, text) == V{"a", "b", "c"});
  CHECK(Split("-", SplitBehavior::kMergedWithPrevious, text) == V{"a-", "b-", "-", "c"});
  CHECK(Split("-", SplitBehavior::kMergedWithNext, text) == V{"a", "-b", "-", "-c"});
  CHECK(Split("-", SplitBehavior::kContiguous, text) == V{"a", "-", "b", "--", "c"});
  CHECK(Split("-", SplitBehavior::kRemoved, text, /*invert=*/true) == V{"-", "-", "-"});
  CHECK(Split("-", SplitBehavior::kIsolated, "") == V{});
  CHECK(Split("x", SplitBehavior::kIsolated, "abc") == V{"abc"});
}

TEST_CASE("empty matches split the text as Oniguruma's find_iter reports them", "[engine][tokenizer]") {
  // x* matches empty at 0, "xx" at 1, skips the empty match at 3 (where "xx" ended), then matches empty at 4 and 6.
  CHECK(Split("x*", SplitBehavior::kIsolated, "axxb\xC3\xA9") == V{"a", "xx", "b", "\xC3\xA9"});
  CHECK(Split(R"(\b)", SplitBehavior::kIsolated, "ab cd") == V{"ab", " ", "cd"});
  CHECK(Split(R"(\b)", SplitBehavior::kRemoved, "ab cd") == V{"ab", " ", "cd"});
  CHECK(Split("(?=c)", SplitBehavior::kMergedWithNext, "abcabc") == V{"ab", "cab", "c"});
  auto lit = Regex::Compile("a.b", /*literal=*/true);
  REQUIRE(lit.ok());
  std::vector<std::string_view> pieces;
  REQUIRE(SplitByRegex(**lit, SplitBehavior::kIsolated, false, "xa.bxaxb", pieces).ok());
  CHECK(V(pieces.begin(), pieces.end()) == V{"x", "a.b", "xaxb"});
}

TEST_CASE("Qwen2 and Qwen3.5 regexes differ only on combining marks", "[engine][tokenizer]") {
  const char* qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const char* qwen35 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string hindi = "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82";  // हिं: letter + two marks
  CHECK(Split(qwen35, SplitBehavior::kIsolated, hindi) == V{hindi});
  CHECK(Split(qwen2, SplitBehavior::kIsolated, hindi).size() == 2);
  CHECK(Split(qwen2, SplitBehavior::kIsolated, "I'M 42  x\n\n") == V{"I", "'M", " ", "4", "2", " ", " x", "\n\n"});
}
