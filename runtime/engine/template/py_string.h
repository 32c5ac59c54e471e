// Python string semantics over UTF-8 text, for the chat-template interpreter (../shared/docs/model.md §7.1).
//
// Chat templates are written against Python's `str`: `strip()` removes Unicode whitespace, `len()` and slicing
// count code points, `repr()` picks its quote and escapes non-printable characters, and floats print in the
// shortest round-trip form (`1e-07`, `0.0`). These helpers reproduce that on UTF-8 `std::string`s. Invalid UTF-8
// bytes are treated as single code points (U+FFFD-like) so nothing here ever fails or reads out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warden::engine::detail {

// Decodes UTF-8 into code points; an invalid byte becomes its own code point 0xDC00+byte (Python's
// surrogateescape), so EncodeUtf8(DecodeUtf8(s)) == s for every input.
std::vector<char32_t> DecodeUtf8(std::string_view s);
std::string EncodeUtf8(const std::vector<char32_t>& cps);
void AppendUtf8(std::string& out, char32_t cp);
// Number of code points (Python len()).
size_t Utf8Length(std::string_view s);

// Python str.isspace() for one code point (the set `\s` matches in Python's `re` and str.split() uses).
bool IsPyWhitespace(char32_t cp);
// Python str.isprintable() for one code point (decides repr() escaping).
bool IsPyPrintable(char32_t cp);

// str.strip()/lstrip()/rstrip(): with `chars` null, Unicode whitespace; else the code points in *chars.
std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep=None, maxsplit) and str.split(sep, maxsplit); rsplit when `from_right`.
std::vector<std::string> PySplitWhitespace(std::string_view s, long long maxsplit, bool from_right);
std::vector<std::string> PySplit(std::string_view s, std::string_view sep, long long maxsplit, bool from_right);
// str.splitlines(keepends=False).
std::vector<std::string> PySplitLines(std::string_view s);
// str.replace(old, new, count): count < 0 replaces all; an empty `old` inserts between code points like Python.
std::string PyReplace(std::string_view s, std::string_view old_sub, std::string_view new_sub, long long count);
// Case mapping per code point (simple Unicode mappings; Python's few multi-character mappings such as 'ß'.upper()
// == 'SS' are not reproduced).
std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
// str.title(): upper-case a cased letter that follows an uncased character, lower-case the others.
std::string PyTitle(std::string_view s);
// str.capitalize(): first code point upper-cased, the rest lower-cased.
std::string PyCapitalize(std::string_view s);
// repr(str): single quotes unless the text has ' and no ", escapes \\ \n \r \t and non-printables.
std::string PyReprString(std::string_view s);
// repr(float) / str(float): shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16, "inf", "nan".
std::string PyFloatRepr(double d);
// str.count(sub) / str.find(sub) in code points (find returns -1 when absent).
long long PyCount(std::string_view s, std::string_view sub);
long long PyFind(std::string_view s, std::string_view sub, bool from_right);
// Predicates of str: isdigit, isalpha, isalnum, islower, isupper (Python's definitions over code points).
bool PyIsDigit(std::string_view s);
bool PyIsAlpha(std::string_view s);
bool PyIsAlnum(std::string_view s);
bool PyIsLower(std::string_view s);
bool PyIsUpper(std::string_view s);
bool PyIsSpace(std::string_view s);

}  // namespace warden::engine::detail
