// Python-compatible readers for tool-call argument values: ast.literal_eval and json.loads acceptance rules
// (../shared/docs/model.md §7.3, rule 3 of ../shared/fixtures/chat/README.md). Written from the CPython 3.11 language
// reference and observed behaviour; the point is to accept and reject the same texts as the Python parser that
// vLLM uses, so a value converts the same way whichever server parsed it.
#include "runtime/engine/chat/python_literal.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_map>

namespace warden::engine::detail {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxBracketDepth = 200;   // CPython tokenizer MAXLEVEL: the 201st nested bracket is a SyntaxError
constexpr size_t kMaxIntDigits = 4300;  // sys.get_int_max_str_digits() default
constexpr int kMaxJsonDepth = 512;

// Decodes one UTF-8 character; false when the bytes at `pos` are not a complete, valid sequence.
bool DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp, size_t* len) {
  if (pos >= s.size()) return false;
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    *cp = b0;
    *len = 1;
    return true;
  }
  size_t need;
  uint32_t v;
  if ((b0 & 0xE0) == 0xC0) {
    need = 2;
    v = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    need = 3;
    v = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    need = 4;
    v = b0 & 0x07;
  } else {
    return false;
  }
  if (pos + need > s.size()) return false;
  for (size_t i = 1; i < need; ++i) {
    auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return false;
    v = (v << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[need] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *len = need;
  return true;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  // The result must be UTF-8: a lone surrogate (legal in a Python str) is replaced.
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsPythonSpaceCodePoint(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsNewline(char c) { return c == '\n' || c == '\r'; }


std::string StripLeadingZeros(std::string_view digits) {
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return std::string(digits.substr(i));
}

// ---------------------------------------------------------------------------------------------------------------
// ast.literal_eval

enum class Kind { kNone, kBool, kInt, kFloat, kComplex, kStr, kBytes, kList, kTuple, kDict, kSet, kEllipsis };

struct Val {
  Json json;
  Kind kind = Kind::kNone;
  bool hashable = true;
  bool plain_number = false;   // an int/float/complex constant, possibly parenthesized (operand of unary +/-)
  bool signed_number = false;  // plain_number or a unary +/- applied to one (left side of `a + bj`)
  std::string int_text;        // decimal digits (with sign) of an int, for dict keys beyond 64 bits
  bool not_json = false;       // holds something json.dumps rejects (set, bytes, complex, ...)
};

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view s) : s_(s) {}

  LiteralResult Run() {
    LiteralResult result;
    if (s_.find('\0') != std::string_view::npos) return result;  // "source code string cannot contain null bytes"
    // literal_eval strips leading spaces and tabs before compiling.
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (!SkipLeadingLines()) return result;
    Val v;
    if (!ParseTopExpression(&v)) return result;
    if (!SkipTrailing()) return result;
    if (v.not_json) {
      result.status = LiteralStatus::kNotJson;
      return result;
    }
    result.status = LiteralStatus::kOk;
    result.value = std::move(v.json);
    return result;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  void ConsumeNewline() {
    if (s_[pos_] == '\r' && Peek(1) == '\n') ++pos_;
    ++pos_;
  }

  // Blank and comment lines before the expression are fine; an indented first real line is an IndentationError.
  bool SkipLeadingLines() {
    bool first_line = true;
    while (true) {
      size_t begin = pos_;
      while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\f')) ++pos_;
      bool indented = pos_ > begin && !first_line;
      if (Peek() == '#') {
        while (!AtEnd() && !IsNewline(Peek())) ++pos_;
      }
      if (!AtEnd() && IsNewline(Peek())) {
        ConsumeNewline();
        first_line = false;
        continue;
      }
      if (Peek() == '\\' && pos_ + 1 < s_.size() && IsNewline(s_[pos_ + 1])) {
        ++pos_;  // a continuation before anything: the next line's indentation still counts
        ConsumeNewline();
        first_line = false;
        continue;
      }
      if (AtEnd()) return false;
      return !indented;
    }
  }

  // Whitespace, comments and line continuations between tokens. Inside brackets newlines are insignificant; at
  // the top level they end the expression, so they are left for SkipTrailing.
  bool SkipSpace() {
    while (!AtEnd()) {
      char c = Peek();
      if (c == ' ' || c == '\t' || c == '\f') {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && !IsNewline(Peek())) ++pos_;
      } else if (c == '\\') {
        if (pos_ + 1 >= s_.size() || !IsNewline(s_[pos_ + 1])) return false;
        ++pos_;
        ConsumeNewline();
        if (AtEnd()) return false;  // "unexpected EOF while parsing"
      } else if (IsNewline(c) && depth_ > 0) {
        ConsumeNewline();
      } else {
        break;
      }
    }
    return true;
  }

  bool SkipTrailing() {
    if (!SkipSpace()) return false;
    while (!AtEnd()) {
      if (!IsNewline(Peek())) return false;
      ConsumeNewline();
      size_t begin = pos_;
      while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\f')) ++pos_;
      if (Peek() == '#') {
        while (!AtEnd() && !IsNewline(Peek())) ++pos_;
        continue;
      }
      // A last line of only indentation without a newline is an IndentationError in CPython 3.11.
      if (AtEnd()) return pos_ == begin;
    }
    return true;
  }

  // expression_list at the top level: `1, 2` is a tuple.
  bool ParseTopExpression(Val* out) {
    Val first;
    if (!ParseElement(&first)) return false;
    if (!SkipSpace()) return false;
    if (Peek() != ',') {
      *out = std::move(first);
      return true;
    }
    Val tuple;
    tuple.kind = Kind::kTuple;
    tuple.json = Json::array();
    tuple.hashable = first.hashable;
    tuple.not_json = first.not_json;
    tuple.json.push_back(std::move(first.json));
    while (Peek() == ',') {
      ++pos_;
      if (!SkipSpace()) return false;
      if (AtEnd() || IsNewline(Peek())) break;
      Val v;
      if (!ParseElement(&v)) return false;
      tuple.hashable = tuple.hashable && v.hashable;
      tuple.not_json = tuple.not_json || v.not_json;
      tuple.json.push_back(std::move(v.json));
      if (!SkipSpace()) return false;
    }
    *out = std::move(tuple);
    return true;
  }

  // A literal, a signed number, or `number +/- imaginary` (the only BinOp literal_eval accepts).
  bool ParseElement(Val* out) {
    if (!SkipSpace()) return false;
    Val left;
    if (Peek() == '+' || Peek() == '-') {
      bool negative = Peek() == '-';
      ++pos_;
      if (!SkipSpace()) return false;
      if (!ParseAtom(&left)) return false;
      if (!left.plain_number) return false;
      if (negative) Negate(&left);
      left.plain_number = false;
      left.signed_number = true;
    } else {
      if (!ParseAtom(&left)) return false;
    }
    if (!SkipSpace()) return false;
    if ((Peek() == '+' || Peek() == '-')) {
      ++pos_;
      if (!SkipSpace()) return false;
      Val right;
      if (!ParseAtom(&right)) return false;
      bool left_real = left.signed_number && (left.kind == Kind::kInt || left.kind == Kind::kFloat);
      if (!left_real || !right.plain_number || right.kind != Kind::kComplex) return false;
      Val result;
      result.kind = Kind::kComplex;
      result.not_json = true;
      if (!SkipSpace()) return false;
      if (Peek() == '+' || Peek() == '-') return false;  // (a + bj) + c: the left side is no longer a number
      *out = std::move(result);
      return true;
    }
    *out = std::move(left);
    return true;
  }

  static void Negate(Val* v) {
    if (v->kind == Kind::kInt) {
      if (v->json.is_number_unsigned()) {
        uint64_t u = v->json.get<uint64_t>();
        if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
          v->json = u == 0 ? Json(int64_t{0}) : Json(static_cast<int64_t>(0 - u));
        } else {
          v->json = Json(-static_cast<double>(u));
        }
      } else if (v->json.is_number_integer()) {
        int64_t i = v->json.get<int64_t>();
        v->json = i == std::numeric_limits<int64_t>::min() ? Json(static_cast<uint64_t>(i) /* 2^63 */) : Json(-i);
      } else {
        v->json = Json(-v->json.get<double>());
      }
      v->int_text = (!v->int_text.empty() && v->int_text[0] == '-') ? v->int_text.substr(1) : "-" + v->int_text;
      if (v->int_text == "-0") v->int_text = "0";
    } else if (v->kind == Kind::kFloat) {
      v->json = Json(-v->json.get<double>());
    }
  }

  bool OpenBracket() {
    if (depth_ >= kMaxBracketDepth) return false;
    ++depth_;
    ++pos_;
    return true;
  }

  bool ParseAtom(Val* out) {
    if (AtEnd()) return false;
    char c = Peek();
    if (c == '(') return ParseParen(out);
    if (c == '[') return ParseList(out);
    if (c == '{') return ParseBrace(out);
    if (c == '.' && Peek(1) == '.' && Peek(2) == '.') {
      pos_ += 3;
      out->kind = Kind::kEllipsis;
      out->not_json = true;
      return true;
    }
    if ((c >= '0' && c <= '9') || (c == '.' && Peek(1) >= '0' && Peek(1) <= '9')) return ParseNumber(out);
    if (StringPrefixLength(pos_) >= 0) return ParseStrings(out);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return ParseName(out);
    return false;
  }

  bool ParseName(Val* out) {
    size_t begin = pos_;
    while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
    std::string_view name = s_.substr(begin, pos_ - begin);
    if (name == "True" || name == "False") {
      out->kind = Kind::kBool;
      out->json = Json(name == "True");
      return true;
    }
    if (name == "None") {
      out->kind = Kind::kNone;
      out->json = Json(nullptr);
      return true;
    }
    if (name == "set") {  // literal_eval accepts the call `set()` for an empty set
      if (!SkipSpace() || Peek() != '(') return false;
      if (!OpenBracket() || !SkipSpace() || Peek() != ')') return false;
      ++pos_;
      --depth_;
      out->kind = Kind::kSet;
      out->hashable = false;
      out->not_json = true;
      return true;
    }
    return false;
  }

  bool ParseParen(Val* out) {
    if (!OpenBracket() || !SkipSpace()) return false;
    if (Peek() == ')') {
      ++pos_;
      --depth_;
      out->kind = Kind::kTuple;
      out->json = Json::array();
      return true;
    }
    Val first;
    if (!ParseElement(&first) || !SkipSpace()) return false;
    if (Peek() == ')') {  // a parenthesized expression, not a tuple
      ++pos_;
      --depth_;
      *out = std::move(first);
      return true;
    }
    if (Peek() != ',') return false;
    out->kind = Kind::kTuple;
    out->json = Json::array();
    out->hashable = first.hashable;
    out->not_json = first.not_json;
    out->json.push_back(std::move(first.json));
    return ParseSequenceRest(')', out);
  }

  // After the first element and at a ',': more elements, an optional trailing comma, then `close`.
  bool ParseSequenceRest(char close, Val* out) {
    while (true) {
      if (!SkipSpace()) return false;
      if (Peek() == close) break;
      if (Peek() != ',') return false;
      ++pos_;
      if (!SkipSpace()) return false;
      if (Peek() == close) break;
      Val v;
      if (!ParseElement(&v)) return false;
      out->hashable = out->hashable && v.hashable;
      out->not_json = out->not_json || v.not_json;
      if (out->kind == Kind::kSet && !v.hashable) return false;  // TypeError: unhashable type
      out->json.push_back(std::move(v.json));
    }
    ++pos_;
    --depth_;
    return true;
  }

  bool ParseList(Val* out) {
    if (!OpenBracket() || !SkipSpace()) return false;
    out->kind = Kind::kList;
    out->json = Json::array();
    out->hashable = false;
    if (Peek() == ']') {
      ++pos_;
      --depth_;
      return true;
    }
    Val first;
    if (!ParseElement(&first)) return false;
    out->not_json = first.not_json;
    out->json.push_back(std::move(first.json));
    return ParseSequenceRest(']', out);
  }

  bool ParseBrace(Val* out) {
    if (!OpenBracket() || !SkipSpace()) return false;
    if (Peek() == '}') {
      ++pos_;
      --depth_;
      out->kind = Kind::kDict;
      out->json = Json::object();
      out->hashable = false;
      return true;
    }
    Val first;
    if (!ParseElement(&first) || !SkipSpace()) return false;
    if (Peek() != ':') {  // a set display
      if (!first.hashable) return false;
      out->kind = Kind::kSet;
      out->json = Json::array();
      out->hashable = false;
      out->not_json = true;
      return ParseSequenceRest('}', out);
    }
    out->kind = Kind::kDict;
    out->json = Json::object();
    out->hashable = false;
    std::unordered_map<std::string, std::string> json_key_of;  // key identity -> JSON name of the first such key
    // Whether each entry's value is JSON-hostile, by key identity: a repeated key replaces the value, and with it
    // the problem. Keys without an identity (NaN, tuples) can never be replaced.
    std::unordered_map<std::string, bool> hostile_by_key;
    bool hostile_for_good = false;
    Val key = std::move(first);
    while (true) {
      ++pos_;  // ':'
      Val value;
      if (!ParseElement(&value)) return false;
      if (!key.hashable) return false;  // TypeError: unhashable type
      std::optional<std::string> id = KeyIdentity(key);
      std::optional<std::string> key_name = JsonKeyName(key);
      std::string name = key_name.value_or("");
      if (id) {
        auto [it, inserted] = json_key_of.emplace(*id, name);
        if (!inserted) name = it->second;  // Python keeps the first key object and overwrites its value
        hostile_by_key[*id] = value.not_json || key.not_json;
      } else {
        hostile_for_good = hostile_for_good || !key_name || value.not_json || key.not_json;
      }
      out->json[name] = std::move(value.json);
      if (!SkipSpace()) return false;
      if (Peek() == '}') break;
      if (Peek() != ',') return false;
      ++pos_;
      if (!SkipSpace()) return false;
      if (Peek() == '}') break;
      key = Val();
      if (!ParseElement(&key) || !SkipSpace() || Peek() != ':') return false;
    }
    ++pos_;
    --depth_;
    out->not_json = hostile_for_good;
    for (const auto& [id, hostile] : hostile_by_key) out->not_json = out->not_json || hostile;
    return true;
  }

  // Python dict key equality: 1 == 1.0 == True, NaN equals nothing, str and numbers never collide.
  static std::optional<std::string> KeyIdentity(const Val& k) {
    switch (k.kind) {
      case Kind::kStr:
        return "s" + k.json.get<std::string>();
      case Kind::kNone:
        return std::string("n");
      case Kind::kBool:
        return std::string(k.json.get<bool>() ? "i1" : "i0");
      case Kind::kInt:
        return "i" + k.int_text;
      case Kind::kFloat: {
        double d = k.json.get<double>();
        if (std::isnan(d)) return std::nullopt;
        if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
          return "i" + std::to_string(static_cast<int64_t>(d));
        }
        return "f" + PythonFloatKey(d);
      }
      default:
        return std::nullopt;  // tuples and the like: json.dumps rejects them anyway
    }
  }

  // The name json.dumps gives a key: str as is, numbers as text, True/False/None as JSON words.
  static std::optional<std::string> JsonKeyName(const Val& k) {
    switch (k.kind) {
      case Kind::kStr:
        return k.json.get<std::string>();
      case Kind::kNone:
        return "null";
      case Kind::kBool:
        return k.json.get<bool>() ? "true" : "false";
      case Kind::kInt:
        return k.int_text;
      case Kind::kFloat:
        return PythonFloatKey(k.json.get<double>());
      default:
        return std::nullopt;  // "keys must be str, int, float, bool or None"

    }
  }

  // Length of a string prefix (r, u, b, f, br, rb, fr, rf in any case) at `at` when a quote follows, else -1.
  int StringPrefixLength(size_t at) const {
    auto lower = [&](size_t i) -> char {
      char c = i < s_.size() ? s_[i] : '\0';
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    auto is_quote = [&](size_t i) { return i < s_.size() && (s_[i] == '\'' || s_[i] == '"'); };
    if (is_quote(at)) return 0;
    char a = lower(at);
    if ((a == 'r' || a == 'u' || a == 'b' || a == 'f') && is_quote(at + 1)) return 1;
    char b = lower(at + 1);
    bool pair = (a == 'b' && b == 'r') || (a == 'r' && b == 'b') || (a == 'f' && b == 'r') || (a == 'r' && b == 'f');
    if (pair && is_quote(at + 2)) return 2;
    return -1;
  }

  // One or more adjacent string literals (implicit concatenation).
  bool ParseStrings(Val* out) {
    std::string text;
    bool any_bytes = false;
    bool any_str = false;
    while (true) {
      int plen = StringPrefixLength(pos_);
      if (plen < 0) break;
      bool raw = false;
      bool bytes = false;
      bool fstring = false;
      for (int i = 0; i < plen; ++i) {
        char c = static_cast<char>(s_[pos_ + i] | 0x20);
        raw = raw || c == 'r';
        bytes = bytes || c == 'b';
        fstring = fstring || c == 'f';
      }
      pos_ += plen;
      if (!ParseOneString(raw, bytes, &text)) return false;
      if (fstring) return false;  // JoinedStr is not a literal
      any_bytes = any_bytes || bytes;
      any_str = any_str || !bytes;
      if (any_bytes && any_str) return false;  // cannot mix bytes and nonbytes literals
      if (!SkipSpace()) return false;
    }
    if (any_bytes) {
      out->kind = Kind::kBytes;
      out->not_json = true;
    } else {
      out->kind = Kind::kStr;
      out->json = Json(std::move(text));
    }
    return true;
  }

  bool ParseOneString(bool raw, bool bytes, std::string* text) {
    char quote = Peek();
    bool triple = Peek(1) == quote && Peek(2) == quote;
    pos_ += triple ? 3 : 1;
    while (true) {
      if (AtEnd()) return false;  // unterminated string literal
      char c = Peek();
      if (c == quote && (!triple || (Peek(1) == quote && Peek(2) == quote))) {
        pos_ += triple ? 3 : 1;
        return true;
      }
      if (IsNewline(c)) {
        if (!triple) return false;
        ConsumeNewline();  // the tokenizer has already turned \r\n and \r into \n
        text->push_back('\n');
        continue;
      }
      if (c != '\\') {
        if (bytes && static_cast<unsigned char>(c) >= 0x80) return false;  // bytes: ASCII literal characters only
        text->push_back(c);
        ++pos_;
        continue;
      }
      // A backslash.
      if (pos_ + 1 >= s_.size()) return false;
      char e = s_[pos_ + 1];
      if (raw) {  // kept verbatim, but it still stops the next character from closing the string
        text->push_back('\\');
        pos_ += 1;
        if (IsNewline(e)) {
          ConsumeNewline();
          text->push_back('\n');
        } else {
          if (bytes && static_cast<unsigned char>(e) >= 0x80) return false;
          text->push_back(e);
          ++pos_;
        }
        continue;
      }
      pos_ += 2;
      switch (e) {
        case '\n':
          break;  // line continuation inside the literal
        case '\r':
          if (Peek() == '\n') ++pos_;
          break;
        case '\\': text->push_back('\\'); break;
        case '\'': text->push_back('\''); break;
        case '"': text->push_back('"'); break;
        case 'a': text->push_back('\a'); break;
        case 'b': text->push_back('\b'); break;
        case 'f': text->push_back('\f'); break;
        case 'n': text->push_back('\n'); break;
        case 'r': text->push_back('\r'); break;
        case 't': text->push_back('\t'); break;
        case 'v': text->push_back('\v'); break;
        case 'x': {
          int h1 = HexValue(Peek());
          int h2 = HexValue(Peek(1));
          if (h1 < 0 || h2 < 0) return false;  // truncated \xXX escape
          pos_ += 2;
          AppendUtf8(text, static_cast<uint32_t>(h1 * 16 + h2));
          break;
        }
        case 'u':
        case 'U': {
          if (bytes) {  // not an escape in bytes: kept as written
            text->push_back('\\');
            text->push_back(e);
            break;
          }
          int n = e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            int h = HexValue(Peek());
            if (h < 0) return false;
            cp = cp * 16 + static_cast<uint32_t>(h);
            ++pos_;
          }
          if (cp > 0x10FFFF) return false;  // illegal Unicode character
          AppendUtf8(text, cp);
          break;
        }
        case 'N':
          if (bytes) {
            text->push_back('\\');
            text->push_back('N');
            break;
          }
          return false;  // \N{NAME} needs the Unicode name table; treated as not a literal
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && Peek() >= '0' && Peek() <= '7'; ++i) {
              v = v * 8 + static_cast<uint32_t>(Peek() - '0');
              ++pos_;
            }
            if (bytes && v > 0xFF) return false;
            AppendUtf8(text, v);
          } else {
            // Unknown escapes keep their backslash.
            text->push_back('\\');
            --pos_;
          }
      }
    }
  }

  // digit ("_"? digit)* for the digits accepted by `is_digit`; appends the digits without underscores.
  template <typename IsDigit>
  bool ReadDigitPart(IsDigit is_digit, std::string* digits, bool allow_leading_underscore = false) {
    bool need_digit = true;
    if (allow_leading_underscore && Peek() == '_') ++pos_;
    if (!is_digit(Peek())) return false;
    while (!AtEnd()) {
      char c = Peek();
      if (is_digit(c)) {
        digits->push_back(c);
        need_digit = false;
        ++pos_;
      } else if (c == '_' && !need_digit) {
        ++pos_;
        need_digit = true;
      } else {
        break;
      }
    }
    return !need_digit;
  }

  bool ParseNumber(Val* out) {
    auto dec = [](char c) { return c >= '0' && c <= '9'; };
    out->plain_number = true;
    out->signed_number = true;
    char p1 = static_cast<char>(Peek(1) | 0x20);
    if (Peek() == '0' && (p1 == 'x' || p1 == 'o' || p1 == 'b')) {
      pos_ += 2;
      int base = p1 == 'x' ? 16 : p1 == 'o' ? 8 : 2;
      auto in_base = [base](char c) { int h = HexValue(c); return h >= 0 && h < base; };
      std::string digits;
      if (!ReadDigitPart(in_base, &digits, /*allow_leading_underscore=*/true)) return false;
      if (!AtEnd() && IsIdentChar(Peek())) return false;
      uint64_t v = 0;
      double d = 0;
      bool overflow = false;
      for (char c : digits) {
        auto h = static_cast<uint64_t>(HexValue(c));
        if (v > (std::numeric_limits<uint64_t>::max() - h) / static_cast<uint64_t>(base)) overflow = true;
        v = v * static_cast<uint64_t>(base) + h;
        d = d * base + static_cast<double>(h);
      }
      out->kind = Kind::kInt;
      out->json = overflow ? Json(d) : Json(v);
      if (overflow) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
        out->int_text.assign(buf, r.ptr);
      } else {
        out->int_text = std::to_string(v);
      }
      return true;
    }
    std::string digits;
    bool is_float = false;
    if (Peek() != '.') {
      if (!ReadDigitPart(dec, &digits)) return false;
    }
    std::string text = digits;
    if (Peek() == '.') {
      is_float = true;
      ++pos_;
      text.push_back('.');
      if (dec(Peek()) && !ReadDigitPart(dec, &text)) return false;
      if (digits.empty() && text.size() == 1) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      is_float = true;
      ++pos_;
      text.push_back('e');
      if (Peek() == '+' || Peek() == '-') text.push_back(s_[pos_++]);
      if (!ReadDigitPart(dec, &text)) return false;
    }
    if (Peek() == 'j' || Peek() == 'J') {
      ++pos_;
      if (!AtEnd() && IsIdentChar(Peek())) return false;
      out->kind = Kind::kComplex;
      out->not_json = true;
      return true;
    }
    if (!AtEnd() && IsIdentChar(Peek())) return false;  // "invalid decimal literal"
    if (is_float) {
      double d = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), d);
      if (r.ec == std::errc::result_out_of_range) {
        // from_chars reports overflow/underflow instead of returning inf/0 as Python does.
        bool exp_negative = text.find("e-") != std::string::npos;
        d = exp_negative ? 0.0 : std::numeric_limits<double>::infinity();
      } else if (r.ec != std::errc()) {
        return false;
      }
      out->kind = Kind::kFloat;
      out->json = Json(d);
      return true;
    }
    // Decimal int: "leading zeros in decimal integer literals are not permitted", and the 4300-digit limit.
    if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos) return false;
    if (digits.size() > kMaxIntDigits) return false;
    out->kind = Kind::kInt;
    out->int_text = StripLeadingZeros(digits);
    out->json = IntFromDigits(out->int_text, false);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------
