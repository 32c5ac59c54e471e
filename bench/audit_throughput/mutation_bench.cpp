// bench/audit_throughput: the verifier under 10^5 and more random mutations (policy-audit.md B.9 R25 at scale; the
// unit suite runs 3,000). Half mutate a signed database (rows, checkpoints, keys, raw file bytes), half a filtered
// export (hashed fields, proof lines, deleted lines, raw bytes), with the mutators of audit/mutation_test_util.h.
// Every mutation that changes hashed content must be reported (at its seq where it has one); raw damage may pass
// only when the hashed content reads back unchanged; the verifier must never crash. Prints one table of counts and
// exits 1 on any miss.
// Usage: warden_audit_mutation_bench [--db N] [--export N] [--seed S] [--dir DIR]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit/mutation_test_util.h"

namespace {

using warden::audit::Event;
using warden::audit::testutil::Mutation;

struct Counts {
  long long total = 0, refused = 0, hashed = 0, hashed_reported = 0, raw = 0, raw_reported = 0, raw_passed = 0,
            missed = 0, wrong_seq = 0;
  double seconds = 0;
};

void Count(const Mutation& m, bool readable, const warden::audit::VerifyReport& r, bool raw_unchanged, Counts& c) {
  ++c.total;
  if (!m.applied) {
    ++c.refused;
    return;
  }
  const bool reported = !readable || !r.ok;
  if (m.changes_hashed) {
    ++c.hashed;
    if (!reported) {
      ++c.missed;
      std::fprintf(stderr, "MISSED: %s\n", m.what.c_str());
    } else {
      ++c.hashed_reported;
      if (readable && m.seq != 0 && r.problem_seq != m.seq) {
        ++c.wrong_seq;
        std::fprintf(stderr, "WRONG SEQ: %s reported at %llu\n", m.what.c_str(),
                     static_cast<unsigned long long>(r.problem_seq));
      }
    }
  } else {
    ++c.raw;
    if (reported) {
      ++c.raw_reported;
    } else if (raw_unchanged) {
      ++c.raw_passed;
    } else {
      ++c.missed;
      std::fprintf(stderr, "MISSED: %s passed with changed content\n", m.what.c_str());
    }
  }
}

void Row(const char* name, const Counts& c) {
  std::printf("%-10s %8lld %8lld %8lld %9lld %8lld %9lld %8lld %6lld %6lld %8.0f\n", name, c.total, c.refused, c.hashed,
              c.hashed_reported, c.raw, c.raw_reported, c.raw_passed, c.missed, c.wrong_seq,
              static_cast<double>(c.total) / c.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  long long db_n = 50000, export_n = 50000;
  uint64_t seed = 1;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--db") db_n = std::atoll(argv[i + 1]);
    else if (a == "--export") export_n = std::atoll(argv[i + 1]);
    else if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--dir") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  const std::filesystem::path work = dir + "/warden-audit-mutation-" + std::to_string(getpid());
  std::filesystem::create_directories(work);
  // The log under test: one event of every kind, then plain ones with nulls, escapes and non-ASCII text; checkpoints
  // every 16 events and at close.
  warden::audit::Options o;
  o.path = work / "pristine.db";
  o.key_path = work / "audit.key";
  o.checkpoint_every_events = 16;
  if (!warden::audit::Keygen(o.key_path).ok()) return 1;
  {
    auto log = warden::audit::Log::Open(o);
    if (!log.ok()) return 1;
    for (int i = 0; i < 64; ++i) {
      Event e;
      e.kind = i % 5 == 0 ? "sandbox.run" : "policy.decision";
      e.principal_id = "p" + std::to_string(i % 4);
      if (i % 3 != 0) e.task_id = "t" + std::to_string(i / 8);
      e.action = "fs.read";
      e.decision = i % 4 == 0 ? "deny" : "allow";
      e.body = {{"n", i}, {"path", "/data/caf\xc3\xa9-" + std::to_string(i)}, {"note", "a \"quoted\"\nline"}};
      if (!(*log)->Append(std::move(e)).ok()) return 1;
    }
  }
  std::printf("machine: %ld cores, SQLite %s; database of 64 events, export filtered to one principal\n\n",
              sysconf(_SC_NPROCESSORS_ONLN), warden::audit::SqliteVersion().c_str());

  Counts dbc, exc;
  {
    warden::audit::testutil::DbMutator mutator(o.path, work / "work.db", seed);
    const auto t0 = std::chrono::steady_clock::now();
    for (long long i = 0; i < db_n; ++i) {
      const Mutation m = mutator.Next();
      warden::audit::VerifyOptions vo;
      vo.check_canonical = vo.quick_check = i % 4 == 0;
      auto r = warden::audit::Verify(mutator.path(), vo);
      const bool unchanged = !m.changes_hashed && r.ok() && r->ok &&
                             warden::audit::testutil::DumpContent(mutator.path()) == mutator.pristine_content();
      Count(m, r.ok(), r.ok() ? *r : warden::audit::VerifyReport{}, unchanged, dbc);
    }
    dbc.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  {
    warden::audit::QueryFilter filter;
    filter.principal = "p1";
    auto exported = warden::audit::Export(o.path, filter, warden::audit::OutputFormat::kJsonl);
    if (!exported.ok()) return 1;
    warden::audit::testutil::ExportMutator mutator(exported->text, seed + 1);
    const auto t0 = std::chrono::steady_clock::now();
    for (long long i = 0; i < export_n; ++i) {
      auto [text, m] = mutator.Next();
      warden::Status error;
      const auto r = warden::audit::detail::VerifyExportText(text, warden::audit::VerifyOptions{}, error);
      // Raw damage to an export can only be judged "unchanged" by re-deriving it; it must be reported or parse.
      Count(m, error.ok(), r, true, exc);
    }
    exc.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::printf("%-10s %8s %8s %8s %9s %8s %9s %8s %6s %6s %8s\n", "target", "runs", "refused", "hashed", "reported",
              "raw", "reported", "passed=", "missed", "badseq", "per s");
  Row("database", dbc);
  Row("export", exc);
  std::printf("\n\"refused\": the schema refused the mutation (CHECK, UNIQUE, NOT NULL), nothing changed. \"hashed\": it "
              "changed hashed content and must be reported. \"raw\": random byte damage, which must be reported or "
              "leave the hashed content unchanged (\"passed=\"). target: missed = 0, badseq = 0, no crash\n");
  std::filesystem::remove_all(work);
  return dbc.missed + exc.missed + dbc.wrong_seq + exc.wrong_seq == 0 ? 0 : 1;
}
