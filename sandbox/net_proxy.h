// Internals of the opt-in network profile "net" (../shared/docs/sandbox.md C.4, probes 29, 30, 51): the host
// allowlist (net_allowlist.cpp), the supervisor-side HTTP proxy (net_proxy.cpp) and the child-side step that
// creates the proxy's listening socket inside the sandbox's network namespace (net_bridge.cpp). Only run.cpp,
// spawn.cpp, landlock.cpp and the tests include this file; callers see Spec::allowed_hosts and friends.
//
// The path of one connection: the program connects to 127.0.0.1:kProxyPort inside its own, otherwise empty,
// network namespace. That listening socket was made by the child before it dropped its capabilities and handed to
// the supervisor over SCM_RIGHTS, so the kernel itself is the bridge: no relay process and no socket file inside
// the sandbox, and no host port is shared with it. The supervisor accepts, reads one CONNECT (or an absolute-URI
// plain-HTTP request), decides against the allowlist, resolves the name itself, checks the addresses and then
// splices bytes both ways. Every request, allowed or not, becomes a Violation of kind "net".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/base/result.h"
#include "sandbox/sandbox.h"

namespace warden::sandbox::detail {

// The port the proxy listens on inside the sandbox (the conventional proxy port; the namespace is private, so it
// collides with nothing on the host). Landlock ABI >= 4 lets the program connect to this TCP port only.
constexpr uint16_t kProxyPort = 3128;

// ---- net_allowlist.cpp ------------------------------------------------------------------------------------
// One "host:port" pattern. host is lower-case without a trailing dot; "*.example.com" matches names strictly below
// example.com; an IP literal ("10.0.0.1", "[::1]") matches only that address, written in any form inet_pton
// reads. port 0 = any port ("host:*").
struct HostPattern {
  std::string host;      // "example.com", "example.com" for "*.example.com" (wildcard = true), "::1"
  bool wildcard = false;
  bool is_ip = false;    // host is a normalised IP literal
  uint16_t port = 0;
  std::string text;      // as written, for reasons and records
};

// Parses "host:port", "*.suffix:port", "1.2.3.4:port", "[v6]:port"; port may be "*". `field` names the source in
// errors ("allowed_hosts[2]").
Result<HostPattern> ParseHostPattern(const std::string& text, const std::string& field);

// What the allowlist says about one request.
struct NetVerdict {
  bool allow = false;
  std::string rule;    // the pattern that decided ("" when nothing matched)
  std::string reason;  // one sentence for the 403 body and the record
};

class NetAllowlist {
 public:
  // Errors name the offending entry and say what form is expected.
  static Result<NetAllowlist> Parse(const std::vector<std::string>& allowed, const std::vector<std::string>& denied);
  // Deny wins over allow; an IP literal must be listed as one (names and wildcards never admit it); nothing listed
  // = deny. `host` is lower-cased and stripped of one trailing dot by the caller (NormaliseHost).
  NetVerdict Check(const std::string& host, uint16_t port) const;
  // True when an address a listed *name* resolved to may be used: public addresses always; loopback, private,
  // link-local, CGNAT, multicast and unspecified ones only when that very address is allowed as an IP literal
  // (deny still wins). Stops DNS rebinding and SSRF into the host's own networks.
  bool AddressAllowed(const sockaddr* addr, uint16_t port, std::string* why) const;

 private:
  std::vector<HostPattern> allow_, deny_;
};

// Lower-case, one trailing dot dropped, IPv6 brackets removed; "" when the name has characters no host name or
// IP literal has.
std::string NormaliseHost(const std::string& host);
// The canonical text of an IP literal ("::ffff:127.0.0.1" stays IPv6 text), or "" when `host` is not one.
std::string IpLiteral(const std::string& host);
// Loopback, RFC 1918, link-local, CGNAT (100.64/10), 0/8, multicast, broadcast, IPv6 ::1, ::, fc00::/7, fe80::/10,
// multicast, and IPv4-mapped/compatible forms of all of these.
bool IsNonPublicAddress(const sockaddr* addr);

// ---- net_proxy.cpp ----------------------------------------------------------------------------------------
// One request head as the proxy reads it (the bytes come from the sandboxed program: untrusted, fuzzed by
// tests/fuzz/net_proxy_fuzz.cpp).
struct ProxyRequest {
  bool tunnel = false;  // CONNECT host:port
  std::string method, target, version;
  std::string host;     // as written in the request (brackets of an IPv6 literal kept)
  uint16_t port = 0;
  std::string path;     // absolute-URI requests: the origin-form path ("/" when the URI has none)
  uint64_t content_length = 0;  // plain-HTTP requests: the body's length (Content-Length; 0 without one)
  bool chunked = false;         // a Transfer-Encoding header was sent (plain HTTP forwards only Content-Length bodies)
};
// Parses `head` (the request line and headers up to and including the last "\r\n" before the blank line). False
// with *error set to the one-line reason for a 400 otherwise: a target with spaces or control bytes, a version other
// than HTTP/1.0 or 1.1, a bare CR or LF anywhere in the head, or conflicting Content-Length values — the shapes a
// smuggled second request would need.
bool ParseProxyRequest(const std::string& head, ProxyRequest* out, std::string* error);
// The head to send on: `request_line`, the headers of `head` without Host, Proxy-*, Connection and Keep-Alive, then
// "Host: `authority`" (the host the allowlist decided on, so a virtual-host front end cannot be steered elsewhere)
// and "Connection: close" (one request per connection keeps the decision per request).
std::string ForwardHead(const std::string& request_line, const std::string& head, const std::string& authority);

// The supervisor-side proxy of one run. Thread-safe: Start and Stop are called by the run loop; each accepted
// connection is served by its own thread (at most kMaxConnections at once; up to as many more only get a 503);
// records are appended under a mutex.
class NetProxy {
 public:
  static constexpr size_t kMaxConnections = 32;
  static constexpr size_t kMaxHeadBytes = 16 << 10;

  // Validates the spec's allowed_hosts, denied_hosts and upstream_proxy.
  static Result<std::unique_ptr<NetProxy>> Create(const Spec& spec);
  ~NetProxy();  // Stop()
  NetProxy(const NetProxy&) = delete;
  NetProxy& operator=(const NetProxy&) = delete;

  // Starts serving `listener` (a listening TCP socket; ownership passes to the proxy). Times in the records are
  // measured from `t0`. A second call closes the extra socket.
  void Start(int listener, std::chrono::steady_clock::time_point t0);
  // Closes the listener and every open connection, waits for their threads and returns the first kept records in
  // arrival order; *total (when given) counts every request, kept or not. Idempotent.
  std::vector<Violation> Stop(uint64_t* total);
  // The environment the program gets: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (and lower-case forms), NO_PROXY empty.
  static std::vector<std::string> Environment();

 private:
  NetProxy() = default;
  void AcceptLoop();
  void Serve(int client);
  void Record(const std::string& host, uint16_t port, bool allow, const std::string& detail);

  NetAllowlist allowlist_;
  std::string upstream_host_;  // "" = connect directly
  uint16_t upstream_port_ = 0;
  double connect_timeout_s_ = 10;

  int listener_ = -1;
  int stop_pipe_[2] = {-1, -1};  // written once by Stop; every poll loop watches the read end
  std::chrono::steady_clock::time_point t0_;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable done_cv_;  // signalled when a connection thread ends
  size_t active_ = 0;                // live connection threads; guarded by mu_
  std::vector<Violation> records_;   // guarded by mu_
  uint64_t total_ = 0;               // guarded by mu_
  bool stopped_ = false;             // guarded by mu_
};

}  // namespace warden::sandbox::detail
