// Schema versions (schema.cpp): a version 1 file (json_valid CHECK, generated columns, ev_principal) is read as it is
// and migrated on the first writable open without losing or changing a stored byte; a file from a newer Warden is
// refused with its version named; the reviewer view keeps the JSON attributes B.8's queries use.
#include <catch2/catch.hpp>

#include "audit/audit_test_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::RawDb;
using testutil::Simple;
using warden::testing::TempDir;

// The audit_event table exactly as version 1 created it.
constexpr const char* kVersion1Table = R"SQL(
CREATE TABLE audit_event_v1 (
  seq          INTEGER PRIMARY KEY CHECK (seq > 0),
  event_id     TEXT    NOT NULL UNIQUE,
  ts_ns        INTEGER NOT NULL,
  kind         TEXT    NOT NULL,
  tenant_id    TEXT    NOT NULL,
  principal_id TEXT    NOT NULL,
  task_id      TEXT,
  skill        TEXT,
  action       TEXT,
  decision     TEXT CHECK (decision IN ('allow','deny','ask','approved','rejected','expired')),
  policy_set   TEXT,
  body         TEXT    NOT NULL CHECK (json_valid(body)),
  prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
  row_hash     BLOB    NOT NULL CHECK (length(row_hash) = 32),
  determining  TEXT    GENERATED ALWAYS AS (json_extract(body, '$.determining')) VIRTUAL,
  exit_code    INTEGER GENERATED ALWAYS AS (json_extract(body, '$.exit_code')) VIRTUAL,
  tokens_in    INTEGER GENERATED ALWAYS AS (json_extract(body, '$.tokens.input')) VIRTUAL,
  tokens_out   INTEGER GENERATED ALWAYS AS (json_extract(body, '$.tokens.output')) VIRTUAL
) STRICT;
)SQL";

constexpr const char* kColumns =
    "seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, "
    "prev_hash, row_hash";

// Writes a signed log with the current writer, then turns it back into the version 1 layout.
Options MakeVersion1(const TempDir& dir, int events) {
  Options o;
  o.path = dir.path() / "audit.db";
  o.key_path = dir.path() / "audit.key";
  o.checkpoint_every_events = 10;
  REQUIRE(Keygen(o.key_path).ok());
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    for (const auto& e : testutil::SampleEvents()) REQUIRE((*log)->Append(e).ok());
    for (int i = 0; i < events; ++i) REQUIRE((*log)->Append(Simple(i)).ok());
  }
  RawDb raw(o.path);
  raw.MustExec(std::string(kVersion1Table) + "INSERT INTO audit_event_v1(" + kColumns + ") SELECT " + kColumns +
               " FROM audit_event; DROP VIEW audit_view; DROP TABLE audit_event; "
               "ALTER TABLE audit_event_v1 RENAME TO audit_event; "
               "CREATE INDEX ev_ts ON audit_event(ts_ns); "
               "CREATE INDEX ev_principal ON audit_event(principal_id, ts_ns); "
               "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
               "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END; "
               "UPDATE meta SET value = '1' WHERE key = 'schema_version';");
  return o;
}

std::string Dump(const std::filesystem::path& db) {
  RawDb raw(db);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw.get(),
                             (std::string("SELECT ") + kColumns + " FROM audit_event ORDER BY seq").c_str(), -1, &s,
                             nullptr) == SQLITE_OK);
  std::string out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int i = 0; i < 14; ++i) {
      out.append(static_cast<const char*>(sqlite3_column_blob(s, i)) ? static_cast<const char*>(sqlite3_column_blob(s, i)) : "",
                 static_cast<size_t>(sqlite3_column_bytes(s, i)));
      out += '\x1f';
    }
    out += '\n';
  }
  sqlite3_finalize(s);
  return out;
}

