// Self-verifying exports (policy-audit.md B.6 step 7, B.8): an export's rows are followed by proof lines, so a
// reviewer can check it without the database (`warden audit verify --export FILE`). The proof covers the span from
// the last signed checkpoint before the first exported row (or the chain start) to the first checkpoint at or after
// the last one:
//   {"$start":{"seq":S,"prev_hash":"<hex>"}}           the span's first seq and the hash it chains from
//   {"$link":{"seq":N,"content":"<hex>"}}              content hash of a row in the span that the filter left out
//   {"$checkpoint":{"upto_seq",...,"public_key",...}}   every signed checkpoint inside the span, with its key
// Filtered exports stay verifiable (left-out rows are represented by their content hash, which reveals nothing
// of them), and a pruned archive is one such export.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "audit/audit_internal.h"
#include "runtime/base/file_util.h"

namespace warden::audit {
namespace detail {
namespace {

Result<int64_t> OptionalInt(sqlite3* db, const std::filesystem::path& path, const std::string& sql,
                            std::vector<int64_t> binds, bool& found) {
  WARDEN_ASSIGN_OR_RETURN(auto s, Prepare(db, sql, path));
  for (size_t i = 0; i < binds.size(); ++i) sqlite3_bind_int64(s.get(), static_cast<int>(i + 1), binds[i]);
  const int rc = sqlite3_step(s.get());
  found = rc == SQLITE_ROW && sqlite3_column_type(s.get(), 0) != SQLITE_NULL;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteStatus(db, rc, "reading the export span", path);
  return found ? sqlite3_column_int64(s.get(), 0) : 0;
}

std::optional<std::string_view> View(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                          static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

std::string BlobHex(sqlite3_stmt* s, int i) {
  return Hex(static_cast<const uint8_t*>(sqlite3_column_blob(s, i)), static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

}  // namespace

Result<std::string> ExportProof(sqlite3* db, const std::filesystem::path& path, const std::vector<Record>& rows,
                                uint64_t* checkpoints) {
  if (rows.empty()) return std::string();
  const int64_t first = static_cast<int64_t>(rows.front().seq), last = static_cast<int64_t>(rows.back().seq);
  bool found = false;
  WARDEN_ASSIGN_OR_RETURN(int64_t chain_start,
                          OptionalInt(db, path, "SELECT max(first_seq) FROM retention_anchor", {}, found));
  if (!found) chain_start = 1;
  WARDEN_ASSIGN_OR_RETURN(int64_t c0, OptionalInt(db, path,
      "SELECT max(upto_seq) FROM checkpoint WHERE upto_seq < ? AND upto_seq >= ?", {first, chain_start - 1}, found));
  const int64_t span_first = found ? c0 + 1 : chain_start;
  WARDEN_ASSIGN_OR_RETURN(int64_t c1, OptionalInt(db, path,
      "SELECT min(upto_seq) FROM checkpoint WHERE upto_seq >= ?", {last}, found));
  const int64_t span_last = found ? c1 : last;

  std::set<uint64_t> exported;
  for (const auto& r : rows) exported.insert(r.seq);
  std::string out;
  WARDEN_ASSIGN_OR_RETURN(auto s, Prepare(db,
      "SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, "
      "body, prev_hash FROM audit_event WHERE seq BETWEEN ? AND ? ORDER BY seq", path));
  sqlite3_bind_int64(s.get(), 1, span_first);
  sqlite3_bind_int64(s.get(), 2, span_last);
  int rc;
  bool first_row = true;
  std::string text;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const auto seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
    if (first_row) {
      out += nlohmann::json{{"$start", {{"seq", seq}, {"prev_hash", BlobHex(s.get(), 12)}}}}.dump() + "\n";
      first_row = false;
    }
    if (exported.count(seq)) continue;
    RowView v;
    v.event_id = View(s.get(), 1).value_or("");
    v.ts_ns = sqlite3_column_int64(s.get(), 2);
    v.kind = View(s.get(), 3).value_or("");
    v.tenant_id = View(s.get(), 4).value_or("");
    v.principal_id = View(s.get(), 5).value_or("");
    v.task_id = View(s.get(), 6);
    v.skill = View(s.get(), 7);
    v.action = View(s.get(), 8);
    v.decision = View(s.get(), 9);
    v.policy_set = View(s.get(), 10);
    v.body = View(s.get(), 11).value_or("");
    text.clear();
    RowContentText(v, text);
    out += "{\"$link\":{\"content\":\"" + Hex(Sha256(text)) + "\",\"seq\":" + std::to_string(seq) + "}}\n";
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db, rc, "reading rows for the export proof", path);
  WARDEN_ASSIGN_OR_RETURN(auto c, Prepare(db,
      "SELECT c.upto_seq, c.head_hash, c.ts_ns, c.key_id, c.note, c.signature, k.public_key FROM checkpoint c "
      "LEFT JOIN signing_key k ON k.key_id = c.key_id WHERE c.upto_seq BETWEEN ? AND ? ORDER BY c.upto_seq", path));
  sqlite3_bind_int64(c.get(), 1, span_first - 1);
  sqlite3_bind_int64(c.get(), 2, span_last);
  const std::string origin = MetaValue(db, "origin");
  uint64_t n = 0;
  while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) {
    nlohmann::json cp{{"upto_seq", sqlite3_column_int64(c.get(), 0)},
                      {"head_hash", BlobHex(c.get(), 1)},
                      {"ts_ns", sqlite3_column_int64(c.get(), 2)},
                      {"key_id", BlobHex(c.get(), 3)},
                      {"note", std::string(View(c.get(), 4).value_or(""))},
                      {"signature", BlobHex(c.get(), 5)},
                      {"public_key", BlobHex(c.get(), 6)},
                      {"origin", origin}};
    out += nlohmann::json{{"$checkpoint", cp}}.dump() + "\n";
    ++n;
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db, rc, "reading checkpoints for the export proof", path);
  if (checkpoints) *checkpoints = n;
  return out;
}

namespace {

struct ExportRow {
  RowFields f;
  Hash prev{}, row_hash{};
};

struct ExportCheckpoint {
  Hash head{};
  int64_t ts_ns = 0;
  std::string key_id, public_key, signature, note, origin;  // raw bytes except note/origin
};

bool HexTo(const nlohmann::json& j, const char* key, std::string& raw, size_t n) {
  if (!j.contains(key) || !j[key].is_string()) return false;
  raw.assign(n, '\0');
  return FromHex(j[key].get<std::string>(), reinterpret_cast<uint8_t*>(raw.data()), n);
}

bool HexHash(const nlohmann::json& j, const char* key, Hash& out) {
  return j.contains(key) && j[key].is_string() && FromHex(j[key].get<std::string>(), out.data(), out.size());
}

std::optional<std::string> OptText(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<std::string>();
}

}  // namespace

VerifyReport VerifyExportText(std::string_view text, const VerifyOptions& options, Status& error) {
  VerifyReport report;
  auto flag = [&](Problem p, uint64_t seq, std::string detail) {
    if (report.problem && report.problem_seq <= seq) return;
    report.problem = p;
    report.problem_seq = seq;
    report.detail = std::move(detail);
  };
  std::map<uint64_t, ExportRow> rows;
  std::map<uint64_t, Hash> links;
  std::map<uint64_t, ExportCheckpoint> checkpoints;
  std::optional<std::pair<uint64_t, Hash>> start;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = "export line " + std::to_string(line_no);
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("$start")) {
        Hash prev{};
        if (!HexHash(j["$start"], "prev_hash", prev)) throw std::runtime_error("$start.prev_hash is not 64 hex digits");
        start = std::make_pair(j["$start"].at("seq").get<uint64_t>(), prev);
      } else if (j.contains("$link")) {
        Hash content{};
        if (!HexHash(j["$link"], "content", content)) throw std::runtime_error("$link.content is not 64 hex digits");
        links[j["$link"].at("seq").get<uint64_t>()] = content;
      } else if (j.contains("$checkpoint")) {
        const auto& c = j["$checkpoint"];
        ExportCheckpoint cp;
        if (!HexHash(c, "head_hash", cp.head) || !HexTo(c, "key_id", cp.key_id, 4) ||
            !HexTo(c, "signature", cp.signature, 64) || !HexTo(c, "public_key", cp.public_key, 32)) {
          throw std::runtime_error("$checkpoint has a malformed hash, key or signature");
        }
        cp.ts_ns = c.at("ts_ns").get<int64_t>();
        cp.note = c.at("note").get<std::string>();
        cp.origin = c.at("origin").get<std::string>();
        checkpoints[c.at("upto_seq").get<uint64_t>()] = std::move(cp);
      } else {
        ExportRow r;
        const auto seq = j.at("seq").get<uint64_t>();
        r.f.event_id = j.at("event_id").get<std::string>();
        r.f.ts_ns = j.at("ts_ns").get<int64_t>();
        r.f.kind = j.at("kind").get<std::string>();
        r.f.tenant_id = j.at("tenant_id").get<std::string>();
        r.f.principal_id = j.at("principal_id").get<std::string>();
        r.f.task_id = OptText(j, "task_id");
        r.f.skill = OptText(j, "skill");
        r.f.action = OptText(j, "action");
        r.f.decision = OptText(j, "decision");
        r.f.policy_set = OptText(j, "policy_set");
        r.f.body = j.at("body").dump();
        if (!HexHash(j, "prev_hash", r.prev) || !HexHash(j, "row_hash", r.row_hash)) {
          throw std::runtime_error("prev_hash or row_hash is not 64 hex digits");
        }
        if (!rows.emplace(seq, std::move(r)).second) {
          flag(Problem::kHashMismatch, seq, "seq " + std::to_string(seq) + " appears twice in the export");
        }
      }
    } catch (const std::exception& e) {
      error = Status::InvalidArgument(where + ": " + e.what() + "; is this a `warden audit export --format jsonl` file?");
      return report;
    }
  }
  if (!start) {
    error = Status::InvalidArgument(
        "the export has no proof lines ($start, $link, $checkpoint); re-export it with this version of "
        "`warden audit export --format jsonl`");
    return report;
  }
  std::set<std::string> pinned;
  for (const auto& hex : options.pinned_public_keys) {
    uint8_t pk[32];
    if (!FromHex(hex, pk, 32)) {
      error = Status::InvalidArgument("pinned public key \"" + hex + "\" is not 64 hex digits");
      return report;
    }
    pinned.insert(std::string(reinterpret_cast<char*>(pk), 32));
  }
  // Signatures first: a checkpoint is only evidence when its key is the one it names (and pinned, when pins exist).
  for (const auto& [seq, c] : checkpoints) {
    const auto kid = KeyIdOf(reinterpret_cast<const uint8_t*>(c.public_key.data()));
    const std::string body = NoteBody(c.origin, seq, c.head, c.ts_ns);
    if (std::memcmp(kid.data(), c.key_id.data(), 4) != 0) {
      flag(Problem::kBadSignature, seq, "checkpoint key id does not belong to its public key");
    } else if (!pinned.empty() && !pinned.count(c.public_key)) {
      flag(Problem::kBadSignature, seq, "checkpoint signed by key " +
                                            Hex(reinterpret_cast<const uint8_t*>(c.public_key.data()), 32) +
                                            ", which is not among the pinned public keys");
    } else if (!VerifySignature(reinterpret_cast<const uint8_t*>(c.public_key.data()), body,
                                reinterpret_cast<const uint8_t*>(c.signature.data()))) {
      flag(Problem::kBadSignature, seq, "Ed25519 signature of the checkpoint does not verify");
    } else if (c.note != NoteText(body, c.origin, kid, reinterpret_cast<const uint8_t*>(c.signature.data()))) {
      flag(Problem::kCheckpointMismatch, seq, "note text differs from the note rebuilt from its fields");
    } else {
      ++report.checkpoints;
    }
  }
  auto [seq, head] = *start;
  // The starting hash must be the genesis or a signed checkpoint's head; otherwise anything could follow it.
  const Hash zero{};
  auto cp0 = checkpoints.find(seq - 1);
  if (!(seq == 1 && head == zero) && !(cp0 != checkpoints.end() && cp0->second.head == head)) {
    flag(Problem::kPrevMismatch, seq, "the export starts from hash " + Hex(head) +
                                          ", which is neither the genesis nor the head of a signed checkpoint in it");
  }
  uint64_t last = seq - 1;
  if (!rows.empty()) last = std::max(last, rows.rbegin()->first);
  if (!links.empty()) last = std::max(last, links.rbegin()->first);
  if (!checkpoints.empty()) last = std::max(last, checkpoints.rbegin()->first);
  std::string text_buf;
  for (; seq <= last && !report.problem; ++seq) {
    Hash content{};
    auto r = rows.find(seq);
    if (r != rows.end()) {
      if (r->second.prev != head) {
        flag(Problem::kPrevMismatch, seq, "prev_hash " + Hex(r->second.prev) + " is not the chain's " + Hex(head));
        break;
      }
      content = ContentHash(r->second.f);
    } else if (auto l = links.find(seq); l != links.end()) {
      content = l->second;
    } else {
      flag(Problem::kGap, seq, "the export has neither the row nor a $link for seq " + std::to_string(seq));
      break;
    }
    head = ChainHash(head, seq, content);
    if (r != rows.end()) {
      if (head != r->second.row_hash) {
        flag(Problem::kHashMismatch, seq, "row_hash " + Hex(r->second.row_hash) + ", recomputed " + Hex(head));
        break;
      }
      if (report.rows == 0) report.first_seq = seq;
      report.last_seq = seq;
      ++report.rows;
    }
    if (auto c = checkpoints.find(seq); c != checkpoints.end() && c->second.head != head) {
      flag(Problem::kCheckpointMismatch, seq, "the signed checkpoint commits to head " + Hex(c->second.head) +
                                                  ", the export gives " + Hex(head));
      break;
    }
  }
  report.head_hash = Hex(head);
  const uint64_t anchored = checkpoints.empty() ? 0 : checkpoints.rbegin()->first;
  for (auto it = rows.upper_bound(anchored); it != rows.end(); ++it) ++report.unanchored_tail;
  if (pinned.empty() && !checkpoints.empty()) {
    report.warnings.push_back("checkpoint signatures were checked against the public keys inside the export; pass "
                              "--pubkey to check they are the keys you trust");
  }
  report.ok = !report.problem.has_value();
  return report;
}

}  // namespace detail