// json.loads

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  bool Run(Json* out) {
    SkipWs();
    if (!ParseValue(out, 0)) return false;
    SkipWs();
    return pos_ == s_.size();  // "Extra data"
  }

 private:
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Match(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Json* out, int depth) {
    if (depth > kMaxJsonDepth) return false;
    char c = Peek();
    switch (c) {
      case '{': return ParseObject(out, depth);
      case '[': return ParseArray(out, depth);
      case '"': {
        std::string text;
        if (!ParseString(&text)) return false;
        *out = Json(std::move(text));
        return true;
      }
      case 'n': *out = nullptr; return Match("null");
      case 't': *out = true; return Match("true");
      case 'f': *out = false; return Match("false");
      case 'N': *out = std::numeric_limits<double>::quiet_NaN(); return Match("NaN");
      case 'I': *out = std::numeric_limits<double>::infinity(); return Match("Infinity");
      default:
        if (c == '-' && Peek(1) == 'I') {
          *out = -std::numeric_limits<double>::infinity();
          return Match("-Infinity");
        }
        return ParseNumber(out);
    }
  }

  bool ParseNumber(Json* out) {
    size_t begin = pos_;
    bool negative = false;
    if (Peek() == '-') {
      negative = true;
      ++pos_;
    }
    auto digit = [&] { return Peek() >= '0' && Peek() <= '9'; };
    if (!digit()) return false;
    size_t int_begin = pos_;
    if (Peek() == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    size_t int_end = pos_;
    bool is_float = false;
    if (Peek() == '.' && Peek(1) >= '0' && Peek(1) <= '9') {
      is_float = true;
      ++pos_;
      while (digit()) ++pos_;
    }
    if ((Peek() == 'e' || Peek() == 'E')) {
      size_t save = pos_;
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (digit()) {
        is_float = true;
        while (digit()) ++pos_;
      } else {
        pos_ = save;  // not part of the number; the caller reports the leftover
      }
    }
    if (is_float) {
      std::string_view text = s_.substr(begin + (negative ? 1 : 0), pos_ - begin - (negative ? 1 : 0));
      double d = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), d);
      if (r.ec == std::errc::result_out_of_range) {
        d = text.find("e-") != std::string_view::npos || text.find("E-") != std::string_view::npos
                ? 0.0
                : std::numeric_limits<double>::infinity();
      }
      *out = Json(negative ? -d : d);
      return true;
    }
    std::string_view digits = s_.substr(int_begin, int_end - int_begin);
    if (digits.size() > kMaxIntDigits) return false;
    *out = IntFromDigits(digits, negative);
    return true;
  }

  bool ParseHex4(uint32_t* v) {
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(Peek());
      if (h < 0) return false;
      *v = *v * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    return true;
  }

  bool ParseString(std::string* text) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return false;
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;  // "Invalid control character"
      if (c != '\\') {
        text->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      char e = Peek();
      ++pos_;
      switch (e) {
        case '"': text->push_back('"'); break;
        case '\\': text->push_back('\\'); break;
        case '/': text->push_back('/'); break;
        case 'b': text->push_back('\b'); break;
        case 'f': text->push_back('\f'); break;
        case 'n': text->push_back('\n'); break;
        case 'r': text->push_back('\r'); break;
        case 't': text->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            size_t save = pos_;
            pos_ += 2;
            uint32_t low;
            if (ParseHex4(&low) && low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          AppendUtf8(text, cp);
          break;
        }
        default:
          return false;  // "Invalid \escape"
      }
    }
  }

  bool ParseArray(Json* out, int depth) {
    ++pos_;
    *out = Json::array();
    SkipWs();
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipWs();
      Json v;
      if (!ParseValue(&v, depth + 1)) return false;
      out->push_back(std::move(v));
      SkipWs();
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

  bool ParseObject(Json* out, int depth) {
    ++pos_;
    *out = Json::object();
    SkipWs();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipWs();
      if (Peek() != '"') return false;
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWs();
      if (Peek() != ':') return false;
      ++pos_;
      SkipWs();
      Json v;
      if (!ParseValue(&v, depth + 1)) return false;
      (*out)[key] = std::move(v);  // a repeated key keeps its first position and takes the last value
      SkipWs();
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

// A decimal digit string (no sign, no underscores) as a JSON number: exact when it fits 64 bits, else a double.
nlohmann::ordered_json IntFromDigits(std::string_view digits, bool negative) {
  uint64_t v = 0;
  bool overflow = false;
  for (char c : digits) {
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      overflow = true;
      break;
    }
    v = v * 10 + d;
  }
  if (!overflow) {
    if (!negative) return nlohmann::ordered_json(v);
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      return nlohmann::ordered_json(v == 0 ? int64_t{0} : static_cast<int64_t>(0 - v));
    }
  }
  double d = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), d);
  return nlohmann::ordered_json(negative ? -d : d);
}

