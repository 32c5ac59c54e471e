// Reviewer reads: filters on every indexed column and time, the four output formats, time parsing, stats
// (policy-audit.md B.8).
#include <catch2/catch.hpp>
#include <sstream>

#include "audit/audit_test_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using warden::testing::TempDir;

constexpr int64_t kT0 = 1'800'000'000'000'000'000;  // 2027-01-15T08:00:00Z
constexpr int64_t kMinute = 60'000'000'000;

struct Seeded {
  TempDir dir;
  std::filesystem::path db;
  Seeded() {
    db = dir.path() / "audit.db";
    Options o;
    o.path = db;
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    auto events = testutil::SampleEvents();
    for (size_t i = 0; i < events.size(); ++i) {
      events[i].ts_ns = kT0 + static_cast<int64_t>(i) * kMinute;
      if (i % 2) events[i].principal_id = "bob";
      if (i % 3 == 0) events[i].task_id = "task-2";
      REQUIRE((*log)->Append(events[i]).ok());
    }
  }
  size_t Count(const QueryFilter& f) {
    auto r = Query(db, f);
    REQUIRE(r.ok());
    return r->size();
  }
};

TEST_CASE("filters select on each indexed column and on time", "[audit][query]") {
  Seeded s;
  const size_t n = testutil::SampleEvents().size();
  CHECK(s.Count({}) == n);
  QueryFilter f;
  f.principal = "bob";
  CHECK(s.Count(f) == n / 2);
  f = {};
  f.task = "task-2";
  CHECK(s.Count(f) == (n + 2) / 3);
  f = {};
  f.decision = "deny";
  CHECK(s.Count(f) == 1);
  f = {};
  f.kind = "model.call";
  auto rows = Query(s.db, f);
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().event.body["tokens"]["input"] == 1200);
  f = {};
  f.action = "fs.write";
  CHECK(s.Count(f) == 2);
  f = {};
  f.skill = "pdf-summarize";
  CHECK(s.Count(f) == n);
  f.skill = "other";
  CHECK(s.Count(f) == 0);
  f = {};
  f.since_ns = kT0 + 3 * kMinute;
  f.until_ns = kT0 + 5 * kMinute;
  rows = Query(s.db, f);
  REQUIRE(rows->size() == 3);
  CHECK(rows->front().seq == 4);
  f = {};
  f.limit = 2;
  rows = Query(s.db, f);
  REQUIRE(rows->size() == 2);
  CHECK(rows->at(0).seq == n - 1);  // the newest two, oldest first
  CHECK(rows->at(1).seq == n);
  f = {};
  f.principal = "bob";
  f.kind = "task.started";
  CHECK(s.Count(f) == 1);
}

TEST_CASE("the table fits 80 columns - json, jsonl and csv carry every column", "[audit][query]") {
  Seeded s;
  auto rows = *Query(s.db, {});
  std::istringstream table(Render(rows, OutputFormat::kTable));
  std::string line;
  int lines = 0;
  while (std::getline(table, line)) {
    CHECK(line.size() <= 80);
    ++lines;
  }
  CHECK(lines == static_cast<int>(rows.size()) + 2);
  CHECK(Render(rows, OutputFormat::kTable).find("approval.requested") != std::string::npos);

  auto json = nlohmann::json::parse(Render(rows, OutputFormat::kJson));
  REQUIRE(json.size() == rows.size());
  CHECK(json[4]["decision"] == "deny");
  CHECK(json[4]["body"]["determining"][0]["rule"] == "no-egress");
  CHECK(json[0]["ts"] == "2027-01-15T08:00:00.000000000Z");
  CHECK(json[0]["row_hash"] == rows[0].row_hash);

  std::istringstream jsonl(Render(rows, OutputFormat::kJsonl));
  size_t count = 0;
  while (std::getline(jsonl, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["seq"] == count + 1);
    ++count;
  }
  CHECK(count == rows.size());

  const std::string csv = Render(rows, OutputFormat::kCsv);
  CHECK(csv.rfind("seq,ts,event_id,kind,", 0) == 0);
  // Bodies contain commas and quotes, so they are quoted with doubled quotes.
  CHECK(csv.find("\"{\"\"decision\"\":\"\"deny\"\"") != std::string::npos);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == static_cast<long>(rows.size()) + 1);
  CHECK_FALSE(ParseOutputFormat("xml").ok());
}

TEST_CASE("times parse as RFC 3339 or a duration ago", "[audit][query]") {
  const int64_t now = kT0;
  CHECK(*ParseTime("24h", now) == now - 24 * 60 * kMinute);
  CHECK(*ParseTime("90s", now) == now - 90'000'000'000);
  CHECK(*ParseTime("2w", now) == now - 14 * 24 * 60 * kMinute);
  CHECK(*ParseTime("2027-01-15T08:00:00Z", 0) == kT0);
  CHECK(*ParseTime("2027-01-15T10:00:00.5+02:00", 0) == kT0 + 500'000'000);
  CHECK(*ParseTime("2027-01-15", 0) == kT0 - 8 * 60 * kMinute);
  for (const char* bad : {"yesterday", "2027-01-15T08:00:00", "24x", "2027-13-01", ""}) {
    INFO(bad);
    auto r = ParseTime(bad, now);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("stats count by kind and decision and report the last checkpoint", "[audit][query]") {
  Seeded s;
  auto st = GetStats(s.db);
  REQUIRE(st.ok());
  CHECK(st->events == testutil::SampleEvents().size());
  CHECK(st->by_kind.at("policy.decision") == 1);
  CHECK(st->by_decision.at("deny") == 1);
  CHECK(st->by_decision.at("none") > 0);
  CHECK(st->file_bytes > 0);
  CHECK_FALSE(st->last_checkpoint_seq.has_value());
  CHECK(st->first_ts_ns == kT0);
  auto missing = GetStats(s.dir.path() / "nope.db");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace warden::audit
