// The supervisor-side egress proxy of profile "net" (../shared/docs/sandbox.md C.4, probes 29-30): HTTP CONNECT
// tunnels and plain-HTTP absolute-URI forwarding, one request per connection, decided by NetAllowlist. DNS is
// resolved here, never in the sandbox, and every resolved address passes NetAllowlist::AddressAllowed before it
// is dialled. With Spec::upstream_proxy set, allowed requests go to that proxy instead (a site's own egress
// proxy), which then resolves and dials. What it does not do: SOCKS, HTTP/2 to the proxy, TLS inspection (a
// CONNECT tunnel carries whatever the program sends, so domain fronting inside an allowed tunnel is invisible).
//
// Threads: one acceptor per run, one detached thread per accepted connection (at most kMaxConnections); Stop()
// wakes them all through one pipe that is never read (every poll sees it readable) and waits until the count of
// live connection threads is zero, so no thread outlives the proxy object.
#include "sandbox/net_proxy.h"

#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace warden::sandbox::detail {
namespace {

constexpr int kHeadTimeoutMs = 10000;
constexpr size_t kKeptRecords = 64;

bool WaitFor(int fd, short events, int stop_fd, int timeout_ms);

// Sends everything without ever blocking in send(): a peer that stops reading must not keep a connection thread
// (and with it NetProxy::Stop) waiting, so a full socket buffer waits in poll, which the stop pipe ends. Without a
// stop pipe (-1) the wait is bounded by the head timeout.
bool SendAll(int fd, const char* data, size_t size, int stop_fd = -1) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, stop_fd, stop_fd < 0 ? kHeadTimeoutMs : -1)) return false;
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
bool SendAll(int fd, const std::string& s, int stop_fd = -1) { return SendAll(fd, s.data(), s.size(), stop_fd); }

void Reply(int fd, int code, const char* reason, const std::string& body) {
  std::string text = "warden sandbox proxy: " + body + "\n";
  SendAll(fd, "HTTP/1.1 " + std::to_string(code) + " " + reason +
                  "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(text.size()) +
                  "\r\nConnection: close\r\nX-Warden-Proxy: " + (code == 403 ? "deny" : "error") + "\r\n\r\n" + text);
}

// Waits for `fd` to be ready for `events` or the stop pipe; false on stop, timeout or error.

// An error answer the client can read: closing a socket whose input was not read makes the kernel send a reset that
// may destroy the answer in flight, so half-close, then read and drop what the client still sends (bounded).
void Refuse(int fd, int stop_fd, int code, const char* reason, const std::string& body) {
  Reply(fd, code, reason, body);
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  size_t dropped = 0;
  while (dropped < (64u << 10) && WaitFor(fd, POLLIN, stop_fd, 500)) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
}

bool WaitFor(int fd, short events, int stop_fd, int timeout_ms) {
  pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    int rc = ::poll(p, 2, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    return rc > 0 && p[1].revents == 0 && (p[0].revents & (events | POLLHUP | POLLERR));
  }
}

// Reads until the end of the request head; `rest` gets bytes that followed it (a body or early tunnel data).
bool ReadHead(int fd, int stop_fd, std::string* head, std::string* rest) {
  char buf[4096];
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHeadTimeoutMs);
  for (;;) {
    size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      *head = data.substr(0, end + 2);
      *rest = data.substr(end + 4);
      return true;
    }
    if (data.size() > NetProxy::kMaxHeadBytes) return false;
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0 || !WaitFor(fd, POLLIN, stop_fd, left)) return false;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
  }
}

