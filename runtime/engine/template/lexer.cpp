// Jinja lexer (lexer.h). The structure follows jinja2's regex state machine — root data, then a tag, then back —
// written as a hand scanner so that the whitespace rules (strip signs, trim_blocks, lstrip_blocks) apply at exactly
// the same points.
#include "runtime/engine/template/lexer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "runtime/engine/template/py_string.h"

namespace warden::engine::detail {
namespace {

constexpr bool kTrimBlocks = true;
constexpr bool kLstripBlocks = true;

// Jinja normalises \r\n and \r to \n and (keep_trailing_newline=False) drops one trailing newline.
std::string Normalize(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Decodes one code point at `pos` (an invalid byte counts as one code point of its own, as in DecodeUtf8).
char32_t PeekCodePoint(std::string_view s, size_t pos, size_t* len) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  *len = 1;
  if (b0 < 0x80) return b0;
  size_t end = std::min(s.size(), pos + 4);
  auto cps = DecodeUtf8(s.substr(pos, end - pos));
  std::string enc;
  AppendUtf8(enc, cps.front());
  *len = enc.size();
  return cps.front();
}

// Length in bytes of the Python whitespace run at `pos` (`\s*`).
size_t WhitespaceRun(std::string_view s, size_t pos) {
  size_t p = pos;
  while (p < s.size()) {
    auto c = static_cast<unsigned char>(s[p]);
    if (c < 0x80) {
      if (!IsPyWhitespace(c)) break;
      ++p;
      continue;
    }
    size_t len = 0;
    char32_t cp = PeekCodePoint(s, p, &len);
    if (!IsPyWhitespace(cp)) break;
    p += len;
  }
  return p - pos;
}

bool AllWhitespace(std::string_view s) { return WhitespaceRun(s, 0) == s.size(); }

bool IsIdentStart(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || c == UTF8PROC_CATEGORY_NL;
}

bool IsIdentContinue(char32_t cp) {
  if (cp < 0x80) return IsIdentStart(cp) || (cp >= '0' && cp <= '9');
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return IsIdentStart(cp) || c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ND ||
         c == UTF8PROC_CATEGORY_PC;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> Run() {
    size_t pos = 0;
    // jinja2's `line_starting`: the previous match ended with a newline (true at the start of the template).
    bool line_starting = true;
    const size_t n = src_.size();
    while (pos < n) {
      size_t tag = FindTagStart(pos);
      if (tag == std::string::npos) {
        Emit(TokenType::kData, src_.substr(pos), pos);
        break;
      }
      const char kind = src_[tag + 1];
      char sign = tag + 2 < n && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      size_t raw_body = kind == '%' ? MatchRawBegin(tag) : std::string::npos;
      std::string text = src_.substr(pos, tag - pos);
      text = StripBeforeTag(std::move(text), sign, kind != '{', line_starting);
      Emit(TokenType::kData, std::move(text), pos);
      if (raw_body != std::string::npos) {
        pos = LexRaw(tag, raw_body, &line_starting);
      } else if (kind == '#') {
        pos = LexComment(tag, tag + 2 + (sign ? 1 : 0), &line_starting);
      } else {
        pos = LexTag(tag, kind == '%', tag + 2 + (sign ? 1 : 0), &line_starting);
      }
    }
    Token eof;
    eof.type = TokenType::kEof;
    SetPos(eof, n);
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void Fail(const std::string& message, size_t offset) const {
    Token t;
    SetPos(t, offset);
    throw SyntaxError(message, t.line, t.column);
  }

  void SetPos(Token& t, size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line_index = static_cast<size_t>(it - line_starts_.begin()) - 1;
    t.line = static_cast<int>(line_index + 1);
    t.column = static_cast<int>(offset - line_starts_[line_index] + 1);
  }

  void Emit(TokenType type, std::string text, size_t offset) {
    if (type == TokenType::kData && text.empty()) return;
    Token t;
    t.type = type;
    t.text = std::move(text);
    SetPos(t, offset);
    tokens_.push_back(std::move(t));
  }

  size_t FindTagStart(size_t pos) const {
    while (true) {
      size_t p = src_.find('{', pos);
      if (p == std::string::npos || p + 1 >= src_.size()) return std::string::npos;
      char c = src_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      pos = p + 1;
    }
  }

  // `{%[-+]?\s*raw\s*(-%}\s*|%})` at `tag`: returns the offset where the raw body starts, or npos.
  size_t MatchRawBegin(size_t tag) const {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p += WhitespaceRun(src_, p);
    if (src_.compare(p, 3, "raw") != 0) return std::string::npos;
    p += 3;
    p += WhitespaceRun(src_, p);
    if (src_.compare(p, 3, "-%}") == 0) return p + 3 + WhitespaceRun(src_, p + 3);
    if (src_.compare(p, 2, "%}") == 0) return p + 2;
    return std::string::npos;
  }

  // jinja2's OptionalLStrip: `-` strips all whitespace before the tag; otherwise lstrip_blocks removes the
  // indentation of a block/comment tag that is alone at the start of its line.
  static std::string StripBeforeTag(std::string text, char sign, bool lstrip_applies, bool line_starting) {
    if (sign == '-') {
      return PyStrip(text, nullptr, false, true);
    }
    if (sign != '+' && kLstripBlocks && lstrip_applies) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
          AllWhitespace(std::string_view(text).substr(l_pos))) {
        text.resize(l_pos);
      }
    }
    return text;
  }

