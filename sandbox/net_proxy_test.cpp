// Profile "net" (sandbox.md C.4): the allowlist and address rules as pure functions, the proxy served in-process
// against a loopback FakeUpstream, and probes 29, 30 and 51 run through the executor with python3 as the client.
#include "sandbox/net_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "sandbox/probe_test_util.h"
#include "tests/doubles/fake_upstream.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

using detail::NetAllowlist;
using warden::testing::FakeUpstream;

NetAllowlist List(const std::vector<std::string>& allow, const std::vector<std::string>& deny = {}) {
  auto l = NetAllowlist::Parse(allow, deny);
  INFO((l.ok() ? "" : l.status().message()));
  REQUIRE(l.ok());
  return *l;
}

bool Allows(const NetAllowlist& l, const std::string& host, uint16_t port) {
  return l.Check(detail::NormaliseHost(host), port).allow;
}

sockaddr_storage Addr(const std::string& ip) {
  sockaddr_storage s{};
  if (ip.find(':') == std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in*>(&s);
    a->sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, ip.c_str(), &a->sin_addr) == 1);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&s);
    a->sin6_family = AF_INET6;
    REQUIRE(::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) == 1);
  }
  return s;
}

bool NonPublic(const std::string& ip) {
  auto s = Addr(ip);
  return detail::IsNonPublicAddress(reinterpret_cast<sockaddr*>(&s));
}

TEST_CASE("net allowlist: exact names, wildcard edges, ports, deny wins, IP literals", "[sandbox][net]") {
  auto l = List({"api.example.com:443", "*.example.org:443", "Docs.Example.NET:*", "10.1.2.3:80", "[2001:db8::1]:443"},
                {"evil.example.org:*"});
  CHECK(Allows(l, "api.example.com", 443));
  CHECK(Allows(l, "API.EXAMPLE.COM.", 443));  // case and one trailing dot do not matter
  CHECK_FALSE(Allows(l, "api.example.com", 80));
  CHECK_FALSE(Allows(l, "x.api.example.com", 443));
  // *.example.org: strictly below, never the apex or a look-alike.
  CHECK(Allows(l, "a.example.org", 443));
  CHECK(Allows(l, "a.b.example.org", 443));
  CHECK_FALSE(Allows(l, "example.org", 443));
  CHECK_FALSE(Allows(l, "evil-example.org", 443));
  CHECK_FALSE(Allows(l, "aexample.org", 443));
  CHECK_FALSE(Allows(l, "example.org.evil.com", 443));
  CHECK_FALSE(Allows(l, "evil.example.org", 443));  // deny wins over the wildcard
  CHECK(l.Check("evil.example.org", 443).rule == "evil.example.org:*");
  CHECK(Allows(l, "docs.example.net", 1234));       // port *
  // IP literals: only when listed as such; a wildcard or name never admits one.
  CHECK(Allows(l, "10.1.2.3", 80));
  CHECK_FALSE(Allows(l, "10.1.2.4", 80));
  CHECK_FALSE(Allows(l, "127.0.0.1", 443));
  CHECK_THAT(l.Check("127.0.0.1", 443).reason, Catch::Contains("IP address that is not listed"));
  CHECK(Allows(l, "[2001:db8:0:0::1]", 443));        // any spelling of the listed address
  CHECK_FALSE(Allows(l, "[2001:db8::2]", 443));
  CHECK_FALSE(Allows(l, "bad host", 443));            // not a host name at all
  CHECK_FALSE(List({}).Check("example.com", 443).allow);  // nothing listed: nothing allowed
}

TEST_CASE("net allowlist: malformed entries are refused with the entry and the expected form", "[sandbox][net]") {
  for (const char* bad : {"example.com", "example.com:0", "example.com:70000", "example.com:https", "*.com:443",
                          "a.*.example.com:443", "*example.com:443", "*.10.0.0.1:80", "::1:443", ":443", "a b:80"}) {
    auto l = NetAllowlist::Parse({"ok.example:1", bad}, {});
    INFO(bad);
    REQUIRE_FALSE(l.ok());
    CHECK(l.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(l.status().message(), Catch::Contains("allowed_hosts[1]") && Catch::Contains(bad) &&
                                         Catch::Contains("expected HOST:PORT"));
  }
  auto d = NetAllowlist::Parse({}, {"nope"});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.status().message(), Catch::Contains("denied_hosts[0]"));
}

