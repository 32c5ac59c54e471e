// Matchers of rule scopes (policy-audit.md A.8.3): action names, identifiers, segment globs for paths and
// principals, name globs, host patterns, CIDRs. All byte-wise: no Unicode folding, so look-alikes never match.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "policies/policy_internal.h"

namespace warden::policy::detail {

std::optional<int> ActionIndex(std::string_view name) {
  for (size_t i = 0; i < kActions.size(); ++i) {
    if (kActions[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<uint32_t> ActionMask(std::string_view pattern) {
  if (pattern == "*") return (1u << kActions.size()) - 1;
  if (pattern.size() > 2 && pattern.substr(pattern.size() - 2) == ".*") {
    const auto group = pattern.substr(0, pattern.size() - 1);  // "fs."
    uint32_t mask = 0;
    for (size_t i = 0; i < kActions.size(); ++i) {
      if (kActions[i].substr(0, group.size()) == group) mask |= 1u << i;
    }
    if (mask == 0) return std::nullopt;
    return mask;
  }
  auto i = ActionIndex(pattern);
  if (!i) return std::nullopt;
  return 1u << *i;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

void SplitSegmentsInto(std::string_view s, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == '/') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != '/') ++j;
    if (j > i) out->push_back(s.substr(i, j - i));
    i = j;
  }
}

std::vector<std::string_view> SplitSegments(std::string_view s) {
  std::vector<std::string_view> out;
  SplitSegmentsInto(s, &out);
  return out;
}

namespace {

// `*` and `?` within one string, iterative with one backtrack point (linear in practice).
bool WildMatch(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// Two or more `**` runs: backtracking over where each run ends (patterns of this shape are rare).
bool SegmentGlobMatchGeneral(const std::vector<std::string_view>& pat, size_t pi,
                             const std::vector<std::string_view>& s, size_t si) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      while (pi + 1 < pat.size() && pat[pi + 1] == "**") ++pi;
      if (pi + 1 == pat.size()) return true;
      for (size_t k = si; k <= s.size(); ++k) {
        if (SegmentGlobMatchGeneral(pat, pi + 1, s, k)) return true;
      }
      return false;
    }
    if (si >= s.size() || !WildMatch(pat[pi], s[si])) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

}  // namespace

std::optional<SegmentGlob> SegmentGlob::Compile(std::string_view pattern, bool ci, std::string* error) {
  if (pattern.empty()) {
    *error = "empty glob";
    return std::nullopt;
  }
  if (pattern.find('\0') != std::string_view::npos) {
    *error = "NUL byte in glob";
    return std::nullopt;
  }
  SegmentGlob g;
  g.text_ = std::string(pattern);
  g.ci_ = ci;
  for (auto seg : SplitSegments(pattern)) {
    if (seg != "**" && seg.find("**") != std::string_view::npos) {
      *error = "\"**\" must be a whole segment (got \"" + std::string(seg) + "\")";
      return std::nullopt;
    }
    std::string text = ci ? AsciiLower(seg) : std::string(seg);
    const bool literal = text.find_first_of("*?") == std::string::npos;
    g.segs_.push_back({std::move(text), literal});
  }
  // Runs of `**` ("**/**" is one run): none, one, or more.
  size_t first = g.segs_.size(), last = 0, runs = 0;
  for (size_t i = 0; i < g.segs_.size(); ++i) {
    if (g.segs_[i].text != "**") continue;
    if (i == 0 || g.segs_[i - 1].text != "**") ++runs;
    first = std::min(first, i);
    last = i;
  }
  if (runs == 1) {
    g.kind_ = 1;
    g.head_ = first;
    g.tail_ = g.segs_.size() - last - 1;
  } else {
    g.kind_ = runs == 0 ? 0 : 2;
  }
  return g;
}

bool SegmentGlob::Match(const std::vector<std::string_view>& s) const {
  auto seg = [&](size_t pi, size_t si) {
    const Seg& p = segs_[pi];
    return p.literal ? std::string_view(p.text) == s[si] : WildMatch(p.text, s[si]);
  };
  switch (kind_) {
    case 0:
      if (s.size() != segs_.size()) return false;
      for (size_t i = 0; i < s.size(); ++i) {
        if (!seg(i, i)) return false;
      }
      return true;
    case 1: {
      // The tail first: for `**/x` patterns the last segment decides almost every call.
      if (s.size() < head_ + tail_) return false;
      const size_t pt = segs_.size() - tail_, st = s.size() - tail_;
      for (size_t i = tail_; i-- > 0;) {
        if (!seg(pt + i, st + i)) return false;
      }
      for (size_t i = 0; i < head_; ++i) {
        if (!seg(i, i)) return false;
      }
      return true;
    }
    default: {
      std::vector<std::string_view> pat;
      pat.reserve(segs_.size());
      for (const auto& p : segs_) pat.emplace_back(p.text);
      return SegmentGlobMatchGeneral(pat, 0, s, 0);
    }
  }
}

std::optional<std::string> SegmentGlob::LiteralPrefix(size_t n) const {
  if (segs_.size() < n) return std::nullopt;
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    if (!segs_[i].literal) return std::nullopt;
    key += (i ? "/" : "") + segs_[i].text;
  }
  return key;
}

std::optional<std::string> SegmentGlob::LastExtension() const {
  if (segs_.empty() || segs_.back().text == "**") return std::nullopt;
  const std::string& last = segs_.back().text;
  const auto dot = last.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string ext = last.substr(dot + 1);
  // A wildcard after the last '.' could match further dots: the subject's extension would not be fixed.
  if (ext.find_first_of("*?") != std::string::npos) return std::nullopt;
  return ext;
}

std::string_view DomainKey(std::string_view host) {
  const auto last = host.rfind('.');
  if (last == std::string_view::npos || last == 0) return host;
  const auto prev = host.rfind('.', last - 1);
  return prev == std::string_view::npos ? host : host.substr(prev + 1);
}

bool NameGlobMatch(std::string_view pattern, std::string_view name) { return WildMatch(pattern, name); }

bool HostMatch(const HostPattern& p, std::string_view host) {
  if (!p.wildcard) return host == p.suffix;
  // "*.example.com": at least one more label, joined at a label boundary; the apex never matches.
  return host.size() > p.suffix.size() && host.substr(host.size() - p.suffix.size()) == p.suffix &&
         host[host.size() - p.suffix.size() - 1] != '.';
}

std::optional<IpAddr> ParseIp(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  // inet_pton wants a C string; the longest textual address (IPv6 with an IPv4 tail) is 45 bytes.
  char t[64];
  if (text.empty() || text.size() >= sizeof t || text.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(t, text.data(), text.size());
  t[text.size()] = '\0';
  IpAddr ip;
  if (inet_pton(AF_INET, t, ip.bytes.data()) == 1) {
    ip.family = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, t, ip.bytes.data()) == 1) {
    ip.family = 6;
    // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address: deny CIDRs must not be dodged by the mapping.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
      IpAddr v4;
      v4.family = 4;
      std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
      return v4;
    }
    return ip;
  }
  return std::nullopt;
}

std::optional<Cidr> ParseCidr(std::string_view text) {
  const auto slash = text.find('/');
  auto ip = ParseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const int max = ip->family == 4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > max) return std::nullopt;
  }
  return Cidr{*ip, prefix};
}

