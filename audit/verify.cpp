// `audit verify` (policy-audit.md B.6): open the database read-only, check every checkpoint note and signature, walk
// the rows in seq order recomputing the chain, and compare with the off-database checkpoint copy. The first failure
// (lowest seq) is reported with its type. The verifier is security code (the immudb advisory): it never trusts a
// stored hash it can recompute, and content hashes are computed on worker threads while the next chunk is read.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <map>
#include <set>
#include <thread>

#include "audit/audit_internal.h"
#include "runtime/base/file_util.h"

namespace warden::audit {

using detail::Hash;

std::string ProblemName(Problem p) {
  switch (p) {
    case Problem::kGap: return "GAP";
    case Problem::kPrevMismatch: return "PREV_MISMATCH";
    case Problem::kHashMismatch: return "HASH_MISMATCH";
    case Problem::kNoncanonicalBody: return "NONCANONICAL_BODY";
    case Problem::kBadSignature: return "BAD_SIGNATURE";
    case Problem::kCheckpointMismatch: return "CHECKPOINT_MISMATCH";
    case Problem::kTruncated: return "TRUNCATED";
    case Problem::kRewritten: return "REWRITTEN";
    case Problem::kSchema: return "SCHEMA";
  }
  return "UNKNOWN";
}

namespace {

// The hashed fields of one row from a column reader (`col(i)` gives column i's text or nullopt). Both readers — the
// bytes copied out of SQLite for the worker threads, and the statement itself on the single-snapshot walk — keep
// kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set and body in consecutive columns
// starting at kind_col; only where event_id and that run start differ.
template <typename Col>
detail::RowView RowViewFromColumns(const Col& col, int event_id_col, int kind_col, int64_t ts_ns) {
  detail::RowView v;
  v.event_id = col(event_id_col).value_or("");
  v.ts_ns = ts_ns;
  v.kind = col(kind_col).value_or("");
  v.tenant_id = col(kind_col + 1).value_or("");
  v.principal_id = col(kind_col + 2).value_or("");
  v.task_id = col(kind_col + 3);
  v.skill = col(kind_col + 4);
  v.action = col(kind_col + 5);
  v.decision = col(kind_col + 6);
  v.policy_set = col(kind_col + 7);
  v.body = col(kind_col + 8).value_or("");
  return v;
}

// One row as the chain walk needs it. Its text columns are copied raw into the chunk's shared buffer (one allocation
// per chunk instead of a dozen strings per row); the worker threads build the hashed text from them.
struct Row {
  uint64_t seq = 0;
  int64_t ts_ns = 0;
  Hash prev{}, stored{};
  bool sizes_ok = true;
  static constexpr int kText = 10;  // event_id, kind, tenant, principal, task, skill, action, decision, policy_set, body
  uint32_t off[kText] = {};
  int32_t len[kText] = {};           // -1 = NULL
  Hash content{};
  bool canonical = true;
};

struct Chunk {
  std::string text;
  std::vector<Row> rows;
  void clear() {
    text.clear();
    rows.clear();
  }
};

struct Checkpoint {
  uint64_t upto_seq = 0;
  Hash head{};
  int64_t ts_ns = 0;
  std::string key_id;  // raw 4 bytes
  std::string note;
  std::string signature;  // raw 64 bytes
};

// A parsed note from the off-database copy.
struct CopiedNote {
  uint64_t upto_seq = 0;
  Hash head{};
  std::string body;
  std::string key_id, signature;
};

std::optional<std::string> ColumnText(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return std::string(t, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

bool Blob32(sqlite3_stmt* s, int i, Hash& out) {
  if (sqlite3_column_bytes(s, i) != 32 || sqlite3_column_type(s, i) != SQLITE_BLOB) return false;
  std::memcpy(out.data(), sqlite3_column_blob(s, i), 32);
  return true;
}

class Verifier {
 public:
  // `parallel`: walk large logs on several connections (WalkParallel); false walks on `db` alone.
  Verifier(sqlite3* db, const std::filesystem::path& path, const VerifyOptions& o, bool parallel)
      : db_(db), path_(path), opt_(o), parallel_(parallel) {}

  Result<VerifyReport> Run() {
    origin_ = detail::MetaValue(db_, "origin");
    WARDEN_RETURN_IF_ERROR(LoadKeys());
    WARDEN_RETURN_IF_ERROR(LoadCheckpoints());
    WARDEN_RETURN_IF_ERROR(LoadCopy());
    CheckCheckpointNotes();
    WARDEN_RETURN_IF_ERROR(WalkRows());
    CheckAnchor();
    CheckTail();
    report_.ok = !report_.problem.has_value();
    if (!checkpoints_.empty() && report_.last_seq >= checkpoints_.rbegin()->first) {
      report_.unanchored_tail = report_.last_seq - checkpoints_.rbegin()->first;
    } else if (checkpoints_.empty()) {
      report_.unanchored_tail = report_.rows;
    }
    return report_;
  }

 private:
  void Flag(Problem p, uint64_t seq, std::string detail) {
    if (report_.problem && report_.problem_seq <= seq) return;
    report_.problem = p;
    report_.problem_seq = seq;
    report_.detail = std::move(detail);
  }

  Status LoadKeys() {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(db_, "SELECT key_id, public_key, retired_ns FROM signing_key",
                                                    path_));
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      if (sqlite3_column_bytes(s.get(), 1) != 32 || sqlite3_column_bytes(s.get(), 0) != 4) continue;
      std::string id(static_cast<const char*>(sqlite3_column_blob(s.get(), 0)), 4);
      std::string pk(static_cast<const char*>(sqlite3_column_blob(s.get(), 1)), 32);
      keys_[id] = pk;
      if (sqlite3_column_type(s.get(), 2) != SQLITE_NULL) retired_[id] = sqlite3_column_int64(s.get(), 2);
    }
    // A damaged page behind the keys must not pass as "these are all the keys" (found by the mutation test).
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_, rc, "reading signing keys", path_);
    for (const auto& hex : opt_.pinned_public_keys) {
      uint8_t pk[32];
      if (!detail::FromHex(hex, pk, 32)) {
        return Status::InvalidArgument("pinned public key \"" + hex + "\" is not 64 hex digits");
      }
      pinned_.insert(std::string(reinterpret_cast<char*>(pk), 32));
    }
    return Status::Ok();
  }

