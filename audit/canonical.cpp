// Canonical JSON of audit bodies and rows, and the SHA-256 hash chain (policy-audit.md B.2 "Large or sensitive
// values", B.3). The canonical form is the JCS subset the doc proposes: integers only (|n| < 2^53), keys sorted
// byte-wise (nlohmann's std::map order), no whitespace, strings escaped the one way nlohmann::json::dump does. That
// keeps one definition for writer and verifier, and makes the same event built twice hash the same.
#include <sodium.h>

#include <chrono>
#include <cstring>

#include "audit/audit_internal.h"

namespace warden::audit::detail {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// Longest prefix of `s` of at most `n` bytes that ends on a UTF-8 character boundary.
std::string_view Utf8Prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

nlohmann::json Trunc(std::string_view full) {
  Hash digest = Sha256(full);
  return nlohmann::json{{"$trunc", {{"head", std::string(Utf8Prefix(full, kTruncHeadBytes))},
                                    {"len", static_cast<int64_t>(full.size())},
                                    {"sha256", Hex(digest)}}}};
}

Status Cap(const nlohmann::json& in, nlohmann::json& out, size_t max_string, const std::string& where) {
  using T = nlohmann::json::value_t;
  switch (in.type()) {
    case T::object: {
      out = nlohmann::json::object();
      for (const auto& [key, value] : in.items()) {
        if (!ValidUtf8(key)) {
          return Status::InvalidArgument("audit body key at " + where + " is not valid UTF-8; use ASCII keys");
        }
        WARDEN_RETURN_IF_ERROR(Cap(value, out[key], max_string, where + "." + key));
      }
      return Status::Ok();
    }
    case T::array: {
      out = nlohmann::json::array();
      size_t i = 0;
      for (const auto& value : in) {
        nlohmann::json v;
        WARDEN_RETURN_IF_ERROR(Cap(value, v, max_string, where + "[" + std::to_string(i++) + "]"));
        out.push_back(std::move(v));
      }
      return Status::Ok();
    }
    case T::string: {
      const auto& s = in.get_ref<const std::string&>();
      if (!ValidUtf8(s)) {
        out = nlohmann::json{{"$b64", Base64(reinterpret_cast<const uint8_t*>(s.data()), s.size())}};
      } else if (s.size() > max_string) {
        out = Trunc(s);
      } else {
        out = s;
      }
      return Status::Ok();
    }
    case T::number_integer: {
      int64_t v = in.get<int64_t>();
      if (v > kMaxSafeInteger || v < -kMaxSafeInteger) {
        return Status::InvalidArgument("audit body field " + where + " = " + std::to_string(v) +
                                       " is outside +-2^53; store it as a string");
      }
      out = v;
      return Status::Ok();
    }
    case T::number_unsigned: {
      uint64_t v = in.get<uint64_t>();
      if (v > static_cast<uint64_t>(kMaxSafeInteger)) {
        return Status::InvalidArgument("audit body field " + where + " = " + std::to_string(v) +
                                       " is above 2^53; store it as a string");
      }
      out = static_cast<int64_t>(v);
      return Status::Ok();
    }
    case T::number_float: {
      double d = in.get<double>();
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d <= static_cast<double>(kMaxSafeInteger) &&
          d >= -static_cast<double>(kMaxSafeInteger)) {
        out = static_cast<int64_t>(d);
        return Status::Ok();
      }
      return Status::InvalidArgument("audit body field " + where + " = " + in.dump() +
                                     " is not an integer; record durations in ms and money in micros");
    }
    case T::boolean:
    case T::null:
      out = in;
      return Status::Ok();
    default:
      return Status::InvalidArgument("audit body field " + where + " has a type JSON text cannot carry (binary)");
  }
}

// The string escaping of nlohmann::json::dump (ensure_ascii off): the short escapes, \u00xx in lowercase hex for
// other control characters, everything else verbatim. Written out because building a json value per column made
// hashing a row cost more than the SHA-256 itself; the golden test pins the two to the same bytes.
void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void AppendString(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out += "null";
  } else {
    AppendEscaped(out, *s);
  }
}

}  // namespace

Result<std::string> Canonical(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("audit body cannot be written as JSON: ") + e.what());
  }
}

Result<std::string> CanonicalBody(const nlohmann::json& body, size_t max_string_bytes, size_t max_body_bytes) {
  if (!body.is_object() && !body.is_null()) {
    return Status::InvalidArgument("audit body must be a JSON object, got " + std::string(body.type_name()));
  }
  nlohmann::json capped = nlohmann::json::object();
  if (body.is_object()) WARDEN_RETURN_IF_ERROR(Cap(body, capped, max_string_bytes, "$"));
  WARDEN_ASSIGN_OR_RETURN(std::string text, Canonical(capped));
  if (text.size() > max_body_bytes) {
    WARDEN_ASSIGN_OR_RETURN(text, Canonical(Trunc(text)));
  }
  return text;
}