  // After a block/comment end: `-` eats following whitespace, `+` keeps everything, plain eats one "\n".
  size_t AfterTagEnd(size_t end, char sign, bool trim_applies, bool* line_starting) const {
    size_t p = end;
    if (sign == '-') {
      p += WhitespaceRun(src_, p);
    } else if (sign != '+' && trim_applies && kTrimBlocks && p < src_.size() && src_[p] == '\n') {
      ++p;
    }
    size_t last = p > 0 ? p - 1 : 0;
    *line_starting = p > 0 && src_[last] == '\n';
    return p;
  }

  size_t LexComment(size_t tag, size_t body, bool* line_starting) {
    size_t q = src_.find("#}", body);
    if (q == std::string::npos) Fail("Missing end of comment tag", tag);
    char sign = 0;
    if (q > body && (src_[q - 1] == '-' || src_[q - 1] == '+')) sign = src_[q - 1];
    return AfterTagEnd(q + 2, sign, true, line_starting);
  }

  size_t LexRaw(size_t tag, size_t body, bool* line_starting) {
    size_t p = body;
    while (true) {
      size_t open = src_.find("{%", p);
      if (open == std::string::npos) Fail("Missing end of raw directive", tag);
      size_t q = open + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q += WhitespaceRun(src_, q);
      if (src_.compare(q, 6, "endraw") != 0) {
        p = open + 2;
        continue;
      }
      q += 6;
      q += WhitespaceRun(src_, q);
      char end_sign = 0;
      size_t end;
      if (src_.compare(q, 3, "+%}") == 0 || src_.compare(q, 3, "-%}") == 0) {
        end_sign = src_[q];
        end = q + 3;
      } else if (src_.compare(q, 2, "%}") == 0) {
        end = q + 2;
      } else {
        p = open + 2;
        continue;
      }
      std::string text = StripBeforeTag(src_.substr(body, open - body), sign, true, *line_starting);
      Emit(TokenType::kData, std::move(text), body);
      return AfterTagEnd(end, end_sign, true, line_starting);
    }
  }

