// Retention, key rotation, redaction and self-verifying exports (policy-audit.md B.2 "Large or sensitive values",
// B.4 rotation, B.6 step 7, B.7; audit cases R17, R22, R23), plus the storage cases R3 (power loss), R13 (why the
// writer must BEGIN IMMEDIATE) and R24 (a long export while writing).
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "audit/audit_test_util.h"
#include "runtime/base/file_util.h"
#include "tests/doubles/power_loss_vfs.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::RawDb;
using testutil::Simple;
using warden::testing::TempDir;

constexpr int64_t kDay = 86'400'000'000'000;

struct Setup {
  TempDir dir;
  Options o;
  explicit Setup(int checkpoint_every = 10) {
    o.path = dir.path() / "audit.db";
    o.key_path = dir.path() / "audit.key";
    o.checkpoint_every_events = checkpoint_every;
    REQUIRE(Keygen(o.key_path).ok());
  }
  // `n` events stamped `age_days` ago. One by one (the default) makes one batch per event, so checkpoints land exactly
  // every checkpoint_every; `burst` queues them all at once.
  void Fill(Log& log, int first, int n, int64_t age_days, bool burst = false) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<AppendTicket> t;
    for (int i = first; i < first + n; ++i) {
      Event e = Simple(i);
      e.ts_ns = now - age_days * kDay + i;
      t.push_back(log.AppendAsync(std::move(e)));
      if (!burst) REQUIRE(t.back().Wait().ok());
    }
    for (auto& x : t) REQUIRE(x.Wait().ok());
  }
  VerifyReport Check(std::vector<std::string> pins = {}) {
    VerifyOptions vo;
    vo.pinned_public_keys = std::move(pins);
    auto r = Verify(o.path, vo);
    REQUIRE(r.ok());
    INFO((r->problem ? ProblemName(*r->problem) : "OK") << " at " << r->problem_seq << ": " << r->detail);
    return *r;
  }
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_CASE("R17: secret keys and configured secret paths are stored as $redacted with the length only",
          "[audit][retention]") {
  Setup s;
  s.o.redact_paths = {"$.request.headers.x-custom-auth", "args.*.pin"};
  auto log = Log::Open(s.o);
  REQUIRE(log.ok());
  Event e = Simple(1);
  const std::string secret = "sk-live-0123456789abcdef";
  e.body = {{"args", {{"api_key", secret}, {"user", {{"pin", 4242}}}, {"path", "/tmp/x"}}},
            {"request", {{"headers", {{"Authorization", "Bearer " + secret}, {"x-custom-auth", "hunter2"},
                                      {"accept", "text/plain"}}}}},
            {"list", {{{"password", "pw-in-an-array"}}}}};
  REQUIRE((*log)->Append(e).ok());
  log->reset();
  QueryFilter all;
  auto rows = Query(s.o.path, all);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  const auto& b = (*rows)[0].event.body;
  CHECK(b["args"]["api_key"] == nlohmann::json({{"$redacted", true}, {"len", secret.size()}}));
  CHECK(b["request"]["headers"]["Authorization"]["$redacted"] == true);
  CHECK(b["request"]["headers"]["Authorization"]["len"] == secret.size() + 7);
  CHECK(b["request"]["headers"]["x-custom-auth"]["len"] == 7);
  CHECK(b["args"]["user"]["pin"] == nlohmann::json({{"$redacted", true}, {"len", 4}}));  // "4242" as JSON text
  CHECK(b["list"][0]["password"]["$redacted"] == true);
  CHECK(b["args"]["path"] == "/tmp/x");
  CHECK(b["request"]["headers"]["accept"] == "text/plain");
  // Nothing of the secrets reaches the file, not even a digest of them.
  const std::string file = *ReadFile(s.o.path);
  CHECK(file.find(secret) == std::string::npos);
  CHECK(file.find("hunter2") == std::string::npos);
  CHECK(file.find(detail::Hex(detail::Sha256(secret))) == std::string::npos);
  CHECK(s.Check().ok);
}

