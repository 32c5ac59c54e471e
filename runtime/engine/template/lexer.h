// Jinja lexer for chat templates (../shared/docs/model.md §7.1): template text to a token list.
//
// Reproduces jinja2 3.1's lexer as Hugging Face configures it (`trim_blocks=True, lstrip_blocks=True`,
// `keep_trailing_newline=False`): newlines are normalised to "\n" and one trailing newline is dropped; `{%-`/`-%}`
// (and the `{{`/`{#` forms) strip Python whitespace on that side; `{%+`/`+%}` opt out of lstrip/trim; a block or
// comment tag alone on its line takes the indentation before it and the newline after it; `{% raw %}` bodies are
// data. Tag ends are only recognised while brackets are balanced, so `{{ {'a': {'b': 1}} }}` lexes as Jinja does.
// Line statements and custom delimiters are not supported (Hugging Face does not enable them).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine::detail {

enum class TokenType {
  kData,           // literal template text (text holds it, newlines normalised)
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifier or keyword (text)
  kString,         // string literal, escapes resolved (text)
  kInteger,        // integer literal (int_value)
  kFloat,          // float literal (float_value)
  kOperator,       // operator or punctuation (text: "+", "//", "(", ...)
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;    // 1-based line of the token's first character
  int column = 1;  // 1-based byte column
};

// A syntax error with its position; thrown by the lexer and parser, caught by ChatTemplate.
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(std::string message, int line, int column)
      : std::runtime_error(message), message_(std::move(message)), line_(line), column_(column) {}
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string message_;
  int line_;
  int column_;
};

// Tokenises `source`; the last token is kEof. Throws SyntaxError.
std::vector<Token> Tokenize(std::string_view source);

}  // namespace warden::engine::detail