  size_t LexTag(size_t tag, bool is_block, size_t p, bool* line_starting) {
    Emit(is_block ? TokenType::kBlockBegin : TokenType::kVariableBegin, "", tag);
    tokens_.back().text = is_block ? "{%" : "{{";
    std::vector<char> balance;
    const size_t n = src_.size();
    while (true) {
      p += WhitespaceRun(src_, p);
      if (p >= n) {
        Fail(std::string("unexpected end of template, the tag opened here was never closed (expected '") +
                 (is_block ? "%}" : "}}") + "')",
             tag);
      }
      if (balance.empty()) {
        if (is_block) {
          if (src_.compare(p, 3, "+%}") == 0 || src_.compare(p, 3, "-%}") == 0) {
            Emit(TokenType::kBlockEnd, "%}", p);
            return AfterTagEnd(p + 3, src_[p], true, line_starting);
          }
          if (src_.compare(p, 2, "%}") == 0) {
            Emit(TokenType::kBlockEnd, "%}", p);
            return AfterTagEnd(p + 2, 0, true, line_starting);
          }
        } else {
          if (src_.compare(p, 3, "-}}") == 0) {
            Emit(TokenType::kVariableEnd, "}}", p);
            return AfterTagEnd(p + 3, '-', false, line_starting);
          }
          if (src_.compare(p, 2, "}}") == 0) {
            Emit(TokenType::kVariableEnd, "}}", p);
            return AfterTagEnd(p + 2, 0, false, line_starting);
          }
        }
      }
      p = LexOne(p, &balance);
    }
  }

