// Unit tests of Tokenizer on small tokenizer.json documents built here: merge ranks, both merge spellings, added
// tokens (longest match, lstrip/rstrip, single_word, normalized, special), normalizers, byte fallback and unk,
// U+FFFD decoding, and the errors for corrupt or unsupported files (../shared/docs/model.md §6).
#include "runtime/engine/tokenizer/tokenizer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace {

using nlohmann::json;
using warden::engine::Tokenizer;

int32_t B(char c) { return static_cast<unsigned char>(c); }  // the id of a byte's character in Tiny()

json AddedTok(int id, const std::string& content, bool special, json extra = json::object()) {
  json t{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
         {"rstrip", false}, {"normalized", false}, {"special", special}};
  for (auto it = extra.begin(); it != extra.end(); ++it) t[it.key()] = it.value();
  return t;
}

// A byte-level BPE whose ids 0..255 are the byte characters in byte order, plus five merges.
json Tiny(bool pair_merges = false) {
  json vocab = json::object();
  const auto& chars = warden::engine::detail::ByteToChar();
  for (int b = 0; b < 256; ++b) vocab[chars[static_cast<size_t>(b)]] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  vocab["Ġab"] = 258;
  vocab["yz"] = 259;
  vocab["xy"] = 260;
  json merges = pair_merges ? json::array({json::array({"a", "b"}), json::array({"ab", "c"}), json::array({"Ġ", "ab"}),
                                           json::array({"y", "z"}), json::array({"x", "y"})})
                            : json::array({"a b", "ab c", "Ġ ab", "y z", "x y"});
  json added = json::array({
      AddedTok(300, "<s>", true), AddedTok(301, "<l>", false, {{"lstrip", true}}),
      AddedTok(302, "<r>", false, {{"rstrip", true}}), AddedTok(303, "<s>x", true),
      AddedTok(304, "w", false, {{"single_word", true}}), AddedTok(305, "hi there", false),
      AddedTok(306, "\xC3\xA9", false, {{"normalized", true}}),  // é, matched after NFC
  });
  return json{
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers", json::array({{{"type", "Split"},
                                        {"pattern", {{"Regex", R"( ?\p{L}+|\s+|[^\s\p{L}]+)"}}},
                                        {"behavior", "Isolated"},
                                        {"invert", false}},
                                       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"byte_fallback", false},
        {"vocab", vocab},
        {"merges", merges}}},
  };
}

Tokenizer Load(const json& doc) {
  auto t = Tokenizer::FromJson(doc.dump(), "tiny.json");
  if (!t.ok()) FAIL(t.status().ToString());
  return std::move(t).value();
}

std::vector<int32_t> Enc(const Tokenizer& t, std::string_view text) {
  auto ids = t.Encode(text);
  if (!ids.ok()) FAIL(ids.status().ToString());
  return *ids;
}

std::string Dec(const Tokenizer& t, std::vector<int32_t> ids, bool skip = false) {
  auto text = t.Decode(ids, skip);
  if (!text.ok()) FAIL(text.status().ToString());
  return *text;
}

std::string LoadError(const json& doc) {
  auto t = Tokenizer::FromJson(doc.dump(), "bad.json");
  REQUIRE_FALSE(t.ok());
  return t.status().message();
}

}  // namespace

TEST_CASE("tiny: merges apply by rank, in either merge spelling", "[engine][tokenizer]") {
  for (bool pairs : {false, true}) {
    INFO("pair merges " << pairs);
    auto t = Load(Tiny(pairs));
    CHECK(Enc(t, "abc ab") == std::vector<int32_t>{257, 258});
    CHECK(Enc(t, "abd") == std::vector<int32_t>{256, B('d')});
    // "y z" outranks "x y", so "xyz" is x + yz, never xy + z.
    CHECK(Enc(t, "xyz") == std::vector<int32_t>{B('x'), 259});
    CHECK(Enc(t, "xyxy") == std::vector<int32_t>{260, 260});
    CHECK(Enc(t, "") == std::vector<int32_t>{});
    CHECK(Enc(t, " ") == std::vector<int32_t>{32});  // Ġ stands for byte 0x20
    CHECK(t.vocab_size() == 261 + 7);
  }
}

TEST_CASE("tiny: long words merge the same as a naive rescan would", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  std::string word;
  std::vector<int32_t> expected;
  for (int i = 0; i < 500; ++i) {
    word += "abc";
    expected.push_back(257);
  }
  CHECK(Enc(t, word) == expected);
  // Twice: the second answer may come from the word cache and must not differ.
  CHECK(Enc(t, "xyz") == Enc(t, "xyz"));
}