// Copies bytes both ways until both directions reached EOF, either side failed, or the proxy stops. With
// `read_a` false only b -> a is copied (a plain-HTTP answer: whatever else the client sends is never forwarded).
void Relay(int a, int b, int stop_fd, bool read_a = true) {
  bool a_open = read_a, b_open = true;  // a_open: still reading from a
  char buf[65536];
  while (a_open || b_open) {
    pollfd p[3];
    int n = 0, ia = -1, ib = -1;
    if (a_open) p[ia = n++] = {a, POLLIN, 0};
    if (b_open) p[ib = n++] = {b, POLLIN, 0};
    p[n++] = {stop_fd, POLLIN, 0};
    int rc = ::poll(p, static_cast<nfds_t>(n), -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0 || p[n - 1].revents) return;
    for (auto [idx, from, to, open] : {std::tuple{ia, a, b, &a_open}, std::tuple{ib, b, a, &b_open}}) {
      if (idx < 0 || !p[idx].revents) continue;
      ssize_t got = ::recv(from, buf, sizeof(buf), 0);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        *open = false;
        ::shutdown(to, SHUT_WR);
        if (got < 0) return;
        continue;
      }
      if (!SendAll(to, buf, static_cast<size_t>(got), stop_fd)) return;
    }
  }
}

// Sends exactly `length` body bytes from `from` to `to`: first those already read (`rest`), then the remainder
// within the head timeout. Bytes past the body are never forwarded (they would be a second, undecided request).
bool ForwardBody(int from, int to, int stop_fd, const std::string& rest, uint64_t length) {
  const size_t first = static_cast<size_t>(std::min<uint64_t>(rest.size(), length));
  if (!SendAll(to, rest.data(), first, stop_fd)) return false;
  uint64_t left = length - first;
  char buf[65536];
  while (left > 0) {
    if (!WaitFor(from, POLLIN, stop_fd, kHeadTimeoutMs)) return false;
    ssize_t n = ::recv(from, buf, static_cast<size_t>(std::min<uint64_t>(left, sizeof(buf))), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !SendAll(to, buf, static_cast<size_t>(n), stop_fd)) return false;
    left -= static_cast<uint64_t>(n);
  }
  return true;
}

// Non-blocking connect with a deadline that the stop pipe can cut short; returns the fd or -errno.
int Dial(const sockaddr* addr, socklen_t len, int stop_fd, int timeout_ms) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  if (::connect(fd, addr, len) != 0 && errno != EINPROGRESS) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  if (!WaitFor(fd, POLLOUT, stop_fd, timeout_ms)) {
    ::close(fd);
    return -ETIMEDOUT;
  }
  int err = 0;
  socklen_t el = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err != 0) {
    ::close(fd);
    return -err;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

struct AddrInfoDeleter {
  void operator()(addrinfo* p) const { ::freeaddrinfo(p); }
};

bool StartsWithNoCase(const std::string& s, const char* prefix) {
  size_t n = std::strlen(prefix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Splits an authority "host:port" / "[v6]:port" / "host" (default_port then; 0 = a port is required).
bool SplitAuthority(const std::string& authority, uint16_t default_port, std::string* host, uint16_t* port) {
  std::string h = authority, p;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close == std::string::npos) return false;
    p = close + 1 < h.size() && h[close + 1] == ':' ? h.substr(close + 2) : "";
    if (close + 1 < h.size() && h[close + 1] != ':') return false;
    h = h.substr(0, close + 1);
  } else if (size_t colon = h.rfind(':'); colon != std::string::npos) {
    p = h.substr(colon + 1);
    h = h.substr(0, colon);
  }
  if (p.empty()) {
    *port = default_port;
  } else {
    auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    if (p.size() > 5 || !std::all_of(p.begin(), p.end(), digit)) {
      return false;
    }
    unsigned long v = std::stoul(p);
    if (v == 0 || v > 65535) return false;
    *port = static_cast<uint16_t>(v);
  }
  *host = h;
  return *port != 0 && !h.empty();
}

}  // namespace

