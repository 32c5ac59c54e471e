// Tamper detection (policy-audit.md B.6; audit cases R4-R10, R25-lite): each kind of edit made through a raw
// connection with the triggers dropped is reported by Verify with the right type and sequence number.
#include <catch2/catch.hpp>
#include <random>

#include "audit/audit_test_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::RawDb;
using testutil::Simple;
using warden::testing::TempDir;

// 100 events, checkpoints at 25, 50, 75, 100, a copy of every checkpoint note beside the database. Built once per
// test process (100 durable appends take a while) and copied for each test.
const TempDir& Template() {
  static TempDir dir;
  static bool built = false;
  if (!built) {
    Options o;
    o.path = dir.path() / "audit.db";
    o.key_path = dir.path() / "audit.key";
    o.checkpoint_copy_path = dir.path() / "checkpoints.txt";
    o.checkpoint_every_events = 25;
    REQUIRE(Keygen(o.key_path).ok());
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    // Synchronous appends make one batch per event, so checkpoints land exactly every 25.
    for (int i = 1; i <= 100; ++i) REQUIRE((*log)->Append(Simple(i)).ok());
    built = true;
  }
  return dir;
}

struct Fixture {
  TempDir dir;
  Options o;
  std::string pk;
  Fixture() {
    const auto& t = Template().path();
    for (const char* name : {"audit.db", "audit.key", "audit.key.pub", "checkpoints.txt"}) {
      std::filesystem::copy_file(t / name, dir.path() / name);
    }
    REQUIRE_FALSE(std::filesystem::exists(t / "audit.db-wal"));  // closed cleanly: one self-contained file
    o.path = dir.path() / "audit.db";
    o.key_path = dir.path() / "audit.key";
    o.checkpoint_copy_path = dir.path() / "checkpoints.txt";
    o.checkpoint_every_events = 25;
    pk = *PublicKeyOf(o.key_path);
  }
  VerifyReport Run(bool pinned = false, bool with_copy = false, uint64_t from = 0, bool deep = false) {
    VerifyOptions vo;
    vo.check_canonical = deep;
    vo.quick_check = deep;
    if (pinned) vo.pinned_public_keys = {pk};
    if (with_copy) vo.checkpoint_copy = o.checkpoint_copy_path;
    vo.from_seq = from;
    auto r = Verify(o.path, vo);
    REQUIRE(r.ok());
    return *r;
  }
};

void Expect(const VerifyReport& r, Problem p, uint64_t seq) {
  INFO("got " << (r.problem ? ProblemName(*r.problem) : "OK") << " at " << r.problem_seq << ": " << r.detail);
  CHECK_FALSE(r.ok);
  REQUIRE(r.problem.has_value());
  CHECK(ProblemName(*r.problem) == ProblemName(p));
  CHECK(r.problem_seq == seq);
}

TEST_CASE("an untouched log verifies with every checkpoint checked", "[audit][verify]") {
  Fixture f;
  auto r = f.Run(true, true);
  CHECK(r.ok);
  CHECK(r.rows == 100);
  CHECK(r.checkpoints == 4);
  CHECK(r.first_seq == 1);
  CHECK(r.last_seq == 100);
  CHECK(r.unanchored_tail == 0);
  CHECK(r.head_hash.size() == 64);
  auto partial = f.Run(true, true, 60);
  CHECK(partial.ok);
  CHECK(partial.rows == 41);
}

TEST_CASE("R4: one changed body byte is HASH_MISMATCH at that seq", "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    raw.MustExec("UPDATE audit_event SET body = replace(body, 'file-40', 'file-41') WHERE seq = 40");
  }
  Expect(f.Run(), Problem::kHashMismatch, 40);
}

TEST_CASE("R5: an edited indexed column (deny -> allow) is HASH_MISMATCH", "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    REQUIRE(raw.Int("SELECT decision = 'deny' FROM audit_event WHERE seq = 42") == 1);
    raw.MustExec("UPDATE audit_event SET decision = 'allow' WHERE seq = 42");
  }
  Expect(f.Run(), Problem::kHashMismatch, 42);
}

TEST_CASE("R6: a deleted middle row is a GAP at its seq", "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    raw.MustExec("DELETE FROM audit_event WHERE seq = 33");
  }
  Expect(f.Run(), Problem::kGap, 33);
}

TEST_CASE("an inserted row is caught where the chain stops linking", "[audit][verify]") {
  SECTION("appended after the head with copied hashes") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.MustExec("INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, body, prev_hash, "
                   "row_hash) SELECT 101, 'forged', ts_ns, kind, tenant_id, principal_id, body, row_hash, row_hash "
                   "FROM audit_event WHERE seq = 100");
    }
    Expect(f.Run(), Problem::kHashMismatch, 101);
  }
  SECTION("slipped into the middle, rows renumbered, the new row's hash computed correctly") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("CREATE TEMP TABLE t AS SELECT * FROM audit_event WHERE seq >= 40");
      raw.MustExec("DELETE FROM audit_event WHERE seq >= 40");
      raw.MustExec("INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, "
                   "action, decision, policy_set, body, prev_hash, row_hash) SELECT seq + 1, event_id, ts_ns, kind, "
                   "tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, prev_hash, row_hash "
                   "FROM t");
      raw.MustExec("INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, body, prev_hash, "
                   "row_hash) VALUES (40, 'forged', 1, 'policy.decision', 'default', 'mallory', '{}', zeroblob(32), "
                   "zeroblob(32))");
      // Only row 40 is rechained: the attacker makes the inserted row itself consistent.
      raw.MustExec("CREATE TEMP TABLE keep AS SELECT * FROM audit_event WHERE seq > 40");
      raw.MustExec("DELETE FROM audit_event WHERE seq > 40");
      raw.Rechain(40);
      raw.MustExec("INSERT INTO audit_event SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, "
                   "skill, action, decision, policy_set, body, prev_hash, row_hash FROM keep");
    }
    Expect(f.Run(), Problem::kPrevMismatch, 41);
  }
}