TEST_CASE("R22: prune archives old rows, anchors the chain on a signed checkpoint and still verifies",
          "[audit][retention]") {
  Setup s;
  auto log = Log::Open(s.o);
  REQUIRE(log.ok());
  s.Fill(**log, 1, 35, 500);  // old: checkpoints at 10, 20, 30
  s.Fill(**log, 36, 15, 1);   // recent
  PruneOptions po;
  po.before_ns = NowNs() - 400 * kDay;
  po.archive = s.dir.path() / "archive" / "pruned.jsonl";
  auto r = (*log)->Prune(po);
  REQUIRE(r.ok());
  REQUIRE(r->pruned);
  // The cut lands on the last signed checkpoint before the first kept row: 30, not 35.
  CHECK(r->first_kept_seq == 31);
  CHECK(r->pruned_rows == 30);
  CHECK(r->event_seq == 51);
  const auto before = s.Check();
  CHECK(before.ok);
  CHECK(before.first_seq == 31);
  CHECK(before.last_seq == 51);
  CHECK(before.unanchored_tail == 0);  // the prune is sealed by a checkpoint in the same transaction
  s.Fill(**log, 52, 5, 0);
  CHECK(s.Check().ok);

  // The audit.pruned event names the anchor and the archive's digest.
  QueryFilter pruned;
  pruned.kind = "audit.pruned";
  auto ev = Query(s.o.path, pruned);
  REQUIRE(ev.ok());
  REQUIRE(ev->size() == 1);
  CHECK((*ev)[0].event.body["first_seq"] == 31);
  CHECK((*ev)[0].event.body["archive_sha256"] == r->archive_sha256);
  CHECK(detail::Hex(detail::Sha256(*ReadFile(po.archive))) == r->archive_sha256);

  // The archive verifies on its own, pinned to the log's key, and ends exactly on the anchor's checkpoint.
  VerifyOptions pin;
  pin.pinned_public_keys = {*PublicKeyOf(s.o.key_path)};
  auto a = VerifyExport(po.archive, pin);
  REQUIRE(a.ok());
  CHECK(a->ok);
  CHECK(a->rows == 30);
  CHECK(a->first_seq == 1);
  CHECK(a->last_seq == 30);
  CHECK(a->unanchored_tail == 0);

  // An existing archive is never overwritten (it may be the only copy of earlier rows).
  auto reuse = (*log)->Prune(po);
  REQUIRE_FALSE(reuse.ok());
  CHECK(reuse.status().message().find("already exists") != std::string::npos);
  // A second prune with nothing old left does nothing.
  PruneOptions po2 = po;
  po2.archive = s.dir.path() / "archive" / "second.jsonl";
  auto again = (*log)->Prune(po2);
  REQUIRE(again.ok());
  CHECK_FALSE(again->pruned);
  CHECK_FALSE(std::filesystem::exists(po2.archive));
  log->reset();

  SECTION("rows deleted behind a forged anchor without a signed prune record are reported") {
    RawDb raw(s.o.path);
    raw.DropTriggers();
    // The attacker moves the anchor to the checkpoint at 40 and deletes 31..40: the checkpoint is real, but no
    // signed audit.pruned event names this anchor.
    raw.MustExec("INSERT INTO retention_anchor SELECT 41, head_hash, 10, 'x', 0, 0 FROM checkpoint WHERE upto_seq = 40");
    raw.MustExec("DELETE FROM audit_event WHERE seq <= 40");
    const auto v = s.Check();
    CHECK_FALSE(v.ok);
    REQUIRE(v.problem);
    CHECK(ProblemName(*v.problem) == "GAP");
    CHECK(v.problem_seq == 1);
  }
  SECTION("an anchor that does not land on a signed checkpoint is reported") {
    RawDb raw(s.o.path);
    raw.DropTriggers();
    raw.MustExec("INSERT INTO retention_anchor SELECT 46, prev_hash, 15, 'x', 0, 0 FROM audit_event WHERE seq = 46");
    raw.MustExec("DELETE FROM audit_event WHERE seq <= 45");
    const auto v = s.Check();
    REQUIRE(v.problem);
    CHECK(ProblemName(*v.problem) == "CHECKPOINT_MISMATCH");
    CHECK(v.problem_seq == 46);
  }
  SECTION("an edited archive row fails the archive's own check") {
    std::string text = *ReadFile(po.archive);
    const size_t at = text.find("/data/file-7\"");
    REQUIRE(at != std::string::npos);
    text[at + 11] = '8';
    REQUIRE(WriteFileAtomic(po.archive, text).ok());
    auto bad = VerifyExport(po.archive, pin);
    REQUIRE(bad.ok());
    REQUIRE(bad->problem);
    CHECK(ProblemName(*bad->problem) == "HASH_MISMATCH");
    CHECK(bad->problem_seq == 7);
  }
}

