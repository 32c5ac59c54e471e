// The host allowlist of the network profile (../shared/docs/sandbox.md C.4): "host:port" patterns with exact names,
// "*.suffix" wildcards and IP literals, a deny list that wins, and the address check that keeps a listed name from
// resolving into loopback, private or link-local space (DNS rebinding, cloud metadata). Pure functions: no I/O.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "sandbox/net_proxy.h"

namespace warden::sandbox::detail {
namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// A host name as DNS allows it: labels of 1-63 characters, no empty label, at most 253 characters.
bool IsHostName(const std::string& h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.' || h.front() == '-') return false;
  size_t label = 0;
  for (char c : h) {
    if (!IsHostChar(c)) return false;
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return true;
}

bool ParsePort(const std::string& text, uint16_t* port) {
  if (text == "*") {
    *port = 0;
    return true;
  }
  if (text.empty() || text.size() > 5) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  unsigned long v = std::stoul(text);
  if (v == 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool V4NonPublic(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) || in(0x0a000000, 8) || in(0x7f000000, 8) || in(0xa9fe0000, 16) ||
         in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10) || in(0xc0000000, 24) ||
         in(0xc6120000, 15) || in(0xe0000000, 4) || in(0xf0000000, 4);
}

bool Matches(const HostPattern& p, const std::string& host, bool host_is_ip, uint16_t port) {
  if (p.port != 0 && p.port != port) return false;
  if (p.is_ip || host_is_ip) return p.is_ip && host_is_ip && p.host == host;
  if (!p.wildcard) return p.host == host;
  // "*.example.com" admits "a.example.com" and "a.b.example.com", never "example.com" or "evil-example.com".
  return host.size() > p.host.size() + 1 && host.compare(host.size() - p.host.size(), p.host.size(), p.host) == 0 &&
         host[host.size() - p.host.size() - 1] == '.';
}

// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address
// that the kernel or a gateway may reach: rules about that address apply to them too. Host byte order.
bool EmbeddedV4(const in6_addr& a, uint32_t* v4) {
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t* b = a.s6_addr;
  if (!IN6_IS_ADDR_V4MAPPED(&a) && !IN6_IS_ADDR_V4COMPAT(&a) && std::memcmp(b, kNat64, 12) != 0) return false;
  *v4 = (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
  return true;
}

std::string AddressText(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof(buf));
  } else if (addr->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

}  // namespace

std::string NormaliseHost(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!h.empty() && h.back() == '.') h.pop_back();
  if (std::string ip = IpLiteral(h); !ip.empty()) return ip;
  return IsHostName(h) ? h : "";
}

std::string IpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_pton(AF_INET, host.c_str(), buf) == 1) {
    ::inet_ntop(AF_INET, buf, text, sizeof(text));
    return text;
  }
  if (::inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    ::inet_ntop(AF_INET6, buf, text, sizeof(text));
    return text;
  }
  return "";
}

bool IsNonPublicAddress(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return V4NonPublic(ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr));
  }
  if (addr->sa_family != AF_INET6) return true;
  const auto& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
  const uint8_t* b = a.s6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
      IN6_IS_ADDR_MULTICAST(&a) || (b[0] & 0xfe) == 0xfc) {
    return true;
  }
  uint32_t v4 = 0;
  return EmbeddedV4(a, &v4) && V4NonPublic(v4);
}

Result<HostPattern> ParseHostPattern(const std::string& text, const std::string& field) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(field + " \"" + text + "\": " + why +
                                   "; expected HOST:PORT, *.SUFFIX:PORT, an IP literal such as 10.0.0.1:443 or "
                                   "[2001:db8::1]:443, and PORT may be *");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no port");
  std::string host = text.substr(0, colon);
  HostPattern p;
  p.text = text;
  if (!ParsePort(text.substr(colon + 1), &p.port)) return bad("port must be 1-65535 or *");
  if (host.find(':') != std::string::npos && !(host.front() == '[' && host.back() == ']')) {
    return bad("an IPv6 address must be written in brackets");
  }
  if (host.rfind("*.", 0) == 0) {
    p.wildcard = true;
    host = host.substr(2);
  }
  if (host.find('*') != std::string::npos) return bad("'*' is allowed only as the whole first label (*.example.com)");
  p.host = NormaliseHost(host);
  if (p.host.empty()) return bad("not a host name or IP literal");
  p.is_ip = !IpLiteral(p.host).empty();
  if (p.is_ip && p.wildcard) return bad("a wildcard cannot cover an IP address");
  if (p.wildcard && p.host.find('.') == std::string::npos) {
    return bad("a wildcard needs at least two labels after '*.' (e.g. *.example.com, not *.com)");
  }
  return p;
}

Result<NetAllowlist> NetAllowlist::Parse(const std::vector<std::string>& allowed,
                                         const std::vector<std::string>& denied) {
  NetAllowlist list;
  for (size_t i = 0; i < allowed.size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(auto p, ParseHostPattern(allowed[i], "allowed_hosts[" + std::to_string(i) + "]"));
    list.allow_.push_back(std::move(p));
  }
  for (size_t i = 0; i < denied.size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(auto p, ParseHostPattern(denied[i], "denied_hosts[" + std::to_string(i) + "]"));
    list.deny_.push_back(std::move(p));
  }
  return list;
}

NetVerdict NetAllowlist::Check(const std::string& host, uint16_t port) const {
  const std::string target = host + ":" + std::to_string(port);
  if (host.empty()) return {false, "", "the request names no valid host"};
  const bool is_ip = !IpLiteral(host).empty();
  for (const auto& p : deny_) {
    if (Matches(p, host, is_ip, port)) return {false, p.text, target + " matches the deny entry " + p.text};
  }
  for (const auto& p : allow_) {
    if (Matches(p, host, is_ip, port)) return {true, p.text, target + " matches the allow entry " + p.text};
  }
  if (is_ip) return {false, "", target + " is an IP address that is not listed (IP literals must be listed as such)"};
  return {false, "", target + " is not in this task's network allowlist"};
}

bool NetAllowlist::AddressAllowed(const sockaddr* addr, uint16_t port, std::string* why) const {
  const std::string ip = AddressText(addr);
  NetVerdict literal = Check(ip, port);
  // An IPv6 form carrying an IPv4 address is also judged as that address, so a deny of 1.2.3.4 covers ::ffff:1.2.3.4.
  uint32_t v4 = 0;
  if (literal.rule.empty() && addr->sa_family == AF_INET6 &&
      EmbeddedV4(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, &v4)) {
    in_addr embedded{htonl(v4)};
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &embedded, text, sizeof(text));
    NetVerdict as_v4 = Check(text, port);
    if (!as_v4.allow && !as_v4.rule.empty()) literal = as_v4;
  }
  if (!literal.allow && !literal.rule.empty()) {  // an explicit deny of the address wins over the name's allow
    *why = "it resolves to " + ip + ", which " + literal.reason.substr(literal.reason.find(" matches") + 1);
    return false;
  }
  if (!IsNonPublicAddress(addr) || literal.allow) return true;
  *why = "it resolves to the non-public address " + ip + " (loopback, private or link-local); list " +
         (addr->sa_family == AF_INET6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port) +
         " as well to allow it";
  return false;
}

}  // namespace warden::sandbox::detail