TEST_CASE("R8: swapped rows are PREV_MISMATCH at the first of them", "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    raw.MustExec("CREATE TEMP TABLE t AS SELECT * FROM audit_event WHERE seq IN (40, 41)");
    raw.MustExec("DELETE FROM audit_event WHERE seq IN (40, 41)");
    raw.MustExec("INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, "
                 "action, decision, policy_set, body, prev_hash, row_hash) SELECT 81 - seq, event_id, ts_ns, kind, "
                 "tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, prev_hash, row_hash "
                 "FROM t");
  }
  Expect(f.Run(), Problem::kPrevMismatch, 40);
}

TEST_CASE("R7: a cut tail covered by a checkpoint is TRUNCATED - without one only the copy shows it",
          "[audit][verify]") {
  SECTION("rows after seq 90 deleted, checkpoint 100 kept") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("DELETE FROM audit_event WHERE seq > 90");
    }
    Expect(f.Run(), Problem::kTruncated, 91);
  }
  SECTION("rows and the covering checkpoint deleted") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("DELETE FROM audit_event WHERE seq > 90; DELETE FROM checkpoint WHERE upto_seq > 90");
    }
    auto local = f.Run();
    CHECK(local.ok);  // the honest limit of B.4: a cut unanchored tail is invisible without an off-box copy
    CHECK(local.unanchored_tail == 15);
    Expect(f.Run(false, true), Problem::kTruncated, 91);
  }
}

TEST_CASE("R9: a rewritten chain without the key contradicts the signed checkpoint", "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    raw.MustExec("UPDATE audit_event SET decision = 'allow' WHERE seq = 30");
    raw.Rechain(30);
  }
  Expect(f.Run(), Problem::kCheckpointMismatch, 50);
}

TEST_CASE("forged checkpoints: a bad signature, an edited note, a foreign key", "[audit][verify]") {
  SECTION("signature bytes altered") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("UPDATE checkpoint SET signature = zeroblob(64) WHERE upto_seq = 50");
    }
    Expect(f.Run(), Problem::kBadSignature, 50);
  }
  SECTION("note text edited") {
    Fixture f;
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("UPDATE checkpoint SET note = replace(note, 'chain-v1', 'chain-v2') WHERE upto_seq = 75");
    }
    Expect(f.Run(), Problem::kCheckpointMismatch, 75);
  }
  SECTION("R10: chain rewritten and re-signed with the attacker's own key") {
    Fixture f;
    const auto evil = f.dir.path() / "evil.key";
    REQUIRE(Keygen(evil).ok());
    {
      RawDb raw(f.o.path);
      raw.DropTriggers();
      raw.MustExec("UPDATE audit_event SET decision = 'allow' WHERE seq = 30");
      raw.Rechain(30);
      raw.MustExec("DELETE FROM checkpoint WHERE upto_seq >= 30");
    }
    {
      Options o = f.o;
      o.key_path = evil;
      o.checkpoint_copy_path.clear();  // the attacker cannot reach the off-box copy
      auto log = Log::Open(o);
      REQUIRE(log.ok());
      REQUIRE((*log)->Checkpoint().ok());  // signs over 100 with the evil key
    }
    CHECK(f.Run().ok);  // the database alone trusts whatever key is in it...
    Expect(f.Run(true), Problem::kBadSignature, 100);   // ...a pinned key does not
    Expect(f.Run(false, true), Problem::kRewritten, 50);  // and the off-box copy disagrees from seq 50
  }
}

TEST_CASE("a non-canonical body with a consistent chain is NONCANONICAL_BODY under deep, else caught by the checkpoint",
          "[audit][verify]") {
  Fixture f;
  {
    RawDb raw(f.o.path);
    raw.DropTriggers();
    raw.MustExec("UPDATE audit_event SET body = '{ \"n\": 40, \"path\": \"/data/file-40\" }' WHERE seq = 40");
    raw.Rechain(40);
  }
  Expect(f.Run(false, false, 0, /*deep=*/true), Problem::kNoncanonicalBody, 40);
  // The default walk does not parse bodies; the re-chained rows still contradict the checkpoint signed at 50.
  Expect(f.Run(), Problem::kCheckpointMismatch, 50);
}

TEST_CASE("R25 (short): random single-byte mutations of hashed columns are all reported", "[audit][verify]") {
  std::optional<Fixture> f;
  std::mt19937 rng(12345);
  const char* columns[] = {"body", "kind", "principal_id", "task_id", "action", "event_id"};
  for (int trial = 0; trial < 12; ++trial) {
    f.emplace();  // a fresh log per mutation
    const int seq = 1 + static_cast<int>(rng() % 100);
    const char* col = columns[rng() % 6];
    {
      RawDb raw(f->o.path);
      raw.Exec("DROP TRIGGER IF EXISTS audit_event_no_update");
      // Flip the case of one character: same length, still valid JSON where it was.
      raw.MustExec(std::string("UPDATE audit_event SET ") + col + " = substr(" + col + ", 1, 2) || " +
                   "CASE WHEN substr(" + col + ", 3, 1) = 'Z' THEN 'Y' ELSE 'Z' END || substr(" + col +
                   std::string(", 4) WHERE seq = ") + std::to_string(seq));
    }
    auto r = f->Run();
    INFO("trial " << trial << " seq " << seq << " column " << col);
    CHECK_FALSE(r.ok);
    CHECK(r.problem_seq == static_cast<uint64_t>(seq));
  }
}

}  // namespace
}  // namespace warden::audit