TEST_CASE("R22: prune needs the key and honours a legal hold", "[audit][retention]") {
  Setup s;
  {
    auto log = Log::Open(s.o);
    REQUIRE(log.ok());
    s.Fill(**log, 1, 12, 500);
  }
  PruneOptions po;
  po.before_ns = NowNs();
  po.archive = s.dir.path() / "a.jsonl";
  Options nokey = s.o;
  nokey.key_path.clear();
  auto log = Log::Open(nokey);
  REQUIRE(log.ok());
  auto r = (*log)->Prune(po);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("signing key") != std::string::npos);
  log->reset();
  Options hold = s.o;
  hold.legal_hold = true;
  log = Log::Open(hold);
  REQUIRE(log.ok());
  r = (*log)->Prune(po);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("legal hold") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(po.archive));
  log->reset();
  // Everything older than the cutoff: the head is signed and the whole chain goes to the archive.
  log = Log::Open(s.o);
  REQUIRE(log.ok());
  r = (*log)->Prune(po);
  REQUIRE(r.ok());
  CHECK(r->pruned);
  CHECK(r->pruned_rows == 12);
  CHECK(r->first_kept_seq == 13);
  log->reset();
  CHECK(s.Check().ok);
}

TEST_CASE("R23: key rotation mid-log - old and new checkpoints verify, the rotation is sealed by the old key",
          "[audit][retention]") {
  Setup s;
  const std::string old_pk = *PublicKeyOf(s.o.key_path);
  const auto next = s.dir.path() / "next.key";
  const std::string new_pk = *Keygen(next);
  {
    auto log = Log::Open(s.o);
    REQUIRE(log.ok());
    s.Fill(**log, 1, 15, 0);
    auto id = (*log)->RotateKey(next);
    REQUIRE(id.ok());
    uint8_t raw_pk[32];
    REQUIRE(detail::FromHex(new_pk, raw_pk, 32));
    CHECK(*id == detail::Hex(detail::KeyIdOf(raw_pk).data(), 4));
    s.Fill(**log, 16, 15, 0);
  }
  CHECK(s.Check({old_pk, new_pk}).ok);
  RawDb raw(s.o.path);
  const int64_t rot = raw.Int("SELECT seq FROM audit_event WHERE kind = 'audit.key_rotated'");
  REQUIRE(rot > 15);
  // The checkpoint right at the rotation event is signed by the old key; every later one by the new key.
  uint8_t old_raw[32], new_raw[32];
  REQUIRE(detail::FromHex(old_pk, old_raw, 32));
  REQUIRE(detail::FromHex(new_pk, new_raw, 32));
  const std::string old_id = detail::Hex(detail::KeyIdOf(old_raw).data(), 4);
  const std::string new_id = detail::Hex(detail::KeyIdOf(new_raw).data(), 4);
  CHECK(raw.Int("SELECT count(*) FROM checkpoint WHERE upto_seq = " + std::to_string(rot) + " AND hex(key_id) = upper('" +
                old_id + "')") == 1);
  CHECK(raw.Int("SELECT count(*) FROM checkpoint WHERE upto_seq > " + std::to_string(rot) +
                " AND hex(key_id) <> upper('" + new_id + "')") == 0);
  CHECK(raw.Int("SELECT count(*) FROM checkpoint WHERE upto_seq > " + std::to_string(rot)) >= 1);
  // Pinning only the old key rejects the new key's checkpoints.
  const auto old_only = s.Check({old_pk});
  REQUIRE(old_only.problem);
  CHECK(ProblemName(*old_only.problem) == "BAD_SIGNATURE");
  CHECK(old_only.problem_seq > static_cast<uint64_t>(rot));

  SECTION("a checkpoint signed by the retired key after its retirement is BAD_SIGNATURE") {
    auto old_key = detail::LoadKey(s.o.key_path);
    REQUIRE(old_key.ok());
    const int64_t last = raw.Int("SELECT max(seq) FROM audit_event");
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.get(), "SELECT row_hash FROM audit_event WHERE seq = ?", -1, &st, nullptr) ==
            SQLITE_OK);
    sqlite3_bind_int64(st, 1, last);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    detail::Hash head{};
    std::memcpy(head.data(), sqlite3_column_blob(st, 0), 32);
    sqlite3_finalize(st);
    // Someone holding the leaked old key signs a fresh checkpoint over a later head.
    raw.MustExec("DROP TRIGGER checkpoint_no_delete");
    raw.MustExec("DELETE FROM checkpoint WHERE upto_seq = " + std::to_string(last));
    const int64_t ts = raw.Int("SELECT max(ts_ns) FROM checkpoint") + 1;
    const std::string origin = detail::MetaValue(raw.get(), "origin");
    const std::string body = detail::NoteBody(origin, static_cast<uint64_t>(last), head, ts);
    const auto sig = detail::Sign(*old_key, body);
    const std::string note = detail::NoteText(body, origin, old_key->key_id, sig.data());
    REQUIRE(sqlite3_prepare_v2(raw.get(),
                               "INSERT INTO checkpoint(upto_seq, head_hash, ts_ns, key_id, note, signature) "
                               "VALUES (?,?,?,?,?,?)", -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, last);
    sqlite3_bind_blob(st, 2, head.data(), 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_blob(st, 4, old_key->key_id.data(), 4, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, note.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, sig.data(), 64, SQLITE_STATIC);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    const auto v = s.Check();
    REQUIRE(v.problem);
    CHECK(ProblemName(*v.problem) == "BAD_SIGNATURE");
    CHECK(v.problem_seq == static_cast<uint64_t>(last));
  }
}

