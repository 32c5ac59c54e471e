// FailingVfs (see failing_vfs.h): a forwarding VFS (forwarding_vfs.h) whose xWrite consults a countdown and answers
// SQLITE_FULL once it reaches zero.
#include "tests/doubles/failing_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>

#include "tests/doubles/forwarding_vfs.h"

namespace warden::testing {
namespace {

std::atomic<int> g_writes_left{-1};  // -1 = never fail
std::atomic<int> g_failed{0};

int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  int left = g_writes_left.load();
  while (left > 0 && !g_writes_left.compare_exchange_weak(left, left - 1)) {
  }
  if (left == 0) {
    ++g_failed;
    return SQLITE_FULL;
  }
  return ForwardingIoMethods().xWrite(f, buf, n, off);
}

}  // namespace

void RegisterFailingVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sqlite3_io_methods methods = ForwardingIoMethods();
    methods.xWrite = Write;
    RegisterForwardingVfs("failing", &methods);
  });
}

void FailWritesAfter(int n) {
  g_failed = 0;
  g_writes_left = n;
}

void HealFailingVfs() { g_writes_left = -1; }

int FailedWrites() { return g_failed.load(); }

}  // namespace warden::testing
