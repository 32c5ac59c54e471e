// Random mutations of an audit database and of a jsonl export, for the verifier mutation test (policy-audit.md B.9
// R25): audit/mutation_test.cpp runs a few thousand, bench/audit_throughput/warden_audit_mutation_bench 10^5 and more.
// Each mutation says whether it changed hashed content (then verify must report it, at `seq` when that is set) or
// only bytes verify may or may not notice (then verify must only not crash, and may pass only when the hashed
// content reads back unchanged). No Catch here, so the bench can use it.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_internal.h"

namespace warden::audit::testutil {

struct Mutation {
  bool applied = false;         // false: the schema refused it (a CHECK, NOT NULL, UNIQUE) and nothing changed
  bool changes_hashed = false;  // true: verify must report it
  uint64_t seq = 0;             // where verify must report it (0: anywhere)
  std::string what;             // for failure messages
};

// Every hashed column and every checkpoint column, as stored, in seq order: what "hashed content unchanged" means
// for a mutation of raw file bytes. Tables are read in rowid order, so a damaged index alone does not count.
inline std::string DumpContent(const std::filesystem::path& db) {
  sqlite3* raw = nullptr;
  std::string out;
  const std::string uri = "file:" + db.string() + "?mode=ro";
  if (sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return "<unreadable>";
  }
  for (const char* sql : {"SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, "
                          "decision, policy_set, body, prev_hash, row_hash FROM audit_event ORDER BY seq",
                          "SELECT upto_seq, head_hash, ts_ns, key_id, note, signature FROM checkpoint ORDER BY upto_seq",
                          "SELECT key_id, public_key, retired_ns FROM signing_key ORDER BY rowid"}) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(raw, sql, -1, &s, nullptr) != SQLITE_OK) {
      out += "<unreadable>";
      continue;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        out += std::to_string(sqlite3_column_type(s, i)) + ":";
        const auto* b = static_cast<const char*>(sqlite3_column_blob(s, i));
        if (b) out.append(b, static_cast<size_t>(sqlite3_column_bytes(s, i)));
        out += '\x1f';
      }
      out += '\n';
    }
    if (rc != SQLITE_DONE) out += "<read error>";
    sqlite3_finalize(s);
  }
  sqlite3_close(raw);
  return out;
}

