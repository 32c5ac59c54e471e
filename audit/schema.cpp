// Opening the audit database and its schema (policy-audit.md B.2): WAL, synchronous=FULL, STRICT tables, triggers
// that refuse UPDATE/DELETE, indexes only for the reviewer queries of `warden audit query`, the migration of version 1
// files (schema_version in meta), and the mapping of SQLite result codes to Warden statuses that say what to do.
#include <sodium.h>

#include <system_error>

#include "audit/audit_internal.h"

namespace warden::audit::detail {
namespace {

// Schema version 2. Every index and every CHECK runs on the writer thread, inside the write lock, once per row, so the
// table keeps only what a reviewer query needs (insert cost per row measured on this box, batches of 256, tmpfs:
// version 1 10.6 us, version 2 7.7 us; on ext4 with synchronous=FULL 12-14 us against 9-10 us):
// - no json_valid(body) CHECK and no generated columns over json_extract(body, ...): SQLite computes even VIRTUAL
//   generated columns on every INSERT (one JSON parse each). The body is checked by the producer (it writes the
//   canonical text itself) and by verify (hash and canonical form). The JSON attributes reviewers filter on
//   (determining, exit_code, tokens_in, tokens_out: B.8 queries 5, 8, 9) are columns of the view audit_view,
//   computed when read, so they always agree with the hashed body.
// - indexes: time ranges (ev_ts, append-only), a task's timeline (ev_task), denies (ev_denied, partial: only deny
//   rows pay for it), UNIQUE event_id (refuses a replayed event). ev_principal of version 1 is gone: a principal's
//   rows land on a random leaf per principal, so each commit rewrote a dozen index pages into the WAL (2-3 us per
//   row on ext4); B.8's principal query carries a time range and filters the ev_ts range instead. ev_skill and
//   ev_kind went in an earlier version for the same reason. row_hash is never indexed (random keys).
constexpr const char* kTables = R"SQL(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS signing_key (
  key_id        BLOB PRIMARY KEY CHECK (length(key_id) = 4),
  public_key    BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
  alg           TEXT NOT NULL DEFAULT 'ed25519' CHECK (alg = 'ed25519'),
  valid_from_ns INTEGER NOT NULL,
  retired_ns    INTEGER,
  note          TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS audit_event (
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
  body         TEXT    NOT NULL,
  prev_hash    BLOB    NOT NULL CHECK (length(prev_hash) = 32),
  row_hash     BLOB    NOT NULL CHECK (length(row_hash) = 32)
) STRICT;
)SQL";

// Indexes, triggers and the view over audit_event, and the other tables; run once audit_event has its version 2 form
// (a fresh file, or one just migrated), so they always describe version 2.
constexpr const char* kEventObjects = R"SQL(
CREATE INDEX IF NOT EXISTS ev_ts        ON audit_event(ts_ns);
CREATE INDEX IF NOT EXISTS ev_task      ON audit_event(task_id, seq) WHERE task_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ev_denied    ON audit_event(ts_ns) WHERE decision = 'deny';
CREATE VIEW IF NOT EXISTS audit_view AS
  SELECT *, json_extract(body, '$.determining') AS determining, json_extract(body, '$.exit_code') AS exit_code,
         json_extract(body, '$.tokens.input') AS tokens_in, json_extract(body, '$.tokens.output') AS tokens_out
  FROM audit_event;
CREATE TABLE IF NOT EXISTS checkpoint (
  upto_seq  INTEGER PRIMARY KEY,
  head_hash BLOB    NOT NULL CHECK (length(head_hash) = 32),
  ts_ns     INTEGER NOT NULL,
  key_id    BLOB    NOT NULL REFERENCES signing_key(key_id),
  note      TEXT    NOT NULL,
  signature BLOB    NOT NULL CHECK (length(signature) = 64)
) STRICT;
CREATE TABLE IF NOT EXISTS retention_anchor (
  first_seq      INTEGER PRIMARY KEY,
  prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
  pruned_rows    INTEGER NOT NULL,
  archive_sha256 TEXT NOT NULL,
  cutoff_ns      INTEGER NOT NULL,
  created_ns     INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS prune_guard (token TEXT PRIMARY KEY) STRICT;
CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
WHEN NOT EXISTS (SELECT 1 FROM prune_guard)
BEGIN SELECT RAISE(ABORT, 'audit_event rows are removed only by the retention procedure'); END;
CREATE TRIGGER IF NOT EXISTS checkpoint_no_update BEFORE UPDATE ON checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoint is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoint_no_delete BEFORE DELETE ON checkpoint
BEGIN SELECT RAISE(ABORT, 'checkpoint is append-only'); END;
CREATE TRIGGER IF NOT EXISTS signing_key_no_delete BEFORE DELETE ON signing_key
BEGIN SELECT RAISE(ABORT, 'signing_key is append-only'); END;
)SQL";

// Versions a read-only connection understands: version 1 differs only in columns and indexes readers never use.
bool Readable(const std::string& version) { return version == "1" || version == std::to_string(kSchemaVersion); }

Status CheckMeta(sqlite3* db, const std::filesystem::path& path, bool writable) {
  // A version we read with a foreign canonical form is refused for the canon: a version 1 file is only migrated
  // when its canon is ours, and would otherwise get a version message naming a version we do read.
  const std::string version = MetaValue(db, "schema_version");
  if (Readable(version) && MetaValue(db, "canon") != kCanonId) {
    return Status::Corruption("audit database " + path.string() + ": meta canon is \"" + MetaValue(db, "canon") +
                              "\", expected \"" + kCanonId + "\"");
  }
  if (writable ? version != std::to_string(kSchemaVersion) : !Readable(version)) {
    bool newer = false;
    try {
      newer = !version.empty() && std::stoul(version) > kSchemaVersion;
    } catch (const std::exception&) {
    }
    return Status::Corruption(
        "audit database " + path.string() + ": schema_version is \"" + version + "\", this Warden reads 1 and " +
        std::to_string(kSchemaVersion) + (newer ? "; it was written by a newer Warden: use that version to read it, "
                                                  "or point --db at another file"
                                                : "; this is not a Warden audit database (pass another --db)"));
  }
  return Status::Ok();
}

Result<int64_t> CountRows(sqlite3* db, const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(StmtPtr s, Prepare(db, "SELECT count(*) FROM audit_event", path));
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "counting rows", path);
  return sqlite3_column_int64(s.get(), 0);
}