bool ParseProxyRequest(const std::string& head, ProxyRequest* out, std::string* error) {
  for (size_t i = 0; i < head.size(); ++i) {
    const bool cr = head[i] == '\r', lf = head[i] == '\n';
    if ((cr && (i + 1 >= head.size() || head[i + 1] != '\n')) || (lf && (i == 0 || head[i - 1] != '\r'))) {
      *error = "a bare CR or LF in the request head";
      return false;
    }
  }
  const std::string line = head.substr(0, head.find("\r\n"));
  size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string::npos || s2 == s1) {
    *error = "malformed request line";
    return false;
  }
  ProxyRequest r;
  r.method = line.substr(0, s1);
  r.target = line.substr(s1 + 1, s2 - s1 - 1);
  r.version = line.substr(s2 + 1);
  r.tunnel = r.method == "CONNECT";
  if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") {
    *error = "unsupported HTTP version \"" + r.version + "\"";
    return false;
  }
  for (unsigned char c : r.target) {
    if (c <= 0x20 || c == 0x7f) {
      *error = "spaces or control bytes in the request target";
      return false;
    }
  }
  // Body framing: only what the proxy can forward exactly (one request per connection, nothing after it).
  bool have_length = false;
  for (size_t pos = line.size() + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) break;
    const std::string h = head.substr(pos, end - pos);
    pos = end + 2;
    if (StartsWithNoCase(h, "transfer-encoding:")) r.chunked = true;
    if (!StartsWithNoCase(h, "content-length:")) continue;
    std::string v = h.substr(15);
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t") + 1);
    uint64_t n = 0;
    bool ok = !v.empty() && v.size() <= 15;
    for (char c : v) ok = ok && c >= '0' && c <= '9' && ((n = n * 10 + static_cast<uint64_t>(c - '0')), true);
    if (!ok || (have_length && n != r.content_length)) {
      *error = "unreadable or conflicting Content-Length";
      return false;
    }
    r.content_length = n;
    have_length = true;
  }
  if (r.tunnel) {
    if (!SplitAuthority(r.target, 0, &r.host, &r.port)) {
      *error = "CONNECT needs HOST:PORT, got \"" + r.target + "\"";
      return false;
    }
  } else if (StartsWithNoCase(r.target, "http://")) {
    std::string after = r.target.substr(7);
    size_t end = after.find_first_of("/?#");
    std::string authority = after.substr(0, end);
    r.path = end == std::string::npos ? "/" : after.substr(end);
    if (r.path[0] != '/') r.path = "/" + r.path;
    if (authority.find('@') != std::string::npos) {
      *error = "credentials in the URL are refused";
      return false;
    }
    if (!SplitAuthority(authority, 80, &r.host, &r.port)) {
      *error = "cannot read the host of \"" + r.target + "\"";
      return false;
    }
  } else {
    *error = "this is the sandbox's egress proxy: send CONNECT HOST:PORT (https) or an absolute http:// URL, got \"" +
             line + "\"";
    return false;
  }
  *out = std::move(r);
  return true;
}

std::string ForwardHead(const std::string& request_line, const std::string& head, const std::string& authority) {
  std::string out = request_line + "\r\n";
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) break;
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    if (StartsWithNoCase(line, "proxy-") || StartsWithNoCase(line, "connection:") ||
        StartsWithNoCase(line, "keep-alive:") || StartsWithNoCase(line, "host:")) {
      continue;
    }
    out += line + "\r\n";
  }
  return out + "Host: " + authority + "\r\nConnection: close\r\n\r\n";
}

std::vector<std::string> NetProxy::Environment() {
  const std::string url = "http://127.0.0.1:" + std::to_string(kProxyPort);
  return {"HTTP_PROXY=" + url, "HTTPS_PROXY=" + url, "ALL_PROXY=" + url, "http_proxy=" + url,
          "https_proxy=" + url, "all_proxy=" + url, "NO_PROXY=", "no_proxy="};
}