TEST_CASE("tiny: the word cache overflowing never changes results", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  // 50k distinct words overflow the bounded cache several times over.
  const std::string letters = "abcxyz";
  std::string text;
  std::vector<std::string> words;
  for (int i = 0; i < 50000; ++i) {
    std::string w = " ";
    for (int k = i, d = 0; d < 7; ++d, k /= 6) w += letters[static_cast<size_t>(k % 6)];
    words.push_back(w);
    text += w;
  }
  const auto all = Enc(t, text);
  CHECK(Enc(t, text) == all);
  auto fresh = Load(Tiny());
  std::vector<int32_t> joined;
  for (size_t i = 0; i < words.size(); i += 997) {
    auto ids = Enc(fresh, words[i]);
    joined.insert(joined.end(), ids.begin(), ids.end());
  }
  std::vector<int32_t> sampled;
  for (size_t i = 0; i < words.size(); i += 997) {
    auto ids = Enc(t, words[i]);
    sampled.insert(sampled.end(), ids.begin(), ids.end());
  }
  CHECK(sampled == joined);
  CHECK(all.size() > words.size());
}

TEST_CASE("tiny: added tokens are split first, longest match first", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  CHECK(Enc(t, "<s>xy") == std::vector<int32_t>{303, B('y')});
  CHECK(Enc(t, "<s>y") == std::vector<int32_t>{300, B('y')});
  CHECK(Enc(t, "ab<s>ab") == std::vector<int32_t>{256, 300, 256});
  CHECK(Enc(t, "<s") == std::vector<int32_t>{B('<'), B('s')});
  // Content with a space is still one token, and decodes to its own text.
  CHECK(Enc(t, "hi there") == std::vector<int32_t>{305});
  CHECK(Dec(t, {305}) == "hi there");
}

TEST_CASE("tiny: lstrip, rstrip and single_word", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  // lstrip swallows the spaces on its left only.
  CHECK(Enc(t, "a  <l> b") == std::vector<int32_t>{B('a'), 301, 32, B('b')});
  // rstrip swallows the spaces on its right only.
  CHECK(Enc(t, "a <r>  b") == std::vector<int32_t>{B('a'), 32, 302, B('b')});
  // single_word: matches only with no word character touching it.
  CHECK(Enc(t, "a w b") == std::vector<int32_t>{B('a'), 32, 304, 32, B('b')});
  CHECK(Enc(t, "aw b") == std::vector<int32_t>{B('a'), B('w'), 32, B('b')});
  CHECK(Enc(t, "w") == std::vector<int32_t>{304});
  CHECK(Enc(t, "w_") == std::vector<int32_t>{B('w'), B('_')});
}

TEST_CASE("tiny: NFC runs before the split and normalized added tokens match after it", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  // e + U+0301 composes to é, which is the normalized added token 306.
  CHECK(Enc(t, "e\xCC\x81") == std::vector<int32_t>{306});
  CHECK(Enc(t, "\xC3\xA9") == std::vector<int32_t>{306});
  // A normalized added token is matched by its normalized spelling: written decomposed, it still matches é.
  auto decomposed = Tiny();
  decomposed["added_tokens"][6]["content"] = "e\xCC\x81";
  CHECK(Enc(Load(decomposed), "\xC3\xA9x") == std::vector<int32_t>{306, B('x')});
  // Without a normalizer the combining mark stays, as bytes.
  auto doc = Tiny();
  doc["normalizer"] = nullptr;
  doc["added_tokens"].erase(6);
  auto raw = Load(doc);
  CHECK(Enc(raw, "e\xCC\x81") == std::vector<int32_t>{B('e'), 0xCC, 0x81});
  // A Sequence of normalizers is applied in order.
  doc["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFD"}}})}};
  auto nfd = Load(doc);
  CHECK(Enc(nfd, "\xC3\xA9") == std::vector<int32_t>{B('e'), 0xCC, 0x81});
}

TEST_CASE("tiny: decode skips only special added tokens", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  CHECK(Dec(t, {300, 257, 301, 32}) == "<s>abc<l> ");
  CHECK(Dec(t, {300, 257, 301, 32}, true) == "abc<l> ");
  CHECK(Dec(t, {}) == "");
}