  // One token inside a tag: float, integer, name, string or operator (jinja2's rule order).
  size_t LexOne(size_t p, std::vector<char>* balance) {
    if (size_t e = MatchFloat(p); e != 0) {
      std::string digits;
      for (size_t i = p; i < e; ++i) {
        if (src_[i] != '_') digits.push_back(src_[i]);
      }
      Token t;
      t.type = TokenType::kFloat;
      t.text = src_.substr(p, e - p);
      t.float_value = std::strtod(digits.c_str(), nullptr);
      SetPos(t, p);
      tokens_.push_back(std::move(t));
      return e;
    }
    if (IsDigit(src_[p])) return LexInteger(p);
    size_t len = 0;
    char32_t cp = PeekCodePoint(src_, p, &len);
    if (IsIdentStart(cp)) {
      size_t e = p + len;
      while (e < src_.size()) {
        char32_t c = PeekCodePoint(src_, e, &len);
        if (!IsIdentContinue(c)) break;
        e += len;
      }
      Emit(TokenType::kName, src_.substr(p, e - p), p);
      return e;
    }
    if (src_[p] == '\'' || src_[p] == '"') {
      size_t e = p + 1;
      while (e < src_.size() && src_[e] != src_[p]) e += src_[e] == '\\' ? 2 : 1;
      if (e < src_.size()) {
        Token t;
        t.type = TokenType::kString;
        t.text = Unescape(std::string_view(src_).substr(p + 1, e - p - 1), p);
        SetPos(t, p);
        tokens_.push_back(std::move(t));
        return e + 1;
      }
    }
    static const char* const kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo) {
      if (src_.compare(p, 2, op) == 0) {
        Emit(TokenType::kOperator, op, p);
        return p + 2;
      }
    }
    const char c = src_[p];
    static const std::string kOne = "+-/*%~[](){}><=.:|,;";
    if (kOne.find(c) == std::string::npos) {
      std::string shown = src_.substr(p, len);
      Fail("unexpected char '" + shown + "' at " + std::to_string(p), p);
    }
    if (c == '(' || c == '[' || c == '{') {
      balance->push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance->empty()) Fail(std::string("unexpected '") + c + "'", p);
      char expected = balance->back();
      balance->pop_back();
      if (expected != c) Fail(std::string("unexpected '") + c + "', expected '" + expected + "'", p);
    }
    Emit(TokenType::kOperator, std::string(1, c), p);
    return p + 1;
  }

  // (\d+_)*\d+ ( (\.(\d+_)*\d+)? e[+-]?(\d+_)*\d+ | \.(\d+_)*\d+ ), not preceded by '.'. Returns end or 0.
  size_t MatchFloat(size_t p) const {
    if (!IsDigit(src_[p]) || (p > 0 && src_[p - 1] == '.')) return 0;
    auto digits = [this](size_t q) -> size_t {  // (\d+_)*\d+ ; returns end or q when absent
      if (q >= src_.size() || !IsDigit(src_[q])) return q;
      size_t e = q;
      while (true) {
        while (e < src_.size() && IsDigit(src_[e])) ++e;
        if (e + 1 < src_.size() && src_[e] == '_' && IsDigit(src_[e + 1])) {
          ++e;
          continue;
        }
        return e;
      }
    };
    size_t e = digits(p);
    size_t frac_end = e;
    bool has_frac = false;
    if (e < src_.size() && src_[e] == '.') {
      size_t f = digits(e + 1);
      if (f > e + 1) {
        has_frac = true;
        frac_end = f;
      }
    }
    size_t q = frac_end;
    if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
      size_t r = q + 1;
      if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
      size_t x = digits(r);
      if (x > r) return x;
    }
    return has_frac ? frac_end : 0;
  }

  size_t LexInteger(size_t p) {
    int base = 10;
    size_t q = p;
    auto lower = [](char c) { return static_cast<char>(c | 0x20); };
    if (src_[p] == '0' && p + 1 < src_.size()) {
      char x = lower(src_[p + 1]);
      if (x == 'b') base = 2;
      if (x == 'o') base = 8;
      if (x == 'x') base = 16;
    }
    std::string digits;
    if (base != 10) {
      q = p + 2;
      while (q < src_.size()) {
        size_t d = q;
        if (src_[d] == '_') ++d;
        if (d >= src_.size()) break;
        int v = HexValue(src_[d]);
        if (v < 0 || v >= base) break;
        digits.push_back(src_[d]);
        q = d + 1;
      }
      if (digits.empty()) {  // "0x" alone: jinja lexes the 0 and then a name
        base = 10;
        q = p;
      }
    }
    if (base == 10) {
      q = p + 1;
      digits = src_.substr(p, 1);
      bool zero = src_[p] == '0';
      while (q < src_.size()) {
        size_t d = q;
        if (src_[d] == '_') ++d;
        if (d >= src_.size() || !IsDigit(src_[d]) || (zero && src_[d] != '0')) break;
        digits.push_back(src_[d]);
        q = d + 1;
      }
    }
    uint64_t value = 0;
    for (char c : digits) {
      auto v = static_cast<uint64_t>(HexValue(c));
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - v) / static_cast<uint64_t>(base)) {
        Fail("integer literal " + src_.substr(p, q - p) + " is too large (limit 2**63-1)", p);
      }
      value = value * static_cast<uint64_t>(base) + v;
    }
    Token t;
    t.type = TokenType::kInteger;
    t.text = src_.substr(p, q - p);
    t.int_value = static_cast<int64_t>(value);
    SetPos(t, p);
    tokens_.push_back(std::move(t));
    return q;
  }

  // Python's "unicode-escape" decoding as jinja2 applies it to string literals.
  std::string Unescape(std::string_view body, size_t offset) const {
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c != '\\' || i + 1 >= body.size()) {
        out.push_back(c);
        continue;
      }
      char e = body[++i];
      switch (e) {
        case '\n': break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x':
        case 'u':
        case 'U': {
          size_t want = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t v = 0;
          for (size_t k = 0; k < want; ++k) {
            if (i + 1 + k >= body.size() || HexValue(body[i + 1 + k]) < 0) {
              Fail(std::string("truncated \\") + e + std::string(want, 'X') + " escape", offset);
            }
            v = v * 16 + static_cast<uint32_t>(HexValue(body[i + 1 + k]));
          }
          if (v > 0x10FFFF) Fail("illegal Unicode character", offset);
          i += want;
          AppendUtf8(out, v);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
              v = v * 8 + static_cast<uint32_t>(body[++i] - '0');
            }
            AppendUtf8(out, v);
          } else {
            out.push_back('\\');
            out.push_back(e);
          }
      }
    }
    return out;
  }

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Tokenize(std::string_view source) { return Lexer(Normalize(source)).Run(); }

}  // namespace warden::engine::detail
