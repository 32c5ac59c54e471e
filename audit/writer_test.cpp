// The writer: durability and round trip, group commit from many threads, checkpoints, fail-closed behaviour (disk
// full through FailingVfs, lock timeout, queue full, corrupt file), append-only triggers (audit cases R11, R14-R17,
// R20, R21).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "audit/audit_test_util.h"
#include "tests/doubles/failing_vfs.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::RawDb;
using testutil::Simple;
using warden::testing::TempDir;

Options Opts(const TempDir& dir) {
  Options o;
  o.path = dir.path() / "audit.db";
  return o;
}

TEST_CASE("round trip of every event kind: what Append returns is what Query reads back", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE(log.ok());
  auto events = testutil::SampleEvents();
  std::vector<uint64_t> seqs;
  for (const auto& e : events) {
    auto seq = (*log)->Append(e);
    REQUIRE(seq.ok());
    seqs.push_back(*seq);
  }
  for (size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  auto rows = Query(dir.path() / "audit.db", {});
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& in = events[i];
    const auto& out = (*rows)[i].event;
    INFO(in.kind);
    CHECK((*rows)[i].seq == seqs[i]);
    CHECK(out.kind == in.kind);
    CHECK(out.tenant_id == in.tenant_id);
    CHECK(out.principal_id == in.principal_id);
    CHECK(out.task_id == in.task_id);
    CHECK(out.skill == in.skill);
    CHECK(out.action == in.action);
    CHECK(out.decision == in.decision);
    CHECK(out.policy_set == in.policy_set);
    CHECK(out.body == in.body);
    CHECK(out.ts_ns > 0);
    CHECK(out.event_id.size() == 36);
  }
  auto report = (*log)->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->rows == events.size());
}

TEST_CASE("Append returns only after the row is visible to another connection", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE(log.ok());
  RawDb raw(dir.path() / "audit.db");
  for (int i = 1; i <= 20; ++i) {
    auto seq = (*log)->Append(Simple(i));
    REQUIRE(seq.ok());
    CHECK(raw.Int("SELECT max(seq) FROM audit_event") == static_cast<int64_t>(*seq));
  }
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw.get(), "PRAGMA journal_mode", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) == "wal");
  sqlite3_finalize(s);
}

TEST_CASE("invalid events are refused with the field named and nothing is written", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE(log.ok());
  Event e = Simple(1);
  e.decision = "maybe";
  auto r = (*log)->Append(e);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message().find("maybe") != std::string::npos);
  e = Simple(2);
  e.principal_id = "";
  r = (*log)->Append(e);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("principal_id") != std::string::npos);
  e = Simple(3);
  e.body = {{"latency", 0.25}};
  CHECK_FALSE((*log)->Append(e).ok());
  CHECK(*(*log)->Append(Simple(4)) == 1);  // the refused events consumed no seq
}

TEST_CASE("AppendAsync from many threads: group commit, unique gapless seqs", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE(log.ok());
  constexpr int kThreads = 8, kPer = 500;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<AppendTicket> tickets;
      for (int i = 0; i < kPer; ++i) tickets.push_back((*log)->AppendAsync(Simple(t * kPer + i)));
      for (auto& tk : tickets) {
        auto r = tk.Wait();
        got[t].push_back(r.ok() ? *r : 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : got) {
    for (size_t i = 1; i < v.size(); ++i) CHECK(v[i] > v[i - 1]);  // one producer's events keep their order
    all.insert(v.begin(), v.end());
  }
  CHECK(all.size() == kThreads * kPer);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == kThreads * kPer);
  RawDb raw(dir.path() / "audit.db");
  CHECK(raw.Int("SELECT count(DISTINCT prev_hash) FROM audit_event") == kThreads * kPer);
  CHECK((*log)->Verify()->ok);
}

TEST_CASE("a duplicate event_id fails alone - the rest of its batch commits", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE(log.ok());
  Event a = Simple(1);
  a.event_id = "fixed-id";
  REQUIRE((*log)->Append(a).ok());
  std::vector<AppendTicket> t;
  t.push_back((*log)->AppendAsync(Simple(2)));
  t.push_back((*log)->AppendAsync(a));
  t.push_back((*log)->AppendAsync(Simple(3)));
  CHECK(t[0].Wait().ok());
  auto dup = t[1].Wait();
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message().find("fixed-id") != std::string::npos);
  CHECK(t[2].Wait().ok());
  auto rows = Query(dir.path() / "audit.db", {});
  CHECK(rows->size() == 3);
  CHECK((*log)->Verify()->ok);
}