// Version 1 -> 2, inside the caller's IMMEDIATE transaction: audit_event is rebuilt without the json_valid CHECK and
// the generated columns (SQLite cannot drop either in place). Every stored column is copied byte for byte, so every
// hash still verifies; the row count is compared before the old table goes, and any failure rolls the whole
// migration back, leaving the file as it was.
Status MigrateFrom1(sqlite3* db, const std::filesystem::path& path) {
  WARDEN_ASSIGN_OR_RETURN(const int64_t before, CountRows(db, path));
  static constexpr const char* kColumns =
      "seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, "
      "prev_hash, row_hash";
  std::string create = kTables;
  const size_t at = create.find("CREATE TABLE IF NOT EXISTS audit_event (");
  create = create.substr(at, create.find(") STRICT;", at) + 9 - at);
  create.replace(0, std::string("CREATE TABLE IF NOT EXISTS audit_event").size(), "CREATE TABLE audit_event_v2");
  const std::string sql = create + " INSERT INTO audit_event_v2(" + kColumns + ") SELECT " + kColumns +
                          " FROM audit_event ORDER BY seq;";
  WARDEN_RETURN_IF_ERROR(Exec(db, sql.c_str(), path));
  {
    WARDEN_ASSIGN_OR_RETURN(StmtPtr s, Prepare(db, "SELECT count(*) FROM audit_event_v2", path));
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "counting migrated rows", path);
    if (sqlite3_column_int64(s.get(), 0) != before) {
      return Status::Internal("audit database " + path.string() + ": migrating schema 1 to 2 copied " +
                              std::to_string(sqlite3_column_int64(s.get(), 0)) + " of " + std::to_string(before) +
                              " rows; nothing was changed (the migration was rolled back)");
    }
  }
  // DROP TABLE takes the old table's indexes and triggers with it; kEventObjects recreates the version 2 ones.
  WARDEN_RETURN_IF_ERROR(Exec(db,
                              "DROP VIEW IF EXISTS audit_view; DROP TABLE audit_event; "
                              "ALTER TABLE audit_event_v2 RENAME TO audit_event; "
                              "UPDATE meta SET value = '2' WHERE key = 'schema_version';",
                              path));
  return Status::Ok();
}

}  // namespace

Status SqliteStatus(sqlite3* db, int rc, std::string_view what, const std::filesystem::path& path) {
  const int primary = rc & 0xFF;
  std::string msg = "audit database " + path.string() + ": " + std::string(what) + " failed: " +
                    (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (sqlite code " + std::to_string(rc) + ")";
  switch (primary) {
    case SQLITE_FULL:
      return Status::ResourceExhausted(msg + "; the disk is full: free space on that volume, the action was not "
                                             "recorded and must not run");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg + "; another process held the write lock past the busy timeout: retry, or "
                                       "find the process holding " + path.string());
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg + "; the file is damaged or not an audit database: keep it for forensics, "
                                      "run `warden audit verify`, and point --db at a fresh file");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Status::IoError(msg + "; check the folder exists, is writable and the disk is healthy");
    case SQLITE_CONSTRAINT:
      return Status::InvalidArgument(msg);
    default:
      return Status::Internal(msg);
  }
}