TEST_CASE("a filtered export carries its proof and verifies without the database - edits to it are caught",
          "[audit][retention]") {
  Setup s;
  {
    auto log = Log::Open(s.o);
    REQUIRE(log.ok());
    s.Fill(**log, 1, 47, 0);  // checkpoints at 10..40, and 47 at close
  }
  QueryFilter f;
  f.task = "t3";  // every fifth row: 3, 8, 13, ...
  auto ex = Export(s.o.path, f, OutputFormat::kJsonl);
  REQUIRE(ex.ok());
  CHECK(ex->events == 9);
  CHECK(ex->checkpoints >= 4);
  const auto file = s.dir.path() / "export.jsonl";
  REQUIRE(WriteFileAtomic(file, ex->text).ok());
  VerifyOptions pin;
  pin.pinned_public_keys = {*PublicKeyOf(s.o.key_path)};
  auto v = VerifyExport(file, pin);
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->rows == 9);
  CHECK(v->first_seq == 3);
  CHECK(v->last_seq == 43);
  CHECK(v->checkpoints == ex->checkpoints);
  auto unpinned = VerifyExport(file);
  REQUIRE(unpinned.ok());
  CHECK(unpinned->ok);
  CHECK_FALSE(unpinned->warnings.empty());  // says the keys came from the file itself

  auto tamper = [&](const std::string& from, const std::string& to) {
    std::string t = ex->text;
    const size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    REQUIRE(WriteFileAtomic(file, t).ok());
    auto r = VerifyExport(file, pin);
    REQUIRE(r.ok());
    REQUIRE(r->problem);
    return std::make_pair(ProblemName(*r->problem), r->problem_seq);
  };
  SECTION("a changed decision") {
    const auto [type, seq] = tamper("\"decision\":\"deny\"", "\"decision\":\"allow\"");
    CHECK(type == "HASH_MISMATCH");
    CHECK(seq == 3);
  }
  SECTION("a dropped link line") {
    const size_t a = ex->text.find("{\"$link\":{\"content\":");
    const size_t b = ex->text.find('\n', a);
    const std::string line = ex->text.substr(a, b - a + 1);
    const std::string seq_text = line.substr(line.find("\"seq\":") + 6);
    const auto [type, seq] = tamper(line, "");
    CHECK(type == "GAP");
    CHECK(seq == std::stoull(seq_text));
  }
  SECTION("a forged checkpoint signature") {
    const size_t a = ex->text.find("\"signature\":\"") + 13;
    std::string sig = ex->text.substr(a, 128);
    std::string forged = sig;
    forged[0] = forged[0] == '0' ? '1' : '0';
    const auto [type, seq] = tamper(sig, forged);
    CHECK(type == "BAD_SIGNATURE");
  }
  SECTION("a CSV export writes the proof beside it") {
    auto csv = Export(s.o.path, f, OutputFormat::kCsv);
    REQUIRE(csv.ok());
    CHECK(csv->text.find("$link") == std::string::npos);
    CHECK(csv->proof.find("$checkpoint") != std::string::npos);
  }
}

