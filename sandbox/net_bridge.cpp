// The child-side half of profile "net" (../shared/docs/sandbox.md C.4, B.2 "fd-passed TCP listener"): inside the new
// network namespace, bring `lo` up, listen on 127.0.0.1:kProxyPort and hand that socket to the supervisor over the
// sync socket. The program then reaches the supervisor's proxy by connecting to loopback in its own namespace; the
// kernel delivers the connection to a socket the supervisor owns, so no relay process runs inside and no Unix
// socket path is visible to the program. Runs between clone and exec, while the child still holds its namespace
// capabilities: async-signal-safe calls only, no allocation.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/net_proxy.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox::detail {
namespace {

int BringLoopbackUp() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  std::memcpy(ifr.ifr_name, "lo", 3);
  int err = 0;
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) err = errno;
  if (err == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  ::close(fd);
  return err;
}


}  // namespace

int SetUpProxyListenerInChild(int sync_fd) {
  if (int e = BringLoopbackUp(); e != 0) return e;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kProxyPort);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int err = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) err = errno;
  if (err == 0) err = SendFdToSupervisor(sync_fd, kMsgProxyListener, fd);
  ::close(fd);  // the supervisor's copy is the only one; the program cannot accept on it
  return err;
}

}  // namespace warden::sandbox::detail
