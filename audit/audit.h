// Public interface of Warden's audit trail: a tamper-evident, append-only SQLite log (../shared/docs/policy-audit.md
// Part B, as amended by issue 5). Every subsystem records its decisions through one `Log`: `Append` returns once the
// event is durable (synchronous=FULL, group commit by one writer thread), `AppendAsync` returns a ticket a hot path
// waits on before it acts. Rows are chained by SHA-256 over their canonical JSON and summarised by Ed25519-signed
// checkpoints; `Verify` recomputes both from a read-only connection. SQLite and libsodium types stay in the .cpp files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.h"
#include "runtime/base/status.h"

namespace warden::audit {

// The SQLite library version linked into this binary (e.g. "3.40.1").
std::string SqliteVersion();

// How a Log writes. One struct is filled from flags and the config file. Defaults come from bench/audit_throughput.
struct Options {
  // The database file; its folder is created when missing. Required.
  std::filesystem::path path;
  // The Ed25519 secret key made by `warden audit keygen` (0600). Empty: no key, so no checkpoints are signed (the
  // chain still protects every row, but a rewrite of the whole chain or a cut tail then goes unnoticed).
  std::filesystem::path key_path;
  // Each signed checkpoint note is also appended to this file, meant to sit on another volume or host so a rewrite
  // or truncation of the database can be caught by `verify --checkpoints`. Empty: checkpoints live only in the DB.
  std::filesystem::path checkpoint_copy_path;
  // Names this log inside checkpoint notes ("<origin>/chain-v1"). Stored in the DB on creation; later opens use the
  // stored value.
  std::string origin = "warden-audit/local";
  // Group commit: the writer thread commits at most this many queued events in one transaction. Higher raises
  // throughput and the latency of the slowest event in a batch (an event can wait for the batch in progress and its
  // own: 256 rows are ~3 ms of writer time here, which keeps p99 near 10 ms). Lower costs CPU: each commit adds
  // ~1.2 ms of writer time beyond its rows, so a cap of 128 raised the writer's cost per event by a third
  // (bench/audit_throughput). 1 = one commit per event (~one fsync).
  int batch_max_events = 256;
  // Group commit: when fewer than batch_max_events are queued, the writer waits at most this long (ms) after the
  // first one for more before committing. 0 commits whatever is queued at once; higher adds that much latency to a
  // lone Append in exchange for fuller batches.
  int batch_max_wait_ms = 0;
  // Sign a checkpoint after this many events written by this Log since its last checkpoint (needs key_path).
  // Lower narrows the unanchored tail a file-level attacker can cut; each checkpoint costs one row and ~40 us.
  int checkpoint_every_events = 1000;
  // ... or after this many seconds, whichever comes first (checked when a batch commits), and at Close.
  int checkpoint_every_seconds = 60;
  // Strings in a body longer than this (bytes) are stored as {"$trunc": {head, len, sha256}}; the digest is of the
  // full original so the value can still be matched. Higher keeps more text per row and slows queries.
  size_t max_string_bytes = 4096;
  // A whole canonical body longer than this (after string capping) is stored as {"$trunc": ...} too.
  size_t max_body_bytes = 65536;
  // How long (ms) a write waits for another process holding the database lock before the batch fails closed with
  // kUnavailable. Higher tolerates longer foreign transactions; every queued caller waits that long in the worst case.
  int busy_timeout_ms = 5000;
  // Events queued and not yet committed. When full, AppendAsync blocks up to queue_wait_ms and then fails with
  // kUnavailable ("audit unavailable") instead of dropping the event. Higher absorbs bursts and costs memory.
  size_t queue_capacity = 65536;
  int queue_wait_ms = 5000;
  // Once the WAL holds this many pages after a commit, a background thread with its own connection folds it back into
  // the database (PASSIVE checkpoint), so commits never wait for that copy and its fsync. 0 = SQLite's own
  // autocheckpoint inside the committing thread (what other processes writing the file use). Higher means fewer,
  // longer checkpoints and a larger WAL.
  int wal_checkpoint_pages = 1000;
  // SQLite page cache per connection, KiB. Larger keeps the indexes in memory on big logs.
  int cache_kib = 65536;
  // Legal hold: Prune refuses to remove anything while set.
  bool legal_hold = false;
  // Body paths whose values are secrets (policy-audit.md B.2): each is stored as {"$redacted": true, "len": N},
  // without any hash (hashes of short secrets can be brute-forced). A path is dot-separated keys from the body root
  // ("args.api_key"); "*" matches any one key and array elements are searched through. A key named in
  // `redact_keys` is redacted wherever it appears.
  std::vector<std::string> redact_paths;
  std::vector<std::string> redact_keys = {"api_key", "apikey", "authorization", "password", "passwd", "secret",
                                          "token", "access_token", "refresh_token", "private_key", "cookie"};
  // A registered SQLite VFS to open the database with (tests inject faults this way). Empty = the default VFS.
  std::string vfs;
};

// The decision column takes only these values (policy decisions and approval outcomes).
inline constexpr const char* kDecisions[] = {"allow", "deny", "ask", "approved", "rejected", "expired"};

// One audit record before it is written. The indexed columns are what reviewers filter on; everything else goes in
// `body`, a JSON object whose numbers must be integers (durations in ms, money in micros).
struct Event {
  std::string kind;                       // "task.submitted", "policy.decision", "sandbox.run", "model.call", ...
  std::string tenant_id = "default";      // who the install serves
  std::string principal_id;               // who asked (user, service, agent); required
  std::optional<std::string> task_id;     // the task this belongs to
  std::optional<std::string> skill;       // the skill involved
  std::optional<std::string> action;      // what was attempted ("fs.write", "net.connect", "model.generate")
  std::optional<std::string> decision;    // one of kDecisions
  std::optional<std::string> policy_set;  // "sha256:..." of the policy set in force
  nlohmann::json body = nlohmann::json::object();
  int64_t ts_ns = 0;                      // wall clock ns since the epoch; 0 = now
  std::string event_id;                   // empty = a fresh UUIDv7
};

// One stored row as read back.
struct Record {
  uint64_t seq = 0;
  Event event;             // body parsed back from body_json
  std::string body_json;   // the canonical body exactly as stored and hashed
  std::string prev_hash;   // hex
  std::string row_hash;    // hex
};

// Waits for one AppendAsync. Wait() returns the event's seq once it is durable, or why it is not (then the action the
// event gates must not run).
class AppendTicket {
 public:
  AppendTicket() = default;
  explicit AppendTicket(std::shared_future<Result<uint64_t>> f) : future_(std::move(f)) {}
  Result<uint64_t> Wait() const;
  // True when Wait() would not block.
  bool Ready() const;

