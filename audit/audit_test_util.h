// Helpers for the audit tests: sample events of every kind, and a raw sqlite3 connection that plays the attacker
// (drops the append-only triggers, edits rows, recomputes the chain without the signing key).
#pragma once

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit/audit_internal.h"

namespace warden::audit::testutil {

// One representative event per kind of policy-audit.md B.2, with the body fields that kind carries.
inline std::vector<Event> SampleEvents() {
  std::vector<Event> v;
  auto add = [&](std::string kind, nlohmann::json body, std::optional<std::string> action = std::nullopt,
                 std::optional<std::string> decision = std::nullopt) {
    Event e;
    e.kind = std::move(kind);
    e.tenant_id = "acme";
    e.principal_id = "alice";
    e.task_id = "task-1";
    e.skill = "pdf-summarize";
    e.action = std::move(action);
    e.decision = std::move(decision);
    e.policy_set = "sha256:" + std::string(64, 'a');
    e.body = std::move(body);
    v.push_back(std::move(e));
  };
  add("task.submitted", {{"submitted_by", "alice"}, {"prompt", {{"sha256", std::string(64, 'b')}, {"len", 120}}}},
      "task.submit");
  add("task.started", {{"status", "running"}}, "task.start");
  add("task.finished", {{"status", "succeeded"}, {"duration_ms", 4211}, {"error", nullptr}}, "task.finish");
  add("skill.selected", {{"selector", "tfidf-v1"}, {"chosen", "pdf-summarize"}, {"threshold_micros", 150000},
                         {"candidates", {{{"skill", "pdf-summarize"}, {"version", "1.2.0"}, {"score_micros", 812000}}}}});
  add("policy.decision", {{"decision", "deny"}, {"default", "deny"}, {"eval_us", 37},
                          {"determining", {{{"rule", "no-egress"}, {"file", "net.toml"}, {"line", 14},
                                            {"reason", "egress to 10.0.0.0/8 is forbidden"}}}},
                          {"request", {{"host", "10.1.2.3"}, {"port", 443}}}},
      "net.connect", "deny");
  add("approval.requested", {{"decision_seq", 5}, {"approvers", {"bob", "carol"}}}, "fs.write", "ask");
  add("approval.resolved", {{"decision_seq", 5}, {"approver", "bob"}, {"outcome", "approved"}, {"latency_ms", 9100}},
      "fs.write", "approved");
  add("sandbox.run", {{"run_id", "r-77"}, {"exit_code", 0}, {"signal", nullptr}, {"oom_killed", false},
                      {"wall_ms", 812}, {"cpu_user_ms", 600}, {"cpu_sys_ms", 90}, {"max_rss_kb", 51200},
                      {"violations", {{{"type", "seccomp"}, {"detail", "ptrace"}}}}},
      "sandbox.exec");
  add("model.call", {{"model", "qwen3.6-27b"}, {"provider", "local"},
                     {"tokens", {{"input", 1200}, {"output", 300}, {"cached", 0}}}, {"cost_micros", 0},
                     {"latency_ms", 2300}, {"finish_reason", "stop"}},
      "model.generate");
  add("policy.loaded", {{"set_hash", "sha256:" + std::string(64, 'c')},
                        {"files", {{{"name", "net.toml"}, {"sha256", std::string(64, 'd')}}}}});
  add("policy.load_failed", {{"errors", {{{"file", "net.toml"}, {"line", 3}, {"col", 7}, {"msg", "bad effect"}}}}});
  add("audit.started", {{"pid", 4242}, {"version", "0.1.0"}});
  add("audit.pruned", {{"first_seq", 1}, {"pruned_rows", 0}});
  add("audit.key_rotated", {{"old_key_id", "01020304"}, {"new_key_id", "05060708"}});
  return v;
}

// A plain event with a counter in its body.
inline Event Simple(int n, std::string kind = "policy.decision") {
  Event e;
  e.kind = std::move(kind);
  e.principal_id = std::string("p") + std::to_string(n % 7);
  e.task_id = std::string("t") + std::to_string(n % 5);
  e.action = "fs.read";
  e.decision = n % 3 == 0 ? "deny" : "allow";
  e.body = {{"n", n}, {"path", std::string("/data/file-") + std::to_string(n)}};
  return e;
}

// A read-write connection that bypasses the Log, for tampering.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* get() const { return db_; }
  // Runs SQL; returns the SQLite result code and the error text (empty when OK).
  int Exec(const std::string& sql, std::string* error = nullptr) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (error) *error = err ? err : "";
    sqlite3_free(err);
    return rc;
  }
  void MustExec(const std::string& sql) {
    std::string err;
    INFO(sql << ": " << err);
    REQUIRE(Exec(sql, &err) == SQLITE_OK);
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
  void DropTriggers() {
    MustExec("DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete; "
             "DROP TRIGGER checkpoint_no_update; DROP TRIGGER checkpoint_no_delete;");
  }
  // The attacker without the key: recompute prev_hash and row_hash of every row from `from` on, using the same
  // canonicalisation the writer uses.
  void Rechain(uint64_t from) {
    detail::Hash head{};
    if (from > 1) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db_, "SELECT row_hash FROM audit_event WHERE seq = ?", -1, &s, nullptr);
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(from - 1));
      REQUIRE(sqlite3_step(s) == SQLITE_ROW);
      std::memcpy(head.data(), sqlite3_column_blob(s, 0), 32);
      sqlite3_finalize(s);
    }
    sqlite3_stmt* sel = nullptr;
    sqlite3_prepare_v2(db_,
                       "SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, "
                       "policy_set, body FROM audit_event WHERE seq >= ? ORDER BY seq",
                       -1, &sel, nullptr);
    sqlite3_bind_int64(sel, 1, static_cast<int64_t>(from));
    std::vector<std::pair<int64_t, std::pair<detail::Hash, detail::Hash>>> updates;
    auto text = [&](int i) -> std::optional<std::string> {
      if (sqlite3_column_type(sel, i) == SQLITE_NULL) return std::nullopt;
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(sel, i)));
    };
    while (sqlite3_step(sel) == SQLITE_ROW) {
      detail::RowFields f;
      const auto seq = sqlite3_column_int64(sel, 0);
      f.event_id = *text(1);
      f.ts_ns = sqlite3_column_int64(sel, 2);
      f.kind = *text(3);
      f.tenant_id = *text(4);
      f.principal_id = *text(5);
      f.task_id = text(6);
      f.skill = text(7);
      f.action = text(8);
      f.decision = text(9);
      f.policy_set = text(10);
      f.body = *text(11);
      const detail::Hash prev = head;
      head = detail::ChainHash(prev, static_cast<uint64_t>(seq), detail::ContentHash(f));
      updates.push_back({seq, {prev, head}});
    }
    sqlite3_finalize(sel);
    sqlite3_stmt* up = nullptr;
    sqlite3_prepare_v2(db_, "UPDATE audit_event SET prev_hash = ?, row_hash = ? WHERE seq = ?", -1, &up, nullptr);
    for (const auto& [seq, h] : updates) {
      sqlite3_bind_blob(up, 1, h.first.data(), 32, SQLITE_TRANSIENT);
      sqlite3_bind_blob(up, 2, h.second.data(), 32, SQLITE_TRANSIENT);
      sqlite3_bind_int64(up, 3, seq);
      REQUIRE(sqlite3_step(up) == SQLITE_DONE);
      sqlite3_reset(up);
    }
    sqlite3_finalize(up);
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace warden::audit::testutil
