// libFuzzer target for what the sandbox's egress proxy reads from the sandboxed program (sandbox/net_proxy.cpp,
// net_allowlist.cpp): any bytes as a request head must parse or be refused with a reason, never crash; a parsed
// request's host must normalise and be decided (deny when not listed), and the forwarded head must keep the request
// line and end in "Connection: close". The same bytes, split at newlines, are tried as allowlist entries: each
// parses or is refused with a message naming it. Seeds: a few CONNECT / GET heads (bench/fuzz/run_fuzzers.sh).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sandbox/net_proxy.h"

using namespace warden::sandbox::detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32 * 1024) return 0;
  const std::string head(reinterpret_cast<const char*>(data), size);
  static const NetAllowlist kList = *NetAllowlist::Parse({"example.com:443", "*.example.org:*", "10.0.0.1:80",
                                                          "[2001:db8::1]:443"},
                                                         {"evil.example.org:*"});
  ProxyRequest req;
  std::string error;
  if (!ParseProxyRequest(head, &req, &error)) {
    if (error.empty()) __builtin_trap();
  } else {
    if (req.port == 0 || req.host.empty()) __builtin_trap();
    const std::string host = NormaliseHost(req.host);
    NetVerdict v = kList.Check(host, req.port);
    if (v.reason.empty()) __builtin_trap();
    if (host.empty() && v.allow) __builtin_trap();  // an unreadable host is never admitted
    const std::string line = req.method + " " + req.path + " " + req.version;
    const std::string out = ForwardHead(line, head, req.host);
    if (out.compare(0, line.size() + 2, line + "\r\n") != 0) __builtin_trap();
    if (out.size() < 21 || out.compare(out.size() - 21, 21, "Connection: close\r\n\r\n") != 0) __builtin_trap();
  }
  size_t start = 0;
  for (int i = 0; i < 8 && start <= head.size(); ++i) {
    size_t end = head.find('\n', start);
    if (end == std::string::npos) end = head.size();
    auto p = ParseHostPattern(head.substr(start, end - start), "fuzz");
    if (!p.ok() && p.status().message().find("fuzz") == std::string::npos) __builtin_trap();
    if (p.ok() && p->host.empty()) __builtin_trap();
    start = end + 1;
  }
  return 0;
}
