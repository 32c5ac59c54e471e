// The child process of bench/audit_throughput/kill_runs.sh (issue 5: 100 kill -9 runs): appends pipelined windows of
// events as fast as it can and prints "<seq> <n>" on stdout after each acknowledgement (the event's body carries n),
// until it is killed. Usage: warden_audit_crash_child DB KEY FIRST_N
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "audit/audit.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DB KEY FIRST_N\n", argv[0]);
    return 2;
  }
  warden::audit::Options o;
  o.path = argv[1];
  o.key_path = argv[2];
  o.checkpoint_every_events = 500;
  auto log = warden::audit::Log::Open(o);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  long long n = std::atoll(argv[3]);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // every acknowledgement reaches the pipe before the next one is waited on
  for (;;) {
    std::vector<std::pair<warden::audit::AppendTicket, long long>> window;
    for (int i = 0; i < 64; ++i, ++n) {
      warden::audit::Event e;
      e.kind = "policy.decision";
      e.principal_id = "crash-child";
      e.action = "fs.read";
      e.decision = "allow";
      e.body = {{"n", n}, {"path", "/data/file-" + std::to_string(n)}};
      window.emplace_back((*log)->AppendAsync(std::move(e)), n);
    }
    for (auto& [ticket, id] : window) {
      auto seq = ticket.Wait();
      if (!seq.ok()) {
        std::fprintf(stderr, "%s\n", seq.status().ToString().c_str());
        return 1;
      }
      std::printf("%llu %lld\n", static_cast<unsigned long long>(*seq), id);
    }
  }
}