TEST_CASE("net addresses: loopback, private, link-local and mapped forms are non-public", "[sandbox][net]") {
  for (const char* ip : {"127.0.0.1", "127.8.9.1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                         "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::",
                         "fe80::1", "fc00::1", "fd12::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
                         "64:ff9b::10.0.0.1"}) {
    INFO(ip);
    CHECK(NonPublic(ip));
  }
  for (const char* ip : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:2800:220:1::1",
                         "::ffff:8.8.8.8"}) {
    INFO(ip);
    CHECK_FALSE(NonPublic(ip));
  }
  // A listed name may reach a non-public address only when that address is listed too; a deny of the address wins.
  auto meta = Addr("169.254.169.254");
  std::string why;
  CHECK_FALSE(List({"metadata.example:80"}).AddressAllowed(reinterpret_cast<sockaddr*>(&meta), 80, &why));
  CHECK_THAT(why, Catch::Contains("169.254.169.254") && Catch::Contains("non-public"));
  auto* meta_addr = reinterpret_cast<sockaddr*>(&meta);
  CHECK(List({"metadata.example:80", "169.254.169.254:80"}).AddressAllowed(meta_addr, 80, &why));
  auto pub = Addr("93.184.216.34");
  auto* pub_addr = reinterpret_cast<sockaddr*>(&pub);
  CHECK(List({"example.com:80"}).AddressAllowed(pub_addr, 80, &why));
  CHECK_FALSE(List({"example.com:80"}, {"93.184.216.34:*"}).AddressAllowed(pub_addr, 80, &why));
  // The same address in an IPv6 form that carries it (mapped, NAT64) is denied by that entry too.
  for (const char* form : {"::ffff:93.184.216.34", "64:ff9b::93.184.216.34"}) {
    INFO(form);
    auto v6 = Addr(form);
    auto* v6_addr = reinterpret_cast<sockaddr*>(&v6);
    CHECK(List({"example.com:80"}).AddressAllowed(v6_addr, 80, &why));
    CHECK_FALSE(List({"example.com:80"}, {"93.184.216.34:*"}).AddressAllowed(v6_addr, 80, &why));
    CHECK_THAT(why, Catch::Contains("deny entry 93.184.216.34:*"));
  }
}

// ---- the proxy in-process: a host loopback listener stands in for the one made inside the netns ----

