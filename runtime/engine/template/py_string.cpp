// Python `str` behaviour over UTF-8 (see py_string.h). Case mapping and character classes come from utf8proc so
// they follow the Unicode database rather than the C locale.
#include "runtime/engine/template/py_string.h"

#include <utf8proc.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace warden::engine::detail {
namespace {

constexpr char32_t kEscapeBase = 0xDC00;  // invalid byte b decodes to kEscapeBase + b (surrogateescape)

bool IsCased(char32_t cp) {
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

char32_t ToUpper(char32_t cp) { return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))); }
char32_t ToLower(char32_t cp) { return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))); }
char32_t ToTitle(char32_t cp) { return static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp))); }

template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : DecodeUtf8(s)) AppendUtf8(out, f(cp));
  return out;
}

// Byte offset -> code point count of the prefix.
long long CodePointsBefore(std::string_view s, size_t byte_offset) {
  return static_cast<long long>(Utf8Length(s.substr(0, byte_offset)));
}

}  // namespace

std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    int len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
    bool ok = len > 0 && i + static_cast<size_t>(len) <= n;
    for (int k = 1; ok && k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((b & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.push_back(cp);
      i += static_cast<size_t>(len);
    } else {
      out.push_back(kEscapeBase + b0);
      ++i;
    }
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp >= kEscapeBase + 0x80 && cp <= kEscapeBase + 0xFF) {
    out.push_back(static_cast<char>(cp - kEscapeBase));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    AppendUtf8(out, 0xFFFD);
  }
}

std::string EncodeUtf8(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) AppendUtf8(out, cp);
  return out;
}

size_t Utf8Length(std::string_view s) {
  // Fast path for ASCII; otherwise decode so that invalid bytes count one each, like DecodeUtf8.
  bool ascii = true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii ? s.size() : DecodeUtf8(s).size();
}

bool IsPyWhitespace(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool IsPyPrintable(char32_t cp) {
  if (cp == ' ') return true;
  if (cp > 0x10FFFF) return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right) {
  auto cps = DecodeUtf8(s);
  std::vector<char32_t> set;
  if (chars != nullptr) set = DecodeUtf8(*chars);
  auto strip_it = [&](char32_t cp) {
    if (chars == nullptr) return IsPyWhitespace(cp);
    for (char32_t c : set) if (c == cp) return true;
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left) while (b < e && strip_it(cps[b])) ++b;
  if (right) while (e > b && strip_it(cps[e - 1])) --e;
  return EncodeUtf8(std::vector<char32_t>(cps.begin() + static_cast<long>(b), cps.begin() + static_cast<long>(e)));
}

std::vector<std::string> PySplitWhitespace(std::string_view s, long long maxsplit, bool from_right) {
  auto cps = DecodeUtf8(s);
  std::vector<std::string> out;
  const long long n = static_cast<long long>(cps.size());
  if (!from_right) {
    long long i = 0;
    while (true) {
      while (i < n && IsPyWhitespace(cps[static_cast<size_t>(i)])) ++i;
      if (i >= n) break;
      if (maxsplit >= 0 && static_cast<long long>(out.size()) >= maxsplit) {
        // Python keeps the remainder as is, trailing whitespace included.
        out.push_back(EncodeUtf8(std::vector<char32_t>(cps.begin() + i, cps.end())));
        break;
      }
      long long j = i;
      while (j < n && !IsPyWhitespace(cps[static_cast<size_t>(j)])) ++j;
      out.push_back(EncodeUtf8(std::vector<char32_t>(cps.begin() + i, cps.begin() + j)));
      i = j;
    }
    return out;
  }
  long long i = n;
  while (true) {
    while (i > 0 && IsPyWhitespace(cps[static_cast<size_t>(i - 1)])) --i;
    if (i <= 0) break;
    if (maxsplit >= 0 && static_cast<long long>(out.size()) >= maxsplit) {
      out.push_back(EncodeUtf8(std::vector<char32_t>(cps.begin(), cps.begin() + i)));
      break;
    }
    long long j = i;
    while (j > 0 && !IsPyWhitespace(cps[static_cast<size_t>(j - 1)])) --j;
    out.push_back(EncodeUtf8(std::vector<char32_t>(cps.begin() + j, cps.begin() + i)));
    i = j;
  }
  return {out.rbegin(), out.rend()};
}

std::vector<std::string> PySplit(std::string_view s, std::string_view sep, long long maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (sep.empty()) return {std::string(s)};
  if (!from_right) {
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<long long>(out.size()) < maxsplit) {
      size_t hit = s.find(sep, pos);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, hit - pos));
      pos = hit + sep.size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<long long>(out.size()) < maxsplit) {
    if (end < sep.size()) break;
    size_t hit = s.rfind(sep, end - sep.size());
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(hit + sep.size(), end - hit - sep.size()));
    end = hit;
  }
  out.emplace_back(s.substr(0, end));
  return {out.rbegin(), out.rend()};
}

