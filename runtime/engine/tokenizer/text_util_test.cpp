// Tests of the UTF-8 helpers and the GPT-2 byte↔char map (../shared/docs/model.md §6.1).
#include <catch2/catch.hpp>
#include <set>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace d = warden::engine::detail;

TEST_CASE("byte map: 256 distinct printable characters, reversible", "[engine][tokenizer]") {
  const auto& chars = d::ByteToChar();
  std::set<std::string> seen(chars.begin(), chars.end());
  CHECK(seen.size() == 256);
  CHECK(chars[' '] == "\xC4\xA0");   // Ġ
  CHECK(chars['\n'] == "\xC4\x8A");  // Ċ
  CHECK(chars['A'] == "A");
  CHECK(chars[0xAD] == "\xC5\x83");  // soft hyphen is not printable: U+0143
  for (int b = 0; b < 256; ++b) {
    size_t i = 0;
    CHECK(d::CharToByte(d::NextCodePoint(chars[static_cast<size_t>(b)], i)) == b);
  }
  CHECK(d::CharToByte(U' ') == -1);
  CHECK(d::CharToByte(0x4E00) == -1);
  CHECK(d::ByteLevelDecodeToken("\xC4\xA0hi") == " hi");
  CHECK(d::ByteLevelDecodeToken("<a b>") == "<a b>");  // a space is not a byte character: kept as is
}

TEST_CASE("UTF-8 validation finds the first bad byte", "[engine][tokenizer]") {
  CHECK(d::FindInvalidUtf8("plain") == std::string_view::npos);
  CHECK(d::FindInvalidUtf8("\xE2\x82\xAC\xF0\x9F\x98\x80") == std::string_view::npos);
  CHECK(d::FindInvalidUtf8("ab\x80") == 2);
  CHECK(d::FindInvalidUtf8("a\xC0\xAF") == 1);      // overlong
  CHECK(d::FindInvalidUtf8("a\xED\xA0\x80") == 1);  // surrogate
  CHECK(d::FindInvalidUtf8("a\xE2\x82") == 1);      // truncated
  CHECK(d::FindInvalidUtf8(std::string_view("a\0b", 3)) == std::string_view::npos);
}

TEST_CASE("lossy decoding matches Python errors=replace", "[engine][tokenizer]") {
  auto lossy = [](std::string_view s) {
    std::string out;
    d::AppendUtf8Lossy(s, out);
    return out;
  };
  const std::string r = "\xEF\xBF\xBD";
  CHECK(lossy("ok") == "ok");
  CHECK(lossy("\x80\x80") == r + r);
  CHECK(lossy("\xC2") == r);
  CHECK(lossy("\xE1\x80\x41") == r + "A");
  CHECK(lossy("\xF1\x80\x80\xE1\x80\xC2") == r + r + r);
  CHECK(lossy("\xC0\xAF") == r + r);
  CHECK(lossy("\xF5\x80") == r + r);
}

TEST_CASE("whitespace and word characters", "[engine][tokenizer]") {
  CHECK(d::IsWhiteSpace(U' '));
  CHECK(d::IsWhiteSpace(0x85));
  CHECK(d::IsWhiteSpace(0x3000));
  CHECK_FALSE(d::IsWhiteSpace(0x180E));
  CHECK_FALSE(d::IsWhiteSpace(0x200B));
  CHECK(d::IsWordChar(U'_'));
  CHECK(d::IsWordChar(0x4E2D));  // 中
  CHECK(d::IsWordChar(0x0663));  // Arabic-Indic digit three
  CHECK_FALSE(d::IsWordChar(U'-'));
  std::string s;
  d::AppendUtf8(0x1F600, s);
  size_t start = 0;
  CHECK(d::PrevCodePoint("a" + s, 5, start) == 0x1F600);
  CHECK(start == 1);
}