LiteralResult ParsePythonLiteral(std::string_view text) { return LiteralParser(text).Run(); }

bool ParsePythonJson(std::string_view text, nlohmann::ordered_json* out) {
  Json value;
  if (!JsonParser(text).Run(&value)) return false;
  *out = std::move(value);
  return true;
}

bool IsPythonSpaceAt(std::string_view s, size_t pos, size_t* len) {
  uint32_t cp;
  size_t n;
  if (!DecodeUtf8(s, pos, &cp, &n) || !IsPythonSpaceCodePoint(cp)) return false;
  *len = n;
  return true;
}

size_t SkipPythonSpace(std::string_view s, size_t pos) {
  size_t len;
  while (pos < s.size() && IsPythonSpaceAt(s, pos, &len)) pos += len;
  return pos;
}

std::string_view PythonStrip(std::string_view s) {
  size_t begin = SkipPythonSpace(s, 0);
  size_t end = begin;
  size_t pos = begin;
  while (pos < s.size()) {
    size_t len;
    if (IsPythonSpaceAt(s, pos, &len)) {
      pos += len;
    } else {
      uint32_t cp;
      if (!DecodeUtf8(s, pos, &cp, &len)) len = 1;
      pos += len;
      end = pos;
    }
  }
  return s.substr(begin, end - begin);
}

std::string PythonFloatKey(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::string sign = std::signbit(v) ? "-" : "";
  if (v == 0) return sign + "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  int decpt = exp10 + 1;  // digits represent 0.DIGITS x 10^decpt
  std::string out = sign;
  if (decpt > -4 && decpt <= 16) {
    auto nd = static_cast<int>(digits.size());
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= nd) {
      out += digits + std::string(static_cast<size_t>(decpt - nd), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  int x = decpt - 1;
  out += x < 0 ? "e-" : "e+";
  std::string xs = std::to_string(x < 0 ? -x : x);
  if (xs.size() < 2) xs = "0" + xs;
  return out + xs;
}

}  // namespace warden::engine::detail