Result<std::unique_ptr<NetProxy>> NetProxy::Create(const Spec& spec) {
  WARDEN_ASSIGN_OR_RETURN(NetAllowlist list, NetAllowlist::Parse(spec.allowed_hosts, spec.denied_hosts));
  std::unique_ptr<NetProxy> proxy(new NetProxy());  // private constructor: make_unique cannot reach it
  proxy->allowlist_ = std::move(list);
  if (!spec.upstream_proxy.empty()) {
    std::string host;
    uint16_t port = 0;
    if (!SplitAuthority(spec.upstream_proxy, 0, &host, &port) || NormaliseHost(host).empty()) {
      return Status::InvalidArgument("upstream_proxy \"" + spec.upstream_proxy +
                                     "\": expected HOST:PORT of an HTTP proxy that accepts CONNECT");
    }
    proxy->upstream_host_ = NormaliseHost(host);
    proxy->upstream_port_ = port;
  }
  if (::pipe2(proxy->stop_pipe_, O_CLOEXEC) != 0) return Status::IoError("proxy stop pipe", errno);
  return proxy;
}

NetProxy::~NetProxy() {
  Stop(nullptr);
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void NetProxy::Start(int listener, std::chrono::steady_clock::time_point t0) {
  std::lock_guard<std::mutex> lock(mu_);
  if (listener_ >= 0 || stopped_) {
    ::close(listener);
    return;
  }
  listener_ = listener;
  t0_ = t0;
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

std::vector<Violation> NetProxy::Stop(uint64_t* total) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!stopped_) {
    stopped_ = true;
    char b = 's';
    (void)!::write(stop_pipe_[1], &b, 1);
    lock.unlock();
    if (acceptor_.joinable()) acceptor_.join();
    lock.lock();
    done_cv_.wait(lock, [this] { return active_ == 0; });
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }
  if (total != nullptr) *total = total_;
  return records_;
}

void NetProxy::AcceptLoop() {
  for (;;) {
    if (!WaitFor(listener_, POLLIN, stop_pipe_[0], -1)) return;
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    // Past the cap a connection only gets its 503 (on its own thread, so the answer survives the close); past twice
    // the cap it is closed at once.
    if (active_ >= 2 * kMaxConnections) {
      ::close(client);
      continue;
    }
    const bool over = active_ >= kMaxConnections;
    ++active_;
    std::thread([this, client, over] {
      if (over) {
        Refuse(client, stop_pipe_[0], 503, "Service Unavailable",
               "more than " + std::to_string(kMaxConnections) + " connections at once; close some and retry");
      } else {
        Serve(client);
      }
      ::close(client);
      std::lock_guard<std::mutex> done(mu_);
      --active_;
      done_cv_.notify_all();
    }).detach();
  }
}

void NetProxy::Record(const std::string& host, uint16_t port, bool allow, const std::string& detail) {
  Violation v;
  v.kind = "net";
  v.t_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
  v.host = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  v.action = allow ? "allow" : "deny";
  v.detail = detail;
  std::lock_guard<std::mutex> lock(mu_);
  ++total_;
  if (records_.size() < kKeptRecords) records_.push_back(std::move(v));
}