struct InProcessProxy {
  std::unique_ptr<detail::NetProxy> proxy;
  int port = 0;
  explicit InProcessProxy(const Spec& spec) {
    auto p = detail::NetProxy::Create(spec);
    REQUIRE(p.ok());
    proxy = std::move(*p);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    proxy->Start(fd, std::chrono::steady_clock::now());
  }
  // Sends `request` (and, after a 200 to a CONNECT, `tunnelled`) and returns everything the proxy sent back.
  std::string Ask(const std::string& request, const std::string& tunnelled = "") const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string got;
    char buf[4096];
    bool sent_tunnel = tunnelled.empty();
    for (;;) {
      if (!sent_tunnel && got.find("\r\n\r\n") != std::string::npos) {
        sent_tunnel = true;
        if (got.rfind("HTTP/1.1 200", 0) != 0) break;
        (void)!::send(fd, tunnelled.data(), tunnelled.size(), MSG_NOSIGNAL);
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return got;
  }
};

TEST_CASE("net proxy: CONNECT and absolute-URI GET to a listed upstream, 403 and 400 otherwise", "[sandbox][net]") {
  FakeUpstream upstream;
  REQUIRE(upstream.port() != 0);
  Spec spec;
  spec.profile = "net";
  spec.allowed_hosts = {upstream.address(), "localhost:" + std::to_string(upstream.port())};
  InProcessProxy p(spec);

  std::string tunnel = p.Ask("CONNECT " + upstream.address() + " HTTP/1.1\r\nHost: x\r\n\r\n",
                             "GET /in-tunnel HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_THAT(tunnel, Catch::StartsWith("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK"));
  CHECK_THAT(tunnel, Catch::EndsWith("{\"fake_upstream\": \"GET\"}"));

  std::string get = p.Ask("GET http://localhost:" + std::to_string(upstream.port()) +
                          "/a?b=1 HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: secret\r\nConnection: "
                          "keep-alive\r\n\r\n");
  CHECK_THAT(get, Catch::StartsWith("HTTP/1.1 200 OK"));
  CHECK(upstream.requests().back() == "GET /a?b=1 HTTP/1.1");  // origin-form to the server
  CHECK_THAT(upstream.last_head(), !Catch::Contains("Proxy-Authorization") && Catch::Contains("Connection: close"));

  std::string denied = p.Ask("CONNECT evil.example:443 HTTP/1.1\r\n\r\n");
  CHECK_THAT(denied, Catch::StartsWith("HTTP/1.1 403 Forbidden"));
  CHECK_THAT(denied, Catch::Contains("evil.example:443 is not in this task's network allowlist"));
  CHECK_THAT(p.Ask("GET /relative HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 400"));
  CHECK_THAT(p.Ask("GET https://x.example/ HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 400"));
  CHECK_THAT(p.Ask("GET http://u:p@localhost/ HTTP/1.1\r\n\r\n"), Catch::Contains("credentials"));

  uint64_t total = 0;
  auto records = p.proxy->Stop(&total);
  REQUIRE(records.size() == 3);  // the three requests that named a host:port; malformed ones never got that far
  CHECK(total == 3);
  CHECK(records[0].kind == "net");
  CHECK(records[0].host == upstream.address());
  CHECK(records[0].action == "allow");
  CHECK_THAT(records[0].detail, Catch::Contains("CONNECT to 127.0.0.1"));
  CHECK(records[1].host == "localhost:" + std::to_string(upstream.port()));
  CHECK(records[1].action == "allow");
  CHECK(records[2].host == "evil.example:443");
  CHECK(records[2].action == "deny");
}

TEST_CASE("net proxy: request heads that could smuggle a second request are refused, Host is rewritten",
          "[sandbox][net]") {
  detail::ProxyRequest r;
  std::string error;
  auto parse = [&](const std::string& head) {
    error.clear();
    return detail::ParseProxyRequest(head, &r, &error);
  };
  REQUIRE(parse("GET http://ok.example/a HTTP/1.1\r\nHost: ok.example\r\nContent-Length: 5\r\n"));
  CHECK(r.content_length == 5);
  CHECK_FALSE(r.chunked);
  CHECK_FALSE(parse("GET http://ok.example/ HTTP/1.1\n\nGET http://evil.example/ HTTP/1.1\r\n"));
  CHECK(error == "a bare CR or LF in the request head");
  CHECK_FALSE(parse("GET http://ok.example/ HTTP/1.1\r\nX: a\rb\r\n"));
  CHECK_FALSE(parse("GET http://ok.example/ HTTP/2\r\n"));
  CHECK_THAT(error, Catch::Contains("HTTP version"));
  CHECK_FALSE(parse("GET http://ok.example/\x01x HTTP/1.1\r\n"));
  CHECK_FALSE(parse("GET http://ok.example/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n"));
  CHECK_THAT(error, Catch::Contains("Content-Length"));
  CHECK_FALSE(parse("GET http://ok.example/ HTTP/1.1\r\nContent-Length: -1\r\n"));
  REQUIRE(parse("POST http://ok.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"));
  CHECK(r.chunked);

  // The client's Host never reaches the server: a virtual-host front end sees the host the allowlist decided on.
  const std::string out = detail::ForwardHead("GET /a HTTP/1.1",
                                              "GET http://ok.example/a HTTP/1.1\r\nHost: evil.example\r\n"
                                              "Accept: */*\r\nProxy-Authorization: x\r\n",
                                              "ok.example:80");
  CHECK(out == "GET /a HTTP/1.1\r\nAccept: */*\r\nHost: ok.example:80\r\nConnection: close\r\n\r\n");

  Spec spec;
  spec.profile = "net";
  spec.allowed_hosts = {"ok.example:80"};
  InProcessProxy p(spec);
  CHECK_THAT(p.Ask("POST http://ok.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 501"));
}

TEST_CASE("net proxy: Stop returns while a tunnel's upstream has stopped reading", "[sandbox][net]") {
  // An upstream that accepts and never reads: the proxy's send to it fills the socket buffers.
  int sink = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(sink, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(sink, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(sink, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string target = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  Spec spec;
  spec.profile = "net";
  spec.allowed_hosts = {target};
  InProcessProxy p(spec);

  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in pa{};
  pa.sin_family = AF_INET;
  pa.sin_port = htons(static_cast<uint16_t>(p.port));
  pa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&pa), sizeof pa) == 0);
  const std::string connect = "CONNECT " + target + " HTTP/1.1\r\n\r\n";
  REQUIRE(::send(client, connect.data(), connect.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(connect.size()));
  char buf[256];
  REQUIRE(::recv(client, buf, sizeof buf, 0) > 0);  // 200 Connection established
  // Push far more than the loopback buffers hold; the proxy's thread ends up waiting to send upstream.
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) {
    if (::send(client, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) <= 0) break;
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  p.proxy->Stop(&total);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  ::close(client);
  ::close(sink);
}

TEST_CASE("net proxy: an upstream proxy gets the allowed requests, absolute URI and CONNECT", "[sandbox][net]") {
  FakeUpstream site_proxy;  // plays a site's egress proxy
  Spec spec;
  spec.profile = "net";
  spec.allowed_hosts = {"example.com:80", "example.com:443"};
  spec.upstream_proxy = site_proxy.address();
  InProcessProxy p(spec);
  CHECK_THAT(p.Ask("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 200 OK"));
  CHECK_THAT(p.Ask("CONNECT example.com:443 HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
             Catch::StartsWith("HTTP/1.1 200 Connection established"));
  CHECK_THAT(p.Ask("CONNECT example.org:443 HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 403"));
  auto seen = site_proxy.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == "GET http://example.com/x HTTP/1.1");
  CHECK(seen[1] == "CONNECT example.com:443 HTTP/1.1");
  CHECK(seen[2] == "GET / HTTP/1.1");
  uint64_t total = 0;
  auto records = p.proxy->Stop(&total);
  REQUIRE(records.size() == 3);
  CHECK_THAT(records[0].detail, Catch::Contains("via upstream proxy " + site_proxy.address()));
  CHECK(records[2].action == "deny");

  Spec bad = spec;
  bad.upstream_proxy = "no-port";
  CHECK_THAT(CheckNetSpec(bad).message(), Catch::Contains("upstream_proxy \"no-port\""));
  bad = spec;
  bad.profile = "default";
  CHECK_THAT(CheckNetSpec(bad).message(), Catch::Contains("need profile \"net\""));
}

// ---- probes 29, 30, 51 through the executor ----

// A python3 client inside the sandbox: for each argument "connect:HOST:PORT", "get:URL" or "direct:IP:PORT" it
// prints one line: the proxy's status line (plus the tunnelled answer's body), or the errno of a direct connect.
constexpr const char* kClient = R"PY(
import os, socket, sys
proxy = os.environ["HTTPS_PROXY"].rsplit(":", 1)
def head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d: break
        data += d
    return data
for arg in sys.argv[1:]:
    kind, target = arg.split(":", 1)
    if kind == "direct":
        ip, port = target.rsplit(":", 1)
        s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
        try:
            s.settimeout(3); s.connect((ip.strip("[]"), int(port))); print(arg, "connected")
        except OSError as e:
            print(arg, "errno", e.errno)
        continue
    s = socket.create_connection((proxy[0].split("//")[1], int(proxy[1])), timeout=5)
    line = "CONNECT %s HTTP/1.1" % target if kind == "connect" else "GET %s HTTP/1.1" % target
    s.sendall((line + "\r\nHost: t\r\n\r\n").encode())
    got = head(s).decode()
    status = got.split("\r\n")[0]
    extra = ""
    if kind == "connect" and " 200 " in status:
        s.sendall(b"GET /tunnelled HTTP/1.1\r\nHost: t\r\n\r\n")
        extra = " | " + s.makefile("rb").read().decode().split("\r\n\r\n", 1)[1]
    elif " 403 " in status:
        extra = " | " + got.split("\r\n\r\n", 1)[1].strip()
    print(arg, status + extra)
)PY";

RunResult RunClient(const Spec& base, const std::vector<std::string>& args) {
  Spec s = base;
  s.profile = "net";
  s.argv = {"python3", "-u", "-c", kClient};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.timeout_s = 20;
  return testing::MustRun(s);
}

std::vector<const Violation*> NetRecords(const RunResult& r) {
  std::vector<const Violation*> out;
  for (const auto& v : r.violations) {
    if (v.kind == "net") out.push_back(&v);
  }
  return out;
}

TEST_CASE("probe 29: CONNECT to an allowed name through the fd-passed proxy answers 200 and is recorded",
          "[sandbox][net][probe]") {
  FakeUpstream upstream;
  const std::string port = std::to_string(upstream.port());
  Spec s;
  s.allowed_hosts = {"localhost:" + port, "127.0.0.1:" + port};  // the loopback fake must be listed by address too
  auto r = RunClient(s, {"connect:localhost:" + port});
  INFO(r.stdout_data << r.stderr_data);
  CHECK(r.exit_kind == "exited");
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_data == "connect:localhost:" + port +
                             " HTTP/1.1 200 Connection established | {\"fake_upstream\": \"GET\"}\n");
  CHECK(upstream.requests() == std::vector<std::string>{"GET /tunnelled HTTP/1.1"});
  auto net = NetRecords(r);
  REQUIRE(net.size() == 1);
  CHECK(net[0]->host == "localhost:" + port);
  CHECK(net[0]->action == "allow");
  CHECK(r.layers["net"] == "proxy");
  CHECK_FALSE(r.IsViolation());
  auto doc = r.ToJson();
  auto rec = doc["violations"][0];
  CHECK(rec["layer"] == "net-proxy");
  CHECK(rec["host"] == "localhost");
  CHECK(rec["port"] == upstream.port());
  CHECK(rec["action"] == "allow");
}

TEST_CASE("probe 30: denied names, unlisted IP literals, wildcard edges and names resolving to loopback get 403",
          "[sandbox][net][probe]") {
  FakeUpstream upstream;
  const std::string port = std::to_string(upstream.port());
  Spec s;
  s.allowed_hosts = {"localhost:" + port, "*.good.example:443"};
  s.denied_hosts = {"evil.good.example:443"};
  auto r = RunClient(s, {"connect:evil.test:443", "connect:127.0.0.1:" + port, "connect:good.example:443",
                         "connect:evil-good.example:443", "connect:evil.good.example:443", "connect:localhost:" + port,
                         "get:http://169.254.169.254/latest/meta-data/", "direct:127.0.0.1:" + port,
                         "direct:10.0.0.1:80", "direct:[::1]:" + port});
  INFO(r.exit_kind << " " << r.wall_ms << " ms\n" << r.stdout_data << r.stderr_data);
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines;
  for (size_t a = 0, b; (b = r.stdout_data.find('\n', a)) != std::string::npos; a = b + 1) {
    lines.push_back(r.stdout_data.substr(a, b - a));
  }
  REQUIRE(lines.size() == 10);
  for (size_t i = 0; i < 7; ++i) {
    INFO(lines[i]);
    CHECK_THAT(lines[i], Catch::Contains("HTTP/1.1 403 Forbidden | warden sandbox proxy: "));
  }
  CHECK_THAT(lines[0], Catch::Contains("evil.test:443 is not in this task's network allowlist"));
  CHECK_THAT(lines[1], Catch::Contains("IP address that is not listed"));
  CHECK_THAT(lines[4], Catch::Contains("matches the deny entry evil.good.example:443"));
  CHECK_THAT(lines[5], Catch::Contains("resolves to the non-public address"));  // 127.0.0.1 or ::1
  // Direct connections: Landlock allows TCP connect only to the proxy port, and the netns has nothing else.
  CHECK_THAT(lines[7], Catch::Contains("errno"));
  CHECK_THAT(lines[8], Catch::Contains("errno"));
  CHECK_THAT(lines[9], Catch::Contains("errno"));
  CHECK(upstream.requests().empty());  // nothing reached the upstream
  auto net = NetRecords(r);
  REQUIRE(net.size() == 7);
  for (const auto* v : net) CHECK(v->action == "deny");
  CHECK(net[0]->host == "evil.test:443");
  CHECK(net[1]->host == "127.0.0.1:" + port);
  CHECK(net[6]->host == "169.254.169.254:80");
}

TEST_CASE("probe 51 (profile net): only the sandbox's own proxy variables reach the program", "[sandbox][net][probe]") {
  ::setenv("LD_PRELOAD", "/tmp/evil.so", 1);
  ::setenv("HTTP_PROXY", "http://10.9.9.9:8080", 1);
  ::setenv("https_proxy", "http://10.9.9.9:8080", 1);
  Spec s;
  s.argv = {"sh", "-c", "env | sort | grep -i -e preload -e proxy; true"};
  auto plain = testing::MustRun(s);
  CHECK(plain.stdout_data.empty());
  s.profile = "net";
  s.env = {{"HTTP_PROXY", "http://10.9.9.9:8080"}, {"No_Proxy", "*"}};  // the caller cannot route around the proxy
  auto net = testing::MustRun(s);
  CHECK(net.stdout_data ==
        "ALL_PROXY=http://127.0.0.1:3128\nHTTPS_PROXY=http://127.0.0.1:3128\nHTTP_PROXY=http://127.0.0.1:3128\n"
        "NO_PROXY=\nall_proxy=http://127.0.0.1:3128\nhttp_proxy=http://127.0.0.1:3128\n"
        "https_proxy=http://127.0.0.1:3128\nno_proxy=\n");
  ::unsetenv("LD_PRELOAD");
  ::unsetenv("HTTP_PROXY");
  ::unsetenv("https_proxy");
}

}  // namespace
}  // namespace warden::sandbox

