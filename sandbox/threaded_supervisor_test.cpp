// Regression (issue 7, found by the network-profile tests): the child switched to the sandbox uid/gid with glibc's
// setresgid/setresuid, which in a multi-threaded process signal every thread glibc knows of and wait for each to
// answer, including a thread that is still being created. After clone the child has only one thread, so when the
// supervisor was starting a thread at that moment (the proxy starts one per connection) the child waited forever:
// the run ended as a timeout with no output. The child now execs the freestanding init (sandbox/init/) right after
// clone, which has no libc at all.
#include <atomic>
#include <thread>

#include "sandbox/probe_test_util.h"

namespace warden::sandbox {
namespace {

TEST_CASE("a supervisor with other threads running starts every sandbox",
          "[sandbox][run]") {
  std::atomic<bool> stop{false};
  // Threads that keep starting short-lived threads, as the proxy does per connection: glibc's setxid waits for a
  // thread that is being created at the moment of clone, and in the child that thread never finishes starting.
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i) {
    busy.emplace_back([&stop] {
      while (!stop) std::thread([] {}).join();
    });
  }
  int started = 0;
  for (int i = 0; i < 30; ++i) {
    Spec s;
    s.argv = {"/bin/true"};
    s.timeout_s = 5;
    auto r = Run(s);
    REQUIRE(r.ok());
    INFO("run " << i << ": " << r->exit_kind << " " << r->setup_error);
    CHECK(r->exit_kind == "exited");
    if (r->exit_kind == "exited") ++started;
    if (r->exit_kind != "exited") break;  // one hang costs the full timeout; do not pay it 30 times
  }
  stop = true;
  for (auto& t : busy) t.join();
  CHECK(started == 30);
}

}  // namespace
}  // namespace warden::sandbox
