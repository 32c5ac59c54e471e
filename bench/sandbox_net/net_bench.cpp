// bench/sandbox_net (issue 7, profile net): what the network profile costs, measured against its peer in the same
// run. (1) Spawn: /bin/true with profile "net" (loopback up, the proxy listener made in the netns and passed out,
// the proxy thread) against profile "default", interleaved. (2) One HTTP request through the supervisor's proxy
// (NetProxy serving a host loopback listener, absolute-URI GET, allowlist decision, dial, relay) against the same
// request sent straight to the same loopback upstream (tests/doubles/fake_upstream.h). Prints one table with
// medians, p99 and the overhead. Usage: warden_sandbox_net_bench [runs per side, default 200].
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/net_proxy.h"
#include "sandbox/sandbox.h"
#include "tests/doubles/fake_upstream.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string Cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// One request on a fresh loopback connection to `port`; returns ms, or -1 unless the answer was a 200.
double Request(int port, const std::string& request) {
  auto t0 = Clock::now();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return got.rfind("HTTP/1.1 200", 0) == 0 ? Ms(t0) : -1;
}

void Row(const char* name, const std::vector<double>& v) {
  std::printf("%-52s %10.3f %10.3f %10.3f\n", name, Percentile(v, 0.5), Percentile(v, 0.99), Percentile(v, 0.1));
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  using warden::sandbox::Spec;
  char ws[] = "/tmp/warden-bench-ws-XXXXXX";
  if (::mkdtemp(ws) == nullptr) return 1;
  Spec plain;
  plain.argv = {"/bin/true"};
  plain.workspace = ws;
  Spec net = plain;
  net.profile = "net";
  net.allowed_hosts = {"example.com:443"};
  for (int i = 0; i < 5; ++i) {  // warm-up: seccomp programs, caches
    for (const Spec* s : {&plain, &net}) {
      auto r = warden::sandbox::Run(*s);
      if (!r.ok() || r->exit_kind != "exited" || r->exit_code != 0) {
        std::fprintf(stderr, "run failed: %s\n", r.ok() ? r->setup_error.c_str() : r.status().message().c_str());
        return 1;
      }
    }
  }
  std::vector<double> spawn_plain, spawn_net;
  const int rounds = 4;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < runs / rounds; ++i) {
      auto t0 = Clock::now();
      if (!warden::sandbox::Run(plain).ok()) return 1;
      spawn_plain.push_back(Ms(t0));
    }
    for (int i = 0; i < runs / rounds; ++i) {
      auto t0 = Clock::now();
      if (!warden::sandbox::Run(net).ok()) return 1;
      spawn_net.push_back(Ms(t0));
    }
  }
  ::rmdir(ws);

  // Proxy round trips against direct ones, same upstream, interleaved.
  warden::testing::FakeUpstream upstream;
  Spec proxy_spec;
  proxy_spec.profile = "net";
  proxy_spec.allowed_hosts = {upstream.address()};
  auto proxy = warden::sandbox::detail::NetProxy::Create(proxy_spec);
  if (!proxy.ok() || upstream.port() == 0) return 1;
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 64) != 0) return 1;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  const int proxy_port = ntohs(a.sin_port);
  (*proxy)->Start(lfd, Clock::now());
  const std::string direct_req = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string proxy_req = "GET http://" + upstream.address() + "/x HTTP/1.1\r\nHost: h\r\n\r\n";
  std::vector<double> direct, proxied;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < runs / rounds; ++i) direct.push_back(Request(upstream.port(), direct_req));
    for (int i = 0; i < runs / rounds; ++i) proxied.push_back(Request(proxy_port, proxy_req));
  }
  uint64_t records = 0;
  (*proxy)->Stop(&records);
  if (std::count(direct.begin(), direct.end(), -1.0) + std::count(proxied.begin(), proxied.end(), -1.0) > 0) {
    std::fprintf(stderr, "a request failed\n");
    return 1;
  }

  utsname u{};
  ::uname(&u);
  std::printf("sandbox net profile: %zu runs each, interleaved in %d rounds; %llu proxy records\n",
              spawn_plain.size(), rounds, static_cast<unsigned long long>(records));
  std::printf("machine: %s, %ld CPUs, kernel %s\n", Cpu().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN), u.release);
  std::printf("%-52s %10s %10s %10s\n", "workload", "median ms", "p99 ms", "p10 ms");
  Row("spawn /bin/true, profile default (peer)", spawn_plain);
  Row("spawn /bin/true, profile net (listener + proxy)", spawn_net);
  std::printf("%-52s %+10.3f ms (target: < +1 ms)\n", "net profile spawn overhead (median)",
              Percentile(spawn_net, 0.5) - Percentile(spawn_plain, 0.5));
  Row("HTTP GET direct to loopback upstream (peer)", direct);
  Row("HTTP GET through the proxy (decide, dial, relay)", proxied);
  std::printf("%-52s %+10.3f ms (target: < +1 ms)\n", "proxy overhead per request (median)",
              Percentile(proxied, 0.5) - Percentile(direct, 0.5));
  return 0;
}