TEST_CASE("R11: the triggers refuse UPDATE and DELETE on events and checkpoints", "[audit][writer]") {
  TempDir dir;
  {
    Options o = Opts(dir);
    o.key_path = dir.path() / "audit.key";
    REQUIRE(Keygen(o.key_path).ok());
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(Simple(1)).ok());
    REQUIRE((*log)->Checkpoint().ok());
  }
  RawDb raw(dir.path() / "audit.db");
  std::string err;
  CHECK(raw.Exec("UPDATE audit_event SET decision = 'allow'", &err) != SQLITE_OK);
  CHECK(err.find("append-only") != std::string::npos);
  CHECK(raw.Exec("DELETE FROM audit_event", &err) != SQLITE_OK);
  CHECK(err.find("retention") != std::string::npos);
  CHECK(raw.Exec("DELETE FROM checkpoint") != SQLITE_OK);
  CHECK(raw.Exec("UPDATE checkpoint SET ts_ns = 0") != SQLITE_OK);
  CHECK(raw.Int("SELECT count(*) FROM checkpoint") == 1);
  CHECK(raw.Int("SELECT count(*) FROM audit_event") == 1);
}

TEST_CASE("keygen writes a 0600 seed and a public key, and refuses to overwrite", "[audit][writer]") {
  TempDir dir;
  const auto key = dir.path() / "k" / "audit.key";
  auto pk = Keygen(key);
  REQUIRE(pk.ok());
  CHECK(pk->size() == 64);
  struct stat st{};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(*PublicKeyOf(key) == *pk);
  auto again = Keygen(key);
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message().find("already exists") != std::string::npos);
  auto forced = Keygen(key, true);
  REQUIRE(forced.ok());
  CHECK(*forced != *pk);
  std::ofstream(dir.path() / "bad.key") << "not hex\n";
  auto bad = PublicKeyOf(dir.path() / "bad.key");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("64 hex digits") != std::string::npos);
}

TEST_CASE("checkpoints are signed every K events, on demand and at close", "[audit][writer]") {
  TempDir dir;
  Options o = Opts(dir);
  o.key_path = dir.path() / "audit.key";
  o.checkpoint_every_events = 10;
  o.checkpoint_copy_path = dir.path() / "checkpoints.txt";
  REQUIRE(Keygen(o.key_path).ok());
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    for (int i = 1; i <= 25; ++i) REQUIRE((*log)->Append(Simple(i)).ok());
    auto cp = (*log)->Checkpoint();
    REQUIRE(cp.ok());
    CHECK(cp->upto_seq == 25);
    CHECK(cp->created);
    CHECK(cp->note.find("/chain-v1\n25\n") != std::string::npos);
    auto again = (*log)->Checkpoint();  // nothing new: the existing checkpoint is returned
    REQUIRE(again.ok());
    CHECK_FALSE(again->created);
    CHECK(again->ts_ns == cp->ts_ns);
    for (int i = 26; i <= 27; ++i) REQUIRE((*log)->Append(Simple(i)).ok());
  }  // close signs over 27
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT group_concat(upto_seq) IS NOT NULL FROM checkpoint") == 1);
  CHECK(raw.Int("SELECT count(*) FROM checkpoint WHERE upto_seq IN (10, 20, 25, 27)") == 4);
  VerifyOptions vo;
  vo.pinned_public_keys = {*PublicKeyOf(o.key_path)};
  vo.checkpoint_copy = o.checkpoint_copy_path;
  auto report = Verify(o.path, vo);
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->checkpoints == 4);
  CHECK(report->unanchored_tail == 0);
}

TEST_CASE("Checkpoint without a key says how to make one", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  REQUIRE((*log)->Append(Simple(1)).ok());
  auto cp = (*log)->Checkpoint();
  REQUIRE_FALSE(cp.ok());
  CHECK(cp.status().message().find("warden audit keygen") != std::string::npos);
}

TEST_CASE("R14/R15: disk full fails the batch closed, keeps earlier rows, and the log resumes after",
          "[audit][writer]") {
  warden::testing::RegisterFailingVfs();
  TempDir dir;
  Options o = Opts(dir);
  o.vfs = "failing";
  auto log = Log::Open(o);
  REQUIRE(log.ok());
  for (int i = 1; i <= 50; ++i) REQUIRE((*log)->Append(Simple(i)).ok());
  warden::testing::FailWritesAfter(0);
  auto full = (*log)->Append(Simple(51));
  const int refused = warden::testing::FailedWrites();
  // Several more attempts while the disk stays full: each fails, none is half-written.
  auto full2 = (*log)->Append(Simple(52));
  warden::testing::HealFailingVfs();
  REQUIRE_FALSE(full.ok());
  CHECK(refused > 0);
  CHECK(full.status().code() == Status::Code::kResourceExhausted);
  CHECK(full.status().message().find("disk is full") != std::string::npos);
  CHECK_FALSE(full2.ok());
  auto after = (*log)->Append(Simple(53));
  REQUIRE(after.ok());
  CHECK(*after == 51);
  auto rows = Query(o.path, {});
  REQUIRE(rows->size() == 51);
  CHECK((*rows)[49].event.body["n"] == 50);
  CHECK((*rows)[50].event.body["n"] == 53);
  CHECK((*log)->Verify()->ok);
}

