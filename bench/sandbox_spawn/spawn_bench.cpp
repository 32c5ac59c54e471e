// bench/sandbox_spawn (issue 7): wall time of running /bin/true with Warden's full isolation (every layer of
// sandbox.md C.1: namespaces, cgroup, fresh root + pivot_root, rlimits, caps, Landlock, two seccomp filters, the
// notify listener, the in-sandbox init) against bubblewrap with comparable flags, measured in the same run,
// interleaved in rounds so the shared machine's noise hits both alike. Prints one table: median and p99 of each
// and the ratio. Usage: warden_sandbox_spawn_bench [runs per side, default 200].
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

extern char** environ;

namespace {

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
  // Warm-up: builds the seccomp programs once per process (as a long-lived runtime would) and warms caches.
  for (int i = 0; i < 5; ++i) {
    auto r = warden::sandbox::Run(spec);
    if (!r.ok() || r->exit_kind != "exited" || r->exit_code != 0) {
      std::fprintf(stderr, "warden run failed: %s %s\n", r.ok() ? r->exit_kind.c_str() : r.status().message().c_str(),
                   r.ok() ? r->setup_error.c_str() : "");
      return 1;
    }
    if (RunBwrap(bwrap) < 0) {
      std::fprintf(stderr, "bwrap failed\n");
      return 1;
    }
  }
  std::vector<double> ours, theirs;
  const int rounds = 4;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < runs / rounds; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = warden::sandbox::Run(spec);
      ours.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!r.ok() || r->exit_code != 0) return 1;
    }
    for (int i = 0; i < runs / rounds; ++i) theirs.push_back(RunBwrap(bwrap));
  }
  rmdir(ws_tmpl);
  double om = Percentile(ours, 0.5), op = Percentile(ours, 0.99), tm = Percentile(theirs, 0.5),
         tp = Percentile(theirs, 0.99);
  utsname u{};
  uname(&u);
  std::printf("sandbox spawn: /bin/true, %zu runs each, interleaved in %d rounds\n", ours.size(), rounds);
  std::printf("machine: %s, %ld CPUs, kernel %s\n", Cpu().c_str(), sysconf(_SC_NPROCESSORS_ONLN), u.release);
  std::printf("%-44s %10s %10s %10s\n", "workload", "median ms", "p99 ms", "p10 ms");
  std::printf("%-44s %10.2f %10.2f %10.2f\n", "warden sandbox (every layer, notify, init)", om, op,
              Percentile(ours, 0.1));
  std::printf("%-44s %10.2f %10.2f %10.2f\n", "bwrap --unshare-all ... (proc, dev, tmpfs)", tm, tp,
              Percentile(theirs, 0.1));
  std::printf("%-44s %10.2fx %9.2fx\n", "ratio bwrap / warden (higher = warden faster)", tm / om, tp / op);
  return 0;
}