namespace warden::sandbox {
namespace {

TEST_CASE("net proxy: an open tunnel does not outlive the run, the timeout still ends it", "[sandbox][net]") {
  FakeUpstream upstream;
  Spec s;
  s.profile = "net";
  s.allowed_hosts = {upstream.address()};
  s.timeout_s = 1;
  s.argv = {"python3", "-c",
            "import socket,time\n"
            "c=socket.create_connection(('127.0.0.1',3128))\n"
            "c.sendall(b'CONNECT " + upstream.address() + " HTTP/1.1\\r\\n\\r\\n')\n"
            "print(c.recv(100).split(b'\\r\\n')[0].decode(), flush=True)\n"
            "time.sleep(30)\n"};
  auto t0 = std::chrono::steady_clock::now();
  auto r = testing::MustRun(s);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.exit_kind == "timeout");
  CHECK(r.stdout_data == "HTTP/1.1 200 Connection established\n");
  CHECK(ms < 4000);  // the tunnel was cut when the namespace died, not left to the upstream's idle timeout
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].action == "allow");
}

}  // namespace
}  // namespace warden::sandbox

namespace warden::sandbox {
namespace {

int ConnectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

TEST_CASE("net proxy: malformed heads get 400, and connections past the cap get 503", "[sandbox][net]") {
  Spec spec;
  spec.profile = "net";
  spec.allowed_hosts = {"[::1]:9"};
  InProcessProxy p(spec);
  CHECK_THAT(p.Ask("CONNECT example.com HTTP/1.1\r\n\r\n"), Catch::Contains("CONNECT needs HOST:PORT"));
  CHECK_THAT(p.Ask("CONNECT example.com:0 HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 400"));
  CHECK_THAT(p.Ask("CONNECT [::1 HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 400"));
  CHECK_THAT(p.Ask("garbage\r\n\r\n"), Catch::Contains("malformed request line"));
  CHECK_THAT(p.Ask("GET http://" + std::string(20000, 'a') + "/ HTTP/1.1\r\n"), Catch::Contains("16 KiB"));
  // [::1]:9 is listed as an address, so it is admitted; nothing listens there, so the answer is 502.
  CHECK_THAT(p.Ask("CONNECT [::1]:9 HTTP/1.1\r\n\r\n"), Catch::StartsWith("HTTP/1.1 502"));

  std::vector<int> idle;
  for (size_t i = 0; i < detail::NetProxy::kMaxConnections; ++i) idle.push_back(ConnectTo(p.port));
  // The acceptor counts a connection when it accepts it; give it a moment to take all of them.
  for (int i = 0; i < 100; ++i) {
    std::string busy = p.Ask("CONNECT denied.example:1 HTTP/1.1\r\n\r\n");  // 403 at once unless over the cap
    if (busy.rfind("HTTP/1.1 503", 0) == 0) break;
    ::usleep(20000);
  }
  CHECK_THAT(p.Ask("CONNECT denied.example:1 HTTP/1.1\r\n\r\n"), Catch::Contains("more than 32 connections"));
  for (int fd : idle) ::close(fd);
  uint64_t total = 0;
  auto records = p.proxy->Stop(&total);
  REQUIRE(records.size() >= 1);
  CHECK(records[0].host == "[::1]:9");
  CHECK(records[0].action == "allow");
  CHECK_THAT(records[0].detail, Catch::Contains("connect failed"));
}

}  // namespace
}  // namespace warden::sandbox
