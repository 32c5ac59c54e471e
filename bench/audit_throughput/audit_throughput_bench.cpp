// bench/audit_throughput: sustained audit appends per second with the full schema and synchronous=FULL, group
// committed (several producers, AppendAsync windows) and one commit per event; p50/p99 from append to durable; and
// verify rows per second (issue 5, Benchmark; policy-audit.md C.2-C.3 for the peer numbers on this class of machine).
// Usage: warden_audit_throughput_bench [--events N] [--producers P] [--window W] [--dir DIR] [--single-seconds S]
//        [--keep 1]  (keep the databases for a look afterwards)
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"

namespace {

using Clock = std::chrono::steady_clock;
using warden::audit::Event;
using warden::audit::Log;

// A policy decision with the body fields of B.2 (~330 bytes canonical), varied per event.
Event Decision(int64_t n) {
  Event e;
  e.kind = "policy.decision";
  e.tenant_id = "acme";
  e.principal_id = "agent-" + std::to_string(n % 17);
  e.task_id = "task-" + std::to_string(n / 50);
  e.skill = "pdf-summarize";
  e.action = n % 4 == 0 ? "net.connect" : "fs.read";
  e.decision = n % 10 == 0 ? "deny" : "allow";
  e.policy_set = "sha256:3f9a0c1e55d2b7a4c8e6f1029384756abcdef0123456789abcdef0123456789";
  e.body = {{"decision", *e.decision},
            {"default", "deny"},
            {"determining", {{{"rule", "read-workspace"}, {"file", "fs.toml"}, {"line", 12},
                              {"reason", "reads under the task workspace are allowed"}}}},
            {"eval_us", 40 + n % 13},
            {"request", {{"path", "/work/task/input-" + std::to_string(n) + ".pdf"}, {"bytes", 1000 + n % 9000}}},
            {"overridden", nlohmann::json::array()},
            {"errors", nlohmann::json::array()}};
  return e;
}

// CPU seconds (user + system) used by this process so far: on a shared machine the wall-clock rate depends on the
// neighbours, the CPU cost per event much less.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string Machine() {
  std::string cpu = "unknown CPU";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  utsname u{};
  uname(&u);
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%ld cores, %s, Linux %s, SQLite %s, load avg %.2f at start", sysconf(_SC_NPROCESSORS_ONLN),
                cpu.c_str(), u.release, warden::audit::SqliteVersion().c_str(), load[0]);
  return buf;
}

struct Run {
  double events_per_s = 0, p50_ms = 0, p99_ms = 0, max_ms = 0, cpu_us = 0;
  int64_t events = 0;
};

Run GroupCommit(const warden::audit::Options& o, int64_t events, int producers, int window) {
  auto log = Log::Open(o);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<std::vector<double>> lat(static_cast<size_t>(producers));
  std::atomic<int64_t> next{0};
  std::atomic<int> failures{0};
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      struct Pending {
        warden::audit::AppendTicket ticket;
        Clock::time_point start;
      };
      // A sliding window: keep `window` appends in flight, waiting for the oldest before queueing the next, as a
      // pipelined caller (or that many independent callers) would.
      std::deque<Pending> inflight;
      auto retire = [&] {
        if (!inflight.front().ticket.Wait().ok()) ++failures;
        lat[static_cast<size_t>(p)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - inflight.front().start).count());
        inflight.pop_front();
      };
      for (;;) {
        const int64_t n = next++;
        if (n >= events) break;
        if (static_cast<int>(inflight.size()) >= window) retire();
        Event e = Decision(n);
        const auto start = Clock::now();
        inflight.push_back({(*log)->AppendAsync(std::move(e)), start});
      }
      while (!inflight.empty()) retire();
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (failures > 0) std::fprintf(stderr, "%d appends failed\n", failures.load());
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Run r;
  r.events = events;
  r.cpu_us = (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(events);
  r.events_per_s = static_cast<double>(events) / secs;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  r.max_ms = Percentile(all, 1.0);
  return r;
}

