// Internals of the audit trail shared by its .cpp files and tests (not part of audit.h): SQLite handles and error
// mapping, the schema, canonical JSON and the hash chain (policy-audit.md B.2, B.3), and checkpoint notes (B.4).
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"

namespace warden::audit::detail {

using Hash = std::array<uint8_t, 32>;

// ---- SQLite handles (schema.cpp) ----
struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps a SQLite result code to a Status that names the file, what was being done and what to do: SQLITE_FULL is
// kResourceExhausted (disk full), BUSY/LOCKED kUnavailable (lock timeout), CORRUPT/NOTADB kCorruption, I/O and
// permission errors kIoError.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what, const std::filesystem::path& path);
Result<StmtPtr> Prepare(sqlite3* db, std::string_view sql, const std::filesystem::path& path);
Status Exec(sqlite3* db, const char* sql, const std::filesystem::path& path);

// Opens the database read-write (creating it and the schema when missing) with WAL, synchronous=FULL and the
// options' busy timeout and cache. `origin` is stored on creation.
Result<DbPtr> OpenWritable(const Options& options);
// Opens an existing database read-only (mode=ro); kNotFound when the file is missing, kCorruption when it is not a
// Warden audit database.
Result<DbPtr> OpenReadOnly(const std::filesystem::path& path);
// The meta value for `key`, or "" when absent.
std::string MetaValue(sqlite3* db, const char* key);

// ---- canonical JSON and the hash chain (canonical.cpp) ----
// 2: no json_valid CHECK, no generated columns, no ev_principal (schema.cpp); version 1 files are migrated on the
// first writable open and read as they are.
inline constexpr uint32_t kSchemaVersion = 2;
inline constexpr const char* kCanonId = "jcs-ascii-int-v1";
inline constexpr size_t kTruncHeadBytes = 1024;
inline constexpr size_t kMaxColumnBytes = 1024;

// The body as stored: integers only, over-long strings and bodies replaced by {"$trunc": ...}, invalid UTF-8 by
// {"$b64": ...}, keys sorted byte-wise, no whitespace.
// Secret values replaced by {"$redacted": true, "len": N} before storage (Options::redact_paths / redact_keys).
struct Redaction {
  std::vector<std::vector<std::string>> paths;  // split on '.', "*" = any key
  std::vector<std::string> keys;                // lower-case; matched case-insensitively anywhere
  static Redaction FromOptions(const std::vector<std::string>& paths, const std::vector<std::string>& keys);
};
Result<std::string> CanonicalBody(const nlohmann::json& body, size_t max_string_bytes, size_t max_body_bytes,
                                  const Redaction* redaction = nullptr);
// The canonical text of an already-capped JSON value.
Result<std::string> Canonical(const nlohmann::json& value);
// True when `body` is a JSON object in exactly the form CanonicalBody writes (sorted unique keys, no whitespace,
// safe integers only, canonical string escapes, valid UTF-8). What verify checks, without building a json value.
bool IsCanonicalBody(std::string_view body);

// The fields of a row that the chain covers, as stored.
struct RowFields {
  std::string event_id;
  int64_t ts_ns = 0;
  std::string kind, tenant_id, principal_id;
  std::optional<std::string> task_id, skill, action, decision, policy_set;
  std::string body;  // canonical text
};
// The same fields as views into someone else's memory (verify reads them straight from SQLite's row buffer).
struct RowView {
  std::string_view event_id;
  int64_t ts_ns = 0;
  std::string_view kind, tenant_id, principal_id;
  std::optional<std::string_view> task_id, skill, action, decision, policy_set;
  std::string_view body;
};
// Canonical JSON of every hashed field except seq: {action, body, decision, event_id, kind, policy_set, principal_id,
// skill, task_id, tenant_id, ts_ns}, nulls included. Appends to `out`; `body_offset` (optional) receives where the
// body starts inside `out`.
void RowContentText(const RowView& row, std::string& out, size_t* body_offset = nullptr);
void RowContentText(const RowFields& row, std::string& out);
// SHA-256 of RowContentText: computed by the producer, off the write lock.
Hash ContentHash(const RowFields& row);
// row_hash(n) = SHA-256("warden-audit-v1" 0x00 || prev_hash || seq as 8 bytes big-endian || content_hash). Binding
// seq and prev here keeps reorder and renumbering detectable while the lock is held for one short hash only.
Hash ChainHash(const Hash& prev, uint64_t seq, const Hash& content_hash);
// SHA-256 (sha256.cpp, libcrypto): of one buffer, or of the concatenation a || b without copying them together.
Hash Sha256(std::string_view data);
Hash Sha256(std::string_view a, std::string_view b);

std::string Hex(const uint8_t* data, size_t n);
inline std::string Hex(const Hash& h) { return Hex(h.data(), h.size()); }
bool FromHex(std::string_view hex, uint8_t* out, size_t n);
std::string Base64(const uint8_t* data, size_t n);
bool FromBase64(std::string_view text, std::string& out);
bool ValidUtf8(std::string_view s);
// A fresh UUIDv7 (48-bit ms time, random rest).
std::string NewEventId(int64_t ts_ns);
int64_t NowNs();

// ---- reads and exports (query.cpp, export.cpp) ----
// Query on an open connection (the writer's, inside a prune transaction, or a read-only one).
Result<std::vector<Record>> QueryHandle(sqlite3* db, const std::filesystem::path& path, const QueryFilter& filter);
// One exported row: every column, the body as an object, the hashes in hex.
nlohmann::json RecordJson(const Record& r);
// The proof lines that make `rows` (sorted by seq) verifiable on their own: where the chain span starts, the content
// hash of every row of the span that is not exported, and the signed checkpoints bounding it (export.cpp).
Result<std::string> ExportProof(sqlite3* db, const std::filesystem::path& path, const std::vector<Record>& rows,
                                uint64_t* checkpoints = nullptr);
// Verifies an export's text: rows plus proof lines (VerifyExport reads the file and calls this).
VerifyReport VerifyExportText(std::string_view text, const VerifyOptions& options, Status& error);

// ---- checkpoints (checkpoint.cpp) ----
struct SigningKey {
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 64> secret_key{};
  std::array<uint8_t, 4> key_id{};  // first 4 bytes of SHA-256(public key)
};
Result<SigningKey> LoadKey(const std::filesystem::path& key_path);
std::array<uint8_t, 4> KeyIdOf(const uint8_t* public_key);
// The signed part of a note: "<origin>/chain-v1\n<upto_seq>\n<base64 head>\n<ts_ns>\n".
std::string NoteBody(const std::string& origin, uint64_t upto_seq, const Hash& head, int64_t ts_ns);
// The full note: body, a blank line, then "— <origin> <base64(key_id || signature)>\n".
std::string NoteText(const std::string& note_body, const std::string& origin, const std::array<uint8_t, 4>& key_id,
                     const uint8_t* signature);
std::array<uint8_t, 64> Sign(const SigningKey& key, std::string_view message);
bool VerifySignature(const uint8_t* public_key, std::string_view message, const uint8_t* signature);

}  // namespace warden::audit::detail
