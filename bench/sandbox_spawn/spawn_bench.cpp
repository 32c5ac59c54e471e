// bench/sandbox_spawn (issue 7): wall time of running /bin/true with Warden's full isolation (every layer of
// sandbox.md C.1: namespaces, cgroup, fresh root + pivot_root, rlimits, caps, Landlock, two seccomp filters, the
// notify listener, the in-sandbox init) against bubblewrap with comparable flags, measured in the same run,
// interleaved in rounds so the shared machine's noise hits both alike. Prints one table: median and p99 of each
// and the ratio, CPU per spawn, and spawns after an idle spell. Two warden rows: as a long-lived caller runs it (the
// next tasks' inits, system trees, cgroup pair and pipes are made ahead on the cleanup thread: init_launch.cpp,
// spare_view.cpp) and cold (sandbox::SetPrestart(false): everything made at the call, as `warden sandbox run` does). Usage: warden_sandbox_spawn_bench [runs per side, default 200].
#include <spawn.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "sandbox/sandbox_internal.h"  // DrainCleanupForTest

extern char** environ;

namespace {

// CPU time (user + system) of this process and of its reaped children, in ms: on a shared box it moves far less
// with the neighbours' load than wall time does.
double CpuMs(int who) {
  rusage u{};
  getrusage(who, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double RunBwrap(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string Cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  char ws_tmpl[] = "/tmp/warden-bench-ws-XXXXXX";
  if (mkdtemp(ws_tmpl) == nullptr) return 1;
  warden::sandbox::Spec spec;
  spec.argv = {"/bin/true"};
  spec.workspace = ws_tmpl;  // a skill's workspace exists before it runs; creating one is not spawn cost
  const std::vector<std::string> bwrap = {
      "/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr",
      "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
      "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", ws_tmpl, "/workspace", "/usr/bin/true"};
  auto warden_once = [&](bool spare) -> double {
    warden::sandbox::SetPrestart(spare);
    auto t0 = std::chrono::steady_clock::now();
    auto r = warden::sandbox::Run(spec);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok() || r->exit_kind != "exited" || r->exit_code != 0) {
      std::fprintf(stderr, "warden run failed: %s %s\n", r.ok() ? r->exit_kind.c_str() : r.status().message().c_str(),
                   r.ok() ? r->setup_error.c_str() : "");
      std::exit(1);
    }
    return ms;
  };
  auto bwrap_once = [&]() -> double {
    double ms = RunBwrap(bwrap);
    if (ms < 0) {
      std::fprintf(stderr, "bwrap failed\n");
      std::exit(1);
    }
    return ms;
  };
  // Warm-up: builds the seccomp programs once per process (as a long-lived runtime would) and warms caches.
  for (int i = 0; i < 5; ++i) {
    warden_once(true);
    warden_once(false);
    bwrap_once();
  }
  enum Side { kWarden, kCold, kBwrap, kSides };
  const char* names[kSides] = {"warden (every layer; next sandbox made ahead)", "warden, cold (nothing made ahead)",
                               "bwrap --unshare-all ... (proc, dev, tmpfs)"};
  std::vector<double> wall[kSides], idle[kSides];
  double cpu[kSides] = {0, 0, 0};
  const int rounds = 4;
  for (int round = 0; round < rounds; ++round) {
    for (int side = 0; side < kSides; ++side) {
      double c0 = CpuMs(RUSAGE_SELF) + CpuMs(RUSAGE_CHILDREN);
      for (int i = 0; i < runs / rounds; ++i) {
        wall[side].push_back(side == kBwrap ? bwrap_once() : warden_once(side == kWarden));
      }
      // Let queued cleanup finish inside this side's window so its CPU is charged to it.
      warden::sandbox::detail::DrainCleanupForTest();
      cpu[side] += CpuMs(RUSAGE_SELF) + CpuMs(RUSAGE_CHILDREN) - c0;
    }
  }
  // After an idle spell: one spawn every 25 ms, as an agent calling a skill now and then does. Kernel work
  // that is cheap only when repeated at once (a cgroup attach's grace period) shows here, not above.
  // Each side in its own block, so a warden run follows a warden run of the same kind (a cold run in between
  // would drop the inits started ahead).
  const int idle_runs = std::max(8, runs / 10);
  for (int side = 0; side < kSides; ++side) {
    for (int i = 0; i < idle_runs; ++i) {
      usleep(25000);
      idle[side].push_back(side == kBwrap ? bwrap_once() : warden_once(side == kWarden));
    }
  }
  warden::sandbox::SetPrestart(true);
  rmdir(ws_tmpl);
  utsname u{};
  uname(&u);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("sandbox spawn: /bin/true, %zu runs per row back to back (interleaved in %d rounds), %d per row after "
              "25 ms idle\n", wall[0].size(), rounds, idle_runs);
  std::printf("machine: %s, %ld CPUs, kernel %s, load average %.2f %.2f %.2f\n", Cpu().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), u.release, load[0], load[1], load[2]);
  std::printf("%-46s %9s %9s %9s %10s %11s %11s\n", "workload", "median ms", "p99 ms", "p10 ms", "CPU ms/run",
              "idle med ms", "idle p99 ms");
  for (int side = 0; side < kSides; ++side) {
    std::printf("%-46s %9.2f %9.2f %9.2f %10.2f %11.2f %11.2f\n", names[side], Percentile(wall[side], 0.5),
                Percentile(wall[side], 0.99), Percentile(wall[side], 0.1),
                cpu[side] / static_cast<double>(wall[side].size()), Percentile(idle[side], 0.5),
                Percentile(idle[side], 0.99));
  }
  double bm = Percentile(wall[kBwrap], 0.5), bp = Percentile(wall[kBwrap], 0.99);
  for (int side : {kWarden, kCold}) {
    std::printf("ratio bwrap / %-32s %8.2fx %8.2fx %9s %9.2fx %10.2fx\n", side == kWarden ? "warden" : "warden cold",
                bm / Percentile(wall[side], 0.5), bp / Percentile(wall[side], 0.99), "",
                cpu[kBwrap] / cpu[side], Percentile(idle[kBwrap], 0.5) / Percentile(idle[side], 0.5));
  }
  for (int side : {kWarden, kCold}) {
    double m = Percentile(wall[side], 0.5);
    bool met = m <= 3.0 && bm / m >= 2.0;
    std::printf("target (issue 7), %-11s median <= 3 ms and >= 2x bwrap in the same run: %s (%.2f ms, %.2fx)\n",
                side == kWarden ? "warden:" : "warden cold:", met ? "met" : "NOT met", m, bm / m);
  }
  return 0;
}