bool CidrContains(const Cidr& c, const IpAddr& ip) {
  if (c.net.family != ip.family) return false;
  int bits = c.prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((c.net.bytes[i] & mask) != (ip.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<std::vector<PathStep>> ParseJsonPath(std::string_view t, std::string* error) {
  if (t.empty() || t[0] != '$') {
    *error = "path must start with \"$\" (e.g. \"$.args.argv[0]\")";
    return std::nullopt;
  }
  std::vector<PathStep> steps;
  size_t i = 1;
  while (i < t.size()) {
    if (t[i] == '.') {
      size_t j = ++i;
      while (j < t.size() && t[j] != '.' && t[j] != '[') ++j;
      if (j == i) {
        *error = "empty name after \".\" at offset " + std::to_string(i);
        return std::nullopt;
      }
      steps.push_back({false, std::string(t.substr(i, j - i)), 0});
      i = j;
    } else if (t[i] == '[' && i + 1 < t.size() && t[i + 1] == '"') {
      const auto end = t.find("\"]", i + 2);
      if (end == std::string_view::npos) {
        *error = "unterminated [\"...\"] at offset " + std::to_string(i);
        return std::nullopt;
      }
      steps.push_back({false, std::string(t.substr(i + 2, end - i - 2)), 0});
      i = end + 2;
    } else if (t[i] == '[') {
      size_t j = i + 1;
      size_t n = 0;
      while (j < t.size() && t[j] >= '0' && t[j] <= '9' && j - i <= 9) n = n * 10 + static_cast<size_t>(t[j++] - '0');
      if (j == i + 1 || j >= t.size() || t[j] != ']') {
        *error = "expected [N] or [\"key\"] at offset " + std::to_string(i) + " (no wildcards or filters)";
        return std::nullopt;
      }
      steps.push_back({true, "", n});
      i = j + 1;
    } else {
      *error = "unexpected '" + std::string(1, t[i]) + "' at offset " + std::to_string(i);
      return std::nullopt;
    }
    if (steps.size() > 32) {
      *error = "path deeper than 32 steps";
      return std::nullopt;
    }
  }
  return steps;
}

const nlohmann::json* Lookup(const nlohmann::json& root, const std::vector<PathStep>& path) {
  const nlohmann::json* cur = &root;
  for (const auto& s : path) {
    if (s.is_index) {
      if (!cur->is_array() || s.index >= cur->size()) return nullptr;
      cur = &(*cur)[s.index];
    } else {
      cur = Member(*cur, s.key);
      if (cur == nullptr) return nullptr;
    }
  }
  return cur;
}

}  // namespace warden::policy::detail