void NetProxy::Serve(int client) {
  const int stop = stop_pipe_[0];
  std::string head, rest;
  if (!ReadHead(client, stop, &head, &rest)) {
    Refuse(client, stop, 400, "Bad Request", "no complete request head within 10 s and 16 KiB");
    return;
  }
  ProxyRequest req;
  std::string error;
  if (!ParseProxyRequest(head, &req, &error)) {
    Refuse(client, stop, 400, "Bad Request", error);
    return;
  }
  if (!req.tunnel && req.chunked) {
    Refuse(client, stop, 501, "Not Implemented",
           "plain-HTTP requests with a Transfer-Encoding body are not forwarded; send Content-Length or use https");
    return;
  }
  const bool tunnel = req.tunnel;
  const std::string& method = req.method;
  const std::string& raw_host = req.host;
  const uint16_t port = req.port;
  const std::string host = NormaliseHost(raw_host);
  const std::string shown = host.empty() ? raw_host : host;
  NetVerdict verdict = allowlist_.Check(host, port);
  if (!verdict.allow) {
    Record(shown, port, false, verdict.reason);
    Refuse(client, stop, 403, "Forbidden",
          verdict.reason + "; the task's policy must allow net.connect to it (warden sandbox run --allow-net " +
              shown + ":" + std::to_string(port) + ")");
    return;
  }

  int upstream = -1;
  std::string via;
  if (!upstream_host_.empty()) {
    // The site's proxy resolves and dials; ours has already decided.
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    std::string err = "no address";
    if (int rc = ::getaddrinfo(upstream_host_.c_str(), std::to_string(upstream_port_).c_str(), &hints, &raw); rc != 0) {
      err = ::gai_strerror(rc);
    }
    std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
    for (addrinfo* a = raw; a != nullptr && upstream < 0; a = a->ai_next) {
      int fd = Dial(a->ai_addr, a->ai_addrlen, stop, static_cast<int>(connect_timeout_s_ * 1000));
      if (fd >= 0) upstream = fd;
      else err = std::strerror(-fd);
    }
    via = "via upstream proxy " + upstream_host_ + ":" + std::to_string(upstream_port_);
    if (upstream < 0) {
      Record(shown, port, true, verdict.reason + "; " + via + " unreachable: " + err);
      Refuse(client, stop, 502, "Bad Gateway", "the upstream proxy " + upstream_host_ + " is unreachable: " + err);
      return;
    }
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* raw = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &raw);
    std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
    if (rc != 0) {
      Record(shown, port, true, verdict.reason + "; DNS: " + ::gai_strerror(rc));
      Refuse(client, stop, 502, "Bad Gateway", "cannot resolve " + host + ": " + ::gai_strerror(rc));
      return;
    }
    std::string refused, err;
    for (addrinfo* a = raw; a != nullptr && upstream < 0; a = a->ai_next) {
      std::string why;
      if (!allowlist_.AddressAllowed(a->ai_addr, port, &why)) {
        if (refused.empty()) refused = why;
        continue;
      }
      int fd = Dial(a->ai_addr, a->ai_addrlen, stop, static_cast<int>(connect_timeout_s_ * 1000));
      if (fd >= 0) {
        upstream = fd;
        char ip[INET6_ADDRSTRLEN] = {};
        ::getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof(ip), nullptr, 0, NI_NUMERICHOST);
        via = "to " + std::string(ip);
      } else {
        err = std::strerror(-fd);
      }
    }
    if (upstream < 0 && err.empty()) {
      Record(shown, port, false, host + ":" + std::to_string(port) + " is listed, but " + refused);
      Refuse(client, stop, 403, "Forbidden", host + " is listed, but " + refused);
      return;
    }
    if (upstream < 0) {
      Record(shown, port, true, verdict.reason + "; connect failed: " + err);
      Refuse(client, stop, 502, "Bad Gateway", "cannot connect to " + host + ":" + std::to_string(port) + ": " + err);
      return;
    }
  }
  Record(shown, port, true, verdict.reason + "; " + (tunnel ? "CONNECT " : method + " ") + via);

  const std::string authority = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                std::to_string(port);
  bool sent;
  if (tunnel) {
    sent = upstream_host_.empty()
               ? SendAll(client, std::string("HTTP/1.1 200 Connection established\r\n\r\n"), stop)
               : SendAll(upstream, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n", stop);
    if (sent && !rest.empty()) sent = SendAll(upstream, rest, stop);
  } else {
    // Direct: origin-form to the server. Upstream proxy: the absolute URI, as a proxy expects it.
    const std::string& uri = upstream_host_.empty() ? req.path : req.target;
    sent = SendAll(upstream, ForwardHead(method + " " + uri + " " + req.version, head, authority), stop) &&
           ForwardBody(client, upstream, stop, rest, req.content_length);
  }
  if (sent) Relay(client, upstream, stop, /*read_a=*/tunnel);
  ::close(upstream);
}

}  // namespace warden::sandbox::detail