TEST_CASE("tiny: invalid UTF-8 decodes to U+FFFD per maximal invalid subsequence", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  const std::string r = "\xEF\xBF\xBD";
  CHECK(Dec(t, {0xC3}) == r);
  CHECK(Dec(t, {0xE2, 0x82}) == r);                          // truncated 3-byte sequence: one
  CHECK(Dec(t, {0xE2, 0x82, 0xAC}) == "\xE2\x82\xAC");       // complete: €
  CHECK(Dec(t, {0xE0, 0x80}) == r + r);                      // overlong lead then stray continuation
  CHECK(Dec(t, {0xED, 0xA0, 0x80}) == r + r + r);            // surrogate: every byte its own
  CHECK(Dec(t, {0xF4, 0x90, 0x80, 0x80}) == r + r + r + r);  // above U+10FFFF
  CHECK(Dec(t, {0xF0, 0x9F, 0x98}) == r);                    // truncated 4-byte sequence: one
  CHECK(Dec(t, {B('A'), 0xFF, B('B')}) == "A" + r + "B");
  CHECK(Dec(t, {0xF0, 0x9F, 0x98, 0x80}) == "\xF0\x9F\x98\x80");
}

TEST_CASE("tiny: unknown ids and invalid UTF-8 input are errors that say where", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  std::vector<int32_t> bad{1, 261};
  auto d = t.Decode(bad);
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.status().message(), Catch::Contains("261") && Catch::Contains("tiny.json"));
  auto e = t.Encode("ok\xFFno");
  REQUIRE_FALSE(e.ok());
  CHECK_THAT(e.status().message(), Catch::Contains("offset 2"));
}

TEST_CASE("tiny: byte fallback, unk and fuse_unk for characters outside the vocabulary", "[engine][tokenizer]") {
  // A character-level BPE (no ByteLevel): the vocabulary knows a, b and the byte tokens of é.
  json doc{{"normalizer", nullptr},
           {"pre_tokenizer", nullptr},
           {"decoder", {{"type", "ByteLevel"}}},
           {"model",
            {{"type", "BPE"},
             {"byte_fallback", true},
             {"vocab", {{"a", 0}, {"b", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}, {"<unk>", 4}, {"ab", 5}}},
             {"merges", json::array({"a b"})}}}};
  auto fb = Load(doc);
  CHECK(Enc(fb,
            "ab\xC3\xA9"
            "a") == std::vector<int32_t>{5, 2, 3, 0});
  // A character without byte tokens falls through to unk when there is one.
  doc["model"]["unk_token"] = "<unk>";
  auto unk = Load(doc);
  CHECK(Enc(unk,
            "a\xE2\x82\xAC\xE2\x82\xAC"
            "b") == std::vector<int32_t>{0, 4, 4, 1});
  doc["model"]["fuse_unk"] = true;
  auto fused = Load(doc);
  CHECK(Enc(fused,
            "a\xE2\x82\xAC\xE2\x82\xAC"
            "b") == std::vector<int32_t>{0, 4, 1});
  // Neither: an error naming the character.
  doc["model"]["unk_token"] = nullptr;
  auto none = Load(doc);
  auto r = none.Encode("a\xE2\x82\xAC");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("\xE2\x82\xAC"));
}