void RowContentText(const RowFields& row, std::string& out) {
  out += "{\"action\":";
  AppendString(out, row.action);
  out += ",\"body\":";
  out += row.body;
  out += ",\"decision\":";
  AppendString(out, row.decision);
  out += ",\"event_id\":";
  AppendString(out, row.event_id);
  out += ",\"kind\":";
  AppendString(out, row.kind);
  out += ",\"policy_set\":";
  AppendString(out, row.policy_set);
  out += ",\"principal_id\":";
  AppendString(out, row.principal_id);
  out += ",\"skill\":";
  AppendString(out, row.skill);
  out += ",\"task_id\":";
  AppendString(out, row.task_id);
  out += ",\"tenant_id\":";
  AppendString(out, row.tenant_id);
  out += ",\"ts_ns\":";
  out += std::to_string(row.ts_ns);
  out += "}";
}

Hash Sha256(std::string_view data) {
  Hash h;
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return h;
}

Hash ContentHash(const RowFields& row) {
  std::string text;
  text.reserve(row.body.size() + 256);
  RowContentText(row, text);
  return Sha256(text);
}

Hash ChainHash(const Hash& prev, uint64_t seq, const Hash& content_hash) {
  static constexpr char kDomain[] = "warden-audit-v1";  // sizeof includes the 0x00 separator
  uint8_t buf[sizeof(kDomain) + 32 + 8 + 32];
  std::memcpy(buf, kDomain, sizeof(kDomain));
  std::memcpy(buf + sizeof(kDomain), prev.data(), 32);
  for (int i = 0; i < 8; ++i) buf[sizeof(kDomain) + 32 + i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
  std::memcpy(buf + sizeof(kDomain) + 40, content_hash.data(), 32);
  Hash h;
  crypto_hash_sha256(h.data(), buf, sizeof(buf));
  return h;
}

std::string Hex(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 15];
  }
  return s;
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string Base64(const uint8_t* data, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool FromBase64(std::string_view text, std::string& out) {
  out.assign(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  out.resize(len);
  return true;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string NewEventId(int64_t ts_ns) {
  uint8_t b[16];
  randombytes_buf(b, sizeof(b));
  const uint64_t ms = static_cast<uint64_t>(ts_ns / 1'000'000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  std::string h = Hex(b, 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace warden::audit::detail

namespace warden::audit::detail {
namespace {

// Recursive-descent check that `s` is exactly what Canonical() would print for the value it denotes.
class CanonChecker {
 public:
  explicit CanonChecker(std::string_view s) : s_(s) {}
  bool Top() { return pos_ < s_.size() && s_[pos_] == '{' && Value(0) && pos_ == s_.size(); }

 private:
  bool Value(int depth) {
    if (pos_ >= s_.size() || depth > 256) return false;
    switch (s_[pos_]) {
      case '{': return Object(depth);
      case '[': return Array(depth);
      case '"': {
        std::string ignored;
        return String(ignored);
      }
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }
  bool Literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  bool Number() {
    const bool neg = s_[pos_] == '-';
    if (neg) ++pos_;
    const size_t d0 = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    const size_t digits = pos_ - d0;
    if (digits == 0) return false;
    if (s_[d0] == '0' && (digits > 1 || neg)) return false;  // a leading zero, or "-0" (printed as "0")
    // |n| <= 2^53 - 1 = 9007199254740991; fractions and exponents never occur (the caller rejects '.', 'e').
    return digits < 16 || (digits == 16 && s_.substr(d0, 16) <= "9007199254740991");
  }
  // Decodes into `out` (keys are compared decoded) and checks the escaping is the canonical one.
  bool String(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return ValidUtf8(out);
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) return false;
      switch (s_[pos_]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          // Only control characters without a short form are written as \u00xx, in lowercase hex.
          if (pos_ + 4 >= s_.size() || s_[pos_ + 1] != '0' || s_[pos_ + 2] != '0') return false;
          const char h = s_[pos_ + 3], l = s_[pos_ + 4];
          if (h != '0' && h != '1') return false;
          const bool lower = (l >= '0' && l <= '9') || (l >= 'a' && l <= 'f');
          if (!lower) return false;
          const int v = (h - '0') * 16 + (l <= '9' ? l - '0' : l - 'a' + 10);
          if (v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t') return false;
          out += static_cast<char>(v);
          pos_ += 4;
          break;
        }
        default: return false;
      }
      ++pos_;
    }
    return false;
  }
  bool Object(int depth) {
    ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::string prev;
    bool first = true;
    for (;;) {
      if (pos_ >= s_.size() || s_[pos_] != '"') return false;
      std::string key;
      if (!String(key)) return false;
      if (!first && !(prev < key)) return false;  // sorted byte-wise, no duplicates
      first = false;
      prev = std::move(key);
      if (pos_ >= s_.size() || s_[pos_] != ':') return false;
      ++pos_;
      if (!Value(depth + 1)) return false;
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return false;
      ++pos_;
    }
  }
  bool Array(int depth) {
    ++pos_;
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (!Value(depth + 1)) return false;
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return false;
      ++pos_;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

bool IsCanonicalBody(std::string_view body) { return CanonChecker(body).Top(); }

}  // namespace warden::audit::detail