Result<ExportReport> Export(const std::filesystem::path& db, const QueryFilter& filter, OutputFormat format) {
  if (format != OutputFormat::kJsonl && format != OutputFormat::kCsv) {
    return Status::InvalidArgument("export formats are jsonl and csv");
  }
  WARDEN_ASSIGN_OR_RETURN(auto handle, detail::OpenReadOnly(db));
  // One read transaction: the rows and their proof come from the same snapshot while writers go on.
  WARDEN_RETURN_IF_ERROR(detail::Exec(handle.get(), "BEGIN", db));
  auto rows = detail::QueryHandle(handle.get(), db, filter);
  if (!rows.ok()) return rows.status();
  ExportReport r;
  auto proof = detail::ExportProof(handle.get(), db, *rows, &r.checkpoints);
  sqlite3_exec(handle.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (!proof.ok()) return proof.status();
  r.events = rows->size();
  if (!rows->empty()) {
    r.first_seq = rows->front().seq;
    r.last_seq = rows->back().seq;
  }
  r.text = Render(*rows, format);
  if (format == OutputFormat::kJsonl) {
    r.text += *proof;
  } else {
    r.proof = std::move(*proof);
  }
  return r;
}

Result<VerifyReport> VerifyExport(const std::filesystem::path& file, const VerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  Status error;
  VerifyReport report = detail::VerifyExportText(text, options, error);
  if (!error.ok()) return error.WithContext(file.string());
  return report;
}

}  // namespace warden::audit
