// Canonical JSON of audit bodies and rows, and the SHA-256 hash chain (policy-audit.md B.2 "Large or sensitive
// values", B.3). The canonical form is the JCS subset the doc proposes: integers only (|n| < 2^53), keys sorted
// byte-wise (nlohmann's std::map order), no whitespace, strings escaped the one way nlohmann::json::dump does. That
// keeps one definition for writer and verifier, and makes the same event built twice hash the same.
#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>

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

// The string escaping of nlohmann::json::dump (ensure_ascii off): the short escapes, \u00xx in lowercase hex for
// other control characters, everything else verbatim. Written out because building a json value per column made
// hashing a row cost more than the SHA-256 itself; the golden test pins the two to the same bytes.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending stretch that needs no escaping; copied in one append
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kNeedsEscape[c]) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// {"$trunc":{"head":<first 1 KiB, or the cap when it is smaller>,"len":N,"sha256":"<hex of the full value>"}}: what
// is stored never exceeds the cap it replaces.
void AppendTrunc(std::string& out, std::string_view full, size_t cap) {
  out += "{\"$trunc\":{\"head\":";
  AppendEscaped(out, Utf8Prefix(full, std::min(kTruncHeadBytes, cap)));
  out += ",\"len\":";
  AppendInt(out, static_cast<int64_t>(full.size()));
  out += ",\"sha256\":\"";
  out += Hex(Sha256(full));
  out += "\"}}";
}

// Writes the canonical text of `in` with the caps applied straight into `out`: no capped copy of the value is built,
// which was most of a producer's cost per event. nlohmann's objects are std::maps, so keys come out byte-sorted.
class CanonWriter {
 public:
  CanonWriter(std::string& out, size_t max_string, const Redaction* redaction)
      : out_(out), max_string_(max_string), redaction_(redaction) {}

  Status Value(const nlohmann::json& in, int depth) {
    using T = nlohmann::json::value_t;
    if (depth > kMaxDepth) return Error("is nested deeper than " + std::to_string(kMaxDepth) + " levels");
    switch (in.type()) {
      case T::object: {
        out_ += '{';
        bool first = true;
        for (auto it = in.begin(); it != in.end(); ++it) {
          const std::string& key = it.key();
          if (!ValidUtf8(key)) return Error("has a key that is not valid UTF-8; use ASCII keys");
          if (!first) out_ += ',';
          first = false;
          AppendEscaped(out_, key);
          out_ += ':';
          path_.push_back(&key);
          Status st = Redacted() ? AppendRedacted(it.value()) : Value(it.value(), depth + 1);
          path_.pop_back();
          WARDEN_RETURN_IF_ERROR(st);
        }
        out_ += '}';
        return Status::Ok();
      }
      case T::array: {
        out_ += '[';
        bool first = true;
        for (const auto& v : in) {
          if (!first) out_ += ',';
          first = false;
          WARDEN_RETURN_IF_ERROR(Value(v, depth + 1));
        }
        out_ += ']';
        return Status::Ok();
      }
      case T::string: {
        const auto& str = in.get_ref<const std::string&>();
        if (!ValidUtf8(str)) {
          out_ += "{\"$b64\":\"";
          out_ += Base64(reinterpret_cast<const uint8_t*>(str.data()), str.size());
          out_ += "\"}";
        } else if (str.size() > max_string_) {
          AppendTrunc(out_, str, max_string_);
        } else {
          AppendEscaped(out_, str);
        }
        return Status::Ok();
      }
      case T::number_integer: {
        const int64_t v = in.get<int64_t>();
        if (v > kMaxSafeInteger || v < -kMaxSafeInteger) {
          return Error("= " + std::to_string(v) + " is outside +-2^53; store it as a string");
        }
        AppendInt(out_, v);
        return Status::Ok();
      }
      case T::number_unsigned: {
        const uint64_t v = in.get<uint64_t>();
        if (v > static_cast<uint64_t>(kMaxSafeInteger)) {
          return Error("= " + std::to_string(v) + " is above 2^53; store it as a string");
        }
        AppendInt(out_, static_cast<int64_t>(v));
        return Status::Ok();
      }
      case T::number_float: {
        const double d = in.get<double>();
        if (d <= static_cast<double>(kMaxSafeInteger) && d >= -static_cast<double>(kMaxSafeInteger) &&
            d == static_cast<double>(static_cast<int64_t>(d))) {
          AppendInt(out_, static_cast<int64_t>(d));
          return Status::Ok();
        }
        return Error("= " + in.dump() + " is not an integer; record durations in ms and money in micros");
      }
      case T::boolean:
        out_ += in.get<bool>() ? "true" : "false";
        return Status::Ok();
      case T::null:
        out_ += "null";
        return Status::Ok();
      default:
        return Error("has a type JSON text cannot carry (binary)");
    }
  }

