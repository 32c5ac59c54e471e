// FakeUpstream: a test double for "the internet" behind the sandbox's egress proxy (sandbox.md probes 29-30). A TCP
// server on 127.0.0.1 (ephemeral port) that serves every connection on its own thread: it reads one HTTP request
// head, remembers its request line, and answers 200 with a small JSON body that names the request. Because a
// CONNECT tunnel carries the next request unchanged, the same double serves as an origin server (direct mode,
// tunnelled requests) and as an upstream HTTP proxy (absolute-URI requests, CONNECT answered 200 and then the
// tunnelled request answered too). Header-only; nothing here is product code.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warden::testing {

class FakeUpstream {
 public:
  FakeUpstream() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    if (fd_ >= 0) ::close(fd_);
    for (auto& t : workers_) t.join();
  }
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  int port() const { return port_; }  // 0 when the socket could not be made
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Every request line seen so far (CONNECT lines and tunnelled requests alike), in arrival order.
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // The full head of the last request.
  std::string last_head() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_head_;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      workers_.emplace_back([this, c] { Serve(c); });
    }
  }
  // Answers requests on one connection until the peer closes (a CONNECT is followed by the tunnelled request).
  void Serve(int c) {
    std::string data;
    char buf[4096];
    for (;;) {
      size_t end;
      while ((end = data.find("\r\n\r\n")) == std::string::npos) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return Close(c);
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) return Close(c);
        data.append(buf, static_cast<size_t>(n));
      }
      std::string head = data.substr(0, end + 4);
      data.erase(0, end + 4);
      std::string line = head.substr(0, head.find("\r\n"));
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(line);
        last_head_ = head;
      }
      if (line.rfind("CONNECT ", 0) == 0) {
        Send(c, "HTTP/1.1 200 Connection established\r\n\r\n");
        continue;
      }
      std::string body = "{\"fake_upstream\": \"" + line.substr(0, line.find(' ')) + "\"}";
      Send(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n\r\n" + body);
      return Close(c);
    }
  }
  static void Send(int c, const std::string& s) { (void)!::send(c, s.data(), s.size(), MSG_NOSIGNAL); }
  static void Close(int c) {
    ::shutdown(c, SHUT_WR);
    ::close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor only, joined after it
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::string last_head_;
};

}  // namespace warden::testing