  Status LoadCheckpoints() {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(db_,
        "SELECT upto_seq, head_hash, ts_ns, key_id, note, signature FROM checkpoint ORDER BY upto_seq", path_));
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      Checkpoint c;
      c.upto_seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
      if (!Blob32(s.get(), 1, c.head)) Flag(Problem::kCheckpointMismatch, c.upto_seq, "head_hash is not 32 bytes");
      c.ts_ns = sqlite3_column_int64(s.get(), 2);
      c.key_id = std::string(static_cast<const char*>(sqlite3_column_blob(s.get(), 3)),
                             static_cast<size_t>(sqlite3_column_bytes(s.get(), 3)));
      c.note = ColumnText(s.get(), 4).value_or("");
      c.signature = std::string(static_cast<const char*>(sqlite3_column_blob(s.get(), 5)),
                                static_cast<size_t>(sqlite3_column_bytes(s.get(), 5)));
      checkpoints_[c.upto_seq] = std::move(c);
    }
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_, rc, "reading checkpoints", path_);
    return Status::Ok();
  }

  // A signature is good when it verifies under the key its id names, and that key is pinned (when pins are given).
  bool SignatureGood(const std::string& key_id, const std::string& body, const std::string& signature,
                     std::string& why) const {
    auto it = keys_.find(key_id);
    if (it == keys_.end()) {
      why = "signed by unknown key id " + detail::Hex(reinterpret_cast<const uint8_t*>(key_id.data()), key_id.size());
      return false;
    }
    if (!pinned_.empty() && !pinned_.count(it->second)) {
      why = "signed by key " + detail::Hex(reinterpret_cast<const uint8_t*>(it->second.data()), 32) +
            ", which is not among the pinned public keys";
      return false;
    }
    if (signature.size() != 64 ||
        !detail::VerifySignature(reinterpret_cast<const uint8_t*>(it->second.data()), body,
                                 reinterpret_cast<const uint8_t*>(signature.data()))) {
      why = "Ed25519 signature does not verify";
      return false;
    }
    return true;
  }

  void CheckCheckpointNotes() {
    int64_t last_ts = INT64_MIN;
    for (const auto& [seq, c] : checkpoints_) {
      const std::string body = detail::NoteBody(origin_, seq, c.head, c.ts_ns);
      std::string why;
      if (c.key_id.size() != 4 || c.signature.size() != 64) {
        Flag(Problem::kBadSignature, seq, "checkpoint key id or signature has the wrong length");
        continue;
      }
      std::array<uint8_t, 4> kid;
      std::memcpy(kid.data(), c.key_id.data(), 4);
      const std::string expected =
          detail::NoteText(body, origin_, kid, reinterpret_cast<const uint8_t*>(c.signature.data()));
      auto retired = retired_.find(c.key_id);
      if (!SignatureGood(c.key_id, body, c.signature, why)) {
        Flag(Problem::kBadSignature, seq, "checkpoint at seq " + std::to_string(seq) + ": " + why);
      } else if (retired != retired_.end() && c.ts_ns > retired->second) {
        // A key stops signing at its rotation checkpoint; a later signature by it means the old key leaked.
        Flag(Problem::kBadSignature, seq, "checkpoint at seq " + std::to_string(seq) + " is signed by key " +
                                              detail::Hex(reinterpret_cast<const uint8_t*>(c.key_id.data()), 4) +
                                              ", which was retired before it");
      } else if (c.note != expected) {
        Flag(Problem::kCheckpointMismatch, seq, "stored note text differs from the note rebuilt from its columns");
      } else {
        ++report_.checkpoints;
      }
      if (c.ts_ns <= last_ts) {
        Flag(Problem::kCheckpointMismatch, seq, "checkpoint time does not increase over the previous checkpoint");
      }
      last_ts = c.ts_ns;
    }
  }

  Status LoadCopy() {
    if (opt_.checkpoint_copy.empty()) return Status::Ok();
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(opt_.checkpoint_copy));
    // Notes are "<4 body lines>\n\n— <origin> <base64>\n", separated by a blank line.
    size_t pos = 0;
    const std::string dash = "\u2014 ";
    while (pos < text.size()) {
      size_t sep = text.find("\n\n", pos);
      if (sep == std::string::npos) break;
      std::string body = text.substr(pos, sep + 1 - pos);
      size_t line_end = text.find('\n', sep + 2);
      if (line_end == std::string::npos) break;
      std::string sigline = text.substr(sep + 2, line_end - sep - 2);
      pos = line_end + 1;
      while (pos < text.size() && text[pos] == '\n') ++pos;
      CopiedNote n;
      n.body = body;
      std::vector<std::string> lines;
      for (size_t a = 0, b; (b = body.find('\n', a)) != std::string::npos; a = b + 1) lines.push_back(body.substr(a, b - a));
      std::string head_raw, blob;
      const size_t space = sigline.rfind(' ');
      if (lines.size() != 4 || sigline.rfind(dash, 0) != 0 || space == std::string::npos ||
          !detail::FromBase64(lines[2], head_raw) || head_raw.size() != 32 ||
          !detail::FromBase64(sigline.substr(space + 1), blob) || blob.size() != 68) {
        return Status::InvalidArgument("checkpoint copy " + opt_.checkpoint_copy.string() +
                                       ": a note is malformed near byte " + std::to_string(pos));
      }
      try {
        n.upto_seq = std::stoull(lines[1]);
      } catch (const std::exception&) {
        return Status::InvalidArgument("checkpoint copy " + opt_.checkpoint_copy.string() + ": bad seq line \"" +
                                       lines[1] + "\"");
      }
      std::memcpy(n.head.data(), head_raw.data(), 32);
      n.key_id = blob.substr(0, 4);
      n.signature = blob.substr(4);
      copies_.push_back(std::move(n));
    }
    for (const auto& n : copies_) {
      std::string why;
      if (!SignatureGood(n.key_id, n.body, n.signature, why)) {
        Flag(Problem::kBadSignature, n.upto_seq, "checkpoint copy at seq " + std::to_string(n.upto_seq) + ": " + why);
      }
      copy_heads_needed_.insert(n.upto_seq);
    }
    return Status::Ok();
  }

  void HashChunk(Chunk& c, size_t begin, size_t end) const {
    const std::string_view arena(c.text);
    std::string text;
    text.reserve(1024);
    for (size_t i = begin; i < end; ++i) {
      Row& r = c.rows[i];
      auto col = [&](int k) -> std::optional<std::string_view> {
        if (r.len[k] < 0) return std::nullopt;
        return arena.substr(r.off[k], static_cast<size_t>(r.len[k]));
      };
      detail::RowView v = RowViewFromColumns(col, /*event_id_col=*/0, /*kind_col=*/1, r.ts_ns);
      text.clear();
      detail::RowContentText(v, text);
      r.content = detail::Sha256(text);
      if (opt_.check_canonical) r.canonical = detail::IsCanonicalBody(v.body);
    }
  }

  // Hashes a chunk on the worker threads (the caller reads the next chunk meanwhile).
  std::future<void> HashAsync(Chunk& c) {
    return std::async(std::launch::async, [this, &c] {
      const size_t n = c.rows.size();
      const size_t workers = static_cast<size_t>(std::max(1, threads_));
      const size_t per = (n + workers - 1) / workers;
      std::vector<std::future<void>> parts;
      for (size_t w = 1; w < workers && w * per < n; ++w) {
        parts.push_back(std::async(std::launch::async, [this, &c, w, per, n] {
          HashChunk(c, w * per, std::min(n, (w + 1) * per));
        }));
      }
      HashChunk(c, 0, std::min(n, per));
      for (auto& p : parts) p.get();
    });
  }

  // Reads up to kChunk rows: it only copies column bytes (hashing is done by whoever called it next, off this
  // statement). A NULL column has a NULL text pointer, so one call per column finds both NULL and the bytes.
  Status ReadChunk(sqlite3* db, sqlite3_stmt* s, Chunk& c, bool& done) const {
    c.clear();
    c.rows.reserve(kChunk);
    int rc = SQLITE_ROW;
    while (c.rows.size() < kChunk && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row& r = c.rows.emplace_back();
      r.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
      r.ts_ns = sqlite3_column_int64(s, 2);
      static constexpr int kColumn[Row::kText] = {1, 3, 4, 5, 6, 7, 8, 9, 10, 11};
      for (int k = 0; k < Row::kText; ++k) {
        const int i = kColumn[k];
        const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        if (t == nullptr) {
          r.len[k] = -1;
          continue;
        }
        const int n = sqlite3_column_bytes(s, i);
        r.off[k] = static_cast<uint32_t>(c.text.size());
        r.len[k] = n;
        c.text.append(t, static_cast<size_t>(n));
      }
      r.sizes_ok = Blob32(s, 12, r.prev) && Blob32(s, 13, r.stored);
    }
    if (c.rows.size() < kChunk) {
      if (rc != SQLITE_DONE && rc != SQLITE_ROW) return detail::SqliteStatus(db, rc, "reading audit_event", path_);
      done = true;
    }
    return Status::Ok();
  }

  // The parallel walk's reader: builds each row's hashed text straight from SQLite's column buffers and hashes it, so
  // no column is copied; only an audit.pruned row keeps its kind and body (CheckAnchor needs them).
  Status ReadHashChunk(sqlite3* db, sqlite3_stmt* s, Chunk& c) const {
    c.clear();
    c.rows.reserve(kChunk);
    std::string text;
    text.reserve(1024);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row& r = c.rows.emplace_back();
      r.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
      r.ts_ns = sqlite3_column_int64(s, 2);
      auto col = [&](int i) -> std::optional<std::string_view> {
        const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        if (t == nullptr) return std::nullopt;
        return std::string_view(t, static_cast<size_t>(sqlite3_column_bytes(s, i)));
      };
      detail::RowView v = RowViewFromColumns(col, /*event_id_col=*/1, /*kind_col=*/3, r.ts_ns);
      text.clear();
      detail::RowContentText(v, text);
      r.content = detail::Sha256(text);
      if (opt_.check_canonical) r.canonical = detail::IsCanonicalBody(v.body);
      if (v.kind == "audit.pruned") {
        r.off[1] = static_cast<uint32_t>(c.text.size());
        r.len[1] = static_cast<int32_t>(v.kind.size());
        c.text += v.kind;
        r.off[9] = static_cast<uint32_t>(c.text.size());
        r.len[9] = static_cast<int32_t>(v.body.size());
        c.text += v.body;
      }
      r.sizes_ok = Blob32(s, 12, r.prev) && Blob32(s, 13, r.stored);
    }
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db, rc, "reading audit_event", path_);
    return Status::Ok();
  }

  // Sequential part: seq continuity, prev linkage, the chain hash, checkpoint heads. Returns false at the first
  // broken row (later rows cannot be judged against a broken chain).
  bool Check(const Chunk& chunk) {
    for (const Row& r : chunk.rows) {
      if (r.len[1] == 12 && chunk.text.compare(r.off[1], 12, "audit.pruned") == 0 && r.len[9] >= 0) {
        pruned_events_[r.seq] = chunk.text.substr(r.off[9], static_cast<size_t>(r.len[9]));
      }
      if (!started_) {
        started_ = true;
        report_.first_seq = r.seq;
        if (opt_.from_seq > 0) {
          if (r.seq != opt_.from_seq) {
            Flag(Problem::kGap, opt_.from_seq, "row " + std::to_string(opt_.from_seq) + " is missing");
            return false;
          }
          head_ = r.prev;  // trusted starting point for a partial walk
        } else if (r.seq != next_) {
          Flag(Problem::kGap, next_, "the chain should start at seq " + std::to_string(next_) + " but starts at " +
                                         std::to_string(r.seq));
          return false;
        }
        next_ = r.seq;
      }
      if (r.seq != next_) {
        Flag(Problem::kGap, next_, "rows " + std::to_string(next_) + ".." + std::to_string(r.seq - 1) + " are missing");
        return false;
      }
      if (!r.sizes_ok) {
        Flag(Problem::kHashMismatch, r.seq, "prev_hash or row_hash is not a 32-byte blob");
        return false;
      }
      if (r.prev != head_) {
        Flag(Problem::kPrevMismatch, r.seq, "prev_hash " + detail::Hex(r.prev) + " is not the previous row's hash " +
                                                detail::Hex(head_));
        return false;
      }
      const Hash computed = detail::ChainHash(head_, r.seq, r.content);
      if (computed != r.stored) {
        Flag(Problem::kHashMismatch, r.seq, "stored row_hash " + detail::Hex(r.stored) + ", recomputed " +
                                                detail::Hex(computed) + " (a hashed field was changed)");
        return false;
      }
      if (!r.canonical) {
        Flag(Problem::kNoncanonicalBody, r.seq, "body is not in canonical form");
        return false;
      }
      // Producers stamp events before they queue, so neighbours may be out of order by a few ms; only a step of
      // over a second is reported as the clock going back.
      if (r.ts_ns + kClockStepNs < last_ts_ && report_.warnings.size() < 10) {
        report_.warnings.push_back("seq " + std::to_string(r.seq) + ": ts_ns goes back " +
                                   std::to_string(last_ts_ - r.ts_ns) + " ns (clock step; seq order stands)");
      }
      last_ts_ = std::max(last_ts_, r.ts_ns);
      head_ = computed;
      auto cp = checkpoints_.find(r.seq);
      if (cp != checkpoints_.end() && cp->second.head != head_) {
        Flag(Problem::kCheckpointMismatch, r.seq, "the signed checkpoint at this seq commits to head " +
                                                      detail::Hex(cp->second.head) + ", the rows give " +
                                                      detail::Hex(head_));
        return false;
      }
      if (copy_heads_needed_.count(r.seq)) copy_heads_[r.seq] = head_;
      report_.last_seq = r.seq;
      ++report_.rows;
      ++next_;
    }
    return true;
  }

  Status WalkRows() {
    threads_ = opt_.threads > 0 ? opt_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // The chain starts at the newest retention anchor, else at seq 1 from the genesis hash.
    {
      WARDEN_ASSIGN_OR_RETURN(auto a, detail::Prepare(db_,
          "SELECT first_seq, prev_hash, archive_sha256 FROM retention_anchor ORDER BY first_seq DESC LIMIT 1", path_));
      const int rc = sqlite3_step(a.get());
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return detail::SqliteStatus(db_, rc, "reading the anchor", path_);
      if (rc == SQLITE_ROW && Blob32(a.get(), 1, head_)) {
        next_ = static_cast<uint64_t>(sqlite3_column_int64(a.get(), 0));
        anchor_first_ = next_;
        anchor_prev_ = head_;
        anchor_archive_ = ColumnText(a.get(), 2).value_or("");
      }
    }
    if (opt_.from_seq <= next_) opt_.from_seq = 0;
    const uint64_t start = std::max(opt_.from_seq, next_);
    uint64_t last = 0;
    {
      WARDEN_ASSIGN_OR_RETURN(auto m, detail::Prepare(db_, "SELECT max(seq) FROM audit_event", path_));
      const int rc = sqlite3_step(m.get());
      if (rc != SQLITE_ROW) return detail::SqliteStatus(db_, rc, "reading the last seq", path_);
      last = static_cast<uint64_t>(sqlite3_column_int64(m.get(), 0));
    }
    if (parallel_ && threads_ > 1 && last >= start && last - start >= 2 * kChunk) {
      // Chunks are seq ranges, so the span must not exceed the rows there are: a wild seq (a row renumbered to 2^40)
      // would otherwise mean billions of empty chunks; it takes the sequential walk, which reports it. The count
      // without WHERE reads the smallest index (1 ms for 200k rows; a range count reads every leaf, 36 ms).
      WARDEN_ASSIGN_OR_RETURN(auto c, detail::Prepare(db_, "SELECT count(*) FROM audit_event", path_));
      const int rc = sqlite3_step(c.get());
      if (rc != SQLITE_ROW) return detail::SqliteStatus(db_, rc, "counting rows", path_);
      if (last - start + 1 <= static_cast<uint64_t>(sqlite3_column_int64(c.get(), 0))) return WalkParallel(start, last);
    }
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(db_,
        "SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, "
        "body, prev_hash, row_hash FROM audit_event WHERE seq >= ? ORDER BY seq", path_));
    sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(start));
    Chunk current, next;
    bool done = false;
    WARDEN_RETURN_IF_ERROR(ReadChunk(db_, s.get(), current, done));
    if (done && current.rows.size() < 1024) {
      // A small log: threads would cost more than they save.
      HashChunk(current, 0, current.rows.size());
      Check(current);
      return Status::Ok();
    }
    while (!current.rows.empty()) {
      auto hashing = HashAsync(current);
      Status read = Status::Ok();
      if (!done) read = ReadChunk(db_, s.get(), next, done);
      hashing.get();
      WARDEN_RETURN_IF_ERROR(read);
      if (!Check(current)) return Status::Ok();
      std::swap(current, next);
      next.clear();
    }
    return Status::Ok();
  }

  // The walk on several connections: chunk k (seqs start + k*kChunk ..) is read and hashed by reader k % threads on
  // its own read-only connection, and this thread checks the chunks in seq order (the chain itself is sequential but
  // costs one short hash per row). The single-connection walk is bounded by its one reader; this one by the cores.
  // Each reader has its own snapshot; rows up to `last` (read in this thread's snapshot) are append-only, so they
  // agree unless a prune ran meanwhile, and Verify re-walks on one connection before it reports any problem.
  Status WalkParallel(uint64_t start, uint64_t last) {
    struct Lane {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<std::unique_ptr<Chunk>> ready;
      Status status = Status::Ok();
      bool failed = false;
    };
    const size_t lanes_n = static_cast<size_t>(threads_);
    const uint64_t chunks = (last - start) / kChunk + 1;
    std::vector<std::unique_ptr<Lane>> lanes;
    for (size_t t = 0; t < lanes_n; ++t) lanes.push_back(std::make_unique<Lane>());
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    for (size_t t = 0; t < lanes_n; ++t) {
      readers.emplace_back([&, t] {
        Lane& lane = *lanes[t];
        auto fail = [&](Status st) {
          std::lock_guard<std::mutex> lock(lane.mu);
          lane.status = std::move(st);
          lane.failed = true;
          lane.cv.notify_all();
        };
        auto handle = detail::OpenReadOnly(path_);
        if (!handle.ok()) return fail(handle.status());
        sqlite3* db = handle->get();
        sqlite3_exec(db, "PRAGMA mmap_size = 268435456", nullptr, nullptr, nullptr);
        Status begun = detail::Exec(db, "BEGIN", path_);
        if (!begun.ok()) return fail(begun);
        auto stmt = detail::Prepare(db,
            "SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, "
            "policy_set, body, prev_hash, row_hash FROM audit_event WHERE seq >= ? AND seq < ? ORDER BY seq", path_);
        if (!stmt.ok()) return fail(stmt.status());
        for (uint64_t k = t; k < chunks && !stop; k += lanes_n) {
          auto c = std::make_unique<Chunk>();
          sqlite3_reset(stmt->get());
          sqlite3_bind_int64(stmt->get(), 1, static_cast<int64_t>(start + k * kChunk));
          sqlite3_bind_int64(stmt->get(), 2, static_cast<int64_t>(std::min(start + (k + 1) * kChunk, last + 1)));
          Status read = ReadHashChunk(db, stmt->get(), *c);
          if (!read.ok()) return fail(read);
          std::unique_lock<std::mutex> lock(lane.mu);
          // Two chunks ahead per reader bounds memory; the checker frees them in order.
          lane.cv.wait(lock, [&] { return stop || lane.ready.size() < 2; });
          if (stop) break;
          lane.ready.push_back(std::move(c));
          lane.cv.notify_all();
        }
        stmt->reset();
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      });
    }
    Status result = Status::Ok();
    for (uint64_t k = 0; k < chunks; ++k) {
      Lane& lane = *lanes[k % lanes_n];
      std::unique_ptr<Chunk> c;
      {
        std::unique_lock<std::mutex> lock(lane.mu);
        lane.cv.wait(lock, [&] { return lane.failed || !lane.ready.empty(); });
        if (lane.ready.empty()) {
          result = lane.status;
          break;
        }
        c = std::move(lane.ready.front());
        lane.ready.pop_front();
        lane.cv.notify_all();
      }
      if (!Check(*c)) break;
    }
    stop = true;
    for (auto& lane : lanes) {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->cv.notify_all();
    }
    for (auto& r : readers) r.join();
    return result;
  }

  // Rows before the anchor are gone; that is only legitimate when (1) a signed checkpoint sits exactly at
  // first_seq - 1 with the anchor's prev_hash as its head, and (2) an audit.pruned event naming this anchor and its
  // archive is in the chain and covered by a signed checkpoint (an attacker without the key can add neither).
  void CheckAnchor() {
    if (!anchor_first_ || opt_.from_seq > 0) return;
    const uint64_t first = *anchor_first_;
    auto cp = checkpoints_.find(first - 1);
    if (cp == checkpoints_.end() || cp->second.head != anchor_prev_) {
      Flag(Problem::kCheckpointMismatch, first, "the retention anchor at seq " + std::to_string(first) +
                                                    " is not backed by a signed checkpoint at seq " +
                                                    std::to_string(first - 1) + " with its prev_hash");
      return;
    }
    const uint64_t sealed = checkpoints_.rbegin()->first;
    for (const auto& [seq, body] : pruned_events_) {
      if (seq > sealed || seq > report_.last_seq) continue;
      try {
        const auto j = nlohmann::json::parse(body);
        if (j.value("first_seq", uint64_t{0}) == first && j.value("archive_sha256", std::string()) == anchor_archive_) {
          return;
        }
      } catch (const nlohmann::json::exception&) {
      }
    }
    Flag(Problem::kGap, first > 1 ? 1 : first, "rows 1.." + std::to_string(first - 1) +
                                                   " are gone, but no signed audit.pruned event records pruning "
                                                   "them (archive " + anchor_archive_ + ")");
  }

  void CheckTail() {
    if (report_.problem && report_.problem_seq <= report_.last_seq) return;
    report_.head_hash = detail::Hex(head_);
    const uint64_t last = report_.last_seq;
    if (!checkpoints_.empty() && checkpoints_.rbegin()->first > last) {
      Flag(Problem::kTruncated, last + 1, "a signed checkpoint covers seq " +
                                              std::to_string(checkpoints_.rbegin()->first) +
                                              " but the log ends at " + std::to_string(last));
    }
    for (const auto& n : copies_) {
      if (n.upto_seq > last) {
        Flag(Problem::kTruncated, last + 1, "the checkpoint copy covers seq " + std::to_string(n.upto_seq) +
                                                " but the log ends at " + std::to_string(last));
      } else if (auto it = copy_heads_.find(n.upto_seq); it != copy_heads_.end() && it->second != n.head) {
        Flag(Problem::kRewritten, n.upto_seq, "the checkpoint copy commits to head " + detail::Hex(n.head) +
                                                  " at this seq, the database gives " + detail::Hex(it->second));
      }
    }
  }

  static constexpr size_t kChunk = 4096;
  static constexpr int64_t kClockStepNs = 1'000'000'000;
  sqlite3* db_;
  std::filesystem::path path_;
  VerifyOptions opt_;
  std::string origin_;
  std::map<std::string, std::string> keys_;  // key id -> public key (raw)
  std::map<std::string, int64_t> retired_;   // key id -> retired_ns
  // The newest retention anchor, when rows were pruned.
  std::optional<uint64_t> anchor_first_;
  std::string anchor_archive_;
  Hash anchor_prev_{};
  // audit.pruned events seen in the walk: seq -> body.
  std::set<std::string> pinned_;
  std::map<uint64_t, std::string> pruned_events_;
  std::map<uint64_t, Checkpoint> checkpoints_;
  std::vector<CopiedNote> copies_;
  std::set<uint64_t> copy_heads_needed_;
  std::map<uint64_t, Hash> copy_heads_;
  VerifyReport report_;
  int threads_ = 1;
  bool parallel_ = true;
  bool started_ = false;
  uint64_t next_ = 1;
  Hash head_{};
  int64_t last_ts_ = INT64_MIN;
};

}  // namespace