std::vector<std::string> PySplitLines(std::string_view s) {
  auto cps = DecodeUtf8(s);
  std::vector<std::string> out;
  std::vector<char32_t> cur;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      cur.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    out.push_back(EncodeUtf8(cur));
    cur.clear();
  }
  if (!cur.empty()) out.push_back(EncodeUtf8(cur));
  return out;
}

std::string PyReplace(std::string_view s, std::string_view old_sub, std::string_view new_sub, long long count) {
  std::string out;
  if (old_sub.empty()) {
    auto cps = DecodeUtf8(s);
    long long done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out.append(new_sub);
        ++done;
      }
      if (i < cps.size()) AppendUtf8(out, cps[i]);
    }
    return out;
  }
  size_t pos = 0;
  long long done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(old_sub, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(new_sub);
    pos = hit + old_sub.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

std::string PyUpper(std::string_view s) { return MapCodePoints(s, ToUpper); }
std::string PyLower(std::string_view s) { return MapCodePoints(s, ToLower); }

std::string PyTitle(std::string_view s) {
  bool prev_cased = false;
  return MapCodePoints(s, [&prev_cased](char32_t cp) {
    char32_t r = prev_cased ? ToLower(cp) : ToTitle(cp);
    prev_cased = IsCased(cp);
    return r;
  });
}

std::string PyCapitalize(std::string_view s) {
  bool first = true;
  return MapCodePoints(s, [&first](char32_t cp) {
    char32_t r = first ? ToTitle(cp) : ToLower(cp);
    first = false;
    return r;
  });
}

std::string PyReprString(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t cp : DecodeUtf8(s)) {
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (IsPyPrintable(cp)) {
      AppendUtf8(out, cp);
    } else {
      char buf[16];
      if (cp < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      else if (cp < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      else std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  out.push_back(quote);
  return out;
}

std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  std::string sign = std::signbit(d) ? "-" : "";
  double a = std::fabs(d);
  if (a == 0.0) return sign + "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  size_t epos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < epos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exp10 = std::stoi(sci.substr(epos + 1));
  const int n = static_cast<int>(digits.size());
  std::string out = sign;
  // Python's repr switches to exponent form when the decimal point would sit more than 16 digits right of the
  // first digit or 4+ zeros left of it (float_repr_style 'short', format code 'r').
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += eb;
    return out;
  }
  if (exp10 >= 0) {
    if (n <= exp10 + 1) {
      out += digits + std::string(static_cast<size_t>(exp10 + 1 - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exp10 + 1)) + "." + digits.substr(static_cast<size_t>(exp10 + 1));
    }
    return out;
  }
  out += "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  return out;
}

long long PyCount(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<long long>(Utf8Length(s)) + 1;
  long long n = 0;
  size_t pos = 0;
  while ((pos = s.find(sub, pos)) != std::string_view::npos) {
    ++n;
    pos += sub.size();
  }
  return n;
}

long long PyFind(std::string_view s, std::string_view sub, bool from_right) {
  size_t hit = from_right ? s.rfind(sub) : s.find(sub);
  if (hit == std::string_view::npos) return -1;
  return CodePointsBefore(s, hit);
}

namespace {
template <typename P>
bool AllOf(std::string_view s, P p) {
  auto cps = DecodeUtf8(s);
  if (cps.empty()) return false;
  for (char32_t cp : cps) if (!p(cp)) return false;
  return true;
}
int Category(char32_t cp) { return utf8proc_category(static_cast<utf8proc_int32_t>(cp)); }
bool IsAlphaCp(char32_t cp) {
  int c = Category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}
bool IsDigitCp(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_ND; }
bool IsNumericCp(char32_t cp) {
  int c = Category(cp);
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}
}  // namespace

bool PyIsDigit(std::string_view s) { return AllOf(s, IsDigitCp); }
bool PyIsAlpha(std::string_view s) { return AllOf(s, IsAlphaCp); }
bool PyIsAlnum(std::string_view s) { return AllOf(s, [](char32_t cp) { return IsAlphaCp(cp) || IsNumericCp(cp); }); }
bool PyIsSpace(std::string_view s) { return AllOf(s, IsPyWhitespace); }

bool PyIsLower(std::string_view s) {
  bool any_cased = false;
  for (char32_t cp : DecodeUtf8(s)) {
    int c = Category(cp);
    if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT) return false;
    if (c == UTF8PROC_CATEGORY_LL) any_cased = true;
  }
  return any_cased;
}

bool PyIsUpper(std::string_view s) {
  bool any_cased = false;
  for (char32_t cp : DecodeUtf8(s)) {
    int c = Category(cp);
    if (c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT) return false;
    if (c == UTF8PROC_CATEGORY_LU) any_cased = true;
  }
  return any_cased;
}

}  // namespace warden::engine::detail
