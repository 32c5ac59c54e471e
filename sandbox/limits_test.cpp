// Resource probes 40-49 of ../shared/docs/sandbox.md C.9 and the extras (fork bomb, memory bomb, CPU spin,
// output flood, orphans, daemons): each limit is hit, the right exit kind is reported and the mechanism that
// enforced it is named. Timing bounds are loose because the machine is shared.
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "sandbox/probe_test_util.h"
#include "tests/support/test_support.h"

namespace warden::sandbox {
namespace {

using namespace warden::sandbox::testing;

bool Hit(const RunResult& r, const std::string& name, std::string* by = nullptr) {
  for (const auto& l : r.limits) {
    if (l.name == name && l.hit) {
      if (by) *by = l.hit_by;
      return true;
    }
  }
  return false;
}

TEST_CASE("probe 40: a fork bomb stops at the pids limit", "[sandbox][limits]") {
  Spec s = ProbeSpec({"forkbomb"});
  s.pids = 16;
  auto r = MustRun(s);
  INFO(r.stdout_data);
  CHECK(r.stdout_data.find("EAGAIN") != std::string::npos);
  if (std::string(r.layers["cgroup"]) != "none") {
    std::string by;
    CHECK(Hit(r, "pids", &by));
    CHECK(by.find("pids.max") != std::string::npos);
  }
}

TEST_CASE("probe 41: a memory bomb is OOM-killed by the cgroup (or stopped by RLIMIT_AS)", "[sandbox][limits]") {
  Spec s = ProbeSpec({"memhog"});
  s.memory_bytes = 64ull << 20;
  auto r = MustRun(s);
  INFO(r.stdout_data << " kind " << r.exit_kind);
  if (std::string(r.layers["cgroup"]) != "none") {
    CHECK(r.exit_kind == "oom");
    std::string by;
    CHECK(Hit(r, "memory", &by));
    CHECK(by.find("memory") != std::string::npos);
    CHECK(r.IsViolation());
  } else {
    CHECK(r.stdout_data.find("ENOMEM") != std::string::npos);
  }
}

TEST_CASE("probe 42: a CPU spin is killed at the CPU-time limit", "[sandbox][limits]") {
  Spec s = ProbeSpec({"cpuspin"});
  s.cpu_time_s = 1;
  s.timeout_s = 20;
  auto r = MustRun(s);
  CHECK(r.exit_kind == "cpu_limit");
  std::string by;
  CHECK(Hit(r, "cpu_time", &by));
  CHECK(by == "rlimit:RLIMIT_CPU");
  // RLIMIT_CPU counts tick-sampled time, the result the precise run time: on a busy 2-core box the ticks reach the
  // limit while the precise figure is still well under it (seen: 670 ms for a 1 s limit at load average 8).
  CHECK(r.cpu_user_ms + r.cpu_sys_ms >= 500);
}

TEST_CASE("probe 43: sleeping forever is killed at the wall timeout", "[sandbox][limits]") {
  Spec s = ProbeSpec({"sleep"});
  s.timeout_s = 0.3;
  auto r = MustRun(s);
  CHECK(r.exit_kind == "timeout");
  CHECK(Hit(r, "wall_time"));
  CHECK(r.wall_ms >= 290);
  CHECK(r.wall_ms < 5000);
}

TEST_CASE("probe 44 and extras: orphans and setsid daemons die with the sandbox", "[sandbox][limits]") {
  warden::testing::TempDir ws;
  // The parent exits at once; the daemonised grandchild would write its marker 1.5 s later.
  Spec s = ProbeSpec({"daemon", "/workspace/marker"});
  s.workspace = ws.path().string();
  auto r = MustRun(s);
  CHECK(r.exit_kind == "exited");
  CHECK(r.stdout_data == "daemon parent-exits\n");
  // The parent stays until the timeout; the whole tree is killed then.
  Spec w = ProbeSpec({"daemon", "/workspace/marker", "wait"});
  w.workspace = ws.path().string();
  w.timeout_s = 0.5;
  auto rw = MustRun(w);
  CHECK(rw.exit_kind == "timeout");
  ::usleep(2000 * 1000);
  CHECK_FALSE(std::filesystem::exists(ws.path() / "marker"));
}

TEST_CASE("probe 45: an output flood is capped and killed (output_limit)", "[sandbox][limits]") {
  Spec s = ProbeSpec({"flood"});
  s.stdout_cap_bytes = 100000;
  auto r = MustRun(s);
  CHECK(r.exit_kind == "output_limit");
  CHECK(r.truncated);
  CHECK(r.stdout_data.size() == 100000);
  CHECK(r.stdout_bytes > 100000);
  CHECK(Hit(r, "stdout"));
  CHECK(r.ToJson()["output"]["truncated"] == true);
}

TEST_CASE("probe 46: disk fill stops at RLIMIT_FSIZE and at the /tmp size", "[sandbox][limits]") {
  Spec s = ProbeSpec({"diskfill", "/workspace/big"});
  s.file_size_bytes = 4ull << 20;
  auto r = MustRun(s);
  CHECK(r.stdout_data == "diskfill EFBIG after 4 MiB\n");
  Spec sig = ProbeSpec({"diskfill_signal", "/workspace/big"});
  sig.file_size_bytes = 2ull << 20;
  auto rs = MustRun(sig);
  CHECK(rs.signal == SIGXFSZ);
  std::string by;
  CHECK(Hit(rs, "file_size", &by));
  CHECK(by == "rlimit:RLIMIT_FSIZE");
  Spec tmp = ProbeSpec({"diskfill", "/tmp/big"});
  tmp.tmp_size_bytes = 3ull << 20;
  auto rt = MustRun(tmp);
  CHECK(rt.stdout_data.rfind("diskfill ENOSPC", 0) == 0);
}

TEST_CASE("probe 47: inode exhaustion in /tmp gives ENOSPC", "[sandbox][limits]") {
  Spec s = ProbeSpec({"inodes"});
  s.tmp_inodes = 64;
  auto r = MustRun(s);
  CHECK(r.stdout_data.rfind("inodes ENOSPC after", 0) == 0);
}

TEST_CASE("probe 48: fd exhaustion gives EMFILE at RLIMIT_NOFILE", "[sandbox][limits]") {
  Spec s = ProbeSpec({"fd_exhaust"});
  s.open_files = 32;
  auto r = MustRun(s);
  CHECK(r.stdout_data == "fd_exhaust EMFILE after 29\n");  // 32 minus stdin, stdout, stderr
}

TEST_CASE("probe 49: a notify storm is killed after the violation budget", "[sandbox][limits]") {
  Spec s = ProbeSpec({"notify_storm"});
  s.max_violations = 100;
  auto r = MustRun(s);
  CHECK(r.exit_kind == "policy_kill");
  CHECK(r.violations.size() == 64);
  CHECK(r.violations_total > 100);
  CHECK(r.ToJson()["violations_dropped"].get<uint64_t>() == r.violations_total - 64);
  CHECK(Hit(r, "violations"));
}

}  // namespace
}  // namespace warden::sandbox