Run OnePerEvent(const warden::audit::Options& base, double seconds) {
  warden::audit::Options o = base;
  o.batch_max_events = 1;
  auto log = Log::Open(o);
  if (!log.ok()) std::exit(1);
  std::vector<double> lat;
  const auto t0 = Clock::now();
  int64_t n = 0;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    const auto s = Clock::now();
    if (!(*log)->Append(Decision(n++)).ok()) std::exit(1);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  Run r;
  r.events = n;
  r.events_per_s = static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
  r.p50_ms = Percentile(lat, 0.5);
  r.p99_ms = Percentile(lat, 0.99);
  r.max_ms = Percentile(lat, 1.0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 200000;
  int producers = 4, window = 256;
  double single_seconds = 3;
  std::string dir = "/tmp";
  bool keep = false;
  std::string verify_only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events") events = std::atoll(argv[i + 1]);
    else if (a == "--producers") producers = std::atoi(argv[i + 1]);
    else if (a == "--window") window = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--single-seconds") single_seconds = std::atof(argv[i + 1]);
    else if (a == "--keep") keep = std::atoi(argv[i + 1]) != 0;
    else if (a == "--verify-only") verify_only = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (!verify_only.empty()) {
    // Profiling aid: time Verify alone (no quick_check) on an existing database, e.g. one kept with --keep 1.
    warden::audit::VerifyOptions vo;
    vo.quick_check = false;
    const double cpu0 = CpuSeconds();
    const auto t0 = Clock::now();
    auto rep = warden::audit::Verify(verify_only, vo);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!rep.ok() || !rep->ok) return 1;
    std::printf("verify %llu rows: %.0f rows/s, %.2f CPU us/row\n", static_cast<unsigned long long>(rep->rows),
                static_cast<double>(rep->rows) / secs, (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(rep->rows));
    return 0;
  }
  const std::string work = dir + "/warden-audit-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(work);
  std::printf("machine: %s\nfolder:  %s\n\n", Machine().c_str(), work.c_str());

  warden::audit::Options o;
  o.path = work + "/group.db";
  o.key_path = work + "/audit.key";
  if (!warden::audit::Keygen(o.key_path).ok()) return 1;
  const Run group = GroupCommit(o, events, producers, window);

  warden::audit::Options one = o;
  one.path = work + "/single.db";
  const Run single = OnePerEvent(one, single_seconds);

  warden::audit::VerifyOptions vo;
  double cpu0 = CpuSeconds();
  auto t0 = Clock::now();
  auto rep = warden::audit::Verify(o.path, vo);
  const double verify_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double verify_cpu = CpuSeconds() - cpu0;
  vo.quick_check = false;
  cpu0 = CpuSeconds();
  t0 = Clock::now();
  auto rep_noqc = warden::audit::Verify(o.path, vo);
  const double verify_noqc_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double verify_noqc_cpu = CpuSeconds() - cpu0;
  vo.check_canonical = false;
  cpu0 = CpuSeconds();
  t0 = Clock::now();
  auto rep_fast = warden::audit::Verify(o.path, vo);
  const double verify_fast_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double verify_fast_cpu = CpuSeconds() - cpu0;
  if (!rep.ok() || !rep->ok || !rep_fast.ok() || !rep_fast->ok || !rep_noqc.ok() || !rep_noqc->ok) {
    std::fprintf(stderr, "verify failed\n");
    return 1;
  }

  std::printf("%-46s %10s %8s %8s %8s %9s\n", "configuration", "per s", "p50 ms", "p99 ms", "max ms", "CPU us/ev");
  std::printf("%-46s %10.0f %8.2f %8.2f %8.2f %9.1f\n",
              ("group commit, FULL, " + std::to_string(producers) + " producers x " + std::to_string(window) +
               " in flight").c_str(),
              group.events_per_s, group.p50_ms, group.p99_ms, group.max_ms, group.cpu_us);
  std::printf("%-46s %10.0f %8.2f %8.2f %8.2f\n", "one commit per event, FULL, 1 producer", single.events_per_s,
              single.p50_ms, single.p99_ms, single.max_ms);
  const double rows = static_cast<double>(rep->rows);
  std::printf("%-46s %10.0f %35.2f   (%llu rows, %llu checkpoints)\n", "verify rows (quick_check, canonical, chain)",
              rows / verify_s, verify_cpu * 1e6 / rows, static_cast<unsigned long long>(rep->rows),
              static_cast<unsigned long long>(rep->checkpoints));
  std::printf("%-46s %10.0f %35.2f\n", "verify rows (canonical, chain; --no-quick-check)", rows / verify_noqc_s,
              verify_noqc_cpu * 1e6 / rows);
  std::printf("%-46s %10.0f %35.2f\n", "verify rows (chain and signatures only)", rows / verify_fast_s,
              verify_fast_cpu * 1e6 / rows);
  std::printf("\ntargets (issue 5): >= 50,000 events/s group-committed, p99 <= 10 ms, verify >= 500,000 rows/s\n");
  if (!keep) std::filesystem::remove_all(work);
  return 0;
}
