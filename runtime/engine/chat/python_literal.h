// Python-compatible value readers used when converting tool-call arguments (../shared/docs/model.md §7.3, rule 3
// of ../shared/fixtures/chat/README.md): vLLM's qwen3_coder parser runs `json.loads` and `ast.literal_eval` on
// parameter values, so Warden reads them with the same acceptance rules. Both readers are safe on arbitrary bytes:
// no recursion past a fixed depth, no allocation proportional to anything but the input.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace warden::engine::detail {

// What ast.literal_eval would do with a text.
enum class LiteralStatus {
  kOk,       // a value that JSON can hold (dict, list, tuple -> array, str, int, float, bool, None)
  kInvalid,  // literal_eval raises ValueError / SyntaxError / TypeError (not a literal, unhashable key, ...)
  kNotJson,  // a literal that json.dumps rejects: set, bytes, complex, Ellipsis, a tuple used as a dict key
};

struct LiteralResult {
  LiteralStatus status = LiteralStatus::kInvalid;
  nlohmann::ordered_json value;  // set when status == kOk
};

// ast.literal_eval(text) of CPython 3.11, restricted to what the tool parser needs: containers, strings of every
// quote style and prefix (r, u, b), escapes except \N{NAME} (rejected), ints in any base with underscores, floats,
// True/False/None, unary +/- on numbers, `set()`, implicit string concatenation, comments, line continuations and
// the tokenizer's limits (200 nested brackets, 4300-digit decimal ints). Lone surrogates from \uD800-style escapes
// become U+FFFD because the result must be UTF-8; ints outside 64 bits become doubles.
LiteralResult ParsePythonLiteral(std::string_view text);

// json.loads(text) of CPython: RFC 8259 plus NaN, Infinity and -Infinity; the last of duplicate keys wins at the
// first one's position; ints beyond 64 bits become doubles, beyond 4300 digits fail; nesting deeper than 512
// fails (Python raises RecursionError somewhere near 1000). Returns false when json.loads would raise.
bool ParsePythonJson(std::string_view text, nlohmann::ordered_json* out);

// Python str.isspace() for the UTF-8 character starting at `pos`; sets *len to its byte length when true.
bool IsPythonSpaceAt(std::string_view s, size_t pos, size_t* len);
// Position of the first byte at or after `pos` that does not start a Python whitespace character.
size_t SkipPythonSpace(std::string_view s, size_t pos);
// str.strip() with Python's whitespace set.
std::string_view PythonStrip(std::string_view s);
// The name json.dumps gives a float dict key: repr() ("1.5", "1e+16", "0.0001"), or NaN / Infinity / -Infinity.
std::string PythonFloatKey(double v);

// A decimal digit string (no sign, no underscores) as a JSON number, like Python's int(): exact when it fits
// 64 bits, else the nearest double.
nlohmann::ordered_json IntFromDigits(std::string_view digits, bool negative);

}  // namespace warden::engine::detail
