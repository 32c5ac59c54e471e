// Lexer: token kinds, positions, whitespace control and the trim/lstrip rules as jinja2 3.1 applies them with
// trim_blocks=True, lstrip_blocks=True (../shared/docs/model.md §7.1).
#include "runtime/engine/template/lexer.h"

#include <catch2/catch.hpp>

namespace {

using warden::engine::detail::Token;
using warden::engine::detail::TokenType;
using warden::engine::detail::Tokenize;

// The data tokens joined: what the template prints when every tag prints nothing.
std::string DataOf(const std::string& source) {
  std::string out;
  for (const auto& t : Tokenize(source)) {
    if (t.type == TokenType::kData) out += t.text;
  }
  return out;
}

}  // namespace

TEST_CASE("lexer produces typed tokens with line and column", "[engine][template]") {
  auto tokens = Tokenize("ab\n{{ x.y[0] | f(1.5, 'q') }}");
  REQUIRE(tokens.size() == 17);
  CHECK(tokens[0].type == TokenType::kData);
  CHECK(tokens[0].text == "ab\n");
  CHECK(tokens[1].type == TokenType::kVariableBegin);
  CHECK(tokens[1].line == 2);
  CHECK(tokens[1].column == 1);
  CHECK(tokens[2].type == TokenType::kName);
  CHECK(tokens[2].text == "x");
  CHECK(tokens[2].column == 4);
  CHECK(tokens[5].type == TokenType::kOperator);
  CHECK(tokens[5].text == "[");
  CHECK(tokens[6].type == TokenType::kInteger);
  CHECK(tokens[6].int_value == 0);
  CHECK(tokens[11].type == TokenType::kFloat);
  CHECK(tokens[11].float_value == 1.5);
  CHECK(tokens[13].type == TokenType::kString);
  CHECK(tokens[13].text == "q");
  CHECK(tokens[15].type == TokenType::kVariableEnd);
  CHECK(tokens[16].type == TokenType::kEof);
}

TEST_CASE("lexer whitespace rules match jinja's trim_blocks and lstrip_blocks", "[engine][template]") {
  // trim_blocks: one newline after a block or comment tag, none after a variable tag.
  CHECK(DataOf("{% if %}\n\nx") == "\nx");
  CHECK(DataOf("{{ v }}\nx") == "\nx");
  CHECK(DataOf("{# c #}\nx") == "x");
  // lstrip_blocks: indentation before a block tag alone at the start of a line.
  CHECK(DataOf("a\n    {% if %}") == "a\n");
  CHECK(DataOf("  \t{% if %}") == "");
  CHECK(DataOf("a  {% if %}") == "a  ");
  CHECK(DataOf("a\n  {{ v }}") == "a\n  ");
  // `-` strips all (Unicode) whitespace on its side; `+` opts out of lstrip/trim.
  CHECK(DataOf("a \n\t{%- if %} \n b") == "a \n b");
  CHECK(DataOf("a{% if -%} \n\n b") == "ab");
  CHECK(DataOf("a\u00a0\u2003{{- v }}") == "a");
  CHECK(DataOf("  {%+ if %}") == "  ");
  CHECK(DataOf("{% if +%}\nx") == "\nx");
  // Newlines are normalised and one trailing newline is dropped.
  CHECK(DataOf("a\r\nb\rc\n") == "a\nb\nc");
  CHECK(DataOf("a\n\n") == "a\n");
  // Raw blocks are data.
  CHECK(DataOf("{% raw %}{{ x }}{% endraw %}") == "{{ x }}");
}

TEST_CASE("lexer handles string escapes and literals like Python", "[engine][template]") {
  auto tokens = Tokenize(R"({{ 'a\n\t\\\'\x41\u00e9\U0001F600\q' "d\"q" 0x1f 0o17 0b11 1_000 2.5e-3 }})");
  REQUIRE(tokens.size() >= 9);
  CHECK(tokens[1].text == "a\n\t\\'A\xC3\xA9\xF0\x9F\x98\x80\\q");
  CHECK(tokens[2].text == "d\"q");
  CHECK(tokens[3].int_value == 31);
  CHECK(tokens[4].int_value == 15);
  CHECK(tokens[5].int_value == 3);
  CHECK(tokens[6].int_value == 1000);
  CHECK(tokens[7].float_value == 2.5e-3);
}

TEST_CASE("lexer balances brackets before ending a tag", "[engine][template]") {
  auto tokens = Tokenize("{{ {'a': {'b': 1}} }}");
  int rbraces = 0;
  for (const auto& t : tokens) rbraces += (t.type == TokenType::kOperator && t.text == "}") ? 1 : 0;
  CHECK(rbraces == 2);
  CHECK(tokens[tokens.size() - 2].type == TokenType::kVariableEnd);
  CHECK_THROWS_AS(Tokenize("{{ (1] }}"), warden::engine::detail::SyntaxError);
}