TEST_CASE("R3: a power cut keeps every acknowledged event and the surviving prefix verifies", "[audit][retention]") {
  testing::RegisterPowerLossVfs();
  Setup s(16);
  s.o.vfs = "power_loss";
  auto log = Log::Open(s.o);
  REQUIRE(log.ok());
  const auto image = s.dir.path() / "after-power-cut.db";
  uint64_t acked = 0;
  for (int round = 0; round < 6; ++round) {
    std::vector<AppendTicket> t;
    for (int i = 0; i < 25; ++i) t.push_back((*log)->AppendAsync(Simple(round * 25 + i)));
    // Cut the power while the next batch may be mid-write: whatever was acknowledged must be in the synced image.
    for (auto& x : t) {
      auto seq = x.Wait();
      REQUIRE(seq.ok());
      acked = std::max(acked, *seq);
    }
    (*log)->AppendAsync(Simple(1000 + round));  // in flight at the cut; may or may not survive
    testing::WritePowerLossImage(s.o.path, image);
    VerifyOptions vo;
    auto v = Verify(image, vo);
    REQUIRE(v.ok());
    INFO("round " << round << ": " << v->detail);
    CHECK(v->ok);
    CHECK(v->last_seq >= acked);
    // Checkpoints only ever cover synced rows: none points past the surviving tail.
    CHECK(v->unanchored_tail <= v->rows);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(image.string() + suffix);
  }
}

TEST_CASE("R13: a deferred BEGIN that read first gets SQLITE_BUSY at once despite busy_timeout", "[audit][retention]") {
  Setup s;
  {
    auto log = Log::Open(s.o);
    REQUIRE(log.ok());
    s.Fill(**log, 1, 3, 0);
  }
  RawDb a(s.o.path), b(s.o.path);
  a.MustExec("BEGIN");  // deferred: takes a read snapshot at the first SELECT
  CHECK(a.Int("SELECT max(seq) FROM audit_event") == 3);
  b.MustExec("BEGIN IMMEDIATE");
  b.MustExec("INSERT INTO meta(key, value) VALUES ('r13', 'x')");
  b.MustExec("COMMIT");
  const auto t0 = std::chrono::steady_clock::now();
  std::string err;
  const int rc = a.Exec("INSERT INTO meta(key, value) VALUES ('r13b', 'y')", &err);
  const auto waited = std::chrono::steady_clock::now() - t0;
  // The snapshot is stale, so SQLite cannot upgrade it to a write lock; waiting would not help, and it does not.
  CHECK((rc & 0xFF) == SQLITE_BUSY);
  CHECK(waited < std::chrono::seconds(2));  // busy_timeout is 5 s
  a.Exec("ROLLBACK");
}

TEST_CASE("R24: a long export during writes neither blocks them nor leaves the WAL growing", "[audit][retention]") {
  Setup s(1000);
  auto log = Log::Open(s.o);
  REQUIRE(log.ok());
  s.Fill(**log, 1, 200, 0, true);
  std::atomic<bool> exporting{true};
  std::thread reader([&] {
    // A reader holding one snapshot for the whole export, as a slow `audit export` would.
    RawDb r(s.o.path);
    r.MustExec("BEGIN");
    CHECK(r.Int("SELECT count(*) FROM audit_event") >= 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    auto ex = Export(s.o.path, QueryFilter{}, OutputFormat::kJsonl);
    CHECK(ex.ok());
    r.MustExec("COMMIT");
    exporting = false;
  });
  int during = 0;
  for (int i = 0; exporting; ++i) {
    s.Fill(**log, 1000 + i * 50, 50, 0, true);
    during += 50;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  reader.join();
  CHECK(during >= 100);  // writes went on while the snapshot was held
  s.Fill(**log, 100000, 200, 0, true);
  // After the reader is gone a PASSIVE checkpoint folds the whole WAL back.
  RawDb raw(s.o.path);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.get(), "PRAGMA wal_checkpoint(PASSIVE)", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 0);                                  // not busy
  CHECK(sqlite3_column_int(st, 1) == sqlite3_column_int(st, 2));          // every WAL frame checkpointed
  sqlite3_finalize(st);
  // The next commit restarts the WAL from its start, cut to journal_size_limit (64 MiB).
  s.Fill(**log, 200000, 1, 0);
  std::error_code ec;
  CHECK(std::filesystem::file_size(s.o.path.string() + "-wal", ec) <= 64u * 1024 * 1024);
  CHECK(s.Check().ok);
}

}  // namespace
}  // namespace warden::audit