 private:
  std::shared_future<Result<uint64_t>> future_;
};

// Which rows Query and export select. Unset fields do not filter.
struct QueryFilter {
  std::optional<int64_t> since_ns, until_ns;  // ts_ns within [since, until]
  std::optional<std::string> tenant, task, principal, skill, action, decision, kind;
  uint64_t from_seq = 0;  // seq >= from_seq
  uint64_t to_seq = 0;    // seq <= to_seq; 0 = no upper bound
  size_t limit = 0;       // 0 = all; otherwise the newest `limit` rows, returned in seq order
};

enum class OutputFormat { kTable, kJson, kJsonl, kCsv };
Result<OutputFormat> ParseOutputFormat(const std::string& name);
// Renders rows: an 80-column table (SEQ TIME KIND PRINCIPAL ACTION DECISION), a JSON array, JSON lines or CSV. The
// JSON forms carry every column, the body as an object and the hashes in hex, so an export can be re-verified.
std::string Render(const std::vector<Record>& records, OutputFormat format);

// Reads rows from a database (read-only; never creates it).
Result<std::vector<Record>> Query(const std::filesystem::path& db, const QueryFilter& filter);

// Parses "2026-11-27T08:00:00Z", "2026-11-27T10:00:00.5+02:00", "2026-11-27", or a duration before `now_ns` such as
// "90s", "15m", "24h", "7d", "2w". Returns ns since the epoch.
Result<int64_t> ParseTime(const std::string& text, int64_t now_ns);

struct Stats {
  uint64_t events = 0;
  uint64_t first_seq = 0, last_seq = 0;
  int64_t first_ts_ns = 0, last_ts_ns = 0;
  std::map<std::string, uint64_t> by_kind;
  std::map<std::string, uint64_t> by_decision;  // "none" for rows without a decision
  uint64_t file_bytes = 0;                      // database + WAL
  // The file system holding the database (policy-audit.md B.5): bytes still usable by the writer, and its size. A
  // full disk fails every append (fail closed), and even a WAL checkpoint needs free space, so `warden audit stats`
  // warns below a threshold. 0 when the file system could not be asked.
  uint64_t fs_free_bytes = 0, fs_total_bytes = 0;
  uint64_t checkpoints = 0;
  std::optional<uint64_t> last_checkpoint_seq;
  int64_t last_checkpoint_ts_ns = 0;
  std::string origin;
};
Result<Stats> GetStats(const std::filesystem::path& db);

// What verification found first. Types follow policy-audit.md B.6.
enum class Problem { kGap, kPrevMismatch, kHashMismatch, kNoncanonicalBody, kBadSignature, kCheckpointMismatch,
                     kTruncated, kRewritten, kSchema };
std::string ProblemName(Problem p);  // "GAP", "HASH_MISMATCH", ...

struct VerifyOptions {
  // Start the chain walk at this seq, trusting that row's stored prev_hash (a quick re-check of a recent range).
  // 0 = from the first row (or the retention anchor). Checkpoint signatures are always all checked.
  uint64_t from_seq = 0;
  // Hex Ed25519 public keys the reviewer trusts. Non-empty: a checkpoint signed by any other key is BAD_SIGNATURE,
  // even if that key sits in the database's signing_key table (an attacker with file access could add one).
  std::vector<std::string> pinned_public_keys;
  // The off-database copy of checkpoint notes (Options::checkpoint_copy_path); empty = none.
  std::filesystem::path checkpoint_copy;
  // The default verify recomputes every hash from the stored bytes (content, chain, checkpoint heads, signatures):
  // that is what detects a changed, deleted, inserted or reordered row. The two checks below find damage the hashes
  // cannot attribute to tampering and cost as much again as the walk, so they are off by default and on with
  // `warden audit verify --deep`.
  // Require every body to be in exactly the canonical form the writer produces (NONCANONICAL_BODY): catches a row
  // written by something other than this writer with a self-consistent chain. About +40 % CPU per row.
  bool check_canonical = false;
  // Run SQLite's PRAGMA quick_check beside the walk (B.6 step 1): page-level damage in the indexes and free lists,
  // which the walk over the table alone does not read. Costs roughly one extra scan of the file.
  bool quick_check = false;
  // Hashing threads; 0 = hardware concurrency.
  int threads = 0;
};

struct VerifyReport {
  bool ok = false;
  std::optional<Problem> problem;
  uint64_t problem_seq = 0;  // the first bad sequence number
  std::string detail;        // what differed, for people
  uint64_t rows = 0;         // rows checked
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t checkpoints = 0;      // signatures checked
  uint64_t unanchored_tail = 0;  // rows after the last checkpoint (a file-level attacker could cut these unseen)
  std::string head_hash;         // hex of the last row_hash
  std::vector<std::string> warnings;  // e.g. ts_ns going backwards (clock steps; seq stays authoritative)
};
// Recomputes the chain and every checkpoint signature of `db`, opened read-only. A tampered log is a normal result
// (ok=false with the problem); an error Status means the file could not be read at all.
Result<VerifyReport> Verify(const std::filesystem::path& db, const VerifyOptions& options = {});

// A self-verifying export (export.cpp): the rows rendered as jsonl or csv, and the proof that ties them to signed
// checkpoints ($start, $link and $checkpoint lines). For jsonl the proof follows the rows in `text`; for csv it is
// returned in `proof` (the CLI writes it to FILE.proof.jsonl).
struct ExportReport {
  std::string text;
  std::string proof;
  uint64_t events = 0, first_seq = 0, last_seq = 0;
  uint64_t checkpoints = 0;  // signed checkpoints included in the proof
};
Result<ExportReport> Export(const std::filesystem::path& db, const QueryFilter& filter, OutputFormat format);
// Verifies a jsonl export (or a prune archive) without the database: every row against the chain, left-out rows
// through their content hashes, the span's start against the genesis or a signed checkpoint, every checkpoint's
// signature (against `options.pinned_public_keys` when given, else the keys inside the file, with a warning).
// Uses only pinned_public_keys from `options`.
Result<VerifyReport> VerifyExport(const std::filesystem::path& file, const VerifyOptions& options = {});

// What Log::Prune removes (policy-audit.md B.7). Rows older than `before_ns` go, up to the last signed checkpoint at
// or before the cutoff, so the retention anchor that replaces them is itself signed.
struct PruneOptions {
  int64_t before_ns = 0;               // rows with ts_ns before this are pruned (see above for the exact cut)
  std::filesystem::path archive;       // the pruned rows go here first, as a self-verifying jsonl export. Required.
};
struct PruneReport {
  bool pruned = false;           // false: nothing was old enough (or no signed checkpoint lies before the cutoff)
  std::string reason;            // why nothing was pruned
  uint64_t first_kept_seq = 0;   // the retention anchor's first_seq
  uint64_t pruned_rows = 0;
  std::string archive_sha256;    // hex SHA-256 of the archive file, also stored in the anchor and the event
  uint64_t event_seq = 0;        // seq of the audit.pruned event
};

// Creates an Ed25519 key pair: the secret seed (hex) at `key_path` with mode 0600 and the public key (hex) at
// `key_path` + ".pub". Refuses to overwrite an existing key unless `overwrite`. Returns the public key in hex.
Result<std::string> Keygen(const std::filesystem::path& key_path, bool overwrite = false);
// The hex public key of a secret key file.
Result<std::string> PublicKeyOf(const std::filesystem::path& key_path);

struct CheckpointInfo {
  uint64_t upto_seq = 0;
  std::string head_hash;  // hex
  int64_t ts_ns = 0;
  std::string key_id;     // hex, 4 bytes
  std::string note;       // the signed note as stored
  bool created = false;   // false when the head was already covered by a checkpoint
};

// The writer. Thread-safe: any thread may Append. Several Logs (in this or other processes) may share one database;
// each transaction reads the chain head under the write lock, so the chain never forks.
class Log {
 public:
  // Opens or creates the database, applies the schema and starts the writer thread. Fails on a corrupt or foreign
  // file, a bad key file, or an unwritable folder.
  static Result<std::unique_ptr<Log>> Open(const Options& options);
  // Drains the queue, signs a final checkpoint when a key is set and events were written, and closes.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Queues the event and blocks until it is durable. Returns its seq, or why it could not be recorded (invalid
  // event: kInvalidArgument; disk full: kResourceExhausted; lock timeout, queue full or writer stopped: kUnavailable;
  // I/O error: kIoError; damaged file: kCorruption). Never drops an event silently.
  Result<uint64_t> Append(Event event);
  // Queues the event and returns at once; the ticket's Wait() gives the same answer Append would.
  AppendTicket AppendAsync(Event event);
  // Signs a checkpoint over the current head now (needs a key). Waits for queued events first.
  Result<CheckpointInfo> Checkpoint();
  // Prunes old rows behind a signed retention anchor (needs the signing key): writes and re-verifies the archive,
  // then in one transaction inserts the anchor, deletes the rows, appends an audit.pruned event and signs a
  // checkpoint over it. A later Verify starts at the anchor. Refused when Options::legal_hold is set.
  Result<PruneReport> Prune(const PruneOptions& options);
  // Rotates the signing key (policy-audit.md B.4): registers the new public key, appends an audit.key_rotated event,
  // signs a checkpoint over it with the old key, retires the old key and signs every later checkpoint with the new
  // one. Returns the new key id (hex).
  Result<std::string> RotateKey(const std::filesystem::path& new_key_path);
  // Verify() on this log's database.
  Result<VerifyReport> Verify(const VerifyOptions& options = {}) const;
  const Options& options() const;

  class Impl;

 private:
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::audit
