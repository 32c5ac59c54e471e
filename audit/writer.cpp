// The audit writer (policy-audit.md B.3-B.5): producers validate, canonicalise and hash their event on their own
// thread, then queue it; one writer thread takes everything queued (up to batch_max_events, waiting at most
// batch_max_wait_ms for more) and commits it in one BEGIN IMMEDIATE ... COMMIT with synchronous=FULL — group commit.
// Inside the transaction the chain head is read, so other processes writing the same file never fork the chain, and
// only one short hash per row (seq, prev, content hash) is computed under the lock. A failed commit fails every
// event of its batch (fail closed); nothing already committed is touched, and the next batch tries again. Prune (B.7)
// and key rotation (B.4) run on the same thread as tasks between batches, each in one transaction; WAL checkpoints
// run on a second connection so commits do not stall on them.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "audit/audit_internal.h"
#include "runtime/base/file_util.h"

namespace warden::audit {

using detail::Hash;

Result<uint64_t> AppendTicket::Wait() const {
  if (!future_.valid()) return Status::Internal("waiting on an empty audit ticket");
  return future_.get();
}

bool AppendTicket::Ready() const {
  return future_.valid() && future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

namespace {

struct Item {
  detail::RowFields row;
  Hash content{};
  std::promise<Result<uint64_t>> done;
  // Set for a checkpoint request; such an item carries no row.
  std::shared_ptr<std::promise<Result<CheckpointInfo>>> checkpoint;
  // Set for work that needs the writer's connection to itself (prune); run alone, between batches.
  std::function<void()> task;
};

Status CheckColumn(const std::string& name, const std::string& value, bool required) {
  if (required && value.empty()) return Status::InvalidArgument("audit event field " + name + " is empty; it is required");
  if (value.size() > detail::kMaxColumnBytes) {
    return Status::InvalidArgument("audit event field " + name + " is " + std::to_string(value.size()) +
                                   " bytes; indexed columns hold at most " + std::to_string(detail::kMaxColumnBytes) +
                                   " (put long text in the body)");
  }
  if (!detail::ValidUtf8(value)) return Status::InvalidArgument("audit event field " + name + " is not valid UTF-8");
  return Status::Ok();
}

Status CheckColumn(const std::string& name, const std::optional<std::string>& value) {
  return value ? CheckColumn(name, *value, false) : Status::Ok();
}

Status PrepareRow(Event&& e, const Options& opt, const detail::Redaction& redaction, Item& item) {
  WARDEN_RETURN_IF_ERROR(CheckColumn("kind", e.kind, true));
  WARDEN_RETURN_IF_ERROR(CheckColumn("tenant_id", e.tenant_id, true));
  WARDEN_RETURN_IF_ERROR(CheckColumn("principal_id", e.principal_id, true));
  WARDEN_RETURN_IF_ERROR(CheckColumn("task_id", e.task_id));
  WARDEN_RETURN_IF_ERROR(CheckColumn("skill", e.skill));
  WARDEN_RETURN_IF_ERROR(CheckColumn("action", e.action));
  WARDEN_RETURN_IF_ERROR(CheckColumn("policy_set", e.policy_set));
  WARDEN_RETURN_IF_ERROR(CheckColumn("event_id", e.event_id, false));
  if (e.decision) {
    bool known = false;
    for (const char* d : kDecisions) known = known || *e.decision == d;
    if (!known) {
      return Status::InvalidArgument("audit event decision \"" + *e.decision +
                                     "\": expected allow|deny|ask|approved|rejected|expired");
    }
  }
  auto& r = item.row;
  r.ts_ns = e.ts_ns != 0 ? e.ts_ns : detail::NowNs();
  r.event_id = e.event_id.empty() ? detail::NewEventId(r.ts_ns) : std::move(e.event_id);
  r.kind = std::move(e.kind);
  r.tenant_id = std::move(e.tenant_id);
  r.principal_id = std::move(e.principal_id);
  r.task_id = std::move(e.task_id);
  r.skill = std::move(e.skill);
  r.action = std::move(e.action);
  r.decision = std::move(e.decision);
  r.policy_set = std::move(e.policy_set);
  WARDEN_ASSIGN_OR_RETURN(r.body, detail::CanonicalBody(e.body, opt.max_string_bytes, opt.max_body_bytes, &redaction));
  item.content = detail::ContentHash(r);
  return Status::Ok();
}

void BindOpt(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
  if (v) {
    sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_STATIC);
  } else {
    sqlite3_bind_null(s, i);
  }
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

}  // namespace

class Log::Impl {
 public:
  Options opt_;
  detail::Redaction redaction_;
  detail::DbPtr db_;
  detail::StmtPtr insert_, head_, anchor_, cp_at_, cp_last_ts_, insert_cp_;
  std::optional<detail::SigningKey> key_;
  std::string origin_;

  std::mutex mu_;
  std::condition_variable work_cv_, space_cv_;
  std::deque<Item> queue_;
  bool stop_ = false;
  std::thread writer_;

  // WAL checkpoints off the writer thread (Options::wal_checkpoint_pages): the commit hook reports the WAL size, a
  // second connection folds it back with PASSIVE checkpoints, so commits never stall on copying pages and an fsync
  // of the database file (the stalls that set p99 latency), and a long reader only delays the fold.
  detail::DbPtr ck_db_;
  std::thread ck_thread_;
  std::condition_variable ck_cv_;
  bool ck_pending_ = false, ck_stop_ = false;

  static int WalHook(void* self, sqlite3*, const char*, int frames) {
    auto* impl = static_cast<Impl*>(self);
    if (frames >= impl->opt_.wal_checkpoint_pages) {
      {
        std::lock_guard<std::mutex> lock(impl->mu_);
        impl->ck_pending_ = true;
      }
      impl->ck_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  Status StartCheckpointer() {
    if (opt_.wal_checkpoint_pages <= 0) return Status::Ok();
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(opt_.path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                   opt_.vfs.empty() ? nullptr : opt_.vfs.c_str());
    ck_db_.reset(raw);
    if (rc != SQLITE_OK) return detail::SqliteStatus(raw, rc, "opening the WAL checkpoint connection", opt_.path);
    sqlite3_busy_timeout(raw, opt_.busy_timeout_ms);
    WARDEN_RETURN_IF_ERROR(detail::Exec(db_.get(), "PRAGMA wal_autocheckpoint = 0", opt_.path));
    sqlite3_wal_hook(db_.get(), &Impl::WalHook, this);
    ck_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "audit-wal-ckpt");
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        ck_cv_.wait(lock, [&] { return ck_stop_ || ck_pending_; });
        if (ck_stop_) return;
        ck_pending_ = false;
        lock.unlock();
        // Failures (disk full, a reader pinning old frames) leave the WAL longer; the next commit asks again.
        sqlite3_wal_checkpoint_v2(ck_db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
      }
    });
    return Status::Ok();
  }

  void StopCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ck_stop_ = true;
    }
    ck_cv_.notify_all();
    if (ck_thread_.joinable()) ck_thread_.join();
    ck_db_.reset();
  }

  // Writer-thread state.
  uint64_t since_checkpoint_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();

  Status Init() {
    const auto& p = opt_.path;
    WARDEN_ASSIGN_OR_RETURN(insert_, detail::Prepare(db_.get(),
        "INSERT INTO audit_event(seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, "
        "decision, policy_set, body, prev_hash, row_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", p));
    WARDEN_ASSIGN_OR_RETURN(head_, detail::Prepare(db_.get(),
        "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1", p));
    WARDEN_ASSIGN_OR_RETURN(anchor_, detail::Prepare(db_.get(),
        "SELECT first_seq, prev_hash FROM retention_anchor ORDER BY first_seq DESC LIMIT 1", p));
    WARDEN_ASSIGN_OR_RETURN(cp_at_, detail::Prepare(db_.get(),
        "SELECT head_hash, ts_ns, key_id, note FROM checkpoint WHERE upto_seq = ?", p));
    WARDEN_ASSIGN_OR_RETURN(cp_last_ts_, detail::Prepare(db_.get(), "SELECT max(ts_ns) FROM checkpoint", p));
    WARDEN_ASSIGN_OR_RETURN(insert_cp_, detail::Prepare(db_.get(),
        "INSERT INTO checkpoint(upto_seq, head_hash, ts_ns, key_id, note, signature) VALUES (?,?,?,?,?,?)", p));
    origin_ = detail::MetaValue(db_.get(), "origin");
    if (!opt_.key_path.empty()) {
      WARDEN_ASSIGN_OR_RETURN(auto key, detail::LoadKey(opt_.key_path));
      key_ = key;
      WARDEN_RETURN_IF_ERROR(RegisterKey(*key_, opt_.key_path));
    }
    return Status::Ok();
  }

  // Adds the key's public half to signing_key (once) and refuses a key id that collides with another key.
  Status RegisterKey(const detail::SigningKey& key, const std::filesystem::path& key_path) {
    const auto& p = opt_.path;
    WARDEN_ASSIGN_OR_RETURN(auto reg, detail::Prepare(db_.get(),
        "INSERT INTO signing_key(key_id, public_key, valid_from_ns, note) VALUES (?,?,?,?) "
        "ON CONFLICT(key_id) DO NOTHING", p));
    sqlite3_bind_blob(reg.get(), 1, key.key_id.data(), 4, SQLITE_STATIC);
    sqlite3_bind_blob(reg.get(), 2, key.public_key.data(), 32, SQLITE_STATIC);
    sqlite3_bind_int64(reg.get(), 3, detail::NowNs());
    sqlite3_bind_text(reg.get(), 4, key_path.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(reg.get());
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "registering the signing key", p);
    WARDEN_ASSIGN_OR_RETURN(auto check, detail::Prepare(db_.get(),
        "SELECT public_key FROM signing_key WHERE key_id = ?", p));
    sqlite3_bind_blob(check.get(), 1, key.key_id.data(), 4, SQLITE_STATIC);
    if (sqlite3_step(check.get()) != SQLITE_ROW ||
        std::memcmp(sqlite3_column_blob(check.get(), 0), key.public_key.data(), 32) != 0) {
      return Status::InvalidArgument("audit signing key " + key_path.string() +
                                     ": its key id collides with another public key in " + p.string() +
                                     "; generate a new key");
    }
    return Status::Ok();
  }

  // Inserts one chained row inside the open transaction; returns the SQLite code (SQLITE_DONE on success).
  int InsertRow(uint64_t seq, const Hash& prev, const Hash& row_hash, const detail::RowFields& r) {
    sqlite3_stmt* s = insert_.get();
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(seq));
    BindText(s, 2, r.event_id);
    sqlite3_bind_int64(s, 3, r.ts_ns);
    BindText(s, 4, r.kind);
    BindText(s, 5, r.tenant_id);
    BindText(s, 6, r.principal_id);
    BindOpt(s, 7, r.task_id);
    BindOpt(s, 8, r.skill);
    BindOpt(s, 9, r.action);
    BindOpt(s, 10, r.decision);
    BindOpt(s, 11, r.policy_set);
    BindText(s, 12, r.body);
    sqlite3_bind_blob(s, 13, prev.data(), 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 14, row_hash.data(), 32, SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc;
  }

  void Rollback() {
    if (!sqlite3_get_autocommit(db_.get())) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

  // The chain head inside the open transaction: (seq, row_hash) of the last row, the retention anchor, or genesis.
  Status ReadHead(uint64_t& seq, Hash& head) {
    sqlite3_stmt* s = head_.get();
    sqlite3_reset(s);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
      if (sqlite3_column_bytes(s, 1) != 32) {
        return Status::Corruption("audit database " + opt_.path.string() + ": row " + std::to_string(seq) +
                                  " has a row_hash that is not 32 bytes; run `warden audit verify`");
      }
      std::memcpy(head.data(), sqlite3_column_blob(s, 1), 32);
      sqlite3_reset(s);
      return Status::Ok();
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "reading the chain head", opt_.path);
    head.fill(0);
    seq = 0;
    s = anchor_.get();
    sqlite3_reset(s);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 1) == 32) {
      seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0)) - 1;
      std::memcpy(head.data(), sqlite3_column_blob(s, 1), 32);
    }
    sqlite3_reset(s);
    return Status::Ok();
  }

  // Signs and inserts a checkpoint over (seq, head) inside the open transaction, unless one already covers seq.
  Result<CheckpointInfo> WriteCheckpoint(uint64_t seq, const Hash& head) {
    CheckpointInfo info;
    info.upto_seq = seq;
    info.head_hash = detail::Hex(head);
    sqlite3_stmt* s = cp_at_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(seq));
    if (sqlite3_step(s) == SQLITE_ROW) {
      info.ts_ns = sqlite3_column_int64(s, 1);
      info.key_id = detail::Hex(static_cast<const uint8_t*>(sqlite3_column_blob(s, 2)),
                                static_cast<size_t>(sqlite3_column_bytes(s, 2)));
      info.note = reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
      sqlite3_reset(s);
      return info;
    }
    sqlite3_reset(s);
    int64_t ts = detail::NowNs();
    s = cp_last_ts_.get();
    sqlite3_reset(s);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
      ts = std::max<int64_t>(ts, sqlite3_column_int64(s, 0) + 1);  // checkpoint times must increase even if the clock steps back
    }
    sqlite3_reset(s);
    const std::string body = detail::NoteBody(origin_, seq, head, ts);
    const auto sig = detail::Sign(*key_, body);
    info.ts_ns = ts;
    info.key_id = detail::Hex(key_->key_id.data(), 4);
    info.note = detail::NoteText(body, origin_, key_->key_id, sig.data());
    info.created = true;
    s = insert_cp_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(seq));
    sqlite3_bind_blob(s, 2, head.data(), 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ts);
    sqlite3_bind_blob(s, 4, key_->key_id.data(), 4, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, info.note.data(), static_cast<int>(info.note.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s, 6, sig.data(), 64, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "writing checkpoint " + std::to_string(seq),
                                                       opt_.path);
    return info;
  }

  Status AppendCopy(const std::string& note) {
    if (opt_.checkpoint_copy_path.empty()) return Status::Ok();
    const auto& p = opt_.checkpoint_copy_path;
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IoError("opening checkpoint copy " + p.string(), errno);
    const std::string text = note + "\n";  // a blank line separates notes
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    return ok ? Status::Ok() : Status::IoError("appending to checkpoint copy " + p.string(), err);
  }

  // One transaction for the whole batch. Returns per-row seqs through the items' promises.
  void CommitBatch(std::vector<Item>& batch) {
    std::vector<uint64_t> seqs(batch.size(), 0);
    std::vector<bool> rejected(batch.size(), false);
    std::shared_ptr<std::promise<Result<CheckpointInfo>>> request;
    size_t rows = 0;
    for (auto& it : batch) {
      if (it.checkpoint) {
        request = it.checkpoint;
      } else {
        ++rows;
      }
    }
    Status failure;
    std::optional<CheckpointInfo> checkpoint;
    // A row refused by a constraint (duplicate event_id) fails alone; the batch is retried without it.
    for (;;) {
      failure = Status::Ok();
      checkpoint.reset();
      int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) {
        failure = detail::SqliteStatus(db_.get(), rc, "starting a write transaction", opt_.path);
        break;
      }
      uint64_t seq = 0;
      Hash head{};
      failure = ReadHead(seq, head);
      size_t bad = batch.size();
      for (size_t i = 0; failure.ok() && i < batch.size(); ++i) {
        if (batch[i].checkpoint || rejected[i]) continue;
        const auto& r = batch[i].row;
        const Hash prev = head;
        head = detail::ChainHash(prev, seq + 1, batch[i].content);
        rc = InsertRow(seq + 1, prev, head, r);
        if (rc != SQLITE_DONE) {
          failure = detail::SqliteStatus(db_.get(), rc, "appending event " + r.event_id, opt_.path);
          if ((rc & 0xFF) == SQLITE_CONSTRAINT) bad = i;
          break;
        }
        seqs[i] = ++seq;
      }
      const bool due = since_checkpoint_ + rows >= static_cast<uint64_t>(std::max(1, opt_.checkpoint_every_events)) ||
                       std::chrono::steady_clock::now() - last_checkpoint_ >=
                           std::chrono::seconds(std::max(0, opt_.checkpoint_every_seconds));
      if (failure.ok() && key_ && seq > 0 && (request || (rows > 0 && due))) {
        auto cp = WriteCheckpoint(seq, head);
        if (cp.ok()) {
          checkpoint = *cp;
        } else {
          failure = cp.status();
        }
      }
      if (failure.ok()) {
        rc = sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) failure = detail::SqliteStatus(db_.get(), rc, "committing", opt_.path);
      }
      if (failure.ok()) break;
      Rollback();
      checkpoint.reset();
      std::fill(seqs.begin(), seqs.end(), 0);
      if (bad == batch.size()) break;
      rejected[bad] = true;
      batch[bad].done.set_value(failure);
      --rows;
    }
    if (failure.ok() && checkpoint) {
      since_checkpoint_ = 0;
      last_checkpoint_ = std::chrono::steady_clock::now();
      // A forced checkpoint re-sends an existing note too, so an operator can seed a fresh off-box copy.
      if (checkpoint->created || request) {
        Status copied = AppendCopy(checkpoint->note);
        if (!copied.ok() && request) failure = copied;  // rows are committed; only the forced checkpoint reports it
      }
    } else if (failure.ok()) {
      since_checkpoint_ += rows;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].checkpoint || rejected[i]) continue;
      // seqs[i] != 0 with a failure only when the failure is the checkpoint copy, after COMMIT.
      if (seqs[i] != 0) {
        batch[i].done.set_value(seqs[i]);
      } else {
        batch[i].done.set_value(failure);
      }
    }
    if (request) {
      if (!failure.ok()) {
        request->set_value(failure);
      } else if (!key_) {
        request->set_value(Status::InvalidArgument(
            "no audit signing key is configured, so no checkpoint can be signed; create one with `warden audit "
            "keygen` (or pass --key FILE)"));
      } else if (!checkpoint) {
        request->set_value(Status::NotFound("the audit log " + opt_.path.string() +
                                            " has no events yet, so there is nothing to checkpoint"));
      } else {
        request->set_value(*checkpoint);
      }
    }
  }

  // Runs `body` inside BEGIN IMMEDIATE on the writer's connection; commits when it succeeds, rolls back otherwise.
  template <typename T, typename F>
  Result<T> InTransaction(const char* what, F&& body) {
    int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return detail::SqliteStatus(db_.get(), rc, std::string("starting ") + what, opt_.path);
    Result<T> r = body();
    if (r.ok()) {
      rc = sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK) r = detail::SqliteStatus(db_.get(), rc, std::string("committing ") + what, opt_.path);
    }
    if (!r.ok()) Rollback();
    return r;
  }

  // Appends a row built here (not by a producer) after `head` inside the open transaction.
  Status AppendOwnRow(Event e, uint64_t& seq, Hash& head) {
    Item item;
    WARDEN_RETURN_IF_ERROR(PrepareRow(std::move(e), opt_, redaction_, item));
    const Hash prev = head;
    head = detail::ChainHash(prev, seq + 1, item.content);
    const int rc = InsertRow(seq + 1, prev, head, item.row);
    if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "appending " + item.row.kind, opt_.path);
    ++seq;
    return Status::Ok();
  }

  Result<int64_t> ScalarInt(const std::string& sql, std::vector<int64_t> binds, bool& found) {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(db_.get(), sql, opt_.path));
    for (size_t i = 0; i < binds.size(); ++i) sqlite3_bind_int64(s.get(), static_cast<int>(i + 1), binds[i]);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "reading", opt_.path);
    found = rc == SQLITE_ROW && sqlite3_column_type(s.get(), 0) != SQLITE_NULL;
    return found ? sqlite3_column_int64(s.get(), 0) : 0;
  }

  // policy-audit.md B.7, on the writer thread. The cut lands on a signed checkpoint, so the anchor's prev_hash is a
  // signed head; the archive is written and verified before any row is deleted; anchor, deletion, audit.pruned
  // event and the checkpoint over that event commit together or not at all.
  Result<PruneReport> DoPrune(const PruneOptions& po) {
    if (opt_.legal_hold) {
      return Status::InvalidArgument("the audit log " + opt_.path.string() + " is under legal hold; pruning is "
                                     "disabled until the hold is lifted");
    }
    if (!key_) {
      return Status::InvalidArgument("pruning needs the audit signing key (the retention anchor must be signed); "
                                     "pass --key or create one with `warden audit keygen`");
    }
    if (po.archive.empty()) return Status::InvalidArgument("prune needs an archive path for the removed rows");
    std::error_code ec;
    if (std::filesystem::exists(po.archive, ec)) {
      // It may be the only copy of rows pruned earlier.
      return Status::InvalidArgument("prune archive " + po.archive.string() + " already exists; choose another path");
    }
    if (po.archive.has_parent_path()) {
      std::filesystem::create_directories(po.archive.parent_path(), ec);
      if (ec) return Status::IoError("creating " + po.archive.parent_path().string(), ec.value());
    }
    std::optional<std::string> note;
    auto result = InTransaction<PruneReport>("a prune", [&]() -> Result<PruneReport> {
      PruneReport rep;
      uint64_t head_seq = 0;
      Hash head{};
      WARDEN_RETURN_IF_ERROR(ReadHead(head_seq, head));
      bool found = false;
      WARDEN_ASSIGN_OR_RETURN(int64_t chain_start, ScalarInt("SELECT max(first_seq) FROM retention_anchor", {}, found));
      if (!found) chain_start = 1;
      WARDEN_ASSIGN_OR_RETURN(int64_t keep_from, ScalarInt(
          "SELECT min(seq) FROM audit_event WHERE ts_ns >= ?", {po.before_ns}, found));
      if (!found) keep_from = static_cast<int64_t>(head_seq) + 1;
      WARDEN_ASSIGN_OR_RETURN(int64_t cut, ScalarInt(
          "SELECT max(upto_seq) FROM checkpoint WHERE upto_seq < ? AND upto_seq >= ?", {keep_from, chain_start},
          found));
      if (!found && keep_from == static_cast<int64_t>(head_seq) + 1 && head_seq >= static_cast<uint64_t>(chain_start)) {
        // Every row is older than the cutoff: sign the head now and cut there.
        WARDEN_ASSIGN_OR_RETURN(auto cp, WriteCheckpoint(head_seq, head));
        cut = static_cast<int64_t>(cp.upto_seq);
        found = true;
      }
      if (!found) {
        rep.reason = "no signed checkpoint lies between the chain start (seq " + std::to_string(chain_start) +
                     ") and the first row to keep (seq " + std::to_string(keep_from) + "); nothing was pruned";
        return rep;
      }
      QueryFilter range;
      range.from_seq = static_cast<uint64_t>(chain_start);
      range.to_seq = static_cast<uint64_t>(cut);
      WARDEN_ASSIGN_OR_RETURN(auto rows, detail::QueryHandle(db_.get(), opt_.path, range));
      if (rows.empty()) {
        rep.reason = "no rows older than the cutoff remain";
        return rep;
      }
      WARDEN_ASSIGN_OR_RETURN(std::string proof, detail::ExportProof(db_.get(), opt_.path, rows));
      const std::string archive = Render(rows, OutputFormat::kJsonl) + proof;
      // The archive must prove itself (chain from its start to the signed cut) before anything is deleted.
      Status parse;
      const VerifyReport check = detail::VerifyExportText(archive, VerifyOptions{}, parse);
      if (!parse.ok() || !check.ok || check.last_seq != static_cast<uint64_t>(cut) || check.unanchored_tail != 0) {
        return Status::Corruption("refusing to prune " + opt_.path.string() + ": the rows to archive do not verify (" +
                                  (parse.ok() ? (check.problem ? ProblemName(*check.problem) + " at seq " +
                                                                     std::to_string(check.problem_seq) + ": " +
                                                                     check.detail
                                                               : std::string("not anchored at the cut"))
                                              : parse.message()) +
                                  "); run `warden audit verify`");
      }
      WARDEN_RETURN_IF_ERROR(WriteFileAtomic(po.archive, archive));
      rep.archive_sha256 = detail::Hex(detail::Sha256(archive));
      rep.first_kept_seq = static_cast<uint64_t>(cut) + 1;
      rep.pruned_rows = rows.size();
      Hash cut_head{};
      if (!detail::FromHex(rows.back().row_hash, cut_head.data(), 32)) return Status::Internal("bad row_hash hex");
      {
        WARDEN_ASSIGN_OR_RETURN(auto ins, detail::Prepare(db_.get(),
            "INSERT INTO retention_anchor(first_seq, prev_hash, pruned_rows, archive_sha256, cutoff_ns, created_ns) "
            "VALUES (?,?,?,?,?,?)", opt_.path));
        sqlite3_bind_int64(ins.get(), 1, static_cast<int64_t>(rep.first_kept_seq));
        sqlite3_bind_blob(ins.get(), 2, cut_head.data(), 32, SQLITE_STATIC);
        sqlite3_bind_int64(ins.get(), 3, static_cast<int64_t>(rep.pruned_rows));
        sqlite3_bind_text(ins.get(), 4, rep.archive_sha256.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins.get(), 5, po.before_ns);
        sqlite3_bind_int64(ins.get(), 6, detail::NowNs());
        const int rc = sqlite3_step(ins.get());
        if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "writing the retention anchor", opt_.path);
      }
      const std::string del = "INSERT INTO prune_guard(token) VALUES ('prune'); DELETE FROM audit_event WHERE seq <= " +
                              std::to_string(cut) + "; DELETE FROM prune_guard;";
      WARDEN_RETURN_IF_ERROR(detail::Exec(db_.get(), del.c_str(), opt_.path));
      Event e;
      e.kind = "audit.pruned";
      e.principal_id = "warden-audit";
      e.action = "audit.prune";
      e.body = {{"first_seq", rep.first_kept_seq},
                {"pruned_rows", rep.pruned_rows},
                {"archive_sha256", rep.archive_sha256},
                {"archive", po.archive.filename().string()},
                {"cutoff_ms", po.before_ns / 1'000'000},  // ns since the epoch exceed the 2^53 integer limit
                {"anchor_checkpoint_seq", cut}};
      WARDEN_RETURN_IF_ERROR(AppendOwnRow(std::move(e), head_seq, head));
      rep.event_seq = head_seq;
      WARDEN_ASSIGN_OR_RETURN(auto cp, WriteCheckpoint(head_seq, head));
      note = cp.note;
      rep.pruned = true;
      return rep;
    });
    if (result.ok() && note) {
      since_checkpoint_ = 0;
      last_checkpoint_ = std::chrono::steady_clock::now();
      WARDEN_RETURN_IF_ERROR(AppendCopy(*note));
      // Hand the freed pages back to the file system (auto_vacuum = INCREMENTAL).
      sqlite3_exec(db_.get(), "PRAGMA incremental_vacuum", nullptr, nullptr, nullptr);
    }
    return result;
  }

  // policy-audit.md B.4 key rotation, on the writer thread: new key registered, audit.key_rotated appended and
  // sealed by a checkpoint signed with the old key, old key retired at that checkpoint's time.
  Result<std::string> DoRotate(const std::filesystem::path& new_key_path) {
    if (!key_) return Status::InvalidArgument("no current signing key to rotate from; pass --key");
    WARDEN_ASSIGN_OR_RETURN(detail::SigningKey next, detail::LoadKey(new_key_path));
    if (next.public_key == key_->public_key) {
      return Status::InvalidArgument("the new key " + new_key_path.string() + " is the key already in use");
    }
    std::optional<std::string> note;
    auto result = InTransaction<std::string>("a key rotation", [&]() -> Result<std::string> {
      WARDEN_RETURN_IF_ERROR(RegisterKey(next, new_key_path));
      uint64_t seq = 0;
      Hash head{};
      WARDEN_RETURN_IF_ERROR(ReadHead(seq, head));
      Event e;
      e.kind = "audit.key_rotated";
      e.principal_id = "warden-audit";
      e.action = "audit.rotate_key";
      e.body = {{"old_key_id", detail::Hex(key_->key_id.data(), 4)},
                {"new_key_id", detail::Hex(next.key_id.data(), 4)},
                {"new_public_key", detail::Hex(next.public_key.data(), 32)}};
      WARDEN_RETURN_IF_ERROR(AppendOwnRow(std::move(e), seq, head));
      WARDEN_ASSIGN_OR_RETURN(auto cp, WriteCheckpoint(seq, head));
      note = cp.note;
      WARDEN_ASSIGN_OR_RETURN(auto retire, detail::Prepare(db_.get(),
          "UPDATE signing_key SET retired_ns = ? WHERE key_id = ? AND retired_ns IS NULL", opt_.path));
      sqlite3_bind_int64(retire.get(), 1, cp.ts_ns);
      sqlite3_bind_blob(retire.get(), 2, key_->key_id.data(), 4, SQLITE_STATIC);
      const int rc = sqlite3_step(retire.get());
      if (rc != SQLITE_DONE) return detail::SqliteStatus(db_.get(), rc, "retiring the old key", opt_.path);
      return detail::Hex(next.key_id.data(), 4);
    });
    if (result.ok()) {
      key_ = next;
      since_checkpoint_ = 0;
      last_checkpoint_ = std::chrono::steady_clock::now();
      if (note) WARDEN_RETURN_IF_ERROR(AppendCopy(*note));
    }
    return result;
  }

  // Runs `fn` on the writer thread after everything queued before it, and waits for its answer.
  template <typename T, typename F>
  Result<T> OnWriter(F&& fn) {
    auto done = std::make_shared<std::promise<Result<T>>>();
    auto future = done->get_future();
    Item item;
    item.task = [done, fn = std::forward<F>(fn)]() mutable { done->set_value(fn()); };
    WARDEN_RETURN_IF_ERROR(Enqueue(std::move(item)));
    return future.get();
  }

  void Run() {
    pthread_setname_np(pthread_self(), "audit-writer");  // shows in top/perf as the thread holding the write lock
    const size_t max_batch = static_cast<size_t>(std::max(1, opt_.batch_max_events));
    for (;;) {
      std::vector<Item> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stop_ and drained
        if (opt_.batch_max_wait_ms > 0 && queue_.size() < max_batch && !stop_) {
          work_cv_.wait_for(lock, std::chrono::milliseconds(opt_.batch_max_wait_ms),
                            [&] { return stop_ || queue_.size() >= max_batch; });
        }
        if (queue_.front().task) {
          auto task = std::move(queue_.front().task);
          queue_.pop_front();
          lock.unlock();
          space_cv_.notify_all();
          task();
          continue;
        }
        while (!queue_.empty() && batch.size() < max_batch && !queue_.front().task) {
          const bool is_checkpoint = static_cast<bool>(queue_.front().checkpoint);
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (is_checkpoint) break;  // a forced checkpoint covers exactly what was queued before it
        }
      }
      space_cv_.notify_all();
      CommitBatch(batch);
    }
  }

  void FinalCheckpoint() {
    if (!key_ || since_checkpoint_ == 0) return;
    std::vector<Item> batch(1);
    batch[0].checkpoint = std::make_shared<std::promise<Result<CheckpointInfo>>>();
    CommitBatch(batch);
  }

  Status Enqueue(Item&& item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!space_cv_.wait_for(lock, std::chrono::milliseconds(opt_.queue_wait_ms),
                            [&] { return stop_ || queue_.size() < opt_.queue_capacity; })) {
      return Status::Unavailable("audit unavailable: " + std::to_string(queue_.size()) +
                                 " events are waiting for " + opt_.path.string() + " to accept writes (waited " +
                                 std::to_string(opt_.queue_wait_ms) + " ms); the action was not recorded and must "
                                 "not run");
    }
    if (stop_) return Status::Unavailable("audit log " + opt_.path.string() + " is closing; the event was not recorded");
    queue_.push_back(std::move(item));
    lock.unlock();
    work_cv_.notify_one();
    return Status::Ok();
  }
};

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Log::~Log() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu_);
    impl_->stop_ = true;
  }
  impl_->work_cv_.notify_all();
  impl_->space_cv_.notify_all();
  if (impl_->writer_.joinable()) impl_->writer_.join();
  impl_->FinalCheckpoint();
  impl_->StopCheckpointer();
}