TEST_CASE("a lock held past the busy timeout fails the append as unavailable, then writing resumes",
          "[audit][writer]") {
  TempDir dir;
  Options o = Opts(dir);
  o.busy_timeout_ms = 200;
  auto log = Log::Open(o);
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(Simple(1)).ok());
  {
    RawDb other(o.path);
    other.MustExec("BEGIN IMMEDIATE");
    auto r = (*log)->Append(Simple(2));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kUnavailable);
    CHECK(r.status().message().find("busy timeout") != std::string::npos);
    other.MustExec("ROLLBACK");
  }
  CHECK(*(*log)->Append(Simple(3)) == 2);
}

TEST_CASE("R20: a full queue blocks producers, then fails them as audit unavailable", "[audit][writer]") {
  TempDir dir;
  Options o = Opts(dir);
  o.busy_timeout_ms = 1500;
  o.queue_capacity = 1;
  o.queue_wait_ms = 100;
  o.batch_max_events = 1;
  auto log = Log::Open(o);
  REQUIRE(log.ok());
  RawDb other(o.path);
  other.MustExec("BEGIN IMMEDIATE");
  auto first = (*log)->AppendAsync(Simple(1));  // the writer takes it and waits for the lock
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto second = (*log)->AppendAsync(Simple(2));  // fills the queue
  auto third = (*log)->AppendAsync(Simple(3));   // no room for 100 ms
  auto r3 = third.Wait();
  REQUIRE_FALSE(r3.ok());
  CHECK(r3.status().code() == Status::Code::kUnavailable);
  CHECK(r3.status().message().find("audit unavailable") != std::string::npos);
  other.MustExec("ROLLBACK");
  // Whatever the first two got, the answer is definite and consistent with the table.
  auto r1 = first.Wait();
  auto r2 = second.Wait();
  const int64_t ok_count = (r1.ok() ? 1 : 0) + (r2.ok() ? 1 : 0);
  CHECK(other.Int("SELECT count(*) FROM audit_event") == ok_count);
}

TEST_CASE("a damaged or foreign file is refused at open with a corruption error", "[audit][writer]") {
  TempDir dir;
  Options o = Opts(dir);
  std::ofstream(o.path) << std::string(8192, 'Z');
  auto log = Log::Open(o);
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Status::Code::kCorruption);
  CHECK(log.status().message().find(o.path.string()) != std::string::npos);
  // A SQLite file that is not an audit log.
  const auto other = dir.path() / "other.db";
  {
    RawDb raw(other);
    raw.MustExec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema_version','9')");
  }
  o.path = other;
  auto foreign = Log::Open(o);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.status().message().find("schema_version") != std::string::npos);
}

TEST_CASE("R21: a clock stepping back is accepted - verify warns, seq order stands", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  Event e = Simple(1);
  e.ts_ns = 2'000'000'000'000'000'000;
  REQUIRE((*log)->Append(e).ok());
  e = Simple(2);
  e.ts_ns = 1'999'999'990'000'000'000;  // 10 s back
  REQUIRE((*log)->Append(e).ok());
  auto report = (*log)->Verify();
  REQUIRE(report.ok());
  CHECK(report->ok);
  REQUIRE(report->warnings.size() == 1);
  CHECK(report->warnings[0].find("seq 2") != std::string::npos);
}

TEST_CASE("R16: a 10 MiB tool argument is stored capped and the row verifies", "[audit][writer]") {
  TempDir dir;
  auto log = Log::Open(Opts(dir));
  Event e = Simple(1);
  const std::string big(10 << 20, 'q');
  e.body = {{"args", {{"content", big}}}};
  REQUIRE((*log)->Append(e).ok());
  RawDb raw(dir.path() / "audit.db");
  CHECK(raw.Int("SELECT length(body) FROM audit_event") < 65536);
  auto rows = Query(dir.path() / "audit.db", {});
  CHECK((*rows)[0].event.body["args"]["content"]["$trunc"]["sha256"] == detail::Hex(detail::Sha256(big)));
  CHECK((*log)->Verify()->ok);
}

TEST_CASE("R16: the string cap is an option - a value over it keeps a head no longer than the cap, its length and digest",
          "[audit][writer]") {
  TempDir dir;
  Options o = Opts(dir);
  o.max_string_bytes = 100;
  auto log = Log::Open(o);
  REQUIRE(log.ok());
  Event e = Simple(1);
  std::string output(5000, 'o');
  output.replace(0, 5, "head:");
  e.body = {{"output", output}, {"exact", std::string(100, 'e')}, {"over", std::string(101, 'v')}};
  REQUIRE((*log)->Append(e).ok());
  auto rows = Query(o.path, {});
  REQUIRE(rows.ok());
  const auto& body = (*rows)[0].event.body;
  CHECK(body["exact"] == std::string(100, 'e'));  // at the cap: stored as it is
  const auto& t = body["output"]["$trunc"];
  CHECK(t["head"] == output.substr(0, 100));
  CHECK(t["len"] == 5000);
  CHECK(t["sha256"] == detail::Hex(detail::Sha256(output)));
  CHECK(body["over"]["$trunc"]["head"] == std::string(100, 'v'));
  CHECK(body["over"]["$trunc"]["len"] == 101);
  CHECK((*log)->Verify()->ok);
}

}  // namespace
}  // namespace warden::audit