TEST_CASE("tiny: ByteLevel add_prefix_space and its own regex", "[engine][tokenizer]") {
  auto doc = Tiny();
  doc["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  auto t = Load(doc);
  CHECK(Enc(t, "ab ab") == std::vector<int32_t>{258, 258});
  CHECK(Enc(t, "ab") == std::vector<int32_t>{258});
}

TEST_CASE("tiny: Digits pre-tokenizer, individual or in runs", "[engine][tokenizer]") {
  auto doc = Tiny();
  doc["added_tokens"] = json::array();
  doc["model"]["vocab"]["12"] = 261;
  doc["model"]["merges"].push_back("1 2");
  doc["pre_tokenizer"] = {{"type", "Digits"}, {"individual_digits", true}};
  CHECK(Enc(Load(doc), "a12b") == std::vector<int32_t>{B('a'), B('1'), B('2'), B('b')});
  doc["pre_tokenizer"]["individual_digits"] = false;
  CHECK(Enc(Load(doc), "a12b") == std::vector<int32_t>{B('a'), 261, B('b')});
  doc["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({{{"type", "ByteLevel"}, {"use_regex", false}}, {{"type", "Digits"}}})}};
  CHECK_THAT(LoadError(doc), Catch::Contains("pre_tokenizer.pretokenizers[1]") && Catch::Contains("after ByteLevel"));
}

TEST_CASE("tiny: lookups and the added-token list", "[engine][tokenizer]") {
  auto t = Load(Tiny());
  CHECK(t.TokenToId("Ġab") == 258);
  CHECK(t.TokenToId("<l>") == 301);
  CHECK(t.IdToToken(257) == "abc");
  CHECK(t.IdToToken(300) == "<s>");
  CHECK_FALSE(t.IdToToken(280).has_value());
  CHECK(t.added_tokens().size() == 7);
  auto special = t.special_tokens();
  REQUIRE(special.size() == 2);
  CHECK(special[0].content == "<s>");
  CHECK(special[1].content == "<s>x");
  CHECK(t.added_tokens()[1].lstrip);
  CHECK(t.added_tokens()[2].rstrip);
  CHECK(t.added_tokens()[4].single_word);
  CHECK(t.added_tokens()[6].normalized);
}

TEST_CASE("corrupt or unsupported tokenizer.json: errors name the file and the field", "[engine][tokenizer]") {
  CHECK_THAT(LoadError(json::parse("[1]")), Catch::Contains("bad.json"));
  {
    auto t = Tokenizer::FromJson("{\"model\": ", "bad.json");
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.status().message(), Catch::Contains("bad.json") && Catch::Contains("not valid JSON"));
  }
  auto doc = Tiny();
  doc.erase("model");
  CHECK_THAT(LoadError(doc), Catch::Contains("bad.json") && Catch::Contains("field model"));

  doc = Tiny();
  doc["model"]["type"] = "WordPiece";
  CHECK_THAT(LoadError(doc), Catch::Contains("model.type") && Catch::Contains("WordPiece"));

  doc = Tiny();
  doc["model"]["merges"][1] = "abc";
  CHECK_THAT(LoadError(doc), Catch::Contains("model.merges[1]") && Catch::Contains("abc"));

  doc = Tiny();
  doc["model"]["merges"][2] = "q zz";
  CHECK_THAT(LoadError(doc), Catch::Contains("model.merges[2]") && Catch::Contains("zz"));

  doc = Tiny();
  doc["model"]["merges"][0] = json::array({"a"});
  CHECK_THAT(LoadError(doc), Catch::Contains("model.merges[0]"));

  doc = Tiny();
  doc["model"]["vocab"]["ab"] = "two hundred";
  CHECK_THAT(LoadError(doc), Catch::Contains("model.vocab") && Catch::Contains("ab"));

  doc = Tiny();
  doc["model"]["vocab"] = json::array({"a", "b"});
  CHECK_THAT(LoadError(doc), Catch::Contains("field model.vocab"));

  doc = Tiny();
  doc["model"]["vocab"]["xy"] = {{"id", 260}};
  CHECK_THAT(LoadError(doc), Catch::Contains("model.vocab[\"xy\"]"));

  doc = Tiny();
  doc["model"]["merges"] = "a b";
  CHECK_THAT(LoadError(doc), Catch::Contains("field model.merges"));

  doc = Tiny();
  doc["model"]["merges"][3] = {{"left", "y"}};
  CHECK_THAT(LoadError(doc), Catch::Contains("model.merges[3]"));

  doc = Tiny();
  doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "( ?\\p{L}+";
  CHECK_THAT(LoadError(doc),
             Catch::Contains("pre_tokenizer.pretokenizers[0].pattern") && Catch::Contains("( ?\\p{L}+"));

  doc = Tiny();
  doc["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  CHECK_THAT(LoadError(doc), Catch::Contains("behavior") && Catch::Contains("Sideways"));

  doc = Tiny();
  doc["normalizer"] = {{"type", "Lowercase"}};
  CHECK_THAT(LoadError(doc), Catch::Contains("normalizer.type") && Catch::Contains("Lowercase"));

  doc = Tiny();
  doc["pre_tokenizer"]["pretokenizers"][1]["type"] = "Metaspace";
  CHECK_THAT(LoadError(doc), Catch::Contains("pre_tokenizer.pretokenizers[1].type") && Catch::Contains("Metaspace"));

  doc = Tiny();
  doc["decoder"] = {{"type", "WordPiece"}};
  CHECK_THAT(LoadError(doc), Catch::Contains("decoder.type"));

  doc = Tiny();
  doc["added_tokens"][0]["id"] = "x";
  CHECK_THAT(LoadError(doc), Catch::Contains("added_tokens[0].id"));

  doc = Tiny();
  doc["added_tokens"][0]["id"] = 2000000000;
  CHECK_THAT(LoadError(doc), Catch::Contains("2000000000"));

  doc = Tiny();
  doc["model"]["dropout"] = 0.1;
  CHECK_THAT(LoadError(doc), Catch::Contains("model.dropout"));
}

TEST_CASE("FromFile and FromModelDir name the missing path", "[engine][tokenizer]") {
  auto f = Tokenizer::FromFile("/nonexistent/dir/tokenizer.json");
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(f.status().message(), Catch::Contains("/nonexistent/dir/tokenizer.json"));
  auto d = Tokenizer::FromModelDir("/nonexistent/model");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == warden::Status::Code::kNotFound);
  CHECK_THAT(d.status().message(), Catch::Contains("/nonexistent/model/tokenizer.json"));
}
