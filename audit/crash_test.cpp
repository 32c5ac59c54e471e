// Crash safety and multi-process writers (policy-audit.md C.4; audit cases R1, R2, R12): a forked child appending as
// fast as it can is SIGKILLed at random moments and every event it saw acknowledged must be stored with its content;
// four processes with several threads each append to one file and the chain must neither fork nor lose an event.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "audit/audit_test_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::RawDb;
using warden::testing::TempDir;

struct Ack {
  uint64_t seq;
  int64_t n;
};

// In the child: append forever in pipelined windows, writing (seq, n) to `fd` after each acknowledgement.
[[noreturn]] void AppendForever(const Options& o, int fd, int64_t first_n) {
  auto log = Log::Open(o);
  if (!log.ok()) _exit(3);
  int64_t n = first_n;
  for (;;) {
    std::vector<std::pair<AppendTicket, int64_t>> window;
    for (int i = 0; i < 32; ++i, ++n) {
      Event e = testutil::Simple(static_cast<int>(n % 1000));
      e.body["n"] = n;
      window.emplace_back((*log)->AppendAsync(std::move(e)), n);
    }
    for (auto& [t, id] : window) {
      auto r = t.Wait();
      if (!r.ok()) _exit(4);
      Ack a{*r, id};
      if (write(fd, &a, sizeof(a)) != static_cast<ssize_t>(sizeof(a))) _exit(5);
    }
  }
}

TEST_CASE("R1/R2: kill -9 at random moments never loses an acknowledged event", "[audit][crash]") {
  TempDir dir;
  Options o;
  o.path = dir.path() / "audit.db";
  o.key_path = dir.path() / "audit.key";
  o.checkpoint_every_events = 50;  // low enough that even a slow (sanitizer) child signs some before it dies
  REQUIRE(Keygen(o.key_path).ok());
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 250);
  uint64_t verified_upto = 0;
  int64_t next_n = 0;
  // The schema exists before the first kill, as in any deployment: a child killed inside its first open could
  // otherwise leave a file without tables, which verify rightly refuses as "not an audit database".
  REQUIRE(Log::Open(o).ok());
  constexpr int kRuns = 30;
  for (int run = 0; run < kRuns; ++run) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      AppendForever(o, fds[1], next_n);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    REQUIRE(kill(pid, SIGKILL) == 0);
    std::vector<Ack> acks;
    Ack a;
    while (read(fds[0], &a, sizeof(a)) == static_cast<ssize_t>(sizeof(a))) acks.push_back(a);
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("run " << run << ": child status " << status << ", " << acks.size() << " acknowledged");
    REQUIRE(WIFSIGNALED(status));  // it was still appending, not dead of an error
    // Every acknowledged (seq, n) is stored exactly so.
    std::map<uint64_t, int64_t> stored;
    {
      RawDb raw(o.path);
      CHECK(raw.Int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1);
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(raw.get(), "SELECT seq, json_extract(body, '$.n') FROM audit_event WHERE seq > ?", -1, &s,
                         nullptr);
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(verified_upto));
      while (sqlite3_step(s) == SQLITE_ROW) stored[sqlite3_column_int64(s, 0)] = sqlite3_column_int64(s, 1);
      sqlite3_finalize(s);
    }
    size_t missing = 0;
    for (const auto& ack : acks) {
      auto it = stored.find(ack.seq);
      if (it == stored.end() || it->second != ack.n) ++missing;
    }
    CHECK(missing == 0);
    // The chain over this run's rows links to the previous run's last verified row.
    VerifyOptions vo;
    vo.from_seq = verified_upto > 0 ? verified_upto : 0;
    auto report = Verify(o.path, vo);
    REQUIRE(report.ok());
    INFO(report->detail);
    CHECK(report->ok);
    if (!stored.empty()) {
      verified_upto = stored.rbegin()->first;
      next_n = stored.rbegin()->second + 1;
    }
  }
  auto full = Verify(o.path);
  REQUIRE(full.ok());
  CHECK(full->ok);
  CHECK(full->rows == verified_upto);
  CHECK(full->checkpoints >= 1);
}

TEST_CASE("R12: 4 processes x 4 threads append to one file - the chain never forks", "[audit][crash]") {
  TempDir dir;
  Options o;
  o.path = dir.path() / "audit.db";
  o.busy_timeout_ms = 10000;
  { REQUIRE(Log::Open(o).ok()); }  // schema first, so children only append
  constexpr int kProcs = 4, kThreads = 4, kPer = 250;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto log = Log::Open(o);
      if (!log.ok()) _exit(3);
      std::atomic<int> failures{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kPer; ++i) {
            Event e = testutil::Simple(i);
            e.principal_id = std::string("proc") + std::to_string(p);
            e.body["n"] = (p * kThreads + t) * kPer + i;
            if (!(*log)->Append(std::move(e)).ok()) ++failures;
          }
        });
      }
      for (auto& th : threads) th.join();
      log->reset();
      _exit(failures == 0 ? 0 : 6);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  constexpr int kTotal = kProcs * kThreads * kPer;
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT count(*) FROM audit_event") == kTotal);
  CHECK(raw.Int("SELECT max(seq) FROM audit_event") == kTotal);
  CHECK(raw.Int("SELECT count(DISTINCT prev_hash) FROM audit_event") == kTotal);
  CHECK(raw.Int("SELECT count(DISTINCT json_extract(body, '$.n')) FROM audit_event") == kTotal);
  CHECK(raw.Int("SELECT count(DISTINCT principal_id) FROM audit_event") == kProcs);
  auto report = Verify(o.path);
  REQUIRE(report.ok());
  CHECK(report->ok);
}

}  // namespace
}  // namespace warden::audit