Result<std::unique_ptr<Log>> Log::Open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->opt_ = options;
  impl->redaction_ = detail::Redaction::FromOptions(options.redact_paths, options.redact_keys);
  WARDEN_ASSIGN_OR_RETURN(impl->db_, detail::OpenWritable(options));
  WARDEN_RETURN_IF_ERROR(impl->Init());
  WARDEN_RETURN_IF_ERROR(impl->StartCheckpointer());
  Impl* raw = impl.get();
  impl->writer_ = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

AppendTicket Log::AppendAsync(Event event) {
  Item item;
  auto future = item.done.get_future().share();
  Status st = PrepareRow(std::move(event), impl_->opt_, impl_->redaction_, item);
  if (st.ok()) st = impl_->Enqueue(std::move(item));
  if (!st.ok()) {
    std::promise<Result<uint64_t>> failed;
    failed.set_value(st);
    return AppendTicket(failed.get_future().share());
  }
  return AppendTicket(std::move(future));
}

Result<uint64_t> Log::Append(Event event) { return AppendAsync(std::move(event)).Wait(); }

Result<CheckpointInfo> Log::Checkpoint() {
  Item item;
  item.checkpoint = std::make_shared<std::promise<Result<CheckpointInfo>>>();
  auto future = item.checkpoint->get_future();
  WARDEN_RETURN_IF_ERROR(impl_->Enqueue(std::move(item)));
  return future.get();
}

Result<PruneReport> Log::Prune(const PruneOptions& options) {
  Impl* impl = impl_.get();
  return impl->OnWriter<PruneReport>([impl, options] { return impl->DoPrune(options); });
}

Result<std::string> Log::RotateKey(const std::filesystem::path& new_key_path) {
  Impl* impl = impl_.get();
  return impl->OnWriter<std::string>([impl, new_key_path] { return impl->DoRotate(new_key_path); });
}

Result<VerifyReport> Log::Verify(const VerifyOptions& options) const { return audit::Verify(impl_->opt_.path, options); }

const Options& Log::options() const { return impl_->opt_; }

}  // namespace warden::audit