 private:
  static constexpr int kMaxDepth = 256;  // CanonChecker's limit: whatever is written also verifies

  // Is the value at path_ a secret? By key name anywhere, or by a configured path (arrays are transparent).
  bool Redacted() const {
    if (redaction_ == nullptr) return false;
    std::string lower = *path_.back();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& k : redaction_->keys) {
      if (k == lower) return true;
    }
    for (const auto& p : redaction_->paths) {
      if (p.size() != path_.size()) continue;
      bool match = true;
      for (size_t i = 0; match && i < p.size(); ++i) match = p[i] == "*" || p[i] == *path_[i];
      if (match) return true;
    }
    return false;
  }

  // {"$redacted":true,"len":N}: N is the length of the string, or of the canonical text of any other value. No
  // digest: a hash of a short secret can be brute-forced.
  Status AppendRedacted(const nlohmann::json& v) {
    size_t len = 0;
    if (v.is_string()) {
      len = v.get_ref<const std::string&>().size();
    } else {
      std::string tmp;
      WARDEN_RETURN_IF_ERROR(CanonWriter(tmp, SIZE_MAX, nullptr).Value(v, 0));
      len = tmp.size();
    }
    out_ += "{\"$redacted\":true,\"len\":";
    AppendInt(out_, static_cast<int64_t>(len));
    out_ += '}';
    return Status::Ok();
  }

  // Built only on the error path: the field's location as $.a.b.
  Status Error(const std::string& what) const {
    std::string where = "$";
    for (const std::string* k : path_) where += "." + *k;
    return Status::InvalidArgument("audit body field " + where + " " + what);
  }

  std::string& out_;
  size_t max_string_;
  const Redaction* redaction_;
  std::vector<const std::string*> path_;
};

void AppendString(std::string& out, const std::optional<std::string_view>& s) {
  if (!s) {
    out += "null";
  } else {
    AppendEscaped(out, *s);
  }
}

std::optional<std::string_view> View(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

}  // namespace

Result<std::string> Canonical(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("audit body cannot be written as JSON: ") + e.what());
  }
}

Redaction Redaction::FromOptions(const std::vector<std::string>& paths, const std::vector<std::string>& keys) {
  Redaction r;
  for (std::string p : paths) {
    if (p.rfind("$.", 0) == 0) p = p.substr(2);
    std::vector<std::string> parts;
    for (size_t a = 0;;) {
      const size_t b = p.find('.', a);
      parts.push_back(p.substr(a, b == std::string::npos ? std::string::npos : b - a));
      if (b == std::string::npos) break;
      a = b + 1;
    }
    r.paths.push_back(std::move(parts));
  }
  for (std::string k : keys) {
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.keys.push_back(std::move(k));
  }
  return r;
}

Result<std::string> CanonicalBody(const nlohmann::json& body, size_t max_string_bytes, size_t max_body_bytes,
                                  const Redaction* redaction) {
  if (!body.is_object() && !body.is_null()) {
    return Status::InvalidArgument("audit body must be a JSON object, got " + std::string(body.type_name()));
  }
  std::string text;
  if (body.is_null()) {
    text = "{}";
  } else {
    text.reserve(256);
    WARDEN_RETURN_IF_ERROR(CanonWriter(text, max_string_bytes, redaction).Value(body, 0));
  }
  if (text.size() > max_body_bytes) {
    std::string capped;
    AppendTrunc(capped, text, max_body_bytes);
    return capped;
  }
  return text;
}