TEST_CASE("a version 1 file is read as it is and migrated to version 2 with every byte kept", "[audit][schema]") {
  TempDir dir;
  const Options o = MakeVersion1(dir, 40);
  const std::string before = Dump(o.path);
  {
    RawDb raw(o.path);
    REQUIRE(raw.Int("SELECT count(*) FROM pragma_table_xinfo('audit_event') WHERE name = 'exit_code'") == 1);
  }
  // Readers take version 1 without touching it.
  auto r1 = Verify(o.path);
  REQUIRE(r1.ok());
  CHECK(r1->ok);
  CHECK(r1->rows == 54);
  {
    RawDb raw(o.path);
    CHECK(raw.Int("SELECT value FROM meta WHERE key = 'schema_version'") == 1);
  }
  // The first writer migrates, then appends on the same chain.
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(Simple(1000)).ok());
  }
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT value FROM meta WHERE key = 'schema_version'") == 2);
  CHECK(raw.Int("SELECT count(*) FROM pragma_table_xinfo('audit_event') WHERE name = 'exit_code'") == 0);
  CHECK(raw.Int("SELECT count(*) FROM sqlite_schema WHERE name = 'ev_principal'") == 0);
  CHECK(raw.Int("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'audit_event'") == 2);
  const std::string after = Dump(o.path);
  REQUIRE(after.size() > before.size());
  CHECK(after.compare(0, before.size(), before) == 0);  // the 54 old rows, byte for byte, then the new one
  auto r2 = Verify(o.path, VerifyOptions{.check_canonical = true, .quick_check = true});
  REQUIRE(r2.ok());
  CHECK(r2->ok);
  CHECK(r2->rows == 55);
  // Append-only still holds after the rebuild.
  CHECK(raw.Exec("UPDATE audit_event SET kind = 'x' WHERE seq = 3") != SQLITE_OK);
  CHECK(raw.Exec("DELETE FROM audit_event WHERE seq = 3") != SQLITE_OK);
}

TEST_CASE("a file from a newer schema version is refused naming the version and what to do", "[audit][schema]") {
  TempDir dir;
  Options o;
  o.path = dir.path() / "audit.db";
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(Simple(1)).ok());
  }
  {
    RawDb raw(o.path);
    raw.MustExec("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
  }
  auto log = Log::Open(o);
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().code() == Status::Code::kCorruption);
  CHECK(log.status().message().find("schema_version is \"3\"") != std::string::npos);
  CHECK(log.status().message().find("newer Warden") != std::string::npos);
  auto v = Verify(o.path);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message().find("\"3\"") != std::string::npos);
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT count(*) FROM audit_event") == 1);  // refused, not changed
}

TEST_CASE("a file with a foreign canonical form is refused for that, not for its version", "[audit][schema]") {
  TempDir dir;
  Options o;
  o.path = dir.path() / "audit.db";
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(Simple(1)).ok());
  }
  for (const char* version : {"1", "2"}) {
    INFO("schema_version " << version);
    {
      RawDb raw(o.path);
      raw.MustExec(std::string("UPDATE meta SET value = '") + version + "' WHERE key = 'schema_version'");
      raw.MustExec("UPDATE meta SET value = 'other-canon' WHERE key = 'canon'");
    }
    auto log = Log::Open(o);
    REQUIRE_FALSE(log.ok());
    CHECK(log.status().message().find("meta canon is \"other-canon\"") != std::string::npos);
    CHECK(log.status().message().find("schema_version") == std::string::npos);
  }
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT count(*) FROM audit_event") == 1);  // refused, not changed
}

TEST_CASE("audit_view gives reviewers the body attributes of B.8's queries", "[audit][schema]") {
  TempDir dir;
  Options o;
  o.path = dir.path() / "audit.db";
  {
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    for (const auto& e : testutil::SampleEvents()) REQUIRE((*log)->Append(e).ok());
  }
  RawDb raw(o.path);
  CHECK(raw.Int("SELECT tokens_in FROM audit_view WHERE kind = 'model.call'") == 1200);
  CHECK(raw.Int("SELECT tokens_out FROM audit_view WHERE kind = 'model.call'") == 300);
  CHECK(raw.Int("SELECT exit_code FROM audit_view WHERE kind = 'sandbox.run'") == 0);
  CHECK(raw.Int("SELECT count(*) FROM audit_view WHERE kind = 'policy.decision' AND determining LIKE '%no-egress%'") ==
        1);
}

}  // namespace
}  // namespace warden::audit
