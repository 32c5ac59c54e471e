// R25 (policy-audit.md B.9): the verifier under random mutation. Three thousand single mutations of a valid database
// and of a self-verifying export: every one that changes hashed content is reported (at its seq where it has one),
// raw byte damage never crashes the verifier and passes only when the hashed content reads back unchanged. A log
// over two chunks is mutated too, so the parallel walk of verify.cpp is what judges it. The 10^5-mutation run is
// bench/audit_throughput/warden_audit_mutation_bench.
#include <catch2/catch.hpp>

#include "audit/audit_test_util.h"
#include "audit/mutation_test_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using testutil::DbMutator;
using testutil::ExportMutator;
using testutil::Mutation;
using testutil::Simple;
using warden::testing::TempDir;

// A closed, signed log: every sample kind (nulls in several columns), then `events` plain ones; checkpoints every
// `every` events and at close, so the last row is covered.
std::filesystem::path MakeLog(const TempDir& dir, int events, int every) {
  Options o;
  o.path = dir.path() / "pristine.db";
  o.key_path = dir.path() / "audit.key";
  o.checkpoint_every_events = every;
  REQUIRE(Keygen(o.key_path).ok());
  auto log = Log::Open(o);
  REQUIRE(log.ok());
  for (const auto& e : testutil::SampleEvents()) REQUIRE((*log)->Append(e).ok());
  std::vector<AppendTicket> tickets;
  for (int i = 0; i < events; ++i) {
    Event e = Simple(i);
    if (i % 9 == 0) e.task_id.reset();
    if (i % 11 == 0) e.body["note"] = "caf\xc3\xa9 \"quoted\"\n";
    tickets.push_back((*log)->AppendAsync(std::move(e)));
  }
  for (auto& t : tickets) REQUIRE(t.Wait().ok());
  log->reset();  // the final checkpoint, and the WAL folded into the file
  REQUIRE_FALSE(std::filesystem::exists(dir.path() / "pristine.db-wal"));
  return o.path;
}

struct Tally {
  int applied = 0, refused = 0, reported = 0, passed_unchanged = 0;
};

void Judge(const Mutation& m, const Result<VerifyReport>& r, const DbMutator* db, Tally& t) {
  if (!m.applied) {
    ++t.refused;
    return;
  }
  ++t.applied;
  INFO(m.what);
  if (!r.ok()) {  // the file could not be read as an audit log at all: reported as an error
    ++t.reported;
    return;
  }
  INFO("got " << (r->problem ? ProblemName(*r->problem) : "OK") << " at " << r->problem_seq << ": " << r->detail
                << " rows " << r->rows << " checkpoints " << r->checkpoints);
  if (m.changes_hashed) {
    REQUIRE_FALSE(r->ok);
    if (m.seq != 0) REQUIRE(r->problem_seq == m.seq);
    ++t.reported;
  } else if (r->ok) {
    REQUIRE(db != nullptr);
    const std::string now = testutil::DumpContent(db->path());
    if (now != db->pristine_content()) {
      size_t i = 0;
      while (i < now.size() && i < db->pristine_content().size() && now[i] == db->pristine_content()[i]) ++i;
      const size_t line = now.rfind('\n', i);
      FAIL("content differs at byte " << i << " line start " << line << ": "
                                      << testutil::Hexs(now.substr(line == std::string::npos ? 0 : line, 200))
                                      << " vs " << testutil::Hexs(db->pristine_content().substr(line == std::string::npos ? 0 : line, 200)));
    }
    ++t.passed_unchanged;
  } else {
    ++t.reported;
  }
}

TEST_CASE("R25: 1000 random mutations of a database are each reported at their seq - raw damage never crashes verify",
          "[audit][mutation]") {
  TempDir dir;
  const auto pristine = MakeLog(dir, 50, 16);
  DbMutator mutator(pristine, dir.path() / "work.db", 20261127);
  Tally t;
  for (int i = 0; i < 1000; ++i) {
    const Mutation m = mutator.Next();
    VerifyOptions vo;
    vo.check_canonical = vo.quick_check = i % 4 == 0;  // the deep checks see a share of them
    Judge(m, Verify(mutator.path(), vo), &mutator, t);
  }
  // Most mutations get past the schema, and verify judged every one.
  CHECK(t.applied > 750);
  CHECK(t.applied == t.reported + t.passed_unchanged);
}

TEST_CASE("R25: 2000 random mutations of a filtered export are each reported - raw damage never crashes",
          "[audit][mutation]") {
  TempDir dir;
  const auto db = MakeLog(dir, 50, 16);
  QueryFilter filter;
  filter.principal = "p3";  // a filtered export: its proof carries $link lines for the rows left out
  auto exported = Export(db, filter, OutputFormat::kJsonl);
  REQUIRE(exported.ok());
  REQUIRE(exported->text.find("$link") != std::string::npos);
  Status error;
  REQUIRE(detail::VerifyExportText(exported->text, VerifyOptions{}, error).ok);
  ExportMutator mutator(exported->text, 7);
  Tally t;
  int hashed = 0;
  for (int i = 0; i < 2000; ++i) {
    auto [text, m] = mutator.Next();
    Status err;
    const VerifyReport r = detail::VerifyExportText(text, VerifyOptions{}, err);
    ++t.applied;
    INFO(m.what);
    if (!err.ok()) {
      ++t.reported;  // not readable as an export: refused with an error
      continue;
    }
    INFO("got " << (r.problem ? ProblemName(*r.problem) : "OK") << " at " << r.problem_seq << ": " << r.detail);
    if (m.changes_hashed) {
      ++hashed;
      REQUIRE_FALSE(r.ok);
      if (m.seq != 0) REQUIRE(r.problem_seq == m.seq);
    }
    ++(r.ok ? t.passed_unchanged : t.reported);
  }
  CHECK(hashed > 1200);
}

TEST_CASE("R25: mutations of a log over two chunks are found by the parallel walk at their seq", "[audit][mutation]") {
  TempDir dir;
  const auto pristine = MakeLog(dir, 9000, 1000);
  DbMutator mutator(pristine, dir.path() / "work.db", 99);
  VerifyOptions vo;
  vo.threads = 2;  // several readers even on a one-core runner
  auto clean = Verify(mutator.path(), vo);
  REQUIRE(clean.ok());
  REQUIRE(clean->ok);
  CHECK(clean->rows == 9014);
  vo.threads = 1;
  auto sequential = Verify(mutator.path(), vo);
  REQUIRE(sequential.ok());
  CHECK(sequential->head_hash == clean->head_hash);
  CHECK(sequential->checkpoints == clean->checkpoints);
  vo.threads = 2;
  Tally t;
  for (int i = 0; i < 24; ++i) {
    const Mutation m = mutator.Next();  // before Verify: argument order is unspecified
    Judge(m, Verify(mutator.path(), vo), &mutator, t);
  }
  CHECK(t.applied > 12);
}

}  // namespace
}  // namespace warden::audit