inline std::string Hexs(const std::string& s) { return detail::Hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// Mutates a copy of a closed, fully checkpointed database (one file, no WAL). Each Next() first restores the copy
// from the pristine bytes, so every mutation is judged alone.
class DbMutator {
 public:
  DbMutator(const std::filesystem::path& pristine, std::filesystem::path work, uint64_t seed)
      : work_(std::move(work)), rng_(seed) {
    // In rollback-journal mode the copy is one self-contained file, and a read-only connection opens it without
    // rebuilding a WAL index first (which made each Verify here wait on the busy handler).
    std::error_code ec;
    std::filesystem::copy_file(pristine, work_, std::filesystem::copy_options::overwrite_existing, ec);
    {
      sqlite3* db = nullptr;
      sqlite3_open(work_.c_str(), &db);
      sqlite3_exec(db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    }
    std::ifstream in(work_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes_ = ss.str();
    Restore();
    sqlite3* db = Open();
    last_seq_ = Int(db, "SELECT max(seq) FROM audit_event");
    first_seq_ = Int(db, "SELECT min(seq) FROM audit_event");
    sqlite3_close(db);
    pristine_content_ = DumpContent(work_);
  }

  const std::filesystem::path& path() const { return work_; }
  const std::string& pristine_content() const { return pristine_content_; }

  // One mutation of a row, a checkpoint, a key, or (one in eight) of raw file bytes.
  Mutation Next() {
    Restore();
    const int pick = static_cast<int>(rng_() % 16);
    if (pick < 2) return FlipFileBytes();
    sqlite3* db = Open();
    Mutation m;
    if (pick < 10) {
      m = EditRowColumn(db);
    } else if (pick < 11) {
      m = DeleteRow(db);
    } else if (pick < 12) {
      m = SwapRows(db);
    } else if (pick < 13) {
      m = AppendCopy(db);
    } else if (pick < 15) {
      m = EditCheckpoint(db);
    } else {
      m = EditKey(db);
    }
    sqlite3_close(db);
    return m;
  }

 private:
  void Restore() { Write(bytes_); }

  // A fresh file each time: truncating one with dirty pages makes ext4 flush it first (auto_da_alloc), ~1 ms each.
  void Write(const std::string& bytes) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(work_.string() + suffix, ec);
    std::ofstream out(work_, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  sqlite3* Open() {
    sqlite3* db = nullptr;
    sqlite3_open(work_.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY; DROP TRIGGER IF EXISTS audit_event_no_update; "
                 "DROP TRIGGER IF EXISTS audit_event_no_delete; DROP TRIGGER IF EXISTS checkpoint_no_update; "
                 "DROP TRIGGER IF EXISTS checkpoint_no_delete;",
                 nullptr, nullptr, nullptr);
    return db;
  }

  static int64_t Int(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v;
  }

  uint64_t RandomSeq() {
    return static_cast<uint64_t>(first_seq_) + rng_() % static_cast<uint64_t>(last_seq_ - first_seq_ + 1);
  }

  // A different byte string: a flipped bit, a replaced, inserted or deleted byte, a cut, or an appended byte.
  std::string MutateBytes(std::string v) {
    const std::string before = v;
    while (v == before) {
      const size_t at = v.empty() ? 0 : rng_() % v.size();
      switch (rng_() % 6) {
        case 0:
          if (!v.empty()) v[at] = static_cast<char>(v[at] ^ (1 << (rng_() % 8)));
          break;
        case 1:
          if (!v.empty()) v[at] = static_cast<char>(rng_() % 256);
          break;
        case 2: v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng_() % 256)); break;
        case 3:
          if (!v.empty()) v.erase(at, 1);
          break;
        case 4:
          if (!v.empty()) v.resize(at);
          break;
        default: v.push_back(static_cast<char>(32 + rng_() % 95));
      }
    }
    return v;
  }

  // Runs an UPDATE/INSERT with one bound value; false when the schema refuses it.
  static bool Run(sqlite3* db, const std::string& sql, const std::function<void(sqlite3_stmt*)>& bind) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return false;
    bind(s);
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE && sqlite3_changes(db) > 0;
  }

  // Mutates one column of `table` in the row `where`; `types` says how each column is stored.
  Mutation EditColumn(sqlite3* db, const std::string& table, const std::string& where, const std::string& column,
                      Mutation m) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, ("SELECT " + column + " FROM " + table + " WHERE " + where).c_str(), -1, &s, nullptr);
    if (sqlite3_step(s) != SQLITE_ROW) {
      sqlite3_finalize(s);
      return m;
    }
    const int type = sqlite3_column_type(s, 0);
    const auto* b = static_cast<const char*>(sqlite3_column_blob(s, 0));
    const std::string old = b ? std::string(b, static_cast<size_t>(sqlite3_column_bytes(s, 0))) : "";
    const int64_t old_int = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    const std::string sql = "UPDATE " + table + " SET " + column + " = ? WHERE " + where;
    m.what += " " + table + "." + column;
    if (type == SQLITE_INTEGER) {
      static constexpr int64_t kDeltas[] = {1, -1, 2, 1000, -1000, 1LL << 40};
      const int64_t v = old_int + kDeltas[rng_() % 6];
      m.applied = Run(db, sql, [&](sqlite3_stmt* st) { sqlite3_bind_int64(st, 1, v); });
    } else if (type == SQLITE_BLOB) {
      std::string v = old;
      if (v.empty()) v.push_back('x');
      v[rng_() % v.size()] ^= static_cast<char>(1 << (rng_() % 8));
      m.applied = Run(db, sql, [&](sqlite3_stmt* st) {
        sqlite3_bind_blob(st, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      });
    } else if (type == SQLITE_NULL || rng_() % 8 == 0) {
      // NULL <-> a value (refused where the column is NOT NULL).
      const std::string v = "x" + std::to_string(rng_() % 1000);
      m.applied = Run(db, sql, [&](sqlite3_stmt* st) {
        if (type == SQLITE_NULL) {
          sqlite3_bind_text(st, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        } else {
          sqlite3_bind_null(st, 1);
        }
      });
    } else {
      const std::string v = MutateBytes(old);
      m.applied = Run(db, sql, [&](sqlite3_stmt* st) {
        sqlite3_bind_text(st, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      });
    }
    return m;
  }

  Mutation EditRowColumn(sqlite3* db) {
    static const char* kColumns[] = {"seq",    "event_id", "ts_ns",    "kind",       "tenant_id", "principal_id",
                                     "task_id", "skill",   "action",   "decision",   "policy_set", "body",
                                     "body",    "body",    "prev_hash", "row_hash"};
    const uint64_t seq = RandomSeq();
    Mutation m;
    m.changes_hashed = true;
    m.seq = seq;
    m.what = "seq " + std::to_string(seq);
    return EditColumn(db, "audit_event", "seq = " + std::to_string(seq), kColumns[rng_() % 16], m);
  }

  Mutation DeleteRow(sqlite3* db) {
    const uint64_t seq = RandomSeq();
    Mutation m{false, true, seq, "delete seq " + std::to_string(seq)};
    m.applied = Run(db, "DELETE FROM audit_event WHERE seq = ?",
                    [&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, static_cast<int64_t>(seq)); });
    return m;
  }

  // Two rows trade places (all their columns but seq).
  Mutation SwapRows(sqlite3* db) {
    uint64_t a = RandomSeq(), b = RandomSeq();
    if (a == b) b = a == static_cast<uint64_t>(last_seq_) ? a - 1 : a + 1;
    if (a > b) std::swap(a, b);
    Mutation m{false, true, a, "swap seq " + std::to_string(a) + " and " + std::to_string(b)};
    const std::string t = std::to_string(last_seq_ + 1000000);
    const std::string sa = std::to_string(a), sb = std::to_string(b);
    m.applied = sqlite3_exec(db,
                             ("BEGIN; UPDATE audit_event SET seq = " + t + " WHERE seq = " + sa +
                              "; UPDATE audit_event SET seq = " + sa + " WHERE seq = " + sb +
                              "; UPDATE audit_event SET seq = " + sb + " WHERE seq = " + t + "; COMMIT;")
                                 .c_str(),
                             nullptr, nullptr, nullptr) == SQLITE_OK;
    return m;
  }

  // A copy of an existing row (fresh event_id) appended after the head: its prev_hash cannot match.
  Mutation AppendCopy(sqlite3* db) {
    const uint64_t from = RandomSeq(), at = static_cast<uint64_t>(last_seq_) + 1;
    Mutation m{false, true, at, "append a copy of seq " + std::to_string(from)};
    m.applied = Run(db,
                    "INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, "
                    "action, decision, policy_set, body, prev_hash, row_hash) SELECT ?, event_id || '-copy', ts_ns, "
                    "kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, prev_hash, "
                    "row_hash FROM audit_event WHERE seq = ?",
                    [&](sqlite3_stmt* s) {
                      sqlite3_bind_int64(s, 1, static_cast<int64_t>(at));
                      sqlite3_bind_int64(s, 2, static_cast<int64_t>(from));
                    });
    return m;
  }

  Mutation EditCheckpoint(sqlite3* db) {
    const int64_t n = Int(db, "SELECT count(*) FROM checkpoint");
    if (n == 0) return {};
    const int64_t upto =
        Int(db, "SELECT upto_seq FROM checkpoint ORDER BY upto_seq LIMIT 1 OFFSET " + std::to_string(rng_() % n));
    static const char* kColumns[] = {"upto_seq", "head_hash", "ts_ns", "key_id", "note", "signature"};
    const char* column = kColumns[rng_() % 6];
    Mutation m;
    m.changes_hashed = true;
    // A moved checkpoint is reported at its old or new place; anything else at its own seq.
    m.seq = std::string(column) == "upto_seq" ? 0 : static_cast<uint64_t>(upto);
    m.what = "checkpoint " + std::to_string(upto);
    return EditColumn(db, "checkpoint", "upto_seq = " + std::to_string(upto), column, m);
  }

  Mutation EditKey(sqlite3* db) {
    Mutation m;
    m.changes_hashed = true;
    m.what = "signing key";
    return EditColumn(db, "signing_key", "rowid = (SELECT min(rowid) FROM signing_key)", "public_key", m);
  }

  // Raw damage: 1-4 random bytes of the file past its 100-byte header changed. Verify may or may not notice (a free
  // page, an index); it must not crash and may pass only if the hashed content reads back unchanged.
  Mutation FlipFileBytes() {
    std::string b = bytes_;
    const int n = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < n; ++i) {
      const size_t at = 100 + rng_() % (b.size() - 100);
      b[at] = static_cast<char>(b[at] ^ static_cast<char>(1 + rng_() % 255));
    }
    Write(b);
    return {true, false, 0, "file bytes"};
  }

  std::filesystem::path work_;
  std::mt19937_64 rng_;
  std::string bytes_;
  std::string pristine_content_;
  int64_t first_seq_ = 1, last_seq_ = 1;
};

