// Reviewer reads (policy-audit.md B.8): filtered queries on the indexed columns, stats, time parsing for --since and
// --until, and the output formats of `warden audit query|export` (an 80-column table, JSON, JSON lines, CSV). All of
// it opens the database read-only.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <ctime>
#include <regex>
#include <sstream>

#include "audit/audit_internal.h"

namespace warden::audit {
namespace {

std::optional<std::string> Text(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                     static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

std::string HexBlob(sqlite3_stmt* s, int i) {
  return detail::Hex(static_cast<const uint8_t*>(sqlite3_column_blob(s, i)),
                     static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

// "2026-11-27T08:04:41.123456789Z".
std::string Rfc3339(int64_t ts_ns) {
  int64_t secs = ts_ns / 1'000'000'000;
  int64_t frac = ts_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

}  // namespace

nlohmann::json detail::RecordJson(const Record& r) {
  auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return nlohmann::json{{"seq", r.seq},
                        {"event_id", r.event.event_id},
                        {"ts", Rfc3339(r.event.ts_ns)},
                        {"ts_ns", r.event.ts_ns},
                        {"kind", r.event.kind},
                        {"tenant_id", r.event.tenant_id},
                        {"principal_id", r.event.principal_id},
                        {"task_id", opt(r.event.task_id)},
                        {"skill", opt(r.event.skill)},
                        {"action", opt(r.event.action)},
                        {"decision", opt(r.event.decision)},
                        {"policy_set", opt(r.event.policy_set)},
                        {"body", r.event.body},
                        {"prev_hash", r.prev_hash},
                        {"row_hash", r.row_hash}};
}

namespace {

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Pads or cuts to exactly `width` bytes; a cut is marked with '~' so the table stays aligned in ASCII.
std::string Cell(const std::string& v, size_t width) {
  std::string s;
  for (char c : v) s += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (s.size() > width) return s.substr(0, width - 1) + "~";
  return s + std::string(width - s.size(), ' ');
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(const std::string& name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonl;
  if (name == "csv") return OutputFormat::kCsv;
  return Status::InvalidArgument("output format \"" + name + "\": expected table|json|jsonl|csv");
}

std::string Render(const std::vector<Record>& records, OutputFormat format) {
  std::ostringstream out;
  switch (format) {
    case OutputFormat::kTable: {
      // 7+1+14+1+18+1+13+1+14+1+8 = 79 columns.
      out << Cell("SEQ", 7) << ' ' << Cell("TIME (UTC)", 14) << ' ' << Cell("KIND", 18) << ' '
          << Cell("PRINCIPAL", 13) << ' ' << Cell("ACTION", 14) << ' ' << "DECISION\n";
      for (const auto& r : records) {
        const std::string ts = Rfc3339(r.event.ts_ns);
        const std::string when = ts.substr(5, 5) + " " + ts.substr(11, 8);
        std::string seq = std::to_string(r.seq);
        if (seq.size() < 7) seq = std::string(7 - seq.size(), ' ') + seq;
        std::ostringstream row;
        row << Cell(seq, 7) << ' ' << when << ' ' << Cell(r.event.kind, 18) << ' '
            << Cell(r.event.principal_id, 13) << ' ' << Cell(r.event.action.value_or("-"), 14) << ' '
            << Cell(r.event.decision.value_or("-"), 8);
        std::string line = row.str();
        while (!line.empty() && line.back() == ' ') line.pop_back();  // clean copy-paste
        out << line << '\n';
      }
      out << "(" << records.size() << (records.size() == 1 ? " event)\n" : " events)\n");
      break;
    }
    case OutputFormat::kJson: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : records) arr.push_back(detail::RecordJson(r));
      out << arr.dump(2) << '\n';
      break;
    }
    case OutputFormat::kJsonl:
      for (const auto& r : records) out << detail::RecordJson(r).dump() << '\n';
      break;
    case OutputFormat::kCsv:
      out << "seq,ts,event_id,kind,tenant_id,principal_id,task_id,skill,action,decision,policy_set,body,prev_hash,"
             "row_hash\r\n";
      for (const auto& r : records) {
        const auto& e = r.event;
        out << r.seq << ',' << Rfc3339(e.ts_ns) << ',' << CsvField(e.event_id) << ',' << CsvField(e.kind) << ','
            << CsvField(e.tenant_id) << ',' << CsvField(e.principal_id) << ',' << CsvField(e.task_id.value_or(""))
            << ',' << CsvField(e.skill.value_or("")) << ',' << CsvField(e.action.value_or("")) << ','
            << CsvField(e.decision.value_or("")) << ',' << CsvField(e.policy_set.value_or("")) << ','
            << CsvField(r.body_json) << ',' << r.prev_hash << ',' << r.row_hash << "\r\n";
      }
      break;
  }
  return out.str();
}

Result<int64_t> ParseTime(const std::string& text, int64_t now_ns) {
  static const std::regex kRelative(R"(^(\d+)(s|m|h|d|w)$)");
  static const std::regex kAbsolute(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?)?$)");
  std::smatch m;
  if (std::regex_match(text, m, kRelative)) {
    const int64_t n = std::stoll(m[1].str());
    const char unit = m[2].str()[0];
    const int64_t secs = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 604800;
    if (n > INT64_MAX / 1'000'000'000 / secs) return Status::InvalidArgument("time \"" + text + "\" is too far back");
    return now_ns - n * secs * 1'000'000'000;
  }
  if (!std::regex_match(text, m, kAbsolute)) {
    return Status::InvalidArgument("time \"" + text +
                                   "\": expected RFC 3339 (2026-11-27T08:00:00Z, 2026-11-27) or a duration ago "
                                   "(90s, 15m, 24h, 7d, 2w)");
  }
  std::tm tm{};
  tm.tm_year = std::stoi(m[1].str()) - 1900;
  tm.tm_mon = std::stoi(m[2].str()) - 1;
  tm.tm_mday = std::stoi(m[3].str());
  if (m[4].matched) {
    tm.tm_hour = std::stoi(m[4].str());
    tm.tm_min = std::stoi(m[5].str());
    tm.tm_sec = std::stoi(m[6].str());
    if (m[4].matched && !m[8].matched) {
      return Status::InvalidArgument("time \"" + text + "\" has no zone; add Z (UTC) or an offset like +02:00");
    }
  }
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return Status::InvalidArgument("time \"" + text + "\" has a field out of range");
  }
  int64_t secs = static_cast<int64_t>(timegm(&tm));
  if (secs < -9'000'000'000LL || secs > 9'000'000'000LL) {
    return Status::InvalidArgument("time \"" + text + "\" is outside 1685..2255, which ns timestamps cannot hold");
  }
  int64_t frac = 0;
  if (m[7].matched) {
    std::string f = m[7].str();
    f.resize(9, '0');
    frac = std::stoll(f);
  }
  if (m[8].matched) {
    const std::string z = m[8].str();
    if (z != "Z" && z != "z") {
      const int64_t off = (std::stoi(z.substr(1, 2)) * 60 + std::stoi(z.substr(4, 2))) * 60;
      secs += z[0] == '+' ? -off : off;
    }
  }
  return secs * 1'000'000'000 + frac;
}

Result<std::vector<Record>> Query(const std::filesystem::path& db, const QueryFilter& f) {
  WARDEN_ASSIGN_OR_RETURN(auto handle, detail::OpenReadOnly(db));
  return detail::QueryHandle(handle.get(), db, f);
}

Result<std::vector<Record>> detail::QueryHandle(sqlite3* h, const std::filesystem::path& db, const QueryFilter& f) {
  std::string where = " WHERE seq >= ?";
  std::vector<std::string> binds;
  auto add = [&](const std::optional<std::string>& v, const char* column) {
    if (!v) return;
    where += std::string(" AND ") + column + " = ?";
    binds.push_back(*v);
  };
  add(f.tenant, "tenant_id");
  add(f.task, "task_id");
  add(f.principal, "principal_id");
  add(f.skill, "skill");
  add(f.action, "action");
  add(f.decision, "decision");
  add(f.kind, "kind");
  if (f.since_ns) where += " AND ts_ns >= " + std::to_string(*f.since_ns);
  if (f.until_ns) where += " AND ts_ns <= " + std::to_string(*f.until_ns);
  if (f.to_seq > 0) where += " AND seq <= " + std::to_string(f.to_seq);
  const std::string cols =
      "SELECT seq, event_id, ts_ns, kind, tenant_id, principal_id, task_id, skill, action, decision, policy_set, body, "
      "prev_hash, row_hash FROM audit_event";
  std::string sql = f.limit > 0 ? "SELECT * FROM (" + cols + where + " ORDER BY seq DESC LIMIT " +
                                      std::to_string(f.limit) + ") ORDER BY seq"
                                : cols + where + " ORDER BY seq";
  WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(h, sql, db));
  sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(f.from_seq));
  for (size_t i = 0; i < binds.size(); ++i) {
    sqlite3_bind_text(s.get(), static_cast<int>(i + 2), binds[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  std::vector<Record> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    Record r;
    r.seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
    r.event.event_id = Text(s.get(), 1).value_or("");
    r.event.ts_ns = sqlite3_column_int64(s.get(), 2);
    r.event.kind = Text(s.get(), 3).value_or("");
    r.event.tenant_id = Text(s.get(), 4).value_or("");
    r.event.principal_id = Text(s.get(), 5).value_or("");
    r.event.task_id = Text(s.get(), 6);
    r.event.skill = Text(s.get(), 7);
    r.event.action = Text(s.get(), 8);
    r.event.decision = Text(s.get(), 9);
    r.event.policy_set = Text(s.get(), 10);
    r.body_json = Text(s.get(), 11).value_or("{}");
    try {
      r.event.body = nlohmann::json::parse(r.body_json);
    } catch (const nlohmann::json::exception& e) {
      return Status::Corruption("audit database " + db.string() + ": row " + std::to_string(r.seq) +
                                " has a body that is not JSON (" + e.what() + "); run `warden audit verify`");
    }
    r.prev_hash = HexBlob(s.get(), 12);
    r.row_hash = HexBlob(s.get(), 13);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return detail::SqliteStatus(h, rc, "querying", db);
  return out;
}

Result<Stats> GetStats(const std::filesystem::path& db) {
  WARDEN_ASSIGN_OR_RETURN(auto handle, detail::OpenReadOnly(db));
  sqlite3* h = handle.get();
  Stats st;
  st.origin = detail::MetaValue(h, "origin");
  WARDEN_RETURN_IF_ERROR(detail::Exec(h, "BEGIN", db));
  {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(h,
        "SELECT count(*), min(seq), max(seq), min(ts_ns), max(ts_ns) FROM audit_event", db));
    if (sqlite3_step(s.get()) == SQLITE_ROW) {
      st.events = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
      st.first_seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 1));
      st.last_seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 2));
      st.first_ts_ns = sqlite3_column_int64(s.get(), 3);
      st.last_ts_ns = sqlite3_column_int64(s.get(), 4);
    }
  }
  {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(h, "SELECT kind, count(*) FROM audit_event GROUP BY kind", db));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      st.by_kind[Text(s.get(), 0).value_or("")] = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 1));
    }
  }
  {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(h,
        "SELECT decision, count(*) FROM audit_event GROUP BY decision", db));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
      st.by_decision[Text(s.get(), 0).value_or("none")] = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 1));
    }
  }
  {
    WARDEN_ASSIGN_OR_RETURN(auto s, detail::Prepare(h,
        "SELECT count(*), (SELECT upto_seq FROM checkpoint ORDER BY upto_seq DESC LIMIT 1), "
        "(SELECT ts_ns FROM checkpoint ORDER BY upto_seq DESC LIMIT 1) FROM checkpoint", db));
    if (sqlite3_step(s.get()) == SQLITE_ROW) {
      st.checkpoints = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
      if (sqlite3_column_type(s.get(), 1) != SQLITE_NULL) {
        st.last_checkpoint_seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 1));
        st.last_checkpoint_ts_ns = sqlite3_column_int64(s.get(), 2);
      }
    }
  }
  sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr);
  for (const char* suffix : {"", "-wal"}) {
    struct stat sb{};
    if (::stat((db.string() + suffix).c_str(), &sb) == 0) st.file_bytes += static_cast<uint64_t>(sb.st_size);
  }
  // Space an unprivileged writer can still use on the database's file system (f_bavail, not f_bfree).
  struct statvfs fs{};
  const auto folder = db.has_parent_path() ? db.parent_path() : std::filesystem::path(".");
  if (::statvfs(folder.c_str(), &fs) == 0) {
    st.fs_free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    st.fs_total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  return st;
}

}  // namespace warden::audit