namespace {

// PRAGMA quick_check on its own read-only connection: it scans every page of every b-tree, about as much work as the
// chain walk, so it runs beside the walk instead of before it. Page integrity does not depend on which snapshot it
// sees.
Status QuickCheck(const std::filesystem::path& db) {
  WARDEN_ASSIGN_OR_RETURN(auto handle, detail::OpenReadOnly(db));
  sqlite3_exec(handle.get(), "PRAGMA mmap_size = 268435456", nullptr, nullptr, nullptr);
  WARDEN_ASSIGN_OR_RETURN(auto qc, detail::Prepare(handle.get(), "PRAGMA quick_check", db));
  const int rc = sqlite3_step(qc.get());
  if (rc != SQLITE_ROW) return detail::SqliteStatus(handle.get(), rc, "running quick_check", db);
  const std::string result = reinterpret_cast<const char*>(sqlite3_column_text(qc.get(), 0));
  if (result != "ok") {
    return Status::Corruption("audit database " + db.string() + ": SQLite quick_check reports \"" + result +
                              "\"; the file is damaged below the chain (keep a copy for forensics)");
  }
  return Status::Ok();
}

}  // namespace

Result<VerifyReport> Verify(const std::filesystem::path& db, const VerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(auto handle, detail::OpenReadOnly(db));
  std::future<Status> quick;
  if (options.quick_check) quick = std::async(std::launch::async, [db] { return QuickCheck(db); });
  // One read transaction so the walk sees one consistent snapshot while writers go on.
  Status begun = detail::Exec(handle.get(), "BEGIN", db);
  Result<VerifyReport> report = begun.ok() ? Result<VerifyReport>(VerifyReport{}) : Result<VerifyReport>(begun);
  if (begun.ok()) {
    // Page-cache reads through mmap skip a copy per page on big logs.
    sqlite3_exec(handle.get(), "PRAGMA mmap_size = 268435456", nullptr, nullptr, nullptr);
    report = Verifier(handle.get(), db, options, /*parallel=*/true).Run();
    if (report.ok() && !report->ok) {
      // The parallel walk's readers each had their own snapshot; judge a failure on this one snapshot alone.
      report = Verifier(handle.get(), db, options, /*parallel=*/false).Run();
    }
    sqlite3_exec(handle.get(), "COMMIT", nullptr, nullptr, nullptr);
  }
  if (quick.valid()) {
    // Damage below the chain is an error even when the walk happened to pass over it.
    Status qc = quick.get();
    if (!qc.ok()) return qc;
  }
  return report;
}

}  // namespace warden::audit