Result<StmtPtr> Prepare(sqlite3* db, std::string_view sql, const std::filesystem::path& path) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, "preparing \"" + std::string(sql.substr(0, 60)) + "\"", path);
  return StmtPtr(s);
}

Status Exec(sqlite3* db, const char* sql, const std::filesystem::path& path) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, std::string("running \"") + std::string(sql).substr(0, 40) + "\"",
                                           path);
  return Status::Ok();
}

std::string MetaValue(sqlite3* db, const char* key) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &s, nullptr) != SQLITE_OK) return "";
  StmtPtr stmt(s);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_ROW) return "";
  const auto* text = sqlite3_column_text(s, 0);
  return text ? reinterpret_cast<const char*>(text) : "";
}

Result<DbPtr> OpenWritable(const Options& options) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  const auto& path = options.path;
  if (path.empty()) return Status::InvalidArgument("audit Options.path is empty; set audit_db in the config");
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Status::IoError("creating audit folder " + path.parent_path().string(), ec.value());
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           options.vfs.empty() ? nullptr : options.vfs.c_str());
  DbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "opening", path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // auto_vacuum must precede the first table; it is a no-op on an existing database.
  WARDEN_RETURN_IF_ERROR(Exec(raw, "PRAGMA auto_vacuum = INCREMENTAL", path));
  {
    WARDEN_ASSIGN_OR_RETURN(StmtPtr s, Prepare(raw, "PRAGMA journal_mode = WAL", path));
    rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return SqliteStatus(raw, rc, "switching to WAL", path);
    std::string mode = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    if (mode != "wal") {
      return Status::IoError("audit database " + path.string() + ": journal_mode is \"" + mode +
                             "\" after asking for WAL; the filesystem may not support shared memory");
    }
  }
  const std::string pragmas = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -" +
                              std::to_string(options.cache_kib) + "; PRAGMA journal_size_limit = 67108864;";
  WARDEN_RETURN_IF_ERROR(Exec(raw, pragmas.c_str(), path));
  // Several processes may create the schema at once; IMMEDIATE serialises them on the write lock.
  WARDEN_RETURN_IF_ERROR(Exec(raw, "BEGIN IMMEDIATE", path));
  Status st = Exec(raw, kTables, path);
  bool migrated = false;
  if (st.ok() && MetaValue(raw, "schema_version").empty()) {
    const std::string meta =
        "INSERT INTO meta(key, value) VALUES ('schema_version', '" + std::to_string(kSchemaVersion) +
        "'), ('hash_alg', 'sha256'), ('canon', '" + kCanonId +
        "'), ('chain', 'warden-audit-v1'), ('genesis_prev_hash', '" + std::string(64, '0') + "'), ('origin', ?)";
    auto stmt = Prepare(raw, meta, path);
    if (!stmt.ok()) {
      st = stmt.status();
    } else {
      sqlite3_bind_text(stmt->get(), 1, options.origin.c_str(), -1, SQLITE_TRANSIENT);
      rc = sqlite3_step(stmt->get());
      if (rc != SQLITE_DONE) st = SqliteStatus(raw, rc, "writing meta", path);
    }
  } else if (st.ok() && MetaValue(raw, "schema_version") == "1" && MetaValue(raw, "canon") == kCanonId) {
    st = MigrateFrom1(raw, path);
    migrated = st.ok();
  }
  if (st.ok()) st = CheckMeta(raw, path, /*writable=*/true);
  if (st.ok()) st = Exec(raw, kEventObjects, path);
  if (!st.ok()) {
    sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  WARDEN_RETURN_IF_ERROR(Exec(raw, "COMMIT", path));
  // The old table's pages go back to the file system (auto_vacuum = INCREMENTAL).
  if (migrated) sqlite3_exec(raw, "PRAGMA incremental_vacuum", nullptr, nullptr, nullptr);
  return db;
}

Result<DbPtr> OpenReadOnly(const std::filesystem::path& path) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no audit database at " + path.string() +
                            " (it is created by the first audited action; pass --db FILE to read another)");
  }
  sqlite3* raw = nullptr;
  const std::string uri = "file:" + path.string() + "?mode=ro";
  int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "opening read-only", path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  // Touch the schema so a foreign or damaged file is reported here, not mid-scan.
  rc = sqlite3_exec(raw, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "reading the schema", path);
  WARDEN_RETURN_IF_ERROR(CheckMeta(raw, path, /*writable=*/false));
  return db;
}

}  // namespace warden::audit::detail