void RowContentText(const RowView& row, std::string& out, size_t* body_offset) {
  out += "{\"action\":";
  AppendString(out, row.action);
  out += ",\"body\":";
  if (body_offset) *body_offset = out.size();
  out += row.body;
  out += ",\"decision\":";
  AppendString(out, row.decision);
  out += ",\"event_id\":";
  AppendEscaped(out, row.event_id);
  out += ",\"kind\":";
  AppendEscaped(out, row.kind);
  out += ",\"policy_set\":";
  AppendString(out, row.policy_set);
  out += ",\"principal_id\":";
  AppendEscaped(out, row.principal_id);
  out += ",\"skill\":";
  AppendString(out, row.skill);
  out += ",\"task_id\":";
  AppendString(out, row.task_id);
  out += ",\"tenant_id\":";
  AppendEscaped(out, row.tenant_id);
  out += ",\"ts_ns\":";
  AppendInt(out, row.ts_ns);
  out += "}";
}

void RowContentText(const RowFields& row, std::string& out) {
  RowView v;
  v.event_id = row.event_id;
  v.ts_ns = row.ts_ns;
  v.kind = row.kind;
  v.tenant_id = row.tenant_id;
  v.principal_id = row.principal_id;
  v.task_id = View(row.task_id);
  v.skill = View(row.skill);
  v.action = View(row.action);
  v.decision = View(row.decision);
  v.policy_set = View(row.policy_set);
  v.body = row.body;
  RowContentText(v, out);
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
  return Sha256(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf)));
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

namespace {

// Bumped in a forked child, so a generator copied across fork() reseeds instead of repeating the parent's ids.
std::atomic<uint64_t> g_fork_generation{0};

std::mt19937_64& IdGenerator() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1); }); });
  thread_local std::mt19937_64 rng;
  thread_local uint64_t generation = ~uint64_t{0};
  const uint64_t now = g_fork_generation.load(std::memory_order_relaxed);
  if (generation != now) {
    uint64_t seed[4];
    randombytes_buf(seed, sizeof(seed));
    std::seed_seq seq{seed[0], seed[1], seed[2], seed[3]};
    rng.seed(seq);
    generation = now;
  }
  return rng;
}

}  // namespace

std::string NewEventId(int64_t ts_ns) {
  // Event ids must be unique, not secret: a per-thread generator seeded from the OS avoids a getrandom() system
  // call per event (about 1 us of the producer's budget) while keeping 74 random bits per id.
  std::mt19937_64& rng = IdGenerator();
  uint8_t b[16];
  const uint64_t r0 = rng(), r1 = rng();
  std::memcpy(b, &r0, 8);
  std::memcpy(b + 8, &r1, 8);
  const uint64_t ms = static_cast<uint64_t>(ts_ns / 1'000'000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes of 8-4-4-4-12
    id[o++] = kDigits[b[i] >> 4];
    id[o++] = kDigits[b[i] & 15];
  }
  return id;
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
        return String(nullptr);
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
  // Checks one string and that its escaping is the canonical one. `out` receives the decoded text, which only keys
  // need (they are compared decoded): values pass nullptr and are checked in place, without a copy.
  bool String(std::string* out) {
    ++pos_;  // opening quote
    size_t run = pos_;  // start of the current stretch of literal bytes
    auto flush = [&](size_t end) {
      if (!ValidUtf8(s_.substr(run, end - run))) return false;
      if (out) out->append(s_.data() + run, end - run);
      return true;
    };
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        if (!flush(pos_)) return false;
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        ++pos_;
        continue;
      }
      // A multi-byte character never contains '\\' (0x5C), so the stretch before it ends on a character boundary.
      if (!flush(pos_)) return false;
      if (++pos_ >= s_.size()) return false;
      char decoded;
      switch (s_[pos_]) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u': {
          // Only control characters without a short form are written as \u00xx, in lowercase hex.
          if (pos_ + 4 >= s_.size() || s_[pos_ + 1] != '0' || s_[pos_ + 2] != '0') return false;
          const char h = s_[pos_ + 3], l = s_[pos_ + 4];
          if (h != '0' && h != '1') return false;
          const bool lower = (l >= '0' && l <= '9') || (l >= 'a' && l <= 'f');
          if (!lower) return false;
          const int v = (h - '0') * 16 + (l <= '9' ? l - '0' : l - 'a' + 10);
          if (v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t') return false;
          decoded = static_cast<char>(v);
          pos_ += 4;
          break;
        }
        default: return false;
      }
      if (out) *out += decoded;
      ++pos_;
      run = pos_;
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
      if (!String(&key)) return false;
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