// Mutates a jsonl export: a hashed field of a row, a proof line's field, a deleted row or link line (all must be
// reported), or raw bytes anywhere (must only not crash).
class ExportMutator {
 public:
  ExportMutator(std::string text, uint64_t seed) : rng_(seed) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines_.push_back(line);
    }
  }

  // The mutated text and what was done.
  std::pair<std::string, Mutation> Next() {
    std::vector<std::string> lines = lines_;
    Mutation m;
    if (rng_() % 5 == 0) {
      std::string text = Join(lines);
      const int n = 1 + static_cast<int>(rng_() % 4);
      for (int i = 0; i < n; ++i) {
        const size_t at = rng_() % text.size();
        switch (rng_() % 3) {
          case 0: text[at] = static_cast<char>(text[at] ^ static_cast<char>(1 + rng_() % 255)); break;
          case 1: text.erase(at, 1); break;
          default: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng_() % 256));
        }
      }
      return {text, {true, false, 0, "raw bytes"}};
    }
    const size_t i = rng_() % lines.size();
    nlohmann::json j = nlohmann::json::parse(lines[i]);
    m.applied = true;
    m.changes_hashed = true;
    if (j.contains("$checkpoint") || j.contains("$start")) {
      auto& o = j.contains("$checkpoint") ? j["$checkpoint"] : j["$start"];
      m.what = j.contains("$checkpoint") ? "$checkpoint" : "$start";
      MutateField(o, m);
    } else if (j.contains("$link")) {
      m.what = "$link";
      if (rng_() % 4 == 0) {
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        m.what += " deleted";
        return {Join(lines), m};
      }
      MutateField(j["$link"], m);
    } else {
      const uint64_t seq = j.at("seq").get<uint64_t>();
      m.what = "row " + std::to_string(seq);
      if (rng_() % 8 == 0) {
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
        m.what += " deleted";
        m.seq = seq;
        return {Join(lines), m};
      }
      // Only hashed fields: "ts" is the readable copy of ts_ns, for people, and not part of the chain.
      nlohmann::json hashed;
      for (const char* k : {"seq", "event_id", "ts_ns", "kind", "tenant_id", "principal_id", "task_id", "skill",
                            "action", "decision", "policy_set", "body", "body", "body", "prev_hash", "row_hash"}) {
        if (j.contains(k)) hashed[k] = j[k];
      }
      MutateField(hashed, m);
      for (auto it = hashed.begin(); it != hashed.end(); ++it) j[it.key()] = it.value();
      if (m.what.find(".seq") == std::string::npos) m.seq = seq;
    }
    // A byte replaced inside a multi-byte character leaves invalid UTF-8, which dump() would throw on.
    lines[i] = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return {Join(lines), m};
  }

 private:
  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  // Changes one field's value (into a nested body too): a string gets a different byte, a number moves, null gets a
  // value, an object gets one of its members changed or a new one.
  void MutateField(nlohmann::json& o, Mutation& m) {
    std::vector<std::string> keys;
    for (auto it = o.begin(); it != o.end(); ++it) keys.push_back(it.key());
    const std::string key = keys[rng_() % keys.size()];
    m.what += "." + key;
    nlohmann::json& v = o[key];
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s.empty() || rng_() % 3 == 0) {
        s.push_back(static_cast<char>('a' + rng_() % 26));
      } else {
        const size_t at = rng_() % s.size();
        s[at] = s[at] == 'f' ? '0' : (s[at] == '0' ? '1' : 'f');  // stays hex where it was hex
      }
      v = s;
    } else if (v.is_number_unsigned()) {
      v = v.get<uint64_t>() + 1 + rng_() % 3;
    } else if (v.is_number_integer()) {
      v = v.get<int64_t>() + 1 + static_cast<int64_t>(rng_() % 3);
    } else if (v.is_null()) {
      v = "x";
    } else if (v.is_object() && !v.empty() && rng_() % 3 != 0) {
      MutateField(v, m);
    } else if (v.is_object()) {
      v["zz_added"] = 1;
    } else if (v.is_array()) {
      v.push_back(1);
    } else if (v.is_boolean()) {
      v = !v.get<bool>();
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> lines_;
};

}  // namespace warden::audit::testutil
